"""Settings › Business hours: the weekly schedule with holidays, and the welcome and away messages.

Two cards. **Weekly hours**: "Use business hours" (off: always open, so no away message), then a row per day (open
or closed, its intervals as time editors, add and remove an interval) and the holidays (a date picker, an optional
name). The time zone is the workspace's, shown, not picked here. A live line says whether the business is open now by
the schedule as edited. **Welcome and away messages**: each a switch and a template, with the variables it may use,
a live preview for a sample customer and the sentence that refuses an unknown variable as it is typed; how often the
away message may repeat to one contact. Both save through operations (``app.store.ops.business_hours``) on the task
runner; a refused value is shown as the operation's sentence and nothing is saved. The logic is
``app.agents.hours`` / ``templates`` / ``greetings`` (no Qt); this page only edits and shows.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

from app.agents.greetings import GreetingsConfig, load_config
from app.agents.hours import DAY_NAMES, WEEKDAYS, BusinessHours, Holiday, Interval, Schedule, parse_schedule
from app.agents.templates import VARIABLES, Recipient, check_template, fill, format_opening, variables_for
from app.core.errors import InvalidInput
from app.core.ids import utc_now
from app.core.zones import is_zone, zone_names
from app.qt import QtCore, QtWidgets, Signal
from app.store.ops.business_hours import save_business_hours, save_greetings
from app.ui import kit
from app.ui.context import AppContext, StaleWhenHidden

SAMPLE_NAME = "Ana Souza"
_QT_TIME = "HH:mm"


def _time(text: str) -> QtCore.QTime:
    hours, minutes = (int(p) for p in ("00:00" if text == "24:00" else text).split(":"))
    return QtCore.QTime(hours, minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class IntervalRow(QtWidgets.QWidget):
    """Two time editors and a remove button. An end of 00:00 is midnight (stored as 24:00)."""

    removed = Signal(object)
    changed = Signal()

    def __init__(self, interval: Interval, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.start = QtWidgets.QTimeEdit(_time(interval.start))
        self.end = QtWidgets.QTimeEdit(_time(interval.end))
        for edit, name in ((self.start, "Opens at"), (self.end, "Closes at")):
            edit.setDisplayFormat(_QT_TIME)
            edit.setAccessibleName(name)
            edit.timeChanged.connect(lambda _t: self.changed.emit())
        self.remove = QtWidgets.QToolButton()
        self.remove.setText("Remove")
        self.remove.setToolTip("Remove this interval")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.start)
        layout.addWidget(QtWidgets.QLabel("–"))
        layout.addWidget(self.end)
        self.next_day = kit.note("next day")  # an end before the start runs past midnight
        layout.addWidget(self.next_day)
        layout.addWidget(self.remove)
        layout.addStretch(1)
        self.changed.connect(self._mark_next_day)
        self._mark_next_day()

    def _mark_next_day(self) -> None:
        value = self.interval()
        self.next_day.setVisible(value["end"] != "24:00" and value["end"] < value["start"])

    def interval(self) -> dict[str, str]:
        start, end = self.start.time().toString(_QT_TIME), self.end.time().toString(_QT_TIME)
        return {"start": start, "end": "24:00" if end == "00:00" else end}


class DayRow(QtWidgets.QWidget):
    """One weekday: open or closed, and its intervals."""

    changed = Signal()

    def __init__(self, weekday: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.weekday = weekday
        self.open = QtWidgets.QCheckBox(DAY_NAMES[weekday])
        self.open.setMinimumWidth(110)
        self.closed_note = kit.note("Closed")
        self.rows: list[IntervalRow] = []
        self.intervals = QtWidgets.QVBoxLayout()
        self.intervals.setContentsMargins(0, 0, 0, 0)
        self.add = QtWidgets.QToolButton()
        self.add.setText("Add interval")
        self.add.clicked.connect(self.add_interval)
        right = QtWidgets.QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.closed_note)
        right.addLayout(self.intervals)
        right.addWidget(self.add, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.open, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        layout.addLayout(right, 1)
        self.open.toggled.connect(self._toggled)

    def set_intervals(self, intervals: list[Interval]) -> None:
        for row in list(self.rows):
            self._drop(row)
        for interval in intervals:
            self._append(interval)
        self.open.blockSignals(True)
        self.open.setChecked(bool(intervals))
        self.open.blockSignals(False)
        self._sync()

    def add_interval(self) -> None:
        """A new interval after the last one (09:00–18:00 on an empty day)."""
        if not self.rows:
            self._append(Interval(start="09:00", end="18:00"))
        else:
            hours, minutes = (int(p) for p in self.rows[-1].interval()["end"].split(":"))
            start = (hours * 60 + minutes) % (24 * 60)
            end = min(start + 60, 24 * 60)
            self._append(Interval(start=_clock(start), end=_clock(end)))
        self.open.blockSignals(True)
        self.open.setChecked(True)
        self.open.blockSignals(False)
        self._sync()
        self.changed.emit()

    def _append(self, interval: Interval) -> None:
        row = IntervalRow(interval)
        row.removed.connect(self._remove)
        row.changed.connect(self.changed.emit)
        self.rows.append(row)
        self.intervals.addWidget(row)
        self._order_tabs()

    def _drop(self, row: IntervalRow) -> None:
        self.rows.remove(row)
        self.intervals.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._order_tabs()

    def _order_tabs(self) -> None:
        """Tab goes through the day as it reads: the day, each interval's times and Remove, then "Add interval".
        An interval made after the page joined the end of the focus chain, so Tab skipped every time editor."""
        chain: list[QtWidgets.QWidget] = [self.open]
        for row in self.rows:
            chain += [row.start, row.end, row.remove]
        chain.append(self.add)
        for first, second in pairwise(chain):
            QtWidgets.QWidget.setTabOrder(first, second)

    def _remove(self, row: object) -> None:
        if isinstance(row, IntervalRow) and row in self.rows:
            self._drop(row)
            if not self.rows:
                self.open.blockSignals(True)
                self.open.setChecked(False)
                self.open.blockSignals(False)
            self._sync()
            self.changed.emit()

    def _toggled(self, checked: bool) -> None:
        if checked and not self.rows:
            self._append(Interval(start="09:00", end="18:00"))
        self._sync()
        self.changed.emit()

    def _sync(self) -> None:
        is_open = self.open.isChecked()
        self.closed_note.setVisible(not is_open)
        for row in self.rows:
            row.setVisible(is_open)
        self.add.setVisible(is_open)

    def value(self) -> list[dict[str, str]]:
        return [row.interval() for row in self.rows] if self.open.isChecked() else []


class HoursCard(kit.Card):
    """The weekly grid and the holidays. ``hours_edited`` carries the hours as edited (before saving), so the away
    message's preview says when the business opens by the hours on screen."""

    saved = Signal()
    hours_edited = Signal(object)  # BusinessHours

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Weekly hours", parent)
        self.ctx = ctx
        self.timezone = "UTC"
        self.holidays: list[Holiday] = []
        self.dirty = False
        self.loaded = False
        self.body.addWidget(
            kit.note(
                "When you answer customers. Outside these hours the away message goes out (if it is on). "
                "An interval that ends before it starts runs past midnight: Friday 22:00–02:00 closes at 02:00 on "
                "Saturday. A closing time of 00:00 is midnight."
            )
        )
        self.zone = QtWidgets.QComboBox()
        self.zone.setEditable(True)
        self.zone.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.zone.addItems(zone_names())
        self.zone.setAccessibleName("Business time zone")
        self.zone.setMinimumContentsLength(22)
        finder = self.zone.completer()
        if finder is not None:  # type to find: "jakarta" finds Asia/Jakarta
            finder.setFilterMode(QtCore.Qt.MatchFlag.MatchContains)
            finder.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
        self.zone.currentTextChanged.connect(self._zone_edited)
        zone_row = QtWidgets.QHBoxLayout()
        zone_label = QtWidgets.QLabel("Time zone")
        zone_label.setBuddy(self.zone)
        zone_row.addWidget(zone_label)
        zone_row.addWidget(self.zone)
        zone_row.addStretch(1)
        self.body.addLayout(zone_row)
        self.zone_note = kit.note(
            "The business's time zone, shared with your team: these hours, follow-up times and WhatsApp's quiet "
            "hours are in it."
        )
        self.body.addWidget(self.zone_note)
        self.use = QtWidgets.QCheckBox("Use business hours")
        self.use.setToolTip("Off: always open, so the away message never goes out")
        self.use.toggled.connect(self._edited)
        self.body.addWidget(self.use)
        self.grid = QtWidgets.QWidget()
        grid = QtWidgets.QVBoxLayout(self.grid)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        self.days: dict[str, DayRow] = {}
        for weekday in WEEKDAYS:
            row = DayRow(weekday)
            row.changed.connect(self._edited)
            self.days[weekday] = row
            grid.addWidget(row)
        grid.addWidget(kit.subheading("Holidays"))
        grid.addWidget(kit.note("Closed all day on these dates (a night that started the day before still ends)."))
        self.holiday_list = QtWidgets.QListWidget()
        self.holiday_list.setMaximumHeight(120)
        grid.addWidget(self.holiday_list)
        self.holiday_date = QtWidgets.QDateEdit(QtCore.QDate.currentDate())
        self.holiday_date.setCalendarPopup(True)
        self.holiday_date.setDisplayFormat("yyyy-MM-dd")
        self.holiday_date.setAccessibleName("Holiday date")
        self.holiday_name = QtWidgets.QLineEdit()
        self.holiday_name.setPlaceholderText("Name (optional), e.g. Christmas")
        self.holiday_name.setMaxLength(80)
        self.add_holiday_button = QtWidgets.QPushButton("Add holiday")
        self.add_holiday_button.clicked.connect(self.add_holiday)
        self.remove_holiday_button = QtWidgets.QPushButton("Remove")
        self.remove_holiday_button.clicked.connect(self.remove_holiday)
        adder = QtWidgets.QHBoxLayout()
        adder.addWidget(self.holiday_date)
        adder.addWidget(self.holiday_name, 1)
        adder.addWidget(self.add_holiday_button)
        adder.addWidget(self.remove_holiday_button)
        grid.addLayout(adder)
        self.body.addWidget(self.grid)
        self.now_note = kit.note()
        self.error = kit.note(kind="error")
        self.error.hide()
        self.status = kit.note()
        self.save_button = kit.primary_button("Save hours")
        self.save_button.setEnabled(False)  # until something is changed
        self.save_button.clicked.connect(self.save)
        self.body.addWidget(self.now_note)
        self.body.addWidget(self.error)
        self.body.addLayout(kit.button_row(self.status, self.save_button))
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"orgs"}), lambda _t: self.reload())
        self.reload()

    # ---- loading ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Show the stored schedule, unless there are unsaved edits (they stay)."""
        if self.dirty:
            return
        store = self.ctx.store

        def read() -> tuple[dict[str, Any], str]:
            org = store.orgs.get(store.org_id)
            return org.business_hours, org.timezone

        self.ctx.tasks.start("Loading business hours", read, self._show, self._failed, owner=self, quiet=True)

    def _show(self, stored: tuple[dict[str, Any], str]) -> None:
        raw, self.timezone = stored
        try:
            schedule = parse_schedule(raw)
        except InvalidInput as error:  # stored by an older or newer Parley: shown as none, the reason beside it
            schedule = Schedule()
            self._failed(f"The saved hours could not be read ({error}); set them again.")
        self.zone.blockSignals(True)
        self.zone.setCurrentText(self.timezone)
        self.zone.blockSignals(False)
        self.use.blockSignals(True)
        self.use.setChecked(not schedule.always_open)
        self.use.blockSignals(False)
        for weekday, row in self.days.items():
            row.set_intervals(schedule.day(weekday))  # type: ignore[arg-type]  # keys are WEEKDAYS
        self.holidays = list(schedule.holidays)
        self._fill_holidays()
        self.dirty = False
        self.loaded = True
        self.save_button.setEnabled(False)
        self._update_now()

    # ---- editing ---------------------------------------------------------------------------------------------
    def _edited(self) -> None:
        self.dirty = True
        self.save_button.setEnabled(True)
        self.status.clear()
        self.error.hide()
        self._update_now()

    def _zone_edited(self, text: str) -> None:
        if is_zone(text):
            self.timezone = text
        self._edited()

    def _fill_holidays(self) -> None:
        self.holiday_list.clear()
        for holiday in sorted(self.holidays, key=lambda h: h.date):
            text = holiday.date.isoformat() + (f"  —  {holiday.name}" if holiday.name else "")
            item = QtWidgets.QListWidgetItem(text)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, holiday.date.isoformat())
            self.holiday_list.addItem(item)
        self.remove_holiday_button.setEnabled(bool(self.holidays))

    def add_holiday(self) -> None:
        picked = self.holiday_date.date()
        day = date(picked.year(), picked.month(), picked.day())
        if any(h.date == day for h in self.holidays):
            self._failed(f"{day.isoformat()} is already a holiday.")
            return
        self.holidays.append(Holiday(date=day, name=" ".join(self.holiday_name.text().split())))
        self.holiday_name.clear()
        self._fill_holidays()
        self._edited()

    def remove_holiday(self) -> None:
        if self.holiday_list.count() == 0:
            return
        item = self.holiday_list.item(max(self.holiday_list.currentRow(), 0))  # the chosen one, else the first
        chosen = str(item.data(QtCore.Qt.ItemDataRole.UserRole))
        self.holidays = [h for h in self.holidays if h.date.isoformat() != chosen]
        self._fill_holidays()
        self._edited()

    def value(self) -> dict[str, Any]:
        """The schedule as edited, in its stored form (``{}``: not used, always open)."""
        if not self.use.isChecked():
            return {}
        out: dict[str, Any] = {"week": {d: row.value() for d, row in self.days.items() if row.value()}}
        if self.holidays:
            out["holidays"] = [{"date": h.date.isoformat(), "name": h.name} for h in self.holidays]
        return out

    def _update_now(self) -> None:
        self.grid.setEnabled(self.use.isChecked())
        try:
            hours = BusinessHours(parse_schedule(self.value()), self.timezone)
        except InvalidInput as error:
            self.now_note.setText(str(error))
            return
        self.hours_edited.emit(hours)
        now = utc_now()
        if hours.schedule.always_open:
            self.now_note.setText("No business hours: always open, so the away message never goes out.")
        elif hours.is_open(now):
            closing = format_opening(hours.next_closing(now), now, hours.tz)
            self.now_note.setText(f"Open now, by these hours{f' (until {closing})' if closing else ''}.")
        else:
            opening = format_opening(hours.next_opening(now), now, hours.tz)
            self.now_note.setText(f"Closed now, by these hours{f'; opens {opening}' if opening else ''}.")

    # ---- saving ----------------------------------------------------------------------------------------------
    def save(self) -> None:
        store, value, zone = self.ctx.store, self.value(), self.zone.currentText()
        self.error.hide()
        self.save_button.setEnabled(False)

        def write() -> None:
            save_business_hours(store, value, timezone=zone)

        self.ctx.tasks.start("Saving business hours", write, self._saved, self._failed, owner=self)

    def _saved(self, _: None) -> None:
        self.dirty = False
        self.save_button.setEnabled(False)
        self.status.setText("Saved.")
        self.saved.emit()
        self.reload()

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(self.dirty)
        self.error.setText(message)
        self.error.show()


