"""Save a workspace database at a given schema version, with data in every table, for the upgrade tests.

Run once when a migration is added, for the version *before* it is released, and commit the file:
    .venv/bin/python -m tests.data.make_snapshot 3
Existing snapshots are history and are never regenerated. The key is a fixed test key (below), not a secret.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.store import migrations, sqlcipher
from app.store.database import Database
from app.store.store import Store

HERE = Path(__file__).parent
SNAPSHOT_KEY = bytes.fromhex("5e" * 32)
ORG_ID = "0190a000-0000-7000-8000-00000000000a"


def snapshot_path(version: int) -> Path:
    return HERE / f"schema_v{version}.db"


def make(version: int) -> Path:
    path = snapshot_path(version)
    if path.exists():
        raise SystemExit(f"{path.name} exists; snapshots are history and are not regenerated")
    conn = sqlcipher.connect(path, SNAPSHOT_KEY)
    sqlcipher.configure(conn, writer=True)
    migrations.migrate(conn, target=version)
    db = Database(path, SNAPSHOT_KEY, conn)
    store = Store(db, ORG_ID)
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with db.transaction():
        store.orgs.create(id=ORG_ID, name="Snapshot Shop")
        owner = store.users.create(name="Olga Owner", role="owner")
        store.set_meta("org_id", ORG_ID)
        store.set_meta("user_id", owner.id)
        company = store.companies.create(name="Müller GmbH", tags=["b2b"])
        contact = store.contacts.create(
            name="José Müller", phone="+4915112345678", wa_id="4915112345678@c.us", company_id=company.id, tags=["vip"]
        )
        chat = store.chats.create(contact_id=contact.id, title="José", wa_chat_id="4915112345678@c.us")
        for i, (direction, body) in enumerate(
            [("in", "Hola, ¿tienen la chaqueta azul en talla M?"), ("out", "¡Sí! Cuesta 59 €."), ("in", "Perfecto 👍")]
        ):
            store.messages.create(
                chat_id=chat.id, direction=direction, body=body, sent_at=at.replace(minute=i), wa_id=f"3EB0SNAP{i}"
            )
        pipeline = store.pipelines.create(name="Sales", is_default=True)
        stage = store.pipeline_stages.create(pipeline_id=pipeline.id, name="Proposal", position=0)
        deal = store.deals.create(
            pipeline_id=pipeline.id, stage_id=stage.id, title="Blue jacket", contact_id=contact.id
        )
        store.notes.create(body="Prefers delivery after 6pm", contact_id=contact.id, deal_id=deal.id)
        product = store.products.create(name="Blue jacket", price_minor=5900, currency="EUR", stock=4)
        sale = store.sales.create(contact_id=contact.id, amount_minor=5900, currency="EUR", sold_at=at)
        store.sale_items.create(sale_id=sale.id, product_id=product.id, quantity=1, unit_price_minor=5900)
        store.settings.appearance.theme = "dark"
        if version >= 6:  # the device that sends for the number (schema 6)
            ms = int(at.timestamp() * 1000)
            conn.execute(
                "INSERT INTO wa_sessions (org_id, id, created_at, updated_at, claim_id, device_id, device_name,"
                " linked_at, last_seen_at) VALUES (?, 'default', ?, ?, ?, 'local-snapshot', 'Shop PC', ?, ?)",
                (ORG_ID, ms, ms, "0190a000-0000-7000-8000-0000000000c1", ms, ms),
            )
            store.set_meta("whatsapp.claim", f"0190a000-0000-7000-8000-0000000000c1 {ms}")
        if version >= 8:  # a provider key kept inside the workspace (schema 8): a fixed test value, not a secret
            conn.execute(
                "INSERT INTO local_secrets (service, name, value, updated_at) VALUES ('parley-ai', 'snap', ?, ?)",
                ("sk-snapshot-0000", int(at.timestamp() * 1000)),
            )
            store.set_meta("secrets.home", "workspace")
        if version >= 10:  # media (schema 10): the reply carries a document whose bytes are in media_blobs
            doc = "Precios 2026: chaqueta azul 59 €".encode()
            blob = store.media.put(doc, "application/pdf")
            [reply] = store.messages.find_all({"wa_id": "3EB0SNAP1"})
            media = {"kind": "document", "mime": "application/pdf", "file_name": "precios.pdf", "size": len(doc)}
            store.messages.update(reply.id, kind="document", media=media | {"state": "stored", "blob_id": blob})
            store.products.update(product.id, photo_blob_id=store.media.put(b"\xff\xd8 not a real jpeg", "image/jpeg"))
        if version >= 11:  # media through the team server (schema 11): the document was uploaded, one erase queued
            ms = int(at.timestamp() * 1000)
            conn.execute("INSERT INTO media_sharing (blob_id, uploaded_since) VALUES (?, ?)", (blob, ms))
            conn.execute("INSERT INTO media_remote_deletes (blob_id, queued_at) VALUES (?, ?)", ("ab" * 32, ms))
        if version >= 12:  # durable jobs (schema 12): a follow-up three days after the sale, waiting
            store.jobs.schedule(
                "retention.followup",
                {"sale_id": sale.id},
                at + timedelta(days=3),
                f"followup:sale:{sale.id}:d3",
                now=at,
            )
        if version >= 13:  # agents (schema 13): the chat on autopilot, an automated reply, a version, a run, a check
            ms = int(at.timestamp() * 1000)
            store.chats.update(chat.id, ai_mode="autopilot", ai_handed_back_at=at)
            [reply] = store.messages.find_all({"wa_id": "3EB0SNAP1"})  # the reply was the agent's
            store.messages.update(
                reply.id, sent_by_agent="acquisition", agent_execution_id="0190a000-0000-7000-8000-0000000000e1"
            )
            store.agent_configs.create(agent="acquisition", enabled=True, mode="autopilot", version=2, note="hours")
            store.agent_executions.create(
                id="0190a000-0000-7000-8000-0000000000e1",
                agent="acquisition",
                trigger="message.received",
                status="succeeded",
                started_at=at,
                config_version=2,
                event_name="message.received",
                event_seq=1,
                chat_id=chat.id,
                action="send",
                model="openai/gpt-4o-mini",
                tokens=321,
                cost_usd=0.0004,
                duration_ms=850,
            )
            store.orgs.update(ORG_ID, business_hours={"days": {"mon": [["09:00", "18:00"]]}, "holidays": []})
            conn.execute("INSERT INTO agent_cursors (agent, last_seq, updated_at) VALUES ('acquisition', 1, ?)", (ms,))
            conn.execute(
                "INSERT INTO health_checks (checked_at, name, status, sentence, value) VALUES (?, 'disk', 'ok', ?, ?)",
                (ms, "42 GB free", 43008.0),
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


if __name__ == "__main__":
    print(make(int(sys.argv[1])))
