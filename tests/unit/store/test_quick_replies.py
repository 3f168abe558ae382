"""Quick replies in the store: shortcut rules, unique shortcuts among live replies, create/update/delete."""

from __future__ import annotations

import pytest

from app.core.errors import NotFound
from app.store.quick_replies import (
    BODY_MAX,
    delete_quick_reply,
    normalise_shortcut,
    save_quick_reply,
    unknown_variables,
)
from app.store.store import Store


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("thanks", "thanks"),
        ("/Thanks", "thanks"),
        ("  /HI ", "hi"),
        ("size-guide_2", "size-guide_2"),
        ("x" * 32, "x" * 32),
    ],
)
def test_normalise_shortcut(typed: str, expected: str) -> None:
    assert normalise_shortcut(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a shortcut"),
        ("  /  ", "Type a shortcut"),
        ("x" * 33, "at most 32"),
        ("/" + "x" * 33, "at most 32"),
        ("two words", "only contain"),
        ("//hi", "only contain"),
        ("olá", "only contain"),
        ("hi!", "only contain"),
    ],
)
def test_normalise_shortcut_refuses(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_shortcut(typed)


def test_unknown_variables() -> None:
    assert unknown_variables("Hi {name} ({first_name}), call {phone} — {business}") == []
    assert unknown_variables("Hi {nmae}, {Name} and {nmae} again, {order_id}") == ["nmae", "Name", "order_id"]
    assert unknown_variables("Literal {{braces}} and { spaced } and {1x}") == []
    assert unknown_variables("") == []


def test_create_then_update(store: Store) -> None:
    created = save_quick_reply(store, shortcut="/Thanks", title="  Thank you ", body="Thanks {first_name}!\n")
    assert (created.shortcut, created.title, created.body) == ("thanks", "Thank you", "Thanks {first_name}!")
    assert store.quick_replies.get(created.id) == created

    updated = save_quick_reply(store, id=created.id, shortcut="ty", title="", body="Thank you!")
    assert updated.id == created.id
    stored = store.quick_replies.get(created.id)
    assert (stored.shortcut, stored.title, stored.body) == ("ty", "", "Thank you!")
    assert stored.updated_at >= created.updated_at
    assert store.quick_replies.count() == 1


def test_saving_a_reply_under_its_own_shortcut_is_fine(store: Store) -> None:
    reply = save_quick_reply(store, shortcut="hours", title="Hours", body="10–8")
    save_quick_reply(store, id=reply.id, shortcut="/HOURS", title="Opening hours", body="10am–8pm")
    assert store.quick_replies.get(reply.id).title == "Opening hours"


def test_duplicate_shortcut_is_refused_and_nothing_written(store: Store) -> None:
    first = save_quick_reply(store, shortcut="hi", title="Greeting", body="Hello!")
    other = save_quick_reply(store, shortcut="bye", title="", body="Goodbye and thanks")
    with pytest.raises(ValueError, match="/hi is already used by “Greeting”"):
        save_quick_reply(store, shortcut="/HI", title="Another", body="Hey")
    with pytest.raises(ValueError, match="already used by “Goodbye and thanks”"):
        save_quick_reply(store, id=first.id, shortcut="bye", title="Greeting", body="Hello!")
    assert store.quick_replies.count() == 2
    assert store.quick_replies.get(first.id).shortcut == "hi"
    assert store.quick_replies.get(other.id).shortcut == "bye"


def test_legacy_slashed_shortcuts_count_as_taken(store: Store) -> None:
    store.quick_replies.create(shortcut="/hi", title="Greeting", body="Hello!")  # as the demo seed writes them
    with pytest.raises(ValueError, match="already used"):
        save_quick_reply(store, shortcut="hi", title="", body="Hey")


def test_a_deleted_reply_frees_its_shortcut(store: Store) -> None:
    reply = save_quick_reply(store, shortcut="hi", title="Greeting", body="Hello!")
    delete_quick_reply(store, reply.id)
    delete_quick_reply(store, reply.id)  # twice is harmless
    assert store.quick_replies.find(reply.id) is None
    assert store.quick_replies.get(reply.id, include_deleted=True).deleted_at is not None  # a tombstone, it syncs
    again = save_quick_reply(store, shortcut="hi", title="Greeting", body="Hello again!")
    assert [r.id for r in store.quick_replies.find_all()] == [again.id]


def test_updating_a_deleted_reply_fails(store: Store) -> None:
    reply = save_quick_reply(store, shortcut="hi", title="", body="Hello!")
    delete_quick_reply(store, reply.id)
    with pytest.raises(NotFound):
        save_quick_reply(store, id=reply.id, shortcut="hi", title="", body="Hello?")
    with pytest.raises(NotFound):
        delete_quick_reply(store, "no-such-id")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": ""}, "Write the reply"),
        ({"body": "  \n "}, "Write the reply"),
        ({"body": "x" * (BODY_MAX + 1)}, "at most 4,096 characters"),
        ({"title": "t" * 121}, "title is at most 120"),
        ({"shortcut": "no spaces"}, "only contain"),
    ],
)
def test_invalid_replies_are_refused(store: Store, fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        save_quick_reply(store, **({"shortcut": "ok", "title": "", "body": "Hello"} | fields))
    assert store.quick_replies.count() == 0


def test_body_at_the_limit_is_accepted(store: Store) -> None:
    reply = save_quick_reply(store, shortcut="long", title="", body="x" * BODY_MAX)
    assert len(store.quick_replies.get(reply.id).body) == BODY_MAX
