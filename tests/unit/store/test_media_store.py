"""Media in the store (issue 17): encrypted bytes in the database, received media kept or marked, photos and
documents queued to send, product cards, document names in search, the inbox's preview, and backups."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import InvalidInput, ParleyError
from app.core.events import MessageQueued
from app.core.media import MB, MediaInfo, MediaTooLarge
from app.qt import QtCore, QtGui
from app.store import migrations
from app.store.database import Database
from app.store.keyring_vault import KeyringVault
from app.store.media import MediaMissing
from app.store.ops import media as ops
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.thumbnails import make_thumbnail
from tests.data.make_snapshot import ORG_ID, SNAPSHOT_KEY, snapshot_path
from tests.support.graph import AT, Graph, build_graph
from tests.support.workspace_fixtures import FAST_KDF


def png(width: int = 900, height: int = 600, colour: str = "teal") -> bytes:
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(colour))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(buffer.data().data())


@pytest.fixture
def mstore(home: Path, vault: KeyringVault) -> Iterator[Store]:
    """A workspace whose store makes thumbnails with Qt, as the app's (bootstrap passes the same thumbnailer)."""
    store = Workspaces(home, vault, kdf=FAST_KDF, thumbnailer=make_thumbnail).create("Acme", "Ana Owner")
    yield store
    store.close()


@pytest.fixture
def g(mstore: Store) -> Graph:
    return build_graph(mstore)


def received(store: Store, g: Graph, kind: str = "image", **media: object) -> str:
    info = MediaInfo.model_validate({"kind": kind, **media}).model_dump(mode="json")
    return store.messages.create(chat_id=g.chat.id, direction="in", kind=kind, media=info, sent_at=AT).id


# ---- bytes --------------------------------------------------------------------------------------------------------
def test_put_get_round_trip_by_content(mstore: Store) -> None:
    data = b"\x00\x01 some document bytes \xff" * 1000
    blob_id = mstore.media.put(data, "application/pdf")
    assert blob_id == hashlib.sha256(data).hexdigest()
    assert mstore.media.get(blob_id) == data
    assert mstore.media.exists(blob_id)
    assert mstore.media.mime(blob_id) == "application/pdf"
    assert mstore.media.put(data, "application/pdf") == blob_id  # the same bytes are kept once
    assert mstore.media.total_bytes() == len(data)
    mstore.media.delete(blob_id)
    assert not mstore.media.exists(blob_id)
    assert mstore.media.total_bytes() == 0
    with pytest.raises(MediaMissing) as caught:
        mstore.media.get(blob_id)
    assert isinstance(caught.value, ParleyError)
    assert str(caught.value) == "This media file is not on this computer."


def test_thumbnail_is_a_small_jpeg(mstore: Store, store: Store) -> None:
    thumb = mstore.media.thumbnail(png(1200, 800), "image/png")
    assert thumb is not None
    assert thumb[:3] == b"\xff\xd8\xff"
    image = QtGui.QImage.fromData(thumb)
    assert (image.width(), image.height()) == (320, 213)
    assert mstore.media.thumbnail(b"not an image", "image/jpeg") is None
    assert mstore.media.thumbnail(png(), "application/pdf") is None
    # Without a thumbnailer (a store built without Qt) there are none, and nothing fails.
    assert store.media.thumbnail(png(), "image/png") is None


# ---- received media -----------------------------------------------------------------------------------------------
def test_attach_received_keeps_bytes_and_thumbnail(mstore: Store, g: Graph) -> None:
    message_id = received(mstore, g, "image", mime="image/png")
    photo = png()
    result = ops.attach_received(mstore, message_id, photo, "image/png")
    info = MediaInfo.model_validate(result.value.media)
    assert (info.state, info.size, info.mime) == ("stored", len(photo), "image/png")
    assert info.blob_id
    assert info.thumb_blob_id
    assert mstore.media.get(info.blob_id) == photo
    assert mstore.media.get(info.thumb_blob_id)[:3] == b"\xff\xd8\xff"
    assert result.touched("messages")
    assert MediaInfo.model_validate(mstore.messages.get(message_id).media).state == "stored"


