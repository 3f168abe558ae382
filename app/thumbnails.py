"""Thumbnails of images with Qt's QImage, in memory (the store's ``Thumbnailer``, passed in by bootstrap).

Outside ``app/store`` because the store never imports Qt (house rule 1); QtGui's image code needs no display or
QGuiApplication. Nothing is written to disk: the image is decoded from bytes and encoded into a QBuffer.
"""

from __future__ import annotations

from app.qt import Qt, QtCore, QtGui

MAX_PX = 320
QUALITY = 80


def make_thumbnail(data: bytes, mime: str, max_px: int = MAX_PX) -> bytes | None:
    """A JPEG at most ``max_px`` on its longer side, or None when ``data`` is not an image Qt can read."""
    image = QtGui.QImage.fromData(data)
    if image.isNull():
        return None
    if max(image.width(), image.height()) > max_px:
        image = image.scaled(
            max_px, max_px, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    if image.hasAlphaChannel():  # JPEG has no transparency: flatten onto white, as WhatsApp shows stickers
        flat = QtGui.QImage(image.size(), QtGui.QImage.Format.Format_RGB32)
        flat.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "JPEG", QUALITY):  # type: ignore[call-overload]  # the stubs say bytes; it takes str
        return None
    return bytes(buffer.data().data())
