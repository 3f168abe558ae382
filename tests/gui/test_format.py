"""The display helpers pages share: sums per currency, contact names, custom field values read back from a table."""

from __future__ import annotations

from app.ui.format import display_name, money_sums
from app.ui.widgets.contact_fields import shown, typed_value


def test_money_sums_lists_currencies_side_by_side() -> None:
    assert money_sums({"USD": 1050, "EUR": 200}) == "€2.00 + $10.50"
    assert money_sums({}) == "—"
    assert money_sums({}, "EUR") == "€0.00"


def test_display_name_falls_back_to_phone_then_fallback() -> None:
    assert display_name("Ana", "+351911111111") == "Ana"
    assert display_name("", "+351911111111") == "+351911111111"
    assert display_name(None, None) == "Unknown"
    assert display_name("", None, "Unnamed contact") == "Unnamed contact"


def test_typed_values_keep_their_type_unless_edited_into_text() -> None:
    stored = {"orders": 3, "ratio": 0.5, "vip": True, "size": "M", "nothing": None}
    assert {key: typed_value(shown(value), stored, key) for key, value in stored.items()} == stored
    assert type(typed_value("3", stored, "orders")) is int
    assert typed_value("4", stored, "orders") == 4
    assert typed_value("4.5", stored, "orders") == 4.5
    assert typed_value("four", stored, "orders") == "four"
    assert typed_value("inf", stored, "ratio") == "inf"
    assert typed_value("12", stored, "size") == "12", "text stays text"
    assert typed_value("7", stored, "new") == "7"
    assert typed_value("False", stored, "vip") == "False"
