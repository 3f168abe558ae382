"""Shared set-up of the campaign tests: a real SQLCipher workspace with customers, and a rig that runs the campaign
through the real JobRunner with an injected clock while standing in for WhatsApp (it marks queued campaign messages
sent, as the sender would after its pacing budget lets them go)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.agents.job_kinds import JobKinds
from app.agents.jobs_runner import JobRunner
from app.campaigns import runner as campaign_runner
from app.campaigns.lifecycle import AGENT
from app.core.loops import LoopThread
from app.core.models import Chat, Contact, Message
from app.store.store import Store

ORG = "0190a000-0000-7000-8000-0000000000cc"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLL = timedelta(seconds=15)


def customer(store: Store, n: int, **fields: object) -> tuple[Contact, Chat]:
    phone = f"+55119{n:08d}"
    values: dict[str, object] = {"name": f"Cliente {n} Silva", "phone": phone, "wa_id": f"55119{n:08d}@c.us"}
    values.update(fields)
    contact = store.contacts.create(**values)
    chat = store.chats.create(contact_id=contact.id, wa_chat_id=f"55119{n:08d}@c.us", title=contact.name)
    return contact, chat


def write_in(store: Store, chat: Chat, body: str, at: datetime) -> Message:
    return store.messages.create(chat_id=chat.id, direction="in", body=body, status="received", sent_at=at)


def campaign_messages(store: Store) -> list[Message]:
    return [m for m in store.messages.find_all({"direction": "out"}) if m.sent_by_agent == AGENT]


class Rig:
    def __init__(self, store: Store, now: datetime = T0) -> None:
        self.store = store
        self.now = now
        self.kinds = JobKinds()
        campaign_runner.build(store, self.kinds, poll=POLL)
        self.loop = LoopThread("parley-test-campaigns")
        self.jobs = JobRunner(store.jobs, self.kinds, loop=self.loop, clock=lambda: self.now)

    def tick(self) -> list[str]:
        return self.loop.run(self.jobs.run_due(), 30)

    def whatsapp(self, status: str = "sent") -> list[Message]:
        """What the sender does with the queued campaign messages: sends them now."""
        sent = []
        for message in campaign_messages(self.store):
            if message.status == "queued":
                sent.append(self.store.messages.update(message.id, status=status, sent_at=self.now))
        return sent

    def rounds(self, n: int, *, send: bool = True) -> None:
        for _ in range(n):
            self.tick()
            if send:
                self.whatsapp()
            self.now += POLL

    def close(self) -> None:
        self.jobs.close()
        self.loop.close()
