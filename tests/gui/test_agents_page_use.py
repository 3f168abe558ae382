"""The Agents page as a person uses it (issue 18, tried in the real app under Xvfb with real input): what stays
chosen after a write, Enter where a person expects it to act, the empty states, and the links to Settings."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.agents import configs
from app.core.ids import utc_now
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.pages.agents import AgentsPage
from app.ui.pages.agents_log import select_row
from tests.support.agents_page import accept_roll_back, column, make_page


def test_after_cancelling_a_job_no_other_job_is_left_chosen_for_cancel(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: cancelling the last row left the row above it selected with "Cancel job" enabled, so a
    second click cancelled a job nobody chose."""
    jobs = ctx.store.jobs
    now = utc_now()
    first = jobs.schedule("finance_check", {}, now + timedelta(hours=2), dedupe_key="finance:check:a")
    last = jobs.schedule("retention_followup", {}, now + timedelta(days=2), dedupe_key="followup:sale:b:d3")
    page = make_page(qtbot, ctx)
    listing = page.jobs
    page.tabs.setCurrentWidget(listing)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2)
    select_row(listing.table, 1)
    picked = listing.selected_job()
    assert picked is not None
    assert picked.id == last.id
    listing.cancel.click()
    qtbot.waitUntil(lambda: listing.table.rowCount() == 1)
    assert listing.selected_job() is None
    assert not listing.cancel.isEnabled()
    kept = jobs.get(first.id)
    assert kept is not None
    assert kept.status == "due"


def test_a_chosen_job_stays_chosen_when_the_list_reloads(qtbot: QtBot, ctx: AppContext) -> None:
    jobs = ctx.store.jobs
    now = utc_now()
    jobs.schedule("finance_check", {}, now + timedelta(hours=2), dedupe_key="finance:check:a")
    chosen = jobs.schedule("retention_followup", {}, now + timedelta(days=2), dedupe_key="followup:sale:b:d3")
    page = make_page(qtbot, ctx)
    listing = page.jobs
    page.tabs.setCurrentWidget(listing)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2)
    select_row(listing.table, 1)
    jobs.schedule("finance_drop_alert", {}, now + timedelta(minutes=5), dedupe_key="finance:drop:x")  # sorts first
    qtbot.waitUntil(lambda: listing.table.rowCount() == 3)
    job = listing.selected_job()
    assert job is not None
    assert job.id == chosen.id


def test_a_cancelled_job_says_so_in_words(qtbot: QtBot, ctx: AppContext) -> None:
    jobs = ctx.store.jobs
    job = jobs.schedule("retention_followup", {}, utc_now() + timedelta(days=2), dedupe_key="followup:sale:b:d3")
    jobs.cancel(job.id)
    page = make_page(qtbot, ctx)
    listing = page.jobs
    listing.view.setCurrentIndex(listing.view.findData("Failed or cancelled"))
    qtbot.waitUntil(lambda: listing.table.rowCount() == 1)
    assert column(listing.table, 4) == ["Cancelled: it will not run"]  # the store's code was shown: "cancelled"


def chosen(table: QtWidgets.QTableWidget) -> str | None:
    """The first cell of the selected row, as a person sees it (None: nothing selected)."""
    if not table.selectedItems():
        return None
    return table.item(table.currentRow(), 0).text()


