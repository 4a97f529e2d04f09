"""Housekeeping that runs from cron beside traffic (``passport maintenance ...``)."""
