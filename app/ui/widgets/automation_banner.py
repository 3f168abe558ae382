"""Automated sending on the WhatsApp page: the banner while it is stopped, and the switch that stops it.

When WhatsApp shows a rate-limit or ban notice (the driver halts every automated sender:
``app.store.ops.automation``), or a person stopped it here, a banner says "Automated sending stopped: <sentence>"
with "Resume automated sending". Otherwise one line says automated sending is on, with "Stop all automated sending"
(a halt with the code ``manual``). The halt is read on a worker of the task runner whenever it is halted or resumed
(``AutomationHalted`` / ``AutomationResumed``, from this computer's driver or a button here); both buttons write
through the operations and nudge the sender, so automated messages wait (or go) at once.
"""

from __future__ import annotations

from app.core.events import AutomationHalted, AutomationResumed, Event
from app.qt import Qt, QtWidgets, Signal
from app.store.ops.automation import MANUAL, Halt, halt, halted, resume
from app.ui import kit
from app.ui.coalesced_read import CoalescedRead
from app.ui.context import AppContext

READ_TASK = "Reading whether automated sending is stopped"
RESUME_TASK = "Resuming automated sending"
STOP_TASK = "Stopping all automated sending"
RESUME = "Resume automated sending"
STOP = "Stop all automated sending"
ON = "Automated sending is on: campaigns, follow-ups, autopilot and away messages go out at the number's pace."
MANUAL_SENTENCE = (
    "You stopped it on the WhatsApp page. Campaigns, follow-ups, autopilot and away messages wait; "
    "your own replies still go."
)


def banner_text(stopped: Halt) -> str:
    return f"Automated sending stopped: {stopped.sentence}"


class AutomationBanner(QtWidgets.QWidget):
    """The banner (while halted) or the "on" line with the stop button; ``loaded`` after each read."""

    loaded = Signal(object)  # Halt | None

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.halt: Halt | None = None
        store = ctx.store
        self._read = CoalescedRead(ctx.tasks, READ_TASK, lambda: halted(store), self.show_halt, owner=self)

        self.banner = QtWidgets.QFrame()
        self.banner.setObjectName("banner")
        icon = QtWidgets.QLabel("⚠")
        icon.setObjectName("bannerIcon")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("bannerText")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.resume_button = QtWidgets.QPushButton(RESUME)
        self.resume_button.clicked.connect(self._resume)
        strip = QtWidgets.QHBoxLayout(self.banner)
        strip.setContentsMargins(14, 8, 14, 8)
        strip.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        strip.addWidget(self.message, 1)
        strip.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignTop)

        self.on_line = QtWidgets.QWidget()
        self.on_text = kit.note(ON)
        self.stop_button = QtWidgets.QPushButton(STOP)
        self.stop_button.setToolTip(
            "Stop campaigns, follow-ups, autopilot and away messages at once (your own replies still go); "
            "resume them here."
        )
        self.stop_button.clicked.connect(self._stop)
        row = QtWidgets.QHBoxLayout(self.on_line)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.on_text, 1)
        row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignTop)

        self.error = kit.note(kind="error")
        self.error.hide()
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.banner)
        column.addWidget(self.on_line)
        column.addWidget(self.error)
        self.banner.hide()
        ctx.changes.core_event.connect(self._event)
        self.refresh()

    # ---- reading ---------------------------------------------------------------------------------------------
    def _event(self, event: Event) -> None:
        if isinstance(event, AutomationHalted | AutomationResumed):
            self.refresh()

    def refresh(self) -> None:
        """Read the halt on a worker (one read at a time, one more if asked meanwhile)."""
        self._read.start()

    def show_halt(self, stopped: Halt | None) -> None:
        self.halt = stopped
        if stopped is not None:
            self.message.setText(banner_text(stopped))
        self.banner.setVisible(stopped is not None)
        self.on_line.setVisible(stopped is None)
        self.resume_button.setEnabled(True)
        self.stop_button.setEnabled(True)
        self.loaded.emit(stopped)

    # ---- actions ---------------------------------------------------------------------------------------------
    def _resume(self) -> None:
        store, bridge = self.ctx.store, self.ctx.whatsapp
        self.resume_button.setEnabled(False)
        self.error.hide()

        def work() -> bool:
            resumed = resume(store).value
            bridge.queue_changed()  # the sender looks at its queue now: the automated messages may go
            return resumed

        self.ctx.tasks.start(RESUME_TASK, work, lambda _resumed: self.refresh(), self._failed, owner=self)

    def _stop(self) -> None:
        store, bridge = self.ctx.store, self.ctx.whatsapp
        self.stop_button.setEnabled(False)
        self.error.hide()

        def work() -> Halt:
            stopped = halt(store, MANUAL, MANUAL_SENTENCE).value
            bridge.queue_changed()
            return stopped

        self.ctx.tasks.start(STOP_TASK, work, lambda _halt: self.refresh(), self._failed, owner=self)

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.resume_button.setEnabled(True)
        self.stop_button.setEnabled(True)
