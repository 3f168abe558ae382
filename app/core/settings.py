"""Every setting, declared once: key, type, default, label and help (house rule 6), read typed.

Settings are declared as attributes of one class per section (``AI.brand_voice = text(...)``); ``Settings`` has one
instance of each, so code reads ``settings.ai.brand_voice`` (a ``str``), and sets it by assignment, which validates.
The Settings page renders ``SETTINGS`` (derived from the same classes) as a form and uses ``value``/``set``/``reset``
with the ``Setting`` objects. Internal keys (what the app remembers for itself, never shown in the form) are declared
the same way in ``Internal``. Raw storage is the store's own (``app.store.settings_table``): nothing else reads a key
by its name. A renamed key keeps its value through ``RENAMED``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar, overload

from pydantic import ValidationError

from app.core.errors import InvalidInput

Kind = Literal["bool", "int", "str", "choice", "data"]
T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One declared setting; as a class attribute of a section it reads (and, assigned, writes) its typed value."""

    key: str
    kind: Kind
    default: T
    label: str
    help: str
    section: str = ""  # the section's title, filled in when the section class is built
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (value, label)
    minimum: int | None = None
    maximum: int | None = None
    check: Callable[[str], str | None] | None = None  # for "str": an error message, or None when the text is fine
    parse: Callable[[Any], T] | None = None  # for "data": the stored JSON value checked and shaped, or ValueError

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "section", str(getattr(owner, "title", owner.__name__)))

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, obj: Section, owner: type) -> T: ...
    def __get__(self, obj: Section | None, owner: type) -> Setting[T] | T:
        return self if obj is None else obj.settings.value(self)

    def __set__(self, obj: Section, value: T) -> None:
        obj.settings.set(self, value)

    def validate(self, value: object) -> T:
        """``value`` when it fits this setting, else ``InvalidInput`` saying why."""
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
        elif self.kind == "data":
            if self.parse is None:
                raise InvalidInput(f"{self.label}: no way to read it")
            try:
                return self.parse(value)
            except ValidationError as exc:
                first = exc.errors()[0] if exc.errors() else None
                where = ".".join(str(part) for part in first["loc"]) if first and first["loc"] else ""
                reason = first["msg"] if first else "not valid"
                raise InvalidInput(f"{self.label}: {where + ': ' if where else ''}{reason}") from exc
            except ValueError as exc:
                raise InvalidInput(f"{self.label}: not valid — {exc}") from exc
        elif not isinstance(value, str):
            raise InvalidInput(f"{self.label}: expected text")
        elif self.check is not None and (problem := self.check(value)) is not None:
            raise InvalidInput(f"{self.label}: {problem}")
        return value  # type: ignore[return-value]  # checked above against this setting's kind


def flag(key: str, default: bool, label: str, help: str) -> Setting[bool]:
    return Setting(key, "bool", default, label, help)


def number(key: str, default: int, label: str, help: str, *, minimum: int, maximum: int) -> Setting[int]:
    return Setting(key, "int", default, label, help, minimum=minimum, maximum=maximum)


def text(
    key: str, default: str, label: str, help: str, *, check: Callable[[str], str | None] | None = None
) -> Setting[str]:
    return Setting(key, "str", default, label, help, check=check)


def choice(key: str, default: str, label: str, help: str, *, choices: tuple[tuple[str, str], ...]) -> Setting[str]:
    return Setting(key, "choice", default, label, help, choices=choices)


def data(key: str, default: T, label: str, *, parse: Callable[[Any], T]) -> Setting[T]:
    """An internal value kept as JSON (a list, a mapping), checked by ``parse`` when read and written."""
    return Setting(key, "data", default, label, "", parse=parse)


def clock_time(value: str) -> str | None:
    """``""`` (off) or a 24-hour ``HH:MM``."""
    if value == "" or re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return None
    return "a time like 22:00, or empty for none"


