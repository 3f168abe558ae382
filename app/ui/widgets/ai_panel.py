"""The AI panel beside the composer: suggest, regenerate, accept, rewrite, summarize.

What Accept does depends on who the text is for. A reply draft goes to the composer, to be edited and sent. A summary
(or a rewrite of one) is for the staff: Accept reads "Add as note" and adds it to the chat as an internal note
(``app.store.ops.notes.add_note`` on the task runner); it never reaches the composer, so it cannot be sent.

Under a draft, the panel lists the knowledge passages its prompt carried (from that call's ``ContextRecord``), in the
prompt's numbering, which is the ranking "Test a question" shows for the same question (one search,
``assist.search``); the passages the draft marks with ``[n]`` are flagged as cited.

Where the calls run: on the app's service loop, through the ``TaskRunner`` (``stream``): the first AI call may import
litellm (seconds) and a provider may do blocking work; off the UI thread neither can freeze the window. Each streamed
piece crosses back to the main thread through the runner's one delivery path (house rule 3), so widgets are only
touched there. Each run has a job; starting another run, switching chats or collapsing the panel cancels the running
job, and the events of a cancelled job are dropped.

The panel gets what it needs as attributes that bootstrap wires (``provider_factory``, ``retrieve``, ``redact``):
without a provider factory, or when it raises ``AIError`` (AI is off, no key), the panel says so in a sentence. Errors
are always a sentence in the panel, never a dialog.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from app.ai.grounding import Retrieve, no_retrieval
from app.ai.guardrails import should_redact
from app.ai.interactions import CallMode, InteractionLog
from app.ai.knowledge import assist
from app.ai.knowledge.embedding import VectorIndex
from app.ai.suggest import REWRITE_LABELS, RewriteAction, Suggester, SuggestEvent, Suggestion
from app.ai.types import AIError, Provider
from app.core.errors import describe
from app.core.models import AiOutcome, Note
from app.qt import Qt, QtWidgets, Signal
from app.store.ops.notes import add_note
from app.store.store import Store
from app.ui.tasks import Job, TaskRunner, logged_only
from app.ui.widgets.agent_drafts import AgentDrafts

if TYPE_CHECKING:
    from app.ai.service import AiService

log = logging.getLogger(__name__)

ProviderFactory = Callable[[], Provider]
NO_PROVIDER = "AI replies are off. Choose a provider and add its key in Settings › AI."
ACCEPT = "Accept"
ACCEPT_TIP = "Put this text in the composer to edit and send"
ADD_NOTE = "Add as note"
ADD_NOTE_TIP = "Add this summary to the chat as an internal note: the team sees it, the customer never does"
NOTE_ADDED = "Added to the chat's notes: only your team sees it."
CITED = "cited"


class AIPanel(QtWidgets.QFrame):
    """Suggestions for the open chat; ``accepted`` carries the text for the composer, ``noted`` the note a summary
    was added as."""

    accepted = Signal(str)
    noted = Signal(object)  # the Note a summary was added as
    preview_changed = Signal(str)  # each streamed update of the draft shown
    finished = Signal(object)  # the final Suggestion of a run
    failed = Signal(str)

    def __init__(self, store: Store, tasks: TaskRunner | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aiPanel")
        self.store = store
        self._tasks = tasks  # the app's runner; a panel built without one makes its own at the first call
        self.provider_factory: ProviderFactory | None = None
        self.retrieve: Retrieve = no_retrieval
        self.redact: Callable[[], bool] = lambda: False
        self.composer_text: Callable[[], str] = lambda: ""  # the draft in the composer (rewrite falls back to it)
        self.interaction_log: InteractionLog | None = None  # with it, each call is logged with its outcome
        self.mode: Callable[[], CallMode] = lambda: "byok"
        self._own_tasks = False
        self._accepted: tuple[str, str] | None = None  # (interaction id, text) of the draft put in the composer
        self._noted: str | None = None  # interaction id of the summary added as a note
        self._noting: Suggestion | None = None  # the summary being (or already) added as a note
        self.chat_id: str | None = None
        self.suggestion: Suggestion | None = None
        self._job: Job | None = None
        self._text = ""

        self.toggle = QtWidgets.QToolButton()
        self.toggle.setText("AI replies")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setToolTip("Show or hide the AI panel")
        self.suggest_button = QtWidgets.QPushButton("Suggest")
        self.suggest_button.setObjectName("primary")
        self.suggest_button.setToolTip("Draft a reply from your products, the contact and the knowledge base")
        self.regenerate_button = QtWidgets.QPushButton("Regenerate")
        self.summarize_button = QtWidgets.QPushButton("Summarize")
        self.summarize_button.setToolTip("Summarize this conversation for the team (it is added as an internal note)")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)  # a long sentence wraps rather than widening the panel
        self.preview = QtWidgets.QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setPlaceholderText("Suggested replies appear here. Accept one to edit it in the composer.")
        self.preview.setMinimumHeight(90)
        self.citations = QtWidgets.QLabel()
        self.citations.setObjectName("muted")
        self.citations.setWordWrap(True)
        self.citations.setToolTip(
            "The knowledge passages this draft's prompt was given, best match first (as Test a question ranks them)"
        )
        self.warnings = QtWidgets.QLabel()
        self.warnings.setObjectName("warning")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b9770e; font-weight: 600;")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.accept_button = QtWidgets.QPushButton(ACCEPT)
        self.accept_button.setToolTip(ACCEPT_TIP)
        self.rewrite_buttons: dict[RewriteAction, QtWidgets.QPushButton] = {}
        rewrites = QtWidgets.QGridLayout()
        rewrites.setSpacing(4)
        for i, (action, label) in enumerate(REWRITE_LABELS.items()):
            button = QtWidgets.QPushButton(label)
            button.setToolTip(f"{label}: rewrite the draft")
            button.clicked.connect(lambda _=False, a=action: self.rewrite(a))
            self.rewrite_buttons[action] = button
            rewrites.addWidget(button, i // 3, i % 3)

        # On top: what an agent left for a person in this chat (its draft, an agreed sale to confirm).
        self.agent_drafts = AgentDrafts(store, self.tasks)
        self.agent_drafts.used.connect(self.accepted.emit)
        self.agent_drafts.shown.connect(self._agent_drafts_shown)

        actions = QtWidgets.QHBoxLayout()
        actions.addWidget(self.suggest_button)
        actions.addWidget(self.regenerate_button)
        actions.addWidget(self.stop_button)
        self.body = QtWidgets.QWidget()
        bv = QtWidgets.QVBoxLayout(self.body)
        bv.setContentsMargins(0, 0, 0, 0)
        bv.addWidget(self.agent_drafts)
        bv.addLayout(actions)
        bv.addWidget(self.status)
        bv.addWidget(self.preview, 1)
        bv.addWidget(self.warnings)
        bv.addWidget(self.citations)
        bv.addWidget(self.error)
        bv.addWidget(self.accept_button)
        bv.addLayout(rewrites)
        bv.addWidget(self.summarize_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body, 1)

        self.toggle.toggled.connect(self.set_expanded)
        self.suggest_button.clicked.connect(self.suggest)
        self.regenerate_button.clicked.connect(self.regenerate)
        self.summarize_button.clicked.connect(self.summarize)
        self.stop_button.clicked.connect(self.stop)
        self.accept_button.clicked.connect(self.accept)
        self._clear()
        self._update_buttons()
        self.set_expanded(False)  # collapsed until asked for: the conversation keeps its width

    # ---- state -------------------------------------------------------------------------------------------------
    @property
    def tasks(self) -> TaskRunner:
        if self._tasks is None:
            self._tasks = TaskRunner(parent=self)
            self._own_tasks = True
        return self._tasks

    @property
    def busy(self) -> bool:
        return self._job is not None

    def set_expanded(self, expanded: bool) -> None:
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)  # comes back here through ``toggled``
            return
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
        if not expanded:
            self.stop()
        self.setMaximumWidth(16777215 if expanded else self.toggle.sizeHint().width() + 16)
        self.setMinimumWidth(300 if expanded else 0)

    def set_chat(self, chat_id: str | None) -> None:
        """A new chat: stop what runs and forget the previous chat's draft."""
        if chat_id == self.chat_id:
            return
        self.stop()
        self._settle()
        self._accepted = None
        self.chat_id = chat_id
        self.agent_drafts.set_chat(chat_id)
        self._clear()
        self._update_buttons()

    def _clear(self) -> None:
        self.suggestion = None
        self._text = ""
        self.preview.clear()
        for label in (self.citations, self.warnings, self.error, self.status):
            label.clear()
            label.hide()
        self._set_accept_mode(for_staff=False)

    def _set_accept_mode(self, *, for_staff: bool) -> None:
        self.accept_button.setText(ADD_NOTE if for_staff else ACCEPT)
        self.accept_button.setToolTip(ADD_NOTE_TIP if for_staff else ACCEPT_TIP)

    def _update_buttons(self) -> None:
        has_chat = self.chat_id is not None
        has_text = bool(self._text.strip()) and self.suggestion is not None and self.suggestion.handoff is None
        has_text = has_text and self.suggestion is not self._noting
        for button in (self.suggest_button, self.summarize_button):
            button.setEnabled(has_chat and not self.busy)
        self.regenerate_button.setEnabled(has_chat and not self.busy and self.suggestion is not None)
        self.accept_button.setEnabled(has_text and not self.busy)
        for button in self.rewrite_buttons.values():
            button.setEnabled(has_chat and not self.busy)
        self.stop_button.setVisible(self.busy)

    def _agent_drafts_shown(self) -> None:
        """A collapsed panel says that an agent left something in this chat."""
        waiting = self.agent_drafts.draft is not None or self.agent_drafts.sale is not None
        self.toggle.setText("AI replies · from an agent" if waiting else "AI replies")
        if not self.toggle.isChecked():  # collapsed to the toggle's width: the longer text was cut ("AI r…gent")
            self.setMaximumWidth(self.toggle.sizeHint().width() + 16)

    def _show(self, label: QtWidgets.QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    # ---- actions -----------------------------------------------------------------------------------------------
    def _suggester(self) -> Suggester:
        if self.provider_factory is None:
            raise AIError("no_provider", NO_PROVIDER)
        return Suggester(
            self.provider_factory(),
            self.store,
            retrieve=self.retrieve,
            redact=self.redact(),
            log=self.interaction_log,
            mode=self.mode(),
        )

    def _start(self, doing: str, make: Callable[[Suggester], AsyncIterator[SuggestEvent]]) -> None:
        self.stop()
        try:
            suggester = self._suggester()
        except Exception as exc:  # noqa: BLE001 — a broken configuration must still end as a sentence in the panel
            self._fail(describe(exc, doing="building the AI provider", logger=log))
            return
        self._settle()
        self._clear()
        self._show(self.status, doing)
        self._job = self.tasks.stream(doing, lambda: make(suggester), self._item, self._fail, self._done, owner=self)
        self._update_buttons()

    def suggest(self) -> None:
        chat_id = self.chat_id
        if chat_id is not None:
            self._start("Writing a reply…", lambda s: s.suggest(chat_id))

    def regenerate(self) -> None:
        """Another of what is shown: a summary is summarized again (never turned into a reply to the customer)."""
        chat_id, previous = self.chat_id, self._text
        if chat_id is None:
            return
        if self.suggestion is not None and self.suggestion.for_staff:
            self.summarize()
            return
        self._start("Writing another reply…", lambda s: s.regenerate(chat_id, previous or None))

    def summarize(self) -> None:
        chat_id = self.chat_id
        if chat_id is not None:
            self._start("Summarizing the conversation…", lambda s: s.summarize(chat_id))

    def rewrite(self, action: RewriteAction) -> None:
        """Rewrite the suggestion shown (keeping its passages, and a summary stays for the staff), or else the
        composer's draft."""
        shown = self.suggestion if self.suggestion is not None and self.suggestion.handoff is None else None
        source = self._text.strip() if shown is not None else ""
        citations = list(shown.citations) if shown is not None and source else []
        for_staff = shown is not None and bool(source) and shown.for_staff
        source = source or self.composer_text().strip()
        if not source:
            self._fail("Write a reply in the composer, or ask for a suggestion, then rewrite it.")
            return
        chat_id = self.chat_id
        self._start(
            f"{REWRITE_LABELS[action]}…",
            lambda s: s.rewrite(action, source, chat_id=chat_id, citations=citations, for_staff=for_staff),
        )

    def stop(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self.status.hide()
            self._update_buttons()

    def accept(self) -> None:
        """A draft goes to the composer; a summary becomes an internal note on the chat (never the composer)."""
        suggestion = self.suggestion
        if suggestion is None or suggestion.handoff is not None or not self._text.strip():
            return
        if suggestion.for_staff:
            self._add_note(suggestion)
            return
        if suggestion.interaction_id is not None:
            self._accepted = (suggestion.interaction_id, suggestion.clean_text)
            self._outcome(suggestion.interaction_id, "accepted")
        self.accepted.emit(suggestion.clean_text)

    def _add_note(self, suggestion: Suggestion) -> None:
        chat_id, store, text = self.chat_id, self.store, suggestion.clean_text
        if chat_id is None:
            return
        self._noting = suggestion  # once: a second click must not add the note twice
        self._update_buttons()

        def added(note: Note) -> None:
            if suggestion.interaction_id is not None:
                self._noted = suggestion.interaction_id  # kept as a note: not "discarded" when replaced
                self._outcome(suggestion.interaction_id, "accepted")
            self._show(self.status, NOTE_ADDED)
            self.noted.emit(note)

        def failed(message: str) -> None:
            self._noting = None
            self._show(self.error, message)
            self._update_buttons()

        self.tasks.start(
            "Adding the summary as a note", lambda: add_note(store, chat_id, text).value, added, failed, owner=self
        )

    def sent(self, text: str) -> None:
        """The composer sent ``text``: an accepted draft that was changed first counts as edited."""
        if self._accepted is not None:
            interaction_id, accepted = self._accepted
            self._accepted = None
            if text.strip() != accepted.strip():
                self._outcome(interaction_id, "edited")

    # ---- the AI log's outcome ------------------------------------------------------------------------------------
    def _outcome(self, interaction_id: str, outcome: AiOutcome) -> None:
        log_ = self.interaction_log
        if log_ is not None:
            self.tasks.start(  # a small write; a failure is logged, never shown
                "Recording the AI outcome",
                lambda: log_.set_outcome(interaction_id, outcome),
                on_error=logged_only,
                quiet=True,
            )

    def _settle(self) -> None:
        """The suggestion shown is being replaced: unless it was accepted (or handed off), it was discarded."""
        suggestion, self.suggestion = self.suggestion, None
        if suggestion is None or suggestion.interaction_id is None or suggestion.handoff is not None:
            return
        if suggestion.interaction_id == self._noted:
            return
        if self._accepted is None or self._accepted[0] != suggestion.interaction_id:
            self._outcome(suggestion.interaction_id, "discarded")

    # ---- results -----------------------------------------------------------------------------------------------
    def _item(self, item: SuggestEvent) -> None:
        if isinstance(item, Suggestion):
            self._finish(item)
            return
        self._text += item
        self.preview.setPlainText(self._text)
        self.preview.verticalScrollBar().setValue(self.preview.verticalScrollBar().maximum())
        self.preview_changed.emit(self._text)

    def _finish(self, suggestion: Suggestion) -> None:
        self.suggestion = suggestion
        if suggestion.handoff is not None:
            if suggestion.interaction_id is not None:
                self._outcome(suggestion.interaction_id, "handoff")
            self._text = ""
            self.preview.clear()
            reason = f": {suggestion.handoff}" if suggestion.handoff else "."
            self._show(self.warnings, f"Hand to a human — the AI is not sure or lacks the facts{reason}")
        else:
            self._text = suggestion.text
            self.preview.setPlainText(suggestion.text)
            self._set_accept_mode(for_staff=suggestion.for_staff)
            self._show(self.warnings, "\n".join(f"⚠ {v.message}" for v in suggestion.price_violations))
            self._show(self.citations, citations_text(suggestion))
        self.finished.emit(suggestion)

    def _done(self) -> None:
        self._job = None
        self.status.hide()
        self._update_buttons()

    def _fail(self, message: str) -> None:
        self._job = None
        self.status.hide()
        self._show(self.error, message)
        self._update_buttons()
        self.failed.emit(message)

    def shutdown(self) -> None:
        """Stop what runs; a runner of the panel's own is shut down (the app's is closed by the app)."""
        self.stop()
        if self._tasks is not None and self._own_tasks:
            self._tasks.shutdown()


def citations_text(suggestion: Suggestion) -> str:
    """One line per passage the prompt carried, in its numbering; those the draft marks are flagged as cited."""
    used = {c.number for c in suggestion.cited}
    return "\n".join(
        f"[{c.number}] {c.label}" + (f" · {CITED}" if c.number in used else "") for c in suggestion.citations
    )


def attach_ai_service(panel: AIPanel, ai: AiService) -> None:
    """Give the panel the workspace's AI service: its provider for the current mode (read at each call), the
    knowledge base (hybrid when a key can embed, else BM25), cloud redaction as set, and the AI log."""
    index = VectorIndex()
    store = ai.store

    def mode() -> CallMode:
        return "cloud" if ai.config().mode == "cloud" else "byok"

    def redact() -> bool:
        config = ai.config()
        return should_redact(config.mode, config.redact_cloud)

    panel.provider_factory = ai.provider
    panel.retrieve = assist.retriever(ai, store, index)  # the same search as "Test a question"
    panel.redact = redact
    panel.mode = mode
    panel.interaction_log = ai.log
