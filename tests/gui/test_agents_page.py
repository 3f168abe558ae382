"""The Agents page on a real workspace: switching an agent on and saving writes a new version (who and when shown),
rolling back writes another copying an old one, the execution log's filters and its skip reasons in words, a dry run
on a chat that shows what the agent would do and sends nothing, and the jobs list with cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.agents import acquisition, configs
from app.agents.orchestrator import Orchestrator
from app.core.ids import utc_now
from app.qt import QtWidgets
from app.store import sending_device
from app.store.ops.ownership import take_over
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.agents import AgentsPage
from app.ui.pages.agents_log import CANCEL_TEAM_TIP, select_row
from app.ui.sections import SECTIONS
from tests.support.agents_page import accept_roll_back, column, make_page
from tests.support.inbox import seed_chat
from tests.unit.agents.orchestrator_support import Replier, chat_of, customer_says
from tests.unit.store.test_sending_device import T0, pull_claim


def test_the_agents_section_is_the_agents_page(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    assert isinstance(window.show_section("agents"), AgentsPage)


def test_switching_on_and_saving_makes_a_version_and_roll_back_makes_another(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    assert editor.version.text() == "Default settings · never saved"
    assert not editor.save.isEnabled(), "nothing edited yet"
    editor.enabled.setChecked(True)
    editor.mode.setCurrentIndex(editor.mode.findData("autopilot"))
    pause = editor.inputs[("pause_hours",)]
    assert isinstance(pause, QtWidgets.QSpinBox)
    assert pause.value() == 12
    pause.setValue(6)
    confidence = editor.inputs[("autopilot_limits", "min_confidence")]
    assert isinstance(confidence, QtWidgets.QSpinBox)
    confidence.setValue(80)
    editor.note.setText("Autopilot for the sale")
    assert editor.save.isEnabled()
    editor.save.click()
    qtbot.waitUntil(lambda: editor.history.rowCount() == 1)
    now = configs.current(store, "acquisition")
    assert (now.version, now.enabled, now.mode, now.config["pause_hours"]) == (1, True, "autopilot", 6)
    autopilot = acquisition.limits_of(now.config)
    assert autopilot.min_confidence == pytest.approx(0.8)
    assert autopilot.max_replies_per_day == 20, "the other autopilot limits kept"
    assert editor.version.text().startswith("Version 1 · saved ")
    assert editor.version.text().endswith(" by Ana Owner")
    assert column(editor.history, 4) == ["Autopilot for the sale"]
    assert page.list.item(0).text() == "Acquisition\nAutopilot · v1"
    assert not editor.save.isEnabled()

    pause.setValue(2)
    editor.save.click()
    qtbot.waitUntil(lambda: editor.history.rowCount() == 2)
    assert configs.current(store, "acquisition").config["pause_hours"] == 2
    assert pause.value() == 2

    select_row(editor.history, 1)  # version 1
    assert editor.roll_back.isEnabled()
    editor.roll_back.click()
    accept_roll_back(qtbot, editor)
    qtbot.waitUntil(lambda: editor.history.rowCount() == 3)
    now = configs.current(store, "acquisition")
    assert (now.version, now.config["pause_hours"]) == (3, 6)
    assert column(editor.history, 4)[0] == "Rolled back to version 1"
    assert pause.value() == 6
    assert editor.version.text().startswith("Version 3 · saved ")


def test_a_refused_value_is_said_and_saves_nothing(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    editor = page.show_agent("retention")
    template = editor.inputs[("template",)]
    assert isinstance(template, QtWidgets.QPlainTextEdit)
    template.setPlainText("Hi {nickname}, how is it going?")
    editor.save.click()
    qtbot.waitUntil(editor.error.isVisible)
    assert "{nickname}" in editor.error.text()
    assert configs.history(ctx.store, "retention") == []


def execution(store: Store, agent: str, chat_id: str | None, *, skip: str | None = None, action: str | None = None,
              minutes: int = 0, version: int | None = 1) -> None:  # fmt: skip
    at = utc_now() - timedelta(minutes=minutes)
    store.agent_executions.create(
        agent=agent,
        trigger="message.received",
        event_name="message.received",
        status="skipped" if skip else "succeeded",
        started_at=at,
        finished_at=at,
        chat_id=chat_id,
        skip_reason=skip,
        action=action,
        config_version=version,
    )


def test_the_log_says_why_each_run_did_nothing_and_filters(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    bruna = seed_chat(store, "Bruna", ["hi"], start=0)
    caio = seed_chat(store, "Caio", ["hello"], start=10)
    execution(store, "acquisition", bruna.id, skip="owned_by_person", minutes=5)
    execution(store, "acquisition", caio.id, action="sent", minutes=4)
    execution(store, "greetings", caio.id, skip="recently_greeted", minutes=3, version=None)
    execution(store, "acquisition", caio.id, skip="cooldown", minutes=2)
    execution(store, "retention", bruna.id, skip="some_new_reason", minutes=1)
    page = make_page(qtbot, ctx)
    log = page.log
    page.tabs.setCurrentWidget(log)
    qtbot.waitUntil(lambda: log.table.rowCount() == 5)
    assert column(log.table, 5) == [
        "Skipped: Some new reason",
        "Skipped: The AI answered this chat moments ago (per-chat cooldown)",
        "Skipped: This customer was greeted recently",
        "Sent a reply",
        "Skipped: A person owns this chat",
    ]
    assert column(log.table, 1) == ["Retention", "Acquisition", "Welcome & away", "Acquisition", "Acquisition"]
    assert column(log.table, 3) == ["Bruna", "Caio", "Caio", "Caio", "Bruna"]
    assert column(log.table, 2)[:3] == ["v1", "v1", "—"]

    log.skipped.setChecked(True)
    qtbot.waitUntil(lambda: log.table.rowCount() == 4)
    log.agent.setCurrentIndex(log.agent.findData("acquisition"))
    qtbot.waitUntil(lambda: log.table.rowCount() == 2)
    log.chat.setCurrentIndex(log.chat.findData(bruna.id))
    qtbot.waitUntil(lambda: column(log.table, 5) == ["Skipped: A person owns this chat"])
    log.chat.setCurrentIndex(0)
    log.agent.setCurrentIndex(0)
    log.skipped.setChecked(False)
    assert log.reason.itemText(log.reason.findData("cooldown")).startswith("The AI answered this chat moments ago")
    log.reason.setCurrentIndex(log.reason.findData("cooldown"))
    qtbot.waitUntil(
        lambda: column(log.table, 5) == ["Skipped: The AI answered this chat moments ago (per-chat cooldown)"]
    )

    # A new run arrives while the page is open: the log follows by itself.
    log.reason.setCurrentIndex(0)
    qtbot.waitUntil(lambda: log.table.rowCount() == 5)
    execution(store, "acquisition", bruna.id, skip="owned_by_person")
    qtbot.waitUntil(lambda: log.table.rowCount() == 6)


@pytest.fixture
def orchestrator(ctx: AppContext) -> Orchestrator:
    orchestrator = Orchestrator(ctx.store, [Replier()], loop=ctx.tasks.service_loop)
    ctx.agents = orchestrator
    return orchestrator


def test_try_on_a_chat_shows_what_the_agent_would_do_and_sends_nothing(
    qtbot: QtBot, ctx: AppContext, orchestrator: Orchestrator
) -> None:
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="autopilot", config={"debounce_seconds": 0})
    customer_says(store, "34600000077", "How much is the linen shirt?")
    chat = chat_of(store, "34600000077")
    page = make_page(qtbot, ctx)
    tried = page.try_on
    page.tabs.setCurrentWidget(tried)
    qtbot.waitUntil(lambda: tried.chat.findData(chat.id) >= 0)
    tried.choose("acquisition", chat.id)
    with qtbot.waitSignal(tried.tried, timeout=15000):
        tried.try_button.click()
    assert tried.verdict.text() == "It would answer with the messages below."
    assert tried.messages.toPlainText() == "Thanks, on it!"
    assert tried.facts.text().startswith("Nothing was sent. Settings version 1.")
    assert [m for m in store.messages.for_chat(chat.id) if m.direction == "out"] == []
    assert store.messages.send_queue() == []
    assert tried.result is not None
    assert tried.result.dry_run

    take_over(store, chat.id)
    with qtbot.waitSignal(tried.tried, timeout=15000):
        tried.try_button.click()
    assert tried.verdict.text() == "It would do nothing: A person owns this chat."
    assert not tried.messages.isVisible()
    assert store.messages.send_queue() == []
    # Both dry runs are in the log, marked as such.
    page.tabs.setCurrentWidget(page.log)
    qtbot.waitUntil(lambda: page.log.table.rowCount() == 2)
    assert column(page.log.table, 5)[0] == "Skipped: A person owns this chat (dry run)"


def test_jobs_list_shows_waiting_done_and_cancels(qtbot: QtBot, ctx: AppContext) -> None:
    jobs = ctx.store.jobs
    now = utc_now()
    later = jobs.schedule("finance_check", {}, now + timedelta(hours=3), dedupe_key="finance:check:later")
    earlier = jobs.schedule("retention_followup", {}, now - timedelta(minutes=1), dedupe_key="followup:x")
    [claimed] = jobs.claim_due(now, "runner-1", timedelta(minutes=1), 10)
    assert claimed.id == earlier.id
    jobs.complete(earlier.id, "runner-1", "sent", now=now)
    page = make_page(qtbot, ctx)
    listing = page.jobs
    page.tabs.setCurrentWidget(listing)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 1)
    assert column(listing.table, 0) == ["Daily revenue check"]
    assert column(listing.table, 2) == ["Waiting"]
    assert listing.counts.text() == "1 waiting · 1 done · 0 failed or cancelled"
    assert not listing.cancel.isEnabled()

    # A job scheduled while the page is open shows by itself (the jobs table announces its changes).
    jobs.schedule("finance_drop_alert", {}, now + timedelta(hours=1), dedupe_key="finance:drop:x")
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2)
    assert column(listing.table, 0) == ["Revenue drop alert", "Daily revenue check"]

    select_row(listing.table, 1)
    assert listing.cancel.isEnabled()
    listing.cancel.click()
    qtbot.waitUntil(lambda: listing.table.rowCount() == 1)
    cancelled = jobs.get(later.id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"

    listing.view.setCurrentIndex(listing.view.findData("Failed or cancelled"))
    qtbot.waitUntil(lambda: column(listing.table, 2) == ["Cancelled"])
    listing.view.setCurrentIndex(listing.view.findData("Done"))
    qtbot.waitUntil(lambda: column(listing.table, 0) == ["Follow-up after a sale"])
    assert column(listing.table, 4) == ["sent"]
    select_row(listing.table, 0)
    assert not listing.cancel.isEnabled(), "a finished job cannot be cancelled"


def test_a_waiting_follow_up_on_a_teammate_says_which_computer_runs_it(qtbot: QtBot, ctx: AppContext) -> None:
    """In a team a follow-up (a shared job) runs only where WhatsApp is linked; the computer that recorded the sale
    listed it "Waiting" with no word of that (seen with two apps on one server)."""
    store, now = ctx.store, utc_now()
    store.set_meta(sending_device.SYNC_DEVICE_ID, "dev-here")  # this workspace is in a team
    store.jobs.schedule("retention_followup", {}, now + timedelta(days=1), dedupe_key="followup:y", shared=True)
    store.jobs.schedule("finance_check", {}, now + timedelta(hours=3), dedupe_key="finance:check:y")
    page = make_page(qtbot, ctx)
    listing = page.jobs
    page.tabs.setCurrentWidget(listing)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2)
    assert column(listing.table, 0) == ["Daily revenue check", "Follow-up after a sale"]
    assert column(listing.table, 4) == ["", "Waits for a computer of the team to link WhatsApp"]

    # The teammate links the phone: its claim arrives through sync and the open list says so by itself.
    pull_claim(store, linked_at=T0, name="Shop counter PC")
    qtbot.waitUntil(lambda: column(listing.table, 4)[1] == "Runs on Shop counter PC, which holds WhatsApp")
    assert column(listing.table, 4)[0] == "", "the revenue check is this computer's own: nothing to say"
    select_row(listing.table, 1)
    assert listing.cancel.isEnabled()
    assert listing.cancel.toolTip() == CANCEL_TEAM_TIP  # a cancel here reaches the computer that sends it
    select_row(listing.table, 0)
    assert "whole team" not in listing.cancel.toolTip()


def test_one_day_reads_one_day_not_one_days(qtbot: QtBot, ctx: AppContext) -> None:
    """Retention set to follow up after one day read "1 days" in its field (seen with two apps on one server)."""
    page = make_page(qtbot, ctx)
    editor = page.show_agent("retention")
    days = editor.inputs[("days",)]
    assert isinstance(days, QtWidgets.QSpinBox)
    days.setValue(1)
    assert days.text() == "1 day"
    days.setValue(2)
    assert days.text() == "2 days"
    # Its first version says what it changed from the defaults (it read "Autopilot" alone, the days nowhere).
    configs.save(ctx.store, "retention", enabled=True, mode="autopilot", config={"days": 1})
    qtbot.waitUntil(lambda: editor.history.rowCount() == 1)
    assert column(editor.history, 3) == ["Autopilot · Follow up after: 3 days → 1 day"]
