"""The media part of a chat bubble, above its caption: how big it is and how it is drawn.

Photos, stickers and video posters show their thumbnail (decoded in memory by the chat model); documents an icon,
their name, type and size; voice notes and audio a play button and their length; locations and contact cards their
text. Media whose bytes are not here says why: "Not downloaded — click to fetch", "No longer available on WhatsApp",
or that it was too large to fetch by itself. Media stored on a teammate's computer (its description synced, its
bytes not here) is a ``TeamMedia``: "On a teammate's computer — Fetch from team", or why that cannot be done yet.

A product card (sent from the catalogue) shows its photo with the product's name and price under it.
"""

from __future__ import annotations

from app.core.media import MB, MediaInfo, clock
from app.qt import Qt, QtCore, QtGui
from app.ui.theme import Colors

VISUAL = ("image", "video", "sticker")
PLAYABLE = ("voice", "audio")
PICTURE_MAX = 260
STICKER_MAX = 140
ROW_H = 46  # documents, voice notes and audio
ROW_MAX = 340  # the widest a document, audio, location or contact block grows for its text
PLACEHOLDER = QtCore.QSize(240, 96)


TEAM_SHARING_OFF = "Media sharing is off — the owner can turn it on in Settings → Team"


class TeamMedia(MediaInfo):
    """A message's media as the chat shows it when its bytes are on a teammate's computer, not this one (built by
    the chat model; never stored). ``sharing``: whether the team shares media through its server, so a click can
    fetch them."""

    sharing: bool = False


def state_text(info: MediaInfo) -> str:
    """What the bubble says when the bytes are not here (empty once they are)."""
    if isinstance(info, TeamMedia):
        return f"On a teammate's computer — {'Fetch from team' if info.sharing else TEAM_SHARING_OFF}"
    if info.view_once:  # WhatsApp Web cannot open these: the phone keeps them
        return "View once — open it on your phone"
    match info.state:
        case "stored":
            return ""
        case "unavailable":
            return "No longer available on WhatsApp"
        case "too_large":
            size = f" ({info.size / MB:.0f} MB)" if info.size else ""
            return f"Too large{size} — click to fetch"
        case _:
            return "Not downloaded — click to fetch"


def can_fetch(info: MediaInfo) -> bool:
    if isinstance(info, TeamMedia):
        return True  # from the team server (or a sentence saying sharing is off)
    return info.state in ("pending", "missing", "too_large")


def file_type(info: MediaInfo) -> str:
    """'PDF', 'XLSX' — from the name, else the MIME type."""
    name = info.file_name or ""
    if "." in name:
        return name.rsplit(".", 1)[-1].upper()
    return (info.mime.split("/")[-1] if info.mime else "file").upper()


def size_text(size: int | None) -> str:
    if not size:
        return ""
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def contact_name(vcard: str | None) -> str:
    for line in (vcard or "").splitlines():
        if line.upper().startswith("FN:") or line.upper().startswith("FN;"):
            return line.split(":", 1)[-1].strip()
    return ""


def lines(info: MediaInfo) -> tuple[str, str]:
    """The two lines of text a document, voice, audio, location or contact bubble shows."""
    state = state_text(info)
    match info.kind:
        case "document":
            detail = " · ".join(p for p in (file_type(info), size_text(info.size)) if p)
            return info.file_name or "Document", state or detail
        case "voice" | "audio":
            title = "Voice note" if info.kind == "voice" else (info.file_name or "Audio")
            return title, state or clock(info.duration_s)
        case "location":
            where = (
                f"{info.latitude:.5f}, {info.longitude:.5f}"
                if info.latitude is not None and info.longitude is not None
                else ""
            )
            return f"📍 {info.place or 'Location'}", where
        case "contact":
            return f"👤 {contact_name(info.vcard) or 'Contact card'}", "Contact card"
        case _:
            return "", state


