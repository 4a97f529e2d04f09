"""A rough, readable device name from a User-Agent string ("Chrome en Windows").

Good enough for a person to recognise their own sessions; not a fingerprint and not a
security decision, so a short ordered table beats a parser dependency.
"""

from __future__ import annotations

from flask_babel import gettext as _

# Order matters: Edge and Opera also say "Chrome"; Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def _first_match(user_agent: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in table if marker in user_agent), None)


def describe_device(user_agent: str | None) -> str:
    """ "Navegador en sistema", or a plain "Dispositivo desconocido"."""
    agent = user_agent or ""
    browser = _first_match(agent, _BROWSERS)
    system = _first_match(agent, _SYSTEMS)
    if browser and system:
        return str(_("%(browser)s en %(system)s", browser=browser, system=system))
    return browser or system or str(_("Dispositivo desconocido"))
