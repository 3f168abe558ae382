"""Media and privacy (issue 17): no plaintext copy of media bytes on disk, and GDPR export and erase cover media."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.media import MediaInfo
from app.qt import QtCore, QtGui
from app.store.gdpr import erase_contact, export_contact, export_media, write_export
from app.store.keyring_vault import KeyringVault
from app.store.ops import media as ops
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.thumbnails import make_thumbnail
from tests.support.graph import AT, Graph, build_graph
from tests.support.workspace_fixtures import FAST_KDF

# 64 bytes no file holds by chance, new each run (so a file older than the test cannot hold them): the media's
# content as it must never appear on disk.
MARKER = b"<parley-byte-grep:" + secrets.token_hex(22).encode() + b":>"
assert len(MARKER) == 64
_CHUNK = 8 * 1024 * 1024


def png_with(trailer: bytes, width: int = 640, height: int = 480) -> bytes:
    """A real PNG followed by ``trailer`` (image readers ignore bytes after the end chunk)."""
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("orange"))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(buffer.data().data()) + trailer


def files_holding(root: Path, needle: bytes, *, since: float = 0.0) -> list[Path]:
    """Every regular file under ``root`` changed at or after ``since`` whose bytes contain ``needle`` (read in
    chunks that overlap). The temp dir is shared and large: older files cannot hold a marker made for this run."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_mtime < since:
                    continue
                with path.open("rb") as fh:
                    tail = b""
                    while chunk := fh.read(_CHUNK):
                        if needle in tail + chunk:
                            found.append(path)
                            break
                        tail = chunk[-(len(needle) - 1) :]
            except OSError:  # another process's file that went away or is not ours to read
                continue
    return found


@pytest.fixture
def mworkspaces(home: Path, vault: KeyringVault) -> Workspaces:
    return Workspaces(home, vault, kdf=FAST_KDF, thumbnailer=make_thumbnail)


@pytest.fixture
def mstore(mworkspaces: Workspaces) -> Iterator[Store]:
    store = mworkspaces.create("Acme", "Ana Owner")
    yield store
    store.close()


@pytest.fixture
def g(mstore: Store) -> Graph:
    return build_graph(mstore)


def received(store: Store, g: Graph, kind: str, **media: object) -> str:
    info = MediaInfo.model_validate({"kind": kind, **media}).model_dump(mode="json")
    return store.messages.create(chat_id=g.chat.id, direction="in", kind=kind, media=info, sent_at=AT).id


def test_no_plaintext_media_on_disk(mstore: Store, mworkspaces: Workspaces, g: Graph) -> None:
    """After receiving, viewing and sending media, neither the workspace folder nor the temp dir holds its bytes."""
    started = time.time() - 2  # file times are coarse on some file systems
    photo = png_with(MARKER * 8)
    message_id = received(mstore, g, "image", mime="image/png")
    info = MediaInfo.model_validate(ops.attach_received(mstore, message_id, photo, "image/png").value.media)
    document = MARKER * 2048  # 128 KB: spans many pages and the write-ahead log
    [sent] = ops.queue_media(mstore, g.chat.id, [("marker.pdf", document, "application/pdf", "")]).value
    # Viewing: the bytes and the thumbnail read back, a thumbnail made again.
    assert mstore.media.get(info.blob_id or "") == photo
    assert mstore.media.get(MediaInfo.model_validate(sent.media).blob_id or "") == document
    assert mstore.media.thumbnail(mstore.media.get(info.blob_id or ""), "image/png") is not None
    assert mstore.search_messages("marker.pdf")
    workspace = mworkspaces.paths(mstore.meta("workspace_id") or "").root
    assert files_holding(Path(tempfile.gettempdir()), MARKER, since=started) == []
    for _ in range(2):  # with the write-ahead log, then folded into the main file
        assert files_holding(workspace, MARKER) == []
        mstore.db.checkpoint()


