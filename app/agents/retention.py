"""The retention agent: a follow-up message N days after a sale, unless the customer wrote, opted out, or a person
holds the chat.

**Scheduling** (an orchestrator agent on ``SaleCompleted``, never replying in a chat itself): the follow-up is a
durable job of kind ``retention_followup`` under the key ``followup:sale:<id>:d<N>`` (``app.store.jobs``: the same
sale seen twice, replayed, or run again after a crash is scheduled once). It is due N days after the sale (the config's
``days``, default 3), at a sensible local time: inside the business hours (``app.agents.hours``; when closed then, at
the next opening), or, with no schedule, between 10:00 and 19:00 in the business's zone (before 10:00 → 10:00 that
day; from 19:00 → 10:00 the next day). The scheduling run is the orchestrator's execution row (``scheduled``).

**When due** (the job's handler; only on the device that holds the WhatsApp session — the kind ``needs_whatsapp``,
so the runner leaves it due elsewhere — and the guarded send checks again), it is skipped with a reason code, in this
order: ``agent_off`` (switched off, or mode ``off``), ``sale_deleted`` (the sale was deleted since — Parley has no
refund state: a refund is recorded by deleting the sale), ``no_contact``, ``opted_out``, ``no_chat``,
``customer_wrote`` (any message from the customer in their chats after the sale: the conversation is alive, a canned
follow-up would talk past it), ``owned_by_person`` (a person took the chat over, or their own message is within the
pause: ``greetings.person_owns``, the same rule the welcome uses, so it holds with the AI switched off),
``already_sent`` (a retention message in the chat since the sale: a run cut off after its send, taken up again),
``outside_hours`` (the schedule says closed at run time: a follow-up found late at night is dropped, not sent).
Otherwise the text is the config's ``template`` filled with ``{first_name}``, ``{name}``, ``{business_name}`` and
``{product}`` (``app.agents.templates``: a missing value becomes a neutral word), or an AI draft when ``ai_draft`` is
on (below). In mode ``autopilot`` it goes through the guarded automated send (``sent_by_agent='retention'``; the
skip rules run again *inside* the write transaction, so a customer message or a takeover committed meanwhile drops
it); in mode ``draft`` (suggest) nothing is sent and the text is the execution's draft (``detail["draft"]``, where the
orchestrator keeps every agent's drafts). A dropped send keeps its words as the draft too.

**Opt-out is the campaigns' one rule** (``app.campaigns.optout``): a contact is opted out when its consent says so
(schema 15) or it carries the managed label "opted out" (``OPT_OUT_LABEL``: visible on the contact and in the inbox
filter, global to the contact, synced, removable by a person). A message from the customer that *is* an opt-out word
of some language (``STOP``, ``Stop.``, ``unsubscribe``, ``PARAR``; not "stop sending me the wrong size", after Spoke
#1016) is an opt-out too: the follow-up is skipped and the contact is opted out of everything
(``app.store.ops.campaigns.opt_out``: consent, source ``keyword``, time, and the label).

**AI drafts** (``ai_draft``): through the app's ``AiService`` (its provider for the mode in Settings › AI: in BYOK the
call goes straight to the user's provider, never through the sync server; the interaction log keeps metadata only).
The prompt carries the customer's first name, the product and the business's name — no phone, no history. An answer
that is empty, too long, a hand-off, or names a price that is not a product's falls back to the template
(``detail["ai"]`` says why), and so does any AI error: a follow-up never depends on a model being up.

**Executions.** Every handler run writes one ``agent_executions`` row (agent ``retention``, trigger
``retention_followup``, the config version, the chat, ``sent`` / ``drafted`` or the skip reason, model and tokens when
AI drafted) before the job's outcome; the job's result is the same code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.agents import configs, greetings
from app.agents.context import DRAFTED, SENT, AgentContext, Outcome
from app.agents.hours import BusinessHours, wall_to_instant
from app.agents.job_kinds import JobKind, JobKinds, JobRun, JobSkipped
from app.agents.templates import FALLBACKS, TEMPLATE_MAX, Recipient, fill, used_variables, variables_for
from app.campaigns import optout
from app.core.errors import InvalidInput
from app.core.events import Event, SaleCompleted
from app.core.ids import new_id, to_ms, utc_now
from app.core.models import Chat, Contact, Sale
from app.store.ops import campaigns as campaign_ops
from app.store.ops.agent_send import AutomatedSend, send_automated
from app.store.sales import items_of_sales
from app.store.store import Store

if TYPE_CHECKING:
    from app.ai.service import AiService

log = logging.getLogger(__name__)

AGENT = "retention"
FOLLOWUP_KIND = "retention_followup"
DEFAULT_DAYS = 3
MAX_DAYS = 365
FOLLOWUP_LATENESS = timedelta(days=1)  # later than this the moment has passed (the next purchase will get its own)
DAY_START, DAY_END = 10 * 60, 19 * 60  # minutes: the sensible hours when the business has no schedule
OPT_OUT_LABEL = optout.OPT_OUT_LABEL
STOP_WORDS = optout.default_words()
DEFAULT_TEMPLATE = (
    "Hi {first_name}, how are you getting on with your {product}? If anything isn't right, just reply to this message."
)
VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "name": "the customer's full name",
    "business_name": "your business's name",
    "product": "what they bought (the product, or 'purchase')",
}
PRODUCT_FALLBACK = "purchase"

# what a run did (the execution's action / skip reason; the job's result)
SCHEDULED = "scheduled"
AGENT_OFF = "agent_off"
SALE_DELETED = "sale_deleted"
NO_CONTACT = "no_contact"
OPTED_OUT = "opted_out"
NO_CHAT = "no_chat"
CUSTOMER_WROTE = "customer_wrote"
OWNED_BY_PERSON = "owned_by_person"
ALREADY_SENT = "already_sent"
OUTSIDE_HOURS = "outside_hours"
FAILED = "It stopped with an unexpected error; the log has the details."


def followup_key(sale_id: str, days: int) -> str:
    return f"followup:sale:{sale_id}:d{days}"


def is_stop_keyword(body: str, words: Iterable[str] = STOP_WORDS) -> bool:
    """The message *is* a stop keyword ("STOP", "Stop.", " unsubscribe! "), not a sentence that contains one (the
    campaigns' rule, ``app.campaigns.optout``)."""
    return optout.is_opt_out_word(body, words)


def check_followup_template(template: str) -> str:
    """``template`` trimmed, or InvalidInput naming an unknown variable (what the Agents page calls on save)."""
    text = template.strip()
    if not text:
        raise InvalidInput("The follow-up message is empty; write the message first.")
    if len(text) > TEMPLATE_MAX:
        raise InvalidInput(f"The follow-up message is {len(text)} characters long; keep it under {TEMPLATE_MAX}.")
    unknown = [name for name in used_variables(text) if name not in VARIABLES]
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in VARIABLES)
        raise InvalidInput(
            f"The follow-up message uses {', '.join(f'{{{n}}}' for n in unknown)}, which it cannot fill. "
            f"The variables you can use are {known}.",
            hint="Braces meant as text are written twice: {{ and }}.",
        )
    return text


