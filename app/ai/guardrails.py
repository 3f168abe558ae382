"""Checks around AI text: invented prices, personal data before cloud calls, and the hand-off answer.

**Prices.** ``PriceSources`` holds every price the prompt was given and ``check`` flags each money amount of a draft —
a currency sign or code before or after a number (``$12.50``, ``12,50 €``, ``EUR 12.50``, ``Rp 150.000``,
``1.299,00 EUR``, ``SGD 12``) — that appears in none of them. The documented rule: an amount is allowed when
- in a currency of the products (a ``$`` matches any dollar currency among them) it equals a product's price times a
  quantity from 1 to ``MAX_QUANTITY``, or the sum of two products' prices, or one of the ``also_allowed`` amounts
  (e.g. the open deals of the contact); or
- it is written, with a mark that may mean the same currency, in one of the source texts the prompt carried: the
  knowledge passages used, the conversation, the profile (``texts``); equal values match however they are written
  (``12`` and ``12.00``, ``1,299`` and ``1.299,00``); or
- it is zero (``$0``, ``0,00 €``) and either a zero price is in the sources (zero is zero in every currency), or the
  clause it stands in names no product: ``Shipping is $0.00`` (also in ``The tote is $12.50, shipping $0.00``) is
  not a product price, ``The tote is $0`` is.
A bare number with no currency is not treated as money (it may be a size, a date or an order number). The separator
rule: a ``.`` or ``,`` followed by exactly three digits groups thousands, by one or two digits it is the decimal
point.

**Redaction.** ``Redactor`` replaces phone numbers and e-mail addresses by stable placeholders (``[PHONE_1]``,
``[EMAIL_1]``: the same value gets the same placeholder within a call) before a prompt leaves for the cloud gateway,
and puts them back in the answer, also while it streams (``StreamRestorer`` holds back a placeholder cut between two
chunks). ``should_redact`` is the policy: only in cloud mode and only when enabled; BYOK prompts go straight to the
user's own provider and are never redacted. Money amounts are never taken for phone numbers.

**Hand-off.** The suggestion prompt asks the model to answer ``HANDOFF: <what to check>`` when the facts are missing
or it is unsure; ``handoff_reason`` recognises that answer (a ``None`` means a normal draft).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import combinations

from app.core.models import Product

MAX_QUANTITY = 10

# ---- money -------------------------------------------------------------------------------------------------------
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"})
SYMBOLS: dict[str, tuple[str, ...]] = {
    "$": ("USD", "SGD", "AUD", "CAD", "NZD", "HKD", "MXN", "ARS", "COP", "CLP"),
    "US$": ("USD",),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY", "CNY"),
    "₹": ("INR",),
    "₦": ("NGN",),
    "₱": ("PHP",),
    "₩": ("KRW",),
    "₫": ("VND",),
    "฿": ("THB",),
    "R$": ("BRL",),
    "Rp": ("IDR",),
    "RM": ("MYR",),
    "S$": ("SGD",),
    "A$": ("AUD",),
    "KSh": ("KES",),
    "R": ("ZAR",),
}
DISPLAY = {"USD": "$", "EUR": "€", "GBP": "£", "IDR": "Rp ", "INR": "₹", "BRL": "R$", "MYR": "RM ", "JPY": "¥"}


def minor_exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_exponent(currency))


def format_money(minor: int, currency: str) -> str:
    """How a price is written in prompts: ``$12.50``, ``€9.00``, ``Rp 150000.00``, ``1200 JPY``… (one spelling)."""
    amount = to_major(minor, currency)
    number = f"{amount:.{minor_exponent(currency)}f}"
    symbol = DISPLAY.get(currency.upper())
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"


_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SIGNS = sorted((re.escape(s) for s in SYMBOLS), key=len, reverse=True)
_CODES = r"[A-Z]{3}"
_MARK = rf"(?:{'|'.join(_SIGNS)}|\b{_CODES}\b)"
MONEY = re.compile(
    rf"(?<![A-Za-z])(?P<pre>{_MARK})\.?\s?(?P<n1>{_NUMBER})(?![\d.,]*\d)"
    rf"|(?<![\w.,])(?P<n2>{_NUMBER})\s?(?P<post>{'|'.join(_SIGNS)}|{_CODES}\b)"
)
KNOWN_CODES = frozenset(
    {c for codes in SYMBOLS.values() for c in codes}
    | {"EUR", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "TRY", "AED", "SAR", "EGP", "PKR", "BDT", "LKR"}
    | {"GHS", "TZS", "MAD", "PEN", "CNY", "TWD", "ILS", "RUB", "UAH", "RON", "BGN", "QAR", "KWD", "OMR", "BHD", "JOD"}
)


def parse_number(text: str) -> Decimal | None:
    """``1.299,00`` → 1299.00, ``12,50`` → 12.50, ``150.000`` → 150000, ``1,234.5`` → 1234.5."""
    digits = re.sub(r"[\u00a0\u202f ]", "", text)
    last = max(digits.rfind("."), digits.rfind(","))
    if last >= 0 and len(digits) - last - 1 in (1, 2):
        whole, frac = digits[:last], digits[last + 1 :]
    else:
        whole, frac = digits, ""
    whole = whole.replace(".", "").replace(",", "")
    try:
        return Decimal(f"{whole}.{frac}" if frac else whole)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Amount:
    text: str  # as written in the draft
    value: Decimal  # in major units
    currencies: tuple[str, ...]  # what the mark may mean
    start: int
    end: int


def find_amounts(text: str) -> list[Amount]:
    found = []
    for match in MONEY.finditer(text):
        mark = match.group("pre") or match.group("post")
        number = match.group("n1") or match.group("n2")
        if mark in SYMBOLS:
            currencies = SYMBOLS[mark]
        elif mark.upper() in KNOWN_CODES:
            currencies = (mark.upper(),)
        else:
            continue  # three capitals that are not a currency ("XXL 42")
        value = parse_number(number)
        if value is not None:
            found.append(Amount(match.group(0).strip(), value, currencies, match.start(), match.end()))
    return found


@dataclass(frozen=True)
class PriceViolation:
    amount: str  # as written, e.g. "$14"
    message: str  # for the panel: "Price $14 is not in your products, knowledge base or this chat"


def allowed_amounts(
    products: Sequence[Product], also_allowed: Sequence[tuple[int, str]] | None = None
) -> dict[str, set[Decimal]]:
    """Every amount the product rule allows, per currency (quantities and sums of two included)."""
    allowed: dict[str, set[Decimal]] = {}
    by_currency: dict[str, list[Decimal]] = {}
    for p in products:
        by_currency.setdefault(p.currency.upper(), []).append(to_major(p.price_minor, p.currency))
    for currency, prices in by_currency.items():
        values = allowed.setdefault(currency, set())
        for price in prices:
            values.update(price * q for q in range(1, MAX_QUANTITY + 1))
        for a, b in combinations(sorted(set(prices)), 2):
            values.add(a + b)
    for minor, currency in also_allowed or []:
        allowed.setdefault(currency.upper(), set()).add(to_major(minor, currency))
    return allowed


_NAME_WORD = re.compile(r"[^\W\d_]{3,}")
_CLAUSE_END = re.compile(r"[.!?](?=\s|$)|[,;](?=\s)|\n|\s(?:and|but|or|plus|while)\s")
_COMMON = frozenset({"the", "and", "for", "with", "set", "pack", "one", "new", "free", "size", "day", "days"})


def _word_forms(word: str) -> set[str]:
    """A word as it may name a product: lower case, and without a plural ending ("totes" names the "Tote")."""
    word = word.lower()
    return {word} | {word[: -len(e)] for e in ("s", "es") if word.endswith(e) and len(word) - len(e) >= 3}


def _clause(text: str, start: int, end: int) -> str:
    """The clause of ``text`` that holds ``text[start:end]``: up to the sentence ends, commas, semicolons and "and"
    around it (a decimal point or a thousands separator ends nothing)."""
    before = [m.end() for m in _CLAUSE_END.finditer(text, 0, start)]
    after = _CLAUSE_END.search(text, end)
    return text[before[-1] if before else 0 : after.start() if after else len(text)]


@dataclass(frozen=True)
class PriceSources:
    """Every price a draft may quote: the products (by the product rule), amounts allowed outright, and the amounts
    written in the texts the prompt was given (knowledge passages, conversation, profile). Build with ``of``."""

    allowed: dict[str, frozenset[Decimal]]  # per currency: products × quantities, sums of two, also_allowed
    quoted: tuple[tuple[Decimal, frozenset[str]], ...]  # amounts in the source texts, with what their mark may mean
    product_words: frozenset[str]  # words of product names and SKUs (to tell a product's price from a fee)

    @classmethod
    def of(
        cls,
        products: Sequence[Product] = (),
        *,
        texts: Iterable[str] = (),
        also_allowed: Sequence[tuple[int, str]] | None = None,
    ) -> PriceSources:
        allowed = {c: frozenset(v) for c, v in allowed_amounts(products, also_allowed).items()}
        quoted = tuple((a.value, frozenset(a.currencies)) for text in texts for a in find_amounts(text))
        words: set[str] = set()
        for p in products:
            words.update(w.lower() for w in _NAME_WORD.findall(p.name))
            if p.sku:
                words.add(p.sku.lower())
        return cls(allowed, quoted, frozenset(words - _COMMON))

    @property
    def has_zero(self) -> bool:
        return any(0 in values for values in self.allowed.values()) or any(v == 0 for v, _ in self.quoted)

    def _names_a_product(self, clause: str) -> bool:
        lowered = clause.lower()
        return any(_word_forms(w) & self.product_words for w in _NAME_WORD.findall(clause)) or any(
            w in lowered for w in self.product_words if not w.isalpha()
        )

    def allows(self, amount: Amount, clause: str = "") -> bool:
        """Whether ``amount`` (found in a draft, in ``clause``) is accounted for by a source."""
        if any(amount.value in self.allowed.get(c, ()) for c in amount.currencies):
            return True
        marks = set(amount.currencies)
        if any(value == amount.value and marks & currencies for value, currencies in self.quoted):
            return True
        if amount.value == 0:
            return self.has_zero or not self._names_a_product(clause)
        return False

    def check(self, text: str) -> list[PriceViolation]:
        """The money amounts in ``text`` that no source accounts for, in the order written."""
        violations = []
        for amount in find_amounts(text):
            if not self.allows(amount, _clause(text, amount.start, amount.end)):
                message = f"Price {amount.text} is not in your products, knowledge base or this chat"
                violations.append(PriceViolation(amount.text, message))
        return violations


def check_prices(
    text: str,
    products: Sequence[Product],
    also_allowed: Sequence[tuple[int, str]] | None = None,
    *,
    texts: Iterable[str] = (),
) -> list[PriceViolation]:
    """The money amounts in ``text`` that no source (by the rule above) accounts for."""
    return PriceSources.of(products, texts=texts, also_allowed=also_allowed).check(text)


# ---- redaction ---------------------------------------------------------------------------------------------------
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{5,}\d(?!\w)")
PLACEHOLDER = re.compile(r"\[(PHONE|EMAIL)_\d+\]")


def should_redact(mode: str, enabled: bool) -> bool:
    """Redact only what goes to the cloud gateway, and only when the user asked for it; never in BYOK."""
    return enabled and mode == "cloud"


@dataclass
class Redactor:
    """Stable placeholders for phone numbers and e-mail addresses within one call, and their restoration."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder → original
    _by_value: dict[str, str] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str) -> str:
        key = f"{kind}:{re.sub(r'[^0-9+]', '', value) if kind == 'PHONE' else value.lower()}"
        if key not in self._by_value:
            n = sum(1 for k in self._by_value if k.startswith(kind)) + 1
            placeholder = f"[{kind}_{n}]"
            self._by_value[key] = placeholder
            self.values[placeholder] = value
        return self._by_value[key]

    def redact(self, text: str) -> str:
        text = EMAIL.sub(lambda m: self._placeholder("EMAIL", m.group(0)), text)
        money = [(a.start, a.end) for a in find_amounts(text)]

        def phone(match: re.Match[str]) -> str:
            value = match.group(0)
            digits = sum(ch.isdigit() for ch in value)
            overlaps_money = any(s < match.end() and match.start() < e for s, e in money)
            if digits < 7 or overlaps_money:
                return value
            return self._placeholder("PHONE", value)

        return PHONE.sub(phone, text)

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text)


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a ``[`` that may start one until it is complete."""

    HOLD = 16  # longer than any placeholder

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._pending = ""

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        cut = text.rfind("[")
        if cut >= 0 and "]" not in text[cut:] and len(text) - cut < self.HOLD:
            self._pending, text = text[cut:], text[:cut]
        else:
            self._pending = ""
        return self.redactor.restore(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self.redactor.restore(text)


# ---- hand-off ----------------------------------------------------------------------------------------------------
HANDOFF = "HANDOFF"
_HANDOFF = re.compile(r"^\W*HANDOFF\b[\W_]*(.*)$", re.IGNORECASE | re.DOTALL)


def handoff_reason(text: str) -> str | None:
    """The reason when the model handed off (``HANDOFF: …``), ``""`` without one, ``None`` for a normal draft."""
    match = _HANDOFF.match(text.strip())
    return None if match is None else match.group(1).strip()


def may_be_handoff(prefix: str) -> bool:
    """True while a streamed answer's start could still turn out to be ``HANDOFF``."""
    head = prefix.lstrip(" \t\n*_\"'`").upper()
    return HANDOFF.startswith(head[: len(HANDOFF)]) if len(head) < len(HANDOFF) else head.startswith(HANDOFF)
