"""'Sending to Ana Souza… Undo': a few seconds to take back a reply while it still waits in the send queue.

Replies are not sent at once: the humanizer types them, after the send queue's pauses. While a message is still
``queued`` it can be withdrawn, and this bar offers that for ``UNDO_MS`` after Send. Whether it is still possible is
decided by the store, not here: Undo runs the same cancel operation as "Cancel sending" (``cancel_unsent``), which
refuses in its write transaction once the sender has marked the message ``typing`` — the sender's mark and the
cancel are both single writes, so exactly one of them wins. A refusal is said as "Already being sent". When the
store reports the message left the queue meanwhile, the bar says so before anyone clicks.
"""

from __future__ import annotations

import html

from app.core.models import Message
from app.qt import Qt, QtCore, QtWidgets, Signal
from app.ui.context import AppContext
from app.ui.unsent_actions import cancel_message
from app.ui.widgets.composer import Draft

UNDO_MS = 5000  # how long Undo is offered after Send
AFTER_MS = 3000  # how long the outcome ("Not sent", "Already being sent") stays


class UndoSendBar(QtWidgets.QFrame):
    undone = Signal(str, object)  # chat id, the Draft that was sent (to put back in the composer)

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("banner")
        self.message_id: str | None = None
        self.chat_id = ""
        self.recipient = ""
        self.draft = Draft()
        self._state = "idle"  # idle / offered / cancelling / done
        self.label = QtWidgets.QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.undo_button.setToolTip("Take the message back before it is typed into WhatsApp")
        self.undo_button.clicked.connect(self.undo)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        self.timer = QtCore.QTimer(self, singleShot=True)
        self.timer.timeout.connect(self._expire)
        self.hide()

    def offer(self, message: Message, recipient: str, draft: Draft) -> None:
        """Show Undo for ``message`` (just queued) for ``UNDO_MS``; a newer offer replaces an older one."""
        self.message_id, self.chat_id, self.recipient, self.draft = message.id, message.chat_id, recipient, draft
        self._state = "offered"
        self._say(f"Sending to <b>{html.escape(recipient)}</b>…")
        self.undo_button.setEnabled(True)
        self.undo_button.show()
        self.show()
        self.timer.start(UNDO_MS)

    def undo(self) -> None:
        if self._state != "offered" or self.message_id is None:
            return
        self._state = "cancelling"
        self.timer.stop()
        self.undo_button.setEnabled(False)
        message_id = self.message_id
        cancel_message(
            self.ctx,
            message_id,
            on_done=lambda _m: self._cancelled(message_id),
            on_error=lambda _e: self._refused(message_id),
            owner=self,
        )

    def message_changed(self) -> None:
        """The store reports changed messages: once the offered one left the queue, Undo is no longer offered."""
        if self._state != "offered" or self.message_id is None:
            return
        message = self.ctx.store.messages.find(self.message_id)
        if message is None:  # cancelled elsewhere (the WhatsApp page, a teammate)
            self._finish("Not sent: the message was cancelled.")
        elif message.status != "queued":
            self._finish(self._already())

    # ---- outcomes ------------------------------------------------------------------------------------------------
    def _cancelled(self, message_id: str) -> None:
        if message_id != self.message_id:
            return
        self._finish(f"Not sent: the message to <b>{html.escape(self.recipient)}</b> was taken back.")
        self.undone.emit(self.chat_id, self.draft)

    def _refused(self, message_id: str) -> None:
        if message_id != self.message_id:
            return
        message = self.ctx.store.messages.find(message_id)
        if message is None:
            self._finish("Not sent: the message was cancelled.")
        else:
            self._finish(self._already())

    def _already(self) -> str:
        return f"Already being sent to <b>{html.escape(self.recipient)}</b> — too late to undo."

    def _finish(self, text: str) -> None:
        self._state = "done"
        self._say(text)
        self.undo_button.hide()
        self.timer.start(AFTER_MS)

    def _expire(self) -> None:
        if self._state == "cancelling":
            return  # the outcome is on its way
        self._state = "idle"
        self.message_id = None
        self.hide()

    def _say(self, text: str) -> None:
        self.label.setText(text)

    @property
    def offered(self) -> bool:
        """Undo can be clicked now."""
        return self._state == "offered" and self.isVisible() and self.undo_button.isVisible()