class RetentionConfig(BaseModel):
    """The agent's settings inside its ``agent_configs`` version (``enabled`` and ``mode`` are the row's own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    template: str = DEFAULT_TEMPLATE
    ai_draft: bool = False
    stop_words: list[str] = Field(default_factory=lambda: sorted(STOP_WORDS))


def parse_config(raw: dict[str, Any]) -> RetentionConfig:
    """The stored config (``follow_up_days``, the declared default's name, is read as ``days``); anything unreadable
    is the defaults."""
    data = dict(raw)
    if "days" not in data and "follow_up_days" in data:
        data["days"] = data["follow_up_days"]
    try:
        return RetentionConfig.model_validate(data)
    except ValidationError:
        return RetentionConfig()


@dataclass(frozen=True)
class Settings:
    enabled: bool
    mode: str
    version: int
    config: RetentionConfig

    @property
    def on(self) -> bool:
        return self.enabled and self.mode != "off"


def load(store: Store) -> Settings:
    now = configs.current(store, AGENT)
    return Settings(now.enabled, now.mode, now.version, parse_config(now.config))


class FollowUpPayload(BaseModel):
    sale_id: str
    days: int


# ---- when ---------------------------------------------------------------------------------------------------------
def business_hours(store: Store) -> BusinessHours:
    org = store.orgs.find(store.org_id)
    if org is None:
        return BusinessHours.from_org({}, "UTC")
    return BusinessHours.from_org(org.business_hours, org.timezone)


def follow_up_at(sold_at: datetime, days: int, hours: BusinessHours) -> datetime:
    """N days after the sale, moved into the business hours (or the day's sensible hours without a schedule)."""
    at = sold_at + timedelta(days=days)
    if not hours.schedule.always_open:
        if hours.is_open(at):
            return at
        return hours.next_opening(at) or at
    local = hours.local(at)
    minute = local.hour * 60 + local.minute
    if minute < DAY_START:
        return wall_to_instant(local.date(), DAY_START, hours.tz)
    if minute >= DAY_END:
        return wall_to_instant(local.date() + timedelta(days=1), DAY_START, hours.tz)
    return at


# ---- the facts a follow-up is decided on ----------------------------------------------------------------------------
def _chats(store: Store, sale: Sale, contact_id: str) -> list[str]:
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT id FROM chats WHERE org_id = ? AND contact_id = ? AND kind = 'direct' AND deleted_at IS NULL "
            "ORDER BY updated_at DESC",
            (store.org_id, contact_id),
        ).fetchall()
    ids = [str(r[0]) for r in rows]
    if sale.chat_id and store.chats.find(sale.chat_id) is not None:
        ids = [sale.chat_id, *(i for i in ids if i != sale.chat_id)]
    return ids


def _wrote_after(store: Store, chats: list[str], since: datetime) -> bool:
    if not chats:
        return False
    marks = ", ".join("?" * len(chats))
    with store.db.read() as conn:
        row = conn.execute(
            f"SELECT 1 FROM messages WHERE chat_id IN ({marks}) AND direction = 'in' AND deleted_at IS NULL "
            "AND sent_at > ? LIMIT 1",
            (*chats, to_ms(since)),
        ).fetchone()
    return row is not None


def _said_stop(store: Store, chats: list[str], words: Iterable[str]) -> bool:
    """A message from the customer that is only a stop keyword (short ones are read; the keyword rule decides);
    the workspace's opt-out words count as well as the config's."""
    if not chats:
        return False
    words = {*words, *optout.words(store)}
    marks = ", ".join("?" * len(chats))
    with store.db.read() as conn:
        rows = conn.execute(
            f"SELECT body FROM messages WHERE chat_id IN ({marks}) AND direction = 'in' AND deleted_at IS NULL "
            "AND length(body) <= 40",
            chats,
        ).fetchall()
    wanted = list(words)
    return any(is_stop_keyword(str(r[0] or ""), wanted) for r in rows)


def has_opt_out_label(contact: Contact) -> bool:
    """Opted out (the campaigns' rule: its consent, or the "opted out" label)."""
    return optout.is_opted_out(contact)


def mark_opted_out(store: Store, contact_id: str) -> None:
    """Opt the contact out by keyword (consent, source, time and the label; nothing when it is opted out already)."""
    campaign_ops.opt_out(store, contact_id, "keyword")


def _sent_since(store: Store, chat_id: str, since: datetime) -> bool:
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT 1 FROM messages WHERE chat_id = ? AND direction = 'out' AND sent_by_agent = ? "
            "AND deleted_at IS NULL AND sent_at >= ? LIMIT 1",
            (chat_id, AGENT, to_ms(since)),
        ).fetchone()
    return row is not None


