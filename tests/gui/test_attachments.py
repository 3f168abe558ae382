"""Attaching files in the composer: through the strip's API and the paperclip's path, a drop (on the composer or the
conversation), a pasted clipboard image; refused files say why; what is sent carries each photo's caption."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.media import MB, MediaTooLarge, check_sendable
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.context import AppContext
from app.ui.widgets.composer import Composer
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (200, 120)) -> bytes:
    image = QtGui.QImage(*size, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("#2a9d8f"))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, fmt)  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


def make_composer(qtbot: QtBot, ctx: AppContext) -> Composer:
    composer = Composer(lambda reply: reply.body, settings=ctx.settings)
    qtbot.addWidget(composer)
    composer.resize(760, 240)
    composer.show()
    qtbot.waitExposed(composer)
    return composer


def sent(qtbot: QtBot, composer: Composer) -> list[tuple[str, bytes, str, str]]:
    with qtbot.waitSignal(composer.send_media) as signal:
        composer.send_button.click()
    files: list[tuple[str, bytes, str, str]] = signal.args[0]
    return files


def test_a_photo_attached_shows_a_chip_and_goes_with_the_text_as_caption(qtbot: QtBot, ctx: AppContext) -> None:
    composer = make_composer(qtbot, ctx)
    photo = image_bytes()
    assert composer.attachments.add("shoes.jpg", photo, "image/jpeg")
    assert composer.attachments.isVisible()
    chip = composer.attachments.chips[0]
    assert chip.isVisible()
    pixmap = chip.preview.pixmap()
    assert not pixmap.isNull()
    assert chip.caption.isHidden()  # one photo: the composer's text is its caption
    composer.edit.setPlainText("New in: 39 €")
    with qtbot.assertNotEmitted(composer.send):
        assert sent(qtbot, composer) == [("shoes.jpg", photo, "image/jpeg", "New in: 39 €")]
    qtbot.mouseClick(chip.remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not composer.attachments.chips)
    assert composer.attachments.isHidden()


def test_an_oversized_photo_is_refused_with_the_sentence(qtbot: QtBot, ctx: AppContext) -> None:
    composer = make_composer(qtbot, ctx)
    big = b"\xff\xd8\xff" + bytes(16 * MB)
    try:
        check_sendable("image", len(big), "huge.jpg")
    except MediaTooLarge as refused:
        sentence = str(refused)
    assert not composer.attachments.add("huge.jpg", big, "image/jpeg")
    assert composer.attachments.chips == []
    assert composer.attachments.refusal.isVisible()
    assert composer.attachments.refusal.text() == sentence
    assert "at most 16 MB" in sentence
    assert not composer.attachments.add("empty.pdf", b"", "application/pdf")
    assert composer.attachments.refusal.text() == "empty.pdf is empty."


def test_several_photos_each_get_a_caption(qtbot: QtBot, ctx: AppContext) -> None:
    composer = make_composer(qtbot, ctx)
    red, blue = image_bytes("PNG", (30, 30)), image_bytes("JPEG", (40, 20))
    composer.attachments.add("red.png", red)
    composer.attachments.add("blue.jpg", blue)
    composer.attachments.add("prices.pdf", b"%PDF-1.4 prices", "application/pdf")
    chips = composer.attachments.chips
    assert [c.attachment.kind for c in chips] == ["image", "image", "document"]
    assert [c.attachment.mime for c in chips[:2]] == ["image/png", "image/jpeg"]
    assert not chips[0].caption.isHidden()
    assert not chips[1].caption.isHidden()
    assert chips[2].caption.isHidden()
    chips[1].caption.setText("Blue, size 40")
    composer.edit.setPlainText("Red, size 38")
    assert sent(qtbot, composer) == [
        ("red.png", red, "image/png", "Red, size 38"),
        ("blue.jpg", blue, "image/jpeg", "Blue, size 40"),
        ("prices.pdf", b"%PDF-1.4 prices", "application/pdf", ""),
    ]


def drop(widget: QtWidgets.QWidget, mime: QtCore.QMimeData) -> bool:
    target = widget.viewport() if isinstance(widget, QtWidgets.QAbstractScrollArea) else widget
    point = QtCore.QPointF(target.rect().center())
    actions = Qt.DropAction.CopyAction
    enter = QtGui.QDragEnterEvent(
        point.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QtWidgets.QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    event = QtGui.QDropEvent(point, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(target, event)
    return event.isAccepted()


def test_files_dropped_on_the_conversation_or_composer_are_attached(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    composer = make_composer(qtbot, ctx)
    conversation = QtWidgets.QListView()
    qtbot.addWidget(conversation)
    conversation.show()
    composer.accept_drops_on(conversation)
    photo = tmp_path / "catalogue.jpg"
    photo.write_bytes(image_bytes())
    files = QtCore.QMimeData()
    files.setUrls([QtCore.QUrl.fromLocalFile(str(photo))])
    assert drop(conversation, files)
    assert [c.attachment.file_name for c in composer.attachments.chips] == ["catalogue.jpg"]
    assert composer.attachments.chips[0].attachment.data == photo.read_bytes()
    image = QtCore.QMimeData()
    image.setImageData(QtGui.QImage.fromData(image_bytes()))
    assert drop(composer, image)
    assert len(composer.attachments.chips) == 2
    assert composer.attachments.chips[1].attachment.mime == "image/png"
    text = QtCore.QMimeData()
    text.setText("just words")
    assert not drop(conversation, text)
    assert len(composer.attachments.chips) == 2


def test_pasting_an_image_attaches_it(qtbot: QtBot, ctx: AppContext) -> None:
    composer = make_composer(qtbot, ctx)
    QtWidgets.QApplication.clipboard().setImage(QtGui.QImage.fromData(image_bytes("PNG", (64, 48))))
    composer.edit.setFocus()
    qtbot.keyClick(composer.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(composer.attachments.chips) == 1)
    attachment = composer.attachments.chips[0].attachment
    assert attachment.kind == "image"
    assert QtGui.QImage.fromData(attachment.data).size() == QtCore.QSize(64, 48)
    assert composer.edit.toPlainText() == ""
    QtWidgets.QApplication.clipboard().setText("plain words")
    qtbot.keyClick(composer.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert composer.edit.toPlainText() == "plain words"
    assert len(composer.attachments.chips) == 1


def test_the_inbox_queues_attached_files_for_the_open_chat(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Souza", ["Do you have it in blue?"])
    page = make_page(qtbot, ctx)
    wait_idle(qtbot, ctx)
    select(page, chat.id)
    qtbot.waitUntil(lambda: page.chat_id == chat.id)
    photo = image_bytes()
    page.composer.attachments.add("blue.jpg", photo, "image/jpeg")
    page.composer.edit.setPlainText("Here it is in blue")
    page.composer.send_button.click()
    qtbot.waitUntil(lambda: not page.composer.attachments.chips)
    wait_idle(qtbot, ctx)
    sent_messages = [m for m in ctx.store.messages.for_chat(chat.id, limit=10) if m.direction == "out"]
    assert [(m.kind, m.body, m.status) for m in sent_messages] == [("image", "Here it is in blue", "queued")]
    media = sent_messages[0].media
    assert media is not None
    assert ctx.store.media.get(media["blob_id"]) == photo
    assert page.composer.edit.toPlainText() == ""