class TemplateBox(QtWidgets.QWidget):
    """A switch, a template editor, the sentence refusing an unknown variable, and a live preview."""

    changed = Signal()

    def __init__(self, switch: str, what: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self.enabled = QtWidgets.QCheckBox(switch)
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(70)
        self.text.setMaximumHeight(110)
        self.text.setAccessibleName(what)
        self.warning = kit.note(kind="error")
        self.warning.hide()
        self.preview = kit.note()
        self.preview.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.enabled)
        layout.addWidget(self.text)
        layout.addWidget(self.warning)
        layout.addWidget(self.preview)
        self.enabled.toggled.connect(lambda _c: self.changed.emit())
        self.text.textChanged.connect(self.changed.emit)

    def update_preview(self, values: dict[str, str]) -> None:
        body = self.text.toPlainText()
        try:
            if body.strip() or self.enabled.isChecked():
                check_template(body, self.what)
            self.warning.hide()
        except InvalidInput as error:
            self.warning.setText(str(error))
            self.warning.show()
        self.preview.setText(f"Preview: {fill(body, values)}" if body.strip() else "Preview: —")


class GreetingsCard(kit.Card):
    """The welcome and away switches and templates."""

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Welcome and away messages", parent)
        self.ctx = ctx
        self.dirty = False
        self.loaded = False
        self.hours = BusinessHours(Schedule(), "UTC")
        self.body.addWidget(
            kit.note(
                "Sent on their own, from the computer connected to WhatsApp. Never in group chats, never to a "
                "message older than 15 minutes (history being caught up on), and never in a chat a person is "
                "answering. A first-time contact outside your hours gets one message: the welcome, then the away "
                "text."
            )
        )
        self.welcome = TemplateBox(
            "Welcome first-time contacts", "The welcome message"
        )  # the first message ever from them here
        self.away = TemplateBox("Send an away message outside business hours", "The away message")
        every = QtWidgets.QHBoxLayout()
        every.setContentsMargins(0, 0, 0, 0)
        self.every = QtWidgets.QSpinBox()
        self.every.setRange(1, 24 * 7)
        self.every.setSuffix(" h")
        self.every.setAccessibleName("Away message at most once per contact every")
        every.addWidget(QtWidgets.QLabel("At most once per contact every"))
        every.addWidget(self.every)
        every.addStretch(1)
        variables = " · ".join(f"{{{name}}} {about}" for name, about in VARIABLES.items())
        self.variables = kit.note(
            f"Variables: {variables}. A missing name becomes “there”. Write {{{{ and }}}} for literal braces.", "hint"
        )
        self.body.addWidget(self.welcome)
        self.body.addWidget(self.away)
        self.body.addLayout(every)
        self.body.addWidget(self.variables)
        self.error = kit.note(kind="error")
        self.error.hide()
        self.status = kit.note()
        self.save_button = kit.primary_button("Save messages")
        self.save_button.setEnabled(False)  # until something is changed
        self.save_button.clicked.connect(self.save)
        self.body.addWidget(self.error)
        self.body.addLayout(kit.button_row(self.status, self.save_button))
        for box in (self.welcome, self.away):
            box.changed.connect(self._edited)
        self.every.valueChanged.connect(lambda _v: self._edited())
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"agent_configs", "orgs"}), lambda _t: self.reload())
        self.reload()

    def reload(self) -> None:
        store = self.ctx.store

        def read() -> tuple[GreetingsConfig, BusinessHours]:
            org = store.orgs.get(store.org_id)
            return load_config(store)[0], BusinessHours.from_org(org.business_hours, org.timezone)

        self.ctx.tasks.start(
            "Loading welcome and away messages", read, self._show, self._failed, owner=self, quiet=True
        )

    def _show(self, loaded: tuple[GreetingsConfig, BusinessHours]) -> None:
        config, self.hours = loaded
        if not self.dirty:  # unsaved edits stay; the schedule behind the preview is always the stored one
            for widget in (self.welcome.enabled, self.welcome.text, self.away.enabled, self.away.text, self.every):
                widget.blockSignals(True)
            self.welcome.enabled.setChecked(config.welcome_enabled)
            self.welcome.text.setPlainText(config.welcome_text)
            self.away.enabled.setChecked(config.away_enabled)
            self.away.text.setPlainText(config.away_text)
            self.every.setValue(config.away_every_hours)
            for widget in (self.welcome.enabled, self.welcome.text, self.away.enabled, self.away.text, self.every):
                widget.blockSignals(False)
        self.loaded = True
        self.save_button.setEnabled(False)
        self.update_previews()

    def _edited(self) -> None:
        self.dirty = True
        self.save_button.setEnabled(True)
        self.status.clear()
        self.error.hide()
        self.update_previews()

    def show_hours(self, hours: BusinessHours) -> None:
        """Preview with ``hours`` as edited on the Weekly hours card (saved or not)."""
        self.hours = hours
        self.update_previews()

    def update_previews(self) -> None:
        now = utc_now()
        opening = format_opening(self.hours.next_opening(now), now, self.hours.tz)
        values = variables_for(Recipient(SAMPLE_NAME), self.ctx.business_name, opening)
        self.welcome.update_preview(values)
        self.away.update_preview(values)

    def value(self) -> GreetingsConfig:
        return GreetingsConfig(
            welcome_enabled=self.welcome.enabled.isChecked(),
            welcome_text=self.welcome.text.toPlainText(),
            away_enabled=self.away.enabled.isChecked(),
            away_text=self.away.text.toPlainText(),
            away_every_hours=self.every.value(),
        )

    def save(self) -> None:
        store, value = self.ctx.store, self.value()
        self.error.hide()
        self.save_button.setEnabled(False)

        def write() -> GreetingsConfig:
            return save_greetings(store, value).value

        self.ctx.tasks.start("Saving welcome and away messages", write, self._saved, self._failed, owner=self)

    def _saved(self, _: GreetingsConfig) -> None:
        self.dirty = False
        self.save_button.setEnabled(False)
        self.status.setText("Saved.")
        self.reload()

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(self.dirty)
        self.error.setText(message)
        self.error.show()