def product_of(store: Store, sale_id: str) -> str:
    """What the customer bought, as a message can say it: one name, two joined by "and", else "order"."""
    names: list[str] = []
    for item, product_name in items_of_sales(store, [sale_id]).get(sale_id, []):
        name = " ".join((product_name or item.description or "").split())
        if name and name not in names:
            names.append(name)
    if not names:
        return PRODUCT_FALLBACK
    if len(names) == 1:
        return names[0]
    return f"{names[0]} and {names[1]}" if len(names) == 2 else "order"


@dataclass(frozen=True)
class FollowUp:
    """A follow-up that may go: to whom, where, and the variables of its text."""

    sale: Sale
    contact: Contact
    chat: Chat
    variables: dict[str, str]


@dataclass
class Blocked:
    reason: str
    chat_id: str | None = None
    opted_out_by_keyword: bool = False


def check(store: Store, sale_id: str, config: RetentionConfig, now: datetime) -> FollowUp | Blocked:
    """Whether the follow-up of ``sale_id`` may go at ``now``, and to whom (reads only; safe inside the send's
    write transaction, where it is called again)."""
    sale = store.sales.find(sale_id)
    if sale is None:
        return Blocked(SALE_DELETED)
    contact = store.contacts.find(sale.contact_id) if sale.contact_id else None
    if contact is None:
        return Blocked(NO_CONTACT)
    chats = _chats(store, sale, contact.id)
    first = chats[0] if chats else None
    if has_opt_out_label(contact):
        return Blocked(OPTED_OUT, first)
    if _said_stop(store, chats, config.stop_words):
        return Blocked(OPTED_OUT, first, opted_out_by_keyword=True)
    if first is None:
        return Blocked(NO_CHAT)
    if _wrote_after(store, chats, sale.sold_at):
        return Blocked(CUSTOMER_WROTE, first)
    if greetings.person_owns(store, first, now):
        return Blocked(OWNED_BY_PERSON, first)
    if _sent_since(store, first, sale.sold_at):
        return Blocked(ALREADY_SENT, first)
    org = store.orgs.find(store.org_id)
    recipient = Recipient(contact.name)
    values = variables_for(recipient, org.name if org is not None else "", "")
    values["product"] = product_of(store, sale.id)
    return FollowUp(sale, contact, store.chats.get(first), values)


