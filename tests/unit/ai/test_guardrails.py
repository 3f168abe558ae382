"""Guardrails: the price post-check over the ways prices are written, redaction round trips, the hand-off answer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.ai.guardrails import (
    PriceSources,
    Redactor,
    StreamRestorer,
    check_prices,
    find_amounts,
    format_money,
    handoff_reason,
    may_be_handoff,
    parse_number,
    should_redact,
)
from app.core.ids import new_id, utc_now
from app.core.models import Product


def product(name: str, minor: int, currency: str) -> Product:
    now = utc_now()
    return Product(
        id=new_id(), org_id="org", created_at=now, updated_at=now, name=name, price_minor=minor, currency=currency
    )


USD = [product("Tote", 1250, "USD"), product("Shirt", 4500, "USD")]
EUR = [product("Mug", 1250, "EUR"), product("Lamp", 129900, "EUR")]
IDR = [product("Batik", 15000000, "IDR")]  # Rp 150.000,00
ALL = USD + EUR + IDR


@pytest.mark.parametrize(
    ("text", "value", "currencies"),
    [
        ("only $12.50 today", "12.50", ("USD",)),
        ("12,50 € each", "12.50", ("EUR",)),
        ("12,50€", "12.50", ("EUR",)),
        ("EUR 12.50", "12.50", ("EUR",)),
        ("1.299,00 EUR", "1299.00", ("EUR",)),
        ("€1,299", "1299", ("EUR",)),
        ("Rp 150.000", "150000", ("IDR",)),
        ("Rp150.000,00", "150000.00", ("IDR",)),
        ("IDR 150,000", "150000", ("IDR",)),
        ("US$ 14", "14", ("USD",)),
        ("R$ 20,00", "20.00", ("BRL",)),
        ("45 USD", "45", ("USD",)),
    ],
)
def test_amounts_in_many_spellings(text: str, value: str, currencies: tuple[str, ...]) -> None:
    [amount] = find_amounts(text)
    assert amount.value == Decimal(value)
    assert set(currencies) <= set(amount.currencies)


@pytest.mark.parametrize("text", ["size XXL 42", "order 12345", "10 PCS", "call 0812 3456 7890", "50% off"])
def test_numbers_without_a_currency_are_not_money(text: str) -> None:
    assert find_amounts(text) == []


def test_parse_number_separator_rule() -> None:
    assert parse_number("12,5") == Decimal("12.5")
    assert parse_number("150.000") == Decimal("150000")
    assert parse_number("1,234.56") == Decimal("1234.56")
    assert parse_number("1.234.567,8") == Decimal("1234567.8")


@pytest.mark.parametrize(
    "text",
    [
        "The tote is $12.50.",
        "The tote is 12.50 USD and the shirt $45",
        "Two totes: $25.00",  # quantity
        "Tote and shirt together: $57.50",  # a sum of two
        "Ten totes $125",
        "The mug is 12,50 € and the lamp 1.299,00 EUR",
        "Batik Rp 150.000",
        "Batik Rp150.000,00",
        "Your open deal: $24.00",  # allowed explicitly (the contact's deal)
        "No prices here, just 3 colours and size 42.",
    ],
)
def test_prices_that_products_account_for_pass(text: str) -> None:
    assert check_prices(text, ALL, also_allowed=[(2400, "USD")]) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("The tote is $14.", "$14"),
        ("Special price 11,99 €", "11,99 €"),
        ("Batik Rp 140.000", "Rp 140.000"),
        ("Eleven totes $137.50", "$137.50"),  # past the quantity limit
        ("The tote is 12.50 GBP", "12.50 GBP"),  # right number, wrong currency
    ],
)
def test_invented_prices_are_flagged_with_the_amount(text: str, flagged: str) -> None:
    [violation] = check_prices(text, ALL)
    assert violation.amount == flagged
    assert violation.message == f"Price {flagged} is not in your products, knowledge base or this chat"


# ---- every price source the prompt was given ------------------------------------------------------------------
KNOWLEDGE = [
    "Standard shipping is SGD 12 (free over $50). Gift wrapping: €4,50.",
    "Express courier: Rp 25.000 within Jakarta; the deposit for custom orders is US$ 1,250.00.",
]
CONVERSATION = ["Customer: I saw the tote for $11.99 on your Instagram, is that right?"]
SOURCES = PriceSources.of(ALL, texts=[*KNOWLEDGE, *CONVERSATION], also_allowed=[(2400, "USD")])


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # products, written every way
        ("The tote is $12.50.", []),
        ("The tote is 12.5 USD.", []),
        ("The lamp is €1,299.00 and the mug 12,50 €.", []),
        ("Two totes: $25", []),
        # knowledge passages: codes, signs, thousands separators, "12.00" for "12"
        ("Shipping is SGD 12.", []),
        ("Shipping is S$12.00.", []),
        ("Shipping is $12.", []),  # "$" may be Singapore dollars
        ("Shipping is 12 SGD.", []),
        ("Shipping is 12 EUR.", ["12 EUR"]),  # right number, a currency no source wrote it in
        ("Free shipping over $50.00!", []),
        ("Gift wrapping costs 4.50 EUR.", []),
        ("Courier Rp25,000.", []),
        ("Courier IDR 25.000,00.", []),
        ("The deposit is $1,250.", []),
        ("The deposit is $1.250,00.", []),
        ("The deposit is $1,205.", ["$1,205"]),
        # the conversation itself
        ("The $11.99 price you saw was a promotion.", []),
        ("That was $11.90.", ["$11.90"]),
        # open deals (allowed outright)
        ("Your order of $24 is ready.", []),
        # zero: not a product price, or a zero price in the sources
        ("Shipping is $0.00 for you.", []),
        ("Returns cost you 0 EUR.", []),
        ("Balance due: $0.", []),
        ("The tote is $0.00 today.", ["$0.00"]),  # a product's price: no source says it is free
        ("Two totes for $0!", ["$0"]),
        ("The tote is $12.50, shipping $0.00 and returns are free.", []),  # the zero is the shipping's
        ("Shipping is free and the tote is $0.", ["$0"]),
        ("The shirt costs $45; wrapping 0,00 €.", []),
        # invented
        ("The tote is $14.", ["$14"]),
        ("Shipping is $13.", ["$13"]),
        ("Batik Rp 140.000", ["Rp 140.000"]),
        ("No prices here, just 3 colours and size 42, order 12345.", []),
    ],
)
def test_prices_from_every_source_pass_and_only_prices_in_none_are_flagged(text: str, flagged: list[str]) -> None:
    assert [v.amount for v in SOURCES.check(text)] == flagged


@pytest.mark.parametrize(
    ("sources", "text", "flagged"),
    [
        (PriceSources.of([product("Sticker", 0, "USD")]), "The sticker is $0.00.", []),
        (PriceSources.of(USD, texts=["Samples are free ($0)."]), "The tote sample is 0,00 €.", []),
        (PriceSources.of(USD), "The tote is $0.", ["$0"]),
        (PriceSources.of(USD), "Delivery is $0.00.", []),
        (PriceSources.of(USD), "The totes ship for $0.", ["$0"]),  # the sentence names a product
        (PriceSources.of(), "Shipping: $0.00", []),
        (PriceSources.of(), "Shipping: $5", ["$5"]),
        (PriceSources.of(texts=["Total: SGD 1,299.50"]), "That is S$1.299,50 in all.", []),
        (PriceSources.of(texts=["Total: SGD 1,299.50"]), "That is S$1.299,05 in all.", ["S$1.299,05"]),
        (PriceSources.of(texts=["Total: SGD 12"]), "That is AUD 12.", ["AUD 12"]),
    ],
)
def test_zero_and_currency_matching(sources: PriceSources, text: str, flagged: list[str]) -> None:
    assert [v.amount for v in sources.check(text)] == flagged


def test_check_prices_takes_the_texts_too() -> None:
    assert check_prices("Shipping is SGD 12.", USD) != []
    assert check_prices("Shipping is SGD 12.", USD, texts=KNOWLEDGE) == []
    assert check_prices("Shipping is $0.00.", USD) == []


def test_format_money() -> None:
    assert format_money(1250, "USD") == "$12.50"
    assert format_money(129900, "EUR") == "€1299.00"
    assert format_money(1200, "JPY") == "¥1200"
    assert format_money(500, "CHF") == "5.00 CHF"
    # What the prompt shows is accepted back by the check.
    for p in ALL:
        assert check_prices(f"It is {format_money(p.price_minor, p.currency)}.", ALL) == []


def test_redaction_round_trip_with_stable_placeholders() -> None:
    redactor = Redactor()
    text = (
        "Maya: call me on +62 812-3456-7890 or mail Maya@Example.com. "
        "Again: +62 812 3456 7890, maya@example.com. Total Rp 15.000.000, order 2024."
    )
    redacted = redactor.redact(text)
    assert "3456" not in redacted
    assert "example.com" not in redacted.lower()
    assert redacted.count("[PHONE_1]") == 2
    assert redacted.count("[EMAIL_1]") == 2
    assert "Rp 15.000.000" in redacted
    assert "order 2024" in redacted
    # A value written twice comes back in its first spelling.
    assert redactor.restore(redacted) == text.replace("maya@example.com", "Maya@Example.com").replace(
        "+62 812 3456 7890", "+62 812-3456-7890"
    )
    second = redactor.redact("and +44 20 7946 0958 or bob@shop.co.uk")
    assert second == "and [PHONE_2] or [EMAIL_2]"
    assert redactor.restore("Sure, I will call [PHONE_2] and write to [EMAIL_1].") == (
        "Sure, I will call +44 20 7946 0958 and write to Maya@Example.com."
    )
    assert redactor.restore("[PHONE_9] stays") == "[PHONE_9] stays"  # unknown placeholders are left alone


def test_stream_restorer_handles_placeholders_cut_between_chunks() -> None:
    redactor = Redactor()
    redactor.redact("+62 812 3456 7890")
    restorer = StreamRestorer(redactor)
    chunks = ["I will call ", "[PHO", "NE_", "1] today [", "see note]", " ok ["]
    out = "".join(restorer.feed(c) for c in chunks) + restorer.flush()
    assert out == "I will call +62 812 3456 7890 today [see note] ok ["


def test_redaction_policy_is_cloud_only() -> None:
    assert should_redact("cloud", True)
    assert not should_redact("cloud", False)
    assert not should_redact("byok", True)
    assert not should_redact("off", True)


def test_handoff_answer() -> None:
    assert handoff_reason("HANDOFF: check the stock of linen shirts") == "check the stock of linen shirts"
    assert handoff_reason("  handoff") == ""
    assert handoff_reason("**HANDOFF** - refund policy unknown") == "refund policy unknown"
    assert handoff_reason("Handoffs happen at the counter.") is None
    assert handoff_reason("Hello Maya!") is None
    assert may_be_handoff("HAN")
    assert may_be_handoff("HANDOFF: x")
    assert may_be_handoff("")
    assert not may_be_handoff("Hello")
    assert not may_be_handoff("Hand-made")
