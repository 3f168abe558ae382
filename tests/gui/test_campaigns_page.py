"""The Campaigns page on a real SQLCipher workspace: a new campaign's filters with a live count that matches the store,
versions of the message with their previews and the near-identical warning, preparing shows who is left out and why,
the moves follow the state machine (and a refused one shows the operation's sentence), and the results show the
funnel for recipients in each state, following the runner's changes by themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.campaigns import audience, results
from app.core.ids import utc_now
from app.core.models import Chat, Contact
from app.qt import Qt, QtWidgets
from app.store.ops import campaigns as ops
from app.store.ops.sales import record_sale
from app.store.sales import SaleLine
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.campaigns import CampaignsPage
from app.ui.pages.campaigns_editor import Checklist
from app.ui.sections import SECTIONS
from tests.support.gui import wait_idle


def customer(store: Store, n: int, **fields: object) -> tuple[Contact, Chat]:
    values: dict[str, object] = {"name": f"Cliente {n} Silva", "phone": f"+55119{n:08d}", "wa_id": f"55119{n:08d}@c.us"}
    values.update(fields)
    contact = store.contacts.create(**values)
    chat = store.chats.create(contact_id=contact.id, wa_chat_id=f"55119{n:08d}@c.us", title=contact.name)
    return contact, chat


def make_page(qtbot: QtBot, ctx: AppContext) -> CampaignsPage:
    page = CampaignsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.list_stack.currentWidget() is not None and ctx.tasks.idle)
    return page


def new_campaign(qtbot: QtBot, ctx: AppContext, page: CampaignsPage) -> str:
    page.new.click()
    qtbot.waitUntil(lambda: page.current is not None and page.editor.campaign is not None)
    wait_idle(qtbot, ctx)
    assert page.current is not None
    return page.current.id


def tick(checklist: Checklist, value: str) -> None:
    [action] = [a for a in checklist.menu_.actions() if a.data() == value]
    action.setChecked(True)


def open_by_keyboard(qtbot: QtBot, ctx: AppContext, page: CampaignsPage, campaign_id: str) -> None:
    page.refresh()
    qtbot.waitUntil(lambda: any(r.campaign.id == campaign_id for r in page.rows))
    row = next(i for i, r in enumerate(page.rows) if r.campaign.id == campaign_id)
    page.table.setFocus()
    page.table.setCurrentCell(row, 0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == campaign_id)
    wait_idle(qtbot, ctx)


def test_the_campaigns_section_is_the_campaigns_page(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    assert isinstance(window.show_section("campaigns"), CampaignsPage)


def test_a_new_campaigns_filters_count_live_as_the_store_does_and_save(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    for n in range(1, 4):
        customer(store, n, tags=["VIP"], lifetime_value_minor=n * 10_000)
    for n in range(4, 9):
        customer(store, n, tags=["Wholesale"], lifetime_value_minor=500)
    store.tags.create(name="VIP")
    store.tags.create(name="Wholesale")
    page = make_page(qtbot, ctx)
    assert page.list_stack.currentWidget() is page.empty, "no campaigns: the empty state offers one"
    cid = new_campaign(qtbot, ctx, page)
    editor = page.editor
    qtbot.waitUntil(lambda: editor.count_label.text() == "8 contacts match")
    assert page.tabs.currentWidget() is editor

    tick(editor.labels_any, "VIP")
    assert editor.count_label.text() == "Counting…"
    want = audience.count(store, {"labels_any": ["VIP"]}, utc_now())
    assert want == 3
    qtbot.waitUntil(lambda: editor.count_label.text() == "3 contacts match")
    editor.ltv_min.setText("150")
    want = audience.count(store, {"labels_any": ["VIP"], "ltv_min_minor": 15_000}, utc_now())
    qtbot.waitUntil(lambda: editor.count_label.text() == f"{want} contacts match")
    assert want == 2
    editor.ltv_min.setText("lots")
    qtbot.waitUntil(editor.filter_error.isVisible)
    assert "not an amount" in editor.filter_error.text()
    editor.ltv_min.setText("150")
    qtbot.waitUntil(lambda: editor.count_label.text() == "2 contacts match")

    editor.name.setText("Linen week")
    editor.variants[0].text.setPlainText("Hi {first_name}, the linen shirts are back!")
    assert page.save.isEnabled()
    qtbot.keyClick(editor.name, Qt.Key.Key_Return)  # Enter in the name saves
    qtbot.waitUntil(lambda: store.campaigns.get(cid).name == "Linen week")
    saved = store.campaigns.get(cid)
    assert saved.audience == {"labels_any": ["VIP"], "ltv_min_minor": 15_000}
    assert saved.template == "Hi {first_name}, the linen shirts are back!"
    qtbot.waitUntil(lambda: not page.save.isEnabled())


def test_versions_previews_and_the_near_identical_warning(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    for n in range(1, 62):
        customer(store, n, name=f"Marta {n} Costa")
    page = make_page(qtbot, ctx)
    cid = new_campaign(qtbot, ctx, page)
    editor = page.editor
    qtbot.waitUntil(lambda: editor.count_label.text() == "61 contacts match")
    first = editor.variants[0]
    first.text.setFocus()
    first.text.setPlainText("Hi ")
    first.text.moveCursor(first.text.textCursor().MoveOperation.End)
    editor.insert_variable("first_name")
    first.text.insertPlainText(", new shirts at {business_name}.")
    assert first.text.toPlainText() == "Hi {first_name}, new shirts at {business_name}."
    assert first.preview.text() == "Preview: Hi Marta, new shirts at Acme Boutique."
    qtbot.waitUntil(editor.warning.isVisible)  # 61 people, one text
    assert "61 people would get nearly the same text" in editor.warning.text()

    editor.add_variant.click()
    assert len(editor.variants) == 2
    second = editor.variants[1]
    assert second.heading.text() == "Version 2"
    second.text.insertPlainText("Hello {name}! ")
    editor.variable_buttons[3].click()  # {product}: into the version last written in
    assert second.text.toPlainText() == "Hello {name}! {product}"
    assert second.preview.text() == "Preview: Hello Marta 1 Costa! our products"
    assert not editor.warning.isVisible(), "31 people per version is under the limit"
    second.text.setPlainText("Hi {coupon}")
    assert second.preview.objectName() == "error"
    assert "{coupon}" in second.preview.text()
    second.text.setPlainText("Hello {name}, the linen is in.")
    editor.add_variant.click()
    editor.variants[2].text.setPlainText("A third one")
    editor.variants[1].remove.click()
    assert [b.heading.text() for b in editor.variants] == ["Version 1", "Version 2"]
    editor.stricter.setChecked(True)
    editor.pace["gap_min_seconds"].setValue(90)
    editor.pace["per_day"].setValue(40)
    page.save.click()
    qtbot.waitUntil(lambda: store.campaigns.get(cid).variants == ["A third one"])
    saved = store.campaigns.get(cid)
    assert saved.template == "Hi {first_name}, new shirts at {business_name}."
    assert saved.pace == {"gap_min_seconds": 90.0, "per_day": 40}


def test_prepare_shows_who_is_left_out_and_why(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    customer(store, 1, name="Ana Ok")
    customer(store, 2, name="Bea Ok")
    customer(store, 3, name="Caio Stop", consent="opted_out", consent_source="keyword", consent_at=utc_now())
    customer(store, 4, name="Dina Label", tags=["opted out"])
    store.contacts.create(name="Eli Nonumber")
    customer(store, 6, name="")  # a customer who never gave a name: listed by number
    cid = ops.create_draft(store, "Linen week", template="Hi {first_name}!").value.id
    page = make_page(qtbot, ctx)
    open_by_keyboard(qtbot, ctx, page, cid)
    assert page.tabs.currentWidget() is page.editor
    assert page.audience.stack.currentWidget() is page.audience.empty, "a draft has no frozen audience"
    page.prepare.click()
    qtbot.waitUntil(lambda: store.campaigns.get(cid).status == "prepared")
    qtbot.waitUntil(lambda: page.audience.stack.currentWidget() is page.audience.body)
    assert page.tabs.currentWidget() is page.audience
    assert page.audience.summary.text() == "6 matched the filters: 3 get it, 3 left out"
    reasons = page.audience.reasons
    shown = {reasons.item(r, 0).text(): reasons.item(r, 1).text() for r in range(reasons.rowCount())}
    assert shown == {"Opted out": "2", "No WhatsApp number": "1"}
    people = page.audience.people
    listed = [tuple(people.item(r, c).text() for c in range(3)) for r in range(people.rowCount())]
    assert listed == [
        ("Caio Stop", "—", "Opted out"),
        ("Dina Label", "—", "Opted out"),
        ("Eli Nonumber", "—", "No WhatsApp number"),
        ("Ana Ok", "Version 1", ""),
        ("Bea Ok", "Version 1", ""),
        ("+55 11 90000-0006", "Version 1", ""),
    ], "the frozen audience, left out first"
    assert page.notice.text() == "Prepared: 3 get it, 3 left out."
    assert page.editor.name.isEnabled() is False, "a prepared campaign is not edited"


def test_the_moves_follow_the_state_machine_and_a_refusal_shows_its_sentence(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    customer(store, 1, tags=["Instagram"], lifetime_value_minor=9_000)
    customer(store, 2, tags=["VIP"], lifetime_value_minor=9_000)
    store.tags.create(name="VIP")
    filters = {"labels_any": ["VIP", "Instagram"], "ltv_min_minor": 5_000}  # a label no contact has yet, too
    cid = ops.create_draft(store, "Linen week", template="Hi {first_name}!", audience=filters).value.id
    page = make_page(qtbot, ctx)
    page.open_campaign(cid)
    qtbot.waitUntil(lambda: page.current is not None)
    wait_idle(qtbot, ctx)
    assert sorted(page.editor.labels_any.chosen()) == ["Instagram", "VIP"]
    assert not page.editor.is_edited(), "opening a draft changes nothing: Save stays off"

    def shown() -> dict[str, bool]:
        return {b.text(): b.isEnabled() for b in page.moves if not b.isHidden()}

    assert page.state.text() == "Draft"
    assert shown() == {"Save": False, "Prepare": True, "Start": False, "Cancel campaign…": True}
    page.prepare.click()
    qtbot.waitUntil(lambda: page.state.text() == "Prepared")
    assert shown() == {"Edit again": True, "Start": True, "Cancel campaign…": True}
    assert page.send_test.isVisible()
    page.start.click()
    qtbot.waitUntil(lambda: page.state.text() == "Running")
    assert store.campaigns.get(cid).status == "running"
    assert shown() == {"Pause": True, "Cancel campaign…": True}
    assert not page.send_test.isVisible(), "a test goes before the start"
    assert page.tabs.currentWidget() is page.results
    page.pause.click()
    qtbot.waitUntil(lambda: page.state.text() == "Paused")
    assert shown() == {"Resume": True, "Cancel campaign…": True}

    ops.resume(store, cid)  # a teammate resumed it; the page has not heard yet
    page.resume.click()
    qtbot.waitUntil(page.error.isVisible)
    assert page.error.text() == "The campaign “Linen week” cannot be started. It is running already."
    qtbot.waitUntil(lambda: page.state.text() == "Running")  # and the change arrives by itself

    page.cancel.click()
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible())
    box = page.confirm_box
    assert box is not None
    assert store.campaigns.get(cid).status == "running", "Cancel asks first"
    assert sorted(b.text() for b in box.buttons()) == ["Cancel campaign", "Keep it"]
    [yes] = [b for b in box.buttons() if b.text() == "Cancel campaign"]
    yes.click()
    qtbot.waitUntil(lambda: page.state.text() == "Cancelled")
    assert store.campaigns.get(cid).status == "cancelled"
    assert shown() == {}
    qtbot.keyClick(page.tabs, Qt.Key.Key_Escape)  # Esc goes back to the list
    assert page.stack.currentWidget() is page.list_page
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.table.item(0, 1).text() == "Cancelled")


def test_a_test_send_goes_to_the_chosen_contact(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    customer(store, 1, name="Ana Ribeiro")
    bea, _ = customer(store, 2, name="Bea Souza")
    cid = ops.create_draft(store, "Linen week", template="Hi {first_name}!").value.id
    page = make_page(qtbot, ctx)
    page.open_campaign(cid)
    qtbot.waitUntil(lambda: page.current is not None and page.test_to.count() == 2)
    page.test_to.setEditText("bea")
    page.send_test.click()
    qtbot.waitUntil(page.notice.isVisible)
    assert page.notice.text().startswith("A test is queued for Bea Souza")
    assert store.campaigns.get(cid).test_contact_id == bea.id
    [message] = [m for m in store.messages.find_all({"direction": "out"}) if m.sent_by_agent == "campaign"]
    assert message.body == "Hi Bea!"


def test_results_show_the_funnel_and_each_recipient_and_follow_the_runner(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    for n in range(1, 7):
        customer(store, n, name=f"Person {n}")
    cid = ops.create_draft(store, "Linen week", template="Hi {first_name}!").value.id
    ops.prepare(store, cid)
    ops.start(store, cid)

    def send_one(status: str) -> str:
        sent = ops.send_next(store, cid, holds=lambda _s: True).value
        assert sent.message is not None
        at = utc_now()
        store.messages.update(sent.message.id, status=status, sent_at=at)
        return sent.message.chat_id

    send_one("sent")
    send_one("delivered")
    send_one("read")
    replied_chat = send_one("read")
    failed = ops.send_next(store, cid, holds=lambda _s: True).value.message
    assert failed is not None
    store.messages.update(failed.id, status="failed", status_reason="WhatsApp showed an error when sending.")
    store.messages.create(
        chat_id=replied_chat,
        direction="in",
        body="Yes please!",
        status="received",
        sent_at=utc_now() + timedelta(seconds=2),
    )
    buyer = store.chats.get(replied_chat).contact_id
    record_sale(store, [SaleLine(description="Linen shirt", unit_price_minor=4_500)], contact_id=buyer,
                sold_at=utc_now() + timedelta(seconds=5))  # fmt: skip
    ops.follow_messages(store, cid, now=utc_now() + timedelta(seconds=10))

    page = make_page(qtbot, ctx)
    open_by_keyboard(qtbot, ctx, page, cid)
    view = page.results
    assert page.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.body)
    funnel = results.funnel(store, cid)
    assert (funnel.sent, funnel.delivered, funnel.read, funnel.replied, funnel.bought) == (4, 3, 2, 1, 1)
    figures = {name: f.value.text() for name, f in view.figures.items()}
    assert figures == {"sent": "4", "delivered": "3", "read": "2", "replied": "1", "bought": "1", "revenue": "$45.00"}
    assert view.figures["sent"].detail.text() == "of 6"
    assert view.figures["replied"].detail.text() == "25 % of sent"
    assert view.progress.text() == "1 still to go · 1 failed"
    table = view.table
    statuses = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text()) for r in range(6)}
    assert statuses == {
        "Person 1": ("Sent", ""),
        "Person 2": ("Delivered", ""),
        "Person 3": ("Read", ""),
        "Person 4": ("Replied", ""),
        "Person 5": ("Failed", "WhatsApp showed an error when sending."),
        "Person 6": ("Waiting", ""),
    }
    assert table.item(3, 6).text() == "$45.00"

    # the runner goes on: the last one is sent and delivered; the page follows without being reopened
    last = send_one("delivered")
    assert last
    ops.follow_messages(store, cid)
    qtbot.waitUntil(lambda: view.figures["sent"].value.text() == "5")
    assert view.figures["delivered"].value.text() == "4"
    assert view.progress.text() == "1 failed"

    view.status.setCurrentIndex(view.status.findData("failed"))
    qtbot.waitUntil(lambda: table.rowCount() == 1)
    assert table.item(0, 0).text() == "Person 5"


def test_a_draft_edited_and_left_asks_first(qtbot: QtBot, ctx: AppContext) -> None:
    customer(ctx.store, 1)
    page = make_page(qtbot, ctx)
    new_campaign(qtbot, ctx, page)
    page.editor.variants[0].text.setPlainText("Hi!")
    qtbot.keyClick(page.editor.name, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible())
    assert page.stack.currentWidget() is page.campaign_page
    box = page.confirm_box
    assert box is not None
    [leave] = [b for b in box.buttons() if b.text() == "Leave without saving"]
    leave.click()
    assert page.stack.currentWidget() is page.list_page
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert isinstance(page.table, QtWidgets.QTableWidget)


def test_a_prepared_campaign_to_many_with_one_text_is_flagged(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    for n in range(1, 53):
        customer(store, n)
    cid = ops.create_draft(store, "Linen week", template="Hi {first_name}!").value.id
    ops.prepare(store, cid)
    page = make_page(qtbot, ctx)
    page.open_campaign(cid)
    qtbot.waitUntil(lambda: page.audience.stack.currentWidget() is page.audience.body)
    assert page.tabs.currentWidget() is page.audience
    assert page.audience.warning.isVisible()
    assert page.audience.warning.text().startswith("52 people would get nearly the same text (version 1)")
    assert not page.audience.reasons_box.isVisible(), "nobody is left out: no reasons to list"


@pytest.mark.qt_log_ignore("^This plugin does not support grabbing the keyboard", extend=True)  # an open menu
def test_a_checklist_stays_open_while_labels_are_ticked(qtbot: QtBot, ctx: AppContext) -> None:
    for name in ("VIP", "Wholesale", "Instagram"):
        ctx.store.tags.create(name=name)
    page = make_page(qtbot, ctx)
    new_campaign(qtbot, ctx, page)
    checklist = page.editor.labels_any
    menu = checklist.menu_
    menu.popup(checklist.mapToGlobal(checklist.rect().bottomLeft()))
    qtbot.waitUntil(menu.isVisible)
    for action in menu.actions()[:2]:
        menu.setActiveAction(action)
        qtbot.keyClick(menu, Qt.Key.Key_Space)
    assert menu.isVisible(), "ticking a label keeps the menu open for the next one"
    assert sorted(checklist.chosen()) == ["Instagram", "VIP"]
    assert checklist.text() == "Instagram, VIP"
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not menu.isVisible())