def media_size(info: MediaInfo, max_w: int, font: QtGui.QFont, picture: QtGui.QPixmap | None) -> QtCore.QSize:
    """The media block's size inside a bubble whose content is at most ``max_w`` wide."""
    fm = QtGui.QFontMetrics(font)
    if is_product_card(info):
        return card_size(info, max_w, fm, picture)
    if info.kind in VISUAL:
        if picture is None and info.state != "stored":
            return QtCore.QSize(min(PLACEHOLDER.width(), max_w), PLACEHOLDER.height())
        # A video's poster may come after its bubble was measured (decoded from the video): its box keeps to what
        # the message says, or 4:3, and the poster fills it.
        seen = picture if info.kind != "video" else None
        w = info.width or (seen.width() if seen else 0)
        h = info.height or (seen.height() if seen else 0)
        if not w or not h:
            w, h = 240, 180
        most = min(STICKER_MAX if info.kind == "sticker" else PICTURE_MAX, max_w)
        scale = min(most / w, most / h)
        return QtCore.QSize(max(60, round(w * scale)), max(60, round(h * scale)))
    first, second = lines(info)
    bold = QtGui.QFont(font)
    bold.setBold(True)
    text_w = max(QtGui.QFontMetrics(bold).horizontalAdvance(first), fm.horizontalAdvance(second)) + 8
    if info.kind in PLAYABLE or info.kind == "document":
        return QtCore.QSize(min(max(240, 48 + text_w), ROW_MAX, max_w), ROW_H)
    return QtCore.QSize(min(max(text_w, 160), ROW_MAX, max_w), fm.height() * 2 + 10)


def paint_media(
    painter: QtGui.QPainter,
    box: QtCore.QRect,
    info: MediaInfo,
    picture: QtGui.QPixmap | None,
    c: Colors,
    font: QtGui.QFont,
) -> None:
    painter.save()
    fm = QtGui.QFontMetrics(font)
    if is_product_card(info):
        paint_card(painter, box, info, picture, c, font)
        painter.restore()
        return
    if info.kind in VISUAL:
        path = QtGui.QPainterPath()
        path.addRoundedRect(QtCore.QRectF(box), 6, 6)
        painter.setClipPath(path)
        if picture is not None:
            if info.kind == "video":  # cropped from the middle to fill the box, never stretched
                scale = max(box.width() / picture.width(), box.height() / picture.height())
                sw, sh = box.width() / scale, box.height() / scale
                source = QtCore.QRectF((picture.width() - sw) / 2, (picture.height() - sh) / 2, sw, sh)
                painter.drawPixmap(QtCore.QRectF(box), picture, source)
            else:
                painter.drawPixmap(box, picture)
        else:
            painter.fillRect(box, QtGui.QColor(c.surface_alt))
        painter.setClipping(False)
        if info.kind == "video" and (picture is not None or info.state == "stored"):  # the poster, or a plain box
            _play_mark(painter, QtCore.QRect(box.center().x() - 22, box.center().y() - 22, 44, 44), c, dark=True)
            if info.duration_s:
                label = clock(info.duration_s)
                pill = QtCore.QRect(
                    box.left() + 6, box.bottom() - fm.height() - 8, fm.horizontalAdvance(label) + 12, fm.height() + 4
                )
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QtGui.QColor(0, 0, 0, 140))
                painter.drawRoundedRect(pill, 4, 4)
                painter.setPen(QtGui.QColor("white"))
                painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        state = state_text(info)
        if state:
            painter.setPen(QtGui.QColor(c.muted if picture is None else "white"))
            if picture is not None:
                band = QtCore.QRect(box.left(), box.bottom() - fm.height() * 2 - 6, box.width(), fm.height() * 2 + 6)
                painter.fillRect(band, QtGui.QColor(0, 0, 0, 150))
                painter.drawText(
                    band.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, state
                )
            else:
                mark = {"image": "🖼", "video": "🎬", "sticker": "🙂"}[info.kind]
                if info.kind == "video" and info.duration_s:
                    mark = f"{mark} {clock(info.duration_s)}"
                painter.drawText(
                    box.adjusted(8, 8, -8, -8),
                    Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                    f"{mark}\n{state}",
                )
        painter.restore()
        return
    first, second = lines(info)
    if info.kind in PLAYABLE or info.kind == "document":
        icon = QtCore.QRect(box.left(), box.top() + (box.height() - 38) // 2, 38, 38)
        if info.kind in PLAYABLE:
            _play_mark(painter, icon, c, dark=False, dimmed=info.state != "stored")
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(c.surface_alt))
            painter.drawRoundedRect(icon, 6, 6)
            small = QtGui.QFont(font)
            small.setPointSizeF(max(6.0, font.pointSizeF() - 3))
            small.setBold(True)
            painter.setFont(small)
            painter.setPen(QtGui.QColor(c.accent))
            painter.drawText(icon, Qt.AlignmentFlag.AlignCenter, file_type(info)[:4])
            painter.setFont(font)
        text_left = icon.right() + 10
    else:
        text_left = box.left()
    width = box.right() - text_left
    bold = QtGui.QFont(font)
    bold.setBold(True)
    painter.setFont(bold)
    painter.setPen(QtGui.QColor(c.text))
    top = box.top() + (box.height() - 2 * fm.height()) // 2
    painter.drawText(
        text_left, top + fm.ascent(), QtGui.QFontMetrics(bold).elidedText(first, Qt.TextElideMode.ElideMiddle, width)
    )
    painter.setFont(font)
    painter.setPen(QtGui.QColor(c.muted))
    painter.drawText(
        text_left, top + fm.height() + fm.ascent(), fm.elidedText(second, Qt.TextElideMode.ElideRight, width)
    )
    painter.restore()


