"""Which folders become which packages (the rest of the metadata is in pyproject.toml).

The checkout keeps ``config/``, ``templates/`` and ``migrations/`` at the top, as the README's
layout shows; the wheel installs each inside the package that uses it, found at run time with
``importlib.resources`` (minedu_sso/resources.py). Nothing is installed under a generic
top-level name such as ``config``.
"""

from setuptools import find_namespace_packages
from setuptools import setup

# Installed name -> folder of the checkout. Two packages read ``templates/``: each ships only
# its own subfolder (PACKAGE_DATA), so AYNI_SERVIDOR's wheel files never sit inside passport.
MAPPED = {
    "minedu_sso.settings": "config",
    "passport.templates": "templates",
    "passport.migrations": "migrations/passport",
    "passport.migrations.versions": "migrations/passport/versions",
    "relying_party_demo.templates": "templates",
    "relying_party_demo.migrations": "migrations/ayni",
    "relying_party_demo.migrations.versions": "migrations/ayni/versions",
}

STATIC = ["*.txt", "*.json", "*.js", "*.css", "*.po", "*.mo", "*.png", "*.svg", "*.ico", "*.wav"]
ALEMBIC = ["alembic.ini", "script.py.mako", "README"]
PACKAGE_DATA = {
    "": STATIC,
    "passport.templates": ["passport/**/*.html", "passport/**/*.txt"],
    "relying_party_demo.templates": ["relying_party_demo/**/*.html", "relying_party_demo/**/*.txt"],
    "passport.migrations": ALEMBIC,
    "relying_party_demo.migrations": ALEMBIC,
}

TOP_LEVEL = ("passport", "relying_party_demo", "minedu_sso")
found = find_namespace_packages(
    include=[
        "passport",
        "passport.*",
        "relying_party_demo",
        "relying_party_demo.*",
        "minedu_sso",
        "minedu_sso.*",
    ],
    exclude=["*.__pycache__"],
)

setup(
    packages=sorted(set(found) | set(MAPPED)),
    package_dir=MAPPED,
    package_data=PACKAGE_DATA,
    include_package_data=False,  # only PACKAGE_DATA: each app gets its own templates
)
