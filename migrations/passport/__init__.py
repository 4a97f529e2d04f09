"""Passport's Alembic history; installed as the package ``passport.migrations`` (setup.py)."""