def test_the_byte_grep_sees_a_plaintext_copy(tmp_path: Path) -> None:
    """The check above would fail on a plaintext copy, wherever in a file and across a chunk boundary. (Its own
    marker: a file written here with the media test's marker sat in the temp dir that test walks, and failed it
    when pytest-randomly ran this one just before.)"""
    marker = b"<parley-byte-grep:" + secrets.token_hex(22).encode() + b":>"
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "cache.bin").write_bytes(b"x" * (_CHUNK - 10) + marker + b"y")
    (tmp_path / "clean.bin").write_bytes(marker[:63] + b"?")
    assert files_holding(tmp_path, marker) == [tmp_path / "deep" / "er" / "cache.bin"]


def test_export_includes_the_contacts_media_files(mstore: Store, g: Graph, tmp_path: Path) -> None:
    photo = png_with(b"")
    message_id = received(mstore, g, "image", mime="image/png")
    ops.attach_received(mstore, message_id, photo, "image/png")
    ops.queue_media(
        mstore,
        g.chat.id,
        [
            ("prices.pdf", b"%PDF prices", "application/pdf", ""),
            ("../../prices.pdf", b"%PDF other prices", "application/pdf", ""),
        ],
    )
    received(mstore, g, "voice", duration_s=3)  # never fetched: listed as a message, no file
    data = export_contact(mstore, g.contact.id)
    json.dumps(data)
    files = {f["file"]: f["size"] for f in data["media"]}
    assert files == {
        f"media/{AT:%Y-%m-%d %H-%M-%S} image.png": len(photo),
        "media/prices.pdf": len(b"%PDF prices"),
        "media/prices (2).pdf": len(b"%PDF other prices"),
    }
    written = write_export(mstore, g.contact.id, tmp_path / "export")
    assert json.loads(written.read_text("utf-8"))["contact"]["id"] == g.contact.id
    assert (tmp_path / "export" / "media" / "prices.pdf").read_bytes() == b"%PDF prices"
    assert (tmp_path / "export" / "media" / "prices (2).pdf").read_bytes() == b"%PDF other prices"
    assert sorted(p.name for p in (tmp_path / "export" / "media").iterdir()) == sorted(
        f.name for f in export_media(mstore, g.contact.id)
    )
    assert not (tmp_path / "prices.pdf").exists()


def test_erase_removes_the_contacts_media_but_not_shared_bytes(mstore: Store, g: Graph) -> None:
    photo = png_with(b"customer photo")
    message_id = received(mstore, g, "image", mime="image/png")
    info = MediaInfo.model_validate(ops.attach_received(mstore, message_id, photo, "image/png").value.media)
    catalogue = png_with(b"catalogue photo")
    ops.set_product_photo(mstore, g.product.id, catalogue, "image/png")
    [card] = [ops.queue_product_card(mstore, g.chat.id, g.product.id).value]
    other = mstore.contacts.create(name="Other Customer", phone="+4917600000000")
    other_chat = mstore.chats.create(contact_id=other.id, title="Other")
    [shared] = ops.queue_media(mstore, other_chat.id, [("same.png", photo, "image/png", "")]).value
    voice_id = received(mstore, g, "voice")
    voice = ops.attach_received(mstore, voice_id, b"OggS only this customer's voice", "audio/ogg").value
    voice_blob = MediaInfo.model_validate(voice.media).blob_id or ""

    report = erase_contact(mstore, g.contact.id)
    assert report.media_files >= 1
    assert not mstore.media.exists(voice_blob)
    # The same photo sent to another customer, and the catalogue photo on the card, stay.
    assert mstore.media.get(MediaInfo.model_validate(shared.media).blob_id or "") == photo
    assert info.blob_id == MediaInfo.model_validate(shared.media).blob_id
    card_blob = MediaInfo.model_validate(card.media).blob_id or ""
    assert mstore.media.get(card_blob) == catalogue
    with mstore.db.read() as conn:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
