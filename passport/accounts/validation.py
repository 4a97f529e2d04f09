"""Checking and normalising the data of a user (CLI, import and services share it)."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from passport.accounts.errors import FieldError
from passport.accounts.errors import InvalidUserDataError

# ASCII digits only: str.isdigit and \d accept other scripts' digits.
DNI_PATTERN = re.compile(r"[0-9]{8}")
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254  # RFC 5321 §4.5.3.1.3 (path) minus the angle brackets
EMAIL_LOCAL_MAX_LENGTH = 64  # RFC 5321 §4.5.3.1.1
TERRITORY_MAX_LENGTH = 120
ADDRESS_VALUE_MAX_LENGTH = 255
# OpenID Connect Core §5.1.1: the members of the "address" claim.
ADDRESS_KEYS = ("formatted", "street_address", "locality", "region", "postal_code", "country")

# A dot-atom local part (RFC 5322 §3.4.1) and an ASCII host name with at least one dot.
# Internationalised addresses are refused: the ministry's mail relays do not take them.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# E.164 (ITU-T): "+", a country code not starting with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
# Peru (+51): 9-digit mobiles, 8-digit landlines with their area code.
_PERU = re.compile(r"\+51[0-9]{8,9}")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_NAME_PUNCTUATION = set(" '’-.")


def is_valid_dni(value: str) -> bool:
    """True for exactly eight ASCII digits."""
    return DNI_PATTERN.fullmatch(value) is not None


def clean_dni(value: str) -> tuple[str, str | None]:
    """The DNI without surrounding spaces, and an error reason or None."""
    dni = value.strip()
    if not is_valid_dni(dni):
        return dni, "must be exactly 8 digits"
    return dni, None


def clean_email(value: str) -> tuple[str, str | None]:
    """The address with its domain lower-cased, and an error reason or None."""
    email = value.strip()
    local, at, domain = email.rpartition("@")
    if not email:
        return email, "is required"
    if (
        not at
        or len(email) > EMAIL_MAX_LENGTH
        or len(local) > EMAIL_LOCAL_MAX_LENGTH
        or not _EMAIL_LOCAL.fullmatch(local)
        or not _EMAIL_DOMAIN.fullmatch(domain)
    ):
        return email, "is not a valid e-mail address"
    return f"{local}@{domain.lower()}", None


# Names and territories repeat across a roster (an import checks 50,000 rows): the two pure
# checks below remember their recent answers.
@functools.lru_cache(maxsize=4096)
def clean_name(value: str) -> tuple[str, str | None]:
    """The name with spaces collapsed, and an error reason or None."""
    name = " ".join(value.split())
    if not name:
        return name, "is required"
    if len(name) > NAME_MAX_LENGTH:
        return name, f"is longer than {NAME_MAX_LENGTH} characters"
    for char in name:
        category = unicodedata.category(char)
        if not (category.startswith("L") or category == "Mn" or char in _NAME_PUNCTUATION):
            return name, f"has a character that is not allowed in a name: {char!r}"
    return name, None


def clean_phone(value: str | None) -> tuple[str | None, str | None]:
    """The phone in E.164 form (separators removed), and an error reason or None."""
    if value is None or not value.strip():
        return None, None
    phone = _PHONE_SEPARATORS.sub("", value.strip())
    if not _E164.fullmatch(phone):
        return phone, "must be in international form, e.g. +51987654321"
    if phone.startswith("+51") and not _PERU.fullmatch(phone):
        return phone, "a Peruvian number has 9 digits (mobile) or 8 (landline) after +51"
    return phone, None


@functools.lru_cache(maxsize=1024)
def clean_territory(value: str | None) -> tuple[str | None, str | None]:
    """A DRE or UGEL name with spaces collapsed (None when empty), and an error reason."""
    if value is None:
        return None, None
    territory = " ".join(value.split())
    if not territory:
        return None, None
    if len(territory) > TERRITORY_MAX_LENGTH:
        return territory, f"is longer than {TERRITORY_MAX_LENGTH} characters"
    if any(unicodedata.category(c).startswith("C") for c in territory):
        return territory, "has a control character"
    return territory, None


def clean_address(value: Any) -> tuple[dict[str, str] | None, str | None]:
    """An OIDC address (only its claim's members, non-empty strings), and an error reason."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, "must be a JSON object"
    unknown = sorted(set(value) - set(ADDRESS_KEYS))
    if unknown:
        return None, f"unknown member(s) {', '.join(map(str, unknown))}; allowed: " + ", ".join(
            ADDRESS_KEYS
        )
    address: dict[str, str] = {}
    for key in ADDRESS_KEYS:
        member = value.get(key)
        if member is None:
            continue
        if not isinstance(member, str):
            return None, f"{key} must be a string"
        # "formatted" may span lines (OIDC Core §5.1.1); the others are one line.
        text = member.strip() if key == "formatted" else " ".join(member.split())
        if len(text) > ADDRESS_VALUE_MAX_LENGTH:
            return None, f"{key} is longer than {ADDRESS_VALUE_MAX_LENGTH} characters"
        if any(unicodedata.category(c) == "Cc" and c not in "\r\n" for c in text):
            return None, f"{key} has a control character"
        if text:
            address[key] = text
    return address or None, None


@dataclass(frozen=True)
class UserData:
    """The normalised, valid data of one user."""

    dni: str
    email: str
    given_name: str
    family_name: str
    phone_number: str | None = None
    address: dict[str, str] | None = None
    dre: str | None = None
    ugel: str | None = None


def clean_user_data(
    *,
    dni: str,
    email: str,
    given_name: str,
    family_name: str,
    phone: str | None = None,
    address: Any = None,
    dre: str | None = None,
    ugel: str | None = None,
) -> UserData:
    """Normalise and check every field at once; InvalidUserDataError lists every bad field."""
    errors: list[FieldError] = []

    def check(field: str, result: tuple[Any, str | None]) -> Any:
        value, reason = result
        if reason:
            errors.append(FieldError(field, reason))
        return value

    data = UserData(
        dni=check("dni", clean_dni(dni)),
        email=check("email", clean_email(email)),
        given_name=check("given_name", clean_name(given_name)),
        family_name=check("family_name", clean_name(family_name)),
        phone_number=check("phone", clean_phone(phone)),
        address=check("address", clean_address(address)),
        dre=check("dre", clean_territory(dre)),
        ugel=check("ugel", clean_territory(ugel)),
    )
    if errors:
        raise InvalidUserDataError(errors)
    return data
