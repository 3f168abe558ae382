"""The Health page: each check's current status (a coloured dot, the sentence, the figure, when it was checked), its
last 24 hours as a strip of colour, the changes in that time as a list, and "Check now".

It renders what ``HealthMonitor`` recorded (``app.agents.health``), read on a worker of the task runner, and reloads
after each run of the app's ``HealthWatch``. Nothing here shows customer content: the sentences are made from
figures only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.agents.health import CHECKS, TITLES, CheckResult, Status, figure_text
from app.core.ids import utc_now
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui import theme
from app.ui.context import AppContext
from app.ui.health_watch import HealthWatch
from app.ui.widgets.whatsapp_indicator import clock, dot_pixmap

DAY = timedelta(hours=24)
GAP = timedelta(minutes=10)  # longer without a result than this: the app was not running
WORDS: dict[str, str] = {"ok": "OK", "warn": "Needs a look", "fail": "Problem"}

Loaded = tuple[datetime, list[CheckResult], dict[str, list[CheckResult]]]


def status_color(status: str | None) -> str:
    c = theme.colors()
    return {"ok": c.accent, "warn": c.warning, "fail": c.danger}.get(status or "", c.muted)


def health_watch(ctx: AppContext) -> HealthWatch:
    """The app's watch (made in bootstrap); a context without one (a test, the screenshots) gets one, not started."""
    if ctx.health is None:
        ctx.health = HealthWatch(ctx)
    return ctx.health


def changes(history: dict[str, list[CheckResult]]) -> list[tuple[CheckResult, Status | None]]:
    """Each result whose status differs from the one before it (per check), newest first, with the one before."""
    found: list[tuple[CheckResult, Status | None]] = []
    for results in history.values():
        before: Status | None = None
        for result in results:
            if before is not None and result.status != before:
                found.append((result, before))
            before = result.status
    return sorted(found, key=lambda pair: pair[0].checked_at, reverse=True)


def runs(results: list[CheckResult], now: datetime) -> list[tuple[Status, datetime, datetime]]:
    """Results merged into spans of one status: each lasts until the next result, or 10 minutes when none came
    (the app was closed: that time stays grey)."""
    spans: list[tuple[Status, datetime, datetime]] = []
    for i, result in enumerate(results):
        until = results[i + 1].checked_at if i + 1 < len(results) else now
        until = min(until, result.checked_at + GAP)
        if spans and spans[-1][0] == result.status and spans[-1][2] >= result.checked_at:
            spans[-1] = (result.status, spans[-1][1], until)
        else:
            spans.append((result.status, result.checked_at, until))
    return spans


