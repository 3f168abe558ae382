"""Display formatting shared by pages: money in minor units, sums per currency, contact names, phone numbers."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from app.core.errors import InvalidInput
from app.core.money import SYMBOLS, money

__all__ = ["display_name", "money", "money_sums", "parse_money", "phone"]  # money: app.core.money's, the one


def money_sums(amounts: dict[str, int], currency: str | None = None) -> str:
    """Amounts in several currencies side by side, never converted; when empty, zero in ``currency`` (else "—")."""
    text = " + ".join(money(v, c) for c, v in sorted(amounts.items()))
    if text:
        return text
    return money(0, currency) if currency else "—"


def display_name(name: str | None, phone: str | None, fallback: str = "Unknown") -> str:
    """What a contact is called on screen: the name, else the phone number, else ``fallback``.

    The same rule as ``InboxRow.display_name`` in the store (which puts a chat's title between name and phone).
    """
    return name or phone or fallback


@lru_cache(maxsize=4096)  # a table repaints the same numbers over and over; parsing one costs tens of µs
def phone(stored: str | None) -> str:
    """A stored E.164 number as people of its country write it: '+5511987654321' → '+55 11 98765-4321'.

    Only for display: the store keeps E.164 unchanged. A number that is not valid (a typo, a short code, one
    without its country code) is shown exactly as stored rather than guessed at; ``None`` becomes "".
    """
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, None)  # no default region: only numbers that carry their country
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_valid_number(number):
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_money(text: str) -> int:
    """'1,234.50' → 123450 minor units; raises ValueError with a readable message."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    for symbol in SYMBOLS.values():
        cleaned = cleaned.replace(symbol, "")
    try:
        value = round(float(cleaned) * 100)
    except ValueError:
        raise InvalidInput(f"{text!r} is not an amount") from None
    if value < 0:
        raise InvalidInput("amounts cannot be negative")
    return value
