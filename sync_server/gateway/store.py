"""The gateway's rows: the org's provider entries, its limits, and one ``ai_usage`` row per call.

Limits are checked from ``ai_usage`` itself, not from process memory, so any number of server processes share one
budget and one per-minute allowance. A call is admitted in one transaction that takes a per-org advisory lock,
checks the budget and the last minute's count, and inserts the call's row (``status = 'started'``) before any
provider is called: concurrent calls, in this process or another, see each other. The row is completed with the
tokens, cost and outcome when the call ends. Only usage metadata is stored: never a prompt, an answer or a key.

The budget counts what calls in flight may still cost: each admitted row holds ``reserved_usd``, the most the call
can cost (``budget.estimate``), until it settles, and a call is admitted only when the month's settled costs, the
live reservations and its own fit in the budget. Without that, every call in flight saw the same unspent budget
(ten concurrent calls with room for less than one spent 181% of it). A reservation whose process died is not held
forever: it counts only until ``reserved_until`` (``ServerConfig.ai_reservation_seconds`` after admission).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from app.sync.protocol import GatewayPolicy, GatewayProvider, GatewayUsage
from sync_server.db import Conn, Db
from sync_server.errors import ApiError
from sync_server.gateway import crypto

_ADMISSION_LOCK = 7_402_114  # pg_advisory_xact_lock(key, hashtext(org)): one admission per org at a time
MAX_PROVIDERS = 10
# The column is numeric(12, 4): a budget is kept to 1/100 of a cent, up to a bound far above any team's.
MAX_BUDGET_USD = Decimal(10_000_000)
BUDGET_PLACES = 4
_MONTH = "at >= date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One provider entry as stored (the key still sealed)."""

    position: int
    kind: str
    model: str
    base_url: str | None
    embedding_model: str | None
    sealed_key: bytes | None


class Limited(Exception):
    """The org may not call now: ``code`` is ``insufficient_quota`` or ``rate_limit_exceeded``."""

    def __init__(self, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


async def entries(conn: Conn, org_id: str) -> list[Entry]:
    cur = await conn.execute(
        "SELECT position, kind, model, base_url, embedding_model, key_ciphertext FROM ai_providers "
        "WHERE org_id = %s ORDER BY position",
        (org_id,),
    )
    return [
        Entry(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], bytes(r[5]) if r[5] is not None else None)
        for r in await cur.fetchall()
    ]


async def read_settings(db: Db, secret: bytes, org_id: str) -> GatewayPolicy:
    async with db.org(org_id) as conn:
        rows = await entries(conn, org_id)
        cur = await conn.execute(
            "SELECT ai_monthly_budget_usd, ai_requests_per_minute FROM orgs WHERE id = %s", (org_id,)
        )
        org = await cur.fetchone()
    if org is None:
        raise ApiError(404, "not_found", "This organisation does not exist.")
    providers = []
    for row in rows:
        last4 = None
        if row.sealed_key is not None:
            try:
                last4 = crypto.open_key(secret, org_id, row.sealed_key)[-4:]
            except crypto.KeyUnreadable:
                last4 = None  # shown as set but unreadable: the owner re-enters it
        providers.append(
            GatewayProvider.model_validate(
                {
                    "kind": row.kind,
                    "model": row.model,
                    "base_url": row.base_url,
                    "embedding_model": row.embedding_model,
                    "key_set": row.sealed_key is not None,
                    "key_last4": last4,
                }
            )
        )
    return GatewayPolicy(providers=providers, monthly_budget_usd=float(org[0]), requests_per_minute=int(org[1]))


def budget_amount(value: float) -> Decimal:
    """The budget as stored, or ``ApiError`` 422 for one the column cannot hold exactly (it was stored as 0 or
    failed the write): not finite, negative, above ``MAX_BUDGET_USD`` or finer than 1/100 of a cent."""
    if not math.isfinite(value) or value < 0 or value > MAX_BUDGET_USD:
        raise ApiError(
            422, "invalid", f"The monthly budget must be between $0 and ${MAX_BUDGET_USD:,.0f}: enter a smaller amount."
        )
    amount = Decimal(str(value))
    if amount != round(amount, BUDGET_PLACES):
        raise ApiError(
            422, "invalid", "The monthly budget is kept to 1/100 of a cent: round it to at most 4 decimal places."
        )
    return amount


async def write_settings(db: Db, secret: bytes, org_id: str, new: GatewayPolicy) -> None:
    """Replace the org's entries. An entry without a key keeps the stored key of the same position, kind and model
    (the owner edited something else); any other change without a key leaves the entry keyless."""
    budget = budget_amount(new.monthly_budget_usd)
    if len(new.providers) > MAX_PROVIDERS:
        raise ApiError(422, "invalid", f"At most {MAX_PROVIDERS} providers can be set up.")
    for provider in new.providers:
        if provider.base_url is not None and not provider.base_url.startswith(("http://", "https://")):
            raise ApiError(422, "invalid", "A provider's base_url must start with http:// or https://.")
        if provider.kind == "openai_compatible" and not provider.base_url:
            raise ApiError(422, "invalid", "An OpenAI-compatible provider needs its base_url.")
    async with db.org(org_id) as conn:
        await conn.execute("SELECT 1 FROM orgs WHERE id = %s FOR UPDATE", (org_id,))
        old = {e.position: e for e in await entries(conn, org_id)}
        await conn.execute("DELETE FROM ai_providers WHERE org_id = %s", (org_id,))
        for position, provider in enumerate(new.providers):
            sealed: bytes | None
            if provider.api_key is not None:
                sealed = crypto.seal(secret, org_id, provider.api_key.strip())
            else:
                same = old.get(position)
                kept = same is not None and (same.kind, same.model) == (provider.kind, provider.model)
                sealed = same.sealed_key if kept and same is not None else None
            await conn.execute(
                "INSERT INTO ai_providers (org_id, position, kind, model, base_url, embedding_model, key_ciphertext) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    org_id,
                    position,
                    provider.kind,
                    provider.model,
                    provider.base_url,
                    provider.embedding_model,
                    sealed,
                ),
            )
        await conn.execute(
            "UPDATE orgs SET ai_monthly_budget_usd = %s, ai_requests_per_minute = %s WHERE id = %s",
            (budget, new.requests_per_minute, org_id),
        )


