"""The automated-sending budget on the WhatsApp page: used of today's cap, the next automated slot and why it waits,
read from a real SQLCipher store (messages sent in the last 24 h, the halt) and read again when a message is sent
or automated sending is halted. Waits on the widget's ``loaded`` signal, never on sleeps."""

from __future__ import annotations

import threading
from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.events import MessageStatusChanged
from app.core.ids import utc_now
from app.store.intake import CapturedChat, record_chat
from app.store.ops.automation import RATE_LIMITED, halt
from app.ui.context import AppContext
from app.ui.pages.whatsapp import WhatsAppPage
from app.whatsapp.pacing import Budget


def sent(ctx: AppContext, phone: str, minutes_ago: float, agent: str | None) -> str:
    chat = record_chat(ctx.store, CapturedChat(chat_jid=f"{phone}@c.us", title=f"+{phone}"))
    with ctx.store.db.transaction():
        message = ctx.store.messages.create(
            chat_id=chat.id,
            direction="out",
            body=f"sent {minutes_ago} minutes ago",
            status="sent",
            wa_id=f"3EB0{phone}{int(minutes_ago * 60)}",
            sent_at=utc_now() - timedelta(minutes=minutes_ago),
            sent_by_agent=agent,
            author_user_id=None,
        )
    return message.id


def make_page(qtbot: QtBot, ctx: AppContext) -> WhatsAppPage:
    page = WhatsAppPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 900)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_the_page_shows_the_budget_used_the_next_slot_and_why(qtbot: QtBot, ctx: AppContext) -> None:
    w = ctx.settings.whatsapp
    w.auto_window_start = ""  # any hour of the day: the test does not depend on when it runs
    w.gap_min_seconds, w.gap_max_seconds = 3000, 3600
    sent(ctx, "6590000001", 60 * 30, "retention")  # yesterday: out of the rolling day
    sent(ctx, "6590000002", 90, "retention")
    sent(ctx, "6590000003", 20, "autopilot")
    sent(ctx, "6590000004", 5, None)  # a person's: not part of the automated budget
    page = make_page(qtbot, ctx)
    pacing = page.pacing
    qtbot.waitUntil(lambda: pacing.budget is not None and pacing.budget.used_today == 2, timeout=5000)
    # The number first sent 30 h ago: day 2 of its warm-up, 20 automated messages a day.
    assert pacing.used.text() == "Automated messages in the last 24 hours: 2 of 20"
    assert pacing.used.isVisible()
    assert pacing.next.text().startswith("Next automated message at ")
    assert pacing.next.text().endswith(": pause between automated messages.")

    # A send refreshes it; a halt says why everything automated waits.
    another = sent(ctx, "6590000005", 0, "away")
    with qtbot.waitSignal(pacing.loaded, timeout=5000, check_params_cb=lambda b: b.used_today == 3):
        ctx.store.emit(
            MessageStatusChanged(org_id=ctx.store.org_id, message_id=another, status="sent", previous="typing")
        )
    assert pacing.used.text() == "Automated messages in the last 24 hours: 3 of 20"
    worker = threading.Thread(target=halt, args=(ctx.store, RATE_LIMITED, "WhatsApp said: too many messages."))

    def stopped(budget: Budget) -> bool:
        return budget.why_waiting.startswith("Automated sending is stopped")

    with qtbot.waitSignal(pacing.loaded, timeout=5000, check_params_cb=stopped):
        worker.start()
    worker.join()
    assert pacing.next.text() == "Automated sending is stopped: WhatsApp said: too many messages."


def test_nothing_waiting_says_the_next_automated_message_may_go_now(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.settings.whatsapp.auto_window_start = ""
    page = make_page(qtbot, ctx)
    qtbot.waitUntil(lambda: page.pacing.budget is not None, timeout=5000)
    assert page.pacing.used.text() == "Automated messages in the last 24 hours: 0 of 20"
    assert page.pacing.next.text() == "Next automated message: now, when one is waiting."