def test_attach_over_the_fetch_cap_keeps_nothing(mstore: Store, g: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "FETCH_CAP", 1000)
    message_id = received(mstore, g, "video", mime="video/mp4")
    result = ops.attach_received(mstore, message_id, b"v" * 1001, "video/mp4")
    info = MediaInfo.model_validate(result.value.media)
    assert (info.state, info.blob_id, info.size) == ("too_large", None, 1001)
    assert mstore.media.total_bytes() == 0


def test_media_states_without_bytes(mstore: Store, g: Graph) -> None:
    message_id = received(mstore, g, "voice", duration_s=12)
    for state in ("missing", "unavailable", "pending"):
        done = ops.mark_media_state(mstore, message_id, state)  # type: ignore[arg-type]
        assert MediaInfo.model_validate(done.value.media).state == state
    with pytest.raises(InvalidInput):
        ops.mark_media_state(mstore, message_id, "stored")
    text = mstore.messages.create(chat_id=g.chat.id, direction="in", body="hi", sent_at=AT)
    with pytest.raises(InvalidInput):
        ops.mark_media_state(mstore, text.id, "missing")


# ---- sending ------------------------------------------------------------------------------------------------------
def test_queue_media_queues_one_message_per_file_in_order(mstore: Store, g: Graph) -> None:
    earlier = mstore.messages.create(chat_id=g.chat.id, direction="in", body="Photos please", sent_at=AT)
    events: list[MessageQueued] = []
    mstore.bus.subscribe(MessageQueued, events.append)
    files = [
        ("red.png", png(colour="red"), "image/png", " The red one "),
        ("blue.png", png(colour="blue"), "image/png", ""),
        ("prices.pdf", b"%PDF-1.4 prices", "application/pdf", "Our prices"),
    ]
    done = ops.queue_media(mstore, g.chat.id, files)
    messages = done.value
    assert [(m.kind, m.body, m.status, m.direction) for m in messages] == [
        ("image", "The red one", "queued", "out"),
        ("image", "", "queued", "out"),
        ("document", "Our prices", "queued", "out"),
    ]
    infos = [MediaInfo.model_validate(m.media) for m in messages]
    assert [i.file_name for i in infos] == ["red.png", "blue.png", "prices.pdf"]
    assert all(i.state == "stored" and i.blob_id for i in infos)
    assert [i.thumb_blob_id is not None for i in infos] == [True, True, False]
    assert mstore.media.get(infos[2].blob_id or "") == b"%PDF-1.4 prices"
    positions = [earlier.position, *(m.position for m in messages)]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4
    assert [e.message_id for e in events] == [m.id for m in messages]
    assert done.touched("messages")


def test_queue_media_refuses_an_oversized_photo_and_writes_nothing(mstore: Store, g: Graph) -> None:
    before = (mstore.messages.count(), mstore.outbox.count(), mstore.media.total_bytes())
    files = [
        ("ok.png", png(), "image/png", "fine"),
        ("huge.jpg", b"\xff\xd8" + b"x" * (16 * MB), "image/jpeg", "too big"),
    ]
    with pytest.raises(MediaTooLarge) as caught:
        ops.queue_media(mstore, g.chat.id, files)
    assert "huge.jpg is 16.0 MB" in str(caught.value)
    assert "at most 16 MB" in str(caught.value)
    assert (mstore.messages.count(), mstore.outbox.count(), mstore.media.total_bytes()) == before
    with pytest.raises(InvalidInput):
        ops.queue_media(mstore, g.chat.id, [("empty.pdf", b"", "application/pdf", "")])
    assert mstore.messages.count() == before[0]


def test_product_card_with_and_without_photo(mstore: Store, g: Graph) -> None:
    text_card = ops.queue_product_card(mstore, g.chat.id, g.product.id).value
    assert (text_card.kind, text_card.body, text_card.media) == ("text", "Linen shirt — €39.00", None)

    photo = png(colour="white")
    with pytest.raises(InvalidInput):
        ops.set_product_photo(mstore, g.product.id, b"%PDF", "application/pdf")
    product = ops.set_product_photo(mstore, g.product.id, photo, "image/png").value
    assert product.photo_blob_id == hashlib.sha256(photo).hexdigest()
    card = ops.queue_product_card(mstore, g.chat.id, g.product.id).value
    info = MediaInfo.model_validate(card.media)
    assert (card.kind, card.body, card.status) == ("image", "Linen shirt — €39.00", "queued")
    assert (info.product_id, info.blob_id, info.mime) == (g.product.id, product.photo_blob_id, "image/png")
    assert info.thumb_blob_id is not None
    assert mstore.media.exists(info.thumb_blob_id)
    # A new photo replaces the old one; the old bytes stay while a sent card still shows them.
    ops.set_product_photo(mstore, g.product.id, png(colour="black"), "image/png")
    assert mstore.media.exists(product.photo_blob_id or "")
    assert ops.remove_product_photo(mstore, g.product.id).value.photo_blob_id is None


