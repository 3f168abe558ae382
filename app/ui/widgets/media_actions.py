"""What a right click on a media bubble offers: open it (the viewer for photos, stickers and videos; the player for
voice notes and audio), "Save as…" for every kind with bytes, and "Copy" for photos and stickers (the decoded image
onto the clipboard, from memory).

"Save as…" is the only way a decrypted file reaches the disk: the dialog proposes the document's own name, or
"Photo 2026-12-07 17.17.jpg" with the extension of its type, and the bytes are written only where the person chose
(QSaveFile: a refused place leaves nothing behind).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from app.core.media import EXTENSIONS, MediaInfo
from app.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from app.ui.models.chat_model import ChatItem

NOUNS = {
    "image": "Photo",
    "video": "Video",
    "voice": "Voice note",
    "audio": "Audio",
    "document": "Document",
    "sticker": "Sticker",
}
SAVABLE = tuple(NOUNS)  # the kinds that carry bytes (locations and contact cards carry text)
OPENABLE = ("image", "sticker", "video", "voice", "audio")
COPYABLE = ("image", "sticker")
DEFAULT_MIME = {"image": "image/jpeg", "video": "video/mp4", "voice": "audio/ogg", "audio": "audio/ogg"}


def extension(info: MediaInfo) -> str:
    """'jpg', 'mp4', 'ogg', 'pdf' — from the MIME type (or the kind's usual one), 'bin' when nothing is known."""
    mime = (info.mime or DEFAULT_MIME.get(info.kind, "")).split(";")[0].strip().lower()
    if mime in EXTENSIONS:
        return EXTENSIONS[mime]
    guessed = mimetypes.guess_extension(mime) if mime else None
    return guessed.lstrip(".") if guessed else "bin"


def suggested_name(info: MediaInfo, at: datetime) -> str:
    """What "Save as…" proposes: the file's own name (without any folder it claims), with an extension; else the
    kind and the local time it was sent, e.g. "Voice note 2026-12-07 17.17.ogg"."""
    own = PurePath((info.file_name or "").replace("\\", "/")).name.strip()
    if own and own not in (".", ".."):
        return own if "." in own.strip(".") else f"{own}.{extension(info)}"
    when = at.astimezone() if at.tzinfo is not None else at
    return f"{NOUNS.get(info.kind, 'File')} {when:%Y-%m-%d %H.%M}.{extension(info)}"


def write_file(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` all at once (QSaveFile: nothing is left there when it fails)."""
    file = QtCore.QSaveFile(path)
    return bool(file.open(QtCore.QIODevice.OpenModeFlag.WriteOnly) and file.write(data) >= 0 and file.commit())


def save_as(parent: QtWidgets.QWidget | None, data: bytes, name: str, noun: str) -> bool | None:
    """Ask where, then write: True when written, False when it could not be written there, None when cancelled."""
    path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, f"Save {noun.lower()} as", name)
    if not path:
        return None
    return write_file(path, data)


def copy_image(data: bytes) -> bool:
    """The decoded picture onto the clipboard (other apps paste an image, not a path)."""
    image = QtGui.QImage.fromData(data)
    if image.isNull():
        return False
    QtGui.QGuiApplication.clipboard().setImage(image)
    return True


def add_media_actions(
    menu: QtWidgets.QMenu,
    info: MediaInfo | None,
    at: datetime,
    load: Callable[[], bytes | None],
    open_media: Callable[[], None],
    report: Callable[[str], None],
) -> None:
    """Put a media bubble's actions at the top of its context menu: "Open in viewer" (or "Play"), "Save as…",
    "Copy" for pictures. ``load`` reads the bytes only when an action needs them (none while the menu is built);
    ``report`` tells the person when saving or copying did not work."""
    if info is None or info.kind not in SAVABLE or info.state != "stored" or not info.blob_id:
        return
    first = menu.actions()[0] if menu.actions() else None
    noun = NOUNS[info.kind]
    added: list[QtGui.QAction] = []
    if info.kind in OPENABLE:
        opener = QtGui.QAction("Play" if info.kind in ("voice", "audio") else "Open in viewer", menu)
        opener.triggered.connect(open_media)
        added.append(opener)

    def do_save() -> None:
        data = load()
        if data is None:
            report(f"This {noun.lower()} is no longer in this workspace: fetch it again from WhatsApp.")
            return
        if save_as(menu.parentWidget(), data, suggested_name(info, at), noun) is False:
            report(f"The {noun.lower()} could not be saved there. Choose another folder.")

    saver = QtGui.QAction("Save as…", menu)
    saver.triggered.connect(do_save)
    added.append(saver)
    if info.kind in COPYABLE:

        def do_copy() -> None:
            data = load()
            if data is None or not copy_image(data):
                report(f"This {noun.lower()} could not be copied.")

        copier = QtGui.QAction("Copy", menu)
        copier.triggered.connect(do_copy)
        added.append(copier)
    if first is None:
        menu.addActions(added)
        return
    separator = QtGui.QAction(menu)
    separator.setSeparator(True)
    menu.insertActions(first, [*added, separator])


def add_item_media_actions(
    menu: QtWidgets.QMenu, item: ChatItem, view: QtWidgets.QAbstractItemView, report: Callable[[str], None]
) -> None:
    """``add_media_actions`` for a conversation's row: the bytes from its chat model, "Open" as a click would."""
    from app.ui.models.chat_model import ChatModel
    from app.ui.widgets.bubble_delegate import BubbleDelegate

    model, delegate = view.model(), view.itemDelegate()
    if not isinstance(model, ChatModel) or item.media is None:
        return
    blob_id = item.media.blob_id

    def open_media() -> None:
        if isinstance(delegate, BubbleDelegate):
            delegate.open_media(item, view)

    add_media_actions(menu, item.media, item.at, lambda: model.media_bytes(blob_id), open_media, report)
