"""A small shop and one customer conversation for the AI tests: products, a contact with an open deal, messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.core.ids import utc_now
from app.core.models import Chat, Contact, Product
from app.store.store import Store


@dataclass(frozen=True)
class ShopChat:
    chat: Chat
    contact: Contact
    products: list[Product]


@dataclass(frozen=True)
class Passage:
    """Shaped like ``app.ai.knowledge.retrieval.Passage`` where the context reads it."""

    chunk_id: str
    source: str
    text: str


RETURNS = Passage("chunk-returns", "Returns policy › Refunds", "Returns are free within 30 days of delivery.")
SHIPPING = Passage("chunk-shipping", "Shipping", "Orders ship in 2 business days; Jakarta delivery is next day.")


def shop_chat(store: Store, messages: list[tuple[str, str]] | None = None) -> ShopChat:
    products = [
        store.products.create(name="Canvas Tote Bag", price_minor=1250, currency="USD", sku="TOTE-1", stock=8),
        store.products.create(name="Linen Shirt", price_minor=4500, currency="USD", description="Breathable linen"),
        store.products.create(name="Silk Scarf", price_minor=3000, currency="USD", active=False),
    ]
    contact = store.contacts.create(
        name="Maya Putri",
        phone="+62 812 3456 7890",
        email="maya@example.com",
        lifecycle="lead",
        tags=["vip"],
        custom_fields={"size": "M"},
        lifetime_value_minor=9900,
        language="id",
    )
    chat = store.chats.create(contact_id=contact.id, title="Maya Putri")
    pipeline = store.pipelines.find_all({"is_default": True})[0]
    stage = store.pipeline_stages.find_all({"pipeline_id": pipeline.id}, order_by="position")[0]
    store.deals.create(
        pipeline_id=pipeline.id, stage_id=stage.id, title="Two totes", contact_id=contact.id, value_minor=2400
    )
    script = messages or [
        ("in", "Hi! Do you still have the canvas tote bag?"),
        ("out", "Hello Maya, yes we do."),
        ("in", "How much is it, and can I return it if it doesn't fit? Call me on +62 812 3456 7890"),
    ]
    start = utc_now() - timedelta(hours=1)
    store.messages.add_many(
        store.messages.new(chat_id=chat.id, direction=d, body=b, sent_at=start + timedelta(seconds=i))
        for i, (d, b) in enumerate(script)
    )
    return ShopChat(chat, contact, products)
