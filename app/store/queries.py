"""Reads the pages live on that are more than one repository call: a page of the contact list (text matches read
in one query, not one per match), and the sales history with its sums.

Moved out of the pages so they are Qt-free, testable without a window, and shared by whoever needs the same list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.models import Contact, Sale
from app.store.deals import contact_names
from app.store.sales import items_of_sales, sales_totals
from app.store.store import Store

MAX_MATCHES = 1000  # a text filter shows at most this many matches


# ---- contacts --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactQuery:
    text: str = ""
    lifecycle: str | None = None
    order_by: str = "name"
    descending: bool = False


def _sort_key(field: str) -> Any:
    def key(c: Contact) -> tuple[bool, Any]:
        value = getattr(c, field)
        return (value is not None, ",".join(value) if isinstance(value, list) else value)

    return key


def contacts_by_id(store: Store, ids: Iterable[str]) -> dict[str, Contact]:
    """The live contacts among ``ids``, in one query per 500 ids."""
    wanted = list(dict.fromkeys(ids))
    codec = store.contacts.codec
    found: dict[str, Contact] = {}
    with store.db.read() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(
                f"SELECT {', '.join(codec.columns)} FROM contacts"
                f" WHERE org_id = ? AND deleted_at IS NULL AND id IN ({marks})",
                [store.org_id, *chunk],
            )
            for row in rows:
                contact = codec.decode(row)
                found[contact.id] = contact
    return found


def query_contacts(store: Store, q: ContactQuery, offset: int, limit: int) -> list[Contact]:
    """One page of contacts for ``q``. A text filter returns all its matches at once (``offset`` > 0: none)."""
    if q.text:
        hits = store.search_contacts(q.text.replace("#", " "), limit=MAX_MATCHES)
        found = contacts_by_id(store, (h.id for h in hits))
        rows = [c for c in (found.get(h.id) for h in hits) if c is not None and q.lifecycle in (None, c.lifecycle)]
        # Missing values sort first ascending and last descending, as SQLite does in SQL.
        rows.sort(key=_sort_key(q.order_by), reverse=q.descending)
        return rows if offset == 0 else []
    where = {"lifecycle": q.lifecycle} if q.lifecycle else None
    return store.contacts.find_all(where, order_by=q.order_by, descending=q.descending, limit=limit, offset=offset)


def count_contacts(store: Store, q: ContactQuery) -> int:
    """How many contacts the list has for ``q`` without a text filter (a text filter's count is its rows')."""
    return store.contacts.count({"lifecycle": q.lifecycle} if q.lifecycle else None)


# ---- sales -----------------------------------------------------------------------------------------------------
@dataclass
class SalesPage:
    rows: list[tuple[Sale, str, str]]  # sale, contact name, items summary
    more: bool


@dataclass
class SalesSummary:
    today: dict[str, int] = field(default_factory=dict)
    month: dict[str, int] = field(default_factory=dict)


def read_sales(store: Store, offset: int, limit: int) -> SalesPage:
    """A page of the sales history, newest first, with each buyer's name and a line summarising the items."""
    sales = store.sales.find_all(order_by="sold_at", descending=True, limit=limit + 1, offset=offset)
    more, sales = len(sales) > limit, sales[:limit]
    names = contact_names(store, (s.contact_id for s in sales))
    items = items_of_sales(store, (s.id for s in sales))
    rows = []
    for sale in sales:
        parts = []
        for item, product_name in items[sale.id]:
            label = item.description
            if not label and item.product_id:
                label = product_name or "Deleted product"
            parts.append(f"{item.quantity} × {label}" if item.quantity != 1 else label)
        rows.append((sale, names.get(sale.contact_id or "", ""), ", ".join(parts)))
    return SalesPage(rows, more)


def read_summary(store: Store, now: datetime | None = None) -> SalesSummary:
    """Sales since local midnight and since the first of the month, per currency."""
    local_now = (now or datetime.now()).astimezone()
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    return SalesSummary(today=sales_totals(store, today), month=sales_totals(store, month))
