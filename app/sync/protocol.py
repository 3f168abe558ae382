"""The sync wire: pydantic models shared by the app's sync client and the sync server (Qt-free, store-free).

One protocol version is spoken at a time; a client sends it with every push and pull, and a server that does not
speak it answers 426 with the versions it does (``ErrorBody.code == "protocol"``).

Rows travel as their SQLite column values (``int | float | str | None``: timestamps in ms, booleans 0/1, lists and
dicts as JSON text), keyed by ``(table, id)`` inside the caller's org. The org never travels in a body: the server
takes it from the access token.

Conflict rules (decided by the server, by arrival order):
- per-field last writer wins: an update carries only the columns it changed;
- deletes win: once a row is deleted, later updates to it are dropped and reported back as a ``deleted`` conflict;
- ``messages`` and ``notes`` are append-only: an insert never overwrites an existing row, and their text (``body``)
  is fixed once written — later edits of the text are dropped as ``append_only`` conflicts (status, ticks and other
  fields still follow last-writer-wins);
- a purge (GDPR erase) scrubs the row's data on the server and leaves a tombstone;
- an edit that overwrote another device's concurrent edit (one that device made before it had seen this one) is
  reported to the device that lost, on its next pull, as an ``overwritten`` conflict.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator

from app.core.synced import SYNCED_MODELS

# 2 (schemas 9-15): rows carry columns a protocol-1 peer refuses as unknown (chats' status, snooze and AI owner,
# labels, message media and the agent that sent it, product photos, agent versions and executions, business hours,
# the jobs that send, campaigns' pace and recipients' outcomes, contacts' consent).
# A protocol-1 app and a protocol-2 server (or the other way round) answer 426 and say "update Parley (or the
# server)" instead of failing on the first such row.
PROTOCOL_VERSION = 2
SUPPORTED_PROTOCOLS = frozenset({PROTOCOL_VERSION})

MAX_PUSH_CHANGES = 1000  # per request; a bigger outbox is pushed in several requests
MAX_BODY_BYTES = 8 * 1024 * 1024  # a request body over this is refused whole (413)
MAX_VALUE_CHARS = 256 * 1024  # one column value
DEFAULT_PULL_LIMIT = 2000
MAX_PULL_LIMIT = 10_000
TOMBSTONE_RETENTION_DAYS = 90  # tombstones are kept at least this long; older cursors must refetch
ACCESS_TOKEN_SECONDS = 15 * 60
REFRESH_TOKEN_DAYS = 60
MIN_PASSWORD_CHARS = 10

APPEND_ONLY_TABLES = frozenset({"messages", "notes"})
APPEND_ONLY_FIXED = {"messages": frozenset({"body", "direction", "chat_id", "sent_at"}), "notes": frozenset({"body"})}

# The columns each synced table carries over the wire: every model field but the key (org_id comes from the token,
# id travels beside the data).
SYNC_COLUMNS: dict[str, frozenset[str]] = {
    table: frozenset(name for name in model.model_fields if name not in ("id", "org_id"))
    for table, model in SYNCED_MODELS.items()
}
# Synced rows with no domain model, written only by the app's own machinery: the device that sends for a WhatsApp
# number (``app/store/sending_device.py``, schema 6).
SYNC_COLUMNS["wa_sessions"] = frozenset(
    {"created_at", "updated_at", "deleted_at", "claim_id", "device_id", "device_name", "linked_at", "last_seen_at"}
)
# The jobs that send on the WhatsApp number (schema 14, ``app/store/jobs.py``): run by the device that holds the
# number, seen by every teammate. The lease of the device running one stays on that device.
SYNC_COLUMNS["jobs"] = frozenset(
    {
        "created_at",
        "updated_at",
        "deleted_at",
        "kind",
        "payload",
        "run_at",
        "status",
        "attempts",
        "max_attempts",
        "last_error",
        "result",
        "dedupe_key",
        "finished_at",
        "shared",
    }
)

# Column values as pydantic-core checks them (in Rust, as it parses a 1000-change push): text within the size limit
# and without NUL characters, numbers finite — PostgreSQL's jsonb can hold neither a NUL nor NaN/Infinity, so such a
# batch is refused whole before anything is written — and whole numbers within SQLite's 64 bits (no local store
# could hold a larger one, and the server's JSON encoder refuses it).
WireText = Annotated[str, StringConstraints(max_length=MAX_VALUE_CHARS, pattern=r"^[^\x00]*$")]
WireFloat = Annotated[float, AllowInfNan(False)]
WireInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
# Tried in order, each member first in strict mode (text, whole number, float: the order a row's values are most
# often in), so a value costs one check instead of pydantic's "smart" trial of every member (1.5x faster for a
# 1000-row push). The last two, lax, keep what the smart union accepted besides: a JSON true/false as 1/0, and
# bytes as text from Python.
Value = Annotated[
    Annotated[WireText, Strict()]
    | Annotated[WireInt, Strict()]
    | Annotated[WireFloat, Strict()]
    | WireInt
    | WireText
    | None,
    Field(union_mode="left_to_right"),
]
RowData = dict[str, Value]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:@-]+$")]
Role = Literal["owner", "admin", "staff"]
Op = Literal["insert", "update", "delete", "purge"]
ConflictReason = Literal["deleted", "append_only", "overwritten", "forbidden"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_row(table: str, data: RowData) -> None:
    columns = SYNC_COLUMNS.get(table)
    if columns is None:
        raise ValueError(f"unknown table {table!r}")
    if not columns.issuperset(data):  # (checked without building a set per change: a push validates 1000 rows)
        unknown = sorted(set(data) - columns)
        raise ValueError(f"unknown columns for {table}: {', '.join(unknown)}")


# ---- errors -----------------------------------------------------------------------------------------------------
class ErrorBody(Wire):
    """Every 4xx/5xx answer of the API. ``code`` is for programs, ``message`` is a sentence for people."""

    code: str
    message: str
    supported_protocols: list[int] | None = None


# ---- auth -------------------------------------------------------------------------------------------------------
Email = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_CHARS, max_length=1024)]
DeviceName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SignupRequest(Wire):
    """Create an org and its owner. An owner bringing an existing workspace sends its org and user ids, so the
    workspace's rows keep their keys and become the org's first data."""

    org_name: Name
    name: Name
    email: Email
    password: Password
    device_name: DeviceName
    org_id: Id | None = None
    user_id: Id | None = None


class LoginRequest(Wire):
    email: Email
    password: Password
    device_name: DeviceName
    org_id: Id | None = None  # only needed when the e-mail belongs to members of several orgs


class AcceptInviteRequest(Wire):
    token: Annotated[str, StringConstraints(min_length=16, max_length=200)]
    name: Name
    password: Password
    device_name: DeviceName


class RefreshRequest(Wire):
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=400)]


class UserInfo(Wire):
    id: str
    org_id: str
    name: str
    email: str
    role: Role


class OrgInfo(Wire):
    id: str
    name: str


class Session(Wire):
    """What sign-up, login, invite acceptance and refresh return. The refresh token is shown once: the server keeps
    only its hash, and a refresh rotates it (the old one stops working)."""

    access_token: str
    access_expires_in: int  # seconds
    refresh_token: str
    device_id: str
    user: UserInfo
    org: OrgInfo
    protocol: int = PROTOCOL_VERSION


class InviteRequest(Wire):
    email: Email
    role: Literal["admin", "staff"] = "staff"


class Invite(Wire):
    id: str
    email: str
    role: Role
    token: str  # shown once, to the admin who created it
    expires_at: int  # ms


class DeviceInfo(Wire):
    id: str
    user_id: str
    name: str
    created_at: int  # ms
    last_seen_at: int | None
    revoked_at: int | None
    current: bool = False


class MemberInfo(Wire):
    id: str
    name: str
    email: str
    role: Role
    removed: bool = False


class RoleChange(Wire):
    role: Role


# ---- sync -------------------------------------------------------------------------------------------------------
class Change(Wire):
    """One outbox entry. ``seq`` is the device's client sequence: the server applies each (device, seq) once.

    ``data``: an insert carries the whole row; an update or delete the columns it changed (with ``updated_at`` /
    ``deleted_at``); a purge nothing.
    """

    seq: Annotated[int, Field(gt=0)]
    table: str
    id: Id
    op: Op
    data: RowData = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> Change:
        _check_row(self.table, self.data)
        if self.op == "purge" and self.data:
            raise ValueError("a purge carries no data")
        if self.op == "insert" and not self.data:
            raise ValueError("an insert carries the whole row")
        return self


class PushRequest(Wire):
    protocol: int
    # The org version this device had pulled when it made these changes: an edit of a field that another device
    # changed after that version overwrote an edit this device had not seen (reported to the other device).
    known_version: Annotated[int, Field(ge=0)]
    changes: Annotated[list[Change], Field(max_length=MAX_PUSH_CHANGES)]

    @model_validator(mode="after")
    def _ordered(self) -> PushRequest:
        seqs = [c.seq for c in self.changes]
        if any(b <= a for a, b in pairwise(seqs)):
            raise ValueError("changes must be in increasing seq order")
        return self


class Conflict(Wire):
    """A local edit the server resolved against. ``theirs`` holds the winning values of ``fields``, which name what a
    person changed (never the ``created_at`` / ``updated_at`` every edit stamps)."""

    table: str
    id: str
    fields: list[str]
    reason: ConflictReason
    theirs: RowData = Field(default_factory=dict)
    version: int
    at: int  # ms


class PushResponse(Wire):
    acknowledged_seq: int  # every change up to this seq is applied (now or by an earlier push)
    version: int  # the org version after this push
    conflicts: list[Conflict] = Field(default_factory=list)


class RowState(Wire):
    """A row as the server holds it at ``version``. A purged row has ``deleted`` and ``purged`` set and no data."""

    table: str
    id: str
    version: int
    deleted: bool = False
    purged: bool = False
    data: RowData = Field(default_factory=dict)


class PullResponse(Wire):
    rows: list[RowState]
    cursor: int  # pass back as ``cursor`` for the next page; it is the version of the last row in this page
    version: int  # the org's version when the page was read
    has_more: bool
    # The cursor is older than the kept tombstones: the client must drop its cursor and pull from 0, then remove
    # local synced rows the full pull did not mention.
    must_refetch: bool = False
    conflicts: list[Conflict] = Field(default_factory=list)  # edits of this device that lost, not yet delivered


class VersionNotice(Wire):
    """Sent over the WebSocket whenever the org's version moves (and once after authentication).

    To a socket opened with ``?changes=1``, a small write's notice also carries its rows: a client whose cursor is
    ``since`` applies them as a last pull page (cursor ``version``) instead of pulling. Any other client pulls.
    """

    type: Literal["version"] = "version"
    version: int
    since: int | None = None
    rows: list[RowState] | None = None


class SocketAuth(Wire):
    """The first WebSocket message from the client: the token goes in the body, never in a logged URL."""

    type: Literal["auth"] = "auth"
    access_token: str


# ---- AI gateway administration ------------------------------------------------------------------------------------
class GatewayProvider(Wire):
    """One of the org's provider entries for the AI gateway (the key is write-only: it is never sent back)."""

    kind: Literal["openai", "anthropic", "gemini", "groq", "openrouter", "openai_compatible"]
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    base_url: str | None = None
    embedding_model: str | None = None
    api_key: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    # Set by the server in its answers (ignored in a PUT): whether a key is stored, and its last 4 characters so the
    # owner can tell which key it is. A PUT entry without ``api_key`` keeps the stored key of the same position,
    # kind and model, so a GET answer can be edited and sent back without re-typing keys.
    key_set: bool = False
    key_last4: str | None = None


class GatewayPolicy(Wire):
    providers: list[GatewayProvider]
    monthly_budget_usd: Annotated[float, Field(ge=0)] = 50.0
    requests_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 60


class GatewayUsage(Wire):
    user_id: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


# ---- media through the team server (docs/sync.md, "Media") ------------------------------------------------------
BlobId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]  # the SHA-256 of the bytes, lowercase hex


class MediaSettings(Wire):
    """Whether the team shares media bytes through the server (the owner's switch, off by default), and its use."""

    enabled: bool
    quota_bytes: int
    used_bytes: int
    # When it was turned on (ms; None while off): turning it off removes the team's copies, so a device that
    # uploaded under another ``since`` uploads again.
    since: int | None = None


class MediaSettingsChange(Wire):
    enabled: Annotated[bool, Strict()]
