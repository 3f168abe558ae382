"""The entities of a workspace as pydantic models.

Every synced entity carries ``org_id`` + a UUIDv7 ``id`` (together its key, so the server can shard by org),
``created_at``, ``updated_at`` and ``deleted_at`` (a tombstone: deletes travel through sync like any change).
Money is kept in integer minor units (cents) with an ISO currency code, never floats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["owner", "admin", "staff"]
Direction = Literal["in", "out"]
MessageStatus = Literal["received", "queued", "typing", "sent", "delivered", "read", "failed"]
MessageKind = Literal["text", "image", "video", "audio", "voice", "document", "sticker", "location", "contact"]
ChatKind = Literal["direct", "group"]
# Where a conversation stands (Chatwoot's states): waiting on us, waiting on someone else, or done.
ChatStatus = Literal["open", "pending", "resolved"]
Lifecycle = Literal["new", "lead", "qualified", "customer", "churned"]
StageKind = Literal["open", "won", "lost"]
DealStatus = Literal["open", "won", "lost"]
CampaignStatus = Literal["draft", "prepared", "running", "paused", "completed", "cancelled"]
RecipientStatus = Literal["queued", "sending", "sent", "delivered", "read", "replied", "failed", "skipped"]
# A contact's consent to campaigns (schema 15): unknown until they opt in (a form, a person) or out (a keyword).
Consent = Literal["unknown", "opted_in", "opted_out"]
AgentKind = Literal["acquisition", "finance", "retention", "health"]
AgentMode = Literal["off", "draft", "autopilot"]
ExecutionStatus = Literal["running", "succeeded", "failed", "skipped"]
AiOutcome = Literal["pending", "accepted", "edited", "discarded", "failed", "handoff"]
FieldType = Literal["text", "number", "date", "bool", "choice"]


class Record(BaseModel):
    """Base of every synced row."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class Org(Record):
    name: str
    default_currency: str = "USD"
    timezone: str = "UTC"
    # the weekly schedule and holidays, in ``timezone`` (app/agents/hours.py reads it); {} = always open
    business_hours: dict[str, Any] = Field(default_factory=dict)


class User(Record):
    name: str
    email: str | None = None
    role: Role = "staff"


class Company(Record):
    name: str
    domain: str | None = None
    phone: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class Contact(Record):
    name: str = ""
    phone: str | None = None
    wa_id: str | None = None
    lid: str | None = None
    email: str | None = None
    company_id: str | None = None
    owner_user_id: str | None = None
    language: str | None = None
    lifecycle: Lifecycle = "new"
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    lead_score: int = 0
    lifetime_value_minor: int = 0
    currency: str = "USD"
    last_contacted_at: datetime | None = None
    # consent to campaigns, where it came from (keyword, person, import, form) and when (schema 15)
    consent: Consent = "unknown"
    consent_source: str | None = None
    consent_at: datetime | None = None


class Tag(Record):
    name: str
    color: str = "#7f8c8d"


class CustomFieldDef(Record):
    entity: Literal["contact", "company", "deal"]
    key: str
    label: str
    field_type: FieldType = "text"
    options: list[str] = Field(default_factory=list)


class Chat(Record):
    contact_id: str | None = None
    wa_chat_id: str | None = None
    kind: ChatKind = "direct"
    title: str = ""
    assigned_user_id: str | None = None
    last_read_at: datetime | None = None
    archived: bool = False
    pinned: bool = False
    muted_until: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    status: ChatStatus = "open"
    snoozed_until: datetime | None = None
    marked_unread: bool = False
    # Who owns the conversation (schema 13): the chat's own AI mode (None: the acquisition agent's), and when it was
    # last handed back to the AI. A person's takeover is derived from the messages (a human outgoing message).
    ai_mode: AgentMode | None = None
    ai_handed_back_at: datetime | None = None


class Message(Record):
    chat_id: str
    direction: Direction
    body: str = ""
    kind: MessageKind = "text"
    status: MessageStatus = "received"
    status_reason: str | None = None
    wa_id: str | None = None
    sender_wa_id: str | None = None
    author_user_id: str | None = None
    quoted_message_id: str | None = None
    quoted_wa_id: str | None = None
    media: dict[str, Any] | None = None
    sent_at: datetime  # as WhatsApp shows it (to the minute for captured messages): for display, not for order
    # The message's place in its chat, as the WhatsApp page orders it (ascending; ties by id). None only before the
    # store places it: ``store.messages`` gives every new message one (see app/store/repos.py and intake).
    position: float | None = None
    # the agent that sent it and the run that decided to (schema 13); None: a person (Parley, phone, WhatsApp Web)
    sent_by_agent: str | None = None
    agent_execution_id: str | None = None


class Note(Record):
    body: str
    contact_id: str | None = None
    chat_id: str | None = None
    deal_id: str | None = None
    author_user_id: str | None = None


class Pipeline(Record):
    name: str
    position: int = 0
    is_default: bool = False


