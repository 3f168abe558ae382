"""The Agents page's answers to "why didn't it fire?": the execution log with its filters, "Try on this chat" (the
orchestrator's dry run) and the durable jobs list.

Every run of an agent wrote one ``agent_executions`` row (``app.agents.orchestrator``): the event, the config version,
the action taken or the skip reason code. The log shows them newest first with the code in words
(``owned_by_person`` → "A person owns this chat"); filters narrow it to an agent, to skipped runs, to one reason, to
one chat. The dry run runs the chosen agent on the chat's latest customer message through ``Orchestrator.try_on``
(the same gates and run; nothing is sent, the cursor is untouched; the row is kept with ``dry_run`` so the log shows
it too). The jobs list reads ``store.jobs`` (``app.store.jobs``): waiting, done, failed, and cancels a waiting job.

All reads run on a worker of the task runner; they follow table changes (``agent_executions``, ``jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.core.events import MessageReceived
from app.core.models import AgentExecution
from app.qt import Qt, QtWidgets, Signal
from app.store import sending_device
from app.store.jobs import Job, Status
from app.store.store import Store
from app.ui import kit
from app.ui.context import AppContext
from app.ui.format import display_name, phone
from app.ui.widgets.empty_state import EmptyState
from app.ui.widgets.tables import cell, read_only_table
from app.ui.widgets.whatsapp_indicator import clock

LOG_LIMIT = 500
CHOOSE_A_RUN = "Choose a run to read what happened in full."
NO_RUNS = (
    "No runs yet",
    "Each time an agent looks at a message, a sale or a job, a row appears here: what it did, or why it did nothing.",
)
NO_MATCH = (
    "No runs match these filters",
    "Nothing in the log for this choice. If a customer's message got no run at all, “Try on a chat” shows what "
    "an agent would do with it.",
)
OPTIONS_SCAN = 2000  # the filters offer the agents, reasons and chats of this many latest runs

AGENT_NAMES: dict[str, str] = {
    "acquisition": "Acquisition",
    "greetings": "Welcome & away",
    "finance": "Finance",
    "retention": "Retention",
    "health": "Health",
}

# Skip reason codes in words: the orchestrator's, the guarded send's, each agent's (unknown codes fall back to the
# code's own words, so a reason added by a later agent is still readable).
REASONS: dict[str, str] = {
    "owned_by_person": "A person owns this chat",
    "drafts_only": "The chat is on AI drafts, so the words stayed a draft",
    "from_me": "Caused by an automated message (automations never start from one)",
    "from_agent": "The message came from an agent",
    "depth": "A chain of automations reached its limit",
    "cooldown": "The AI answered this chat moments ago (per-chat cooldown)",
    "rate_limited": "Too many automatic replies this minute (rate cap)",
    "debounced": "A later message of the same burst got the answer",
    "stale": "The chat moved on before the send (a newer message)",
    "not_sending_device": "Another computer holds the WhatsApp session; it sends",
    "gone": "The chat was deleted",
    "outside_hours": "Outside business hours",
    "no_whatsapp": "WhatsApp is not connected",
    "budget": "The AI budget is used up",
    "daily_cap": "The daily cap of automatic replies to this customer was reached",
    "low_confidence": "The AI was not confident enough to answer alone",
    "handoff": "Handed to a person",
    "max_turns": "The conversation is long enough that a person must step in",
    "disabled": "Welcome and away messages are off",
    "group": "A group chat (greetings are for one-to-one chats)",
    "old_message": "The message was too old to answer (history being caught up on)",
    "not_first_time": "Not a first-time contact, so no welcome",
    "inside_hours": "Inside business hours, so no away message",
    "recently_greeted": "This customer was greeted recently",
    "no_chat": "The message or its chat is gone",
    "model_draft_only": "The AI asked for a person to check its draft",
    "price_check": "A price in the answer is not in the products or the knowledge base",
    "conversation_length": "The conversation is long enough that a person must step in",
    "handoff_words": "The customer asked for a person",
    "model_handoff": "The AI handed the chat to a person",
    "no_ai": "The AI is not set up or not reachable",
    "handed_off": "Handed to a person",
    "sale_deleted": "The sale was deleted",
    "already_sent": "The follow-up was already sent",
    "superseded": "Another greeting applied by the time of sending",
    "dry_run": "A dry run: nothing was sent",
    "not_wanted": "Not an event this agent handles",
    "no_contact": "The sale has no customer",
    "agent_off": "The agent was switched off",
    "too_late": "Too late to run (it waited past its time)",
    "customer_wrote": "The customer wrote meanwhile",
    "opted_out": "The customer opted out",
    "ai_off": "AI replies are off",
}

ACTIONS: dict[str, str] = {
    "sent": "Sent a reply",
    "drafted": "Kept a draft",
    "send_welcome": "Sent the welcome message",
    "send_away": "Sent the away message",
    "lifetime_value": "Updated the customer's lifetime value",
    "recorded_sale": "Recorded a sale",
    "handoff": "Handed the chat to a person",
    "handed_off": "Handed the chat to a person",
    "scheduled": "Scheduled a follow-up",
    "scheduled_followup": "Scheduled a follow-up",
}

WOULD: dict[str, str] = {  # a dry run's action, said as what would happen
    "sent": "send a reply",
    "send_welcome": "send the welcome message below",
    "send_away": "send the away message below",
    "handed_off": "hand the chat to a person",
    "scheduled": "schedule a follow-up",
}

EVENTS: dict[str, str] = {
    "message.received": "Customer message",
    "message.queued": "Message queued",
    "sale.agreed": "Sale agreed",
    "sale.completed": "Sale completed",
    "chat.status_changed": "Chat status changed",
}

JOB_KINDS: dict[str, str] = {
    "finance_check": "Daily revenue check",
    "finance_drop_alert": "Revenue drop alert",
    "retention_followup": "Follow-up after a sale",
}

JOB_VIEWS: dict[str, tuple[Status, ...]] = {
    "Waiting": ("due", "running"),
    "Done": ("done", "skipped"),
    "Failed or cancelled": ("failed", "cancelled"),
}
CANCELLED = "Cancelled: it will not run"
CANCEL_TIP = "A waiting job is not run; one running now is not recorded when it ends"
CANCEL_TEAM_TIP = "Cancels it for the whole team: the computer that holds WhatsApp will not send it"
JOB_STATUS: dict[str, str] = {
    "due": "Waiting",
    "running": "Running",
    "done": "Done",
    "skipped": "Skipped",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def words(code: str) -> str:
    """A code's own words when no sentence was written for it: ``max_turns`` → "Max turns"."""
    return code.replace("_", " ").replace(".", " ").strip().capitalize() or code


