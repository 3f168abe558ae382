"""Every user setting, declared once: key, type, default, label and help (house rule 6).

The Settings page renders this list as a form; code reads values through ``Settings`` and never sees an
undeclared key or an ill-typed value. A renamed key keeps its value through ``RENAMED``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.errors import InvalidInput

Kind = Literal["bool", "int", "str", "choice"]


@dataclass(frozen=True)
class Setting:
    key: str
    kind: Kind
    default: Any
    label: str
    help: str
    section: str
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (value, label)
    minimum: int | None = None
    maximum: int | None = None
    check: Callable[[str], str | None] | None = None  # for "str": an error message, or None when the text is fine

    def validate(self, value: Any) -> Any:
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise InvalidInput(f"{self.label}: expected on/off")
        elif self.kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(f"{self.label}: expected a whole number")
            if self.minimum is not None and value < self.minimum:
                raise InvalidInput(f"{self.label}: at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise InvalidInput(f"{self.label}: at most {self.maximum}")
        elif self.kind == "choice":
            if value not in {c for c, _ in self.choices}:
                raise InvalidInput(f"{self.label}: one of {', '.join(c for c, _ in self.choices)}")
        elif not isinstance(value, str):
            raise InvalidInput(f"{self.label}: expected text")
        elif self.check is not None and (problem := self.check(value)) is not None:
            raise InvalidInput(f"{self.label}: {problem}")
        return value


def clock_time(value: str) -> str | None:
    """``""`` (off) or a 24-hour ``HH:MM``."""
    if value == "" or re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return None
    return "a time like 22:00, or empty for none"


def time_zone(value: str) -> str | None:
    """``""`` (this computer's zone) or an IANA zone name such as ``Asia/Singapore``."""
    if value == "":
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone '{value}' (use a name like Europe/Berlin, or leave it empty)"
    return None


SECTIONS = ("Appearance", "Notifications", "Inbox", "WhatsApp", "AI", "Security")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "appearance.theme",
        "choice",
        "system",
        "Theme",
        "Follow the operating system's light or dark mode, or pick one.",
        "Appearance",
        choices=(("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")),
    ),
    Setting(
        "notifications.desktop",
        "bool",
        True,
        "Desktop notifications",
        "Show a notification for a new customer message while Parley is not the active window.",
        "Notifications",
    ),
    Setting(
        "notifications.show_preview",
        "bool",
        False,
        "Show message text in notifications",
        "Off keeps customers' words off the lock screen and out of screen shares; the sender's name is still shown.",
        "Notifications",
    ),
    Setting(
        "inbox.enter_sends",
        "bool",
        False,
        "Enter sends the message",
        "When off, Enter starts a new line and Ctrl+Enter sends.",
        "Inbox",
    ),
    Setting(
        "inbox.history_page",
        "int",
        60,
        "Messages loaded at a time",
        "How many earlier messages a chat loads when you scroll up.",
        "Inbox",
        minimum=20,
        maximum=500,
    ),
    Setting(
        "whatsapp.connect_on_start",
        "bool",
        True,
        "Connect when Parley opens",
        "Once a phone is linked, open WhatsApp Web in the background every time Parley starts.",
        "WhatsApp",
    ),
    Setting(
        "whatsapp.show_browser",
        "bool",
        False,
        "Show the browser window",
        "For troubleshooting: WhatsApp Web opens in a visible window instead of in the background. "
        "Takes effect on the next connect.",
        "WhatsApp",
    ),
    Setting(
        "whatsapp.typing_speed_min",
        "int",
        180,
        "Typing speed, slowest (characters a minute)",
        "Messages are typed key by key at a speed drawn between the slowest and fastest, like a person types.",
        "WhatsApp",
        minimum=60,
        maximum=1200,
    ),
    Setting(
        "whatsapp.typing_speed_max",
        "int",
        300,
        "Typing speed, fastest (characters a minute)",
        "Long messages are typed faster so none takes more than about 20 seconds.",
        "WhatsApp",
        minimum=60,
        maximum=1200,
    ),
    Setting(
        "whatsapp.gap_min_seconds",
        "int",
        30,
        "Pause between contacts, shortest (seconds)",
        "When several customers are waiting for a message (campaigns, follow-ups), Parley pauses between them.",
        "WhatsApp",
        minimum=0,
        maximum=3600,
    ),
    Setting(
        "whatsapp.gap_max_seconds",
        "int",
        60,
        "Pause between contacts, longest (seconds)",
        "Each pause is drawn at random between the shortest and the longest.",
        "WhatsApp",
        minimum=0,
        maximum=3600,
    ),
    Setting(
        "whatsapp.per_contact_per_hour",
        "int",
        12,
        "Messages to one contact per hour, at most",
        "Counted over the last 60 minutes.",
        "WhatsApp",
        minimum=1,
        maximum=200,
    ),
    Setting(
        "whatsapp.per_hour",
        "int",
        60,
        "Messages per hour, at most",
        "Counted over the last 60 minutes, across all contacts.",
        "WhatsApp",
        minimum=1,
        maximum=1000,
    ),
    Setting(
        "whatsapp.per_day",
        "int",
        300,
        "Messages per day, at most",
        "Counted over the last 24 hours. WhatsApp restricts numbers that send much more than people do.",
        "WhatsApp",
        minimum=1,
        maximum=5000,
    ),
    Setting(
        "whatsapp.warmup",
        "bool",
        True,
        "Warm up a new number",
        "A new number sends at most 20 messages on its first day, 50 on the second, 120 on the third, "
        "then the daily limit.",
        "WhatsApp",
    ),
    Setting(
        "whatsapp.quiet_start",
        "str",
        "22:00",
        "Quiet hours start",
        "No messages go out between the start and the end (24-hour clock); they wait in the queue. "
        "Empty turns quiet hours off.",
        "WhatsApp",
        check=clock_time,
    ),
    Setting(
        "whatsapp.quiet_end",
        "str",
        "08:00",
        "Quiet hours end",
        "When queued messages start going out again.",
        "WhatsApp",
        check=clock_time,
    ),
    Setting(
        "whatsapp.time_zone",
        "str",
        "",
        "Business time zone",
        "For quiet hours, e.g. Asia/Singapore. Empty uses this computer's time zone.",
        "WhatsApp",
        check=time_zone,
    ),
    Setting(
        "whatsapp.browser_memory_mb",
        "int",
        1500,
        "Restart the browser above (MB)",
        "WhatsApp Web grows over days; past this size the browser is restarted between two messages.",
        "WhatsApp",
        minimum=300,
        maximum=16000,
    ),
    Setting(
        "ai.mode",
        "choice",
        "off",
        "AI replies",
        "Off; with your own provider keys (kept in this computer's keyring, prompts go straight to the provider); "
        "or through your team's Parley server.",
        "AI",
        choices=(("off", "Off"), ("byok", "My own provider keys"), ("cloud", "Through the Parley server")),
    ),
    Setting(
        "ai.temperature",
        "choice",
        "0.4",
        "Creativity",
        "How freely the AI words its suggestions. Lower stays closer to your facts and brand voice.",
        "AI",
        choices=(("0.2", "Precise"), ("0.4", "Balanced"), ("0.7", "Creative")),
    ),
    Setting(
        "ai.brand_voice",
        "str",
        "",
        "Brand voice",
        "A sentence or two on how your business speaks, e.g. 'Warm and short, first names, no emoji'.",
        "AI",
    ),
    Setting(
        "ai.redact_cloud",
        "bool",
        True,
        "Hide phone numbers and emails from the Parley server",
        "In server mode, phone numbers and email addresses in a prompt are replaced by placeholders before it leaves.",
        "AI",
    ),
    Setting(
        "ai.keep_transcripts",
        "bool",
        False,
        "Keep the text of AI prompts and replies",
        "Off keeps only usage (tokens, cost, timing) in the AI log. On also keeps the words, on this computer only.",
        "AI",
    ),
    Setting(
        "ai.analyze_inbound",
        "bool",
        False,
        "Analyse incoming messages",
        "Detect each conversation's intent, mood and language, and when a customer agrees to buy, as messages arrive. "
        "One AI call per burst of messages, so it costs tokens.",
        "AI",
    ),
    Setting(
        "security.backup_reminder_days",
        "int",
        7,
        "Remind me to back up every (days)",
        "0 turns the reminder off.",
        "Security",
        minimum=0,
        maximum=365,
    ),
)

BY_KEY = {s.key: s for s in SETTINGS}
RENAMED: dict[str, str] = {}  # old key -> new key


class SettingsStorage(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...


class Settings:
    def __init__(self, storage: SettingsStorage) -> None:
        self._storage = storage
        self._upgrade()

    def _upgrade(self) -> None:
        missing = object()
        for old, new in RENAMED.items():
            value = self._storage.get(old, missing)
            if value is not missing:
                if self._storage.get(new, missing) is missing:
                    self._storage.set(new, value)
                self._storage.delete(old)

    def get(self, key: str) -> Any:
        setting = BY_KEY[key]
        value = self._storage.get(key, setting.default)
        try:
            return setting.validate(value)
        except ValueError:
            return setting.default

    def set(self, key: str, value: Any) -> None:
        self._storage.set(key, BY_KEY[key].validate(value))

    def reset(self, key: str) -> None:
        BY_KEY[key]
        self._storage.delete(key)
