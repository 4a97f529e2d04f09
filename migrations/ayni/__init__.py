"""AYNI_SERVIDOR's Alembic history; installed as ``relying_party_demo.migrations`` (setup.py)."""
