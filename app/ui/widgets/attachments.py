"""Files attached in the composer, before they are sent: a strip of chips above the text (a thumbnail or a file icon,
the name and size, × to take one off, a caption field per photo when there are several — as WhatsApp's preview).

Files come from the paperclip's file dialog, from a drop (on the composer or the conversation) or from the clipboard
(an image is encoded to PNG in memory with a QBuffer). Each is checked against WhatsApp's limits
(``app.core.media.kind_for``/``check_sendable``) before it is accepted; a refused one leaves its sentence under the
strip. The bytes stay in memory: nothing here writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.errors import InvalidInput
from app.core.media import MB, MediaKind, check_sendable, kind_for
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal

MAX_FILES = 30  # what WhatsApp takes in one go
THUMB = 56


@dataclass
class Attachment:
    file_name: str
    data: bytes
    mime: str
    kind: MediaKind


def mime_of(file_name: str, data: bytes = b"") -> str:
    """The file's type from its name and first bytes (Qt's shared MIME database)."""
    found = QtCore.QMimeDatabase().mimeTypeForFileNameAndData(file_name, QtCore.QByteArray(data[:4096]))
    return found.name() or "application/octet-stream"


def checked(file_name: str, data: bytes, mime: str) -> Attachment:
    """An attachment WhatsApp would take, or ``InvalidInput`` with the sentence saying why not."""
    kind = kind_for(mime, file_name)
    check_sendable(kind, len(data), file_name)
    return Attachment(file_name, data, mime, kind)


def png_bytes(image: QtGui.QImage) -> bytes:
    """``image`` as PNG bytes, encoded in memory."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


