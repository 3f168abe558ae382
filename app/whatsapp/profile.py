"""The WhatsApp Web page profile: the selectors and small scripts the driver uses, versioned and updatable.

WhatsApp Web's markup churns (obfuscated classes, translated labels, vanished ``data-testid`` hooks), so nothing in
the driver hard-codes a selector. Each named entry lists selector fallbacks tried in order, the page state it must be
present in (``required_in``) and a description. The packaged profile lives in
``resources/whatsapp/profiles/whatsapp-web-1.json``; a workspace may carry ``whatsapp/profile.json`` with a newer
``version`` (fetched or dropped in by support), which then wins without a new release. An invalid override is ignored
with a warning: a bad file must never keep Parley from starting.

WhatsApp's own notices — the rate-limit notice, the banned / temporarily banned / restricted screens, the "phone
number shared via url is invalid" modal — are ``notices``: where they show (container selectors) and the phrases that
identify them, per language, matched on the container's text (their markup is WhatsApp's generic popup, so only the
words tell one notice from another). Each records where it was seen (``seen``, dated). ``match_notice`` is the
matching rule; the page observer (``page_scripts``) applies the same rule in the page.

Pure Python: no Playwright and no Qt here (``app/whatsapp/probe.py`` checks a profile against a live page).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.resources import resource

log = logging.getLogger(__name__)

PROFILE_FORMAT = "parley-whatsapp-profile/1"
PACKAGED_PROFILE = ("whatsapp", "profiles", "whatsapp-web-1.json")
OVERRIDE_PROFILE = ("whatsapp", "profile.json")  # relative to a workspace folder

State = Literal["landing", "logged_in", "chat_open"]
# "always": must be on the page in its state; "if_content": depends on data (unread chats, messages, an expired QR),
# so a miss is reported but is not breakage; "with_draft": only present while the composer holds text.
Presence = Literal["always", "if_content", "with_draft"]

# A state includes the entries of the states it builds on: an open chat still shows the chat list.
STATE_SCOPE: dict[str, tuple[str, ...]] = {
    "landing": ("landing",),
    "logged_in": ("logged_in",),
    "chat_open": ("logged_in", "chat_open"),
}

# The names the driver looks up; an override that lacks one is invalid.
REQUIRED_ENTRIES = frozenset(
    {
        "startup",
        "qr_container",
        "qr_canvas",
        "qr_reload",
        "logged_in_marker",
        "chat_list",
        "chat_row",
        "chat_row_title",
        "unread_badge",
        "search_box",
        "main_pane",
        "chat_header_title",
        "composer",
        "send_button",
        "message_row",
        "message_in",
        "message_out",
        "message_text",
        "ack_icon",
    }
)
REQUIRED_SCRIPTS = frozenset({"read_qr_ref", "is_logged_in", "composer_text", "read_messages"})

_VERSION = re.compile(r"^\d+(\.\d+)*$")

# What a notice means for Parley: stop automated sending (``rate_limited``, ``banned``: the codes of
# ``app.store.ops.automation``), or fail the one message whose number WhatsApp does not know (``not_on_whatsapp``).
NoticeCode = Literal["rate_limited", "banned", "not_on_whatsapp"]
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00a0": " "})
_SPACES = re.compile(r"\s+")


def normalize_notice_text(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: how notice phrases are compared (the page script does the
    same in JavaScript)."""
    return _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip().lower()


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2026.11.1"`` -> ``(2026, 11, 1)``; raises ValueError on anything else."""
    if not _VERSION.match(version):
        raise ValueError(f"version must be dot-separated integers, not {version!r}")
    return tuple(int(part) for part in version.split("."))


