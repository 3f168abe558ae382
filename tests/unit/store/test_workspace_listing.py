"""A workspace whose header cannot be used is listed as unusable with its reason, never silently left out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.errors import DatabaseTooNew, HeaderDamaged
from app.store.store import Store
from app.store.workspaces import Workspaces


def rewrite(change: Callable[[dict[str, object]], object]) -> Callable[[Path], None]:
    def apply(header: Path) -> None:
        data = json.loads(header.read_text())
        result = change(data)
        header.write_text(json.dumps(data if result is None else result))

    return apply


def replace_with_folder(header: Path) -> None:
    header.unlink()
    header.mkdir()  # reading it fails with an OSError (root reads any file, so permissions cannot show this)


# Each way workspace.json can be unusable, and the kind of error the listing reports.
DAMAGE: dict[str, tuple[Callable[[Path], None], type[Exception], str]] = {
    "not json": (lambda h: h.write_text("{ this is not json"), HeaderDamaged, "damaged"),
    "empty": (lambda h: h.write_bytes(b""), HeaderDamaged, "damaged"),
    "truncated": (lambda h: h.write_bytes(h.read_bytes()[:40]), HeaderDamaged, "damaged"),
    "not utf-8": (lambda h: h.write_bytes(b"\xff\xfe\x00garbage"), HeaderDamaged, "damaged"),
    "a list": (lambda h: h.write_text("[1, 2]"), HeaderDamaged, "damaged"),
    "missing field": (rewrite(lambda d: d.pop("key")), HeaderDamaged, "damaged"),
    "wrong type": (rewrite(lambda d: d.update(org_id=42)), HeaderDamaged, "damaged"),
    "newer format": (rewrite(lambda d: d.update(format=2)), DatabaseTooNew, "newer version"),
    "newer format with new fields": (
        rewrite(lambda d: d.update(format=3, sharing={"mode": "x"})),
        DatabaseTooNew,
        "newer version",
    ),
    "unreadable": (replace_with_folder, HeaderDamaged, "cannot read"),
    "deleted": (lambda h: h.unlink(), HeaderDamaged, "missing"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_unusable_header_is_reported_with_its_reason(
    store: Store, workspaces: Workspaces, workspace_id: str, damage: str
) -> None:
    store.close()
    other = workspaces.create("Second shop", "Bo")
    other.close()
    apply, kind, words = DAMAGE[damage]
    apply(workspaces.paths(workspace_id).header)

    assert [h.name for h in workspaces.available()] == ["Second shop"]
    [unusable] = workspaces.unusable()
    assert unusable.folder == workspaces.paths(workspace_id).root
    assert isinstance(unusable.error, kind)
    message = str(unusable.error)
    assert words in message
    assert "\n" not in message
    hint = unusable.error.hint
    assert ("Update Parley" in hint) if kind is DatabaseTooNew else ("workspace.json" in hint)
