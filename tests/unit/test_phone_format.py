"""Phone numbers are shown as their country writes them; the stored E.164 text is only ever displayed (issue 16)."""

from __future__ import annotations

import pytest

from app.ui.format import phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+5511987654321", "+55 11 98765-4321"),  # Brazil, São Paulo mobile
        ("+14155552671", "+1 415-555-2671"),  # United States
        ("+447911123456", "+44 7911 123456"),  # United Kingdom mobile
        ("+4915112345678", "+49 1511 2345678"),  # Germany mobile
        ("+34612345678", "+34 612 34 56 78"),  # Spain mobile
        ("+919876543210", "+91 98765 43210"),  # India mobile
        ("+525512345678", "+52 55 1234 5678"),  # Mexico City
        ("+81312345678", "+81 3-1234-5678"),  # Japan, Tokyo: hyphens, as written there
    ],
)
def test_numbers_are_grouped_by_their_country(stored: str, shown: str) -> None:
    assert phone(stored) == shown


@pytest.mark.parametrize(
    "stored",
    [
        "+123",  # too short for any country
        "+99912345678",  # no such country code
        "+5511123",  # Brazilian prefix, not a valid number
        "11987654321",  # no country code: which country is unknown, so it is not guessed
        "not a number",
        "12345",  # a short code
    ],
)
def test_invalid_numbers_are_shown_as_stored(stored: str) -> None:
    assert phone(stored) == stored


def test_nothing_stored_shows_nothing() -> None:
    assert phone(None) == ""
    assert phone("") == ""
