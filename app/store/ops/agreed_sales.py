"""A sale the acquisition agent saw the customer agree to (``SaleAgreed``), recorded or turned down by a person from
the chat's AI panel — or recorded by autopilot itself for an exact match. The agreed sale is kept whole on the
agent's execution row (``detail["sale"]``); the outcome is written back there in the same transaction
(``recorded_sale`` / ``sale_declined``), so the row syncs and a teammate never records the same sale twice."""

from __future__ import annotations

from app.core.errors import InvalidInput
from app.core.events import SaleAgreed
from app.core.models import Sale
from app.store.ops import sales as sale_ops
from app.store.sales import SaleLine
from app.store.store import Store


def record_agreed_sale(store: Store, event: SaleAgreed, *, quantity: int = 1, source: str = "agent") -> Sale:
    """Record ``event`` as a sale (``SaleCompleted``): one line of the catalogue's product when the agreed total is a
    whole price per piece, else one line of that total."""
    if event.product_id is not None:
        each, rest = divmod(event.amount_minor, quantity)
        count = quantity if rest == 0 else 1  # an agreed total that is no whole price per piece stays one line
        line = SaleLine(
            product_id=event.product_id, quantity=count, unit_price_minor=each if rest == 0 else event.amount_minor
        )
    else:
        line = SaleLine(description=event.product, quantity=1, unit_price_minor=event.amount_minor)
    return sale_ops.record_sale(
        store, [line], contact_id=event.contact_id, chat_id=event.chat_id, currency=event.currency, source=source
    ).value


def confirm_agreed_sale(store: Store, execution_id: str, event: SaleAgreed, *, quantity: int) -> Sale:
    """A person's one click: record the sale and note it on the run, in one transaction."""
    with store.db.transaction():
        run = store.agent_executions.get(execution_id)
        if run.detail.get("recorded_sale"):
            raise InvalidInput("This sale was already recorded.")
        recorded = record_agreed_sale(store, event, quantity=quantity, source="manual")
        store.agent_executions.update(run.id, detail=run.detail | {"recorded_sale": recorded.id})
    return recorded


def decline_agreed_sale(store: Store, execution_id: str) -> None:
    """'Not a sale': the panel stops offering it, on every computer of the team."""
    with store.db.transaction():
        run = store.agent_executions.get(execution_id)
        store.agent_executions.update(run.id, detail=run.detail | {"sale_declined": True})