# ---- where media shows as text ------------------------------------------------------------------------------------
def test_search_finds_document_names_and_captions(mstore: Store, g: Graph) -> None:
    ops.queue_media(mstore, g.chat.id, [("prices.pdf", b"%PDF", "application/pdf", "")])
    ops.queue_media(mstore, g.chat.id, [("shirt.png", png(), "image/png", "Linen shirt in sand")])
    message_id = received(mstore, g, "document", file_name="Catálogo Verano.pdf", mime="application/pdf")
    [hit] = mstore.search_messages("prices.pdf")
    assert (hit.snippet, hit.segments) == ("prices.pdf", [("prices.pdf", True)])
    assert len(mstore.search_messages("sand")) == 1
    assert [h.id for h in mstore.search_messages("catalogo")] == [message_id]
    # A changed name is searched under the new name only; the index stays consistent with its content.
    media = MediaInfo.model_validate(mstore.messages.get(message_id).media).model_copy(update={"file_name": "x.pdf"})
    mstore.messages.update(message_id, media=media.model_dump(mode="json"))
    assert mstore.search_messages("catalogo") == []
    mstore.messages.delete(message_id)
    with mstore.db.read() as conn:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


def test_inbox_preview_names_media(mstore: Store, g: Graph) -> None:
    def preview() -> str:
        [row] = [r for r in mstore.inbox() if r.chat_id == g.chat.id]
        return row.preview

    mstore.messages.create(chat_id=g.chat.id, direction="in", body="Hello", sent_at=AT)
    assert preview() == "Hello"
    received(mstore, g, "voice", duration_s=12)
    assert preview() == "Voice note 0:12"
    ops.queue_media(mstore, g.chat.id, [("a.png", png(), "image/png", "New  colours")])
    assert preview() == "Photo — New colours"
    ops.queue_media(mstore, g.chat.id, [("prices.pdf", b"%PDF", "application/pdf", "")])
    assert preview() == "Document: prices.pdf"


# ---- backup and upgrades ------------------------------------------------------------------------------------------
def test_backup_carries_media_and_restore_brings_it_back(home: Path, vault: KeyringVault, tmp_path: Path) -> None:
    workspaces = Workspaces(home, vault, kdf=FAST_KDF, thumbnailer=make_thumbnail)
    store = workspaces.create("Acme", "Ana Owner")
    workspace_id = store.meta("workspace_id") or ""
    g = build_graph(store)
    document = b"%PDF backup-media-canary " * 4000
    [message] = ops.queue_media(store, g.chat.id, [("prices.pdf", document, "application/pdf", "")]).value
    blob_id = MediaInfo.model_validate(message.media).blob_id or ""
    target = tmp_path / "acme.parleybackup"
    workspaces.backup(store, workspace_id, target, "backup passphrase")
    assert b"backup-media-canary" not in target.read_bytes()
    store.media.delete(blob_id)
    workspaces.restore_into(store, workspace_id, target, "backup passphrase")
    assert store.media.get(blob_id) == document
    store.close()


@pytest.mark.parametrize("version", range(1, migrations.LATEST_VERSION + 1))
def test_media_works_after_upgrading_each_saved_schema(version: int, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(snapshot_path(version), path)
    store = Store(Database.open(path, SNAPSHOT_KEY), ORG_ID)
    blob_id = store.media.put(b"after upgrade", "text/plain")
    assert store.media.get(blob_id) == b"after upgrade"
    assert store.products.find_all()[0].photo_blob_id is None or version >= 10
    with store.db.read() as conn:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    assert [h.title for h in store.search_messages("chaqueta")] == ["José Müller"]
    if version >= 10:  # the snapshot's document is found by its name and its bytes are there
        [hit] = store.search_messages("precios.pdf")
        info = MediaInfo.model_validate(store.messages.get(hit.id).media)
        assert store.media.get(info.blob_id or "").startswith(b"Precios 2026")
    store.close()
