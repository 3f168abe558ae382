"""Campaigns (app/campaigns, app/store/ops/campaigns.py) against a real SQLCipher store: the state machine, the
audience's filters and exclusions, variants rotated per campaign, the opt-out rule, attribution and the migration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.agents import retention
from app.campaigns import audience, optout, results
from app.campaigns.replies import handle as opt_out_reply
from app.core.errors import InvalidInput
from app.core.ids import to_ms
from app.store import gdpr, keys, migrations, sqlcipher
from app.store.database import Database
from app.store.ops import automation
from app.store.ops import campaigns as ops
from app.store.sales import SaleLine, record_sale
from app.store.store import Store
from tests.unit.campaigns.rig import ORG, T0, customer, write_in


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), ORG)
    store.orgs.create(id=ORG, name="Casa Verde")
    yield store
    store.close()


def draft(store: Store, **settings: object) -> str:
    values: dict[str, object] = {"template": "Hi {first_name}, new linen shirts at {business_name}!"}
    values.update(settings)
    return ops.create_draft(store, "Linen week", **values).value.id


def reasons(store: Store, campaign_id: str) -> dict[str, str | None]:
    rows = results.recipients(store, campaign_id)
    return {r.name: (r.reason if r.status == "skipped" else r.status) for r in rows}


# ---- the state machine -----------------------------------------------------------------------------------------
def test_the_state_machine_moves_and_refuses_illegal_moves_with_sentences(store: Store) -> None:
    customer(store, 1)
    cid = draft(store)
    with pytest.raises(InvalidInput, match="Prepare it first"):
        ops.start(store, cid, now=T0)
    with pytest.raises(InvalidInput, match="nothing to pause"):
        ops.pause(store, cid, now=T0)
    assert ops.prepare(store, cid, now=T0).value.campaign.status == "prepared"
    with pytest.raises(InvalidInput, match="make it a draft again"):
        ops.edit_draft(store, cid, template="Other")
    with pytest.raises(InvalidInput, match="not paused; start it"):
        ops.resume(store, cid, now=T0)
    assert ops.start(store, cid, now=T0).value.status == "running"
    with pytest.raises(InvalidInput, match="running already"):
        ops.start(store, cid, now=T0)
    with pytest.raises(InvalidInput, match="only a campaign that has not started can be edited"):
        ops.unprepare(store, cid)
    assert ops.pause(store, cid, now=T0).value.status == "paused"
    with pytest.raises(InvalidInput, match="paused already"):
        ops.pause(store, cid, now=T0)
    assert ops.resume(store, cid, now=T0).value.status == "running"
    assert ops.cancel(store, cid, now=T0).value.status == "cancelled"
    with pytest.raises(InvalidInput, match="is cancelled; nothing more can happen"):
        ops.resume(store, cid, now=T0)


def test_a_prepared_campaign_goes_back_to_draft_and_its_audience_is_dropped(store: Store) -> None:
    customer(store, 1)
    cid = draft(store)
    ops.prepare(store, cid, now=T0)
    assert ops.unprepare(store, cid).value.status == "draft"
    assert results.recipients(store, cid) == []
    assert ops.edit_draft(store, cid, template="Hello {name}").value.template == "Hello {name}"


def test_a_draft_refuses_unknown_variables_and_looser_nonsense_pace(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"\{coupon\}"):
        draft(store, template="Hi {first_name}, use {coupon}")
    with pytest.raises(InvalidInput, match="shortest gap"):
        draft(store, pace={"gap_min_seconds": 90, "gap_max_seconds": 30})
    cid = draft(store, pace={"gap_min_seconds": 60, "per_day": 50})
    assert store.campaigns.get(cid).pace == {"gap_min_seconds": 60.0, "per_day": 50}


# ---- the audience ------------------------------------------------------------------------------------------------
def test_prepare_freezes_the_audience_with_every_exclusion_and_its_reason(store: Store) -> None:
    customer(store, 1, name="Ana Ok")
    customer(store, 2, name="Bea Consent", consent="opted_out", consent_source="keyword", consent_at=T0)
    customer(store, 3, name="Caio Label", tags=["opted out"])
    store.contacts.create(name="Dora Nonumber")
    _, chat = customer(store, 5, name="Eva Duplicate")
    store.messages.create(
        chat_id=chat.id,
        direction="out",
        body="Hi Eva, new linen shirts at Casa Verde!",
        status="sent",
        sent_at=T0 - timedelta(hours=3),
    )
    ok = ops.prepare(store, draft(store), now=T0).value
    assert reasons(store, ok.campaign.id) == {
        "Ana Ok": "queued",
        "Bea Consent": "opted_out",
        "Caio Label": "opted_out",
        "Dora Nonumber": "no_whatsapp_number",
        "Eva Duplicate": "duplicate_24h",
    }
    assert (ok.included, ok.excluded) == (1, {"opted_out": 2, "no_whatsapp_number": 1, "duplicate_24h": 1})
    (ana,) = results.recipients(store, ok.campaign.id, status="queued")
    assert ana.body == "Hi Ana, new linen shirts at Casa Verde!"  # frozen, rendered


def test_prepare_excludes_no_consent_and_prefers_contacts_who_wrote_lately(store: Store) -> None:
    _, recent = customer(store, 1, name="Ana Recent", consent="opted_in")
    _, old = customer(store, 2, name="Bea Old", consent="opted_in")
    customer(store, 3, name="Caio Unknown")
    write_in(store, recent, "hello", T0 - timedelta(days=2))
    write_in(store, old, "hello", T0 - timedelta(days=30))
    cid = draft(store, require_consent=True, recent_days=7)
    ops.prepare(store, cid, now=T0)
    assert reasons(store, cid) == {"Ana Recent": "queued", "Bea Old": "not_recent", "Caio Unknown": "no_consent"}


def test_nobody_left_is_refused_with_the_reasons(store: Store) -> None:
    customer(store, 1, consent="opted_out")
    with pytest.raises(InvalidInput, match="1 opted out"):
        ops.prepare(store, draft(store), now=T0)


def test_the_filters_count_in_one_query_and_prepare_takes_the_same_people(store: Store) -> None:
    pipeline = store.pipelines.create(name="Sales")
    hot = store.pipeline_stages.create(pipeline_id=pipeline.id, name="Hot")
    product = store.products.create(name="Linen shirt", price_minor=5_000)
    vip, _ = customer(store, 1, tags=["VIP"], lifetime_value_minor=90_000, custom_fields={"city": "Porto"})
    customer(store, 2, tags=["vip"], lifetime_value_minor=1_000)
    other, _ = customer(store, 3, lifetime_value_minor=90_000, custom_fields={"city": "Lisboa"})
    store.deals.create(pipeline_id=pipeline.id, stage_id=hot.id, title="Shirts", contact_id=other.id)
    line = SaleLine(description="Linen shirt", unit_price_minor=5_000, product_id=product.id)
    record_sale(store, [line], contact_id=vip.id, sold_at=T0 - timedelta(days=10))

    def count(**filters: object) -> int:
        return audience.count(store, filters, T0)

    assert count() == 3
    assert count(labels_any=["vip"]) == 2
    assert count(labels_none=["VIP"]) == 1
    assert count(stage_ids=[hot.id]) == 1
    assert count(ltv_min_minor=50_000) == 2
    assert count(ltv_min_minor=50_000, labels_any=["vip"]) == 1
    assert count(custom={"city": "Porto"}) == 1
    assert count(product_ids=[product.id]) == 1
    assert count(bought_within_days=30) == 1
    assert count(bought_within_days=5) == 0
    assert count(not_bought_within_days=30) == 2
    cid = draft(store, audience={"labels_any": ["vip"], "ltv_min_minor": 50_000})
    assert ops.prepare(store, cid, now=T0).value.included == 1


# ---- variants ----------------------------------------------------------------------------------------------------
def test_variants_rotate_per_campaign_not_on_one_global_counter(store: Store) -> None:
    for n in range(4):
        customer(store, n, tags=["a"] if n < 4 else [])
    bodies = {"template": "One {first_name}", "variants": ["Two {first_name}", "Three {first_name}"]}
    first = draft(store, **bodies)
    ops.prepare(store, first, now=T0)
    assert [r.variant for r in results.recipients(store, first)] == [0, 1, 2, 0]
    assert store.campaigns.get(first).next_variant == 1
    second = ops.create_draft(store, "Second", audience={"labels_any": ["a"]}, **bodies).value.id
    ops.prepare(store, second, now=T0)
    # Whaticket's shared counter would have started this one at variant 1
    assert [r.variant for r in results.recipients(store, second)] == [0, 1, 2, 0]
    assert [r.body for r in results.recipients(store, second)][:2] == ["One Cliente", "Two Cliente"]


def test_many_people_on_one_variant_are_flagged(store: Store) -> None:
    for n in range(60):
        customer(store, n)
    prepared = ops.prepare(store, draft(store), now=T0).value
    assert prepared.warnings
    assert "60 people would get nearly the same text" in prepared.warnings[0]
    assert results.warnings(store, prepared.campaign.id) == prepared.warnings


# ---- opt-out ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["STOP", " stop. ", "Parar!", "ARRÊT", "arret", "Baja", "SAIR", "unsubscribe"])
def test_an_opt_out_word_alone_opts_out(body: str) -> None:
    assert optout.is_opt_out_word(body)


@pytest.mark.parametrize("body", ["please stop the music", "stop sending me the wrong size", "vou parar aqui", ""])
def test_a_message_that_merely_contains_the_word_does_not(body: str) -> None:
    assert not optout.is_opt_out_word(body)


def test_the_reply_listener_opts_out_records_source_and_confirms(store: Store) -> None:
    contact, chat = customer(store, 1)
    ops.set_opt_out_confirmation(store, "Done: you will not get our offers any more.")
    merely = write_in(store, chat, "please STOP the rain", T0)
    assert opt_out_reply(store, contact.id, chat.id, merely.id).skip_reason == "not_a_keyword"
    assert store.contacts.get(contact.id).consent == "unknown"
    stop = write_in(store, chat, "Stop!", T0 + timedelta(minutes=1))
    assert opt_out_reply(store, contact.id, chat.id, stop.id).action == "opted_out"
    after = store.contacts.get(contact.id)
    assert (after.consent, after.consent_source, after.consent_at) == ("opted_out", "keyword", stop.sent_at)
    assert "opted out" in after.tags
    (confirmation,) = [m for m in store.messages.find_all({"chat_id": chat.id}) if m.direction == "out"]
    assert confirmation.body.startswith("Done:")


def test_workspace_opt_out_words_per_language_count_too(store: Store) -> None:
    ops.set_opt_out_words(store, {"nl": ["afmelden"]})
    assert optout.is_opt_out_word("Afmelden!", optout.words(store))
    assert optout.words_by_language(store)["nl"] == ["afmelden"]
    with pytest.raises(InvalidInput):
        ops.set_opt_out_words(store, {"en": ["x" * 80]})


def test_retention_follows_the_same_opt_out_rule(store: Store) -> None:
    contact, _ = customer(store, 1, consent="opted_out")
    assert retention.has_opt_out_label(contact)  # consent alone, no label
    assert retention.is_stop_keyword("PARAR")
    assert not retention.is_stop_keyword("vou parar aqui")


def test_consent_is_exported_with_the_contacts_data(store: Store) -> None:
    contact, _ = customer(store, 1)
    ops.opt_in(store, contact.id, "form", now=T0)
    data = gdpr.export_contact(store, contact.id)
    assert data["consent"] == {"state": "opted_in", "source": "form", "at": T0.isoformat()}


# ---- results ------------------------------------------------------------------------------------------------------
def test_replies_and_sales_are_attributed_within_their_windows(store: Store) -> None:
    people = [customer(store, n) for n in range(4)]
    cid = draft(store, reply_window_hours=72, sale_window_hours=48)
    ops.prepare(store, cid, now=T0)
    ops.start(store, cid, now=T0)
    for _ in people:
        sent = ops.send_next(store, cid, now=T0).value.message
        assert sent is not None
        store.messages.update(sent.id, status="read", sent_at=T0)
    (a, a_chat), (b, b_chat), (c, _), (d, _) = people
    write_in(store, a_chat, "Lovely, do you have blue?", T0 + timedelta(hours=10))
    write_in(store, b_chat, "Lovely, do you have blue?", T0 + timedelta(hours=100))  # after the window
    line = [SaleLine(description="Linen shirt", unit_price_minor=5_000)]
    record_sale(store, line, contact_id=c.id, currency="EUR", sold_at=T0 + timedelta(days=1))
    record_sale(store, line, contact_id=d.id, currency="EUR", sold_at=T0 + timedelta(days=5))  # after the window
    ops.follow_messages(store, cid, now=T0 + timedelta(days=6))
    figures = results.funnel(store, cid)
    assert (figures.sent, figures.delivered, figures.read, figures.replied) == (4, 4, 4, 1)
    assert (figures.bought, figures.revenue_minor) == (1, {"EUR": 5_000})
    rows = {r.contact_id: r for r in results.recipients(store, cid)}
    assert rows[a.id].status == "replied"
    assert rows[a.id].replied_at is not None
    assert rows[b.id].status == "read"
    assert (rows[c.id].bought_minor, rows[d.id].bought_minor) == (5_000, 0)


# ---- the migration ----------------------------------------------------------------------------------------------
def test_schema_15_renames_the_old_campaign_states(tmp_path: Path) -> None:
    key = keys.random_key()
    conn = sqlcipher.connect(tmp_path / "old.db", key)
    sqlcipher.configure(conn, writer=True)
    migrations.migrate(conn, target=14)
    ms = to_ms(T0)
    conn.execute(
        "INSERT INTO contacts (org_id, id, created_at, updated_at, name) VALUES ('o', 'k1', ?, ?, 'Ana')", (ms, ms)
    )
    for cid, status in (("c1", "scheduled"), ("c2", "done"), ("c3", "running")):
        conn.execute(
            "INSERT INTO campaigns (org_id, id, created_at, updated_at, name, status) VALUES ('o', ?, ?, ?, 'x', ?)",
            (cid, ms, ms, status),
        )
    conn.execute(
        "INSERT INTO campaign_recipients (org_id, id, created_at, updated_at, campaign_id, contact_id, status, error) "
        "VALUES ('o', 'r1', ?, ?, 'c3', 'k1', 'pending', NULL), ('o', 'r2', ?, ?, 'c3', 'k1', 'failed', 'gone')",
        (ms, ms, ms, ms),
    )
    migrations.migrate(conn)
    assert conn.execute("SELECT id, status FROM campaigns ORDER BY id").fetchall() == [
        ("c1", "prepared"),
        ("c2", "completed"),
        ("c3", "running"),
    ]
    assert conn.execute("SELECT id, status, reason FROM campaign_recipients ORDER BY id").fetchall() == [
        ("r1", "queued", None),
        ("r2", "failed", "gone"),
    ]
    assert conn.execute("SELECT consent FROM contacts").fetchall() == [("unknown",)]
    conn.close()


def test_a_test_send_goes_to_one_contact_before_the_run_and_honours_the_halt(store: Store) -> None:
    ana, chat = customer(store, 1, name="Ana Souza")
    customer(store, 2)
    cid = draft(store)
    sent = ops.send_test(store, cid, ana.id, now=T0).value
    assert sent.message is not None
    assert (sent.message.chat_id, sent.message.body) == (chat.id, "Hi Ana, new linen shirts at Casa Verde!")
    assert store.campaigns.get(cid).test_contact_id == ana.id
    automation.halt(store, automation.MANUAL, "Stopped by a person.", now=T0)
    assert ops.send_test(store, cid, ana.id, now=T0).value.reason == "halted"
    automation.resume(store)
    ops.prepare(store, cid, now=T0)
    ops.start(store, cid, now=T0)
    with pytest.raises(InvalidInput, match="a test is sent before it starts"):
        ops.send_test(store, cid, ana.id, now=T0)
