"""The opt-out listener: an orchestrator agent on ``MessageReceived`` that opts a contact out of every campaign and
automated follow-up when their message *is* an opt-out word (``app.campaigns.optout``), records where it came from
(``keyword``) and when, and queues the optional confirmation reply (``campaigns.opt_out_confirmation``; none while
automated sending is halted or on a device that does not send for the number). The campaign runner's step checks the
replies to its own messages as well, and the guarded send checks again before each message, so an opt-out received
while the app was closed is honoured however it is first seen.
"""

from __future__ import annotations

from app.agents.context import AgentContext, Outcome
from app.campaigns import optout
from app.core.events import Event, MessageReceived
from app.store.ops import campaigns as ops
from app.store.store import Store

AGENT = "opt_out"
OPTED_OUT = "opted_out"
NOT_A_KEYWORD = "not_a_keyword"


class OptOutAgent:
    name = AGENT
    wants = frozenset({MessageReceived.name})
    replies = False  # it does not answer a conversation; the confirmation is a fixed text, sent once

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        if not isinstance(event, MessageReceived) or not event.contact_id:
            return Outcome.skip("not_wanted")
        if ctx.dry_run:
            return Outcome.skip("dry_run")
        return await ctx.call(handle, ctx.store, event.contact_id, event.chat_id, event.message_id)


def handle(store: Store, contact_id: str, chat_id: str, message_id: str) -> Outcome:
    message = store.messages.find(message_id)
    if message is None or message.direction != "in" or not optout.is_opt_out_word(message.body, optout.words(store)):
        return Outcome.skip(NOT_A_KEYWORD, chat_id=chat_id)
    changed = ops.opt_out(store, contact_id, "keyword", now=message.sent_at).value
    confirmed = ops.confirm_opt_out(store, contact_id, chat_id).value if changed else None
    detail = {"confirmation": confirmed.id if confirmed is not None else None}
    return Outcome.acted(OPTED_OUT, chat_id=chat_id, detail=detail)
