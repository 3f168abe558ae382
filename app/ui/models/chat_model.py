"""One conversation as rows: day separators, messages in the chat's order (WhatsApp's) and internal notes by time,
newest at the bottom.

It holds the latest ``page`` messages and loads earlier ones on demand (``load_earlier``), so a chat with
thousands of messages opens as fast as a short one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from app.core.errors import NotFound
from app.core.media import MediaInfo, describe
from app.core.models import Message, Note
from app.qt import Qt, QtCore, QtGui
from app.store.store import Store
from app.ui.widgets.media_actions import suggested_name
from app.ui.widgets.media_bubble import TeamMedia
from app.ui.widgets.media_viewer import Viewable

if TYPE_CHECKING:
    from app.ui.widgets.video_player import PosterFrames

ItemRole = Qt.ItemDataRole.UserRole + 10


@dataclass(frozen=True)
class ChatItem:
    kind: Literal["day", "message", "note"]
    at: datetime
    text: str
    id: str = ""
    direction: str = ""
    status: str = ""
    status_reason: str | None = None
    quoted: str | None = None
    author: str | None = None
    # What the message carries besides its text (the text is then its caption); compared, not hashed (a pydantic
    # model): a kept bubble height is found by the rest and checked against it.
    media: MediaInfo | None = field(default=None, hash=False)


THUMBS_KEPT = 120  # decoded thumbnails kept in memory (a few screens of photos)
VIEWABLE = ("image", "sticker", "video")  # opened in the media viewer (a video plays there)
THUMB_PX = 320  # the most a bubble shows of a picture
FULL_AS_THUMB = 2 * 1024 * 1024  # a photo without a thumbnail is decoded for its bubble up to this size
POSTER_FROM_MAX = 32 * 1024 * 1024  # a video without a poster gets its first frame as one up to this size


def media_of(message: Message) -> MediaInfo | None:
    if not message.media:
        return None
    try:
        return MediaInfo.model_validate(message.media)
    except ValidationError:  # a kind this version does not know (a newer teammate's Parley): shown as text
        return None


def card_text(caption: str, name: str, price: str) -> str:
    """A product card's caption as its bubble shows it: the card's band already says "name — price", so that first
    line (what the customer reads under the photo) is not repeated; the description stays."""
    first, _, rest = caption.partition("\n")
    return rest.strip() if first.strip() == f"{' '.join(name.split())} — {price}" else caption


def team_view(store: Store, media: MediaInfo, sharing: bool) -> MediaInfo:
    """``TeamMedia`` for stored media whose bytes are on a teammate's computer, not this one (in a team)."""
    if media.state != "stored" or not media.blob_id or store.media.exists(media.blob_id):
        return media
    return TeamMedia(**media.model_dump(), sharing=sharing)


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    if (today - day).days < 7:
        return day.strftime("%A")
    return day.strftime("%d %B %Y") if day.year != today.year else day.strftime("%d %B")