def test_after_a_roll_back_the_version_chosen_is_still_the_one_chosen(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: rolling back to version 2 of 4 left row 2 selected, which then was version 3, with "Roll
    back to this" enabled for a version nobody picked."""
    for pause in (4, 6, 8):
        configs.save(ctx.store, "acquisition", enabled=True, config={"pause_hours": pause})
    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    qtbot.waitUntil(lambda: editor.history.rowCount() == 3)
    select_row(editor.history, 1)  # version 2
    assert chosen(editor.history) == "2"
    editor.roll_back.click()
    accept_roll_back(qtbot, editor)
    qtbot.waitUntil(lambda: editor.history.rowCount() == 4)
    assert configs.current(ctx.store, "acquisition").config["pause_hours"] == 6
    assert chosen(editor.history) == "2"


def test_after_a_save_nothing_is_chosen_that_was_not(qtbot: QtBot, ctx: AppContext) -> None:
    configs.save(ctx.store, "acquisition", enabled=True, config={"pause_hours": 4})
    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    qtbot.waitUntil(lambda: editor.history.rowCount() == 1)
    pause = editor.inputs[("pause_hours",)]
    assert isinstance(pause, QtWidgets.QSpinBox)
    pause.setValue(9)
    editor.save.click()
    qtbot.waitUntil(lambda: editor.history.rowCount() == 2)
    assert chosen(editor.history) is None
    assert not editor.roll_back.isEnabled()


def button(page: QtWidgets.QWidget, text: str) -> QtWidgets.QPushButton:
    [found] = [b for b in page.findChildren(QtWidgets.QPushButton) if b.text() == text]
    return found


def test_the_links_to_settings_open_their_own_section(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: "Welcome and away messages…" opened Settings wherever it was left (Workspace)."""
    from app.ui.main_window import MainWindow
    from app.ui.pages.settings import SettingsPage
    from app.ui.sections import SECTIONS

    ctx.settings.internal.settings_section = "Workspace"
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    page = window.show_section("agents")
    assert isinstance(page, AgentsPage)
    page.show_agent("acquisition")
    button(page, "Welcome and away messages…").click()
    assert window.current_section() == "settings"
    settings = window.pages["settings"]
    assert isinstance(settings, SettingsPage)
    assert settings.current_section == "Business hours"
    window.show_section("agents")
    page.show_agent("finance")
    button(page, "Finance settings…").click()
    assert window.current_section() == "settings"
    assert settings.current_section == "Finance"


def test_enter_in_the_chat_field_tries_the_chat_it_names(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: Enter in the chat's field did nothing; and a half-typed name left the previous chat
    current, so the button would have tried a chat the field did not show."""
    from app.agents.orchestrator import Orchestrator
    from app.qt import Qt
    from tests.unit.agents.orchestrator_support import Replier, chat_of, customer_says

    ctx.agents = Orchestrator(ctx.store, [Replier()], loop=ctx.tasks.service_loop)
    configs.save(ctx.store, "acquisition", enabled=True, mode="autopilot", config={"debounce_seconds": 0})
    customer_says(ctx.store, "34600000077", "How much is the linen shirt?")
    customer_says(ctx.store, "34600000088", "Do you ship to Porto?")
    wanted, other = chat_of(ctx.store, "34600000077"), chat_of(ctx.store, "34600000088")
    page = make_page(qtbot, ctx)
    tried = page.try_on
    page.tabs.setCurrentWidget(tried)
    qtbot.waitUntil(lambda: tried.chat.findData(wanted.id) >= 0 and tried.chat.findData(other.id) >= 0)
    tried.choose("acquisition", other.id)
    line = tried.chat.lineEdit()
    assert line is not None
    line.setText("nobody by this name")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert tried.error.isVisible()
    assert "nobody by this name" in tried.error.text()
    assert tried.result is None

    line.setText(tried.chat.itemText(tried.chat.findData(wanted.id)))
    with qtbot.waitSignal(tried.tried, timeout=15000):
        qtbot.keyClick(line, Qt.Key.Key_Return)
    assert tried.result is not None
    assert tried.result.chat_id == wanted.id


def test_enter_in_the_note_saves_the_version(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: a limit changed, a note typed, Enter — nothing happened until the button was clicked."""
    from app.qt import Qt

    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    pause = editor.inputs[("pause_hours",)]
    assert isinstance(pause, QtWidgets.QSpinBox)
    pause.setValue(10)
    editor.note.setText("Longer pause")
    qtbot.keyClick(editor.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.history.rowCount() == 1)
    [saved] = configs.history(ctx.store, "acquisition")
    assert (saved.version, saved.config["pause_hours"], saved.note) == (1, 10, "Longer pause")
    qtbot.keyClick(editor.note, Qt.Key.Key_Return)  # nothing edited: Enter writes no empty version
    assert len(configs.history(ctx.store, "acquisition")) == 1


def test_an_empty_log_says_why_and_clears_its_filters(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: filters that matched nothing left a blank table and "0 runs"."""
    from tests.support.inbox import seed_chat

    chat = seed_chat(ctx.store, "Bruna", ["hi"], start=0)
    page = make_page(qtbot, ctx)
    log = page.log
    page.tabs.setCurrentWidget(log)
    qtbot.waitUntil(lambda: log.page is not None)
    assert log.empty.isVisible()
    assert log.empty.title.text() == "No runs yet"
    assert not log.empty.button.isVisible()

    at = utc_now()
    ctx.store.agent_executions.create(
        agent="acquisition", trigger="message.received", event_name="message.received", status="skipped",
        started_at=at, finished_at=at, chat_id=chat.id, skip_reason="cooldown", config_version=1,
    )  # fmt: skip
    qtbot.waitUntil(lambda: log.table.isVisible() and log.table.rowCount() == 1)
    qtbot.waitUntil(lambda: log.agent.findData("acquisition") >= 0)
    log.agent.setCurrentIndex(log.agent.findData("acquisition"))
    log.skipped.setChecked(True)
    qtbot.waitUntil(lambda: log.reason.findData("cooldown") >= 0)
    log.reason.addItem("Outside business hours", "outside_hours")
    log.reason.setCurrentIndex(log.reason.findData("outside_hours"))
    qtbot.waitUntil(lambda: log.empty.isVisible())
    assert log.empty.title.text() == "No runs match these filters"
    assert log.empty.button.isVisible()
    log.empty.button.click()
    qtbot.waitUntil(lambda: log.table.isVisible() and log.table.rowCount() == 1)
    assert log.current_filter() == type(log.current_filter())()
    assert not log.skipped.isChecked()


def test_a_dry_runs_reason_is_said_once(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: "It would do nothing: Welcome and away messages are off." and under it, again, "Welcome and
    away messages are off."; a different explanation is still shown."""
    page = make_page(qtbot, ctx)
    tried = page.try_on
    at = utc_now()

    def run(why: str) -> None:
        row = ctx.store.agent_executions.create(
            agent="greetings", trigger="message.received", event_name="message.received", status="skipped",
            started_at=at, finished_at=at, skip_reason="disabled", dry_run=True, detail={"why": why},
        )  # fmt: skip
        tried._show(row)

    run("Welcome and away messages are off.")
    assert tried.verdict.text() == "It would do nothing: Welcome and away messages are off."
    assert not tried.why.isVisibleTo(tried)
    run("Turn them on in Settings › Business hours.")
    assert tried.why.isVisibleTo(tried)
    assert tried.why.text() == "Turn them on in Settings › Business hours."


def test_roll_back_asks_first_and_names_what_changes_the_welcome_included(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: rolling acquisition back to an earlier limit also switched the welcome message off (it lives
    in acquisition's versions), and nothing on the page said so."""
    from app.agents.greetings import GreetingsConfig, load_config, save_config_version

    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="autopilot", config={"pause_hours": 8})  # v1
    save_config_version(store, GreetingsConfig(welcome_enabled=True))  # v2
    configs.save(store, "acquisition", config={"pause_hours": 10})  # v3
    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    qtbot.waitUntil(lambda: editor.history.rowCount() == 3)
    select_row(editor.history, 2)  # version 1
    editor.roll_back.click()
    qtbot.waitUntil(lambda: editor.confirm_box is not None and editor.confirm_box.isVisible())
    box = editor.confirm_box
    assert box is not None
    assert "• Pause after a person writes: 10 h → 8 h" in box.text()
    assert "• Welcome message: on → off" in box.text()
    box.reject()  # Cancel: nothing written
    qtbot.waitUntil(lambda: not box.isVisible())
    assert configs.current(store, "acquisition").version == 3
    assert load_config(store)[0].welcome_enabled

    select_row(editor.history, 0)  # in force: the button is off; version 3's copy, once written, changes nothing
    assert not editor.roll_back.isEnabled()
    configs.save(store, "acquisition", config={"pause_hours": 8})  # v4 = v3 but the pause: v3 now differs
    qtbot.waitUntil(lambda: editor.history.rowCount() == 4)
    configs.save(store, "acquisition", config={"pause_hours": 10})  # v5 = v3
    qtbot.waitUntil(lambda: editor.history.rowCount() == 5)
    select_row(editor.history, 2)  # version 3: the same settings as version 5
    editor.roll_back.click()
    assert editor.error.isVisibleTo(editor)
    assert "would change nothing" in editor.error.text()
    assert configs.current(store, "acquisition").version == 5


def test_each_version_says_what_it_changed(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: versions 2, 3 and 4 all read "Autopilot", so which one to roll back to was a guess."""
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="autopilot", config={"pause_hours": 8})
    configs.save(store, "acquisition", config={"pause_hours": 10})
    page = make_page(qtbot, ctx)
    editor = page.show_agent("acquisition")
    qtbot.waitUntil(lambda: editor.history.rowCount() == 2)
    assert column(editor.history, 3) == [
        "Autopilot · Pause after a person writes: 8 h → 10 h",
        "Autopilot · Pause after a person writes: 12 h → 8 h",  # the first version: from the defaults
    ]


def test_each_job_says_whom_or_what_it_is_for(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app: three rows of "Follow-up after a sale" and no way to tell which customer "Cancel job" hit."""
    from app.store.ops.sales import SaleLine, record_sale

    store = ctx.store
    maya = store.contacts.create(name="Maya Lindqvist", phone="+46701234567")
    sale = record_sale(store, [SaleLine(description="Linen shirt", unit_price_minor=4500)], contact_id=maya.id).value
    now = utc_now()
    store.jobs.schedule("retention_followup", {"sale_id": sale.id, "days": 3}, now + timedelta(days=3), "f:1")
    store.jobs.schedule("finance_check", {"day": "2026-12-07"}, now + timedelta(hours=2), "finance:check:x")
    page = make_page(qtbot, ctx)
    listing = page.jobs
    page.tabs.setCurrentWidget(listing)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2)
    assert column(listing.table, 0) == [
        "Daily revenue check · Mon 7 Dec",
        "Follow-up after a sale · Maya Lindqvist",
    ]


def test_the_chosen_run_is_read_in_full_under_the_log(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app at 1024 px: "What happened" cut ("…moments ago (per-c…"), and the run's own explanation only
    in a tooltip. The chosen run is written out under the table, and stays chosen when a new run arrives."""
    from tests.support.inbox import seed_chat

    chat = seed_chat(ctx.store, "Bruna", ["hi"], start=0)
    at = utc_now() - timedelta(minutes=5)

    def run(skip: str, why: str, when: object = at) -> None:
        ctx.store.agent_executions.create(
            agent="acquisition", trigger="message.received", event_name="message.received", status="skipped",
            started_at=when, finished_at=when, chat_id=chat.id, skip_reason=skip, config_version=2,
            detail={"why": why},
        )  # fmt: skip

    run("no_ai", "AI replies are off: turn them on in Settings › AI.")
    page = make_page(qtbot, ctx)
    log = page.log
    page.tabs.setCurrentWidget(log)
    qtbot.waitUntil(lambda: log.table.rowCount() == 1)
    assert log.detail.text() == "Choose a run to read what happened in full."
    select_row(log.table, 0)
    lines = log.detail.text().split("\n")
    assert lines[0].endswith(" · Acquisition (v2) · Bruna · Customer message")
    assert lines[1:] == [
        "Skipped: The AI is not set up or not reachable",
        "AI replies are off: turn them on in Settings › AI.",
    ]
    run("cooldown", "", when=utc_now())  # a newer run comes first: the chosen one stays chosen
    qtbot.waitUntil(lambda: log.table.rowCount() == 2)
    assert log.table.currentRow() == 1
    assert log.detail.text().split("\n")[1] == "Skipped: The AI is not set up or not reachable"
    at = utc_now()
    ctx.store.agent_executions.create(
        agent="greetings", trigger="message.received", event_name="message.received", status="skipped",
        started_at=at, finished_at=at, chat_id=chat.id, skip_reason="recently_greeted",
    )  # fmt: skip
    qtbot.waitUntil(lambda: log.table.rowCount() == 3)
    select_row(log.table, 0)
    assert log.detail.text().split("\n")[0].endswith(" · Welcome & away · Bruna · Customer message")  # no "(—)"


def test_a_long_change_list_leaves_the_note_readable(qtbot: QtBot, ctx: AppContext) -> None:
    """Seen in the app at 1280 px: "Mode: Suggest (drafts) → Autopilot · Pause after a person writes: 12 h → 8 h"
    sized its column and squeezed the note to "Autopilot …"; the hand-off words showed their end."""
    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="draft", note="Drafts first")
    configs.save(store, "acquisition", mode="autopilot", config={"pause_hours": 8}, note="Autopilot after a week")
    page = make_page(qtbot, ctx)
    page.resize(1100, 800)
    editor = page.show_agent("acquisition")
    qtbot.waitUntil(lambda: editor.history.rowCount() == 2)
    header = editor.history.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(4) > 0)
    note_width = editor.history.fontMetrics().horizontalAdvance("Autopilot after a week")
    assert header.sectionSize(4) > note_width
    words = editor.inputs[("autopilot_limits", "handoff_words")]
    assert isinstance(words, QtWidgets.QLineEdit)
    assert words.cursorPosition() == 0


def test_a_picked_chat_is_tried_even_when_another_has_the_same_name(qtbot: QtBot, ctx: AppContext) -> None:
    from app.agents.orchestrator import Orchestrator
    from tests.unit.agents.orchestrator_support import Replier, chat_of, customer_says

    ctx.agents = Orchestrator(ctx.store, [Replier()], loop=ctx.tasks.service_loop)
    configs.save(ctx.store, "acquisition", enabled=True, mode="autopilot", config={"debounce_seconds": 0})
    for number in ("34600000077", "34600000088"):
        customer_says(ctx.store, number, "Hello?")
        chat = chat_of(ctx.store, number)
        contact = ctx.store.contacts.create(name="Ana")
        ctx.store.chats.update(chat.id, contact_id=contact.id)
    page = make_page(qtbot, ctx)
    tried = page.try_on
    page.tabs.setCurrentWidget(tried)
    qtbot.waitUntil(lambda: tried.chat.count() >= 2)
    [_first, later] = [i for i in range(tried.chat.count()) if tried.chat.itemText(i) == "Ana"]
    second = ctx.store.chats.get(str(tried.chat.itemData(later)))  # the one listed after its namesake
    tried.choose("acquisition", second.id)
    with qtbot.waitSignal(tried.tried, timeout=15000):
        tried.try_button.click()
    assert tried.result is not None
    assert tried.result.chat_id == second.id
