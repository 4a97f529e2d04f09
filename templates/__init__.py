"""The pages and mails of both apps; installed as ``passport.templates`` and
``relying_party_demo.templates`` (setup.py), each with its own subfolder only."""
