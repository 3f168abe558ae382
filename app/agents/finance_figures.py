"""The finance agent's figures (rules, no AI): revenue per local day and month, average ticket, lifetime value.

Correct to the cent and in the business's time zone:

- Money stays in integer minor units; amounts in different currencies are never added or converted. Every figure
  is a mapping currency → amount, so a workspace that sells in EUR and USD sees two revenues, two average tickets
  and two alerts, side by side.
- Days and months are the business's (``Org.timezone``, UTC when unset or unknown): a local day is
  ``[local midnight, next local midnight)`` turned into UTC instants, so a sale at 23:30 local on the 31st belongs to
  that day and that month whatever UTC says, and the day a clock changes is 23 or 25 hours long.
- The average ticket is a period's revenue over its number of sales, rounded to the nearest cent (halves up).
- Lifetime value is the sum of a contact's recorded (not deleted) sales, per currency. The contact row has one
  value and one currency (``lifetime_value_minor``, ``currency``, shown on the contact pages): it holds the sum in
  one currency — the contact's own when they bought in it, else the business's default currency when they did,
  else the currency of their latest sale. A contact who bought in several currencies keeps the others in
  ``lifetime_values`` (computed on read), never added into the headline. A value imported from a CSV (another
  system's history) stays until the contact's first sale in Parley is recorded, edited or deleted; from then on it
  is the sum of the sales Parley knows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.ids import from_ms, to_ms
from app.core.models import Contact
from app.store.store import Store

log = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Totals:
    """One currency's sales in a period: their sum and how many."""

    amount_minor: int
    count: int

    @property
    def average_minor(self) -> int:
        """The average ticket, to the nearest cent (halves up); 0 without sales."""
        return divide(self.amount_minor, self.count) if self.count else 0


def divide(amount_minor: int, by: int) -> int:
    """``amount_minor / by`` to the nearest minor unit, halves away from zero (exact: no float on the way)."""
    return int((Decimal(amount_minor) / Decimal(by)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- the business's calendar ------------------------------------------------------------------------------------
def org_zone(store: Store) -> tzinfo:
    """The business's time zone (``Org.timezone``); UTC when the org row is missing or names no known zone."""
    org = store.orgs.find(store.org_id)
    name = org.timezone if org is not None else "UTC"
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown business time zone %r: finance figures use UTC", name)
        return UTC


def org_currency(store: Store) -> str:
    org = store.orgs.find(store.org_id)
    return org.default_currency if org is not None else "USD"


def local_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant the local ``day`` begins (its first local midnight)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_at(day: date, clock: time, zone: tzinfo) -> datetime:
    """The UTC instant of the local wall-clock time ``clock`` on ``day``."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def local_date(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


# ---- revenue ----------------------------------------------------------------------------------------------------
def totals(store: Store, start: date, end: date, zone: tzinfo | None = None) -> dict[str, Totals]:
    """Currency → sum and count of the sales sold on local days ``[start, end)`` (deleted sales left out)."""
    zone = zone or org_zone(store)
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT currency, sum(amount_minor), count(*) FROM sales INDEXED BY sales_time"
            " WHERE sold_at >= ? AND sold_at < ? AND org_id = ? AND deleted_at IS NULL GROUP BY currency",
            (to_ms(local_start(start, zone)), to_ms(local_start(end, zone)), store.org_id),
        ).fetchall()
    return {str(c): Totals(int(s), int(n)) for c, s, n in rows}


def day_revenue(store: Store, day: date, zone: tzinfo | None = None) -> dict[str, int]:
    """Currency → revenue of the local ``day``."""
    return {c: t.amount_minor for c, t in totals(store, day, day + timedelta(days=1), zone).items()}


def month_revenue(store: Store, year: int, month: int, zone: tzinfo | None = None) -> dict[str, int]:
    """Currency → revenue of the local calendar month."""
    first = date(year, month, 1)
    return {c: t.amount_minor for c, t in totals(store, first, next_month(first), zone).items()}


def average_ticket(store: Store, start: date, end: date, zone: tzinfo | None = None) -> dict[str, int]:
    """Currency → the average sale on local days ``[start, end)``, to the cent."""
    return {c: t.average_minor for c, t in totals(store, start, end, zone).items()}


def revenue_by_day(store: Store, start: date, end: date, zone: tzinfo | None = None) -> dict[date, dict[str, int]]:
    """Local day → currency → revenue, for the days in ``[start, end)`` that had sales (one query)."""
    zone = zone or org_zone(store)
    found: dict[date, dict[str, int]] = {}
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT sold_at, currency, amount_minor FROM sales INDEXED BY sales_time"
            " WHERE sold_at >= ? AND sold_at < ? AND org_id = ? AND deleted_at IS NULL",
            (to_ms(local_start(start, zone)), to_ms(local_start(end, zone)), store.org_id),
        )
        for sold_at, currency, amount in rows:
            day = from_ms(int(sold_at)).astimezone(zone).date()
            per = found.setdefault(day, {})
            per[str(currency)] = per.get(str(currency), 0) + int(amount)
    return found


def sold_before(store: Store, currency: str, instant: datetime) -> bool:
    """Whether any (live) sale in ``currency`` was sold before ``instant``: how far back the history goes."""
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM sales INDEXED BY sales_time"
            " WHERE sold_at < ? AND org_id = ? AND currency = ? AND deleted_at IS NULL)",
            (to_ms(instant), store.org_id, currency),
        ).fetchone()
    return bool(row[0])


# ---- lifetime value ---------------------------------------------------------------------------------------------
def lifetime_values(store: Store, contact_id: str) -> dict[str, int]:
    """Currency → the sum of the contact's recorded (not deleted) sales."""
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT currency, sum(amount_minor) FROM sales"
            " WHERE contact_id = ? AND org_id = ? AND deleted_at IS NULL GROUP BY currency",
            (contact_id, store.org_id),
        ).fetchall()
    return {str(c): int(s) for c, s in rows}


def _latest_currency(store: Store, contact_id: str) -> str | None:
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT currency FROM sales WHERE contact_id = ? AND org_id = ? AND deleted_at IS NULL"
            " ORDER BY sold_at DESC, rid DESC LIMIT 1",
            (contact_id, store.org_id),
        ).fetchone()
    return None if row is None else str(row[0])


