"""What Passport and AYNI_SERVIDOR share without knowing each other: runtime and settings.

Both applications ship in one distribution, yet AYNI_SERVIDOR must know Passport only through
HTTP. The app-neutral pieces live here: JSON logs and request ids (``logs``), the gunicorn
runner (``serving``), package resources (``resources``) and the settings of both apps
(``settings``, built from the checkout's ``config/``). The name is this distribution's own, so
installing it never shadows another project's ``config`` or ``runtime`` package.
"""
