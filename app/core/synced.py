"""Which model each synced table holds: the one list the store, the seed and the sync wire share."""

from __future__ import annotations

from app.core import models as m

SYNCED_MODELS: dict[str, type[m.Record]] = {
    "orgs": m.Org,
    "users": m.User,
    "companies": m.Company,
    "contacts": m.Contact,
    "tags": m.Tag,
    "custom_field_defs": m.CustomFieldDef,
    "chats": m.Chat,
    "messages": m.Message,
    "notes": m.Note,
    "quick_replies": m.QuickReply,
    "pipelines": m.Pipeline,
    "pipeline_stages": m.PipelineStage,
    "deals": m.Deal,
    "products": m.Product,
    "sales": m.Sale,
    "sale_items": m.SaleItem,
    "campaigns": m.Campaign,
    "campaign_recipients": m.CampaignRecipient,
    "knowledge_articles": m.KnowledgeArticle,
    "agent_configs": m.AgentConfig,
    "agent_executions": m.AgentExecution,
    "ai_interactions": m.AiInteraction,
    "audit_log": m.AuditEntry,
}
