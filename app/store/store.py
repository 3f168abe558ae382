"""The open workspace's data: every repository, search, inbox, outbox, events and local settings.

Built once by the workspace manager and passed to whoever needs it (house rule 7); it holds no global state.
"""

from __future__ import annotations

from datetime import datetime

from app.core import models as m
from app.core.events import Event, EventBus, TablesChanged
from app.core.ids import to_ms, utc_now
from app.core.settings import Settings
from app.store.database import Database, Origin
from app.store.event_log import EventLog
from app.store.inbox import InboxCursor, InboxFilter, InboxRow, View, inbox_page, next_snooze_end, view_counts
from app.store.jobs import Jobs
from app.store.media import MediaStore, Thumbnailer
from app.store.outbox import Outbox
from app.store.repos import ChatRepository, ContactRepository, MessageRepository
from app.store.repository import Repository
from app.store.search import Order, SearchHit, search_contacts, search_messages, search_notes
from app.store.settings_table import SettingsTable
from app.store.touched import Touched


class Store:
    def __init__(
        self, db: Database, org_id: str, *, bus: EventBus | None = None, thumbnailer: Thumbnailer | None = None
    ) -> None:
        self.db = db
        self.org_id = org_id
        self.bus = bus or EventBus()
        o = org_id
        self.orgs = Repository(db, "orgs", m.Org, o)
        self.users = Repository(db, "users", m.User, o)
        self.companies = Repository(db, "companies", m.Company, o)
        self.contacts = ContactRepository(db, "contacts", m.Contact, o)
        self.tags = Repository(db, "tags", m.Tag, o)
        self.custom_field_defs = Repository(db, "custom_field_defs", m.CustomFieldDef, o)
        self.chats = ChatRepository(db, "chats", m.Chat, o)
        self.messages = MessageRepository(db, "messages", m.Message, o)
        self.notes = Repository(db, "notes", m.Note, o)
        self.quick_replies = Repository(db, "quick_replies", m.QuickReply, o)
        self.pipelines = Repository(db, "pipelines", m.Pipeline, o)
        self.pipeline_stages = Repository(db, "pipeline_stages", m.PipelineStage, o)
        self.deals = Repository(db, "deals", m.Deal, o)
        self.products = Repository(db, "products", m.Product, o)
        self.sales = Repository(db, "sales", m.Sale, o)
        self.sale_items = Repository(db, "sale_items", m.SaleItem, o)
        self.campaigns = Repository(db, "campaigns", m.Campaign, o)
        self.campaign_recipients = Repository(db, "campaign_recipients", m.CampaignRecipient, o)
        self.knowledge_articles = Repository(db, "knowledge_articles", m.KnowledgeArticle, o)
        self.agent_configs = Repository(db, "agent_configs", m.AgentConfig, o)
        self.agent_executions = Repository(db, "agent_executions", m.AgentExecution, o)
        self.ai_interactions = Repository(db, "ai_interactions", m.AiInteraction, o)
        self.audit_log = Repository(db, "audit_log", m.AuditEntry, o)
        self.outbox = Outbox(db)
        # Media bytes, encrypted in the database (local to this computer; thumbnails by the passed-in Thumbnailer).
        self.media = MediaStore(db, thumbnailer=thumbnailer)
        self.events = EventLog(db)
        # Durable jobs the agents and campaigns schedule (those that send sync to the team; app/store/jobs.py).
        self.jobs = Jobs(db, org_id)
        # Every setting is declared in app.core.settings and read typed; the raw table is this store's own.
        self.settings = Settings(SettingsTable(db))
        # What each commit touched, derived by the database, reaches subscribers (the UI's Changes) as one event.
        self._stop_watching = db.watch(self._tables_changed)

    def repository(self, table: str) -> Repository[m.Record]:
        """The repository of a synced table by name (sync and generic tooling)."""
        repo = getattr(self, table, None)
        if not isinstance(repo, Repository):
            raise KeyError(table)
        return repo

    # ---- metadata --------------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM workspace_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO workspace_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def local_user_id(self) -> str | None:
        return self.meta("user_id")

    # ---- events ----------------------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Log ``event`` durably in the current transaction and publish it once that transaction commits."""
        with self.db.transaction():
            self.events.append(event)
            self.db.after_commit(lambda: self.bus.publish(event))

    def _tables_changed(self, written: Touched, origin: Origin) -> None:
        event = TablesChanged(org_id=self.org_id, tables=written.tables, chat_ids=written.chat_ids, origin=origin)
        self.bus.publish(event)

    # ---- reads the UI lives on -------------------------------------------------------------------------------
    def inbox(
        self, *, limit: int = 50, after: InboxCursor | None = None, filters: InboxFilter | None = None
    ) -> list[InboxRow]:
        return inbox_page(self.db, self.org_id, limit=limit, after=after, filters=filters)

    def view_counts(self, filters: InboxFilter | None = None) -> dict[View, int]:
        """How many chats each inbox view holds under the other filters (the numbers on the view tabs)."""
        return view_counts(self.db, self.org_id, filters)

    def next_snooze_end(self) -> datetime | None:
        return next_snooze_end(self.db, self.org_id)

    def total_unread(self) -> int:
        """Unread customer messages over every visible chat not muted (tray badge, window title; as WhatsApp,
        a muted chat's messages do not count)."""
        with self.db.read() as conn:
            return int(
                conn.execute(
                    "SELECT coalesce(sum(s.unread_count), 0) FROM chat_stats s JOIN chats c ON c.rid = s.chat_rid "
                    "WHERE s.visible = 1 AND (c.muted_until IS NULL OR c.muted_until <= ?)",
                    (to_ms(utc_now()),),
                ).fetchone()[0]
            )

    def search_messages(
        self, text: str, *, limit: int = 50, chat_id: str | None = None, order: Order = "recent"
    ) -> list[SearchHit]:
        return search_messages(self.db, self.org_id, text, limit=limit, chat_id=chat_id, order=order)

    def search_contacts(self, text: str, *, limit: int = 50) -> list[SearchHit]:
        return search_contacts(self.db, self.org_id, text, limit=limit)

    def search_notes(self, text: str, *, limit: int = 50) -> list[SearchHit]:
        return search_notes(self.db, self.org_id, text, limit=limit)

    def close(self) -> None:
        self._stop_watching()
        self.db.close()
