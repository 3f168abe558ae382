"""Every error a backup or restore can show is one short sentence (with a hint); SQLite's details go to the log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.errors import ParleyError
from app.store import backup, keys, sqlcipher
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.graph import AT, build_graph

PASS = "backup passphrase one"


def split(path: Path) -> tuple[bytes, bytes]:
    """The backup's magic + header line, and its database."""
    raw = path.read_bytes()
    end = raw.index(b"\n", len(backup.MAGIC)) + 1
    return raw[:end], raw[end:]


def with_body(change: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def apply(path: Path, _scratch: Path) -> None:
        head, body = split(path)
        path.write_bytes(head + change(body))

    return apply


def failing_check_constraint(path: Path, scratch: Path) -> None:
    """A backup whose pages all decrypt but whose rows break a constraint: SQLite reports each row, 100 lines."""
    head, body = split(path)
    info = backup.read_info(path)
    assert info.key.kdf is not None
    db = scratch / "body.db"
    db.write_bytes(body)
    conn = sqlcipher.connect(db, keys.derive_key(PASS, info.key.kdf))
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'messages'", (sql[: sql.rindex(")")] + ", CHECK (0))",))
    conn.close()
    path.write_bytes(head + db.read_bytes())


def other_header(path: Path, _scratch: Path) -> None:
    _head, body = split(path)
    path.write_bytes(backup.MAGIC + b'{"format": 1, "org_id": 5}\n' + body)


def newer(field: str, value: int) -> Callable[[Path, Path], None]:
    def apply(path: Path, _scratch: Path) -> None:
        head, body = split(path)
        info = backup.BackupInfo.model_validate_json(head[len(backup.MAGIC) :])
        path.write_bytes(
            backup.MAGIC + info.model_copy(update={field: value}).model_dump_json().encode() + b"\n" + body
        )

    return apply


def replace_with_folder(path: Path, _scratch: Path) -> None:
    path.unlink()
    path.mkdir()


# Every way a backup file can be unusable for a restore.
DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "missing": lambda path, _s: path.unlink(),
    "not a backup": lambda path, _s: path.write_bytes(b"hello, not a backup"),
    "empty": lambda path, _s: path.write_bytes(b""),
    "header damaged": other_header,
    "header cut": lambda path, _s: path.write_bytes(split(path)[0][:30]),
    "no database": with_body(lambda body: b""),
    "database cut short": with_body(lambda body: body[: len(body) // 2]),
    "pages overwritten": with_body(lambda body: body[:-3000] + b"\xff" * 1000 + body[-2000:]),
    "rows break a constraint": failing_check_constraint,
    "a folder": replace_with_folder,
    "wrong passphrase": lambda path, _s: None,  # restored below with the wrong passphrase
    "newer format": newer("format", 99),
    "newer schema": newer("schema_version", 9999),
}


def assert_one_sentence(exc: ParleyError) -> None:
    message = str(exc)
    assert "\n" not in message, message
    assert len(message) <= 160, message
    assert re.fullmatch(r"[^.]*(\.[^ .][^.]*)*\.", message.replace("...", "")), f"not one sentence: {message}"
    for leak in ("sqlite", "malformed", "constraint", "errno", "database disk", "traceback"):
        assert leak not in message.lower(), message
    assert exc.hint
    assert "\n" not in exc.hint


def fill(store: Store) -> None:
    g = build_graph(store)
    for n in range(150):
        store.messages.create(chat_id=g.chat.id, direction="in", body=f"message {n}", sent_at=AT)


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_restore_error_is_one_sentence(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path, damage: str
) -> None:
    fill(store)
    source = tmp_path / "acme.parleybackup"
    workspaces.backup(store, workspace_id, source, PASS)
    DAMAGE[damage](source, tmp_path)
    before = store.messages.count()
    passphrase = "not the passphrase" if damage == "wrong passphrase" else PASS
    with pytest.raises(ParleyError) as into:
        workspaces.restore_into(store, workspace_id, source, passphrase)
    assert_one_sentence(into.value)
    with pytest.raises(ParleyError) as as_new:
        workspaces.restore_as_new(source, passphrase, passphrase="a new workspace passphrase")
    assert_one_sentence(as_new.value)
    assert store.messages.count() == before, "the workspace was not modified"
    assert [h.workspace_id for h in workspaces.available()] == [workspace_id]


@pytest.mark.parametrize("where", ["an existing folder", "a folder that is a file"])
def test_every_backup_error_is_one_sentence(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path, where: str
) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    if where == "an existing folder":
        dest = chosen / "acme.parleybackup"
        dest.mkdir()
    else:
        (chosen / "file").write_text("x")
        dest = chosen / "file" / "acme.parleybackup"
    with pytest.raises(ParleyError) as caught:
        workspaces.backup(store, workspace_id, dest, PASS)
    assert_one_sentence(caught.value)
    assert [p.name for p in chosen.iterdir()] == [dest.name if dest.parent == chosen else "file"], "nothing left"
