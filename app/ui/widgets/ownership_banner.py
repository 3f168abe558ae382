"""Who owns the open conversation, under the chat's title: a chip with the owner's sentence and the one action that
changes it — "Take over" while the AI holds the chat, "Hand back to AI" while a person does.

The sentence is ``app.agents.ownership.owner_sentence`` ("AI autopilot", "AI drafts", "Paused: Ana took over at
14:02 (until 02:02 tomorrow)", "A person: Ana"), read on a worker of the task runner. It is read again whenever the
chat's row or its messages change (a teammate's take-over through sync, a reply typed on the phone that pauses the
AI), when the agents' settings change (the AI switched off makes every chat a person's), and when a pause runs out.
The two actions are the operations of ``app.store.ops.ownership``, run off the UI thread; their write announces
itself, so the chip follows like it does for a teammate's.

While the acquisition agent is off, handing back would change nothing: the chip says the AI is off and offers the
Agents page instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.agents import configs
from app.agents.ownership import Ownership, owner_sentence
from app.core.ids import utc_now
from app.qt import QtCore, QtWidgets, Signal
from app.store.ops.ownership import hand_back, take_over
from app.store.store import Store
from app.ui import theme
from app.ui.context import AppContext, StaleWhenHidden

TABLES = frozenset({"chats", "messages", "agent_configs", "users", "settings"})
MAX_TIMER_MS = 24 * 3600 * 1000  # a pause longer than a day is looked at again after a day
HAND_BACK = "Hand back to AI"
TAKE_OVER = "Take over"
AI_OFF = "AI replies are off · Settings…"


@dataclass(frozen=True)
class Owned:
    """What the chip shows for one chat, read together on a worker."""

    chat_id: str
    owner: Ownership
    sentence: str
    ai_available: bool  # handing back would give the chat to the AI (the agent is on and its mode works)
    read_at: datetime
    ai_off: bool = False  # AI replies are off in Settings › AI: the agent owning the chat cannot answer it


def read_owner(store: Store, chat_id: str) -> Owned:
    """The chat's owner, its sentence, and whether "Hand back to AI" would hand it to the AI (blocking)."""
    now = utc_now()
    owner, sentence = owner_sentence(store, chat_id, now=now)
    agent = configs.current(store, "acquisition")
    chat = store.chats.get(chat_id)
    own = chat.ai_mode if chat.ai_mode not in (None, "off") else None
    available = agent.enabled and (own or agent.mode) != "off"
    return Owned(chat_id, owner, sentence, available, now, ai_off=store.settings.ai.mode == "off")


class OwnerChip(QtWidgets.QLabel):
    """The chip's label: one line wherever the header has room for it, wrapped only where it has not.

    A word-wrapped QLabel guesses its preferred width (a quarter of 80 characters for a short text), so "A person:
    Alex Morgan" wrapped onto two lines in a header with hundreds of pixels to spare (seen in the app at 1600 px).
    Its preferred width here is the text's one-line width; the layout still narrows it, and it then wraps."""

    MAX_WIDTH = 720  # a longer sentence wraps even in a wide header

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        if not self.wordWrap() or not self.text():
            return hint
        margins = self.contentsMargins()
        metrics = self.fontMetrics()
        line = metrics.horizontalAdvance(self.text()) + metrics.averageCharWidth()  # rounding in the wrapped layout
        width = min(line + margins.left() + margins.right(), self.MAX_WIDTH)
        return QtCore.QSize(max(width, hint.width()), self.heightForWidth(width))