def reason_text(code: str) -> str:
    return REASONS.get(code, words(code))


def agent_text(name: str) -> str:
    return AGENT_NAMES.get(name, words(name))


def outcome_text(row: AgentExecution) -> str:
    """What a run did, in words: its action, or why it skipped, or that it failed."""
    if row.status == "failed":
        text = f"Failed: {row.error}" if row.error else "Failed"
    elif row.skip_reason:
        text = f"Skipped: {reason_text(row.skip_reason)}"
    elif row.action:
        text = ACTIONS.get(row.action, words(row.action))
    else:
        text = "Nothing to do"
    return f"{text} (dry run)" if row.dry_run else text


def job_kind_text(kind: str) -> str:
    return JOB_KINDS.get(kind, words(kind))


# ---- reading (on a worker) ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogFilter:
    agent: str | None = None
    skipped_only: bool = False
    reason: str | None = None
    chat_id: str | None = None

    def where(self) -> dict[str, Any]:
        where: dict[str, Any] = {}
        if self.agent:
            where["agent"] = self.agent
        if self.skipped_only or self.reason:
            where["status"] = "skipped"
        if self.reason:
            where["skip_reason"] = self.reason
        if self.chat_id:
            where["chat_id"] = self.chat_id
        return where


@dataclass(frozen=True)
class LogPage:
    rows: list[AgentExecution]
    chat_names: dict[str, str]
    agents: list[str]
    reasons: list[str]
    chats: list[tuple[str, str]]  # (chat id, name) for the chat filter
    now: datetime = field(default_factory=lambda: datetime.now().astimezone())


