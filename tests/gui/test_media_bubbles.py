"""Media in the conversation: a photo's thumbnail is painted in its bubble (which grows to hold it), documents and
voice notes have their rows, media that is not here says so; clicks open the viewer (previous/next within the chat),
play a voice note, or ask for bytes that are missing."""

from __future__ import annotations

import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.events import MessageReceived
from app.core.media import MediaInfo
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.ops.media import attach_received
from app.store.store import Store
from app.thumbnails import make_thumbnail
from app.ui import theme
from app.ui.context import AppContext
from app.ui.models.chat_model import ChatItem
from app.ui.pages.inbox import InboxPage
from app.ui.tray import Tray
from app.ui.widgets.bubble_delegate import BubbleDelegate
from app.ui.widgets.chat_list_delegate import preview_text
from app.ui.widgets.voice_player import VoicePopup
from tests.support.graph import AT
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select
from tests.support.ogg_opus import silent_ogg_opus
from tests.support.video import VIDEO_LOG, clip
from tests.support.whatsapp_ui import RecordingControl
from tests.unit.store.test_media_privacy import files_holding

TEAL = QtGui.QColor("#2a9d8f")


def picture(width: int, height: int, color: QtGui.QColor = TEAL) -> bytes:
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB32)
    image.fill(color)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG")  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


def received(store: Store, chat_id: str, minute: int, info: MediaInfo, caption: str = "", data: bytes = b"") -> str:
    """A received media message as the driver records it, its bytes kept (with a thumbnail) when given."""
    message = store.messages.create(
        chat_id=chat_id,
        direction="in",
        body=caption,
        kind=info.kind,
        media=info.model_dump(mode="json"),
        sent_at=AT + timedelta(minutes=minute),
    )
    if data:
        attach_received(store, message.id, data, info.mime)
        thumb = make_thumbnail(data, info.mime)
        if thumb is not None:  # bootstrap's thumbnailer; the test workspaces have none
            stored = MediaInfo.model_validate(store.messages.get(message.id).media)
            with_thumb = stored.model_copy(update={"thumb_blob_id": store.media.put(thumb, "image/jpeg")})
            store.messages.update(message.id, media=with_thumb.model_dump(mode="json"))
    return message.id


def open_chat(qtbot: QtBot, ctx: AppContext, chat_id: str) -> InboxPage:
    page = make_page(qtbot, ctx)
    wait_idle(qtbot, ctx)
    select(page, chat_id)
    qtbot.waitUntil(lambda: page.chat_id == chat_id)
    return page


def row_item(page: InboxPage, message_id: str) -> tuple[int, ChatItem]:
    row = page.chat_model.row_of(message_id)
    assert row >= 0
    return row, page.chat_model.item(row)


def option_for(page: InboxPage, row: int) -> QtWidgets.QStyleOptionViewItem:
    option = QtWidgets.QStyleOptionViewItem()
    option.initFrom(page.conversation.viewport())
    option.widget = page.conversation
    option.font = page.conversation.font()
    option.rect = page.conversation.visualRect(page.chat_model.index(row, 0))
    return option