async def admit(
    db: Db,
    org_id: str,
    member_id: str,
    purpose: str,
    choose: Callable[[list[Entry]], T],
    estimate: Callable[[T], Decimal],
    hold_seconds: float,
) -> tuple[int, T]:
    """Pick the entries for the call (``choose`` raises ``ApiError`` for a model the org lacks), check the budget
    with the call's largest possible cost (``estimate``) and the rate limit, and record the call as started, its
    reservation held for ``hold_seconds`` at most; returns its usage row id and the choice. Nothing is recorded
    when the call is refused (``ApiError``, or ``Limited`` when the org may not call now)."""
    async with db.org(org_id) as conn:
        chosen = choose(await entries(conn, org_id))
        reserve = estimate(chosen)
        await conn.execute("SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", (_ADMISSION_LOCK, org_id))
        cur = await conn.execute(
            "SELECT ai_monthly_budget_usd, ai_requests_per_minute FROM orgs WHERE id = %s", (org_id,)
        )
        org = await cur.fetchone()
        if org is None:
            raise ApiError(401, "unauthorized", "This organisation no longer exists.")
        budget, per_minute = Decimal(org[0]), int(org[1])
        cur = await conn.execute(
            "SELECT coalesce(sum(cost_usd), 0),"
            " coalesce(sum(reserved_usd) FILTER (WHERE reserved_until > clock_timestamp()), 0)"
            f" FROM ai_usage WHERE org_id = %s AND {_MONTH}",
            (org_id,),
        )
        spent_row = await cur.fetchone()
        spent, held = (Decimal(spent_row[0]), Decimal(spent_row[1])) if spent_row else (Decimal(0), Decimal(0))
        if spent + held >= budget or spent + held + reserve > budget:
            raise Limited("insufficient_quota", _over_budget(budget, spent, held, reserve))
        cur = await conn.execute(
            "SELECT count(*), extract(epoch FROM min(at) + interval '1 minute' - clock_timestamp()) FROM ai_usage "
            "WHERE org_id = %s AND at > clock_timestamp() - interval '1 minute'",
            (org_id,),
        )
        window = await cur.fetchone()
        if window is not None and int(window[0]) >= per_minute:
            wait = max(1, math.ceil(float(window[1] or 1)))
            raise Limited(
                "rate_limit_exceeded",
                f"The team's AI allowance of {per_minute} requests a minute is used up: try again in {wait} s.",
                retry_after=wait,
            )
        cur = await conn.execute(
            "INSERT INTO ai_usage (org_id, member_id, model, purpose, status, at, reserved_usd, reserved_until) "
            "VALUES (%s, %s, '', %s, 'started', clock_timestamp(), %s,"
            " clock_timestamp() + make_interval(secs => %s)) RETURNING id",
            (org_id, member_id, purpose, reserve, hold_seconds),
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0]), chosen


def _over_budget(budget: Decimal, spent: Decimal, held: Decimal, reserve: Decimal) -> str:
    # OpenAI's own wording first: clients (Parley's included) recognise it as a quota, not a rate limit.
    if spent >= budget:
        return (
            f"You exceeded your current quota: the team's AI budget for this month (${budget:.2f}) is used up; "
            "the owner can raise it."
        )
    left = max(Decimal(0), budget - spent - held)
    return (
        f"You exceeded your current quota: this call may cost up to ${reserve:.4f} and the team's AI budget for this "
        f"month (${budget:.2f}) has ${left:.4f} left{' beside calls in progress' if held else ''}; ask for a shorter "
        "answer (max_tokens), try again when calls in progress end, or the owner can raise the budget."
    )


async def finish(
    db: Db,
    org_id: str,
    usage_id: int,
    *,
    model: str,
    status: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: float = 0.0,
) -> None:
    async with db.org(org_id) as conn:
        await conn.execute(
            "UPDATE ai_usage SET model = %s, status = %s, prompt_tokens = %s, completion_tokens = %s, cost_usd = %s,"
            " reserved_until = NULL WHERE org_id = %s AND id = %s",
            (model, status, prompt_tokens, completion_tokens, Decimal(f"{cost_usd:.6f}"), org_id, usage_id),
        )


async def monthly_usage(db: Db, org_id: str) -> list[GatewayUsage]:
    async with db.org(org_id) as conn:
        cur = await conn.execute(
            "SELECT member_id, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
            f"coalesce(sum(cost_usd), 0) FROM ai_usage WHERE org_id = %s AND {_MONTH} "
            "GROUP BY member_id ORDER BY sum(cost_usd) DESC, member_id",
            (org_id,),
        )
        rows = await cur.fetchall()
    return [
        GatewayUsage(
            user_id=str(r[0]),
            requests=int(r[1]),
            prompt_tokens=int(r[2]),
            completion_tokens=int(r[3]),
            cost_usd=float(r[4]),
        )
        for r in rows
    ]
