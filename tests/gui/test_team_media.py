"""Media on a teammate's computer, as the chat shows it, and the owner's switch in Settings › Team (docs/sync.md,
"Media"): the bubble says where the bytes are and what a click can do; once they arrive it shows the picture; the
switch is the owner's, against the real sync server."""

from __future__ import annotations

from datetime import timedelta

import httpx
from pytestqt.qtbot import QtBot

from app.core.media import MediaInfo
from app.qt import Qt, QtCore, QtGui
from app.store.media import blob_id_for
from app.sync.status import SyncState
from app.thumbnails import make_thumbnail
from app.ui.context import AppContext
from app.ui.pages.settings import SettingsPage
from app.ui.sync_bridge import SyncBridge
from app.ui.widgets.bubble_delegate import BubbleDelegate
from app.ui.widgets.media_bubble import TEAM_SHARING_OFF, TeamMedia, state_text
from tests.gui.test_media_bubbles import TEAL, open_chat, option_for, picture, row_item
from tests.gui.test_team_ai import sign_in_as, sign_up_owner
from tests.support.graph import AT
from tests.support.inbox import seed_chat
from tests.support.sync_fixtures import bearer
from tests.support.sync_server import ServerProcess
from tests.sync.test_gateway import invite


def synced_photo(ctx: AppContext, chat_id: str, photo: bytes, thumb: bytes) -> str:
    """A photo message as a teammate's sync brings it: described as stored, its bytes on the owner's computer."""
    info = MediaInfo(
        kind="image",
        mime="image/jpeg",
        width=800,
        height=600,
        state="stored",
        blob_id=blob_id_for(photo),
        thumb_blob_id=blob_id_for(thumb),
        size=len(photo),
    )
    message = ctx.store.messages.create(
        chat_id=chat_id,
        direction="in",
        kind="image",
        media=info.model_dump(mode="json"),
        sent_at=AT + timedelta(minutes=5),
    )
    return message.id


def painted_center(page: object, message_id: str) -> QtGui.QColor:
    row, _ = row_item(page, message_id)  # type: ignore[arg-type]
    delegate = page.conversation.itemDelegate()  # type: ignore[attr-defined]
    assert isinstance(delegate, BubbleDelegate)
    option = option_for(page, row)  # type: ignore[arg-type]
    index = page.chat_model.index(row, 0)  # type: ignore[attr-defined]
    canvas = QtGui.QImage(
        option.rect.size() + QtCore.QSize(option.rect.left(), option.rect.top()), QtGui.QImage.Format.Format_RGB32
    )
    canvas.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(canvas)
    delegate.paint(painter, option, index)
    painter.end()
    return canvas.pixelColor(delegate.media_rect(option, index).center())


def test_a_teammates_photo_says_where_it_is_then_shows_once_fetched(
    qtbot: QtBot, ctx: AppContext, bridge: SyncBridge
) -> None:
    photo = picture(800, 600)
    thumb = make_thumbnail(photo, "image/jpeg")
    assert thumb is not None
    chat = seed_chat(ctx.store, "Ana Souza", ["Send me a photo please"])
    photo_id = synced_photo(ctx, chat.id, photo, thumb)
    ctx.store.media.set_team_sharing(False)  # as the sync service heard it from the server
    page = open_chat(qtbot, ctx, chat.id)
    _row, item = row_item(page, photo_id)
    assert isinstance(item.media, TeamMedia)
    assert state_text(item.media) == f"On a teammate's computer — {TEAM_SHARING_OFF}"
    # Sharing is off: a click says who can turn it on, and asks neither WhatsApp nor the server.
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    row, _ = row_item(page, photo_id)
    page.conversation.scrollTo(page.chat_model.index(row, 0))
    target = delegate.media_rect(option_for(page, row), page.chat_model.index(row, 0)).center()
    with qtbot.waitSignal(ctx.tasks.failed) as told:
        qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert told.args[1] == TEAM_SHARING_OFF + "."

    # The owner turned it on: the open chat redraws with "Fetch from team", and a click goes to the sync service
    # (this workspace is not signed in here, which it says), not to WhatsApp.
    ctx.store.media.set_team_sharing(True)
    qtbot.waitUntil(lambda: getattr(row_item(page, photo_id)[1].media, "sharing", False) is True)
    assert state_text(row_item(page, photo_id)[1].media) == "On a teammate's computer — Fetch from team"  # type: ignore[arg-type]
    with qtbot.waitSignal(ctx.tasks.failed, timeout=10000) as told:
        qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert "sync" in told.args[1]
    assert "WhatsApp" not in told.args[1]

    # The thumbnail arrives through the team server: the bubble shows it (it was asked for before it was here).
    ctx.store.media.put_fetched(thumb, "image/jpeg", [chat.id])
    qtbot.waitUntil(lambda: abs(painted_center(page, photo_id).red() - TEAL.red()) < 12)
    assert isinstance(row_item(page, photo_id)[1].media, TeamMedia)  # the full photo is still on its way
    ctx.store.media.put_fetched(photo, "image/jpeg", [chat.id])
    qtbot.waitUntil(lambda: not isinstance(row_item(page, photo_id)[1].media, TeamMedia))
    assert row_item(page, photo_id)[1].media.state == "stored"  # type: ignore[union-attr]


def test_the_owner_turns_media_sharing_on_in_settings_and_staff_see_it(
    qtbot: QtBot, ctx: AppContext, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.select_section("Team")
    page.show()
    qtbot.waitExposed(page)
    card = page.team_media
    assert card is not None
    assert card.isHidden(), "signed out: no team, no switch"
    owner = sign_up_owner(qtbot, bridge, server, http)
    qtbot.waitUntil(lambda: card.loads == 1, timeout=15000)
    assert card.isVisible()
    assert not card.switch.isChecked()  # off by default
    assert card.switch.isEnabled()
    assert not card.role_note.isVisible()
    assert card.usage.text() == "Off: media stays on the computer that received it."

    card.switch.click()
    qtbot.waitUntil(lambda: card.loads == 2, timeout=15000)
    assert not card.error.isVisible()
    assert http.get("/api/media/settings", headers=bearer(owner)).json()["enabled"] is True
    assert card.usage.text() == "Using 0.0 MB of 5.0 GB on the server."
    assert ctx.store.media.team_sharing() is True

    staff = invite(http, owner, "staff")
    sign_in_as(qtbot, bridge, server, staff)
    qtbot.waitUntil(lambda: card.loads == 3, timeout=15000)
    assert bridge.status.state is SyncState.SYNCED
    assert card.switch.isChecked()
    assert not card.switch.isEnabled()
    assert card.role_note.isVisible()