def chat_name(store: Store, chat_id: str) -> str:
    chat = store.chats.find(chat_id)
    if chat is None:
        return "A deleted chat"
    contact = store.contacts.find(chat.contact_id) if chat.contact_id else None
    return display_name((contact.name if contact else "") or chat.title, phone(contact.phone) if contact else None)


def read_log(store: Store, wanted: LogFilter) -> LogPage:
    rows = store.agent_executions.find_all(wanted.where(), order_by="started_at", descending=True, limit=LOG_LIMIT)
    recent = store.agent_executions.find_all(None, order_by="started_at", descending=True, limit=OPTIONS_SCAN)
    chat_ids = {r.chat_id for r in [*rows, *recent] if r.chat_id}
    names = {c: chat_name(store, c) for c in sorted(chat_ids)}
    agents = sorted({r.agent for r in recent} | {r.agent for r in rows})
    reasons = sorted({r.skip_reason for r in recent if r.skip_reason}, key=reason_text)
    chats = sorted(((c, n) for c, n in names.items()), key=lambda pair: pair[1].lower())
    return LogPage(rows, names, agents, reasons, chats)


# ---- the execution log ----------------------------------------------------------------------------------------------
class ExecutionLog(QtWidgets.QWidget):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page: LogPage | None = None
        self._reads = 0
        self.agent = QtWidgets.QComboBox()
        self.agent.addItem("All agents", None)
        self.reason = QtWidgets.QComboBox()
        self.reason.addItem("Any reason", None)
        self.reason.setMinimumContentsLength(24)
        self.reason.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chat = QtWidgets.QComboBox()
        self.chat.addItem("All chats", None)
        self.chat.setMinimumContentsLength(16)
        self.chat.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.skipped = QtWidgets.QCheckBox("Skipped only")
        self.skipped.setToolTip("Only the runs that did nothing, with the reason: why didn't it fire?")
        self.count = kit.note()
        self.count.setWordWrap(False)
        filters = QtWidgets.QHBoxLayout()
        filters.setSpacing(8)
        for label, widget in (("Agent", self.agent), ("Reason", self.reason), ("Chat", self.chat)):
            filters.addWidget(QtWidgets.QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.skipped)
        filters.addStretch(1)
        filters.addWidget(self.count)
        self.table = read_only_table(["Time", "Agent", "Version", "Chat", "Event", "What happened"], 5)
        self.table.setObjectName("executionLog")
        # An empty log says why it is empty and, when filters hid every run, offers to clear them (a blank table
        # with "0 runs" left a person guessing, seen in the app).
        self.empty = EmptyState(NO_RUNS[0], NO_RUNS[1])
        self.empty.action_triggered.connect(self.clear_filters)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        # The chosen run in full under the table: in a small window "What happened" is cut, and the run's own
        # explanation ("AI replies are off: turn them on in Settings › AI") was only in a tooltip (seen in the app).
        self.detail = kit.note(CHOOSE_A_RUN)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.itemSelectionChanged.connect(self._show_detail)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.detail)
        for combo in (self.agent, self.reason, self.chat):
            combo.currentIndexChanged.connect(self.refresh)
        self.skipped.toggled.connect(self.refresh)

    def _show_detail(self) -> None:
        row = self.table.currentRow()
        page = self.page
        if page is None or not self.table.selectedItems() or not 0 <= row < len(page.rows):
            self.detail.setText(CHOOSE_A_RUN)
            return
        run = page.rows[row]
        cells = [self.table.item(row, c) for c in range(self.table.columnCount())]
        when, agent, version, chat, event, what = (c.text() if c is not None else "" for c in cells)
        why = run.detail.get("why")
        named = f"{agent} ({version})" if version != "—" else agent  # a run with no settings version says none
        lines = [f"{when} · {named} · {chat} · {event}", what]
        if isinstance(why, str) and why.strip() and why.strip().rstrip(".") not in what:
            lines.append(why.strip())
        self.detail.setText("\n".join(lines))

    def clear_filters(self) -> None:
        """Every agent, reason and chat, skipped or not: the whole log again (one read)."""
        for combo in (self.agent, self.reason, self.chat):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.skipped.blockSignals(True)
        self.skipped.setChecked(False)
        self.skipped.blockSignals(False)
        self.refresh()

    def current_filter(self) -> LogFilter:
        return LogFilter(
            agent=self.agent.currentData(),
            skipped_only=self.skipped.isChecked(),
            reason=self.reason.currentData(),
            chat_id=self.chat.currentData(),
        )

    def refresh(self) -> None:
        self._reads += 1
        seq, store, wanted = self._reads, self.ctx.store, self.current_filter()

        def done(page: LogPage) -> None:
            if seq == self._reads:
                self._show(page)

        self.ctx.tasks.start("Reading the agents' log", lambda: read_log(store, wanted), done, owner=self, quiet=True)

    @staticmethod
    def _fill(combo: QtWidgets.QComboBox, items: list[tuple[str, str]]) -> None:
        """Refill a filter's choices (after "All"), keeping the chosen one even when it is not among them."""
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for code, text in items:
            combo.addItem(text, code)
        if chosen is not None and combo.findData(chosen) < 0:
            combo.addItem(chosen, chosen)
        combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
        combo.blockSignals(False)

    def _show(self, page: LogPage) -> None:
        before, at = self.page, self.table.currentRow()
        chosen = before.rows[at].id if before and self.table.selectedItems() and 0 <= at < len(before.rows) else None
        self.page = page
        self._fill(self.agent, [(a, agent_text(a)) for a in page.agents])
        self._fill(self.reason, [(r, reason_text(r)) for r in page.reasons])
        self._fill(self.chat, page.chats)
        self.table.setRowCount(len(page.rows))
        for i, row in enumerate(page.rows):
            version = (
                "—" if row.config_version is None else f"v{row.config_version}" if row.config_version else "defaults"
            )
            chat = page.chat_names.get(row.chat_id or "", "—") if row.chat_id else "—"
            what = outcome_text(row)
            why = row.detail.get("why") if isinstance(row.detail.get("why"), str) else None
            cells = [
                cell(clock(row.started_at, now=page.now)),
                cell(agent_text(row.agent)),
                cell(version),
                cell(chat),
                cell(EVENTS.get(row.event_name or row.trigger, words(row.event_name or row.trigger))),
                cell(what, tip=f"{what}\n{why}" if why else what),
            ]
            for column, item in enumerate(cells):
                self.table.setItem(i, column, item)
        shown = len(page.rows)
        kept = next((i for i, run in enumerate(page.rows) if run.id == chosen), -1)  # a new run must not move it
        if kept >= 0:
            select_row(self.table, kept)
        else:
            self.table.clearSelection()
            self.table.setCurrentCell(-1, -1)
        self._show_detail()
        if not shown:
            filtered = self.current_filter() != LogFilter()
            title, body = NO_MATCH if filtered else NO_RUNS
            self.empty.title.setText(title)
            self.empty.body.setText(body)
            self.empty.set_action("Clear the filters" if filtered else None)
        self.stack.setCurrentWidget(self.table if shown else self.empty)
        self.count.setText(f"{shown} run{'s' if shown != 1 else ''}" + (" (the latest)" if shown >= LOG_LIMIT else ""))
        self.loaded.emit()