class PipelineStage(Record):
    pipeline_id: str
    name: str
    position: int = 0
    probability: int = 0
    stage_kind: StageKind = "open"


class Deal(Record):
    pipeline_id: str
    stage_id: str
    title: str
    contact_id: str | None = None
    company_id: str | None = None
    owner_user_id: str | None = None
    value_minor: int = 0
    currency: str = "USD"
    status: DealStatus = "open"
    position: float = 0.0
    expected_close_at: datetime | None = None
    closed_at: datetime | None = None


class Product(Record):
    name: str
    sku: str | None = None
    description: str = ""
    price_minor: int = 0
    currency: str = "USD"
    stock: int | None = None
    active: bool = True
    photo_blob_id: str | None = None  # its photo in the store's media (app/store/media.py), for product cards


class Sale(Record):
    contact_id: str | None = None
    deal_id: str | None = None
    chat_id: str | None = None
    amount_minor: int
    currency: str = "USD"
    sold_at: datetime
    recorded_by_user_id: str | None = None
    source: Literal["manual", "agent", "import"] = "manual"
    note: str = ""


class SaleItem(Record):
    sale_id: str
    product_id: str | None = None
    description: str = ""
    quantity: int = 1
    unit_price_minor: int = 0


class QuickReply(Record):
    shortcut: str
    title: str = ""
    body: str


class Campaign(Record):
    name: str
    status: CampaignStatus = "draft"
    audience: dict[str, Any] = Field(default_factory=dict)
    template: str = ""
    variants: list[str] = Field(default_factory=list)
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # schema 15 (app/campaigns): a stricter pace for this campaign only, its own variant rotation, the test send,
    # the audience rules (consent required, prefer contacts who wrote within N days) and the results' windows
    pace: dict[str, Any] = Field(default_factory=dict)
    next_variant: int = 0
    test_contact_id: str | None = None
    test_message_id: str | None = None
    prepared_at: datetime | None = None
    require_consent: bool = False
    recent_days: int | None = None
    reply_window_hours: int = 72
    sale_window_hours: int = 168


class CampaignRecipient(Record):
    """One contact of a prepared campaign: its frozen body, the message that carries it, and how it ended."""

    campaign_id: str
    contact_id: str
    variant: int = 0
    status: RecipientStatus = "queued"
    reason: str | None = None  # why failed or skipped (a code such as ``opted_out``, or the sender's sentence)
    body: str = ""
    chat_id: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    replied_at: datetime | None = None
    position: int = 0


class KnowledgeArticle(Record):
    title: str
    body: str = ""
    source_kind: Literal["text", "markdown", "pdf", "url"] = "text"
    source_name: str | None = None
    tags: list[str] = Field(default_factory=list)


class AgentConfig(Record):
    """One version of an agent's settings: every edit is a new row with the next ``version``."""

    agent: AgentKind
    enabled: bool = False
    mode: AgentMode = "draft"
    config: dict[str, Any] = Field(default_factory=dict)
    version: int = 1
    note: str = ""
    author_user_id: str | None = None


class AgentExecution(Record):
    agent: str  # an agent's name: the four configurable kinds and others (business hours' greetings, tests)
    trigger: str
    status: ExecutionStatus = "running"
    started_at: datetime
    finished_at: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    # why it did or did not act (schema 13): "why didn't it fire?" is answered from these
    config_version: int | None = None
    event_name: str | None = None
    event_seq: int | None = None
    chat_id: str | None = None
    action: str | None = None
    skip_reason: str | None = None
    model: str | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    causation_id: str | None = None
    depth: int = 0
    dry_run: bool = False


class AiInteraction(Record):
    """Metadata of one AI call. Prompt and reply text are not kept here (BYOK privacy)."""

    purpose: str
    mode: Literal["byok", "cloud"]
    provider: str
    model: str
    chat_id: str | None = None
    user_id: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micro_usd: int = 0
    latency_ms: int = 0
    ttft_ms: int = 0  # time to the first streamed token
    attempts: int = 1  # provider entries tried (fallbacks and retries)
    error: str | None = None
    outcome: AiOutcome = "pending"


class AuditEntry(Record):
    action: str
    actor_user_id: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


# ---- local-only rows (never synced) -------------------------------------------------------------------------


class KnowledgeChunk(BaseModel):
    """Derived from an article on this device; rebuilt, never synced."""

    model_config = ConfigDict(extra="forbid")

    id: str
    article_id: str
    position: int
    body: str
    heading: str = ""  # the article title or the section the chunk sits under
    token_count: int = 0


class OutboxEntry(BaseModel):
    """One local change waiting to be pushed. ``seq`` is the client sequence: gapless per device, never reused."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    op_id: str
    table_name: str
    row_id: str
    org_id: str
    op: Literal["insert", "update", "delete", "purge"]
    changed: list[str]
    created_at: datetime


class StoredEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    name: str
    payload: dict[str, Any]
    occurred_at: datetime
    processed_at: datetime | None = None