class Section:
    """A group of settings; subclasses declare them as class attributes and give the form's ``title``."""

    title = ""
    shown = True  # False: internal values, never in the Settings form

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def declared(cls) -> tuple[Setting[Any], ...]:
        return tuple(v for v in vars(cls).values() if isinstance(v, Setting))


class Appearance(Section):
    title = "Appearance"
    theme = choice(
        "appearance.theme",
        "system",
        "Theme",
        "Follow the operating system's light or dark mode, or pick one.",
        choices=(("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")),
    )


class Notifications(Section):
    title = "Notifications"
    desktop = flag(
        "notifications.desktop",
        True,
        "Desktop notifications",
        "Show a notification for a new customer message while Parley is not the active window.",
    )
    show_preview = flag(
        "notifications.show_preview",
        False,
        "Show message text in notifications",
        "Off keeps customers' words off the lock screen and out of screen shares; the sender's name is still shown.",
    )


class Inbox(Section):
    title = "Inbox"
    enter_sends = flag(
        "inbox.enter_sends",
        False,
        "Enter sends the message",
        "When off, Enter starts a new line and Ctrl+Enter sends.",
    )
    history_page = number(
        "inbox.history_page",
        60,
        "Messages loaded at a time",
        "How many earlier messages a chat loads when you scroll up.",
        minimum=20,
        maximum=500,
    )


class WhatsApp(Section):
    title = "WhatsApp"
    connect_on_start = flag(
        "whatsapp.connect_on_start",
        True,
        "Connect when Parley opens",
        "Once a phone is linked, open WhatsApp Web in the background every time Parley starts.",
    )
    show_browser = flag(
        "whatsapp.show_browser",
        False,
        "Show the browser window",
        "For troubleshooting: WhatsApp Web opens in a visible window instead of in the background. "
        "Takes effect on the next connect.",
    )
    typing_speed_min = number(
        "whatsapp.typing_speed_min",
        180,
        "Typing speed, slowest (characters a minute)",
        "Messages are typed key by key at a speed drawn between the slowest and fastest, like a person types.",
        minimum=60,
        maximum=1200,
    )
    typing_speed_max = number(
        "whatsapp.typing_speed_max",
        300,
        "Typing speed, fastest (characters a minute)",
        "Long messages are typed faster so none takes more than about 20 seconds.",
        minimum=60,
        maximum=1200,
    )
    gap_min_seconds = number(
        "whatsapp.gap_min_seconds",
        30,
        "Pause between contacts, shortest (seconds)",
        "When several customers are waiting for a message (campaigns, follow-ups), Parley pauses between them.",
        minimum=0,
        maximum=3600,
    )
    gap_max_seconds = number(
        "whatsapp.gap_max_seconds",
        60,
        "Pause between contacts, longest (seconds)",
        "Each pause is drawn at random between the shortest and the longest.",
        minimum=0,
        maximum=3600,
    )
    per_contact_per_hour = number(
        "whatsapp.per_contact_per_hour",
        12,
        "Messages to one contact per hour, at most",
        "Counted over the last 60 minutes.",
        minimum=1,
        maximum=200,
    )
    per_hour = number(
        "whatsapp.per_hour",
        60,
        "Messages per hour, at most",
        "Counted over the last 60 minutes, across all contacts.",
        minimum=1,
        maximum=1000,
    )
    per_day = number(
        "whatsapp.per_day",
        300,
        "Messages per day, at most",
        "Counted over the last 24 hours. WhatsApp restricts numbers that send much more than people do.",
        minimum=1,
        maximum=5000,
    )
    warmup = flag(
        "whatsapp.warmup",
        True,
        "Warm up a new number",
        "A new number sends at most 20 messages on its first day, 50 on the second, 120 on the third, "
        "then the daily limit.",
    )
    quiet_start = text(
        "whatsapp.quiet_start",
        "22:00",
        "Quiet hours start",
        "No messages go out between the start and the end (24-hour clock, in the business's time zone: "
        "Settings › Business hours); they wait in the queue. "
        "Empty turns quiet hours off.",
        check=clock_time,
    )
    quiet_end = text(
        "whatsapp.quiet_end",
        "08:00",
        "Quiet hours end",
        "When queued messages start going out again.",
        check=clock_time,
    )
    auto_window_start = text(
        "whatsapp.auto_window_start",
        "09:00",
        "Automated messages from",
        "Campaigns, follow-ups, autopilot answers and away messages go out only between this time and the next "
        "(24-hour clock, in the business's time zone). Messages you type yourself go at any time. Empty: any time.",
        check=clock_time,
    )
    auto_window_end = text(
        "whatsapp.auto_window_end",
        "20:00",
        "Automated messages until",
        "An end before the start runs past midnight (for example 20:00 to 02:00).",
        check=clock_time,
    )
    auto_per_hour = number(
        "whatsapp.auto_per_hour",
        30,
        "Automated messages per hour, at most",
        "One budget for everything Parley sends on its own on this number, counted over the last 60 minutes. "
        "Your own replies never wait for it and do not use it up.",
        minimum=1,
        maximum=500,
    )
    auto_per_day = number(
        "whatsapp.auto_per_day",
        200,
        "Automated messages per day, at most",
        "Counted over the last 24 hours. With warm-up on, a new number's automated messages start at 20 a day and "
        "grow to this after two weeks (50 from day 5, 100 from day 9, 200 from day 16).",
        minimum=1,
        maximum=5000,
    )
    auto_batch_size = number(
        "whatsapp.auto_batch_size",
        20,
        "Pause after this many automated messages",
        "After this many automated messages in a row Parley stops for the pause below, like a person taking a break.",
        minimum=1,
        maximum=1000,
    )
    auto_batch_pause_seconds = number(
        "whatsapp.auto_batch_pause_seconds",
        300,
        "Length of that pause (seconds)",
        "No automated message goes out during it; your own replies still do.",
        minimum=0,
        maximum=24 * 3600,
    )
    browser_memory_mb = number(
        "whatsapp.browser_memory_mb",
        1500,
        "Restart the browser above (MB)",
        "WhatsApp Web grows over days; past this size the browser is restarted between two messages.",
        minimum=300,
        maximum=16000,
    )