def fill_template(template: str, variables: dict[str, str]) -> str:
    """The text to send: every variable filled, a missing value as its neutral word (never a ``{placeholder}``)."""
    fallbacks = FALLBACKS | {"product": PRODUCT_FALLBACK}
    return fill(template, {k: v or fallbacks.get(k, "") for k, v in variables.items()})


# ---- the agent ----------------------------------------------------------------------------------------------------
@dataclass
class _Run:
    """What one handler run found and did (becomes its execution row)."""

    execution_id: str = field(default_factory=new_id)
    action: str | None = None
    skip_reason: str | None = None
    chat_id: str | None = None
    model: str | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class RetentionAgent:
    """An ``app.agents.context.Agent`` (schedules on ``SaleCompleted``) with the follow-up job's handler; ``register``
    puts its job kind on the runner's registry."""

    name = AGENT
    wants = frozenset({SaleCompleted.name})
    replies = False  # it starts a message later, by job; the job applies the ownership rule itself

    def __init__(
        self,
        store: Store,
        kinds: JobKinds,
        *,
        ai: AiService | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.ai = ai
        self.clock = clock

    def register(self) -> None:
        self.kinds.register(
            JobKind(
                FOLLOWUP_KIND, FollowUpPayload, self._run_followup, max_lateness=FOLLOWUP_LATENESS, needs_whatsapp=True
            )
        )

    # ---- scheduling (the orchestrator's run) -----------------------------------------------------------------
    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        if not isinstance(event, SaleCompleted):
            return Outcome.skip("not_wanted")
        if not event.contact_id:
            return Outcome.skip(NO_CONTACT)
        return await ctx.call(self.schedule, event.sale_id, dry_run=ctx.dry_run)

    def schedule(self, sale_id: str, *, dry_run: bool = False) -> Outcome:
        """Schedule the follow-up of ``sale_id`` (idempotent on its key); a dry run only says when it would be."""
        settings = load(self.store)
        sale = self.store.sales.find(sale_id)
        if sale is None:
            return Outcome.skip(SALE_DELETED)
        if not sale.contact_id:
            return Outcome.skip(NO_CONTACT)
        days = settings.config.days
        run_at = follow_up_at(sale.sold_at, days, business_hours(self.store))
        key = followup_key(sale.id, days)
        detail: dict[str, Any] = {"sale_id": sale.id, "key": key, "run_at": run_at.isoformat(), "days": days}
        if not dry_run:
            job = self.kinds.schedule(
                self.store.jobs, FOLLOWUP_KIND, FollowUpPayload(sale_id=sale.id, days=days), run_at, key
            )
            detail["job_id"] = job.id
        return Outcome.acted(SCHEDULED, chat_id=sale.chat_id, detail=detail)

    # ---- the follow-up (the job's handler) -------------------------------------------------------------------
    async def _run_followup(self, payload: FollowUpPayload, run: JobRun) -> str:
        started, t0 = self.clock(), time.perf_counter()
        record = _Run(detail={"sale_id": payload.sale_id, "job_id": run.job.id, "key": run.job.dedupe_key})
        settings = await asyncio.to_thread(load, self.store)
        error: str | None = None
        try:
            await self._follow_up(payload, run, settings, record)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention: the follow-up of job %s failed", run.job.id)
            error = FAILED
        await asyncio.to_thread(self._record, record, settings, started, t0, error)
        if error is not None:
            raise RuntimeError("the follow-up failed")  # the runner retries it (its sentence is generic)
        if record.skip_reason is not None:
            raise JobSkipped(record.skip_reason)
        return record.action or ""

    async def _follow_up(self, payload: FollowUpPayload, run: JobRun, settings: Settings, record: _Run) -> None:
        if not settings.on:
            record.skip_reason = AGENT_OFF
            return
        config = settings.config
        found = await asyncio.to_thread(check, self.store, payload.sale_id, config, run.now)
        if isinstance(found, Blocked):
            record.skip_reason, record.chat_id = found.reason, found.chat_id
            if found.opted_out_by_keyword:
                contact_id = (await asyncio.to_thread(self.store.sales.get, payload.sale_id)).contact_id
                if contact_id:
                    await asyncio.to_thread(mark_opted_out, self.store, contact_id)
                record.detail["opted_out_by"] = "keyword"
            return
        record.chat_id = found.chat.id
        hours = await asyncio.to_thread(business_hours, self.store)
        if not hours.is_open(run.now):
            record.skip_reason = OUTSIDE_HOURS
            return
        text = await self._text(found, config, record)
        if settings.mode != "autopilot":
            record.action = DRAFTED
            record.detail["draft"] = [text]
            return

        def recheck() -> str | None:  # inside the send's write transaction
            again = check(self.store, payload.sale_id, config, self.clock())
            return again.reason if isinstance(again, Blocked) else None

        request = AutomatedSend(found.chat.id, (text,), AGENT, record.execution_id, None, 0)
        result = (await asyncio.to_thread(send_automated, self.store, request, recheck=recheck)).value
        if result.queued:
            record.action = SENT
            record.detail["queued"] = [m.id for m in result.queued]
        else:
            record.skip_reason = result.reason or "dropped"
            record.detail["draft"] = [text]

    async def _text(self, found: FollowUp, config: RetentionConfig, record: _Run) -> str:
        template = fill_template(config.template, found.variables) or fill_template(DEFAULT_TEMPLATE, found.variables)
        if not config.ai_draft:
            return template
        if self.ai is None:
            record.detail["ai"] = "no AI service: the template was used"
            return template
        from app.ai.types import AIError

        try:
            drafted = await self._ai_text(found, record)
        except AIError as exc:
            record.detail["ai"] = f"{exc.kind}: the template was used"
            return template
        if drafted is None:
            return template
        record.detail["ai"] = "drafted"
        return drafted

    async def _ai_text(self, found: FollowUp, record: _Run) -> str | None:
        from app.ai.guardrails import PriceSources, handoff_reason
        from app.ai.interactions import CallMode
        from app.ai.types import CallOptions, ChatMessage, Done

        assert self.ai is not None
        ai = self.ai
        config = ai.config()
        provider = ai.provider()  # AIError when the AI is off or cannot be reached
        values = found.variables
        messages = [
            ChatMessage(
                role="system",
                content=(
                    "You write one short, warm WhatsApp message from a small business to a customer a few days "
                    "after they bought something: ask how it is going and invite them to reply if anything is "
                    "wrong. No prices, no discounts, no links, no placeholders; at most 300 characters; plain text."
                ),
            ),
            ChatMessage(
                role="user",
                content=(
                    f"Business: {values['business_name']}\nCustomer's first name: {values['first_name']}\n"
                    f"What they bought: {values['product']}\nWrite the message."
                ),
            ),
        ]
        options = CallOptions(temperature=0.6, max_tokens=200)
        mode: CallMode = "cloud" if config.mode == "cloud" else "byok"
        done: Done | None = None
        async for event in ai.log.stream(
            provider, messages, options, purpose="suggest", mode=mode, chat_id=found.chat.id
        ):
            if isinstance(event, Done):
                done = event
        if done is None:
            record.detail["ai"] = "no answer: the template was used"
            return None
        usage = done.usage
        record.model, record.tokens = usage.model, usage.prompt_tokens + usage.completion_tokens
        record.cost_usd = usage.cost_usd
        text = done.text.strip()
        products = await asyncio.to_thread(self.store.products.find_all, {"active": True})
        why = (
            "empty"
            if not text
            else "too long"
            if len(text) > TEMPLATE_MAX
            else "a hand-off"
            if handoff_reason(text) is not None
            else "a price not in your products"
            if PriceSources.of(products).check(text)
            else "a placeholder"
            if "{" in text
            else None
        )
        if why is not None:
            record.detail["ai"] = f"the answer was {why}: the template was used"
            return None
        return text

    def _record(self, record: _Run, settings: Settings, started: datetime, t0: float, error: str | None) -> None:
        status = "failed" if error else "skipped" if record.skip_reason else "succeeded"
        row = self.store.agent_executions.new(
            id=record.execution_id,
            agent=AGENT,
            trigger=FOLLOWUP_KIND,
            status=status,
            started_at=started,
            finished_at=self.clock(),
            detail=record.detail,
            error=error,
            config_version=settings.version,
            chat_id=record.chat_id,
            action=record.action,
            skip_reason=record.skip_reason,
            model=record.model,
            tokens=record.tokens,
            cost_usd=record.cost_usd,
            duration_ms=round((time.perf_counter() - t0) * 1000),
        )
        self.store.agent_executions.add(row)


def build(store: Store, kinds: JobKinds, **kw: Any) -> RetentionAgent:
    """The agent with its job kind registered (what the composition root calls)."""
    agent = RetentionAgent(store, kinds, **kw)
    agent.register()
    return agent