def human_size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def local_files(mime: QtCore.QMimeData) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class AttachmentChip(QtWidgets.QFrame):
    removed = Signal(object)  # the chip

    def __init__(self, attachment: Attachment, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentChip")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.attachment = attachment
        self.preview = QtWidgets.QLabel()
        self.preview.setFixedSize(THUMB, THUMB)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image = QtGui.QImage.fromData(attachment.data) if attachment.kind == "image" else QtGui.QImage()
        if not image.isNull():
            self.preview.setPixmap(
                QtGui.QPixmap.fromImage(
                    image.scaled(
                        THUMB,
                        THUMB,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
            )
        else:
            self.preview.setText({"video": "🎬", "audio": "🎵"}.get(attachment.kind, "📄"))
            font = self.preview.font()
            font.setPointSizeF(font.pointSizeF() * 2)
            self.preview.setFont(font)
        name = QtWidgets.QLabel(self.fontMetrics().elidedText(attachment.file_name, Qt.TextElideMode.ElideMiddle, 150))
        name.setToolTip(attachment.file_name)
        size = QtWidgets.QLabel(human_size(len(attachment.data)))
        size.setObjectName("muted")
        self.remove = QtWidgets.QToolButton()
        self.remove.setText("×")
        self.remove.setToolTip(f"Don't send {attachment.file_name}")
        self.remove.setAccessibleName(f"Remove {attachment.file_name}")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        self.caption = QtWidgets.QLineEdit()
        self.caption.setPlaceholderText("Caption")
        self.caption.setAccessibleName(f"Caption of {attachment.file_name}")
        self.caption.hide()
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        texts = QtWidgets.QVBoxLayout()
        texts.addWidget(name)
        texts.addWidget(size)
        texts.addStretch(1)
        top.addWidget(self.preview)
        top.addLayout(texts, 1)
        top.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignTop)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        self.setFixedWidth(240)


class AttachmentStrip(QtWidgets.QWidget):
    """The files waiting to be sent with the next message. ``changed`` fires as they come and go."""

    changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.chips: list[AttachmentChip] = []
        self.row = QtWidgets.QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addStretch(1)
        holder = QtWidgets.QWidget()
        holder.setLayout(self.row)
        self.area = QtWidgets.QScrollArea()
        self.area.setWidget(holder)
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.viewport().setAutoFillBackground(False)  # the chips sit on the composer, not on a grey box
        holder.setAutoFillBackground(False)
        self.area.hide()
        self.refusal = QtWidgets.QLabel()
        self.refusal.setObjectName("error")
        self.refusal.setWordWrap(True)
        self.refusal.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        layout.addWidget(self.area)
        layout.addWidget(self.refusal)
        self.hide()

    # ---- adding ----------------------------------------------------------------------------------------------
    def add(self, file_name: str, data: bytes, mime: str | None = None) -> bool:
        """Attach ``data``; False (and the sentence shown) when WhatsApp would refuse it."""
        try:
            if len(self.chips) >= MAX_FILES:
                raise InvalidInput(f"At most {MAX_FILES} files go in one message.")
            attachment = checked(file_name, data, mime or mime_of(file_name, data))
        except InvalidInput as refused:
            self.refuse(str(refused))
            return False
        chip = AttachmentChip(attachment)
        chip.removed.connect(self._remove)
        self.chips.append(chip)
        self.row.insertWidget(self.row.count() - 1, chip)
        chip.show()
        self.refusal.hide()
        self._update()
        return True

    def add_paths(self, paths: list[str]) -> int:
        """Attach the files at ``paths`` (read into memory; a file over its limit is refused before it is read)."""
        added = 0
        for path in paths:
            file = Path(path)
            try:
                size = file.stat().st_size
                mime = mime_of(file.name)
                check_sendable(kind_for(mime, file.name), size, file.name)
                data = file.read_bytes()
            except InvalidInput as refused:
                self.refuse(str(refused))
                continue
            except OSError:
                self.refuse(f"{file.name} could not be read.")
                continue
            added += self.add(file.name, data, mime_of(file.name, data))
        return added

    def add_image(self, image: QtGui.QImage, file_name: str = "") -> bool:
        """Attach a pasted or dropped image, encoded to PNG in memory."""
        if image.isNull():
            return False
        stamp = QtCore.QDateTime.currentDateTime().toString("yyyy-MM-dd HH.mm.ss")
        return self.add(file_name or f"Pasted image {stamp}.png", png_bytes(image), "image/png")

    def add_mime(self, mime: QtCore.QMimeData) -> bool:
        """Attach what a drop or a paste carries (files, or image data); False when it carries neither."""
        files = local_files(mime)
        if files:
            self.add_paths(files)
            return True
        if mime.hasImage():
            image = mime.imageData()
            return isinstance(image, QtGui.QImage) and self.add_image(image)
        return False

    def refuse(self, sentence: str) -> None:
        self.refusal.setText(sentence)
        self.refusal.show()
        self.show()

    # ---- reading ---------------------------------------------------------------------------------------------
    def attachments(self) -> list[tuple[Attachment, str]]:
        """Each attachment with its own caption field's text (empty with a single one: the composer's text is its
        caption)."""
        return [(chip.attachment, chip.caption.text().strip()) for chip in self.chips]

    def clear(self) -> None:
        for chip in self.chips:
            chip.deleteLater()
        self.chips = []
        self.refusal.hide()
        self._update()

    def _remove(self, chip: AttachmentChip) -> None:
        self.chips.remove(chip)
        chip.deleteLater()
        self._update()

    def _update(self) -> None:
        several = len(self.chips) > 1
        for chip in self.chips:
            chip.caption.setVisible(several and chip.attachment.kind in ("image", "video"))
        self.area.setVisible(bool(self.chips))
        if self.chips:
            self.area.setFixedHeight(max(c.sizeHint().height() for c in self.chips) + 6)
        self.setVisible(bool(self.chips) or not self.refusal.isHidden())
        self.changed.emit()


class DropTarget(QtCore.QObject):
    """Lets files and images dropped on ``widget`` (the conversation, the composer) join the strip."""

    def __init__(self, strip: AttachmentStrip, widget: QtWidgets.QWidget) -> None:
        super().__init__(widget)
        self.strip = strip
        widget.setAcceptDrops(True)
        target = widget.viewport() if isinstance(widget, QtWidgets.QAbstractScrollArea) else widget
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind in (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.DragMove) and isinstance(
            event, QtGui.QDragMoveEvent
        ):
            mime = event.mimeData()
            if local_files(mime) or mime.hasImage():
                event.acceptProposedAction()
                return True
        dropped = kind == QtCore.QEvent.Type.Drop and isinstance(event, QtGui.QDropEvent)
        if dropped and isinstance(event, QtGui.QDropEvent) and self.strip.add_mime(event.mimeData()):
            event.acceptProposedAction()
            return True
        return False
