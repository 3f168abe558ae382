"""Greeting templates: the known variables, fallbacks for missing values, unknown variables refused at save."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.agents.templates import (
    VARIABLES,
    Recipient,
    check_template,
    clean_name,
    fill,
    format_opening,
    variables_for,
)
from app.core.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 11, 19, 0, tzinfo=UTC)  # Friday 20:00 in Berlin


def test_variables_are_filled_from_the_contact_and_the_business() -> None:
    values = variables_for(Recipient("Ana Souza"), "Casa Verde", "Monday 09:00")
    text = fill("Hi {first_name} ({name}), {business_name} opens {next_opening}. {{literal}}", values)
    assert text == "Hi Ana (Ana Souza), Casa Verde opens Monday 09:00. {literal}"


@pytest.mark.parametrize("name", ["", "   ", "None", "+55 11 91234-5678", "5511912345678"])
def test_a_missing_name_falls_back_to_a_word_never_a_placeholder(name: str) -> None:
    values = variables_for(Recipient(name), "", "")
    text = fill("Hi {first_name}! {name}, {business_name} opens {next_opening}.", values)
    assert text == "Hi there! there, us opens soon."
    assert "{" not in text
    assert "None" not in text
    assert "55" not in text


def test_a_stored_template_with_a_stray_variable_never_leaks_it() -> None:
    assert fill("Hi {First_Name}{nickname}!", variables_for(Recipient("Ana"), "Shop", "")) == "Hi Ana!"


def test_unknown_variables_are_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_template("Hi {firstname}, see {url}", "The welcome message")
    sentence = str(caught.value)
    assert sentence.startswith("The welcome message uses the unknown variables {firstname}, {url}.")
    for name in VARIABLES:
        assert f"{{{name}}}" in sentence


def test_empty_and_overlong_templates_are_refused() -> None:
    with pytest.raises(InvalidInput, match="The away message is empty"):
        check_template("  \n ", "The away message")
    with pytest.raises(InvalidInput, match="keep it under 1000"):
        check_template("x" * 1001, "The away message")
    assert check_template("  Hi {first_name} ", "The away message") == "Hi {first_name}"


def test_next_opening_reads_as_a_day_and_a_time() -> None:
    assert format_opening(datetime(2026, 12, 14, 8, 0, tzinfo=UTC), NOW, BERLIN) == "Monday 09:00"
    assert format_opening(datetime(2026, 12, 11, 20, 30, tzinfo=UTC), NOW, BERLIN) == "today 21:30"
    assert format_opening(datetime(2027, 1, 4, 8, 0, tzinfo=UTC), NOW, BERLIN) == "2027-01-04 09:00"
    assert format_opening(None, NOW, BERLIN) == ""


def test_clean_name() -> None:
    assert clean_name("  Ana   Souza ") == "Ana Souza"
    assert clean_name(None) == ""
    assert clean_name("(11) 9123-4567") == ""
