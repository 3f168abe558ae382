"""A small but complete graph of rows, and minimal valid fields for a new row of every synced table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.core import models as m
from app.store.store import Store

AT = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


@dataclass
class Graph:
    contact: m.Contact
    chat: m.Chat
    pipeline: m.Pipeline
    stage: m.PipelineStage
    deal: m.Deal
    product: m.Product
    sale: m.Sale
    campaign: m.Campaign
    article: m.KnowledgeArticle
    user: m.User


def build_graph(store: Store) -> Graph:
    user = store.users.create(name="Sam Staff", role="staff")
    contact = store.contacts.create(name="Lena Weber", phone="+4917612345678", wa_id="4917612345678@c.us")
    chat = store.chats.create(contact_id=contact.id, title="Lena")
    pipeline = store.pipelines.create(name="Wholesale")
    stage = store.pipeline_stages.create(pipeline_id=pipeline.id, name="New", position=0)
    deal = store.deals.create(pipeline_id=pipeline.id, stage_id=stage.id, title="Bulk order", contact_id=contact.id)
    product = store.products.create(name="Linen shirt", price_minor=3900, currency="EUR", stock=10)
    sale = store.sales.create(contact_id=contact.id, amount_minor=3900, currency="EUR", sold_at=AT)
    campaign = store.campaigns.create(name="Spring", template="Hi {name}!")
    article = store.knowledge_articles.create(title="Returns", body="30 days, unused, with receipt.")
    return Graph(contact, chat, pipeline, stage, deal, product, sale, campaign, article, user)


def new_row_fields(table: str, g: Graph) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields for a new row, a change to apply) for ``table``."""
    return {
        "users": ({"name": "Ali", "role": "admin"}, {"email": "ali@example.com"}),
        "companies": ({"name": "Acme SA", "tags": ["b2b"]}, {"custom_fields": {"vat": "ES123"}}),
        "contacts": ({"name": "Rui", "phone": "+351912345678"}, {"lead_score": 80, "tags": ["hot"]}),
        "tags": ({"name": "vip", "color": "#ff0000"}, {"color": "#00ff00"}),
        "custom_field_defs": ({"entity": "contact", "key": "size", "label": "Size"}, {"options": ["S", "M"]}),
        "chats": ({"contact_id": g.contact.id, "title": "Second"}, {"pinned": True}),
        "messages": ({"chat_id": g.chat.id, "direction": "in", "body": "Oi!", "sent_at": AT}, {"status": "read"}),
        "notes": ({"body": "Call back", "contact_id": g.contact.id}, {"body": "Called"}),
        "quick_replies": ({"shortcut": "/hi", "body": "Hello {name}"}, {"title": "Greeting"}),
        "pipelines": ({"name": "Second"}, {"position": 2}),
        "pipeline_stages": ({"pipeline_id": g.pipeline.id, "name": "Won", "stage_kind": "won"}, {"probability": 100}),
        "deals": (
            {"pipeline_id": g.pipeline.id, "stage_id": g.stage.id, "title": "Another", "value_minor": 100},
            {"status": "won", "closed_at": AT},
        ),
        "products": ({"name": "Cap", "price_minor": 1500}, {"stock": 3}),
        "sales": ({"amount_minor": 1500, "sold_at": AT}, {"note": "paid cash"}),
        "sale_items": ({"sale_id": g.sale.id, "product_id": g.product.id, "quantity": 2}, {"quantity": 3}),
        "campaigns": ({"name": "Summer", "audience": {"tag": "vip"}}, {"status": "prepared", "scheduled_at": AT}),
        "campaign_recipients": ({"campaign_id": g.campaign.id, "contact_id": g.contact.id}, {"status": "sent"}),
        "knowledge_articles": ({"title": "Shipping", "body": "2-3 days"}, {"tags": ["logistics"]}),
        "agent_configs": ({"agent": "retention"}, {"enabled": True, "config": {"days": 3}}),
        "agent_executions": (
            {"agent": "finance", "trigger": "sale.completed", "started_at": AT},
            {"status": "succeeded"},
        ),
        "ai_interactions": (
            {"purpose": "suggest", "mode": "byok", "provider": "openai", "model": "m"},
            {"outcome": "accepted"},
        ),
        "audit_log": ({"action": "contact.created"}, {"detail": {"n": 1}}),
    }[table]
