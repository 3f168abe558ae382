"""Who owns the conversation, in the inbox's chat header, on a real workspace: each owner's sentence, "Take over" and
"Hand back to AI" through the operations, and a reply typed on the phone pausing the AI on screen by itself."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.agents import configs
from app.core.ids import utc_now
from app.qt import Qt, QtCore
from app.ui.context import AppContext
from app.ui.widgets.ownership_banner import HAND_BACK, TAKE_OVER, OwnershipBanner
from tests.support.inbox import make_page, seed_chat, select


def chip(page: object) -> str:
    banner = page.ownership  # type: ignore[attr-defined]
    return str(banner.chip.text())


def test_the_header_says_who_owns_the_chat_and_takes_over_and_hands_back(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="autopilot")
    chat = seed_chat(store, "Bruna", ["Is the red bag still there?"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    banner = page.ownership
    qtbot.waitUntil(lambda: chip(page) == "AI autopilot")
    assert banner.isVisible()
    assert banner.action.isVisible()
    assert banner.action.text() == TAKE_OVER

    qtbot.mouseClick(banner.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chip(page) == "A person: Ana Owner")
    assert store.chats.get(chat.id).ai_mode == "off"
    assert store.chats.get(chat.id).assigned_user_id == store.local_user_id
    assert banner.action.text() == HAND_BACK

    qtbot.mouseClick(banner.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chip(page) == "AI autopilot")
    assert store.chats.get(chat.id).ai_mode is None
    assert store.chats.get(chat.id).ai_handed_back_at is not None

    # A reply typed on the phone (an outgoing message no agent sent) pauses the AI: the chip follows by itself.
    store.messages.create(chat_id=chat.id, direction="out", body="I'll check", sent_at=utc_now())
    qtbot.waitUntil(lambda: chip(page).startswith("Paused: someone on the phone or WhatsApp Web took over at "))
    assert "(until " in chip(page)
    assert banner.action.text() == HAND_BACK
    qtbot.mouseClick(banner.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chip(page) == "AI autopilot")

    # A teammate takes the chat on their computer; the row arrives through sync (a plain write to the chat's row).
    bea = store.users.create(name="Bea")
    store.chats.update(chat.id, ai_mode="off", assigned_user_id=bea.id)
    qtbot.waitUntil(lambda: chip(page) == "A person: Bea")
    assert banner.action.text() == HAND_BACK


def test_drafts_and_the_ai_switched_off(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="draft")
    chat = seed_chat(store, "Caio", ["Hello?"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    qtbot.waitUntil(lambda: chip(page) == "AI drafts")
    assert page.ownership.action.text() == TAKE_OVER

    # Switched off on the Agents page (or by a teammate): every chat is a person's; handing back would do nothing.
    configs.save(store, "acquisition", enabled=False)
    qtbot.waitUntil(lambda: chip(page) == "A person (nobody assigned)")
    assert page.ownership.action.text() == "AI is off · Agents…"
    with qtbot.waitSignal(page.section_requested) as asked:
        qtbot.mouseClick(page.ownership.action, Qt.MouseButton.LeftButton)
    assert asked.args == ["agents"]


def test_a_short_owner_stays_on_one_line_and_a_long_one_wraps_in_a_narrow_header(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app at 1600 px: "A person: Alex Morgan" wrapped onto two lines with the header half empty (a
    word-wrapped label's guessed width). One line where there is room; wrapped, never cut, where there is not."""
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="autopilot")
    chat = seed_chat(store, "Bruna", ["Is the red bag still there?"])
    alex = store.users.create(name="Alex Morgan")
    store.chats.update(chat.id, ai_mode="off", assigned_user_id=alex.id)
    page = make_page(qtbot, ctx)
    page.resize(1600, 900)
    select(page, chat.id)
    banner = page.ownership
    qtbot.waitUntil(lambda: chip(page) == "A person: Alex Morgan")
    one_line = banner.chip.heightForWidth(10_000)
    for _ in range(3):  # the nested layouts settle (their requests are posted events): no time waited
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
    assert banner.chip.height() == one_line, "wrapped although the header has room"

    narrow = OwnershipBanner(ctx)
    qtbot.addWidget(narrow)
    narrow.chip.setWordWrap(True)
    narrow.chip.setText("Paused: someone on the phone or WhatsApp Web took over at 20:57 (until 04:57 tomorrow)")
    narrow.resize(260, narrow.heightForWidth(260))
    narrow.show()
    qtbot.waitExposed(narrow)
    qtbot.waitUntil(lambda: 0 < narrow.chip.width() <= 260)
    assert narrow.chip.height() > one_line, "wraps in a narrow header"
    assert narrow.chip.height() >= narrow.chip.heightForWidth(narrow.chip.width()), "nothing cut"


def test_an_ai_owned_chat_says_when_ai_replies_are_off(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: "AI autopilot" on a chat while AI replies were off in Settings › AI — the chat looked
    handled, and nobody would answer it. The chip says so and leads to Settings › AI; it goes when they are on."""
    store = ctx.store
    assert ctx.settings.ai.mode == "off"
    configs.save(store, "acquisition", enabled=True, mode="autopilot")
    chat = seed_chat(store, "Bruna", ["Is the red bag still there?"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    banner = page.ownership
    qtbot.waitUntil(lambda: chip(page) == "AI autopilot")
    qtbot.waitUntil(banner.ai_off.isVisible)
    assert banner.action.text() == TAKE_OVER  # taking over stays one click away
    assert banner.ai_off.text().endswith("AI replies are off · Settings…</a>")
    with qtbot.waitSignal(page.settings_requested) as asked:  # a click on the link's words
        qtbot.mouseClick(banner.ai_off, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(20, banner.ai_off.height() // 2))
    assert asked.args == ["AI"]
    ctx.settings.ai.mode = "byok"
    qtbot.waitUntil(lambda: not banner.ai_off.isVisible())
    assert chip(page) == "AI autopilot"
    qtbot.mouseClick(banner.action, Qt.MouseButton.LeftButton)  # a person's chat: nothing to warn about
    ctx.settings.ai.mode = "off"
    qtbot.waitUntil(lambda: chip(page) == "A person: Ana Owner")
    assert not banner.ai_off.isVisible()


def test_the_ai_off_warning_wraps_in_a_narrow_header(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app at 1024 px: beside the chip, the warning was cut to "…es are off · Se"."""
    configs.save(ctx.store, "acquisition", enabled=True, mode="autopilot")
    chat = seed_chat(ctx.store, "Bruna", ["Is the red bag still there?"])
    banner = OwnershipBanner(ctx)
    qtbot.addWidget(banner)
    banner.show_chat(chat.id)
    banner.resize(170, 40)
    banner.show()
    qtbot.waitExposed(banner)
    qtbot.waitUntil(banner.ai_off.isVisible)  # the owner is read on a worker: the warning comes with it
    # Sized for its content once the warning is there, as the header's layout does (a loaded run sized it before the
    # read had finished, for a banner without the warning, and found the warning squeezed).
    banner.resize(170, banner.heightForWidth(170))
    label = banner.ai_off
    qtbot.waitUntil(lambda: 0 < label.width() <= 170 and label.height() >= label.heightForWidth(label.width()))
