"""Deal, sale, product, chat, note and message operations on a real workspace: each path that moves a deal,
records a sale or queues a message publishes the same event after its commit, refusals are sentences that write
nothing, and each result names the tables its transaction wrote."""

from __future__ import annotations

import re

import pytest

from app.core.errors import InvalidInput, NotFound
from app.core.events import DealStageChanged, Event, MessageQueued, SaleCompleted
from app.core.models import PipelineStage
from app.store.deals import default_pipeline_id
from app.store.ops import chats, deals, messages, notes, products, sales
from app.store.ops.products import ProductInput
from app.store.queries import read_sales, read_summary
from app.store.sales import SaleLine
from app.store.store import Store


def _events(store: Store, kind: type[Event]) -> list[Event]:
    got: list[Event] = []
    store.bus.subscribe(kind, got.append)
    return got


def _stages(store: Store) -> dict[str, PipelineStage]:
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    return {s.name: s for s in store.pipeline_stages.find_all({"pipeline_id": pipeline_id})}


def test_every_path_that_moves_a_deal_publishes_deal_stage_changed(store: Store) -> None:
    stages = _stages(store)
    got = _events(store, DealStageChanged)

    created = deals.save_deal(store, deal_id=None, stage_id=stages["New lead"].id, title=" Linen ", value_minor=500)
    deal = created.value
    assert (deal.title, deal.value_minor, deal.currency) == ("Linen", 500, "USD")
    assert {"deals", "audit_log"} <= created.tables

    edited = deals.save_deal(store, deal_id=deal.id, stage_id=stages["New lead"].id, title="Linen shirts")
    assert edited.value.title == "Linen shirts"
    moved_in_editor = deals.save_deal(store, deal_id=deal.id, stage_id=stages["Proposal"].id, title="Linen shirts")
    assert moved_in_editor.value.stage_id == stages["Proposal"].id
    dragged = deals.move_deal(store, deal.id, stages["Won"].id, index=0)
    assert (dragged.value.status, dragged.value.closed_at is not None) == ("won", True)

    assert [(e.from_stage_id, e.to_stage_id) for e in got if isinstance(e, DealStageChanged)] == [
        (None, stages["New lead"].id),
        (stages["New lead"].id, stages["Proposal"].id),
        (stages["Proposal"].id, stages["Won"].id),
    ]


@pytest.mark.parametrize(
    ("title", "value", "currency", "sentence"),
    [
        ("  ", 0, "USD", "Give the deal a title."),
        ("A", -1, "USD", "cannot be negative"),
        ("A", 0, "EURO", "three-letter code"),
    ],
)
def test_a_refused_deal_writes_nothing(store: Store, title: str, value: int, currency: str, sentence: str) -> None:
    stage = _stages(store)["New lead"]
    with pytest.raises(InvalidInput, match=re.escape(sentence)):
        deals.save_deal(store, deal_id=None, stage_id=stage.id, title=title, value_minor=value, currency=currency)
    assert store.deals.count() == 0


def test_recording_a_sale_publishes_sale_completed_and_reads_back_in_the_history(store: Store) -> None:
    shirt = products.save_product(store, ProductInput(name="Shirt", price_minor=3900, currency="eur", stock=5)).value
    assert (shirt.currency, shirt.stock) == ("EUR", 5)
    got = _events(store, SaleCompleted)
    with store.db.transaction():
        result = sales.record_sale(store, [SaleLine(product_id=shirt.id, quantity=2)], note="  paid cash ")
        assert got == [], "published only after the commit"
    assert (result.value.amount_minor, result.value.currency, result.value.note) == (7800, "EUR", "paid cash")
    assert {"sales", "sale_items", "products"} <= result.tables
    assert [e.sale_id for e in got if isinstance(e, SaleCompleted)] == [result.value.id]
    page = read_sales(store, 0, 10)
    assert [(s.id, items) for s, _, items in page.rows] == [(result.value.id, "2 × Shirt")]
    assert read_summary(store).today == {"EUR": 7800}


def test_products_are_checked_saved_and_archived(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"Give the product a name\."):
        products.save_product(store, ProductInput(name=" ", price_minor=1))
    with pytest.raises(InvalidInput, match="cannot be negative"):
        products.save_product(store, ProductInput(name="x", price_minor=-1))
    with pytest.raises(InvalidInput, match=r"Stock cannot be negative\."):
        products.save_product(store, ProductInput(name="x", price_minor=1, stock=-2))
    assert store.products.count() == 0
    saved = products.save_product(store, ProductInput(name="Cap", price_minor=900, sku=" ")).value
    assert saved.sku is None
    edited = products.save_product(store, ProductInput(name="Cap", price_minor=950), product_id=saved.id)
    assert (edited.value.price_minor, edited.tables) == (950, frozenset({"products"}))
    assert products.set_product_active(store, saved.id, False).value.active is False


def test_queuing_a_message_publishes_message_queued_and_notes_and_assignment_write_their_rows(store: Store) -> None:
    contact = store.contacts.create(name="Ana", phone="+351911111111")
    chat = store.chats.create(contact_id=contact.id, title="Ana")
    got = _events(store, MessageQueued)

    queued = messages.queue_message(store, chat.id, "  See you at 5 ")
    assert (queued.value.body, queued.value.status) == ("See you at 5", "queued")
    assert {"messages", "contacts"} <= queued.tables
    assert [e.message_id for e in got if isinstance(e, MessageQueued)] == [queued.value.id]
    with pytest.raises(InvalidInput, match=r"Type a message first\."):
        messages.queue_message(store, chat.id, "   ")

    note = notes.add_note(store, chat.id, " call back Monday ")
    assert (note.value.body, note.value.contact_id, note.tables) == (
        "call back Monday",
        contact.id,
        frozenset({"notes"}),
    )
    with pytest.raises(InvalidInput, match=r"Type the note first\."):
        notes.add_note(store, chat.id, "")

    me = store.local_user_id
    assert me is not None
    assert chats.assign_chat(store, chat.id, me).value.assigned_user_id == me
    with pytest.raises(NotFound):
        chats.assign_chat(store, chat.id, "01900000-0000-7000-8000-00000000dead")
    assert store.chats.get(chat.id).assigned_user_id == me
    assert chats.assign_chat(store, chat.id, None).value.assigned_user_id is None
    assert chats.mark_read(store, chat.id).tables >= {"chats"}
    assert len(got) == 1
