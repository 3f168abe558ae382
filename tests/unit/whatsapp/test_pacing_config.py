"""The automated-sending budget's settings: safe defaults, validated where entered, turned into the number's pace."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from app.core.settings import BY_KEY, Settings
from app.whatsapp.config import pacing_config, service_config
from app.whatsapp.pacing import DEFAULT_WARMUP
from tests.support.memory_settings import Memory


def test_the_default_budget() -> None:
    pace = service_config(Settings(Memory())).pacing
    assert (pace.gap_min_seconds, pace.gap_max_seconds) == (30, 60)
    assert (pace.per_hour, pace.per_day, pace.batch_size, pace.batch_pause_seconds) == (30, 200, 20, 300)
    assert pace.windows == ((time(9), time(20)),)
    assert pace.warmup == DEFAULT_WARMUP
    assert pace.timezone == service_config(Settings(Memory())).limits.timezone, "the same zone as quiet hours"


def test_settings_flow_into_the_budget() -> None:
    settings = Settings(Memory())
    w = settings.whatsapp
    w.auto_window_start, w.auto_window_end = "20:00", "02:00"
    w.auto_per_hour, w.auto_per_day, w.auto_batch_size, w.auto_batch_pause_seconds = 10, 60, 5, 90
    w.gap_min_seconds, w.gap_max_seconds = 90, 45  # swapped: taken as a range all the same
    pace = pacing_config(settings, "Asia/Singapore")
    assert pace.windows == ((time(20), time(2)),)
    assert (pace.per_hour, pace.per_day, pace.batch_size, pace.batch_pause_seconds) == (10, 60, 5, 90)
    assert (pace.gap_min_seconds, pace.gap_max_seconds) == (45, 90)
    assert pace.warmup == ((0, 20), (4, 50), (8, 60), (15, 60)), "no warm-up step above the daily cap"
    assert pace.timezone == "Asia/Singapore"
    w.warmup = False
    w.auto_window_start = ""
    pace = pacing_config(settings, "UTC")
    assert pace.warmup == ()
    assert pace.windows == (), "an empty start: automated messages at any time (quiet hours still apply)"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("whatsapp.auto_window_start", "9", "a time like 22:00"),
        ("whatsapp.auto_window_end", "24:00", "a time like 22:00"),
        ("whatsapp.auto_per_hour", 0, "at least 1"),
        ("whatsapp.auto_batch_size", 0, "at least 1"),
        ("whatsapp.auto_batch_pause_seconds", -1, "at least 0"),
    ],
)
def test_bad_values_are_refused_with_a_reason(key: str, value: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings(Memory()).set(BY_KEY[key], value)
