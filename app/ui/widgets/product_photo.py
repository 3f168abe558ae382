"""A product's photo in the product editor (choose a file, drop or paste an image, replace, remove) and the small
pictures of products in the catalogue's list and the product picker.

The bytes stay in memory until the editor saves them through the store (``save_product_with_photo``: encrypted in
``media_blobs``); nothing here writes a file. A file that cannot be a product photo (not a picture, over WhatsApp's
limit for a photo, unreadable) is refused with a sentence and the photo shown before stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import InvalidInput, NotFound
from app.core.media import SEND_LIMITS, check_sendable
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.ops.media import check_product_photo
from app.store.store import Store
from app.ui.widgets.attachments import local_files, mime_of, png_bytes

FORM_PX = 96  # the photo in the product editor
LIST_PX = 40  # a product's picture in the catalogue list and the picker


def scaled(image: QtGui.QImage, px: int) -> QtGui.QImage:
    if image.isNull() or max(image.width(), image.height()) <= px:
        return image
    return image.scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def read_pictures(store: Store, blob_ids: Iterable[str], px: int) -> dict[str, QtGui.QImage]:
    """The photos ``blob_ids`` decoded and scaled to ``px`` (in memory), for a worker: QImage, unlike QPixmap, may
    be made off the main thread. Photos not on this computer (a teammate's) are left out."""
    pictures: dict[str, QtGui.QImage] = {}
    for blob_id in dict.fromkeys(blob_ids):
        try:
            image = QtGui.QImage.fromData(store.media.get(blob_id))
        except NotFound:
            continue
        if not image.isNull():
            pictures[blob_id] = scaled(image, px)
    return pictures


@dataclass(frozen=True)
class NewPhoto:
    file_name: str
    data: bytes
    mime: str


def photo_from(file_name: str, data: bytes, mime: str | None = None) -> NewPhoto:
    """A file taken as a product photo, or ``InvalidInput`` with the sentence saying why not."""
    mime = mime or mime_of(file_name, data)
    check_product_photo(data, mime, file_name)
    if QtGui.QImage.fromData(data).isNull():
        raise InvalidInput(f"{file_name} could not be read as a picture: choose another JPEG, PNG or WebP photo.")
    return NewPhoto(file_name, data, mime)


class ProductPhotoField(QtWidgets.QFrame):
    """The photo row of the product editor. ``changed`` fires when a photo is set or removed; ``refused`` carries
    the sentence for a file that was not taken (the dialog shows it in its error line)."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("productPhoto")
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # focused, Ctrl+V pastes an image
        self.setAccessibleName("Product photo")
        self.had_photo = False  # the product had a photo when the editor opened
        self.new_photo: NewPhoto | None = None
        self.removed = False
        self.preview = QtWidgets.QLabel()
        self.preview.setFixedSize(FORM_PX, FORM_PX)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setObjectName("muted")
        self.preview.setWordWrap(True)
        self.choose = QtWidgets.QPushButton("Choose photo…")
        self.remove = QtWidgets.QPushButton("Remove photo")
        for button in (self.choose, self.remove):
            button.setAutoDefault(False)  # Enter saves the product, whatever has the focus
        hint = QtWidgets.QLabel("Or drop or paste a picture here. Sent with the product card.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.choose)
        buttons.addWidget(self.remove)
        buttons.addWidget(hint)
        buttons.addStretch(1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview)
        layout.addLayout(buttons, 1)
        self.choose.clicked.connect(self.choose_file)
        self.remove.clicked.connect(self.remove_photo)
        self._show(None)

    # ---- state -----------------------------------------------------------------------------------------------
    def has_photo(self) -> bool:
        return self.new_photo is not None or (self.had_photo and not self.removed)

    def change(self) -> tuple[tuple[bytes, str] | None, bool]:
        """What to save: the new photo's (bytes, MIME type), and whether the product's photo is to be removed."""
        if self.new_photo is not None:
            return (self.new_photo.data, self.new_photo.mime), False
        return None, self.removed and self.had_photo

    def show_stored(self, image: QtGui.QImage | None) -> None:
        """The product's saved photo, read on a worker (None: it has one that is not on this computer)."""
        self.had_photo = True
        if self.new_photo is None and not self.removed:
            self._show(image, "Photo on a teammate's computer" if image is None else "")

    # ---- setting ---------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Choose a product photo", "", "Pictures (*.jpg *.jpeg *.png *.webp);;All files (*)"
        )
        if path:
            self.set_path(path)

    def set_path(self, path: str) -> bool:
        """Take the file at ``path`` (a file over the limit is refused before it is read)."""
        file = Path(path)
        try:
            size = file.stat().st_size
            if size > SEND_LIMITS["image"]:
                check_sendable("image", size, file.name)
            data = file.read_bytes()
        except InvalidInput as refused:
            self.refused.emit(str(refused))
            return False
        except OSError:
            self.refused.emit(f"{file.name} could not be read.")
            return False
        return self.set_bytes(file.name, data)

    def set_bytes(self, file_name: str, data: bytes, mime: str | None = None) -> bool:
        try:
            photo = photo_from(file_name, data, mime)
        except InvalidInput as refused:
            self.refused.emit(str(refused))
            return False
        self.new_photo = photo
        self.removed = False
        self._show(scaled(QtGui.QImage.fromData(photo.data), FORM_PX))
        self.changed.emit()
        return True

    def set_image(self, image: QtGui.QImage) -> bool:
        """A pasted or dropped image, encoded to PNG in memory."""
        if image.isNull():
            return False
        return self.set_bytes("Pasted picture.png", png_bytes(image), "image/png")

    def set_mime(self, mime: QtCore.QMimeData) -> bool:
        files = local_files(mime)
        if files:
            return self.set_path(files[0])
        image = mime.imageData() if mime.hasImage() else None
        return isinstance(image, QtGui.QImage) and self.set_image(image)

    def remove_photo(self) -> None:
        self.new_photo = None
        self.removed = True
        self._show(None)
        self.changed.emit()

    def _show(self, image: QtGui.QImage | None, text: str = "") -> None:
        if image is not None and not image.isNull():
            self.preview.setPixmap(QtGui.QPixmap.fromImage(image))
        else:
            self.preview.clear()
            self.preview.setText(text or "No photo")
        shown = self.has_photo()
        self.choose.setText("Replace photo…" if shown else "Choose photo…")
        self.remove.setEnabled(shown)

    # ---- drop and paste --------------------------------------------------------------------------------------
    def _offer(self, event: QtGui.QDragMoveEvent) -> None:
        mime = event.mimeData()
        if local_files(mime) or mime.hasImage():
            event.acceptProposedAction()

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        self._offer(event)

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        self._offer(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        if self.set_mime(event.mimeData()):
            event.acceptProposedAction()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.matches(QtGui.QKeySequence.StandardKey.Paste):
            clipboard = QtWidgets.QApplication.clipboard().mimeData()
            if clipboard is not None and not self.set_mime(clipboard):
                self.refused.emit("The clipboard holds no picture to paste.")
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:
        self.choose_file()
