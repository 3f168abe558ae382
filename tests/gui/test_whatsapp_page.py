"""The WhatsApp page as a user sees it: state, QR code, commands, self-test, and the send queue with retry/cancel.

Statuses are real ``WhatsAppStatus`` snapshots fed through the bridge (one from a worker thread); the control is a
recorder standing where the supervisor would. The queue is read from a real SQLCipher store.
"""

from __future__ import annotations

import dataclasses
import threading

from pytestqt.qtbot import QtBot

from app.core.models import Chat, Message
from app.qt import QtCore
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.whatsapp import QR_SIZE, WhatsAppPage, enabled_commands
from app.ui.widgets.whatsapp_indicator import clock
from app.whatsapp.status import ConnectionState, WhatsAppStatus
from tests.support.gui import wait_idle
from tests.support.whatsapp_ui import (
    BROKEN,
    QUIET_UNTIL,
    RecordingControl,
    connected_quiet_hours,
    failed_broken,
    scan_qr,
)

S = ConnectionState


def make_page(qtbot: QtBot, ctx: AppContext) -> WhatsAppPage:
    page = WhatsAppPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 900)
    page.show()
    qtbot.waitExposed(page)
    return page


def publish(qtbot: QtBot, ctx: AppContext, status: WhatsAppStatus) -> None:
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        ctx.whatsapp.publish(status)


def seed_chat(store: Store, name: str = "Marta Ruiz") -> Chat:
    contact = store.contacts.create(name=name, phone="+34600111222")
    return store.chats.create(contact_id=contact.id)


def fail(store: Store, message: Message, reason: str = "The number is not on WhatsApp.") -> None:
    store.messages.update(message.id, status="failed", status_reason=reason)


def test_a_status_published_from_another_thread_reaches_the_page_on_the_main_thread(
    qtbot: QtBot, ctx: AppContext
) -> None:
    page = make_page(qtbot, ctx)
    threads: list[bool] = []
    ctx.whatsapp.status_changed.connect(
        lambda _s: threads.append(QtCore.QThread.currentThread() is QtCore.QCoreApplication.instance().thread())
    )
    worker = threading.Thread(target=ctx.whatsapp.publish, args=(connected_quiet_hours(),))
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        worker.start()
    worker.join()
    assert threads == [True]
    assert ctx.whatsapp.status.state is S.connected
    assert page.state.text() == "Connected"
    assert page.detail.text() == "Connected as +34 600 000 123"