def headline_currency(store: Store, contact: Contact, values: dict[str, int]) -> str:
    """Which currency the contact row's one lifetime value is kept in (see the module's docstring)."""
    if not values or contact.currency in values:
        return contact.currency
    default = org_currency(store)
    if default in values:
        return default
    return _latest_currency(store, contact.id) or contact.currency


def recompute_lifetime_value(store: Store, contact_id: str | None) -> Contact | None:
    """Set the contact's lifetime value to the sum of their sales (in one transaction; written only when it
    differs, so a recompute that changes nothing syncs nothing). ``None`` when there is no such live contact."""
    if not contact_id:
        return None
    with store.db.transaction():
        contact = store.contacts.find(contact_id)
        if contact is None:
            return None
        values = lifetime_values(store, contact_id)
        currency = headline_currency(store, contact, values)
        value = values.get(currency, 0)
        if (contact.lifetime_value_minor, contact.currency) == (value, currency):
            return contact
        return store.contacts.update(contact_id, lifetime_value_minor=value, currency=currency)


def values_out_of_date(store: Store) -> list[str]:
    """The contacts named by a sale (deleted sales included: their value may have to drop to zero) whose stored
    value is not the sum of their sales in its currency, or whose currency they never bought in while they bought
    in another. One pass over the sales, one over those contacts."""
    sums: dict[str, dict[str, int]] = {}
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT contact_id, currency, sum(CASE WHEN deleted_at IS NULL THEN amount_minor ELSE 0 END),"
            " sum(deleted_at IS NULL) FROM sales WHERE org_id = ? AND contact_id IS NOT NULL"
            " GROUP BY contact_id, currency",
            (store.org_id,),
        ).fetchall()
        for contact_id, currency, total, live in rows:
            values = sums.setdefault(str(contact_id), {})
            if int(live):
                values[str(currency)] = int(total)
        stored = conn.execute(
            "SELECT id, lifetime_value_minor, currency FROM contacts WHERE org_id = ? AND deleted_at IS NULL",
            (store.org_id,),
        ).fetchall()
    wrong: list[str] = []
    for contact_id, value, currency in stored:
        bought = sums.get(str(contact_id))
        if bought is None:
            continue  # never named by a sale: an imported value stays
        if bought.get(str(currency), 0) != int(value) or (bought and str(currency) not in bought):
            wrong.append(str(contact_id))
    return wrong
