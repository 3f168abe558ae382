"""The WhatsApp page: the connection (state, QR code, controls), automated sending (stopped by WhatsApp's notice or
by hand: ``AutomationBanner``), the page self-test, and the send queue.

Everything about the connection comes from the last ``WhatsAppStatus`` the bridge delivered; commands go back
through the bridge. The queue table is read from the store (the truth about each message) on a worker, when a
message enters, leaves or fails in the queue — not on every incoming message, since reading failed messages may
scan the messages table.
"""

from __future__ import annotations

from app.core.events import Event, MessageQueued, MessageStatusChanged
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.send_queue_view import UnsentMessage, unsent_messages
from app.ui import kit
from app.ui.context import AppContext
from app.ui.models.unsent_model import UnsentModel
from app.ui.unsent_actions import cancel_message, retry_message
from app.ui.widgets.automation_banner import AutomationBanner
from app.ui.widgets.health_view import HealthView
from app.ui.widgets.pacing_status import PacingStatus
from app.ui.widgets.whatsapp_indicator import clock, dot_pixmap, paused_sentence, state_color
from app.whatsapp.status import STATE_LABELS, ConnectionState, WhatsAppStatus

S = ConnectionState
QUEUE_TASK = "Reading the send queue"
QUEUE_DEBOUNCE_MS = 200
QR_SIZE = 264
STACK_BELOW = 960  # page width under which the self-test goes below the connection card
QUEUE_STATUSES = {"queued", "typing", "failed", "cancelled"}
LINK_STEPS = "Open WhatsApp on your phone › Linked devices › Link a device, then point the phone at this code."


def enabled_commands(state: ConnectionState) -> set[str]:
    """Which of connect / disconnect / restart make sense in ``state``."""
    commands: set[str] = set()
    if state in (S.stopped, S.failed, S.logged_out):
        commands.add("connect")  # after a failure: retry now instead of waiting for the back-off
    if state is not S.stopped:
        commands.add("disconnect")
    if state in (S.scan_qr, S.connected, S.phone_offline, S.logged_out):
        commands.add("restart")
    return commands


def linked_text(status: WhatsAppStatus) -> str:
    """What the page can say about the linked phone. WhatsApp Web never shows the phone's own number (see
    ``app.store.sending_device.NUMBER``), so the page says that rather than show a number it does not know."""
    if not status.linked:
        return "No"
    where = "connected now" if status.state is S.connected else "not connected now"
    return (
        f"Yes, {where}. WhatsApp Web does not show the phone's own number: it is the phone that scanned the code"
        " (WhatsApp › Linked devices lists this computer)."
    )


