"""The inbox as a user drives it: open a chat, send, search and jump, notes, quick replies, unread, paging."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.events import MessageReceived
from app.qt import Qt, QtCore, QtWidgets
from app.store.ops.chats import mute
from app.ui.context import AppContext
from app.ui.models.inbox_model import PAGE, RowRole
from app.ui.pages.inbox import REFRESH_MAX, REFRESH_TASK, InboxPage
from app.ui.tray import Tray
from app.ui.widgets.composer import Draft
from tests.gui.styles import activate_on_single_click
from tests.support.graph import AT
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select


def test_list_shows_chats_newest_first_and_opens_one(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "Older", ["hi"], start=0)
    newer = seed_chat(ctx.store, "Newer", ["hello", "welcome!", "price of the red bag?"], start=50)
    page = make_page(qtbot, ctx)
    assert [page.model.row(i).display_name for i in range(page.model.rowCount())] == ["Newer", "Older"]
    select(page, newer.id)
    assert page.chat_id == newer.id
    assert page.header_name.text() == "Newer"
    texts = [page.chat_model.item(i).text for i in range(page.chat_model.rowCount())]
    assert texts[1:] == ["hello", "welcome!", "price of the red bag?"]
    assert page.chat_model.item(0).kind == "day"
    assert page.panel.name.text() == "Newer"


def test_opening_an_unread_chat_marks_it_read(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Unread", ["one", "reply", "two"])
    page = make_page(qtbot, ctx)
    assert page.model.row(0).unread_count == 1, "only what came after our reply"
    select(page, chat.id)
    qtbot.waitUntil(lambda: page.model.row(0).unread_count == 0, timeout=10000)
    assert ctx.store.total_unread() == 0


def test_ctrl_enter_queues_the_message(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["Do you deliver?"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, "Yes, tomorrow before noon.")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, ctx)
    [queued] = ctx.store.messages.send_queue()
    assert (queued.chat_id, queued.body, queued.status, queued.direction) == (
        chat.id,
        "Yes, tomorrow before noon.",
        "queued",
        "out",
    )
    assert queued.author_user_id == ctx.store.local_user_id
    qtbot.waitUntil(lambda: page.composer.edit.toPlainText() == "")
    last = page.chat_model.item(page.chat_model.rowCount() - 1)
    assert (last.text, last.status) == ("Yes, tomorrow before noon.", "queued")
    qtbot.waitUntil(lambda: page.model.row(0).last_message_status == "queued")  # the list refreshes shortly after


def test_plain_enter_makes_a_new_line(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["hi"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    qtbot.keyClicks(page.composer.edit, "line one")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)
    qtbot.keyClicks(page.composer.edit, "line two")
    assert page.composer.edit.toPlainText() == "line one\nline two"
    assert ctx.store.messages.send_queue() == []


def test_internal_note_is_not_queued(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["hi"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    page.composer.note_toggle.setChecked(True)
    qtbot.keyClicks(page.composer.edit, "VIP, offer free shipping")
    page.composer.send_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.messages.send_queue() == []
    [note] = ctx.store.notes.find_all({"chat_id": chat.id})
    assert note.body == "VIP, offer free shipping"
    qtbot.waitUntil(lambda: any(page.chat_model.item(i).kind == "note" for i in range(page.chat_model.rowCount())))


def test_slash_opens_quick_replies_with_variables(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.store.quick_replies.create(shortcut="thanks", title="Thank you", body="Thanks {first_name}! — {business}")
    chat = seed_chat(ctx.store, "Maria Lopez", ["hi"])
    page = make_page(qtbot, ctx)
    page.composer.set_quick_replies(ctx.store.quick_replies.find_all())
    select(page, chat.id)
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, "/tha")
    qtbot.waitUntil(page.composer.popup.isVisible)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)
    assert page.composer.edit.toPlainText() == "Thanks Maria! — Acme Boutique"
    assert not page.composer.popup.isVisible()


def test_search_finds_a_message_and_opens_it(qtbot: QtBot, ctx: AppContext) -> None:
    target = seed_chat(ctx.store, "Needle", ["hello", "do you have the turquoise scarf?"] + ["filler"] * 200, start=0)
    seed_chat(ctx.store, "Other", ["nothing here"], start=900)
    page = make_page(qtbot, ctx)
    page.chat_model.page = 20
    with qtbot.waitSignal(page.search_finished, timeout=10000):
        qtbot.keyClicks(page.search, "turquoise")
    assert page.left_stack.currentWidget() is page.results
    item = page.results.item(0)
    hit = item.data(Qt.ItemDataRole.UserRole + 20)
    assert hit.kind == "message"
    assert ("turquoise", True) in hit.segments
    page.results.itemClicked.emit(item)
    assert page.chat_id == target.id
    row = page.chat_model.row_of(hit.id)
    assert row >= 0, "history was loaded back far enough to show the hit"
    assert page.chat_model.highlight_id == hit.id
    page.search.clear()
    qtbot.waitUntil(lambda: page.left_stack.currentWidget() is page.list)


def test_search_without_matches_says_so(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "A", ["hello"])
    page = make_page(qtbot, ctx)
    with qtbot.waitSignal(page.search_finished, timeout=10000):
        qtbot.keyClicks(page.search, "zzzqqq")
    assert page.left_stack.currentWidget() is page.no_results


def test_list_fetches_incrementally(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    with store.db.transaction():
        for i in range(PAGE + 37):
            seed_chat(store, f"C{i:03d}", ["x"], start=i)
    page = make_page(qtbot, ctx)
    assert page.model.rowCount() == PAGE
    assert page.model.canFetchMore(QtCore.QModelIndex())
    page.list.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.rowCount() == PAGE + 37)
    assert not page.model.canFetchMore(QtCore.QModelIndex())
    assert len({page.model.row(i).chat_id for i in range(page.model.rowCount())}) == PAGE + 37


def test_filters_unread_and_mine(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "Answered", ["q", "a"], start=0)
    unread = seed_chat(ctx.store, "Waiting", ["q"], start=10)
    ctx.store.chats.update(
        seed_chat(ctx.store, "Mine", ["q", "a"], start=20).id, assigned_user_id=ctx.store.local_user_id
    )
    page = make_page(qtbot, ctx)
    page.unread.click()
    assert [page.model.row(i).chat_id for i in range(page.model.rowCount())] == [unread.id]
    page.unread.click()
    page.filter_bar.owner.setCurrentIndex(page.filter_bar.owner.findData("mine"))
    assert [page.model.row(i).display_name for i in range(page.model.rowCount())] == ["Mine"]


def test_contact_panel_edit_persists(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Old Name", ["hi"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    page.panel.name.setText("New Name")
    page.panel.tags.setText("vip, wholesale")
    page.panel.fields.insertRow(0)
    page.panel.fields.setItem(0, 0, QtWidgets.QTableWidgetItem("size"))
    page.panel.fields.setItem(0, 1, QtWidgets.QTableWidgetItem("M"))
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    contact = ctx.store.contacts.get(chat.contact_id or "")
    assert (contact.name, contact.tags, contact.custom_fields) == ("New Name", ["vip", "wholesale"], {"size": "M"})
    qtbot.waitUntil(lambda: page.model.row(0).display_name == "New Name")


def test_new_inbound_message_notifies_and_counts(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Night Owl", ["first"])
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    assert tray.unread == 1
    assert window.windowTitle().startswith("(1)")
    message = ctx.store.messages.create(
        chat_id=chat.id, direction="in", body="are you open?", sent_at=AT + timedelta(hours=1)
    )
    ctx.store.emit(
        MessageReceived(org_id=ctx.store.org_id, chat_id=chat.id, message_id=message.id, contact_id=chat.contact_id)
    )
    qtbot.waitUntil(lambda: tray.unread == 2)
    assert tray.notified == [("Night Owl", "New message")]  # no preview by default
    ctx.settings.notifications.show_preview = True
    message = ctx.store.messages.create(chat_id=chat.id, direction="in", body="hello?", sent_at=AT + timedelta(hours=2))
    ctx.store.emit(
        MessageReceived(org_id=ctx.store.org_id, chat_id=chat.id, message_id=message.id, contact_id=chat.contact_id)
    )
    qtbot.waitUntil(lambda: len(tray.notified) == 2, timeout=15_000)  # after the gap between notifications
    assert tray.notified[-1] == ("Night Owl", "hello?")


def test_a_burst_of_messages_is_one_summary_after_the_first_notification(qtbot: QtBot, ctx: AppContext) -> None:
    chats = [seed_chat(ctx.store, name, ["hi"], start=i * 10) for i, name in enumerate(("Ana", "Ben", "Cai"))]
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    for i, chat in enumerate([*chats, chats[0]]):
        message = ctx.store.messages.create(
            chat_id=chat.id, direction="in", body=f"m{i}", sent_at=AT + timedelta(hours=1, minutes=i)
        )
        ctx.store.emit(
            MessageReceived(org_id=ctx.store.org_id, chat_id=chat.id, message_id=message.id, contact_id=chat.contact_id)
        )
    qtbot.waitUntil(lambda: len(tray.notified) == 2, timeout=15_000)
    assert tray.notified == [("Ana", "New message"), ("3 new messages", "From 3 customers")]


def test_a_muted_chat_neither_notifies_nor_counts_in_the_tray(qtbot: QtBot, ctx: AppContext) -> None:
    """As in WhatsApp: a muted chat's messages arrive quietly and its unread messages leave the badge."""
    chat = seed_chat(ctx.store, "Night Owl", ["first"])
    other = seed_chat(ctx.store, "Day Lark", ["hi"], start=30)
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    assert tray.unread == 2
    mute(ctx.store, chat.id, timedelta(hours=8))
    qtbot.waitUntil(lambda: tray.unread == 1)
    message = ctx.store.messages.create(chat_id=chat.id, direction="in", body="psst", sent_at=AT + timedelta(hours=1))
    ctx.store.emit(
        MessageReceived(org_id=ctx.store.org_id, chat_id=chat.id, message_id=message.id, contact_id=chat.contact_id)
    )
    late = ctx.store.messages.create(chat_id=other.id, direction="in", body="hey", sent_at=AT + timedelta(hours=2))
    ctx.store.emit(
        MessageReceived(org_id=ctx.store.org_id, chat_id=other.id, message_id=late.id, contact_id=other.contact_id)
    )
    qtbot.waitUntil(lambda: len(tray.notified) == 1)
    assert tray.notified == [("Day Lark", "New message")]
    qtbot.waitUntil(lambda: tray.unread == 2)  # Day Lark's two; Night Owl's two do not count