# ---- try on a chat ---------------------------------------------------------------------------------------------------
def chat_choices(store: Store) -> list[tuple[str, str]]:
    return [(r.chat_id, r.display_name) for r in store.inbox(limit=100)]


def event_for(store: Store, chat_id: str) -> MessageReceived | None:
    """The chat's latest customer message as the event an agent answers (None: the customer never wrote)."""
    chat = store.chats.get(chat_id)
    latest = next((m for m in reversed(store.messages.for_chat(chat_id, limit=50)) if m.direction == "in"), None)
    if latest is None:
        return None
    return MessageReceived(org_id=store.org_id, chat_id=chat_id, message_id=latest.id, contact_id=chat.contact_id)


class TryOnChat(QtWidgets.QWidget):
    """Pick an agent and a chat, run the agent's dry run, show what it would do. Nothing is sent."""

    tried = Signal(object)  # the dry run's AgentExecution, or None

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: AgentExecution | None = None
        self.agent = QtWidgets.QComboBox()
        self.chat = QtWidgets.QComboBox()
        self.chat.setEditable(True)
        self.chat.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.chat.setMinimumContentsLength(24)
        completer = self.chat.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
        self.try_button = kit.primary_button("Try on this chat")
        self.try_button.clicked.connect(self.try_now)
        line = self.chat.lineEdit()
        if line is not None:  # Enter in the chat's field tries, as the button beside it (a completer's Enter picks)
            line.returnPressed.connect(self.try_now)
        intro = kit.note(
            "Runs the agent on the chat's latest customer message with the settings in force, and shows what it "
            "would do. Nothing is sent; the run is kept in the log marked as a dry run.",
            "hint",
        )
        pick = QtWidgets.QHBoxLayout()
        pick.addWidget(QtWidgets.QLabel("Agent"))
        pick.addWidget(self.agent)
        pick.addSpacing(8)
        pick.addWidget(QtWidgets.QLabel("Chat"))
        pick.addWidget(self.chat, 1)
        pick.addWidget(self.try_button)
        self.verdict = QtWidgets.QLabel()
        self.verdict.setObjectName("cardTitle")
        self.verdict.setWordWrap(True)
        self.why = kit.note()
        self.messages = QtWidgets.QPlainTextEdit(readOnly=True)
        self.messages.setObjectName("dryRunMessages")
        self.messages.setPlaceholderText("The messages it would send appear here.")
        self.messages.setMaximumHeight(160)
        self.facts = kit.note()
        card = QtWidgets.QFrame()
        card.setObjectName("card")
        inside = QtWidgets.QVBoxLayout(card)
        inside.setContentsMargins(14, 10, 14, 12)
        inside.addWidget(self.verdict)
        inside.addWidget(self.why)
        inside.addWidget(self.messages)
        inside.addWidget(self.facts)
        self.card = card
        card.hide()
        self.error = kit.note(kind="error")
        self.error.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(pick)
        layout.addWidget(self.error)
        layout.addWidget(card)
        layout.addStretch(1)

    def refresh(self) -> None:
        self.agent.clear()
        orchestrator = self.ctx.agents
        names = [] if orchestrator is None else [a.name for a in orchestrator.agents if MessageReceived.name in a.wants]
        for name in names:
            self.agent.addItem(agent_text(name), name)
        self.try_button.setEnabled(bool(names))
        if not names:
            self._error("The agents are not running in this window yet, so there is nothing to try.")
        store = self.ctx.store
        self.ctx.tasks.start("Reading the chats", lambda: chat_choices(store), self._chats, owner=self, quiet=True)

    def _chats(self, choices: list[tuple[str, str]]) -> None:
        chosen = self.chat.currentData()
        self.chat.clear()
        for chat_id, name in choices:
            self.chat.addItem(name, chat_id)
        if chosen is not None and self.chat.findData(chosen) >= 0:
            self.chat.setCurrentIndex(self.chat.findData(chosen))

    def choose(self, agent: str, chat_id: str) -> None:
        self.agent.setCurrentIndex(self.agent.findData(agent))
        index = self.chat.findData(chat_id)
        if index < 0:
            self.chat.addItem(chat_name(self.ctx.store, chat_id), chat_id)
            index = self.chat.count() - 1
        self.chat.setCurrentIndex(index)

    def _error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.card.hide()

    def chosen_chat(self) -> str | None:
        """The chat the field names: its text is a chat's name, or part of exactly one. The combo's current item
        alone is not enough: typing "Ana Rib" without picking left the previous chat current, and the dry run
        would have run on a chat the field did not show."""
        text = " ".join(self.chat.currentText().split()).casefold()
        names = [" ".join(self.chat.itemText(i).split()).casefold() for i in range(self.chat.count())]
        current = self.chat.currentIndex()
        if 0 <= current < len(names) and names[current] == text:  # picked (two customers may share a name)
            chat_id = self.chat.itemData(current)
            return str(chat_id) if chat_id is not None else None
        exact = [i for i, name in enumerate(names) if name == text]
        found = exact or [i for i, name in enumerate(names) if text and text in name]
        if len(found) == 1 or (found and exact):
            chat_id = self.chat.itemData(found[0])
            return str(chat_id) if chat_id is not None else None
        return None

    def try_now(self) -> None:
        orchestrator, agent, chat_id = self.ctx.agents, self.agent.currentData(), self.chosen_chat()
        if orchestrator is None or agent is None:
            self._error("Pick an agent and a chat first.")
            return
        if chat_id is None:
            typed = self.chat.currentText().strip()
            self._error(f"No single chat is called “{typed}”: pick one from the list." if typed else "Pick a chat.")
            return
        if not self.try_button.isEnabled():  # a dry run is on (Enter pressed again)
            return
        self.chat.setCurrentIndex(self.chat.findData(chat_id))
        self.error.hide()
        self.try_button.setEnabled(False)
        self.try_button.setText("Trying…")
        store = self.ctx.store

        def got_event(event: MessageReceived | None) -> None:
            if event is None:
                self._finish()
                self._error("The customer has not written in this chat yet: there is no message to answer.")
                return
            self.ctx.tasks.submit(
                "Trying the agent", lambda: orchestrator.try_on(agent, event), self._show, self._failed, owner=self
            )

        self.ctx.tasks.start("Trying the agent", lambda: event_for(store, chat_id), got_event, self._failed, owner=self)

    def _finish(self) -> None:
        self.try_button.setEnabled(True)
        self.try_button.setText("Try on this chat")

    def _failed(self, message: str) -> None:
        self._finish()
        self._error(message)

    def _show(self, row: AgentExecution | None) -> None:
        self._finish()
        self.result = row
        if row is None:
            self._error("The dry run did not finish; try again.")
            self.tried.emit(None)
            return
        if row.status == "failed":
            verdict = f"It would fail: {row.error or 'an unexpected error'}"
        elif row.skip_reason:
            verdict = f"It would do nothing: {reason_text(row.skip_reason)}."
        elif row.action == "drafted":  # a dry run keeps as a draft what it would send (or draft)
            verdict = "It would answer with the messages below."
        else:
            action = row.action or "act"
            verdict = f"It would {WOULD.get(action, words(action).lower())}."
        self.verdict.setText(verdict)
        why = row.detail.get("why")
        why = why.strip() if isinstance(why, str) else ""
        if why.rstrip(".").casefold() in verdict.rstrip(".").casefold():  # said once: the verdict already says it
            why = ""
        self.why.setText(why)
        self.why.setVisible(bool(why))
        draft = row.detail.get("draft")
        texts = [t for t in draft if isinstance(t, str)] if isinstance(draft, list) else []
        self.messages.setPlainText("\n\n".join(texts))
        self.messages.setVisible(bool(texts))
        facts = ["Nothing was sent."]
        version = row.config_version
        if version is None and isinstance(row.detail.get("acquisition_config_version"), int):
            version = int(row.detail["acquisition_config_version"])  # greetings run on the acquisition config
        if version is not None:
            facts.append(f"Settings version {version}." if version else "Default settings.")
        if row.model:
            facts.append(f"Model {row.model}, {row.tokens or 0} tokens.")
        if isinstance(row.detail.get("confidence"), int | float):
            facts.append(f"Confidence {float(row.detail['confidence']):.0%}.")
        self.facts.setText(" ".join(facts))
        self.card.show()
        self.tried.emit(row)


