"""The number's budget for automated messages, on the WhatsApp page: used today of today's cap, the next automated
slot, and why automated messages wait (the rule holding them, in a sentence).

Read from the store on a worker (``app.whatsapp.pacing_history.budget_now``: the messages sent in the last 24 h,
the halt) with the pace the settings give in the business's time zone — the same pace the sender uses. Read again
when a message is sent, when automated sending is halted or resumed, and when the slot it shows comes due.
"""

from __future__ import annotations

from datetime import datetime

from app.core.events import AutomationHalted, AutomationResumed, Event, MessageStatusChanged
from app.core.ids import utc_now
from app.qt import QtCore, QtWidgets, Signal
from app.ui import kit
from app.ui.coalesced_read import CoalescedRead
from app.ui.context import AppContext
from app.whatsapp.config import pacing_config
from app.whatsapp.pacing import Budget
from app.whatsapp.pacing_history import budget_now

READ_TASK = "Reading the automated sending budget"
RECHECK_MS = 60_000  # at most this long between reads while the page is shown (the rolling windows move)


def used_text(budget: Budget) -> str:
    return f"Automated messages in the last 24 hours: {budget.used_today} of {budget.cap_today}"


def next_text(budget: Budget) -> str:
    if budget.why_waiting:
        return budget.why_waiting
    return "Next automated message: now, when one is waiting."


class PacingStatus(QtWidgets.QWidget):
    """Two lines: the budget used, and the next slot with why it waits; ``loaded`` after each read."""

    loaded = Signal(object)  # Budget

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.budget: Budget | None = None
        store, settings = ctx.store, ctx.settings

        def read() -> Budget:
            zone = store.orgs.get(store.org_id).timezone
            return budget_now(store, pacing_config(settings, zone), utc_now())

        self._read = CoalescedRead(ctx.tasks, READ_TASK, read, self.show_budget, owner=self)
        self.used = QtWidgets.QLabel()
        self.used.setObjectName("pacingUsed")
        self.next = kit.note()
        self.next.setObjectName("pacingNext")
        self.next.setWordWrap(True)
        self.used.setToolTip(
            "Campaigns, follow-ups, autopilot answers and away messages share one budget for this number "
            "(Settings › WhatsApp). Your own replies never wait for it."
        )
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.used)
        column.addWidget(self.next)
        self._timer = QtCore.QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.refresh)
        ctx.changes.core_event.connect(self._event)
        self.refresh()

    def _event(self, event: Event) -> None:
        if isinstance(event, AutomationHalted | AutomationResumed) or (
            isinstance(event, MessageStatusChanged) and event.status == "sent"
        ):
            self.refresh()

    def refresh(self) -> None:
        """Read the budget on a worker (one read at a time, one more if asked meanwhile)."""
        self._read.start()

    def show_budget(self, budget: Budget) -> None:
        self.budget = budget
        self.used.setText(used_text(budget))
        self.next.setText(next_text(budget))
        self._timer.start(self._due_in(budget.next_slot))
        self.loaded.emit(budget)

    @staticmethod
    def _due_in(slot: datetime | None) -> int:
        if slot is None:
            return RECHECK_MS
        return max(1000, min(RECHECK_MS, int((slot - utc_now()).total_seconds() * 1000) + 500))