class WhatsAppPage(QtWidgets.QWidget):
    queue_refreshed = Signal()  # the table shows what the store holds now

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bridge = ctx.whatsapp
        self._status = self.bridge.status
        self._queue_key: tuple[int, int, str | None] | None = None
        self._reading = False
        self._read_again = False
        self._dirty = True

        # ---- header: state, detail, error, commands ---------------------------------------------------------
        self.dot = QtWidgets.QLabel()
        self.state = kit.page_title("")
        self.detail = kit.note()
        self.error = kit.note(kind="error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retrying = kit.note()
        self.no_service = kit.note("WhatsApp is not running in this session, so it cannot be connected from here.")
        self.connect_button = kit.primary_button("Connect")
        self.disconnect_button = QtWidgets.QPushButton("Disconnect")
        self.restart_button = QtWidgets.QPushButton("Restart")
        self.connect_button.clicked.connect(self.bridge.connect_whatsapp)
        self.disconnect_button.clicked.connect(self.bridge.disconnect_whatsapp)
        self.restart_button.clicked.connect(self.bridge.restart)
        title_row = QtWidgets.QHBoxLayout()
        title_row.setSpacing(10)
        title_row.addWidget(self.dot)
        title_row.addWidget(self.state, 1)
        for button in (self.connect_button, self.disconnect_button, self.restart_button):
            title_row.addWidget(button)
        header = QtWidgets.QVBoxLayout()
        header.setSpacing(4)
        header.addLayout(title_row)
        for label in (self.detail, self.error, self.retrying, self.no_service):
            header.addWidget(label)
        # Automated sending: the banner while WhatsApp's notice (or a person) stopped it, else the switch to stop it.
        self.automation = AutomationBanner(ctx)
        header.addWidget(self.automation)

        # ---- connection card: QR while linking, then facts about the browser --------------------------------
        connection = kit.Card("Connection", kind="panel")
        cl = connection.body
        self.qr = QtWidgets.QLabel()
        self.qr.setObjectName("qr")
        self.qr.setFixedSize(QR_SIZE + 24, QR_SIZE + 24)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setAccessibleName("WhatsApp QR code")
        self.steps = QtWidgets.QLabel(f"<b>Link this computer</b><br>{LINK_STEPS}")
        self.steps.setWordWrap(True)
        self.steps.setMinimumWidth(180)
        self.linked = QtWidgets.QLabel()
        self.linked.setWordWrap(True)
        self.memory = QtWidgets.QLabel()
        self.restarts = QtWidgets.QLabel()
        facts = QtWidgets.QFormLayout()
        facts.setHorizontalSpacing(16)
        facts.addRow("Phone linked", self.linked)
        facts.addRow("Browser memory", self.memory)
        facts.addRow("Restarts", self.restarts)
        beside = QtWidgets.QVBoxLayout()
        beside.setSpacing(12)
        beside.addWidget(self.steps)
        beside.addLayout(facts)
        beside.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(beside, 1)
        cl.addLayout(row)
        cl.addStretch(1)

        # ---- self-test card ----------------------------------------------------------------------------------
        selftest = kit.Card("Page self-test", kind="panel")
        sl = selftest.body
        self.health = HealthView()
        sl.addWidget(self.health, 1)

        # ---- send queue card ---------------------------------------------------------------------------------
        queue = kit.Card("Send queue", kind="panel")
        ql = queue.body
        self.queue_summary = QtWidgets.QLabel()
        self.queue_summary.setWordWrap(True)
        self.next_send = kit.note()
        self.model = UnsentModel(self)
        self.table = QtWidgets.QTableView()
        self.table.setObjectName("sendQueue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(170)
        columns = self.table.horizontalHeader()
        mode = QtWidgets.QHeaderView.ResizeMode
        # Chat, Message, Status, Queued, Reason: the two texts share what the short columns leave.
        for column, how in enumerate((mode.Interactive, mode.Stretch, mode.ResizeToContents, mode.ResizeToContents)):
            columns.setSectionResizeMode(column, how)
        columns.setSectionResizeMode(4, mode.Stretch)
        self.table.setColumnWidth(0, 160)
        self.empty_queue = kit.note("Nothing is waiting to be sent.")
        self.empty_queue.hide()  # until the first read says so
        self.queue_summary.hide()
        self.retry_button = QtWidgets.QPushButton("Try again")
        self.cancel_button = QtWidgets.QPushButton("Cancel sending")
        self.retry_button.clicked.connect(self._retry)
        self.cancel_button.clicked.connect(self._cancel)
        self.action_error = kit.note(kind="error")
        actions = QtWidgets.QHBoxLayout()
        actions.addWidget(self.action_error, 1)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.cancel_button)
        ql.addWidget(self.queue_summary)
        ql.addWidget(self.next_send)
        self.pacing = PacingStatus(ctx)  # the number's budget for automated messages
        ql.addWidget(self.pacing)
        ql.addWidget(self.table, 1)
        ql.addWidget(self.empty_queue)
        ql.addLayout(actions)

        # ---- page layout: one scroll area so a small window still reaches everything --------------------------
        self.connection_card, self.selftest_card = connection, selftest
        self.cards = QtWidgets.QGridLayout()
        self.cards.setSpacing(14)
        self._side_by_side: bool | None = None
        self._arrange_cards(wide=True)
        content = QtWidgets.QWidget()
        body = QtWidgets.QVBoxLayout(content)
        body.setContentsMargins(22, 18, 22, 18)
        body.setSpacing(14)
        body.addLayout(header)
        body.addLayout(self.cards)
        body.addWidget(queue, 1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        # ---- wiring ------------------------------------------------------------------------------------------
        self._queue_timer = QtCore.QTimer(self, singleShot=True, interval=QUEUE_DEBOUNCE_MS)
        self._queue_timer.timeout.connect(self.refresh_queue)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.bridge.status_changed.connect(self.show_status)
        self.bridge.control_changed.connect(self._update_commands)
        ctx.changes.core_event.connect(self._event)
        self.show_status(self._status)
        self._update_actions()

    def _arrange_cards(self, *, wide: bool) -> None:
        """Connection and self-test side by side, or stacked when the window is too narrow for the QR code."""
        if wide == self._side_by_side:
            return
        self._side_by_side = wide
        self.cards.removeWidget(self.connection_card)
        self.cards.removeWidget(self.selftest_card)
        self.cards.addWidget(self.connection_card, 0, 0)
        self.cards.addWidget(self.selftest_card, 0 if wide else 1, 1 if wide else 0)
        self.cards.setColumnStretch(0, 1)
        self.cards.setColumnStretch(1, 1 if wide else 0)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange_cards(wide=event.size().width() >= STACK_BELOW)

    # ---- status ------------------------------------------------------------------------------------------------
    def show_status(self, status: WhatsAppStatus) -> None:
        self._status = status
        self.dot.setPixmap(dot_pixmap(state_color(status.state), 14, self.devicePixelRatioF()))
        self.state.setText(STATE_LABELS[status.state])
        self.detail.setText(status.detail)
        self.detail.setVisible(bool(status.detail))
        failed = status.state is S.failed
        self.error.setText(f"Last error: {status.last_error}" if failed and status.last_error else "")
        self.error.setVisible(bool(self.error.text()))
        retry_at = clock(status.next_restart_at, seconds=True) if failed and status.next_restart_at else ""
        self.retrying.setText(f"Retrying at {retry_at}" if retry_at else "")
        self.retrying.setVisible(bool(retry_at) and retry_at not in status.detail)  # the detail may say it already
        self.connect_button.setText("Retry now" if failed else "Connect")
        self._update_commands()
        self._show_qr(status)
        self.linked.setText(linked_text(status))
        self.memory.setText(f"{status.browser_rss / 1_048_576:,.0f} MB" if status.browser_rss else "—")
        self.restarts.setText(str(status.restarts))
        self.health.show_health(status.health)
        self._show_queue_status()
        key = (status.queue.waiting, status.queue.failed, status.queue.sending_id)
        if key != self._queue_key:
            self._queue_key = key
            self.schedule_queue_refresh()

    def _show_qr(self, status: WhatsAppStatus) -> None:
        showing = status.state is S.scan_qr
        self.qr.setVisible(showing)
        self.steps.setVisible(showing)
        if not showing:
            self.qr.clear()
            return
        pixmap = QtGui.QPixmap()
        if status.qr_png and pixmap.loadFromData(status.qr_png):
            # Nearest-neighbour scaling keeps the modules' edges sharp for the phone's camera.
            self.qr.setPixmap(
                pixmap.scaled(
                    QR_SIZE,
                    QR_SIZE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )
        else:
            self.qr.setText("Waiting for the QR code…")

    def _update_commands(self) -> None:
        attached = self.bridge.control is not None
        allowed = enabled_commands(self._status.state) if attached else set()
        self.connect_button.setEnabled("connect" in allowed)
        self.disconnect_button.setEnabled("disconnect" in allowed)
        self.restart_button.setEnabled("restart" in allowed)
        self.no_service.setVisible(not attached)

    def _show_queue_status(self) -> None:
        queue = self._status.queue
        if queue.held_by:  # another team device sends for the number: not a pause anyone here must fix
            self.model.set_waiting_reason(queue.paused)
            self.next_send.setText(f"{queue.paused}: the phone is linked to WhatsApp on that computer.")
            self.next_send.setVisible(True)
            return
        self.model.set_waiting_reason("Sending is paused" if queue.paused else queue.next_reason)
        if queue.paused:
            self.next_send.setText(paused_sentence(queue.paused))
        elif queue.next_send_at is not None and queue.waiting:
            reason = f" — {queue.next_reason}" if queue.next_reason else ""
            self.next_send.setText(f"Next send at {clock(queue.next_send_at)}{reason}")
        elif queue.sending_id:
            self.next_send.setText("Typing a message in WhatsApp now.")
        else:
            self.next_send.setText("")
        self.next_send.setVisible(bool(self.next_send.text()))

    # ---- the queue table ---------------------------------------------------------------------------------------
    def _event(self, event: Event) -> None:
        if isinstance(event, MessageQueued) or (
            isinstance(event, MessageStatusChanged) and {event.status, event.previous} & QUEUE_STATUSES
        ):
            self.schedule_queue_refresh()

    def schedule_queue_refresh(self) -> None:
        self._dirty = True
        if self.isVisible() and not self._queue_timer.isActive():
            self._queue_timer.start()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh_queue()

    def refresh_queue(self) -> None:
        """Re-read the unsent messages on a worker (coalesced: one read at a time, one more if asked meanwhile)."""
        self._queue_timer.stop()
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._dirty = False
        store = self.ctx.store

        def done(rows: list[UnsentMessage]) -> None:
            self._reading = False
            self._apply_rows(rows)
            self._read_more()

        def failed(message: str) -> None:
            self._reading = False
            self.ctx.tasks.failed.emit(QUEUE_TASK, message)
            self._read_more()

        self.ctx.tasks.start(QUEUE_TASK, lambda: unsent_messages(store), done, failed, owner=self)

    def _read_more(self) -> None:
        if self._read_again:
            self._read_again = False
            self.refresh_queue()

    def _apply_rows(self, rows: list[UnsentMessage]) -> None:
        selected = self.selected()
        self.model.set_rows(rows)
        if selected is not None and (row := self.model.row_of(selected.message_id)) >= 0:
            self.table.selectRow(row)
        waiting = sum(1 for r in rows if r.status != "failed")
        failed = len(rows) - waiting
        parts = [f"{waiting} waiting" if waiting else "", f"{failed} failed" if failed else ""]
        self.queue_summary.setText(" · ".join(p for p in parts if p))
        self.queue_summary.setVisible(bool(rows))
        self.empty_queue.setVisible(not rows)
        self._update_actions()
        self.queue_refreshed.emit()

    def selected(self) -> UnsentMessage | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _update_actions(self) -> None:
        row = self.selected()
        self.retry_button.setEnabled(row is not None and row.status == "failed")
        self.cancel_button.setEnabled(row is not None and row.status in ("queued", "failed"))
        if row is not None and row.status == "typing":
            self.cancel_button.setToolTip("WhatsApp may already hold a message being typed, so it cannot be cancelled.")
        else:
            self.cancel_button.setToolTip("Remove the message: it will not be sent.")

    def _retry(self) -> None:
        row = self.selected()
        if row is not None:
            self.action_error.clear()
            retry_message(self.ctx, row.message_id, on_error=self.action_error.setText, owner=self)

    def _cancel(self) -> None:
        row = self.selected()
        if row is not None:
            self.action_error.clear()
            cancel_message(self.ctx, row.message_id, on_error=self.action_error.setText, owner=self)