def _play_mark(painter: QtGui.QPainter, rect: QtCore.QRect, c: Colors, *, dark: bool, dimmed: bool = False) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(0, 0, 0, 130) if dark else QtGui.QColor(c.muted if dimmed else c.accent))
    painter.drawEllipse(rect)
    r = QtCore.QRectF(rect)
    triangle = QtGui.QPolygonF(
        [
            QtCore.QPointF(r.left() + r.width() * 0.40, r.top() + r.height() * 0.30),
            QtCore.QPointF(r.left() + r.width() * 0.40, r.top() + r.height() * 0.70),
            QtCore.QPointF(r.left() + r.width() * 0.72, r.center().y()),
        ]
    )
    painter.setBrush(QtGui.QColor("white"))
    painter.drawPolygon(triangle)


# ---- product cards ------------------------------------------------------------------------------------------------
# A product sent from the catalogue: its photo (cropped to a card between 2:1 and square), and under it a band with
# the name and the price it went out with, as WhatsApp Business shows a catalogue item. The caption follows below.


def is_product_card(info: MediaInfo) -> bool:
    return info.product_id is not None and info.kind == "image"


def card_band_height(fm: QtGui.QFontMetrics) -> int:
    return 2 * fm.height() + 14


def card_size(info: MediaInfo, max_w: int, fm: QtGui.QFontMetrics, picture: QtGui.QPixmap | None) -> QtCore.QSize:
    w = min(PICTURE_MAX, max_w)
    pw = info.width or (picture.width() if picture else 0)
    ph = info.height or (picture.height() if picture else 0)
    h = round(w * ph / pw) if pw and ph else round(w * 0.75)
    return QtCore.QSize(w, max(w // 2, min(w, h)) + card_band_height(fm))


def paint_card(
    painter: QtGui.QPainter,
    box: QtCore.QRect,
    info: MediaInfo,
    picture: QtGui.QPixmap | None,
    c: Colors,
    font: QtGui.QFont,
) -> None:
    fm = QtGui.QFontMetrics(font)
    band_h = card_band_height(fm)
    photo = box.adjusted(0, 0, 0, -band_h)
    band = QtCore.QRect(box.left(), photo.bottom() + 1, box.width(), band_h)
    path = QtGui.QPainterPath()
    path.addRoundedRect(QtCore.QRectF(box), 6, 6)
    painter.setClipPath(path)
    if picture is not None and not picture.isNull():
        # Cropped from the middle, never stretched: the card's shape is the same for every product.
        scale = max(photo.width() / picture.width(), photo.height() / picture.height())
        sw, sh = photo.width() / scale, photo.height() / scale
        source = QtCore.QRectF((picture.width() - sw) / 2, (picture.height() - sh) / 2, sw, sh)
        painter.drawPixmap(QtCore.QRectF(photo), picture, source)
    else:
        painter.fillRect(photo, QtGui.QColor(c.surface_alt))
        painter.setPen(QtGui.QColor(c.muted))
        painter.drawText(
            photo.adjusted(8, 8, -8, -8),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            f"🛍\n{state_text(info) or 'Product photo'}",
        )
    painter.fillRect(band, QtGui.QColor(c.surface_alt))
    painter.setClipping(False)
    inner = band.adjusted(10, 7, -10, -7)
    bold = QtGui.QFont(font)
    bold.setBold(True)
    painter.setFont(bold)
    painter.setPen(QtGui.QColor(c.text))
    name = QtGui.QFontMetrics(bold).elidedText(
        info.product_name or "Product", Qt.TextElideMode.ElideRight, inner.width()
    )
    painter.drawText(inner.left(), inner.top() + fm.ascent(), name)
    painter.setPen(QtGui.QColor(c.accent))
    painter.drawText(inner.left(), inner.top() + fm.height() + fm.ascent(), info.product_price or "")
    painter.setFont(font)