def test_a_photo_bubble_paints_its_thumbnail_and_grows_for_it(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Souza", ["Send me a photo please"])
    photo_id = received(
        ctx.store,
        chat.id,
        5,
        MediaInfo(kind="image", mime="image/jpeg", width=800, height=600),
        "The blue one",
        picture(800, 600),
    )
    page = open_chat(qtbot, ctx, chat.id)
    text_row = page.chat_model.row_of(page.chat_model.item(1).id)
    row, item = row_item(page, photo_id)
    assert item.media is not None
    assert item.media.state == "stored"
    assert item.text == "The blue one"  # the caption, not "[image]"
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    index = page.chat_model.index(row, 0)
    photo_h = delegate.sizeHint(option_for(page, row), index).height()
    text_h = delegate.sizeHint(option_for(page, text_row), page.chat_model.index(text_row, 0)).height()
    assert photo_h > text_h + 150
    option = option_for(page, row)
    media = delegate.media_rect(option, index)
    assert media.width() >= 200
    canvas = QtGui.QImage(
        option.rect.size() + QtCore.QSize(option.rect.left(), option.rect.top()), QtGui.QImage.Format.Format_RGB32
    )
    canvas.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(canvas)
    delegate.paint(painter, option, index)
    painter.end()
    painted = canvas.pixelColor(media.center())
    assert abs(painted.red() - TEAL.red()) < 12
    assert abs(painted.green() - TEAL.green()) < 12
    assert abs(painted.blue() - TEAL.blue()) < 12


def test_documents_voice_and_missing_media_have_their_bubbles(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Bruno Lima", ["Prices?"])
    doc_id = received(
        ctx.store,
        chat.id,
        2,
        MediaInfo(kind="document", mime="application/pdf", file_name="prices.pdf"),
        "",
        b"%PDF-1.4 " + bytes(2048),
    )
    voice_id = received(
        ctx.store, chat.id, 3, MediaInfo(kind="voice", mime="audio/ogg", duration_s=12, state="missing")
    )
    gone_id = received(ctx.store, chat.id, 4, MediaInfo(kind="image", mime="image/jpeg", state="unavailable"))
    place_id = received(
        ctx.store, chat.id, 5, MediaInfo(kind="location", latitude=-22.9, longitude=-43.2, place="Copacabana")
    )
    page = open_chat(qtbot, ctx, chat.id)
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    for message_id in (doc_id, voice_id, gone_id, place_id):
        row, item = row_item(page, message_id)
        assert item.media is not None
        assert item.text == ""
        option = option_for(page, row)
        assert not delegate.media_rect(option, page.chat_model.index(row, 0)).isEmpty()
        assert delegate.sizeHint(option, page.chat_model.index(row, 0)).height() > 60
    accessible = page.chat_model.data(
        page.chat_model.index(row_item(page, doc_id)[0], 0), Qt.ItemDataRole.AccessibleTextRole
    )
    assert accessible.endswith("Document: prices.pdf")
    # A click on media that is not here asks for it again.
    row, _ = row_item(page, voice_id)
    page.conversation.scrollTo(page.chat_model.index(row, 0))
    target = delegate.media_rect(option_for(page, row), page.chat_model.index(row, 0)).center()
    with qtbot.waitSignal(delegate.fetch_requested) as asked:
        qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert asked.args == [voice_id]
    # Nothing running to ask: the person is told to connect WhatsApp.
    with qtbot.waitSignal(ctx.tasks.failed) as told:
        qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert told.args[1] == "WhatsApp is not connected: connect it, then click the file again."
    # With WhatsApp running the click reaches it, and what it ended in is said when the file did not come.
    control = RecordingControl()
    control.fetch_result = "unavailable"
    ctx.whatsapp.attach(control)
    with qtbot.waitSignal(ctx.tasks.failed) as told:
        qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert control.calls == [f"fetch_media:{voice_id}"]
    assert told.args[1].startswith("WhatsApp says this file is no longer available")


def test_clicking_a_photo_opens_the_viewer_with_the_chats_photos(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Carla Dias", ["Catalogue"])
    first = received(ctx.store, chat.id, 2, MediaInfo(kind="image", mime="image/jpeg"), "Red", picture(300, 200))
    received(ctx.store, chat.id, 3, MediaInfo(kind="image", mime="image/jpeg"), "Green", picture(200, 300))
    page = open_chat(qtbot, ctx, chat.id)
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    row, _ = row_item(page, first)
    page.conversation.scrollTo(page.chat_model.index(row, 0))
    target = delegate.media_rect(option_for(page, row), page.chat_model.index(row, 0)).center()
    qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    viewer = delegate.viewer
    assert viewer is not None
    qtbot.waitExposed(viewer)
    assert viewer.position.text() == "1 of 2"
    assert viewer.caption.text() == "Photo — Red"
    assert viewer.image.size() == QtCore.QSize(300, 200)  # the full photo, not the thumbnail
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.caption.text() == "Photo — Green"
    viewer.close()


@pytest.mark.qt_log_ignore(
    "^PulseAudioService: pa_context_connect\\(\\) failed",
    "^No audio device detected",
    "^Couldn't (load|resolve) ",
)
def test_clicking_a_voice_note_plays_it(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    chat = seed_chat(ctx.store, "Dora Reis", ["Hi"])
    recording = silent_ogg_opus(2.0)
    voice = received(ctx.store, chat.id, 2, MediaInfo(kind="voice", mime="audio/ogg", duration_s=2), "", recording)
    page = open_chat(qtbot, ctx, chat.id)
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    row, _ = row_item(page, voice)
    page.conversation.scrollTo(page.chat_model.index(row, 0))
    target = delegate.media_rect(option_for(page, row), page.chat_model.index(row, 0)).center()
    qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    popup = delegate.voice
    assert isinstance(popup, VoicePopup)
    qtbot.waitUntil(lambda: popup.player.player.position() > 200, timeout=10000)
    assert popup.file_name.startswith("Voice note ")
    assert popup.file_name.endswith(".ogg")
    assert popup.save_to(str(tmp_path / "kept.ogg"))  # Save as…, where the person chose
    assert (tmp_path / "kept.ogg").read_bytes() == recording
    popup.close()


def test_the_chat_list_and_notifications_name_the_media(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Night Owl", ["first"])
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    ctx.settings.notifications.show_preview = True
    voice = received(ctx.store, chat.id, 60, MediaInfo(kind="voice", mime="audio/ogg", duration_s=12))
    ctx.store.emit(
        MessageReceived(org_id=ctx.store.org_id, chat_id=chat.id, message_id=voice, contact_id=chat.contact_id)
    )
    qtbot.waitUntil(lambda: len(tray.notified) == 1)
    assert tray.notified == [("Night Owl", "Voice note 0:12")]
    page = make_page(qtbot, ctx)
    wait_idle(qtbot, ctx)
    assert preview_text(page.model.row(0)) == "Voice note 0:12"
    received(ctx.store, chat.id, 61, MediaInfo(kind="document", mime="application/pdf", file_name="prices.pdf"), "May")
    qtbot.waitUntil(lambda: preview_text(page.model.row(0)) == "Document: prices.pdf — May")


def paint_row(page: InboxPage, row: int) -> tuple[QtGui.QImage, QtCore.QRect]:
    """The row's bubble painted on a white canvas, and where its media is."""
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    option = option_for(page, row)
    index = page.chat_model.index(row, 0)
    canvas = QtGui.QImage(
        option.rect.size() + QtCore.QSize(option.rect.left(), option.rect.top()), QtGui.QImage.Format.Format_RGB32
    )
    canvas.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(canvas)
    delegate.paint(painter, option, index)
    painter.end()
    return canvas, delegate.media_rect(option, index)


def info_of(page: InboxPage, message_id: str) -> MediaInfo:
    media = row_item(page, message_id)[1].media
    assert media is not None
    return media


class SaveDialog:
    """QFileDialog.getSaveFileName, answered with ``answer``; what it proposed is kept."""

    def __init__(self, answer: Path | None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def __call__(self, _parent: object, caption: str, proposed: str, *_rest: object) -> tuple[str, str]:
        self.asked.append((caption, proposed))
        return (str(self.answer) if self.answer else "", "")


def action(menu: QtWidgets.QMenu, text: str) -> QtGui.QAction:
    [found] = [a for a in menu.actions() if a.text() == text]
    return found


@pytest.mark.qt_log_ignore(*VIDEO_LOG)
def test_a_video_bubble_has_its_play_mark_and_a_click_plays_it_from_memory_leaving_no_copy_on_disk(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.time() - 2
    marker = b"<parley-video-grep:" + secrets.token_hex(22).encode() + b":>"
    video = clip() + marker * 4  # players stop at the end of the movie; the marker rides along in the bytes
    chat = seed_chat(ctx.store, "Eva Rocha", ["Here it is working"])
    info = MediaInfo(kind="video", mime="video/mp4", duration_s=2, width=96, height=72)
    video_id = received(ctx.store, chat.id, 2, info, "Unboxing", video)
    dialog = SaveDialog(None)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", dialog)
    page = open_chat(qtbot, ctx, chat.id)
    row, item = row_item(page, video_id)
    assert item.media is not None
    assert item.media.state == "stored"
    # It came without a poster: its first frame becomes one (decoded in memory), painted under the play mark.
    qtbot.waitUntil(lambda: page.chat_model.thumbnail(info_of(page, video_id)) is not None, timeout=20000)
    canvas, media = paint_row(page, row)
    assert media.width() >= 200
    corner = canvas.pixelColor(media.topLeft() + QtCore.QPoint(media.width() // 3, 8))
    assert corner != QtGui.QColor(theme.colors().surface_alt)  # the poster, not the empty box
    triangle = canvas.pixelColor(media.center() + QtCore.QPoint(2, 0))  # the play mark: a white triangle
    circle = canvas.pixelColor(media.center() + QtCore.QPoint(-15, 0))  # on a dark disc
    assert min(triangle.red(), triangle.green(), triangle.blue()) > 230
    assert max(circle.red(), circle.green(), circle.blue()) < 160
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    page.conversation.scrollTo(page.chat_model.index(row, 0))
    target = delegate.media_rect(option_for(page, row), page.chat_model.index(row, 0)).center()
    qtbot.mouseClick(page.conversation.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert dialog.asked == []  # played, not offered to save
    viewer = delegate.viewer
    assert viewer is not None
    assert viewer.playing_video()
    assert viewer.caption.text() == "Video 0:02 — Unboxing"
    player = viewer.video
    assert player is not None
    qtbot.waitUntil(lambda: player.player.position() > 300, timeout=10000)
    assert player.surface.videoSink().videoFrame().isValid()
    # While it plays, no file anywhere it could go holds the video's bytes.
    workspace = ctx.workspaces.paths(ctx.workspace.workspace_id).root
    assert files_holding(Path(tempfile.gettempdir()), marker, since=started) == []
    assert files_holding(workspace, marker) == []
    assert files_holding(Path.cwd(), marker, since=started) == []
    viewer.close()


def test_right_click_offers_open_save_as_and_copy_for_media_with_bytes(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chat = seed_chat(ctx.store, "Fabio Melo", ["Catalogue"])
    photo = picture(300, 200)
    photo_id = received(ctx.store, chat.id, 2, MediaInfo(kind="image", mime="image/jpeg"), "Red", photo)
    pdf = b"%PDF-1.4 " + bytes(2048)
    doc_info = MediaInfo(kind="document", mime="application/pdf", file_name="../prices.pdf")
    doc_id = received(ctx.store, chat.id, 3, doc_info, "", pdf)
    recording = silent_ogg_opus(1.0)
    voice_id = received(ctx.store, chat.id, 4, MediaInfo(kind="voice", mime="audio/ogg", duration_s=1), "", recording)
    sticker_id = received(ctx.store, chat.id, 5, MediaInfo(kind="sticker", mime="image/webp"), "", photo)
    missing_id = received(ctx.store, chat.id, 6, MediaInfo(kind="image", mime="image/jpeg", state="missing"))
    place_id = received(ctx.store, chat.id, 7, MediaInfo(kind="location", latitude=1.0, longitude=2.0))
    page = open_chat(qtbot, ctx, chat.id)

    def texts(message_id: str) -> list[str]:
        menu = page.message_menu(message_id)
        assert menu is not None
        return [a.text() for a in menu.actions() if not a.isSeparator()]

    assert texts(photo_id) == ["Open in viewer", "Save as…", "Copy", "Reply", "Copy text"]
    assert texts(doc_id) == ["Save as…", "Reply", "Copy text"]
    assert texts(voice_id) == ["Play", "Save as…", "Reply", "Copy text"]
    assert texts(sticker_id)[:3] == ["Open in viewer", "Save as…", "Copy"]
    assert texts(missing_id) == ["Reply", "Copy text"]  # no bytes here: nothing to save
    assert texts(place_id) == ["Reply", "Copy text"]

    # Save as…: the document's own name is proposed (never a folder it claims), the bytes go only where chosen.
    out = tmp_path / "chosen"
    out.mkdir()
    dialog = SaveDialog(out / "kept.pdf")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", dialog)
    menu = page.message_menu(doc_id)
    assert menu is not None
    action(menu, "Save as…").trigger()
    assert dialog.asked == [("Save document as", "prices.pdf")]
    assert (out / "kept.pdf").read_bytes() == pdf
    # A photo and a voice note are named by kind, time and type.
    dialog.answer = out / "photo.jpg"
    menu = page.message_menu(photo_id)
    assert menu is not None
    action(menu, "Save as…").trigger()
    caption, proposed = dialog.asked[-1]
    assert caption == "Save photo as"
    assert proposed.startswith("Photo ")
    assert proposed.endswith(".jpg")
    assert (out / "photo.jpg").read_bytes() == photo
    dialog.answer = out / "voice.ogg"
    menu = page.message_menu(voice_id)
    assert menu is not None
    action(menu, "Save as…").trigger()
    assert dialog.asked[-1][1].startswith("Voice note ")
    assert dialog.asked[-1][1].endswith(".ogg")
    assert (out / "voice.ogg").read_bytes() == recording
    assert sorted(p.name for p in out.iterdir()) == ["kept.pdf", "photo.jpg", "voice.ogg"]
    # Cancelled: nothing is written; a place that refuses: the person is told.
    dialog.answer = None
    action(menu, "Save as…").trigger()
    dialog.answer = tmp_path / "no such folder" / "x.ogg"
    menu = page.message_menu(voice_id)
    assert menu is not None
    with qtbot.waitSignal(ctx.tasks.failed) as told:
        action(menu, "Save as…").trigger()
    assert told.args[1] == "The voice note could not be saved there. Choose another folder."
    assert sorted(p.name for p in out.iterdir()) == ["kept.pdf", "photo.jpg", "voice.ogg"]

    # Copy puts the decoded photo on the clipboard (from memory).
    QtGui.QGuiApplication.clipboard().clear()
    menu = page.message_menu(photo_id)
    assert menu is not None
    action(menu, "Copy").trigger()
    assert QtGui.QGuiApplication.clipboard().image().size() == QtCore.QSize(300, 200)
    # Open in viewer does what a click does.
    action(menu, "Open in viewer").trigger()
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    viewer = delegate.viewer
    assert viewer is not None
    assert viewer.caption.text() == "Photo — Red"
    viewer.close()
