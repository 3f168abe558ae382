"""Every user setting, declared once: key, type, default, label and help (house rule 6).

The Settings page renders this list as a form; code reads values through ``Settings`` and never sees an
undeclared key or an ill-typed value. A renamed key keeps its value through ``RENAMED``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

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

    def validate(self, value: Any) -> Any:
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.label}: expected on/off")
        elif self.kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{self.label}: expected a whole number")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.label}: at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.label}: at most {self.maximum}")
        elif self.kind == "choice":
            if value not in {c for c, _ in self.choices}:
                raise ValueError(f"{self.label}: one of {', '.join(c for c, _ in self.choices)}")
        elif not isinstance(value, str):
            raise ValueError(f"{self.label}: expected text")
        return value


SECTIONS = ("Appearance", "Notifications", "Inbox", "Security")

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
