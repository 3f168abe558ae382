"""Core events: published after commit (never on rollback), kept durably; recording a sale emits one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.events import ContactCreated, Event, EventBus, MessageReceived, SaleCompleted, event_from_payload
from app.store.sales import (
    MixedCurrencies,
    OutOfStock,
    ProductArchived,
    SaleLine,
    items_of_sales,
    record_sale,
    sales_totals,
)
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


def _snapshot(store: Store) -> dict[str, Any]:
    """Everything a refused sale must leave as it was."""
    return {
        "sales": store.sales.count(include_deleted=True),
        "items": store.sale_items.count(include_deleted=True),
        "stock": {p.id: p.stock for p in store.products.find_all(include_deleted=True)},
        "ltv": {c.id: c.lifetime_value_minor for c in store.contacts.find_all(include_deleted=True)},
        "events": store.events.pending(),
        "outbox": store.outbox.count(),
    }


def test_products_in_different_currencies_are_refused_and_nothing_is_written(store: Store) -> None:
    g = build_graph(store)
    dollars = store.products.create(name="Cap", price_minor=1500, currency="USD", stock=5)
    before = _snapshot(store)
    lines = [SaleLine(product_id=g.product.id, quantity=2), SaleLine(product_id=dollars.id)]
    with pytest.raises(MixedCurrencies, match=r"'Cap' is priced in USD, but this sale is in EUR"):
        record_sale(store, lines, contact_id=g.contact.id)
    assert _snapshot(store) == before, "the first line's stock change is rolled back too"


def test_a_product_in_another_currency_than_the_sale_is_refused(store: Store) -> None:
    g = build_graph(store)
    before = _snapshot(store)
    with pytest.raises(MixedCurrencies, match=r"'Linen shirt' is priced in EUR, but this sale is in USD") as info:
        record_sale(
            store,
            [SaleLine(description="Delivery", unit_price_minor=500), SaleLine(product_id=g.product.id)],
            contact_id=g.contact.id,
            currency="USD",
        )
    assert "sale of their own" in info.value.hint
    assert _snapshot(store) == before


def test_the_sale_currency_may_be_given_when_it_matches_its_products(store: Store) -> None:
    g = build_graph(store)
    sale = record_sale(store, [SaleLine(product_id=g.product.id), SaleLine(description="Wrap")], currency="EUR")
    assert (sale.currency, sale.amount_minor) == ("EUR", 3900)
    free = record_sale(store, [SaleLine(description="Repair", unit_price_minor=800)], currency="GBP")
    assert (free.currency, free.amount_minor) == ("GBP", 800)


def test_an_archived_product_is_refused_and_nothing_is_written(store: Store) -> None:
    g = build_graph(store)
    old = store.products.create(name="Wool scarf", price_minor=2500, currency="EUR", stock=3, active=False)
    before = _snapshot(store)
    with pytest.raises(ProductArchived, match="'Wool scarf' is archived") as info:
        record_sale(store, [SaleLine(product_id=g.product.id), SaleLine(product_id=old.id)], contact_id=g.contact.id)
    assert info.value.hint
    assert _snapshot(store) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (SaleLine(description="Wrap", quantity=0), r"quantity on line 2 \('Wrap'\) must be at least 1, not 0"),
        (SaleLine(quantity=-3), r"quantity on line 2 must be at least 1, not -3"),
        (SaleLine(description="Discount", unit_price_minor=-100), r"price on line 2 \('Discount'\) cannot be negative"),
    ],
)
def test_bad_quantities_and_negative_prices_are_refused(store: Store, line: SaleLine, message: str) -> None:
    g = build_graph(store)
    before = _snapshot(store)
    with pytest.raises(ValueError, match=message):
        record_sale(store, [SaleLine(product_id=g.product.id), line], contact_id=g.contact.id)
    assert _snapshot(store) == before


def test_a_product_line_with_a_negative_price_is_refused(store: Store) -> None:
    g = build_graph(store)
    before = _snapshot(store)
    with pytest.raises(ValueError, match="price on line 1 cannot be negative"):
        record_sale(store, [SaleLine(product_id=g.product.id, unit_price_minor=-1)])
    assert _snapshot(store) == before


def test_sales_totals_sum_per_currency_over_a_half_open_range(store: Store) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for amount, currency, when in [
        (100, "EUR", start - timedelta(milliseconds=1)),  # just before: out
        (200, "EUR", start),  # since is inclusive
        (300, "USD", start + timedelta(days=3)),
        (400, "EUR", start + timedelta(days=10)),
        (800, "EUR", start + timedelta(days=31)),  # until is exclusive
    ]:
        store.sales.create(amount_minor=amount, currency=currency, sold_at=when)
    deleted = store.sales.create(amount_minor=5000, currency="EUR", sold_at=start + timedelta(days=1))
    store.sales.delete(deleted.id)
    assert sales_totals(store, start, start + timedelta(days=31)) == {"EUR": 600, "USD": 300}
    assert sales_totals(store, start) == {"EUR": 1400, "USD": 300}
    assert sales_totals(store, start + timedelta(days=40)) == {}


def test_sales_totals_use_the_time_index(store: Store) -> None:
    sql: list[str] = []
    with store.db.transaction() as conn:  # inside it, reads run on this very connection
        conn.set_trace_callback(sql.append)
        try:
            sales_totals(store, datetime(2026, 5, 1, tzinfo=UTC))
        finally:
            conn.set_trace_callback(None)
        [query] = [q for q in sql if "FROM sales" in q]
        plan = " ".join(str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "USING INDEX sales_time" in plan


def test_items_of_sales_reads_a_page_of_sales_at_once(store: Store) -> None:
    g = build_graph(store)
    cap = store.products.create(name="Cap", price_minor=1500, currency="EUR")
    first = record_sale(store, [SaleLine(product_id=g.product.id, quantity=2), SaleLine(description="Wrap")])
    second = record_sale(store, [SaleLine(product_id=cap.id), SaleLine(description="Delivery", unit_price_minor=5)])
    store.products.delete(cap.id)  # deleted products keep their name in the history
    found = items_of_sales(store, [second.id, first.id, g.sale.id, first.id])
    assert list(found) == [second.id, first.id, g.sale.id]
    assert [(i.quantity, i.product_id, i.description, name) for i, name in found[first.id]] == [
        (2, g.product.id, "", "Linen shirt"),
        (1, None, "Wrap", None),
    ]
    assert [name for _, name in found[second.id]] == ["Cap", None]
    assert found[g.sale.id] == []
    assert items_of_sales(store, []) == {}