# ---- jobs -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobsPage:
    jobs: list[Job]
    counts: dict[Status, int]
    now: datetime = field(default_factory=lambda: datetime.now().astimezone())
    subjects: dict[str, str] = field(default_factory=dict)  # job id → whom or what it is for
    runs_on: str = ""  # where a waiting shared job runs, in a team (``where_it_runs``)


def where_it_runs(store: Store) -> str:
    """Where this workspace's waiting jobs that send on WhatsApp (``shared``: a follow-up) will run, in words.

    In a team such a job syncs and only the computer holding the number's WhatsApp session runs it
    (``sending_device.runs_sending_jobs``), so a teammate who recorded the sale saw it "Waiting" here for ever with no
    hint that another computer sends it, nor which (seen with two apps on one server). Empty outside a team: there
    is one computer."""
    if store.meta(sending_device.SYNC_DEVICE_ID) is None:
        return ""
    if sending_device.runs_sending_jobs(store):
        return "Runs on this computer (WhatsApp is linked here)"
    claim = sending_device.held_elsewhere(store)
    if claim is not None:
        return f"Runs on {claim.device_name}, which holds WhatsApp"
    return "Waits for a computer of the team to link WhatsApp"


def job_subject(store: Store, job: Job) -> str:
    """Whom or what a job is for, in words: a follow-up's customer, the day a revenue check judges. Without it the
    list read "Follow-up after a sale" three times and "Cancel job" was a guess (seen in the app)."""
    payload = job.payload
    if job.kind == "retention_followup" and isinstance(payload.get("sale_id"), str):
        sale = store.sales.find(payload["sale_id"])
        contact = store.contacts.find(sale.contact_id) if sale is not None and sale.contact_id else None
        if contact is not None:
            return display_name(contact.name, phone(contact.phone) if contact.phone else None)
    if job.kind == "finance_check" and isinstance(payload.get("day"), str):
        try:
            day = date.fromisoformat(payload["day"])
        except ValueError:
            return ""
        return f"{day:%a} {day.day} {day:%b}"
    return ""