def test_assigning_a_chat_persists_and_shows_in_the_list(qtbot: QtBot, ctx: AppContext) -> None:
    colleague = ctx.store.users.create(name="Bea Staff", role="staff")
    chat = seed_chat(ctx.store, "Buyer", ["hi"])
    page = make_page(qtbot, ctx)
    page._load_users()
    select(page, chat.id)
    assert page.assignee.currentData() is None
    page.assignee.setCurrentIndex(page.assignee.findData(colleague.id))
    wait_idle(qtbot, ctx)
    assert ctx.store.chats.get(chat.id).assigned_user_id == colleague.id
    qtbot.waitUntil(lambda: page.model.row(0).assigned_user_id == colleague.id)
    assert page.list_delegate.user_names[colleague.id] == "Bea Staff"


def test_reply_quotes_the_message(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["Is the blue one available?"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    row = next(i for i in range(page.chat_model.rowCount()) if page.chat_model.item(i).kind == "message")
    original = page.chat_model.item(row)
    page.composer.set_reply(original.id, original.text)
    assert page.composer.reply_bar.isVisible()
    qtbot.keyClicks(page.composer.edit, "Yes, size M too")
    page.composer.send_button.click()
    wait_idle(qtbot, ctx)
    [queued] = ctx.store.messages.send_queue()
    assert queued.quoted_message_id == original.id
    qtbot.waitUntil(lambda: not page.composer.reply_bar.isVisible())
    last = page.chat_model.item(page.chat_model.rowCount() - 1)
    assert last.quoted == "Is the blue one available?"


def double_click(qtbot: QtBot, view: QtWidgets.QAbstractItemView, pos: QtCore.QPoint) -> None:
    """A double-click as the platform delivers it: a click, then the second press reported as a double-click."""
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]


def _search_and_count_opens(qtbot: QtBot, ctx: AppContext, page: InboxPage) -> list[str]:
    opened: list[str] = []
    page.chat_opened.connect(opened.append)
    with qtbot.waitSignal(page.search_finished, timeout=10000):
        qtbot.keyClicks(page.search, "parcel")
    return opened


def test_a_click_on_a_search_hit_opens_the_chat_once(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["where is my parcel?"])
    unread_before = ctx.store.total_unread()
    page = make_page(qtbot, ctx)
    opened = _search_and_count_opens(qtbot, ctx, page)
    rect = page.results.visualItemRect(page.results.item(0))
    qtbot.mouseClick(page.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[no-untyped-call]
    assert opened == [chat.id]
    wait_idle(qtbot, ctx)
    assert unread_before == 1
    assert ctx.store.total_unread() == 0, "marked read once"

    opened.clear()
    double_click(qtbot, page.results, rect.center())
    assert opened == [chat.id], "a double-click opens once too"

    opened.clear()
    page.results.setCurrentRow(0)
    page.results.setFocus()
    qtbot.keyClick(page.results, Qt.Key.Key_Return)
    assert opened == [chat.id], "Enter opens the current hit"


def test_a_click_opens_once_where_the_style_activates_on_single_click(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Buyer", ["where is my parcel?"])
    page = make_page(qtbot, ctx)
    activate_on_single_click(page.results)
    opened = _search_and_count_opens(qtbot, ctx, page)
    rect = page.results.visualItemRect(page.results.item(0))
    qtbot.mouseClick(page.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[no-untyped-call]
    assert opened == [chat.id]
    opened.clear()
    double_click(qtbot, page.results, rect.center())
    assert opened == [chat.id]


def test_each_chat_keeps_its_own_draft(qtbot: QtBot, ctx: AppContext) -> None:
    a = seed_chat(ctx.store, "Ana", ["hi"], start=0)
    b = seed_chat(ctx.store, "Bo", ["hello"], start=10)
    page = make_page(qtbot, ctx)
    select(page, a.id)
    qtbot.keyClicks(page.composer.edit, "Ana, your order")
    first = next(i for i in range(page.chat_model.rowCount()) if page.chat_model.item(i).kind == "message")
    quoted = page.chat_model.item(first)
    page.composer.set_reply(quoted.id, quoted.text)

    select(page, b.id)
    assert page.composer.edit.toPlainText() == ""
    assert page.composer.reply_to is None
    qtbot.keyClicks(page.composer.edit, "/not a quick reply yet")
    select(page, a.id)
    assert page.composer.edit.toPlainText() == "Ana, your order"
    assert page.composer.reply_to == quoted.id
    assert page.composer.reply_bar.isVisible()
    select(page, b.id)
    assert page.composer.edit.toPlainText() == "/not a quick reply yet"
    assert not page.composer.popup.isVisible(), "restoring a draft does not open quick replies"

    # Send in A, then switch to B before the message is queued: B's draft stays, A's is gone once sent.
    select(page, a.id)
    page.composer.send_button.click()
    select(page, b.id)
    wait_idle(qtbot, ctx)
    [queued] = ctx.store.messages.send_queue()
    assert (queued.chat_id, queued.body, queued.quoted_message_id) == (a.id, "Ana, your order", quoted.id)
    assert page.composer.edit.toPlainText() == "/not a quick reply yet"
    assert page.draft_of(a.id) == Draft()
    select(page, a.id)
    assert page.composer.edit.toPlainText() == ""
    assert page.composer.reply_to is None


def test_contact_panel_saves_only_changes_and_keeps_number_types(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Importer", ["hi"])
    contact_id = chat.contact_id or ""
    ctx.store.contacts.update(contact_id, custom_fields={"orders": 3, "ratio": 0.5, "size": "M"})
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    wait_idle(qtbot, ctx)  # marking the chat read
    outbox = ctx.store.outbox.count()

    assert not page.panel.save_button.isEnabled(), "nothing to write (issue 16.3)"
    page.panel.save()
    assert ctx.tasks.idle, "nothing to write"
    assert ctx.store.outbox.count() == outbox
    assert ctx.store.contacts.get(contact_id).custom_fields == {"orders": 3, "ratio": 0.5, "size": "M"}
    assert type(ctx.store.contacts.get(contact_id).custom_fields["orders"]) is int
    assert page.panel.status.text() == "No changes to save"

    fields = page.panel.fields
    for row in range(fields.rowCount()):
        key = fields.item(row, 0).text()
        fields.item(row, 1).setText({"orders": "4", "ratio": "0.75", "size": "12"}[key])
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    saved = ctx.store.contacts.get(contact_id).custom_fields
    assert saved == {"orders": 4, "ratio": 0.75, "size": "12"}, "numbers stay numbers, text stays text"
    assert type(saved["orders"]) is int

    page.panel.email.setText("not-an-email")
    page.panel.save_button.click()
    assert page.panel.error.isVisible()
    assert "does not look like an e-mail" in page.panel.error.text()
    assert ctx.tasks.idle
    assert ctx.store.contacts.get(contact_id).email is None

    page.panel.email.setText("ana@example.com")
    page.panel.tags.setText("vip; #gold, vip")
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    assert not page.panel.error.isVisible()
    saved_contact = ctx.store.contacts.get(contact_id)
    assert (saved_contact.email, saved_contact.tags) == ("ana@example.com", ["vip", "gold"])


def test_contact_panel_needs_a_name_without_a_phone(qtbot: QtBot, ctx: AppContext) -> None:
    contact = ctx.store.contacts.create(name="No Phone")
    chat = ctx.store.chats.create(contact_id=contact.id)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="hi", sent_at=AT)
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    wait_idle(qtbot, ctx)
    page.panel.name.setText("  ")
    page.panel.save_button.click()
    assert page.panel.error.text() == "Enter a name or a phone number."
    assert ctx.tasks.idle
    assert ctx.store.contacts.get(contact.id).name == "No Phone"


def test_changes_refresh_a_bounded_part_of_the_list_and_keep_the_selection(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    with store.db.transaction():
        chats = [seed_chat(store, f"C{i:03d}", ["x"], start=i) for i in range(500)]
    page = make_page(qtbot, ctx)
    while page.model.canFetchMore(QtCore.QModelIndex()):
        page.model.fetchMore(QtCore.QModelIndex())
    assert page.model.rowCount() == 500
    chosen = chats[-11]  # the 11th newest
    select(page, chosen.id)
    assert page.list.currentIndex().row() == 10

    refreshes: list[str] = []
    ctx.tasks.started.connect(lambda name: refreshes.append(name) if name == REFRESH_TASK else None)
    other = chats[-31]
    for i in range(5):  # a burst of changes: one refresh
        store.messages.create(chat_id=other.id, direction="in", body=f"new {i}!", sent_at=AT + timedelta(days=1))
    qtbot.waitUntil(lambda: page.model.rowCount() <= REFRESH_MAX and page.model.row(0).chat_id == other.id)
    wait_idle(qtbot, ctx)
    assert refreshes == [REFRESH_TASK]
    assert page.model.rowCount() <= REFRESH_MAX
    assert page.model.canFetchMore(QtCore.QModelIndex()), "scrolling further fetches the rest again"
    assert page.list.currentIndex().data(RowRole).chat_id == chosen.id
    assert page.chat_id == chosen.id

    # A change that does not move anything updates rows in place, without a reset.
    resets: list[int] = []
    page.model.modelReset.connect(lambda: resets.append(1))
    ctx.store.chats.update(chosen.id, assigned_user_id=ctx.store.local_user_id)
    qtbot.waitUntil(lambda: page.list.currentIndex().data(RowRole).assigned_user_id == ctx.store.local_user_id)
    assert resets == []
    assert page.list.currentIndex().data(RowRole).chat_id == chosen.id


def test_jump_to_a_hit_sharing_its_second_with_many_others(qtbot: QtBot, ctx: AppContext) -> None:
    contact = ctx.store.contacts.create(name="Same Second")
    chat = ctx.store.chats.create(contact_id=contact.id)
    target = ctx.store.messages.create(chat_id=chat.id, direction="in", body="find the marigold", sent_at=AT)
    for i in range(130):  # all in the very same second, inserted after the target
        ctx.store.messages.create(chat_id=chat.id, direction="in", body=f"later {i}", sent_at=AT)
    page = make_page(qtbot, ctx)
    page.chat_model.page = 20
    page.open_chat(chat.id, around=target.id)
    assert page.chat_model.row_of(target.id) >= 0
