"""Agent settings as versions: every edit is a new ``agent_configs`` row, the highest version is the one in force.

Executions name the version they ran with, so "why did it do that on Tuesday?" is answered by the version in force
then; a roll-back is a *new* version copying an old one (history is never rewritten, and the roll-back itself shows
in the history with its author and note). An agent that was never configured runs on its defaults (version 0, never
stored). Rows sync, so every teammate sees the same versions; two teammates saving at once offline can both write
version N — the later ``updated_at`` (then the larger id) wins, the other stays in the history.

The conversation limits the orchestrator applies to agents that answer customers (the pause after a person's
takeover, the debounce of bursts, the per-chat cooldown and the global rate cap) are part of the acquisition agent's
config: they are edited on its Agents page card, are versioned with it, and are the same on every device of a team
(ownership must read the same everywhere). ``limits`` reads them with their declared defaults.

Writes here are one transaction each and are what the Agents page calls (Qt-free, like ``app.store.ops``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, get_args

from app.core.errors import InvalidInput, NotFound
from app.core.models import AgentConfig, AgentKind, AgentMode
from app.store.store import Store

AGENTS: tuple[AgentKind, ...] = get_args(AgentKind)
MODES: tuple[AgentMode, ...] = get_args(AgentMode)


@dataclass(frozen=True)
class Defaults:
    enabled: bool
    mode: AgentMode
    config: dict[str, Any] = field(default_factory=dict)


# Declared once, with the reason for each default beside it.
DEFAULTS: dict[AgentKind, Defaults] = {
    # Off until the owner turns it on; suggest (drafts) before autopilot.
    "acquisition": Defaults(
        enabled=False,
        mode="draft",
        config={
            "pause_hours": 12,  # a person's message pauses the AI this long (nanobot #2837 asks for 12 h)
            "debounce_seconds": 20,  # a burst of customer messages becomes one turn (Evolution's debounceTime)
            "cooldown_seconds": 30,  # at most one automated send per chat this often
            "rate_per_minute": 8,  # automated sends per minute over all chats (Loopwave's anti-ban cap)
        },
    ),
    # Rules, no AI. Its limits (drop threshold, weeks compared, check time) are settings (Settings › Finance, one
    # place): a config key here would be a second threshold that nothing reads.
    "finance": Defaults(enabled=True, mode="autopilot", config={}),
    "retention": Defaults(enabled=False, mode="draft", config={"follow_up_days": 3}),
    "health": Defaults(enabled=True, mode="autopilot", config={}),  # every 5 minutes and on errors (health.INTERVAL)
}


@dataclass(frozen=True)
class Current:
    """The settings an agent runs with now: ``version`` 0 means its defaults (never saved)."""

    agent: AgentKind
    version: int
    enabled: bool
    mode: AgentMode
    config: dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """What the orchestrator enforces on agents that answer customers (read from the acquisition config)."""

    pause: timedelta = timedelta(hours=12)
    debounce: timedelta = timedelta(seconds=20)
    cooldown: timedelta = timedelta(seconds=30)
    rate_per_minute: int = 8


def is_agent(name: str) -> bool:
    return name in AGENTS


def _kind(agent: str) -> AgentKind:
    if agent not in AGENTS:
        raise InvalidInput(f"There is no agent called '{agent}'.")
    return agent


def _latest(store: Store, agent: AgentKind) -> AgentConfig | None:
    found = store.agent_configs.find_all({"agent": agent}, order_by="version", descending=True, limit=8)
    if not found:
        return None
    top = found[0].version
    return max((c for c in found if c.version == top), key=lambda c: (c.updated_at, c.id))


def current(store: Store, agent: str) -> Current:
    """The version in force (the highest), its saved config laid over the defaults (a key added by a later Parley
    keeps its default in configs saved before it)."""
    kind = _kind(agent)
    defaults = DEFAULTS[kind]
    latest = _latest(store, kind)
    if latest is None:
        return Current(kind, 0, defaults.enabled, defaults.mode, dict(defaults.config))
    return Current(kind, latest.version, latest.enabled, latest.mode, defaults.config | latest.config)


def history(store: Store, agent: str) -> list[AgentConfig]:
    """Every saved version, newest first."""
    return store.agent_configs.find_all({"agent": _kind(agent)}, order_by="version", descending=True)


def save(
    store: Store,
    agent: str,
    *,
    enabled: bool | None = None,
    mode: AgentMode | None = None,
    config: dict[str, Any] | None = None,
    note: str = "",
    author_user_id: str | None = None,
) -> AgentConfig:
    """Save a new version: what is not given is kept from the version in force; ``config`` keys are merged in."""
    kind = _kind(agent)
    if mode is not None and mode not in MODES:
        raise InvalidInput(f"An agent's mode is one of {', '.join(MODES)}.")
    with store.db.transaction():
        now = current(store, kind)
        merged = now.config | (config or {})
        _check_limits(kind, merged)
        return store.agent_configs.create(
            agent=kind,
            enabled=now.enabled if enabled is None else enabled,
            mode=now.mode if mode is None else mode,
            config=merged,
            version=now.version + 1,
            note=note.strip(),
            author_user_id=author_user_id if author_user_id is not None else store.local_user_id,
        )


def roll_back(store: Store, agent: str, version: int, *, author_user_id: str | None = None) -> AgentConfig:
    """A new version with the settings of ``version`` (0: the defaults)."""
    kind = _kind(agent)
    with store.db.transaction():
        if version == 0:
            d = DEFAULTS[kind]
            enabled, mode, config = d.enabled, d.mode, dict(d.config)
        else:
            old = [c for c in history(store, kind) if c.version == version]
            if not old:
                raise NotFound(f"The {kind} agent has no version {version}.")
            enabled, mode, config = old[0].enabled, old[0].mode, old[0].config
        top = current(store, kind).version
        return store.agent_configs.create(
            agent=kind,
            enabled=enabled,
            mode=mode,
            config=config,
            version=top + 1,
            note=f"Rolled back to version {version}",
            author_user_id=author_user_id if author_user_id is not None else store.local_user_id,
        )


def _positive(config: dict[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def limits(store: Store) -> Limits:
    """The conversation limits in force (the acquisition agent's current config)."""
    return limits_of(current(store, "acquisition").config)


def limits_of(config: dict[str, Any]) -> Limits:
    base = DEFAULTS["acquisition"].config
    return Limits(
        pause=timedelta(hours=_positive(config, "pause_hours", base["pause_hours"])),
        debounce=timedelta(seconds=_positive(config, "debounce_seconds", base["debounce_seconds"])),
        cooldown=timedelta(seconds=_positive(config, "cooldown_seconds", base["cooldown_seconds"])),
        rate_per_minute=_positive(config, "rate_per_minute", base["rate_per_minute"]),
    )


def _check_limits(kind: AgentKind, config: dict[str, Any]) -> None:
    if kind != "acquisition":
        return
    for key, top in (("pause_hours", 24 * 30), ("debounce_seconds", 600), ("cooldown_seconds", 86400)):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise InvalidInput(f"{key.replace('_', ' ').capitalize()}: a whole number from 0 to {top}.")
    rate = config.get("rate_per_minute")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 60:
        raise InvalidInput("Rate per minute: a whole number from 1 to 60.")