class AI(Section):
    title = "AI"
    mode = choice(
        "ai.mode",
        "off",
        "AI replies",
        "Off; with your own provider keys (prompts go straight to the provider; the AI providers card says where "
        "the keys are kept); "
        "or through your team's Parley server.",
        choices=(("off", "Off"), ("byok", "My own provider keys"), ("cloud", "Through the Parley server")),
    )
    temperature = choice(
        "ai.temperature",
        "0.4",
        "Creativity",
        "How freely the AI words its suggestions. Lower stays closer to your facts and brand voice.",
        choices=(("0.2", "Precise"), ("0.4", "Balanced"), ("0.7", "Creative")),
    )
    brand_voice = text(
        "ai.brand_voice",
        "",
        "Brand voice",
        "A sentence or two on how your business speaks, e.g. 'Warm and short, first names, no emoji'.",
    )
    redact_cloud = flag(
        "ai.redact_cloud",
        True,
        "Hide phone numbers and emails from the Parley server",
        "In server mode, phone numbers and email addresses in a prompt are replaced by placeholders before it leaves.",
    )
    keep_transcripts = flag(
        "ai.keep_transcripts",
        False,
        "Keep the text of AI prompts and replies",
        "Off keeps only usage (tokens, cost, timing) in the AI log. On also keeps the words, on this computer only.",
    )
    analyze_inbound = flag(
        "ai.analyze_inbound",
        False,
        "Analyse incoming messages",
        "Detect each conversation's intent, mood and language, and when a customer agrees to buy, as messages arrive. "
        "One AI call per burst of messages, so it costs tokens.",
    )


class Security(Section):
    title = "Security"
    backup_reminder_days = number(
        "security.backup_reminder_days",
        7,
        "Remind me to back up every (days)",
        "0 turns the reminder off.",
        minimum=0,
        maximum=365,
    )


