"""The humanizer's delays: seeded, within their settings, capped, and typed grapheme by grapheme."""

from __future__ import annotations

import random
import statistics

import pytest
from pydantic import ValidationError

from app.whatsapp.humanizer import Humanizer, TypingPace, graphemes

TEXT = "Hi Maria! Yes, the linen shirt is in stock in M and L. Shall I reserve one for you?"


def test_same_seed_same_plan() -> None:
    a = Humanizer(rng=random.Random(7)).typing_plan(TEXT)
    b = Humanizer(rng=random.Random(7)).typing_plan(TEXT)
    c = Humanizer(rng=random.Random(8)).typing_plan(TEXT)
    assert a == b
    assert a != c
    assert a.text == TEXT


def test_speed_distribution_within_settings() -> None:
    settings = TypingPace(pause_chance=0)
    rng = random.Random(1)
    short = "Yes, we have it in M and L. Want one?"  # short enough that the 20 s cap never applies
    speeds = []
    for _ in range(400):
        plan = Humanizer(settings, rng).typing_plan(short)
        assert plan.seconds < settings.max_typing_seconds
        speeds.append(len(plan.keystrokes) / plan.seconds)
    assert min(speeds) >= settings.chars_per_second_min - 1e-9
    assert max(speeds) <= settings.chars_per_second_max + 1e-9
    assert 3.6 < statistics.mean(speeds) < 4.4
    assert statistics.stdev(speeds) > 0.3, "speed varies from message to message"


def test_keystrokes_are_jittered_not_regular() -> None:
    plan = Humanizer(TypingPace(pause_chance=0), random.Random(3)).typing_plan(TEXT)
    delays = [k.delay for k in plan.keystrokes]
    assert statistics.stdev(delays) / statistics.mean(delays) > 0.2
    assert min(delays) >= 0.03


def test_long_messages_are_capped() -> None:
    settings = TypingPace()
    plan = Humanizer(settings, random.Random(2)).typing_plan("word " * 400)
    assert plan.seconds == pytest.approx(settings.max_typing_seconds)


def test_pauses_happen_after_words() -> None:
    settings = TypingPace(pause_chance=1.0, pause_seconds_min=1.0, pause_seconds_max=1.0, max_typing_seconds=1000)
    plan = Humanizer(settings, random.Random(4)).typing_plan("one two")
    assert plan.keystrokes[4].text == "t"
    assert plan.keystrokes[4].delay >= 1.0
    assert all(k.delay < 1.0 for i, k in enumerate(plan.keystrokes) if i != 4)


def test_reading_time_grows_with_the_message_and_is_capped() -> None:
    h = Humanizer(rng=random.Random(5))
    short = statistics.mean(h.reading_seconds("ok?") for _ in range(200))
    long = statistics.mean(h.reading_seconds("x" * 150) for _ in range(200))
    assert short < long
    assert max(h.reading_seconds("x" * 10_000) for _ in range(50)) <= TypingPace().read_max_seconds


def test_gaps_between_contacts() -> None:
    h = Humanizer(rng=random.Random(6))
    gaps = [h.gap_seconds() for _ in range(500)]
    assert min(gaps) >= 30
    assert max(gaps) <= 60
    assert statistics.stdev(gaps) > 5


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="minimum is above the maximum"):
        TypingPace(chars_per_second_min=6, chars_per_second_max=4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", ["a", "b", "c"]),
        ("café", ["c", "a", "f", "é"]),
        ("cafe\u0301", ["c", "a", "f", "e\u0301"]),  # combining accent stays with its letter
        ("नमस्ते", ["न", "म", "स्", "ते"]),  # vowel signs and virama join their consonant
        ("👍🏽!", ["👍🏽", "!"]),  # skin tone modifier
        ("👨‍👩‍👧", ["👨‍👩‍👧"]),  # zero-width-joiner family
        ("🇧🇷🇵🇹", ["🇧🇷", "🇵🇹"]),  # flags are pairs of regional indicators
        ("❤️ ok", ["❤️", " ", "o", "k"]),  # variation selector
    ],
)
def test_graphemes(text: str, expected: list[str]) -> None:
    assert graphemes(text) == expected
    assert "".join(graphemes(text)) == text
