"""Deal operations: save a deal from the editor, move a card on the board.

Both go through ``app.store.deals`` (``create_deal``/``move_deal``), which audit the move and publish
``DealStageChanged`` after the commit whenever the stage changes, so the editor's stage combo and a drag on the
board announce a move the same way.
"""

from __future__ import annotations

from datetime import datetime

from app.core.errors import InvalidInput
from app.core.models import Deal
from app.store import deals as dealstore
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def check_currency(code: str) -> str:
    """A three-letter currency code, upper-cased; InvalidInput otherwise."""
    cleaned = code.strip().upper()
    if len(cleaned) != 3 or not cleaned.isalpha():
        raise InvalidInput("The currency is a three-letter code such as USD or EUR.")
    return cleaned


def save_deal(
    store: Store,
    *,
    deal_id: str | None,
    stage_id: str,
    title: str,
    contact_id: str | None = None,
    value_minor: int = 0,
    currency: str = "USD",
    expected_close_at: datetime | None = None,
) -> Done[Deal]:
    """Create a deal at the bottom of ``stage_id`` (``deal_id`` None) or edit one, moving it when its stage
    changed; either publishes ``DealStageChanged`` for the stage it enters."""
    title = title.strip()
    if not title:
        raise InvalidInput("Give the deal a title.")
    if value_minor < 0:
        raise InvalidInput("A deal's value cannot be negative.")
    fields = {
        "contact_id": contact_id,
        "value_minor": value_minor,
        "currency": check_currency(currency),
        "expected_close_at": expected_close_at,
    }
    with op_transaction(store) as tx:
        if deal_id is None:
            saved = dealstore.create_deal(store, stage_id, title, **fields)
        else:
            before = store.deals.get(deal_id)
            store.deals.update(deal_id, title=title, **fields)
            moved = stage_id != before.stage_id
            saved = dealstore.move_deal(store, deal_id, stage_id) if moved else store.deals.get(deal_id)
    return done(tx, saved)


def move_deal(store: Store, deal_id: str, stage_id: str, *, index: int | None = None) -> Done[Deal]:
    """Put a deal in ``stage_id`` at card ``index`` (None: at the bottom); see ``app.store.deals.move_deal``."""
    with op_transaction(store) as tx:
        moved = dealstore.move_deal(store, deal_id, stage_id, index=index)
    return done(tx, moved)
