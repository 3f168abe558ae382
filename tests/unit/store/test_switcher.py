"""The quick switcher's lookups: what matches, how contacts become chats, deals by title, and literal % and _."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.models import Chat, Contact
from app.store import switcher
from app.store.search import like_pattern
from app.store.store import Store
from app.store.switcher import SwitchTarget, switch_targets
from tests.support.graph import AT, build_graph


def person(
    store: Store, name: str, phone: str | None = None, *, minutes: int | None = 0
) -> tuple[Contact, Chat | None]:
    """A contact and (unless ``minutes`` is None) a chat whose last message is ``minutes`` after AT."""
    contact = store.contacts.create(name=name, phone=phone)
    if minutes is None:
        return contact, None
    chat = store.chats.create(contact_id=contact.id)
    store.messages.create(
        chat_id=chat.id, direction="in", body=f"hi from {name}", sent_at=AT + timedelta(minutes=minutes)
    )
    return contact, chat


def deal(store: Store, title: str, contact_id: str | None = None) -> str:
    pipeline = store.pipelines.find_all()[0]
    stage = store.pipeline_stages.find_all({"pipeline_id": pipeline.id}, order_by="position")[0]
    return store.deals.create(pipeline_id=pipeline.id, stage_id=stage.id, title=title, contact_id=contact_id).id


def titles(targets: list[SwitchTarget], kind: str | None = None) -> list[str]:
    return [t.title for t in targets if kind is None or t.kind == kind]


def test_no_text_lists_the_ten_most_recent_chats(store: Store) -> None:
    for i in range(12):
        person(store, f"Person {i:02}", minutes=i)
    targets = switch_targets(store, "  ")
    assert titles(targets) == [f"Person {i:02}" for i in range(11, 1, -1)]
    assert {t.kind for t in targets} == {"chat"}
    assert all(t.chat_id == t.id for t in targets)
    assert targets[0].subtitle == "hi from Person 11"


def test_contact_name_finds_its_chat(store: Store) -> None:
    g = build_graph(store)
    [target] = switch_targets(store, "Weber")
    assert (target.kind, target.id, target.chat_id, target.title) == ("chat", g.chat.id, g.chat.id, "Lena Weber")
    assert target.subtitle == "+4917612345678"
    assert [t.chat_id for t in switch_targets(store, "lena web")] == [g.chat.id]


def test_phone_digits_find_the_chat(store: Store) -> None:
    g = build_graph(store)
    assert [t.chat_id for t in switch_targets(store, "12345")] == [g.chat.id]
    assert [t.chat_id for t in switch_targets(store, "+4")] == [g.chat.id]


def test_short_text_matches_names_and_titles_newest_first(store: Store) -> None:
    person(store, "Olga", minutes=1)
    person(store, "Bob", minutes=5)
    group = store.chats.create(title="Ops team", kind="group")
    store.messages.create(chat_id=group.id, direction="in", body="x", sent_at=AT + timedelta(minutes=9))
    assert titles(switch_targets(store, "o")) == ["Ops team", "Bob", "Olga"]
    assert titles(switch_targets(store, "ol")) == ["Olga"]
    assert titles(switch_targets(store, "op")) == ["Ops team"]


def test_chat_title_without_contact_found_by_longer_text(store: Store) -> None:
    group = store.chats.create(title="Wholesale buyers", kind="group")
    [target] = switch_targets(store, "wholesale")
    assert (target.kind, target.id, target.chat_id) == ("chat", group.id, group.id)


def test_short_text_finds_old_chats_beyond_the_newest_ones(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(switcher, "WALK", 3)  # only the 3 newest chats are walked before the scan
    person(store, "Old Zq", minutes=0)
    for i in range(4):
        person(store, f"Filler {i}", minutes=10 + i)
    person(store, "New Zq", minutes=20)
    assert titles(switch_targets(store, "zq")) == ["New Zq", "Old Zq"]
    assert titles(switch_targets(store, "zq", limit=1)) == ["New Zq"]


def test_contact_without_chat_is_offered_as_contact(store: Store) -> None:
    contact, _ = person(store, "Nadia Karim", "+212600000001", minutes=None)
    for text in ("nadia", "na"):
        [target] = switch_targets(store, text)
        assert (target.kind, target.id, target.chat_id) == ("contact", contact.id, None)
        assert "no chat yet" in target.subtitle


def test_deleted_rows_are_not_offered_and_archived_chats_come_last(store: Store) -> None:
    gone, gone_chat = person(store, "Ghost Rider", minutes=1)
    store.contacts.delete(gone.id)
    assert gone_chat is not None
    store.chats.delete(gone_chat.id)
    _, old = person(store, "Ghost Archive", minutes=9)
    assert old is not None
    store.chats.update(old.id, archived=True)
    person(store, "Ghost Town", minutes=2)
    for text in ("ghost", "gh"):
        targets = switch_targets(store, text)
        assert titles(targets) == ["Ghost Town", "Ghost Archive"]
        assert targets[1].subtitle.endswith("archived")


def test_deals_found_by_title_with_stage_and_chat(store: Store) -> None:
    g = build_graph(store)
    deal_id = g.deal.id
    targets = switch_targets(store, "bulk")
    [found] = [t for t in targets if t.kind == "deal"]
    assert (found.id, found.title, found.chat_id) == (deal_id, "Bulk order", g.chat.id)
    assert found.subtitle == "New · Lena Weber"
    store.deals.delete(deal_id)
    assert titles(switch_targets(store, "bulk"), "deal") == []


def test_deals_keep_a_share_of_a_full_list(store: Store) -> None:
    for i in range(25):
        person(store, f"Order person {i}", minutes=i)
    for i in range(8):
        deal(store, f"Order {i}")
    targets = switch_targets(store, "order", limit=20)
    assert len(targets) == 20
    assert len(titles(targets, "deal")) == 5
    assert [t.kind for t in targets] == ["chat"] * 15 + ["deal"] * 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("%", ["50% off"]), ("0%", ["50% off"]), ("_", ["bulk_order"]), ("k_o", ["bulk_order"]), ("\\", ["a\\b"])],
)
def test_like_wildcards_are_literal_in_deal_titles(store: Store, text: str, expected: list[str]) -> None:
    for title in ("50% off", "500 off", "bulk_order", "bulkXorder", "a\\b", "ab"):
        deal(store, title)
    assert titles(switch_targets(store, text), "deal") == expected


@pytest.mark.parametrize("text", ["_a", "m_a", "%"])
def test_like_wildcards_are_literal_in_names_and_titles(store: Store, text: str) -> None:
    person(store, "TeamXAlpha", minutes=1)
    store.chats.create(title="TeamXA", kind="group")
    literal = {"_a": "Team_A", "m_a": "Team_A", "%": "100% Cotton"}[text]
    if text == "%":
        person(store, "100% Cotton", minutes=2)
        person(store, "1000 Cotton", minutes=3)
    else:
        store.chats.create(title="Team_A", kind="group")
    assert titles(switch_targets(store, text)) == [literal]


def test_like_pattern() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
