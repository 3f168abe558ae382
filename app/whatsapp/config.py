"""The WhatsApp service's configuration, read from the declared settings (``app.core.settings``) and environment.

``PARLEY_WHATSAPP_URL`` points the driver at another WhatsApp Web address (the local imitation, for the demo and
tests); everything else is a user setting with a safe default.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import time

from app.core.settings import Settings
from app.core.zones import local_zone_name
from app.whatsapp.humanizer import TypingPace
from app.whatsapp.limits import SendLimits
from app.whatsapp.pacing import DEFAULT_WARMUP, Pace

log = logging.getLogger(__name__)

DEFAULT_URL = "https://web.whatsapp.com/"
URL_ENV = "PARLEY_WHATSAPP_URL"
MB = 1024 * 1024


@dataclass(frozen=True)
class ServiceConfig:
    url: str = DEFAULT_URL
    headless: bool = True
    typing: TypingPace = field(default_factory=TypingPace)
    limits: SendLimits = field(default_factory=SendLimits)
    pacing: Pace = field(default_factory=Pace)  # the number's one budget for automated messages
    memory_limit_bytes: int = 1500 * MB
    restart_backoff_seconds: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0)  # then give up: ``failed``
    retry_seconds: float = 20.0  # a send that did not show up in time is checked again after this
    seed: int | None = None  # humanizer seed (tests); None draws from the OS


def _clock(value: str) -> time | None:
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def pacing_config(settings: Settings, zone: str) -> Pace:
    """The number's budget for automated messages from the settings, its window in ``zone`` (the business's)."""
    w = settings.whatsapp
    start, end = _clock(w.auto_window_start), _clock(w.auto_window_end)
    per_day = w.auto_per_day
    return Pace(
        gap_min_seconds=float(min(w.gap_min_seconds, w.gap_max_seconds)),
        gap_max_seconds=float(max(w.gap_min_seconds, w.gap_max_seconds)),
        per_hour=w.auto_per_hour,
        per_day=per_day,
        warmup=tuple((day, min(cap, per_day)) for day, cap in DEFAULT_WARMUP) if w.warmup else (),
        windows=((start, end),) if start is not None and end is not None and start != end else (),
        batch_size=w.auto_batch_size,
        batch_pause_seconds=float(w.auto_batch_pause_seconds),
        timezone=zone,
    )


def service_config(settings: Settings, *, zone: str | None = None, seed: int | None = None) -> ServiceConfig:
    """The service's configuration from the settings; quiet hours are in ``zone`` (the business's time zone,
    ``orgs.timezone``; this computer's when not given)."""
    fast, slow = settings.whatsapp.typing_speed_max, settings.whatsapp.typing_speed_min
    gap_min, gap_max = settings.whatsapp.gap_min_seconds, settings.whatsapp.gap_max_seconds
    typing = TypingPace(
        chars_per_second_min=min(slow, fast) / 60,
        chars_per_second_max=max(slow, fast) / 60,
        gap_seconds_min=min(gap_min, gap_max),
        gap_seconds_max=max(gap_min, gap_max),
    )
    per_day = settings.whatsapp.per_day
    warmup = (*(min(step, per_day) for step in (20, 50, 120)), per_day)
    limits = SendLimits(
        per_contact_per_hour=settings.whatsapp.per_contact_per_hour,
        per_hour=settings.whatsapp.per_hour,
        per_day=per_day,
        warmup_per_day=warmup if settings.whatsapp.warmup else (per_day,),
        quiet_start=_clock(settings.whatsapp.quiet_start),
        quiet_end=_clock(settings.whatsapp.quiet_end),
        timezone=zone or local_zone_name(),
    )
    return ServiceConfig(
        url=os.environ.get(URL_ENV) or DEFAULT_URL,
        pacing=pacing_config(settings, limits.timezone),
        headless=not settings.whatsapp.show_browser,
        typing=typing,
        limits=limits,
        memory_limit_bytes=settings.whatsapp.browser_memory_mb * MB,
        seed=seed,
    )
