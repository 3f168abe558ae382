"""Welcome and away messages against a real store, run by the real orchestrator: who is greeted, when, how often,
and never over a person. The clock is the real one moved forward by the tests (the guarded send stamps its
messages with the real time), and the schedules are built around it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.agents.greetings import FRESH, GreetingsAgent, GreetingsConfig, load_config
from app.agents.hours import WEEKDAYS, BusinessHours, parse_schedule
from app.agents.orchestrator import Orchestrator
from app.agents.templates import format_opening
from app.core.errors import InvalidInput
from app.core.events import MessageReceived
from app.core.ids import utc_now
from app.core.loops import LoopThread
from app.core.models import AgentExecution, Message
from app.store.intake import CapturedMessage, record_message
from app.store.ops.business_hours import save_business_hours, save_greetings
from app.store.ops.ownership import hand_back, take_over
from app.store.store import Store
from tests.unit.agents.orchestrator_support import Clock

BERLIN = ZoneInfo("Europe/Berlin")
ANA = "5511912345678@c.us"
BRUNO = "5511987654321@c.us"
ALWAYS = {"week": {d: [{"start": "00:00", "end": "24:00"}] for d in WEEKDAYS}}


def closed_now() -> dict[str, object]:
    """Open only on the weekday three days from today (Berlin): closed now and for the next two days."""
    day = WEEKDAYS[(datetime.now(BERLIN).weekday() + 3) % 7]
    return {"week": {day: [{"start": "09:00", "end": "18:00"}]}}


class Greeter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.clock = Clock()
        self.loop = LoopThread("parley-test-greetings")
        self.orchestrator = Orchestrator(store, [GreetingsAgent()], loop=self.loop, clock=self.clock)
        self.loop.run(self.orchestrator.run_pending(), 30)  # the cursor starts here: only what follows counts
        self.seen = 0

    def run(self, at: datetime | None = None) -> AgentExecution:
        """Run the pending events at ``at`` (default now); the execution of the last one."""
        self.clock.now = at or utc_now()
        self.loop.run(self.orchestrator.run_pending(), 30)
        runs = self.store.agent_executions.find_all({"agent": "greetings"}, order_by="event_seq")
        assert len(runs) > self.seen
        self.seen = len(runs)
        return runs[-1]

    def close(self) -> None:
        self.orchestrator.close()
        self.loop.close()


@pytest.fixture
def greeter(store: Store) -> Iterator[Greeter]:
    store.orgs.update(store.org_id, timezone="Europe/Berlin", name="Casa Verde")
    harness = Greeter(store)
    try:
        yield harness
    finally:
        harness.close()


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
    """Our message as WhatsApp shows it: typed on the phone (or sent long ago)."""
    captured = CapturedMessage(wa_id=f"out-{jid}-{n}", chat_jid=jid, from_me=True, body="ok", timestamp=at, ack=2)
    return record_message(store, captured).message


def greetings_in(store: Store, chat_id: str) -> list[Message]:
    return [m for m in store.messages.find_all({"chat_id": chat_id}) if m.sent_by_agent is not None]


def opening(store: Store, now: datetime) -> str:
    org = store.orgs.get(store.org_id)
    hours = BusinessHours.from_org(org.business_hours, org.timezone)
    return format_opening(hours.next_opening(now), now, hours.tz)


def test_off_by_default_and_says_so(greeter: Greeter, store: Store) -> None:
    message = inbound(store, ANA, utc_now(), 1)
    assert load_config(store)[0] == GreetingsConfig()
    run = greeter.run()
    assert (run.skip_reason, run.chat_id, run.status) == ("disabled", message.chat_id, "skipped")
    assert greetings_in(store, message.chat_id) == []


def test_a_first_time_contact_is_welcomed_once(greeter: Greeter, store: Store) -> None:
    switch(store, away=False)
    now = utc_now()
    first = inbound(store, ANA, now, 1)
    run = greeter.run(now + timedelta(seconds=3))
    assert (run.action, run.status) == ("send_welcome", "succeeded")
    assert run.detail["acquisition_config_version"] == 1  # the version the greetings ran with
    [sent] = greetings_in(store, first.chat_id)
    assert (sent.body, sent.sent_by_agent, sent.status) == ("Welcome to Casa Verde, Ana!", "welcome", "queued")
    assert sent.agent_execution_id == run.id
    inbound(store, ANA, now + timedelta(seconds=20), 2)  # the same customer again
    assert greeter.run(now + timedelta(seconds=25)).skip_reason == "not_first_time"
    assert len(greetings_in(store, first.chat_id)) == 1


def test_a_burst_is_welcomed_once_on_its_last_message(greeter: Greeter, store: Store) -> None:
    switch(store, away=False)
    now = utc_now()
    inbound(store, ANA, now, 1)
    last = inbound(store, ANA, now + timedelta(seconds=2), 2)
    greeter.run(now + timedelta(seconds=5))
    runs = store.agent_executions.find_all({"agent": "greetings"}, order_by="event_seq")
    assert [(r.action, r.skip_reason) for r in runs] == [(None, "stale"), ("send_welcome", None)]
    [sent] = greetings_in(store, last.chat_id)
    assert sent.position is not None
    assert last.position is not None
    assert sent.position > last.position


def test_a_backfilled_old_customer_is_not_welcomed(greeter: Greeter, store: Store) -> None:
    switch(store, away=False)
    now = utc_now()
    # Catching up after connecting: months of history arrive now, the latest message a minute old.
    inbound(store, BRUNO, now - timedelta(days=90), 1, name="Bruno")
    outbound(store, BRUNO, now - timedelta(days=90, minutes=-5), 2)
    inbound(store, BRUNO, now - timedelta(minutes=1), 3, name="Bruno")
    runs = [greeter.run(now), *store.agent_executions.find_all({"agent": "greetings"})]
    assert {r.skip_reason for r in runs} == {"old_message", "not_first_time"}
    # An old customer whose history holds only their own messages (never answered in Parley) is not welcomed either.
    old = inbound(store, ANA, now - timedelta(days=30), 1)
    inbound(store, ANA, now - timedelta(minutes=1), 2)
    assert greeter.run(now).skip_reason == "not_first_time"
    assert greetings_in(store, old.chat_id) == []


def test_an_old_message_caught_up_on_gets_nothing(greeter: Greeter, store: Store) -> None:
    switch(store)
    save_business_hours(store, closed_now())
    now = utc_now()
    inbound(store, ANA, now - FRESH - timedelta(minutes=1), 1)
    assert greeter.run(now).skip_reason == "old_message"


def test_away_only_outside_hours_and_once_per_window(greeter: Greeter, store: Store) -> None:
    switch(store, welcome=False, every=12)
    now = utc_now()
    outbound(store, ANA, now - timedelta(days=2), 0)  # a known customer (answered long ago: no takeover now)
    save_business_hours(store, ALWAYS)
    inbound(store, ANA, now, 1)
    assert greeter.run(now).skip_reason == "inside_hours"
    save_business_hours(store, closed_now())
    evening = inbound(store, ANA, now + timedelta(minutes=1), 2)
    assert greeter.run(now + timedelta(minutes=1)).action == "send_away"
    [sent] = greetings_in(store, evening.chat_id)
    assert sent.body == f"We're closed; back {opening(store, now)}."
    assert sent.sent_by_agent == "away"
    later = now + timedelta(hours=2)
    inbound(store, ANA, later, 3)
    assert greeter.run(later).skip_reason == "recently_greeted"
    # 13 h after the away message and still closed: the customer hears it again, once.
    next_day = now + timedelta(hours=13)
    inbound(store, ANA, next_day, 4)
    assert greeter.run(next_day).action == "send_away"
    assert [m.sent_by_agent for m in greetings_in(store, evening.chat_id)] == ["away", "away"]


def test_a_first_time_contact_outside_hours_gets_one_message_with_both(greeter: Greeter, store: Store) -> None:
    switch(store)
    save_business_hours(store, closed_now())
    now = utc_now()
    message = inbound(store, ANA, now, 1, name=None)
    assert greeter.run(now).action == "send_welcome"
    [sent] = greetings_in(store, message.chat_id)
    assert sent.body == f"Welcome to Casa Verde, there!\n\nWe're closed; back {opening(store, now)}."
    inbound(store, ANA, now + timedelta(minutes=1), 2, name=None)
    assert greeter.run(now + timedelta(minutes=1)).skip_reason == "recently_greeted"  # the welcome counts


def test_never_when_a_person_owns_the_chat(greeter: Greeter, store: Store) -> None:
    switch(store)
    save_business_hours(store, closed_now())
    now = utc_now()
    outbound(store, ANA, now - timedelta(hours=1), 0)  # typed on the phone an hour ago: a takeover
    message = inbound(store, ANA, now, 1)
    assert greeter.run(now).skip_reason == "owned_by_person"
    hand_back(store, message.chat_id, now=now)
    inbound(store, ANA, now + timedelta(minutes=1), 2)
    assert greeter.run(now + timedelta(minutes=1)).action == "send_away"
    take_over(store, message.chat_id)  # "Take over": open-ended, until handed back
    inbound(store, ANA, now + timedelta(hours=13), 3)
    assert greeter.run(now + timedelta(hours=13)).skip_reason == "owned_by_person"
    assert len(greetings_in(store, message.chat_id)) == 1


def test_greetings_work_with_the_ai_off(greeter: Greeter, store: Store) -> None:
    """The acquisition agent off (its default) is not a person owning every chat."""
    switch(store, away=False)
    now = utc_now()
    inbound(store, BRUNO, now, 1, name="Bruno")
    assert greeter.run(now).action == "send_welcome"


def test_groups_and_our_own_messages_are_left_alone(greeter: Greeter, store: Store) -> None:
    switch(store)
    now = utc_now()
    captured = CapturedMessage(
        wa_id="g1", chat_jid="1203630@g.us", from_me=False, sender_jid=ANA, body="hi", timestamp=now
    )
    record_message(store, captured)
    assert greeter.run(now).skip_reason == "group"


def test_a_dry_run_sends_nothing(greeter: Greeter, store: Store) -> None:
    switch(store, away=False)
    now = utc_now()
    message = inbound(store, ANA, now, 1)
    event = MessageReceived(org_id=store.org_id, chat_id=message.chat_id, message_id=message.id)
    greeter.clock.now = now
    run = greeter.loop.run(greeter.orchestrator.try_on("greetings", event), 30)
    assert run is not None
    assert (run.action, run.dry_run) == ("send_welcome", True)
    assert greetings_in(store, message.chat_id) == []


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
    overlapping = {"week": {"tue": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}
    with pytest.raises(InvalidInput, match="overlap"):
        save_business_hours(store, overlapping)
    assert store.orgs.get(store.org_id).business_hours == stored
