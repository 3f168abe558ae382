"""Media operations: keep the bytes a received message carries, note that they could not be had, queue photos and
documents to send, send a product card, give a product its photo.

Thumbnails are made (in memory) before the write transaction opens, so decoding a photo never holds the writer.
A refusal (a file WhatsApp would not take, a product without a name) is raised before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidInput
from app.core.events import MessageQueued
from app.core.ids import utc_now
from app.core.media import FETCH_CAP, MediaInfo, MediaState, check_sendable, kind_for
from app.core.models import Message, MessageKind, Product
from app.core.money import money
from app.store.ops import Done, done, op_transaction
from app.store.ops.products import ProductInput, check_product, save_product
from app.store.store import Store

# States a message's media can be put in without bytes (``stored`` comes only with them, through attach_received).
_STATES_WITHOUT_BYTES: frozenset[MediaState] = frozenset({"pending", "missing", "unavailable", "too_large"})
# A product card's caption carries a short description (as WhatsApp Business's catalogue share): the humanizer
# types it, so a long one would keep the sender busy, and WhatsApp cuts captions at 1,024 characters.
CARD_DESCRIPTION_MAX = 240
CAPTION_MAX = 1024


def _info(message: Message, mime: str = "") -> MediaInfo:
    if message.media:
        return MediaInfo.model_validate(message.media)
    if message.kind == "text":
        raise InvalidInput("This message has no media.")
    return MediaInfo(kind=message.kind, mime=mime)


def attach_received(store: Store, message_id: str, data: bytes, mime: str) -> Done[Message]:
    """Keep the bytes fetched for a received (or captured) media message, with a thumbnail for images: its media
    becomes ``stored`` with their blob ids. Over ``FETCH_CAP`` nothing is kept and the state is ``too_large``."""
    if len(data) > FETCH_CAP:
        with op_transaction(store) as tx:
            message = store.messages.get(message_id)
            info = _info(message, mime).model_copy(update={"state": "too_large", "size": len(data)})
            updated = store.messages.update(message_id, media=info.model_dump(mode="json"))
        return done(tx, updated)
    thumb = store.media.thumbnail(data, mime)
    with op_transaction(store) as tx:
        message = store.messages.get(message_id)
        info = _info(message, mime)
        blob_id = store.media.put(data, mime or info.mime)
        thumb_id = store.media.put(thumb, "image/jpeg") if thumb is not None else info.thumb_blob_id
        info = info.model_copy(
            update={
                "state": "stored",
                "blob_id": blob_id,
                "thumb_blob_id": thumb_id,
                "size": len(data),
                "mime": info.mime or mime,
            }
        )
        updated = store.messages.update(message_id, media=info.model_dump(mode="json"))
    return done(tx, updated)


def mark_media_state(store: Store, message_id: str, state: MediaState) -> Done[Message]:
    """Record that a message's bytes are ``missing`` (the page did not have them: "click to fetch"),
    ``unavailable`` (gone from WhatsApp), ``too_large`` or ``pending`` again (asked for once more)."""
    if state not in _STATES_WITHOUT_BYTES:
        raise InvalidInput("A media file is marked stored only when its bytes are kept.")
    with op_transaction(store) as tx:
        message = store.messages.get(message_id)
        info = _info(message).model_copy(update={"state": state})
        updated = store.messages.update(message_id, media=info.model_dump(mode="json"))
    return done(tx, updated)


@dataclass(frozen=True)
class _Outgoing:
    kind: MessageKind
    body: str
    mime: str
    data: bytes
    thumb: bytes | None
    media: dict[str, Any]


def queue_media(store: Store, chat_id: str, files: list[tuple[str, bytes, str, str]]) -> Done[list[Message]]:
    """Queue each ``(file name, bytes, mime, caption)`` as one outbound message of its kind (photo, video, audio or
    document), in order, at the bottom of the chat. Every file is checked against WhatsApp's limits first: one
    refused file refuses them all and nothing is written."""
    if not files:
        raise InvalidInput("Choose a file to send first.")
    outgoing: list[_Outgoing] = []
    for name, data, mime, caption in files:
        kind = kind_for(mime, name)
        check_sendable(kind, len(data), name)
        media = {"kind": kind, "mime": mime, "file_name": name or None, "size": len(data)}
        outgoing.append(_Outgoing(kind, caption.strip(), mime, data, store.media.thumbnail(data, mime), media))
    with op_transaction(store) as tx:
        messages = [_queue(store, chat_id, item) for item in outgoing]
    return done(tx, messages)


def _queue(store: Store, chat_id: str, item: _Outgoing) -> Message:
    """One queued outbound message, placed and announced as ``messaging.queue_outbound`` does for text."""
    chat = store.chats.get(chat_id)
    media = dict(item.media)
    if item.data:
        media |= {"state": "stored", "blob_id": store.media.put(item.data, item.mime)}
    if item.thumb is not None:
        media["thumb_blob_id"] = store.media.put(item.thumb, "image/jpeg")
    message = store.messages.create(
        chat_id=chat.id,
        direction="out",
        body=item.body,
        kind=item.kind,
        media=MediaInfo.model_validate(media).model_dump(mode="json") if media else None,
        status="queued",
        author_user_id=store.local_user_id,
        sent_at=utc_now(),
        position=store.messages.between(chat.id, store.messages.last_position(chat.id), None),
    )
    if chat.contact_id:
        store.contacts.update(chat.contact_id, last_contacted_at=message.sent_at)
    store.emit(MessageQueued(org_id=store.org_id, chat_id=chat.id, message_id=message.id))
    return message


def _shortened(text: str, most: int) -> str:
    """``text`` cut at a word boundary to at most ``most`` characters, with "…" when cut."""
    if len(text) <= most:
        return text
    cut = text[: most - 1]
    if " " in cut[most // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-—") + "…"


def card_caption(product: Product) -> str:
    """What a product card says under its photo (or alone, without one): "name — price" and, on the lines below,
    the start of the description. The price is written by ``app.core.money`` as everywhere in Parley."""
    head = f"{' '.join(product.name.split())} — {money(product.price_minor, product.currency)}"
    lines = [" ".join(line.split()) for line in product.description.splitlines()]
    description = _shortened("\n".join(line for line in lines if line), CARD_DESCRIPTION_MAX)
    return _shortened(f"{head}\n{description}" if description else head, CAPTION_MAX)


def queue_product_card(store: Store, chat_id: str, product_id: str) -> Done[Message]:
    """Queue a product card: the product's photo with ``card_caption`` (name, price, short description) as its
    caption, or that text alone when the product has no photo (or its photo is not on this computer). The card keeps
    the name and price it went out with, for its bubble, whatever the catalogue says later."""
    product = store.products.get(product_id)
    caption = card_caption(product)
    photo = product.photo_blob_id
    if photo is not None and store.media.exists(photo):
        data, mime = store.media.get(photo), store.media.mime(photo) or "image/jpeg"
        media = {
            "kind": "image",
            "mime": mime,
            "size": len(data),
            "product_id": product.id,
            "product_name": product.name,
            "product_price": money(product.price_minor, product.currency),
        }
        item = _Outgoing("image", caption, mime, data, store.media.thumbnail(data, mime), media)
    else:
        item = _Outgoing("text", caption, "", b"", None, {})
    with op_transaction(store) as tx:
        message = _queue(store, chat_id, item)
    return done(tx, message)


def set_product_photo(store: Store, product_id: str, data: bytes, mime: str) -> Done[Product]:
    """Give a product its photo (a picture WhatsApp would send as a photo); the previous photo's bytes go when
    nothing else uses them."""
    check_product_photo(data, mime)
    with op_transaction(store) as tx:
        product = store.products.get(product_id)
        blob_id = store.media.put(data, mime)
        updated = store.products.update(product_id, photo_blob_id=blob_id)
        if product.photo_blob_id and product.photo_blob_id != blob_id:
            store.media.delete_unreferenced([product.photo_blob_id])
    return done(tx, updated)


def remove_product_photo(store: Store, product_id: str) -> Done[Product]:
    """Take a product's photo away (its cards go out as text); the bytes go when nothing else uses them."""
    with op_transaction(store) as tx:
        product = store.products.get(product_id)
        updated = store.products.update(product_id, photo_blob_id=None)
        if product.photo_blob_id:
            store.media.delete_unreferenced([product.photo_blob_id])
    return done(tx, updated)


def check_product_photo(data: bytes, mime: str, file_name: str = "") -> None:
    """Refuse, with a sentence, a file that cannot be a product photo (a card sends it as a WhatsApp photo)."""
    if kind_for(mime) != "image":
        raise InvalidInput(f"{file_name or 'This file'} is not a photo: choose a JPEG, PNG or WebP picture.")
    check_sendable("image", len(data), file_name or "The photo")


def save_product_with_photo(
    store: Store,
    product: ProductInput,
    *,
    product_id: str | None = None,
    photo: tuple[bytes, str] | None = None,
    remove_photo: bool = False,
) -> Done[Product]:
    """The product editor's save: the product's details and, when changed, its photo (``photo`` = bytes and MIME
    type, or ``remove_photo``) in one transaction, so a refused photo leaves the product as it was."""
    check_product(product)
    if photo is not None:
        check_product_photo(*photo)
    with op_transaction(store) as tx:
        saved = save_product(store, product, product_id=product_id).value
        if photo is not None:
            saved = set_product_photo(store, saved.id, *photo).value
        elif remove_photo and saved.photo_blob_id:
            saved = remove_product_photo(store, saved.id).value
    return done(tx, saved)