class Finance(Section):
    title = "Finance"
    drop_threshold = number(
        "finance.drop_threshold",
        30,
        "Revenue drop alert (%)",
        "Alert when a day's revenue is at least this much below the average of the same weekday in the last weeks "
        "(each currency on its own).",
        minimum=5,
        maximum=95,
    )
    drop_weeks = number(
        "finance.drop_weeks",
        4,
        "Compare with the last (weeks)",
        "How many earlier same weekdays make the average. No alert until there are sales that far back.",
        minimum=2,
        maximum=12,
    )
    check_time = text(
        "finance.check_time",
        "08:00",
        "Check yesterday's revenue at",
        "Each day at this time (in the business's time zone) the finished day is compared. Empty turns it off.",
        check=clock_time,
    )


def _json_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("expected a list of objects")
    return [dict(v) for v in value]


def _json_strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return list(value)


def _json_mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError("expected an object")
    return dict(value)


class Internal(Section):
    """What Parley remembers for itself on this computer; never shown in the form."""

    title = "Internal"
    shown = False
    whatsapp_linked = flag(
        "whatsapp.linked", False, "A phone was linked", "Connect on start only once a phone was linked here."
    )
    ai_providers: Setting[list[dict[str, Any]]] = data(
        "ai.providers", [], "AI providers", parse=_json_list
    )  # checked in detail by app.ai.config
    layout: Setting[dict[str, Any]] = data(
        "ui.layout", {}, "Window and panel layout", parse=_json_mapping
    )  # name -> what app.ui.layout_memory keeps (splitter sizes, the window's geometry, panels shown)
    settings_section = text(
        "ui.settings_section", "", "Settings section shown last", "The Settings page opens on it again."
    )
    recent_emoji: Setting[list[str]] = data(
        "ui.recent_emoji", [], "Emoji used lately", parse=_json_strings
    )  # the composer's emoji picker shows them first, most recent first


SECTION_TYPES: tuple[type[Section], ...] = (
    Appearance,
    Notifications,
    Inbox,
    WhatsApp,
    AI,
    Finance,
    Security,
    Internal,
)
SECTIONS = tuple(t.title for t in SECTION_TYPES if t.shown)
SETTINGS: tuple[Setting[Any], ...] = tuple(s for t in SECTION_TYPES if t.shown for s in t.declared())
INTERNAL: tuple[Setting[Any], ...] = Internal.declared()

BY_KEY: dict[str, Setting[Any]] = {s.key: s for s in (*SETTINGS, *INTERNAL)}
RENAMED: dict[str, str] = {}  # old key -> new key


class SettingsStorage(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...


class Settings:
    """Typed access to every declared setting: ``settings.inbox.history_page`` is an ``int``."""

    def __init__(self, storage: SettingsStorage) -> None:
        self._storage = storage
        self.appearance = Appearance(self)
        self.notifications = Notifications(self)
        self.inbox = Inbox(self)
        self.whatsapp = WhatsApp(self)
        self.ai = AI(self)
        self.finance = Finance(self)
        self.security = Security(self)
        self.internal = Internal(self)
        self._upgrade()

    def _upgrade(self) -> None:
        missing = object()
        for old, new in RENAMED.items():
            value = self._storage.get(old, missing)
            if value is not missing:
                if self._storage.get(new, missing) is missing:
                    self._storage.set(new, value)
                self._storage.delete(old)

    def value(self, setting: Setting[T]) -> T:
        """The stored value, or the default when none is stored or the stored one no longer fits."""
        stored = self._storage.get(setting.key, setting.default)
        try:
            return setting.validate(stored)
        except ValueError:
            return setting.default

    def set(self, setting: Setting[T], value: T) -> None:
        self._storage.set(setting.key, setting.validate(value))

    def reset(self, setting: Setting[Any]) -> None:
        self._storage.delete(setting.key)
