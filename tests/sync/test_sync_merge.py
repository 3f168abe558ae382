"""The merge rules on their own, for the orders of changes inside one batch that the HTTP tests do not reach."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.sync.protocol import Change
from sync_server.sync_merge import Merger, Row


def change(seq: int, op: str, row_id: str = "r1", table: str = "contacts", **data: Any) -> Change:
    return Change.model_validate({"seq": seq, "table": table, "id": row_id, "op": op, "data": data})


def merger(rows: dict[tuple[str, str], Row] | None = None, *, known: int = 0, start: int = 10) -> Merger:
    return Merger("org1", "devA", known, start, rows or {})


def test_changes_of_one_batch_see_each_other_and_take_consecutive_versions() -> None:
    m = merger()
    for c in (change(1, "insert", name="a", phone="1"), change(2, "update", name="b"), change(3, "update", phone="2")):
        m.apply(c)
    row = m.rows[("contacts", "r1")]
    assert row.data == {"name": "b", "phone": "2"}
    assert row.version == 13
    assert row.field_versions == {"*": [11, "devA"], "name": [12, "devA"], "phone": [13, "devA"]}
    assert m.version == 13
    assert m.losses == []  # a device never conflicts with itself


def test_a_purge_then_insert_in_one_batch_stays_purged() -> None:
    m = merger()
    m.apply(change(1, "insert", name="secret"))
    m.apply(Change(seq=2, table="contacts", id="r1", op="purge"))
    m.apply(change(3, "insert", name="again"))
    row = m.rows[("contacts", "r1")]
    assert (row.deleted, row.purged, row.data, row.field_versions) == (True, True, {}, {})
    assert [loss.reason for loss in m.losses] == ["deleted"]
    assert m.purged == [("contacts", "r1")]
    assert m.version == 12  # the dropped insert took no version


def test_overwritten_is_reported_per_other_device_only_for_changed_values() -> None:
    existing = Row(
        "contacts",
        "r1",
        version=20,
        data={"name": "x", "phone": "1", "email": "e"},
        field_versions={"name": [18, "devB"], "phone": [19, "devC"], "email": [20, "server"]},
        exists=True,
    )
    m = merger({("contacts", "r1"): existing}, known=15, start=20)
    m.apply(change(1, "update", name="mine", phone="1", email="new"))
    # devB's name lost; devC's phone got the same value (no loss); the server's e-mail is nobody's edit to report.
    assert [(loss.device, loss.fields, loss.theirs, loss.version) for loss in m.losses] == [
        ("devB", ["name"], {"name": "mine"}, 21)
    ]


def test_an_edit_after_seeing_the_other_device_is_no_conflict() -> None:
    existing = Row("contacts", "r1", version=20, data={"name": "x"}, field_versions={"name": [18, "devB"]}, exists=True)
    m = merger({("contacts", "r1"): existing}, known=18, start=20)
    m.apply(change(1, "update", name="mine"))
    assert m.losses == []


def test_a_delete_of_a_deleted_row_changes_nothing() -> None:
    existing = Row("contacts", "r1", version=5, deleted=True, data={"deleted_at": 1}, exists=True)
    m = merger({("contacts", "r1"): existing})
    m.apply(change(1, "delete", deleted_at=2))
    assert existing.data == {"deleted_at": 1}
    assert m.take_written() == []
    assert m.version == 10
    assert m.losses == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "a\x00b"])
def test_values_jsonb_cannot_hold_are_refused_by_the_wire_model(value: Any) -> None:
    with pytest.raises(ValidationError, match=r"should match pattern|finite number"):
        Change(seq=2, table="contacts", id="c1", op="update", data={"lead_score": value})


def test_an_inserts_single_stamp_counts_for_every_field_it_wrote() -> None:
    inserted = Row(
        "contacts", "r1", version=18, data={"name": "x", "phone": "1"}, field_versions={"*": [18, "devB"]}, exists=True
    )
    m = merger({("contacts", "r1"): inserted}, known=15, start=20)
    m.apply(change(1, "update", phone="2"))
    # devB's insert (version 18) was not seen by devA (known 15): its phone is the edit that lost.
    assert [(loss.device, loss.fields) for loss in m.losses] == [("devB", ["phone"])]
    assert inserted.field_versions == {"*": [18, "devB"], "phone": [21, "devA"]}
