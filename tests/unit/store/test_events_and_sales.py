"""Core events: published after commit (never on rollback), kept durably; recording a sale emits one."""

from __future__ import annotations

import pytest

from app.core.events import ContactCreated, Event, EventBus, MessageReceived, SaleCompleted, event_from_payload
from app.store.sales import OutOfStock, SaleLine, record_sale
from app.store.store import Store
from tests.support.graph import build_graph


def test_bus_routes_by_type_and_survives_a_failing_handler() -> None:
    bus = EventBus()
    got: list[Event] = []
    bus.subscribe(SaleCompleted, lambda e: (_ for _ in ()).throw(RuntimeError("broken agent")))
    unsubscribe = bus.subscribe(SaleCompleted, got.append)
    bus.subscribe(Event, got.append)
    event = SaleCompleted(org_id="o", sale_id="s", amount_minor=1, currency="EUR")
    bus.publish(event)
    assert got == [event, event]
    unsubscribe()
    bus.publish(ContactCreated(org_id="o", contact_id="c"))
    assert len(got) == 3


def test_emit_publishes_after_commit_and_not_on_rollback(store: Store) -> None:
    got: list[ContactCreated] = []
    store.bus.subscribe(ContactCreated, got.append)
    with store.db.transaction():
        store.emit(ContactCreated(org_id=store.org_id, contact_id="a"))
        assert got == [], "not before the commit"
    assert [e.contact_id for e in got] == ["a"]
    with pytest.raises(RuntimeError), store.db.transaction():
        store.emit(ContactCreated(org_id=store.org_id, contact_id="b"))
        raise RuntimeError("rolled back")
    assert [e.contact_id for e in got] == ["a"]
    assert [s.payload["contact_id"] for s in store.events.pending()] == ["a"]


def test_durable_log_round_trip(store: Store) -> None:
    event = MessageReceived(org_id=store.org_id, chat_id="c", message_id="m")
    store.events.append(event)
    [stored] = store.events.pending()
    assert store.events.load(stored) == event
    store.events.mark_processed(stored.seq)
    assert store.events.pending() == []
    with pytest.raises(ValueError, match="unknown event"):
        event_from_payload("nope", {})


def test_record_sale(store: Store) -> None:
    g = build_graph(store)
    got: list[SaleCompleted] = []
    store.bus.subscribe(SaleCompleted, got.append)
    sale = record_sale(
        store,
        [SaleLine(product_id=g.product.id, quantity=2), SaleLine(description="Gift wrap", unit_price_minor=250)],
        contact_id=g.contact.id,
        chat_id=g.chat.id,
    )
    assert (sale.amount_minor, sale.currency) == (2 * 3900 + 250, "EUR")
    assert store.products.get(g.product.id).stock == 8
    contact = store.contacts.get(g.contact.id)
    assert (contact.lifetime_value_minor, contact.lifecycle) == (8050, "customer")
    assert [i.quantity for i in store.sale_items.find_all({"sale_id": sale.id}, order_by="quantity")] == [1, 2]
    assert [(e.sale_id, e.amount_minor) for e in got] == [(sale.id, 8050)]


def test_out_of_stock_rolls_back_everything(store: Store) -> None:
    g = build_graph(store)
    sales_before = store.sales.count()
    with pytest.raises(OutOfStock, match="Only 10"):
        record_sale(store, [SaleLine(product_id=g.product.id, quantity=11)], contact_id=g.contact.id)
    assert store.sales.count() == sales_before
    assert store.products.get(g.product.id).stock == 10
    assert store.events.pending() == []
