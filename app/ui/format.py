"""Display formatting shared by pages: money in minor units, dates."""

from __future__ import annotations

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "INR": "₹", "MXN": "MX$", "IDR": "Rp", "TRY": "₺"}


def money(minor: int, currency: str) -> str:
    symbol = _SYMBOLS.get(currency.upper())
    major = minor / 100
    text = f"{major:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def parse_money(text: str) -> int:
    """'1,234.50' → 123450 minor units; raises ValueError with a readable message."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    for symbol in _SYMBOLS.values():
        cleaned = cleaned.replace(symbol, "")
    try:
        value = round(float(cleaned) * 100)
    except ValueError:
        raise ValueError(f"{text!r} is not an amount") from None
    if value < 0:
        raise ValueError("amounts cannot be negative")
    return value
