"""What the agents left for a person in the open chat, on top of the AI panel: a draft and an agreed sale.

**A draft.** An agent in *AI drafts* (suggest) keeps its words as its run's draft: the execution's ``detail["draft"]``
(``app.agents.context.AgentContext.draft``). ``agent_executions`` is a synced table, so a teammate's device shows the
drafts of the device that holds the WhatsApp session. The newest draft of the chat is shown while nothing was written
in the chat since the run started (a newer message, the customer's or anyone's reply, answers or outdates it); dry
runs ("Try on this chat") are never shown. "Use" puts it in the composer; "Send" queues it as a person's reply through
the composer's op (``app.store.ops.messages.queue_message``: a person sending an agent's words is a person's message,
``sent_by_agent`` None); "Dismiss" hides that draft on this computer only, for this session (an in-memory set of
execution ids: a teammate may still want it).

**An agreed sale.** The acquisition agent records what the customer agreed to in its execution's ``detail["sale"]``
(product, product id, quantity, amount, currency: enough to rebuild the ``SaleAgreed``). Unless the run recorded the
sale itself (``recorded_sale``: autopilot with an exact match) or a person already answered, the panel offers
"Confirm sale" (``app.agents.acquisition.confirm_sale`` off the UI thread: ``SaleCompleted``, the sale appears in
Products & Sales) and "Not a sale". The answer is written back to the execution's detail (``recorded_sale`` or
``sale_declined``), so it is durable and reaches teammates through sync: nobody confirms the same sale twice.

All reads run on a worker of the task runner and follow table changes (``agent_executions``, ``messages``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from app.agents.acquisition import AGENT as ACQUISITION
from app.core.events import SaleAgreed
from app.core.models import AgentExecution, Sale
from app.core.money import money
from app.qt import QtCore, QtWidgets, Signal
from app.store.ops.agreed_sales import confirm_agreed_sale, decline_agreed_sale
from app.store.ops.messages import queue_message
from app.store.store import Store
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

SCAN = 30  # the chat's latest runs looked at
REFRESH_MS = 100


@dataclass(frozen=True)
class AgentDraft:
    execution_id: str
    agent: str
    bodies: tuple[str, ...]
    at: datetime

    @property
    def text(self) -> str:
        return "\n\n".join(self.bodies)


@dataclass(frozen=True)
class PendingSale:
    execution_id: str
    event: SaleAgreed
    quantity: int


@dataclass(frozen=True)
class Pending:
    draft: AgentDraft | None = None
    sale: PendingSale | None = None


def _latest_message_at(store: Store, chat_id: str) -> datetime | None:
    rows = store.messages.find_all({"chat_id": chat_id}, order_by="created_at", descending=True, limit=1)
    return rows[0].created_at if rows else None


def _sale_of(run: AgentExecution) -> PendingSale | None:
    sale = run.detail.get("sale")
    if not isinstance(sale, dict) or run.agent != ACQUISITION or run.chat_id is None:
        return None
    if run.detail.get("recorded_sale") or run.detail.get("sale_declined"):
        return None
    try:
        event = SaleAgreed(
            org_id=run.org_id,
            chat_id=run.chat_id,
            message_id=sale.get("message_id"),
            contact_id=sale.get("contact_id"),
            product=str(sale["product"]),
            product_id=sale.get("product_id"),
            amount_minor=int(sale["amount_minor"]),
            currency=str(sale["currency"]),
            causation_id=run.id,
        )
        quantity = max(1, int(sale.get("quantity") or 1))
    except (KeyError, TypeError, ValueError):
        return None  # a run from before the detail carried the whole sale
    return PendingSale(run.id, event, quantity)


def pending(store: Store, chat_id: str, dismissed: frozenset[str] = frozenset()) -> Pending:
    """The chat's newest agent draft not answered since (nor dismissed here), and its newest unanswered agreed sale
    (blocking: reads the store)."""
    runs = store.agent_executions.find_all(
        {"chat_id": chat_id, "dry_run": False}, order_by="started_at", descending=True, limit=SCAN
    )
    latest = _latest_message_at(store, chat_id)
    draft: AgentDraft | None = None
    for run in runs:
        bodies = run.detail.get("draft")
        if not isinstance(bodies, list) or not bodies:
            continue
        if latest is None or run.started_at > latest:
            texts = tuple(str(b) for b in bodies if str(b).strip())
            if texts and run.id not in dismissed:
                draft = AgentDraft(run.id, run.agent, texts, run.finished_at or run.started_at)
        break  # only the newest draft counts: an older one was answered or replaced
    sale = next((s for s in map(_sale_of, runs) if s is not None), None)
    return Pending(draft, sale)


def send_draft(store: Store, chat_id: str, bodies: tuple[str, ...]) -> int:
    """Queue the draft's messages as a person's reply (the composer's op)."""
    for body in bodies:
        queue_message(store, chat_id, body)
    return len(bodies)


def confirm(store: Store, sale: PendingSale) -> Sale:
    """Record the agreed sale (``SaleCompleted``) and note it on the run, in one transaction (the op)."""
    return confirm_agreed_sale(store, sale.execution_id, sale.event, quantity=sale.quantity)


def decline(store: Store, execution_id: str) -> None:
    decline_agreed_sale(store, execution_id)


def sale_text(sale: PendingSale) -> str:
    return f"Agreed sale: {sale.quantity} × {sale.event.product}, {money(sale.event.amount_minor, sale.event.currency)}"


class AgentDrafts(QtWidgets.QFrame):
    """The open chat's agent draft and agreed sale; ``used`` carries a draft's text for the composer."""

    used = Signal(str)
    queued = Signal(int)  # how many messages a Send queued
    confirmed = Signal(object)  # the Sale recorded
    shown = Signal()  # after each read is shown (tests wait on it)

    def __init__(self, store: Store, tasks: TaskRunner, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agentDrafts")
        self.store = store
        self.tasks = tasks
        self.chat_id: str | None = None
        self._chat_touched = False
        self.dismissed: set[str] = set()  # execution ids hidden on this computer (this session)
        self.draft: AgentDraft | None = None
        self.sale: PendingSale | None = None

        self.draft_title = QtWidgets.QLabel()
        self.draft_title.setObjectName("muted")
        self.draft_text = QtWidgets.QLabel()
        self.draft_text.setWordWrap(True)
        self.draft_text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QtWidgets.QPushButton("Use")
        self.use_button.setToolTip("Put the agent's draft in the composer to edit and send")
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Send the agent's draft as your reply")
        self.dismiss_button = QtWidgets.QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Hide this draft on this computer")
        self.draft_box = QtWidgets.QFrame()
        dv = QtWidgets.QVBoxLayout(self.draft_box)
        dv.setContentsMargins(0, 0, 0, 0)
        dv.addWidget(self.draft_title)
        dv.addWidget(self.draft_text)
        row = QtWidgets.QHBoxLayout()
        for button in (self.use_button, self.send_button, self.dismiss_button):
            row.addWidget(button)
        dv.addLayout(row)

        self.sale_label = QtWidgets.QLabel()
        self.sale_label.setWordWrap(True)
        self.confirm_button = QtWidgets.QPushButton("Confirm sale")
        self.confirm_button.setObjectName("primary")
        self.confirm_button.setToolTip("Record this sale (it appears in Products & Sales)")
        self.decline_button = QtWidgets.QPushButton("Not a sale")
        self.sale_error = QtWidgets.QLabel()
        self.sale_error.setWordWrap(True)
        self.sale_error.setStyleSheet("color: #c0392b;")
        self.sale_box = QtWidgets.QFrame()
        sv = QtWidgets.QVBoxLayout(self.sale_box)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(self.sale_label)
        srow = QtWidgets.QHBoxLayout()
        srow.addWidget(self.confirm_button)
        srow.addWidget(self.decline_button)
        sv.addLayout(srow)
        sv.addWidget(self.sale_error)

        # What the click did, once the sale is no longer offered (the box vanished without a word, seen in the app).
        self.sale_done = QtWidgets.QLabel()
        self.sale_done.setObjectName("muted")
        self.sale_done.setWordWrap(True)
        self.sale_done.hide()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addWidget(self.sale_box)
        layout.addWidget(self.sale_done)
        layout.addWidget(self.draft_box)

        self.use_button.clicked.connect(self.use)
        self.send_button.clicked.connect(self.send)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.confirm_button.clicked.connect(self.confirm)
        self.decline_button.clicked.connect(self.decline)
        self._timer = QtCore.QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._show(Pending())

    # ---- reading -----------------------------------------------------------------------------------------------
    def set_chat(self, chat_id: str | None) -> None:
        if chat_id == self.chat_id:
            return
        self.chat_id = chat_id
        self.sale_done.clear()
        self.sale_done.hide()
        self._show(Pending())
        self.refresh()

    def chats_changed(self, chat_ids: frozenset[str] | None) -> None:
        """Which chats' rows the coming ``tables_changed`` wrote (``Changes.chats_changed`` comes first)."""
        if self.chat_id is not None and (chat_ids is None or self.chat_id in chat_ids):
            self._chat_touched = True

    def tables_changed(self, tables: frozenset[str]) -> None:
        """A run written (here or through sync), or a message in the open chat (other chats' cost nothing)."""
        touched, self._chat_touched = self._chat_touched, False
        wanted = "agent_executions" in tables or ("messages" in tables and touched)
        if self.chat_id is not None and wanted and not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        chat_id, store, dismissed = self.chat_id, self.store, frozenset(self.dismissed)
        if chat_id is None:
            self._show(Pending())
            return

        def shown(found: Pending) -> None:
            if chat_id == self.chat_id:
                self._show(found)

        self.tasks.start(
            "Reading the agents' drafts",
            lambda: pending(store, chat_id, dismissed),
            shown,
            self._read_failed,
            owner=self,
            quiet=True,
        )

    def _read_failed(self, message: str) -> None:
        log.debug("agent drafts not read: %s", message)

    def _show(self, found: Pending) -> None:
        draft = found.draft if found.draft is None or found.draft.execution_id not in self.dismissed else None
        self.draft, self.sale = draft, found.sale
        if draft is not None:
            name = draft.agent.replace("_", " ")
            self.draft_title.setText(f"Drafted by the {name} agent · {draft.at.astimezone():%H:%M}")
            self.draft_text.setText(draft.text)
        self.draft_box.setVisible(draft is not None)
        if found.sale is not None:
            self.sale_label.setText(sale_text(found.sale))
        self.sale_error.hide()
        self.sale_box.setVisible(found.sale is not None)
        for button in (self.confirm_button, self.decline_button):
            button.setEnabled(True)
        if found.sale is not None:  # another sale to answer: the last answer's line gives way
            self.sale_done.hide()
        self.setVisible(draft is not None or found.sale is not None or not self.sale_done.isHidden())
        self.shown.emit()

    # ---- actions -----------------------------------------------------------------------------------------------
    def use(self) -> None:
        if self.draft is not None:
            self.used.emit(self.draft.text)

    def send(self) -> None:
        draft, chat_id, store = self.draft, self.chat_id, self.store
        if draft is None or chat_id is None:
            return
        self.dismissed.add(draft.execution_id)  # once: a second click must not send it twice
        self._show(Pending(None, self.sale))

        def sent(count: int) -> None:
            self.queued.emit(count)

        def failed(message: str) -> None:
            self.dismissed.discard(draft.execution_id)
            self.refresh()
            self.tasks.failed.emit("Sending the agent's draft", message)

        self.tasks.start(
            "Queuing the message", lambda: send_draft(store, chat_id, draft.bodies), sent, failed, owner=self
        )

    def dismiss(self) -> None:
        if self.draft is not None:
            self.dismissed.add(self.draft.execution_id)
            self._show(Pending(None, self.sale))

    def confirm(self) -> None:
        sale, store = self.sale, self.store
        if sale is None:
            return
        for button in (self.confirm_button, self.decline_button):
            button.setEnabled(False)

        def done(recorded: Sale) -> None:
            self._said(f"Sale recorded: {sale_text(sale).removeprefix('Agreed sale: ')} — in Products & Sales.")
            self.confirmed.emit(recorded)
            self.refresh()

        def failed(message: str) -> None:
            self.sale_error.setText(message)
            self.sale_error.show()
            for button in (self.confirm_button, self.decline_button):
                button.setEnabled(True)

        self.tasks.start("Recording the sale", lambda: confirm(store, sale), done, failed, owner=self)

    def _said(self, text: str) -> None:
        self.sale_done.setText(text)
        self.sale_done.show()

    def decline(self) -> None:
        sale, store = self.sale, self.store
        if sale is None:
            return
        self._said("Set aside: not recorded as a sale.")
        self._show(Pending(self.draft, None))
        self.tasks.start(
            "Noting it was not a sale",
            lambda: decline(store, sale.execution_id),
            lambda _: self.refresh(),
            self._read_failed,
            owner=self,
            quiet=True,
        )
