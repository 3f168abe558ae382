"""An agent's draft and an agreed sale on top of the chat's AI panel, against a real store: a draft run appears by
itself, Use fills the composer, Send queues a person's message, Dismiss hides it, a newer message outdates it; a
pending agreed sale is confirmed in one click (one sale, ``SaleCompleted``) or set aside as not a sale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytestqt.qtbot import QtBot

from app.core.events import SaleCompleted
from app.core.ids import utc_now
from app.core.models import AgentExecution
from app.qt import Qt
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.agent_drafts import AgentDrafts
from tests.support.ai_chat import ShopChat, shop_chat

WAIT = 10000
WORDS = ["Hi Maya! The Linen Shirt is $45.00.", "Shall I reserve one?"]


def _inbox(qtbot: QtBot, ctx: AppContext, chat_id: str) -> InboxPage:
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    qtbot.waitExposed(page)
    page.open_chat(chat_id)
    page.ai_panel.set_expanded(True)
    return page


def _run(ctx: AppContext, chat_id: str, agent: str = "acquisition", **detail: Any) -> AgentExecution:
    started = utc_now() + timedelta(seconds=1)  # after the chat's messages
    return ctx.store.agent_executions.create(
        agent=agent,
        trigger="message.received",
        status="succeeded",
        started_at=started,
        finished_at=started,
        chat_id=chat_id,
        action="drafted",
        detail=detail,
    )


def _drafted(qtbot: QtBot, ctx: AppContext) -> tuple[InboxPage, ShopChat, AgentDrafts]:
    shop = shop_chat(ctx.store)
    page = _inbox(qtbot, ctx, shop.chat.id)
    drafts = page.ai_panel.agent_drafts
    qtbot.waitUntil(lambda: drafts.chat_id == shop.chat.id)
    assert not drafts.draft_box.isVisible()
    _run(ctx, shop.chat.id, draft=WORDS)  # the agent writes its run: the panel follows the table change
    qtbot.waitUntil(lambda: drafts.draft_box.isVisible(), timeout=WAIT)
    return page, shop, drafts


def test_a_draft_run_appears_on_top_of_the_panel_and_use_fills_the_composer(qtbot: QtBot, ctx: AppContext) -> None:
    page, _shop, drafts = _drafted(qtbot, ctx)
    assert drafts.draft_title.text().startswith("Drafted by the acquisition agent · ")
    assert drafts.draft_text.text() == "\n\n".join(WORDS)
    assert "from an agent" in page.ai_panel.toggle.text()
    qtbot.mouseClick(drafts.use_button, Qt.MouseButton.LeftButton)
    assert page.composer.edit.toPlainText() == "\n\n".join(WORDS)


def test_send_queues_the_draft_as_a_persons_reply(qtbot: QtBot, ctx: AppContext) -> None:
    _page, shop, drafts = _drafted(qtbot, ctx)
    before = ctx.store.messages.count({"chat_id": shop.chat.id, "direction": "out"})
    with qtbot.waitSignal(drafts.queued, timeout=WAIT):
        qtbot.mouseClick(drafts.send_button, Qt.MouseButton.LeftButton)
    out = ctx.store.messages.find_all({"chat_id": shop.chat.id, "direction": "out"}, order_by="created_at")
    assert len(out) == before + 2
    assert [m.body for m in out[-2:]] == WORDS
    assert all(m.sent_by_agent is None for m in out[-2:])  # a person sent it
    qtbot.waitUntil(lambda: not drafts.draft_box.isVisible(), timeout=WAIT)


def test_dismiss_hides_the_draft(qtbot: QtBot, ctx: AppContext) -> None:
    _page, _shop, drafts = _drafted(qtbot, ctx)
    qtbot.mouseClick(drafts.dismiss_button, Qt.MouseButton.LeftButton)
    assert not drafts.draft_box.isVisible()
    with qtbot.waitSignal(drafts.shown, timeout=WAIT):
        drafts.refresh()  # read again: still hidden on this computer
    assert not drafts.draft_box.isVisible()


def test_a_newer_customer_message_hides_a_stale_draft(qtbot: QtBot, ctx: AppContext) -> None:
    _page, shop, drafts = _drafted(qtbot, ctx)
    later = utc_now() + timedelta(seconds=5)
    ctx.store.messages.create(
        chat_id=shop.chat.id, direction="in", body="Actually, blue?", sent_at=later, created_at=later
    )
    qtbot.waitUntil(lambda: not drafts.draft_box.isVisible(), timeout=WAIT)


def _agreed(qtbot: QtBot, ctx: AppContext) -> tuple[ShopChat, AgentDrafts]:
    shop = shop_chat(ctx.store)
    page = _inbox(qtbot, ctx, shop.chat.id)
    drafts = page.ai_panel.agent_drafts
    shirt = next(p for p in shop.products if p.name == "Linen Shirt")
    sale = {
        "product": shirt.name,
        "amount": "90.0",
        "product_id": shirt.id,
        "quantity": 2,
        "amount_minor": 9000,
        "currency": "USD",
        "message_id": None,
        "contact_id": shop.contact.id,
    }
    _run(ctx, shop.chat.id, sale=sale, sale_exact=True)
    qtbot.waitUntil(lambda: drafts.sale_box.isVisible(), timeout=WAIT)
    assert drafts.sale_label.text() == "Agreed sale: 2 × Linen Shirt, $90.00"  # the app's one money formatter
    return shop, drafts


def test_confirm_records_one_sale_and_hides_the_chip(qtbot: QtBot, ctx: AppContext) -> None:
    shop, drafts = _agreed(qtbot, ctx)
    completed: list[SaleCompleted] = []
    stop = ctx.store.bus.subscribe(SaleCompleted, completed.append)
    try:
        with qtbot.waitSignal(drafts.confirmed, timeout=WAIT):
            qtbot.mouseClick(drafts.confirm_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not drafts.sale_box.isVisible(), timeout=WAIT)
    finally:
        stop()
    # What the click did is said where the sale was (it vanished without a word, seen in the app).
    assert drafts.sale_done.isVisible()
    assert drafts.sale_done.text() == "Sale recorded: 2 × Linen Shirt, $90.00 — in Products & Sales."
    sales = ctx.store.sales.find_all({"chat_id": shop.chat.id})
    assert len(sales) == 1
    assert sales[0].contact_id == shop.contact.id
    qtbot.waitUntil(lambda: len(completed) == 1, timeout=WAIT)
    with qtbot.waitSignal(drafts.shown, timeout=WAIT):
        drafts.refresh()
    assert not drafts.sale_box.isVisible()  # recorded on the run: not offered again (here or on a teammate's device)


def test_not_a_sale_hides_the_chip(qtbot: QtBot, ctx: AppContext) -> None:
    shop, drafts = _agreed(qtbot, ctx)
    qtbot.mouseClick(drafts.decline_button, Qt.MouseButton.LeftButton)
    assert not drafts.sale_box.isVisible()
    assert drafts.sale_done.isVisible()
    assert drafts.sale_done.text() == "Set aside: not recorded as a sale."
    qtbot.waitUntil(
        lambda: any(
            r.detail.get("sale_declined") for r in ctx.store.agent_executions.find_all({"chat_id": shop.chat.id})
        ),
        timeout=WAIT,
    )
    with qtbot.waitSignal(drafts.shown, timeout=WAIT):
        drafts.refresh()
    assert not drafts.sale_box.isVisible()
    assert ctx.store.sales.count({"chat_id": shop.chat.id}) == 0


def test_a_collapsed_panel_says_an_agent_left_something_in_full(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: the collapsed panel kept the width of "AI replies", so "AI replies · from an agent" showed as
    "AI r…gent"."""
    shop = shop_chat(ctx.store)
    page = _inbox(qtbot, ctx, shop.chat.id)
    panel = page.ai_panel
    panel.set_expanded(False)
    drafts = panel.agent_drafts
    qtbot.waitUntil(lambda: drafts.chat_id == shop.chat.id)
    _run(ctx, shop.chat.id, draft=WORDS)
    qtbot.waitUntil(lambda: "from an agent" in panel.toggle.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: panel.toggle.width() >= panel.toggle.sizeHint().width(), timeout=WAIT)