class JobsList(QtWidgets.QWidget):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page: JobsPage | None = None
        self._reads = 0
        self.view = QtWidgets.QComboBox()
        self.view.setObjectName("jobsView")
        for name in JOB_VIEWS:
            self.view.addItem(name, name)
        self.counts = kit.note()
        self.counts.setWordWrap(False)
        self.cancel = QtWidgets.QPushButton("Cancel job")
        self.cancel.setEnabled(False)
        self.cancel.setToolTip(CANCEL_TIP)
        self.cancel.clicked.connect(self._cancel)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Show"))
        top.addWidget(self.view)
        top.addSpacing(12)
        top.addWidget(self.counts)
        top.addStretch(1)
        top.addWidget(self.cancel)
        self.table = read_only_table(["Job", "When", "Status", "Tries", "Result"], 4)
        self.table.setObjectName("jobsList")
        self.table.itemSelectionChanged.connect(self._selected)
        intro = kit.note(
            "Work scheduled for later (a follow-up, the daily revenue check), kept in the workspace so it survives "
            "restarts. Jobs run on the computer that holds the WhatsApp session when they send messages.",
            "hint",
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.view.currentIndexChanged.connect(self.refresh)

    def refresh(self) -> None:
        self._reads += 1
        store, statuses = self.ctx.store, JOB_VIEWS[str(self.view.currentData())]
        seq, jobs = self._reads, store.jobs

        def read() -> JobsPage:
            found = jobs.find(statuses, limit=300)
            subjects = {job.id: job_subject(store, job) for job in found}
            return JobsPage(found, jobs.counts(), subjects=subjects, runs_on=where_it_runs(store))

        def done(page: JobsPage) -> None:
            if seq == self._reads:
                self._show(page)

        self.ctx.tasks.start("Reading the jobs", read, done, owner=self, quiet=True)

    def _show(self, page: JobsPage) -> None:
        chosen = self.selected_job()
        self.page = page
        c = page.counts
        waiting, finished, failed = c["due"] + c["running"], c["done"] + c["skipped"], c["failed"] + c["cancelled"]
        self.counts.setText(f"{waiting} waiting · {finished} done · {failed} failed or cancelled")
        self.table.setRowCount(len(page.jobs))
        for i, job in enumerate(page.jobs):
            when = (
                job.finished_at if job.finished_at is not None and job.status not in ("due", "running") else job.run_at
            )
            result = job.last_error if job.status == "failed" else job.result
            if job.status == "skipped" and job.result:
                result = reason_text(job.result)
            elif job.status == "cancelled":  # the store's own code, not a sentence
                result = CANCELLED
            elif job.shared and job.status in ("due", "running") and not result:
                result = page.runs_on
            subject = page.subjects.get(job.id, "")
            item = cell(f"{job_kind_text(job.kind)} · {subject}" if subject else job_kind_text(job.kind))
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            self.table.setItem(i, 0, item)
            self.table.setItem(i, 1, cell(clock(when, now=page.now)))
            self.table.setItem(i, 2, cell(JOB_STATUS[job.status]))
            self.table.setItem(i, 3, cell(f"{job.attempts} of {job.max_attempts}", right=True))
            self.table.setItem(i, 4, cell(result or "", tip=result or None))
        self._keep_selection(chosen.id if chosen is not None else None)
        self._selected()
        self.loaded.emit()

    def _keep_selection(self, job_id: str | None) -> None:
        """The job chosen before a reload stays chosen; when it left this view (cancelled, done) nothing is: the
        row that took its place is another job, and "Cancel job" must not point at it."""
        assert self.page is not None
        row = next((i for i, job in enumerate(self.page.jobs) if job.id == job_id), -1)
        if row >= 0:
            select_row(self.table, row)
        else:
            self.table.clearSelection()
            self.table.setCurrentCell(-1, -1)

    def selected_job(self) -> Job | None:
        row = self.table.currentRow()
        if self.page is None or not 0 <= row < len(self.page.jobs) or not self.table.selectedItems():
            return None
        return self.page.jobs[row]

    def _selected(self) -> None:
        job = self.selected_job()
        self.cancel.setEnabled(job is not None and job.status in ("due", "running"))
        team = job is not None and job.shared and bool(self.page and self.page.runs_on)
        self.cancel.setToolTip(CANCEL_TEAM_TIP if team else CANCEL_TIP)

    def _cancel(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        jobs = self.ctx.store.jobs
        self.cancel.setEnabled(False)
        self.ctx.tasks.start("Cancelling the job", lambda: jobs.cancel(job.id), lambda _ok: self.refresh(), owner=self)


def select_row(table: QtWidgets.QTableWidget, row: int) -> None:
    """Select ``row`` of ``table`` (tests, keyboard users)."""
    table.setCurrentCell(row, 0)
    table.selectRow(row)


__all__ = [
    "ExecutionLog",
    "JobsList",
    "LogFilter",
    "TryOnChat",
    "outcome_text",
    "reason_text",
    "select_row",
    "where_it_runs",
]
