"""The WhatsApp settings: validated where they are entered, turned into the service's configuration."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from app.core.settings import BY_KEY, Settings
from app.core.zones import local_zone_name
from app.whatsapp.config import DEFAULT_URL, MB, URL_ENV, service_config
from tests.support.memory_settings import Memory


def test_defaults_are_the_safe_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    config = service_config(Settings(Memory()))
    assert config.url == DEFAULT_URL
    assert config.headless
    assert (config.typing.chars_per_second_min, config.typing.chars_per_second_max) == (3.0, 5.0)
    assert (config.typing.gap_seconds_min, config.typing.gap_seconds_max) == (30, 60)
    assert config.limits.warmup_per_day == (20, 50, 120, 300)
    assert (config.limits.quiet_start, config.limits.quiet_end) == (time(22, 0), time(8, 0))
    assert config.limits.timezone == local_zone_name()
    assert config.memory_limit_bytes == 1500 * MB


def test_settings_flow_into_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:8765/")
    settings = Settings(Memory())
    settings.whatsapp.show_browser = True
    settings.whatsapp.typing_speed_min = 300
    settings.whatsapp.typing_speed_max = 120  # swapped: taken as a range all the same
    settings.whatsapp.per_day = 80
    settings.whatsapp.quiet_start = ""
    config = service_config(settings, zone="Asia/Singapore")  # the business's zone (the org's)
    assert config.url == "http://127.0.0.1:8765/"
    assert not config.headless
    assert (config.typing.chars_per_second_min, config.typing.chars_per_second_max) == (2.0, 5.0)
    assert config.limits.warmup_per_day == (20, 50, 80, 80)
    assert config.limits.quiet_start is None
    assert config.limits.timezone == "Asia/Singapore"
    settings.whatsapp.warmup = False
    assert service_config(settings).limits.warmup_per_day == (80,)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("whatsapp.quiet_start", "25:00", "a time like 22:00"),
        ("whatsapp.quiet_end", "8am", "a time like 22:00"),
        ("whatsapp.per_day", 0, "at least 1"),
    ],
)
def test_bad_values_are_refused_with_a_reason(key: str, value: Any, problem: str) -> None:
    settings = Settings(Memory())
    with pytest.raises(ValueError, match=problem):
        settings.set(BY_KEY[key], value)
