"""Halting every automated sender on the WhatsApp number at once, and resuming.

Campaigns, retention follow-ups, autopilot answers and away messages all send on one number; when WhatsApp shows a
rate-limit or ban notice (the page profile knows them; the driver watches for them), or a person presses "Stop all
automated sending", all of them stop at once — not one campaign, not after the current batch. The halt is a fact in
the store (``workspace_meta`` ``automation.halted``: kept on this computer, the one that sends for the number), so
it survives a restart: a ban warning must not be forgotten by quitting. A person resumes it explicitly.

A person's own messages are never halted: the sender sends them (WhatsApp's notice is about bulk sending, and a
customer waiting for an answer from a person must get it). ``halted`` is what every automated path reads before it
queues or sends; ``AutomationHalted`` is the alert (tray notification, banner).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from app.core.events import AutomationHalted, AutomationResumed
from app.core.ids import from_ms, to_ms, utc_now
from app.store.ops import Done, done, op_transaction
from app.store.store import Store

KEY = "automation.halted"
RATE_LIMITED = "rate_limited"  # WhatsApp: "you're sending too many messages" and the like
BANNED = "banned"  # WhatsApp: the account is banned or restricted
MANUAL = "manual"  # a person stopped it


@dataclass(frozen=True)
class Halt:
    code: str
    sentence: str
    at: datetime


def halted(store: Store) -> Halt | None:
    """The halt in force, or None when automated sending may go on."""
    raw = store.meta(KEY)
    if raw is None:
        return None
    value = json.loads(raw)
    return Halt(str(value["code"]), str(value["sentence"]), from_ms(int(value["at"])))


def halt(store: Store, code: str, sentence: str, *, now: datetime | None = None) -> Done[Halt]:
    """Stop every automated sender now (idempotent: a halt already in force is kept, with its first reason)."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        result = halted(store)
        if result is None:
            store.set_meta(KEY, json.dumps({"code": code, "sentence": sentence, "at": to_ms(at)}))
            store.emit(AutomationHalted(org_id=store.org_id, code=code, sentence=sentence))
            result = Halt(code, sentence, at)
    return done(tx, result)


def resume(store: Store) -> Done[bool]:
    """A person resumes automated sending; False when nothing was halted."""
    with op_transaction(store) as tx:
        was = halted(store) is not None
        if was:
            with store.db.transaction() as conn:
                conn.execute("DELETE FROM workspace_meta WHERE key = ?", (KEY,))
            store.emit(AutomationResumed(org_id=store.org_id))
    return done(tx, was)
