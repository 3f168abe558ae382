"""Money as people read it: amounts in minor units written with their currency ("$12.50", "R$59.00",
"1,200.00 JPY").

One formatter for the whole app: the UI's tables and sums (``app.ui.format``), product cards sent to customers
(``app.store.ops.media``) — a price must read the same in Parley and on the customer's phone. It lives in ``core``
because the store may not import the UI (house rule 1).
"""

from __future__ import annotations

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "INR": "₹", "MXN": "MX$", "IDR": "Rp", "TRY": "₺"}


def money(minor: int, currency: str) -> str:
    """``minor`` units (cents) of ``currency``: its symbol before the amount when it has one, else its code after."""
    symbol = SYMBOLS.get(currency.upper())
    text = f"{minor / 100:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
