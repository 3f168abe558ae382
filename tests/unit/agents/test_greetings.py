"""Welcome and away messages against a real store: who is greeted, when, how often, and never over a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.agents.greetings import (
    FRESH,
    Greeting,
    GreetingsAgent,
    GreetingsConfig,
    Skip,
    load_config,
    queue_greeting,
)
from app.agents.hours import BusinessHours, parse_schedule
from app.core.errors import InvalidInput
from app.core.events import MessageReceived
from app.core.models import Message
from app.store.intake import CapturedMessage, record_message
from app.store.ops.business_hours import save_business_hours, save_greetings
from app.store.store import Store

# Friday 11 Dec 2026, 19:00 UTC = 20:00 in Berlin: after the shop's 09:00-18:00.
CLOSED = datetime(2026, 12, 11, 19, 0, tzinfo=UTC)
OPEN = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
ANA = "5511912345678@c.us"
BRUNO = "5511987654321@c.us"


@pytest.fixture
def shop(store: Store) -> Store:
    store.orgs.update(store.org_id, timezone="Europe/Berlin", name="Casa Verde")
    week = {d: [{"start": "09:00", "end": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
    save_business_hours(store, {"week": week})
    return store


def switch(store: Store, *, welcome: bool = True, away: bool = True, every: int = 12) -> None:
    save_greetings(
        store,
        GreetingsConfig(
            welcome_enabled=welcome,
            away_enabled=away,
            away_every_hours=every,
            welcome_text="Welcome to {business_name}, {first_name}!",
            away_text="We're closed; back {next_opening}.",
        ),
    )


def inbound(store: Store, jid: str, at: datetime, n: int, *, name: str | None = "Ana Souza") -> Message:
    captured = CapturedMessage(
        wa_id=f"in-{jid}-{n}", chat_jid=jid, from_me=False, body=f"msg {n}", timestamp=at, push_name=name
    )
    return record_message(store, captured).message


def outbound(store: Store, jid: str, at: datetime, n: int) -> Message:
    captured = CapturedMessage(wa_id=f"out-{jid}-{n}", chat_jid=jid, from_me=True, body="ok", timestamp=at, ack=2)
    return record_message(store, captured).message


def run(store: Store, message: Message, now: datetime, **kw: bool) -> Greeting | Message | Skip:
    agent = GreetingsAgent(store, clock=lambda: now)
    event = MessageReceived(org_id=store.org_id, chat_id=message.chat_id, message_id=message.id)
    return agent.handle(event, **kw)


def greetings_in(store: Store, chat_id: str) -> list[Message]:
    return [m for m in store.messages.find_all({"chat_id": chat_id}) if m.sent_by_agent is not None]


def test_off_by_default_and_says_so(shop: Store) -> None:
    message = inbound(shop, ANA, CLOSED, 1)
    assert load_config(shop)[0] == GreetingsConfig()
    assert run(shop, message, CLOSED) == Skip("disabled", "Welcome and away messages are off.")
    assert greetings_in(shop, message.chat_id) == []


def test_a_first_time_contact_is_welcomed_once(shop: Store) -> None:
    switch(shop, away=False)
    first = inbound(shop, ANA, OPEN, 1)
    sent = run(shop, first, OPEN + timedelta(seconds=3))
    assert isinstance(sent, Message)
    assert sent.body == "Welcome to Casa Verde, Ana!"
    assert sent.sent_by_agent == "welcome"
    assert sent.direction == "out"
    assert sent.status == "queued"
    again = inbound(shop, ANA, OPEN + timedelta(seconds=20), 2)  # the same burst
    assert run(shop, again, OPEN + timedelta(seconds=25)) == Skip("not_first_time")
    assert len(greetings_in(shop, first.chat_id)) == 1


def test_a_backfilled_old_customer_is_not_welcomed(shop: Store) -> None:
    switch(shop, away=False)
    # Catching up after connecting: months of history arrive now, the latest message a minute old.
    inbound(shop, BRUNO, OPEN - timedelta(days=90), 1, name="Bruno")
    outbound(shop, BRUNO, OPEN - timedelta(days=90, minutes=-5), 2)
    latest = inbound(shop, BRUNO, OPEN - timedelta(minutes=1), 3, name="Bruno")
    assert run(shop, latest, OPEN) == Skip("not_first_time")
    # An old customer whose history holds only their own messages (we never answered in Parley) neither.
    old = inbound(shop, ANA, OPEN - timedelta(days=30), 1)
    fresh = inbound(shop, ANA, OPEN - timedelta(minutes=1), 2)
    assert run(shop, fresh, OPEN) == Skip("not_first_time")
    assert greetings_in(shop, old.chat_id) == []


def test_an_old_message_caught_up_on_gets_nothing(shop: Store) -> None:
    switch(shop)
    message = inbound(shop, ANA, CLOSED - FRESH - timedelta(minutes=1), 1)
    result = run(shop, message, CLOSED)
    assert isinstance(result, Skip)
    assert result.reason == "stale"


def test_away_only_outside_hours_and_once_per_window(shop: Store) -> None:
    switch(shop, welcome=False, every=12)
    outbound(shop, ANA, OPEN - timedelta(days=2), 0)  # a known customer (and no longer a person's chat)
    inside = inbound(shop, ANA, OPEN, 1)
    assert run(shop, inside, OPEN) == Skip("inside_hours")
    evening = inbound(shop, ANA, CLOSED, 2)
    sent = run(shop, evening, CLOSED)
    assert isinstance(sent, Message)
    assert sent.body == "We're closed; back Monday 09:00."
    assert sent.sent_by_agent == "away"
    later = inbound(shop, ANA, CLOSED + timedelta(hours=2), 3)
    skipped = run(shop, later, CLOSED + timedelta(hours=2))
    assert isinstance(skipped, Skip)
    assert skipped.reason == "recently_greeted"
    # Saturday 08:00 UTC: 13 h after the away message, still closed: the customer hears it again, once.
    next_day = CLOSED + timedelta(hours=13)
    again = inbound(shop, ANA, next_day, 4)
    assert isinstance(run(shop, again, next_day), Message)
    assert [m.sent_by_agent for m in greetings_in(shop, evening.chat_id)] == ["away", "away"]


def test_a_first_time_contact_outside_hours_gets_one_message_with_both(shop: Store) -> None:
    switch(shop)
    message = inbound(shop, ANA, CLOSED, 1, name=None)
    sent = run(shop, message, CLOSED)
    assert isinstance(sent, Message)
    assert sent.body == "Welcome to Casa Verde, there!\n\nWe're closed; back Monday 09:00."
    follow = inbound(shop, ANA, CLOSED + timedelta(minutes=1), 2, name=None)
    skipped = run(shop, follow, CLOSED + timedelta(minutes=1))
    assert isinstance(skipped, Skip)
    assert skipped.reason == "recently_greeted"  # the welcome counts as the away message too


def test_never_when_a_person_owns_the_chat(shop: Store) -> None:
    switch(shop)
    outbound(shop, ANA, CLOSED - timedelta(hours=1), 0)  # typed on the phone an hour ago: a takeover
    message = inbound(shop, ANA, CLOSED, 1)
    assert run(shop, message, CLOSED) == Skip("owned_by_person", "A person is answering this chat.")
    # the orchestrator's own answer wins when it gives one
    assert isinstance(run(shop, message, CLOSED, owned_by_person=False), Message)
    assert run(shop, message, CLOSED + timedelta(minutes=1), owned_by_person=True).reason == "owned_by_person"  # type: ignore[union-attr]


def test_a_takeover_between_decision_and_send_drops_it(shop: Store) -> None:
    switch(shop, welcome=False)
    message = inbound(shop, ANA, CLOSED, 1)
    decided = run(shop, message, CLOSED, dry_run=True)
    assert isinstance(decided, Greeting)
    assert greetings_in(shop, message.chat_id) == []  # a dry run sends nothing
    outbound(shop, ANA, CLOSED + timedelta(seconds=30), 9)  # the owner answers from the phone meanwhile
    assert queue_greeting(shop, decided, message.id, now=CLOSED + timedelta(minutes=1)) == Skip(
        "owned_by_person", "A person is answering this chat."
    )


def test_groups_and_our_own_messages_are_left_alone(shop: Store) -> None:
    switch(shop)
    group = record_message(
        shop,
        CapturedMessage(
            wa_id="g1", chat_jid="1203630@g.us", from_me=False, sender_jid=ANA, body="hi", timestamp=CLOSED
        ),
    ).message
    assert run(shop, group, CLOSED).reason == "group"  # type: ignore[union-attr]
    mine = outbound(shop, BRUNO, CLOSED, 1)
    assert run(shop, mine, CLOSED).reason == "from_me"  # type: ignore[union-attr]


def test_no_schedule_means_no_away_message(store: Store) -> None:
    switch(store, welcome=False)
    outbound(store, ANA, CLOSED - timedelta(days=2), 0)
    message = inbound(store, ANA, CLOSED, 1)
    assert run(store, message, CLOSED) == Skip("inside_hours")


def test_saving_refuses_unknown_variables_and_an_empty_switched_on_message(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"The away message uses the unknown variable \{when\}"):
        save_greetings(store, GreetingsConfig(away_enabled=True, away_text="Back {when}"))
    with pytest.raises(InvalidInput, match="The welcome message is empty"):
        save_greetings(store, GreetingsConfig(welcome_enabled=True, welcome_text="  "))
    done = save_greetings(store, GreetingsConfig(welcome_enabled=True, welcome_text="  Hi {first_name} "))
    assert done.value.welcome_text == "Hi {first_name}"
    assert done.touched("agent_configs")
    config, version = load_config(store)
    assert config.welcome_enabled
    assert version == 1


def test_the_schedule_op_saves_the_canonical_form_and_refuses_overlaps(store: Store) -> None:
    raw = {"week": {"tue": [{"start": "14:00", "end": "18:00"}, {"start": "09:00", "end": "12:00"}]}}
    done = save_business_hours(store, raw)
    assert done.touched("orgs")
    stored = store.orgs.get(store.org_id).business_hours
    assert stored["week"]["tue"][0] == {"start": "09:00", "end": "12:00"}
    assert BusinessHours(parse_schedule(stored), "UTC").is_open(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="overlap"):
        save_business_hours(
            store, {"week": {"tue": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}
        )
    assert store.orgs.get(store.org_id).business_hours == stored
