"""Sale operations: record a sale (see ``app.store.sales.record_sale``, which publishes ``SaleCompleted``)."""

from __future__ import annotations

from datetime import datetime

from app.core.models import Sale
from app.store import sales as salestore
from app.store.ops import Done, done, op_transaction
from app.store.ops.deals import check_currency
from app.store.sales import SaleLine
from app.store.store import Store

__all__ = ["SaleLine", "record_sale"]


def record_sale(
    store: Store,
    lines: list[SaleLine],
    *,
    contact_id: str | None = None,
    deal_id: str | None = None,
    chat_id: str | None = None,
    currency: str | None = None,
    sold_at: datetime | None = None,
    source: str = "manual",
    note: str = "",
) -> Done[Sale]:
    """The sale, its items, the stock, the customer's lifetime value and ``SaleCompleted``, in one transaction."""
    with op_transaction(store) as tx:
        sale = salestore.record_sale(
            store,
            lines,
            contact_id=contact_id,
            deal_id=deal_id,
            chat_id=chat_id,
            currency=None if currency is None else check_currency(currency),
            sold_at=sold_at,
            source=source,
            note=note.strip(),
        )
    return done(tx, sale)