class StatusStrip(QtWidgets.QWidget):
    """A check's last 24 hours, left to right: each result's colour until the next one; grey where none ran."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(8)
        self.setMinimumWidth(120)
        self.results: list[CheckResult] = []
        self.now = utc_now()

    def show_results(self, results: list[CheckResult], now: datetime) -> None:
        self.results, self.now = results, now
        self.setToolTip(self._tip())
        self.update()

    def _tip(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in ("ok", "warn", "fail")}
        ok, warn, fail = counts["ok"], counts["warn"], counts["fail"]
        return f"Last 24 hours: {len(self.results)} checks — {ok} ok, {warn} need a look, {fail} problems"

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        rect = QtCore.QRectF(self.rect())
        path = QtGui.QPainterPath()
        path.addRoundedRect(rect, 4, 4)
        painter.setClipPath(path)
        painter.fillRect(rect, QtGui.QColor(theme.colors().surface_alt))
        start = self.now - DAY
        span = DAY.total_seconds()
        for status, since, until in runs(self.results, self.now):
            left = max((since - start).total_seconds(), 0.0) / span * rect.width()
            right = max((until - start).total_seconds(), 0.0) / span * rect.width()
            width = max(right - left, 2.0)
            painter.fillRect(QtCore.QRectF(left, 0, width, rect.height()), QtGui.QColor(status_color(status)))
        painter.end()


class CheckRow(QtWidgets.QFrame):
    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.name = name
        self.status: str | None = None
        self.dot = QtWidgets.QLabel()
        self.title = QtWidgets.QLabel(TITLES[name])
        self.title.setObjectName("cardTitle")
        self.word = QtWidgets.QLabel()
        self.figure = QtWidgets.QLabel()
        self.figure.setObjectName("muted")
        self.sentence = QtWidgets.QLabel("Not checked yet.")
        self.sentence.setWordWrap(True)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checked = QtWidgets.QLabel()
        self.checked.setObjectName("muted")
        self.strip = StatusStrip()
        head = QtWidgets.QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(self.dot)
        head.addWidget(self.title)
        head.addWidget(self.word)
        head.addStretch(1)
        head.addWidget(self.figure)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.sentence)
        # The strip's ends say what it spans: a grey bar with a dot at its right end read as nothing at all
        # (seen on the Health page of a workspace opened minutes ago).
        self.since = QtWidgets.QLabel("24 h ago")
        self.until = QtWidgets.QLabel("now")
        for end in (self.since, self.until):
            end.setObjectName("muted")
        foot = QtWidgets.QHBoxLayout()
        foot.addWidget(self.checked)
        foot.addSpacing(12)
        foot.addWidget(self.since)
        foot.addWidget(self.strip, 1)
        foot.addWidget(self.until)
        layout.addLayout(foot)
        self._paint_dot()

    def show_result(self, result: CheckResult | None, history: list[CheckResult], now: datetime) -> None:
        self.status = result.status if result is not None else None
        if result is None:
            self.sentence.setText("Not checked yet.")
            self.figure.clear()
            self.word.clear()
            self.checked.setText("Never checked")
        else:
            self.sentence.setText(result.sentence)
            self.figure.setText(figure_text(result.name, result.value))
            self.word.setText(WORDS[result.status])
            self.checked.setText(f"Checked {clock(result.checked_at, now=now)}")
        self.strip.show_results(history, now)
        self._paint_dot()
        self.setAccessibleName(f"{TITLES[self.name]}: {self.word.text() or 'not checked'}")

    def _paint_dot(self) -> None:
        colour = status_color(self.status)
        self.dot.setPixmap(dot_pixmap(colour, 12, self.devicePixelRatioF()))
        self.word.setStyleSheet(f"color: {colour}; font-weight: 600;")

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # light/dark switched: the colours are re-read
            self._paint_dot()


class HealthPage(QtWidgets.QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.watch = health_watch(ctx)
        self.loaded: Loaded | None = None

        title = QtWidgets.QLabel("Health")
        title.setObjectName("pageTitle")
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("muted")
        self.check_now = QtWidgets.QPushButton("Check now")
        self.check_now.setObjectName("primary")
        self.check_now.clicked.connect(self.watch.check_now)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.summary)
        top.addStretch(1)
        top.addWidget(self.check_now)
        intro = QtWidgets.QLabel(
            "Parley checks these every 5 minutes and whenever something fails, keeps a week of results, and tells "
            "you once when one needs a look. No customer messages are read or shown here."
        )
        intro.setObjectName("hint")
        intro.setWordWrap(True)

        self.rows = {name: CheckRow(name) for name in CHECKS}
        changes_title = QtWidgets.QLabel("Changes in the last 24 hours")
        changes_title.setObjectName("cardTitle")
        self.changes = QtWidgets.QListWidget()
        self.changes.setObjectName("healthChanges")
        self.changes.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.changes.setMinimumHeight(110)

        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(20, 16, 20, 16)
        column.setSpacing(10)
        column.addLayout(top)
        column.addWidget(intro)
        for row in self.rows.values():
            column.addWidget(row)
        column.addSpacing(6)
        column.addWidget(changes_title)
        column.addWidget(self.changes, 1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.watch.reported.connect(lambda _report: self.refresh())
        self.watch.busy_changed.connect(self._busy)
        self._busy(self.watch.busy)
        self.refresh()

    def refresh(self) -> None:
        """Read the latest results and the last 24 hours on a worker; shown when they arrive."""
        monitor = self.watch.monitor

        def load() -> Loaded:
            return monitor.clock(), monitor.latest(), monitor.history(DAY)

        self.ctx.tasks.start("Health history", load, self._show, owner=self, quiet=True)

    def _show(self, loaded: Loaded) -> None:
        self.loaded = loaded
        now, latest, history = loaded
        by_name = {r.name: r for r in latest}
        for name, row in self.rows.items():
            row.show_result(by_name.get(name), history.get(name, []), now)
        problems = [r for r in latest if r.status != "ok"]
        if not latest:
            self.summary.setText("Not checked yet")
        elif problems:
            count = len(problems)
            self.summary.setText(f"{count} check{'s' if count != 1 else ''} need{'' if count != 1 else 's'} a look")
        else:
            self.summary.setText(f"All good · checked {clock(max(r.checked_at for r in latest), now=now)}")
        self.changes.clear()
        for result, before in changes(history):
            line = (
                f"{clock(result.checked_at, now=now)}  {TITLES[result.name]}: {WORDS[before or 'ok']} → "
                f"{WORDS[result.status]} — {result.sentence}"
            )
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(dot_pixmap(status_color(result.status), 10)), line)
            self.changes.addItem(item)
        if not self.changes.count():
            self.changes.addItem("No changes in the last 24 hours.")

    def _busy(self, busy: bool) -> None:
        self.check_now.setEnabled(not busy)
        self.check_now.setText("Checking…" if busy else "Check now")