def test_scan_qr_shows_the_code_large_with_the_linking_steps(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    assert not page.qr.isVisible()
    publish(qtbot, ctx, scan_qr())
    assert page.qr.isVisible()
    pixmap = page.qr.pixmap()
    assert not pixmap.isNull()
    assert pixmap.width() == QR_SIZE
    assert "Open WhatsApp on your phone › Linked devices › Link a device" in page.steps.text()
    assert page.state.text() == "Scan the QR code"
    assert page.linked.text() == "No"
    publish(qtbot, ctx, scan_qr(seed=2))  # the code rotates: the new one is shown
    assert page.qr.pixmap().toImage() != pixmap.toImage()
    publish(qtbot, ctx, connected_quiet_hours())
    assert not page.qr.isVisible()
    assert page.linked.text().startswith("Yes, connected now.")


def test_the_linked_phone_is_shown_and_says_its_number_is_not_known(qtbot: QtBot, ctx: AppContext) -> None:
    """WhatsApp Web does not show the phone's own number: the page says so instead of a bare "Yes" (issue 16)."""
    page = make_page(qtbot, ctx)
    publish(qtbot, ctx, WhatsAppStatus(state=S.connected, linked=True))
    assert page.linked.text().startswith("Yes, connected now.")
    assert "does not show the phone's own number" in page.linked.text()
    publish(qtbot, ctx, WhatsAppStatus(state=S.stopped, linked=True))
    assert page.linked.text().startswith("Yes, not connected now.")
    publish(qtbot, ctx, WhatsAppStatus(state=S.logged_out, linked=False))
    assert page.linked.text() == "No"


def test_commands_are_enabled_by_state_and_reach_the_control(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    buttons = {"connect": page.connect_button, "disconnect": page.disconnect_button, "restart": page.restart_button}
    assert not any(b.isEnabled() for b in buttons.values()), "nothing to command without a WhatsApp service"
    assert page.no_service.isVisible()
    control = RecordingControl()
    ctx.whatsapp.attach(control)
    assert not page.no_service.isVisible()
    for state in S:
        publish(qtbot, ctx, WhatsAppStatus(state=state))
        assert {name for name, b in buttons.items() if b.isEnabled()} == enabled_commands(state), state
    assert enabled_commands(S.stopped) == {"connect"}
    assert enabled_commands(S.connected) == {"disconnect", "restart"}
    assert enabled_commands(S.failed) == {"connect", "disconnect"}

    publish(qtbot, ctx, WhatsAppStatus(state=S.stopped))
    page.connect_button.click()
    publish(qtbot, ctx, WhatsAppStatus(state=S.connected))
    page.restart_button.click()
    page.disconnect_button.click()
    assert control.calls == ["connect", "restart", "disconnect"]
    ctx.whatsapp.attach(None)
    assert not page.disconnect_button.isEnabled()


def test_a_status_still_queued_at_close_reaches_no_page(qtbot: QtBot, ctx: AppContext) -> None:
    """At quit the service's last snapshot may still be queued when the workspace closes: it must not reach a page."""
    seen: list[WhatsAppStatus] = []
    ctx.whatsapp.status_changed.connect(seen.append)
    before = ctx.whatsapp.status
    ctx.whatsapp.attach(RecordingControl())
    ctx.whatsapp.publish(failed_broken())  # queued for the main thread
    ctx.whatsapp.close()
    qtbot.wait(50)
    assert seen == []
    assert ctx.whatsapp.status is before
    assert ctx.whatsapp.control is None


def test_failure_shows_the_error_the_retry_time_and_the_broken_self_test(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    ctx.whatsapp.attach(RecordingControl())
    status = failed_broken()
    publish(qtbot, ctx, status)
    assert page.state.text() == "Connection failed"
    assert page.error.isVisible()
    assert page.error.text() == "Last error: TimeoutError: the WhatsApp page did not load within 60 s"
    assert status.next_restart_at is not None
    assert page.retrying.text() == f"Retrying at {clock(status.next_restart_at, seconds=True)}"
    assert page.connect_button.text() == "Retry now"
    assert page.restarts.text() == "3"
    assert page.memory.text() == "—"
    assert ("the WhatsApp composer", "Broken") in page.health.results()
    assert ("the chat search box", "Fallback used") in page.health.results()
    assert ("the chat list", "OK") in page.health.results()
    assert status.health is not None
    assert page.health.message.text() == status.health.message
    assert page.next_send.text() == BROKEN
    assert page.model.waiting_reason == "Sending is paused"

    said = dataclasses.replace(status, detail=f"Starting again at {clock(status.next_restart_at, seconds=True)}")
    publish(qtbot, ctx, said)
    assert not page.retrying.isVisible(), "the detail already says when"

    publish(qtbot, ctx, connected_quiet_hours())
    assert not page.error.isVisible()
    assert not page.retrying.isVisible()
    assert page.connect_button.text() == "Connect"
    assert all(result == "OK" or result == "Fallback used" for _label, result in page.health.results())
    assert page.memory.text() == "312 MB"


def test_the_queue_lists_waiting_typing_and_failed_messages_with_the_next_send(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    chat = seed_chat(store)
    first = queue_outbound(store, chat.id, "Your order ships tomorrow morning")
    typing = queue_outbound(store, chat.id, "Tracking number follows")
    failed = queue_outbound(store, chat.id, "Thanks for buying!")
    store.messages.update(typing.id, status="typing")
    fail(store, failed)
    received = store.messages.create(chat_id=chat.id, direction="in", body="ok", sent_at=first.sent_at)
    page = make_page(qtbot, ctx)
    status = connected_quiet_hours()
    publish(qtbot, ctx, status)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10000)
    rows = [[page.model.index(r, c).data() for c in range(5)] for r in range(3)]
    assert rows == [
        ["Marta Ruiz", "Your order ships tomorrow morning", "Waiting", clock(first.created_at), QUIET_UNTIL],
        ["Marta Ruiz", "Tracking number follows", "Typing now", clock(typing.created_at), "Being typed in WhatsApp"],
        ["Marta Ruiz", "Thanks for buying!", "Failed", clock(failed.created_at), "The number is not on WhatsApp."],
    ]
    assert received.id not in {page.model.row(r).message_id for r in range(3)}
    assert page.queue_summary.text() == "2 waiting · 1 failed"
    assert status.queue.next_send_at is not None
    assert page.next_send.text() == f"Next send at {clock(status.queue.next_send_at)} — {QUIET_UNTIL}"
    assert not page.empty_queue.isVisible()

    page.table.selectRow(1)  # typing: WhatsApp may already hold it
    assert not page.retry_button.isEnabled()
    assert not page.cancel_button.isEnabled()
    page.table.selectRow(0)
    assert not page.retry_button.isEnabled()
    assert page.cancel_button.isEnabled()
    page.table.selectRow(2)
    assert page.retry_button.isEnabled()
    assert page.cancel_button.isEnabled()


def test_retry_puts_a_failed_message_back_in_the_queue_and_tells_the_supervisor(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    chat = seed_chat(store)
    message = queue_outbound(store, chat.id, "Here is the invoice")
    fail(store, message)
    control = RecordingControl()
    ctx.whatsapp.attach(control)
    page = make_page(qtbot, ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    page.table.selectRow(0)
    page.retry_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and page.model.row(0).status == "queued", timeout=10000)
    assert store.messages.get(message.id).status == "queued"
    assert store.messages.get(message.id).status_reason is None
    assert control.count("queue_changed") == 1
    assert page.model.row_of(message.id) == 0
    assert page.selected() is not None, "the selection stays on the message"
    assert not page.retry_button.isEnabled()
    assert page.queue_summary.text() == "1 waiting"


def test_cancel_withdraws_a_queued_message(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    chat = seed_chat(store)
    keep = queue_outbound(store, chat.id, "See you Friday")
    drop = queue_outbound(store, chat.id, "Oops, wrong chat")
    control = RecordingControl()
    ctx.whatsapp.attach(control)
    page = make_page(qtbot, ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10000)
    page.table.selectRow(page.model.row_of(drop.id))
    page.cancel_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert store.messages.find(drop.id) is None
    assert page.model.row(0).message_id == keep.id
    assert control.count("queue_changed") == 1
    assert page.selected() is None
    assert not page.cancel_button.isEnabled()


def test_a_refused_retry_is_explained_on_the_page(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    chat = seed_chat(store)
    message = queue_outbound(store, chat.id, "Last call for the sale")
    fail(store, message)
    page = make_page(qtbot, ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    page.table.selectRow(0)
    store.messages.update(message.id, status="sent", status_reason=None)  # it went out meanwhile (no event)
    page.retry_button.click()
    qtbot.waitUntil(lambda: bool(page.action_error.text()), timeout=10000)
    assert page.action_error.text() == "Only a message that failed to send can be tried again."
    wait_idle(qtbot, ctx)


def test_the_queue_is_empty_without_unsent_messages(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    qtbot.waitUntil(page.empty_queue.isVisible, timeout=10000)
    assert page.model.rowCount() == 0
    assert page.empty_queue.isVisible()
    assert not page.queue_summary.isVisible()
    assert page.health.message.text().startswith("Not checked yet")