class Entry(BaseModel):
    """One page element: selector fallbacks tried in order, the state it belongs to, and what breaks without it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    selectors: tuple[str, ...] = Field(min_length=1)
    required_in: State
    presence: Presence = "always"
    label: str = Field(min_length=1)  # "the WhatsApp composer", used in messages to the user
    pauses: str = Field(min_length=1)  # what stops while it is missing: "sending", "linking", "reading chats"
    description: str = ""

    @field_validator("selectors")
    @classmethod
    def _non_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s.strip() for s in value):
            raise ValueError("selectors must not be blank")
        return value


class Notice(BaseModel):
    """A notice WhatsApp Web shows about the account or a number, told apart by its words (see the module doc)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: NoticeCode
    selectors: tuple[str, ...] = Field(min_length=1)  # containers whose text is matched (never chat rows)
    texts: dict[str, tuple[str, ...]] = Field(min_length=1)  # language -> phrases, each matched as a substring
    label: str = Field(min_length=1)  # "WhatsApp's rate-limit notice"
    seen: tuple[str, ...] = Field(min_length=1)  # where each phrase or markup was seen, dated
    dismiss: tuple[str, ...] = ()  # the button that closes it (tried in order), for notices Parley closes itself
    description: str = ""

    @field_validator("texts")
    @classmethod
    def _phrases(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        cleaned = {lang: tuple(normalize_notice_text(p) for p in phrases) for lang, phrases in value.items()}
        if any(not phrases or not all(phrases) for phrases in cleaned.values()):
            raise ValueError("each language needs at least one non-blank phrase")
        return cleaned

    def matches(self, text: str) -> bool:
        shown = normalize_notice_text(text)
        return any(phrase in shown for phrases in self.texts.values() for phrase in phrases)


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["parley-whatsapp-profile/1"]
    version: str
    supported_web_versions: str
    notes: str = ""
    entries: dict[str, Entry]
    scripts: dict[str, str]
    notices: dict[str, Notice] = Field(default_factory=dict)  # older profiles have none: nothing is watched for

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        version_tuple(value)
        return value

    @model_validator(mode="after")
    def _complete(self) -> Profile:
        missing = sorted(REQUIRED_ENTRIES - self.entries.keys())
        if missing:
            raise ValueError(f"missing entries: {', '.join(missing)}")
        missing = sorted(REQUIRED_SCRIPTS - self.scripts.keys())
        if missing:
            raise ValueError(f"missing scripts: {', '.join(missing)}")
        return self

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_tuple(self.version)

    def entry(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            raise KeyError(f"the page profile has no entry {name!r}") from None

    def entries_for(self, state: str) -> dict[str, Entry]:
        """The entries checked in ``state`` (``chat_open`` includes ``logged_in``), in profile order."""
        if state not in STATE_SCOPE:
            raise ValueError(f"unknown page state {state!r}; expected one of {', '.join(STATE_SCOPE)}")
        scope = STATE_SCOPE[state]
        return {name: e for name, e in self.entries.items() if e.required_in in scope}


def match_notice(profile: Profile, text: str) -> tuple[str, Notice] | None:
    """The first of the profile's notices (in profile order) whose phrases ``text`` contains, with its name."""
    for name, notice in profile.notices.items():
        if notice.matches(text):
            return name, notice
    return None


def read_profile(path: Path) -> Profile:
    """Parse and validate one profile file (OSError, UnicodeDecodeError or ValidationError on failure)."""
    return Profile.model_validate_json(path.read_text(encoding="utf-8"))


def load_profile(workspace_dir: Path | None = None) -> Profile:
    """The packaged profile, or the workspace's ``whatsapp/profile.json`` when it is valid and strictly newer."""
    packaged = read_profile(resource(*PACKAGED_PROFILE))
    if workspace_dir is None:
        return packaged
    override_path = workspace_dir.joinpath(*OVERRIDE_PROFILE)
    if not override_path.is_file():
        return packaged
    try:
        override = read_profile(override_path)
    except (OSError, UnicodeDecodeError, ValidationError) as exc:
        log.warning("Ignoring the WhatsApp page profile %s: it is not valid (%s)", override_path, _short(exc))
        return packaged
    if override.version_key <= packaged.version_key:
        log.info(
            "Ignoring the WhatsApp page profile %s: version %s is not newer than the packaged %s",
            override_path,
            override.version,
            packaged.version,
        )
        return packaged
    log.info("Using the WhatsApp page profile %s (version %s)", override_path, override.version)
    return override


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        return f"{exc.error_count()} error(s); {where}: {first['msg']}"
    return f"{type(exc).__name__}: {exc}"
