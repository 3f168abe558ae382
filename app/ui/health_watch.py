"""The health monitor in the app: when it runs, and where its alerts show.

``HealthWatch`` runs ``HealthMonitor.run`` (``app.agents.health``) on a worker of the one ``TaskRunner`` every five
minutes, shortly after start, on "Check now", and when an error is seen — WhatsApp turning to failed or its page
profile breaking, team sync stopping on an error. A request while a run is on makes one more run after it, never
two at once. Each report reaches ``reported`` and each change ``alerted`` on the main thread; the main window's
``HealthAlertBanner`` and the tray's desktop notification listen to them, the Health page too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.agents.health import INTERVAL, Alert, HealthMonitor, HealthReport
from app.qt import Qt, QtCore, QtWidgets, Signal
from app.sync.status import SyncState, SyncStatus
from app.ui import theme
from app.ui.tasks import logged_only
from app.whatsapp.status import ConnectionState, WhatsAppStatus

if TYPE_CHECKING:
    from app.ui.context import AppContext
    from app.ui.shutdown import Shutdown

FIRST_RUN_MS = 20_000  # after start-up's own work: a quick check reads the whole file


class HealthWatch(QtCore.QObject):
    reported = Signal(object)  # HealthReport, on the main thread
    alerted = Signal(object)  # Alert, on the main thread
    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, monitor: HealthMonitor | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.monitor = monitor or HealthMonitor(
            ctx.store,
            ctx.workspaces.paths(ctx.workspace.workspace_id).root,
            whatsapp=lambda: ctx.whatsapp.status,  # immutable snapshots: read from the worker as they are
            sync=lambda: ctx.sync.status if ctx.sync is not None else None,
        )
        self.report: HealthReport | None = None
        self.busy = False
        self._again = False
        self._closed = False
        self._timer = QtCore.QTimer(self, interval=int(INTERVAL.total_seconds() * 1000))
        self._timer.timeout.connect(self.check_now)
        self._first = QtCore.QTimer(self, singleShot=True, interval=FIRST_RUN_MS)
        self._first.timeout.connect(self.check_now)
        self._whatsapp_bad = False
        self._sync_bad = False

    def start(self, first_run_ms: int = FIRST_RUN_MS) -> None:
        """Run every five minutes, the first time ``first_run_ms`` from now, and on errors."""
        self._first.start(first_run_ms)
        self._timer.start()
        self.ctx.whatsapp.status_changed.connect(self._whatsapp_changed)
        if self.ctx.sync is not None:
            self.ctx.sync.statusChanged.connect(self._sync_changed)

    def close(self) -> None:
        self._closed = True
        self._timer.stop()
        self._first.stop()

    def check_now(self) -> None:
        if self._closed:
            return
        if self.busy:
            self._again = True
            return
        self._set_busy(True)
        self.ctx.tasks.start("Health check", self.monitor.run, self._done, self._failed, owner=self, quiet=True)

    # ---- outcomes --------------------------------------------------------------------------------------------
    def _done(self, report: HealthReport) -> None:
        self._set_busy(False)
        self.report = report
        for alert in report.alerts:  # before the report: a new problem un-dismisses the banner it then fills
            self.alerted.emit(alert)
        self.reported.emit(report)
        self._maybe_again()

    def _failed(self, sentence: str) -> None:
        self._set_busy(False)
        logged_only(sentence)
        self._maybe_again()

    def _maybe_again(self) -> None:
        if self._again:
            self._again = False
            self.check_now()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busy_changed.emit(busy)

    # ---- errors seen elsewhere start a run at once -----------------------------------------------------------
    def _whatsapp_changed(self, status: WhatsAppStatus) -> None:
        broken = status.health is not None and bool(status.health.broken)
        bad = status.state is ConnectionState.failed or broken
        if bad and not self._whatsapp_bad:
            self.check_now()
        self._whatsapp_bad = bad

    def _sync_changed(self, status: SyncStatus) -> None:
        bad = status.state is SyncState.ERROR
        if bad and not self._sync_bad:
            self.check_now()
        self._sync_bad = bad


def start_health(ctx: AppContext, shutdown: Shutdown | None = None) -> None:
    """Bootstrap's one call after the first paint: the watch made with the window starts running."""
    from app.ui.shutdown import Stage

    if ctx.health is None:
        return
    ctx.health.start()
    if shutdown is not None:
        shutdown.add(Stage.AGENTS, "the health monitor", ctx.health.close)


class HealthAlertBanner(QtWidgets.QFrame):
    """A strip above the pages while a health check is not ok: the worst problem's sentence, "Details" (the Health
    page) and "Dismiss" (hidden until the next alert). It goes by itself when every check is ok again."""

    details_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.icon = QtWidgets.QLabel("⚠")
        self.icon.setObjectName("bannerIcon")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("bannerText")
        self.message.setWordWrap(True)
        self.links = QtWidgets.QLabel()
        self.links.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.links.linkActivated.connect(self._link)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.links, 0, Qt.AlignmentFlag.AlignTop)
        self.dismissed = False
        self.hide()

    def show_report(self, report: HealthReport) -> None:
        problems = report.problems
        if not problems:
            self.dismissed = False
            self.hide()
            return
        worst = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.message.setText(f"{worst.title}: {worst.sentence}{more}")
        colour = theme.colors().text  # the banner's own text colour: the accent is too faint on its yellow
        style = f"color: {colour}; font-weight: 600;"
        self.links.setText(
            f'<a href="details" style="{style}">Details</a> &nbsp; <a href="dismiss" style="{style}">Dismiss</a>'
        )
        self.setVisible(not self.dismissed)

    def alerted(self, alert: Alert) -> None:
        if not alert.recovered:
            self.dismissed = False  # a new problem shows again even after "Dismiss"

    def _link(self, link: str) -> None:
        if link == "dismiss":
            self.dismissed = True
            self.hide()
        else:
            self.details_requested.emit()