class ChatModel(QtCore.QAbstractListModel):
    def __init__(self, store: Store, page: int = 60, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.page = page
        self.chat_id: str | None = None
        self._messages: list[Message] = []
        self._notes: list[Note] = []
        self._items: list[ChatItem] = []
        self.has_earlier = False
        self.highlight_id: str | None = None
        self.next_send_at: datetime | None = None  # the send queue's, shown on queued messages while they wait
        self.waiting_on = ""  # the team device that sends queued messages, when it is not this one
        self._thumbs: OrderedDict[str, QtGui.QPixmap | None] = OrderedDict()
        self._posters: PosterFrames | None = None  # first frames of videos without a poster (made when needed)

    def rowCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            return item.text
        if role == Qt.ItemDataRole.AccessibleTextRole:
            who = "You" if item.direction == "out" else "Customer"
            text = describe(item.media, item.text) if item.media else item.text
            if item.media is not None and item.media.product_id is not None and item.media.product_name:
                card = f"Product card: {item.media.product_name} — {item.media.product_price or ''}"
                text = f"{card} — {item.text}" if item.text else card
            return f"{item.kind} {who}: {text}"
        return None

    def item(self, row: int) -> ChatItem:
        return self._items[row]

    def open(self, chat_id: str | None, *, around: str | None = None) -> None:
        """Show ``chat_id``; with ``around`` (a message id) history is loaded back far enough to include it."""
        self.chat_id = chat_id
        self.highlight_id = around
        self._messages = self.store.messages.for_chat(chat_id, limit=self.page + 1) if chat_id else []
        self.has_earlier = len(self._messages) > self.page
        self._messages = self._messages[-self.page :]
        if around and chat_id and self.store.messages.find(around) is not None:
            # Until the message itself is loaded (not just its second: several can share one), in big steps.
            while self.has_earlier and all(m.id != around for m in self._messages):
                self._load_earlier_messages(step=max(self.page, 500))
        self._notes = self.store.notes.find_all({"chat_id": chat_id}) if chat_id else []
        self._rebuild()

    def reload(self) -> None:
        """Re-read after a change, keeping as much history as is loaded."""
        if self.chat_id is None:
            return
        loaded = max(self.page, len(self._messages))
        msgs = self.store.messages.for_chat(self.chat_id, limit=loaded + 1)
        self.has_earlier = len(msgs) > loaded
        self._messages = msgs[-loaded:]
        self._notes = self.store.notes.find_all({"chat_id": self.chat_id})
        self._rebuild()

    def load_earlier(self) -> int:
        """Prepend the previous page; returns how many rows were added (to keep the view's scroll position)."""
        before = len(self._items)
        if not self._load_earlier_messages():
            return 0
        self._rebuild()
        return len(self._items) - before

    def _load_earlier_messages(self, step: int | None = None) -> bool:
        if not self.has_earlier or self.chat_id is None or not self._messages:
            return False
        size = step or self.page
        earlier = self.store.messages.for_chat(self.chat_id, limit=size + 1, before=self._messages[0])
        self.has_earlier = len(earlier) > size
        self._messages = earlier[-size:] + self._messages
        return True

    def set_next_send_at(self, at: datetime | None, *, waiting_on: str = "") -> bool:
        """Show ``at`` (or the device that will send them, ``waiting_on``) on queued messages; True when one is on
        screen (its bubble's size changed: lay out again)."""
        if at == self.next_send_at and waiting_on == self.waiting_on:
            return False
        self.next_send_at, self.waiting_on = at, waiting_on
        rows = [i for i, it in enumerate(self._items) if it.direction == "out" and it.status == "queued"]
        for row in rows:
            self.dataChanged.emit(self.index(row), self.index(row))
        return bool(rows)

    # ---- media -----------------------------------------------------------------------------------------------
    def media_bytes(self, blob_id: str | None) -> bytes | None:
        """The decrypted bytes of ``blob_id`` (in memory), or None when they are not in this workspace."""
        if not blob_id:
            return None
        try:
            return self.store.media.get(blob_id)
        except NotFound:
            return None

    def thumbnail(self, media: MediaInfo) -> QtGui.QPixmap | None:
        """The bubble's picture for ``media``, decoded in memory from its thumbnail (the last few kept)."""
        blob_id = media.thumb_blob_id
        if blob_id is None and media.kind == "video" and media.state == "stored" and media.blob_id:
            return self._poster(media.blob_id, media.mime, media.size)
        if (
            blob_id is None
            and media.kind in ("image", "sticker")
            and media.state == "stored"
            and (media.size or 0) <= FULL_AS_THUMB
        ):
            blob_id = media.blob_id  # no thumbnail was made (a sticker, a store without a thumbnailer): a small file
        if not blob_id:
            return None
        if blob_id in self._thumbs:
            self._thumbs.move_to_end(blob_id)
            return self._thumbs[blob_id]
        data = self.media_bytes(blob_id)
        if data is None:
            return None  # not here (yet: a teammate's may arrive through the team server), so not remembered
        image = QtGui.QImage.fromData(data) if data else QtGui.QImage()
        if max(image.width(), image.height()) > THUMB_PX:
            image = image.scaled(
                THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        pixmap = None if image.isNull() else QtGui.QPixmap.fromImage(image)
        self._thumbs[blob_id] = pixmap
        while len(self._thumbs) > THUMBS_KEPT:
            self._thumbs.popitem(last=False)
        return pixmap

    def _poster(self, blob_id: str, mime: str, size: int | None) -> QtGui.QPixmap | None:
        """A video that came without a poster: its first frame, decoded in memory once (``PosterFrames``)."""
        from app.ui.widgets.video_player import PosterFrames  # Qt Multimedia only once such a video is shown

        if self._posters is None:
            self._posters = PosterFrames(self)
            self._posters.ready.connect(self._poster_ready)
        if not self._posters.asked(blob_id) and (size or 0) <= POSTER_FROM_MAX:
            data = self.media_bytes(blob_id)
            if data:
                self._posters.request(blob_id, data, mime)
        return self._posters.posters.get(blob_id)

    def _poster_ready(self, blob_id: str) -> None:
        for row, it in enumerate(self._items):
            if it.media is not None and it.media.blob_id == blob_id and it.media.thumb_blob_id is None:
                self.dataChanged.emit(self.index(row), self.index(row))

    def viewables(self) -> list[Viewable]:
        """The loaded chat's photos, stickers and videos that are here, in order (the viewer's previous/next)."""
        return [
            Viewable(
                it.id,
                describe(it.media, it.text),
                suggested_name(it.media, it.at),
                it.media.mime,
                it.media.kind,
            )
            for it in self._items
            if it.media is not None and it.media.kind in VIEWABLE and it.media.state == "stored"
        ]

    def viewable_bytes(self, viewable: Viewable) -> bytes | None:
        """A photo's full bytes, or its thumbnail while the full one is not here."""
        row = self.row_of(viewable.key)
        media = self._items[row].media if row >= 0 else None
        if media is None:
            return None
        return self.media_bytes(media.blob_id) or self.media_bytes(media.thumb_blob_id)

    def row_of(self, message_id: str) -> int:
        for i, item in enumerate(self._items):
            if item.id == message_id:
                return i
        return -1

    def _rebuild(self) -> None:
        by_id = {m.id: m for m in self._messages}
        entries: list[ChatItem] = []
        earliest = self._messages[0].sent_at if self._messages and self.has_earlier else None
        sharing = self.store.media.team_sharing()  # None: not in a team (or not heard yet)
        for m in self._messages:
            quoted = None
            if m.quoted_message_id:
                q = by_id.get(m.quoted_message_id) or self.store.messages.find(m.quoted_message_id)
                quoted = q.body if q else "Original message not available"
            media = media_of(m)
            if media is not None and sharing is not None:
                media = team_view(self.store, media, sharing)
            body = m.body or (f"[{m.kind}]" if m.kind != "text" and media is None else "")
            if media is not None and media.product_id is not None and media.product_name and media.product_price:
                body = card_text(body, media.product_name, media.product_price)
            entries.append(
                ChatItem(
                    "message",
                    m.sent_at,
                    body,
                    m.id,
                    m.direction,
                    m.status,
                    m.status_reason,
                    quoted,
                    m.author_user_id,
                    media,
                )
            )
        # Messages stay in the store's order (the order WhatsApp shows them; their times are only to the minute);
        # each note goes before the first message sent after it.
        notes = sorted(
            (
                ChatItem("note", n.created_at, n.body, n.id, author=n.author_user_id)
                for n in self._notes
                if earliest is None or n.created_at >= earliest
            ),
            key=lambda e: e.at,
        )
        merged: list[ChatItem] = []
        for entry in entries:
            while notes and notes[0].at < entry.at:
                merged.append(notes.pop(0))
            merged.append(entry)
        merged += notes
        today = datetime.now().astimezone().date()
        items: list[ChatItem] = []
        last_day: date | None = None
        for entry in merged:
            day = entry.at.astimezone().date()
            if last_day is None or day > last_day:  # (a message shown below a later one's day keeps that day)
                items.append(ChatItem("day", entry.at, day_label(day, today)))
                last_day = day
            items.append(entry)
        self.beginResetModel()
        self._items = items
        self.endResetModel()
