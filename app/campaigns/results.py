"""What a campaign achieved, for its page: the funnel and the per-recipient list (reads only).

A reply counts when the contact wrote within the campaign's reply window after its message went out (default 72 h;
``ops.campaigns.follow_messages`` marks it); a sale counts when one was recorded for the contact within the sale
window (default 7 days) after it went out — attribution, not proof, as every CRM's campaign report. The figures read
the recipients' statuses: call ``app.store.ops.campaigns.follow_messages`` first to bring them up to the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.campaigns.audience import REASONS
from app.core.ids import from_ms
from app.store.store import Store

SENT_OR_LATER = ("sent", "delivered", "read", "replied")


@dataclass(frozen=True)
class Funnel:
    recipients: int  # in the frozen audience, skipped ones included
    queued: int
    sending: int
    sent: int  # went out (sent, delivered, read or replied)
    delivered: int
    read: int
    replied: int
    bought: int  # recipients with a sale within the sale window
    revenue_minor: dict[str, int]  # per currency
    failed: int
    skipped: dict[str, int]  # reason code → how many


@dataclass(frozen=True)
class RecipientRow:
    recipient_id: str
    contact_id: str
    name: str
    status: str
    reason: str | None  # code (see ``reason_text``) or the sender's sentence
    variant: int
    body: str
    sent_at: datetime | None
    replied_at: datetime | None
    bought_minor: int


def reason_text(reason: str | None) -> str:
    """A skip/failure reason as a person reads it."""
    if reason is None:
        return ""
    return REASONS.get(reason, "cancelled" if reason == "cancelled" else reason)


def funnel(store: Store, campaign_id: str) -> Funnel:
    campaign = store.campaigns.get(campaign_id)
    window = int(timedelta(hours=campaign.sale_window_hours).total_seconds() * 1000)
    with store.db.read() as conn:
        counts = {
            (str(status), reason): int(n)
            for status, reason, n in conn.execute(
                "SELECT status, CASE WHEN status = 'skipped' THEN reason END, count(*) FROM campaign_recipients "
                "WHERE campaign_id = ? AND org_id = ? AND deleted_at IS NULL GROUP BY 1, 2",
                (campaign_id, store.org_id),
            )
        }
        sales = conn.execute(
            "SELECT s.currency, sum(s.amount_minor), count(DISTINCT r.id) FROM campaign_recipients r "
            "JOIN sales s ON s.contact_id = r.contact_id AND s.org_id = r.org_id AND s.deleted_at IS NULL "
            "AND s.sold_at >= r.sent_at AND s.sold_at <= r.sent_at + ? "
            "WHERE r.campaign_id = ? AND r.org_id = ? AND r.deleted_at IS NULL "
            "AND r.status IN ('sent', 'delivered', 'read', 'replied') GROUP BY s.currency",
            (window, campaign_id, store.org_id),
        ).fetchall()
        bought = conn.execute(
            "SELECT count(*) FROM campaign_recipients r WHERE r.campaign_id = ? AND r.org_id = ? "
            "AND r.deleted_at IS NULL AND r.status IN ('sent', 'delivered', 'read', 'replied') "
            "AND EXISTS (SELECT 1 FROM sales s WHERE s.contact_id = r.contact_id AND s.org_id = r.org_id "
            "AND s.deleted_at IS NULL AND s.sold_at >= r.sent_at AND s.sold_at <= r.sent_at + ?)",
            (campaign_id, store.org_id, window),
        ).fetchone()[0]

    def n(*statuses: str) -> int:
        return sum(v for (s, _), v in counts.items() if s in statuses)

    return Funnel(
        recipients=sum(counts.values()),
        queued=n("queued"),
        sending=n("sending"),
        sent=n(*SENT_OR_LATER),
        delivered=n("delivered", "read", "replied"),
        read=n("read", "replied"),
        replied=n("replied"),
        bought=int(bought),
        revenue_minor={str(cur): int(total) for cur, total, _ in sales},
        failed=n("failed"),
        skipped={str(r): v for (s, r), v in counts.items() if s == "skipped" and r is not None},
    )


def recipients(
    store: Store, campaign_id: str, *, status: str | None = None, limit: int = 500, offset: int = 0
) -> list[RecipientRow]:
    """The campaign's recipients in their order, with what happened to each (``status`` filters)."""
    campaign = store.campaigns.get(campaign_id)
    window = int(timedelta(hours=campaign.sale_window_hours).total_seconds() * 1000)
    extra, params = ("", []) if status is None else (" AND r.status = ?", [status])
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT r.id, r.contact_id, coalesce(c.name, ''), r.status, r.reason, r.variant, r.body, r.sent_at, "
            "r.replied_at, CASE WHEN r.status IN ('sent', 'delivered', 'read', 'replied') THEN "
            "(SELECT coalesce(sum(s.amount_minor), 0) FROM sales s WHERE s.contact_id = r.contact_id "
            "AND s.org_id = r.org_id AND s.deleted_at IS NULL AND s.sold_at >= r.sent_at "
            "AND s.sold_at <= r.sent_at + ?) ELSE 0 END "
            "FROM campaign_recipients r LEFT JOIN contacts c ON c.id = r.contact_id AND c.org_id = r.org_id "
            f"WHERE r.campaign_id = ? AND r.org_id = ? AND r.deleted_at IS NULL{extra} "
            "ORDER BY r.position LIMIT ? OFFSET ?",
            (window, campaign_id, store.org_id, *params, limit, offset),
        ).fetchall()
    return [
        RecipientRow(
            str(rid),
            str(contact_id),
            str(name),
            str(st),
            reason,
            int(variant),
            str(body),
            from_ms(sent) if sent is not None else None,
            from_ms(replied) if replied is not None else None,
            int(bought),
        )
        for rid, contact_id, name, st, reason, variant, body, sent, replied, bought in rows
    ]


def warnings(store: Store, campaign_id: str) -> list[str]:
    """The near-identical flag for a prepared campaign (the same sentences ``prepare`` returned)."""
    from app.campaigns.content import near_identical

    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT variant, count(*) FROM campaign_recipients WHERE campaign_id = ? AND org_id = ? "
            "AND deleted_at IS NULL AND status <> 'skipped' GROUP BY variant",
            (campaign_id, store.org_id),
        ).fetchall()
    return near_identical({int(v): int(n) for v, n in rows})