class OwnershipBanner(QtWidgets.QWidget):
    """The chip and its action; ``show_chat`` points it at a chat (None: nothing open)."""

    loaded = Signal(object)  # Owned, after each read (tests wait on it)
    section_requested = Signal(str)  # "agents": where the AI is switched on
    settings_requested = Signal(str)  # "AI": where AI replies are switched on (a section of Settings)

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.chat_id: str | None = None
        self.shown: Owned | None = None
        self._touched = False  # a change named the chat since it was last read
        self._reads = 0
        self.chip = OwnerChip()
        self.chip.setObjectName("ownershipChip")
        # A long sentence ("Paused: someone on the phone or WhatsApp Web took over at 20:57 (until …)") wraps in a
        # narrow header instead of being cut (seen in the screenshots at 1360 px with both side panels open).
        self.chip.setWordWrap(True)
        self.chip.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Minimum)
        self.action = QtWidgets.QPushButton()
        self.action.setObjectName("ownershipAction")
        self.action.setFlat(True)
        self.action.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.action.clicked.connect(self._act)
        self.action.hide()
        # The AI owns the chat but AI replies are off: nobody answers it unless someone notices (the chip alone
        # said "AI autopilot" with AI replies off, seen in the app). Said under the chip, with the way to fix it:
        # a link on a line of its own that wraps (beside the chip it was cut to "…es are off · Se" at 1024 px).
        self.ai_off = QtWidgets.QLabel()
        self.ai_off.setObjectName("ownershipWarning")
        self.ai_off.setWordWrap(True)
        self.ai_off.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.LinksAccessibleByMouse
            | QtCore.Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.ai_off.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        self.ai_off.setToolTip(
            "The AI owns this chat but cannot answer it while AI replies are off (Settings › AI): turn them on, "
            "or take over."
        )
        self.ai_off.linkActivated.connect(lambda _link: self.settings_requested.emit("AI"))
        self.ai_off.hide()
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 2, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.chip)
        row.addWidget(self.action)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.ai_off)
        self._expiry = QtCore.QTimer(self, singleShot=True)
        self._expiry.timeout.connect(self.refresh)
        ctx.changes.chats_changed.connect(self._chats_changed)  # before ``changed``
        self.watch = StaleWhenHidden(self, ctx.changes, TABLES, self._changed)
        self.hide()

    # ---- reading ---------------------------------------------------------------------------------------------
    def show_chat(self, chat_id: str | None) -> None:
        if chat_id != self.chat_id:
            self.shown = None
            self.chip.clear()
            self.action.hide()
            self.ai_off.hide()
        self.chat_id = chat_id
        self.setVisible(chat_id is not None)
        self.refresh()

    def refresh(self) -> None:
        chat_id = self.chat_id
        if chat_id is None:
            return
        self._reads += 1
        seq = self._reads
        store = self.ctx.store

        def done(owned: Owned) -> None:
            if seq == self._reads and owned.chat_id == self.chat_id:
                self._show(owned)

        self.ctx.tasks.start(
            "Who owns the chat", lambda: read_owner(store, chat_id), done, self._failed, owner=self, quiet=True
        )

    def _failed(self, message: str) -> None:
        self.chip.setText("Owner unknown")
        self.chip.setToolTip(message)
        self.action.hide()

    def _chats_changed(self, chat_ids: frozenset[str] | None) -> None:
        if self.chat_id is not None and (chat_ids is None or self.chat_id in chat_ids):
            self._touched = True

    def _changed(self, tables: frozenset[str]) -> None:
        touched, self._touched = self._touched, False
        if tables & {"agent_configs", "users", "settings"} or (tables & {"chats", "messages"} and touched):
            self.refresh()

    # ---- showing ---------------------------------------------------------------------------------------------
    def _show(self, owned: Owned) -> None:
        self.shown = owned
        owner = owned.owner
        self.chip.setText(owned.sentence)
        self.chip.setAccessibleName(f"Who owns this chat: {owned.sentence}")
        if owner.kind in ("autopilot", "draft"):
            self.chip.setToolTip("The AI works on this chat. Take over to answer it yourself until you hand it back.")
            self._offer(TAKE_OVER, "Stop the AI on this chat and assign it to you")
        elif owned.ai_available:
            tip = "A person answers this chat; the AI stays out of it."
            if owner.kind == "paused":
                tip = "A person's message paused the AI here. It resumes by itself when the pause ends."
            self.chip.setToolTip(tip)
            self._offer(HAND_BACK, "Let the AI answer this chat again from now on")
        else:
            self.chip.setToolTip("The AI is off, so people answer every chat.")
            self._offer("AI is off · Agents…", "Switch the AI on in the Agents page")
        self.ai_off.setVisible(owner.kind in ("autopilot", "draft") and owned.ai_off)
        self._paint()
        self._expiry.stop()
        if owner.kind == "paused" and owner.until is not None:
            wait = (owner.until - owned.read_at).total_seconds() * 1000
            self._expiry.start(int(min(max(wait, 0) + 1000, MAX_TIMER_MS)))
        self.loaded.emit(owned)

    def _offer(self, text: str, tip: str) -> None:
        self.action.setText(text)
        self.action.setToolTip(tip)
        self.action.show()

    def _paint(self) -> None:
        c = theme.colors()
        kind = self.shown.owner.kind if self.shown is not None else "person"
        background, text = {
            "autopilot": (c.accent, c.accent_text),
            "draft": (c.surface_alt, c.text),
            "paused": (c.note, c.text),
            "person": (c.surface_alt, c.text),
        }[kind]
        self.chip.setStyleSheet(
            f"QLabel#ownershipChip {{ background: {background}; color: {text}; border-radius: 9px; "
            f"padding: 1px 9px; font-size: 12px; font-weight: 600; }}"
        )
        self.action.setStyleSheet(
            f"QPushButton#ownershipAction {{ color: {c.accent}; border: none; padding: 1px 4px; font-size: 12px; "
            f"font-weight: 600; background: transparent; }} "
            f"QPushButton#ownershipAction:hover {{ text-decoration: underline; }}"
        )
        style = f"color: {c.danger}; font-weight: 600; text-decoration: none;"
        self.ai_off.setText(f'<a href="ai" style="{style}">{AI_OFF}</a>')
        self.ai_off.setStyleSheet("QLabel#ownershipWarning { font-size: 12px; padding: 0 2px; }")

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # light/dark switched
            self._paint()

    # ---- acting ----------------------------------------------------------------------------------------------
    def _act(self) -> None:
        owned, chat_id = self.shown, self.chat_id
        if owned is None or chat_id is None:
            return
        store = self.ctx.store
        if self.action.text() == TAKE_OVER:
            self.ctx.tasks.start("Taking over the chat", lambda: take_over(store, chat_id), lambda _d: self.refresh())
        elif self.action.text() == HAND_BACK:
            self.ctx.tasks.start(
                "Handing the chat back to the AI", lambda: hand_back(store, chat_id), lambda _d: self.refresh()
            )
        else:
            self.section_requested.emit("agents")
