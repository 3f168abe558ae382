"""The Agents page: each agent's switch, mode, limits and message with its versions, and the answers to "why didn't it
fire?" (the execution log, "Try on this chat", the jobs list — ``agents_log.py``).

**Settings.** The agents are the four configurable kinds (``app.agents.configs``): acquisition (with the welcome and
away messages, which live in its config and are edited in Settings › Business hours), finance, retention and
health. Per agent: on/off, the mode where it applies (off / suggest / autopilot: acquisition and retention; finance
and health are rules), and the fields its code reads — the conversation limits (pause after a person writes,
debounce, cooldown, rate cap) and the autopilot's limits (``app.agents.acquisition.Limits``) for acquisition; the
follow-up's delay, message and opt-out words for retention. Finance's thresholds are settings of this computer
(Settings › Finance) and are shown, not edited, here. Save writes a *new version* (``configs.save``, with the note
typed beside it); the history lists every version with who saved it, and "Roll back to this" writes a new version
copying an old one (``configs.roll_back``): history is never rewritten. Writes run on the task runner; the page
follows ``agent_configs`` changes, so a teammate's save shows by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.agents import acquisition, configs, retention
from app.agents.greetings import CONFIG_KEY as GREETINGS_KEY
from app.agents.greetings import load_config as load_greetings
from app.agents.greetings import parse_config as parse_greetings
from app.core.models import AgentConfig, AgentMode
from app.core.settings import Settings
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.store import Store
from app.ui import kit
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.pages.agents_log import ExecutionLog, JobsList, TryOnChat
from app.ui.widgets.tables import cell, read_only_table
from app.ui.widgets.whatsapp_indicator import clock

# wa_sessions: the number's holder, which says where a waiting follow-up runs (the jobs list).
TABLES = frozenset({"agent_configs", "agent_executions", "jobs", "users", "chats", "settings", "wa_sessions"})
REFRESH_MS = 300  # a burst of runs (each writes an execution) reloads the log once

TITLES: dict[str, str] = {
    "acquisition": "Acquisition",
    "finance": "Finance",
    "retention": "Retention",
    "health": "Health monitor",
}
ABOUT: dict[str, str] = {
    "acquisition": "Answers new customers: suggests replies (drafts in the chat's AI panel) or, on autopilot, sends "
    "them within the limits below; hands a chat to a person on hand-off words or low confidence. The welcome and "
    "away messages are part of it.",
    "finance": "Records sales, keeps each customer's lifetime value and checks yesterday's revenue every morning "
    "against the same weekday of the last weeks (rules, no AI).",
    "retention": "Follows up a few days after a sale, from a template or drafted by the AI; skipped when the customer "
    "wrote meanwhile or opted out.",
    "health": "Checks WhatsApp, the database, the AI, sync and disk space every 5 minutes and when something fails; "
    "the Health page shows the results.",
}
MODE_WORDS: dict[str, str] = {"off": "Off", "draft": "Suggest (drafts)", "autopilot": "Autopilot"}
WITH_MODES = ("acquisition", "retention")


@dataclass(frozen=True)
class Field:
    """One setting an agent's code reads: where it lives in the config (a key, or a key inside a nested object)."""

    path: tuple[str, ...]
    label: str
    kind: str  # "int", "percent" (a 0..1 float shown as %), "text", "words" (a list), "bool"
    default: Any
    suffix: str = ""
    low: int = 0
    high: int = 1_000_000
    help: str = ""


_AUTO = acquisition.Limits()
_RET = retention.RetentionConfig()
FIELDS: dict[str, list[Field]] = {
    "acquisition": [
        Field(("pause_hours",), "Pause after a person writes", "int", 12, " h", 0, 24 * 30,
              "A person's message (in Parley, on the phone, in WhatsApp Web) stops the AI on that chat this long."),
        Field(("debounce_seconds",), "Wait for a burst to end", "int", 20, " s", 0, 600,
              "Several customer messages in a row get one answer, after this quiet time."),
        Field(("cooldown_seconds",), "Per-chat cooldown", "int", 30, " s", 0, 86400,
              "At most one automatic reply per chat this often."),
        Field(("rate_per_minute",), "Automatic replies per minute", "int", 8, "", 1, 60,
              "Over all chats: WhatsApp bans numbers that send too fast."),
        Field((acquisition.CONFIG_KEY, "max_replies_per_day"), "Replies per customer per day", "int",
              _AUTO.max_replies_per_day, "", 0, 1000, "Automatic replies to one customer since midnight."),
        Field((acquisition.CONFIG_KEY, "max_replies_in_a_row"), "Replies in a row before a person", "int",
              _AUTO.max_replies_in_a_row, "", 1, 100, "Automatic replies since a person last wrote in the chat."),
        Field((acquisition.CONFIG_KEY, "min_confidence"), "Send only above confidence", "percent",
              _AUTO.min_confidence, " %", 0, 100, "Below this the AI's answer stays a draft."),
        Field((acquisition.CONFIG_KEY, "handoff_below_confidence"), "Hand to a person below", "percent",
              _AUTO.handoff_below_confidence, " %", 0, 100, "Below this a person takes the chat."),
        Field((acquisition.CONFIG_KEY, "handoff_words"), "Hand-off words", "words", list(_AUTO.handoff_words),
              help="A customer message with one of these (comma separated) goes to a person."),
    ],
    "retention": [
        Field(("days",), "Follow up after", "int", _RET.days, " days", 1, retention.MAX_DAYS),
        Field(("ai_draft",), "Let the AI write the follow-up", "bool", _RET.ai_draft,
              help="Off: the message below is sent as written (its variables filled)."),
        Field(("template",), "Follow-up message", "text", _RET.template),
        Field(("stop_words",), "Opt-out words", "words", list(_RET.stop_words),
              help="A customer message that is only one of these opts them out of follow-ups."),
    ],
}  # fmt: skip


def field_value(config: dict[str, Any], spec: Field) -> Any:
    node: Any = config
    for key in spec.path:
        if not isinstance(node, dict) or key not in node:
            if spec.path == ("days",):  # retention's declared default is named follow_up_days
                return config.get("follow_up_days", spec.default)
            return spec.default
        node = node[key]
    return node


def changes_for(current: dict[str, Any], values: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """The config keys to save for the edited ``values``: a nested object is written whole (its other keys kept)."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        if len(path) == 1:
            out[path[0]] = value
        else:
            base = out.get(path[0])
            if base is None:
                found = current.get(path[0])
                base = dict(found) if isinstance(found, dict) else {}
            base[path[1]] = value
            out[path[0]] = base
    return out


def _shown(spec: Field, value: Any) -> str:
    if spec.kind == "percent":
        return f"{round(float(value) * 100)} %"
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "words":
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if spec.suffix == " days" and value == 1:
        return "1 day"
    return f"{value}{spec.suffix}"


def differences(agent: str, now: configs.Current | AgentConfig, then: AgentConfig) -> list[str]:
    """What writing ``then`` over the settings in force changes, in words, one line each — the welcome and away
    messages included: they live in acquisition's versions, so a roll back switches them too (seen in the app: a
    roll back of a limit turned the welcome message off, and the page never said so)."""
    lines: list[str] = []
    if now.enabled != then.enabled:
        lines.append(f"The agent: {'on' if now.enabled else 'off'} → {'on' if then.enabled else 'off'}")
    if agent in WITH_MODES and now.mode != then.mode:
        lines.append(f"Mode: {MODE_WORDS.get(now.mode, now.mode)} → {MODE_WORDS.get(then.mode, then.mode)}")
    for spec in FIELDS.get(agent, []):
        before, after = field_value(now.config, spec), field_value(then.config, spec)
        if spec.kind == "text":
            if before != after:
                lines.append(f"{spec.label}: its text changes")
        elif _shown(spec, before) != _shown(spec, after):
            lines.append(f"{spec.label}: {_shown(spec, before)} → {_shown(spec, after)}")
    if agent == "acquisition":
        old, new = parse_greetings(now.config.get(GREETINGS_KEY)), parse_greetings(then.config.get(GREETINGS_KEY))
        for name, on_now, on_then in (
            ("Welcome message", old.welcome_enabled, new.welcome_enabled),
            ("Away message", old.away_enabled, new.away_enabled),
        ):
            if on_now != on_then:
                lines.append(f"{name}: {'on' if on_now else 'off'} → {'on' if on_then else 'off'}")
        if old.welcome_text != new.welcome_text:
            lines.append("Welcome message: its text changes")
        if old.away_text != new.away_text:
            lines.append("Away message: its text changes")
        if old.away_every_hours != new.away_every_hours:
            lines.append(f"Away message at most every: {old.away_every_hours} h → {new.away_every_hours} h")
    return lines


# ---- reading (on a worker) ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentState:
    agent: str
    current: configs.Current
    history: list[AgentConfig]
    authors: dict[str, str]
    extra: str  # a line about what is edited elsewhere (greetings, finance's settings)


def _names(store: Store, ids: set[str]) -> dict[str, str]:
    names = {}
    for user_id in ids:
        user = store.users.find(user_id)
        names[user_id] = user.name if user is not None and user.name.strip() else "a teammate"
    return names


def finance_line(settings: Settings) -> str:
    """Finance's thresholds, which are settings of this computer (read on the worker: they read the store)."""
    f = settings.finance
    check = str(f.check_time) or "never (off)"
    return (
        f"Alerts when yesterday's revenue is {int(f.drop_threshold)} % or more below the average of the same "
        f"weekday in the last {int(f.drop_weeks)} weeks; checked each day at {check} (Settings › Finance)."
    )


def read_agents(store: Store, finance: str) -> dict[str, AgentState]:
    states: dict[str, AgentState] = {}
    for agent in configs.AGENTS:
        history = configs.history(store, agent)
        authors = _names(store, {c.author_user_id for c in history if c.author_user_id})
        extra = ""
        if agent == "acquisition":
            greetings, _version = load_greetings(store)
            welcome = "on" if greetings.welcome_enabled else "off"
            away = "on" if greetings.away_enabled else "off"
            extra = f"Welcome message: {welcome} · Away message: {away} — edited in Settings › Business hours."
        elif agent == "finance":
            extra = finance
        states[agent] = AgentState(agent, configs.current(store, agent), history, authors, extra)
    return states


def version_line(state: AgentState, now: datetime | None = None) -> str:
    """ "Version 4 · saved 14:02 by Ana", or that the defaults were never saved."""
    if state.current.version == 0 or not state.history:
        return "Default settings · never saved"
    top = state.history[0]
    who = state.authors.get(top.author_user_id or "", "")
    by = f" by {who}" if who else ""
    return f"Version {top.version} · saved {clock(top.updated_at, now=now)}{by}"


def summary(enabled: bool, mode: str, agent: str) -> str:
    if not enabled:
        return "Off"
    return MODE_WORDS.get(mode, mode) if agent in WITH_MODES else "On"


# ---- one agent's editor -------------------------------------------------------------------------------------------
class AgentEditor(QtWidgets.QFrame):
    saved = Signal(str)  # the agent, after a version was written

    def __init__(self, ctx: AppContext, agent: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.ctx = ctx
        self.agent = agent
        self.state: AgentState | None = None
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self.inputs: dict[tuple[str, ...], QtWidgets.QWidget] = {}
        title = kit.subheading(TITLES[agent])
        title.setObjectName("emptyTitle")
        self.version = kit.note()
        self.version.setWordWrap(False)
        self.enabled = QtWidgets.QCheckBox("On")
        self.enabled.setToolTip(f"Switch the {TITLES[agent].lower()} agent on or off")
        self.mode = QtWidgets.QComboBox()
        self.mode.setObjectName(f"agentMode-{agent}")
        for mode, words in MODE_WORDS.items():
            self.mode.addItem(words, mode)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(12)
        head.addWidget(self.enabled)
        head.addStretch(1)
        head.addWidget(self.version)
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        if agent in WITH_MODES:
            form.addRow("Mode", self.mode)
        for spec in FIELDS.get(agent, []):
            widget = self._input(spec)
            widget.setObjectName(f"agentField-{agent}-{'.'.join(spec.path)}")
            self.inputs[spec.path] = widget
            if spec.help:
                widget.setToolTip(spec.help)
            form.addRow(spec.label, widget)
        self.note = QtWidgets.QLineEdit(placeholderText="What changed (optional), kept with the version")
        self.note.returnPressed.connect(self.save_now)  # Enter after the note saves, as a form's last field does
        form.addRow("Note", self.note)
        self.extra = kit.note()
        self.extra.hide()
        self.error = kit.note(kind="error")
        self.error.hide()
        self.save = kit.primary_button("Save as a new version")
        self.save.setEnabled(False)
        self.save.clicked.connect(self.save_now)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(kit.note(ABOUT[agent]))
        layout.addWidget(self.extra)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(kit_row(self.save))
        self.history = read_only_table(["Version", "Saved", "By", "Settings", "Note"], 4)
        self.history.setObjectName(f"history-{agent}")
        # What each version changed and its note share the spare width (sized to its contents, a long change list
        # squeezed the note to "Autopilot …"); each is whole in its tooltip.
        self.history.horizontalHeader().setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.history.setMinimumHeight(130)
        self.history.itemSelectionChanged.connect(self._history_selected)
        self.roll_back = QtWidgets.QPushButton("Roll back to this")
        self.roll_back.setToolTip("Save a new version with the settings of the version selected")
        self.roll_back.setEnabled(False)
        self.roll_back.clicked.connect(self.roll_back_now)
        layout.addWidget(kit.subheading("Versions"))
        layout.addWidget(self.history)
        layout.addLayout(kit_row(self.roll_back))
        self.enabled.toggled.connect(self._edited)
        self.mode.currentIndexChanged.connect(self._edited)

    def _input(self, spec: Field) -> QtWidgets.QWidget:
        if spec.kind in ("int", "percent"):
            spin = QtWidgets.QSpinBox()
            spin.setRange(spec.low, spec.high)
            spin.setSuffix(spec.suffix)
            if spec.suffix == " days":  # "1 days" read wrong (seen in the app, retention set to one day)
                spin.valueChanged.connect(lambda value, spin=spin: spin.setSuffix(" day" if value == 1 else " days"))
            spin.setFixedWidth(120)
            spin.valueChanged.connect(self._edited)
            return spin
        if spec.kind == "bool":
            box = QtWidgets.QCheckBox()
            box.toggled.connect(self._edited)
            return box
        if spec.kind == "text":
            text = QtWidgets.QPlainTextEdit()
            text.setMaximumHeight(90)
            text.textChanged.connect(self._edited)
            return text
        line = QtWidgets.QLineEdit()
        line.textChanged.connect(self._edited)
        line.returnPressed.connect(self.save_now)
        return line

    # ---- values ----------------------------------------------------------------------------------------------
    def _set(self, spec: Field, value: Any) -> None:
        widget = self.inputs[spec.path]
        widget.blockSignals(True)
        if isinstance(widget, QtWidgets.QSpinBox):
            number = round(float(value) * 100) if spec.kind == "percent" else int(value)
            widget.setValue(number)
        elif isinstance(widget, QtWidgets.QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QtWidgets.QPlainTextEdit):
            widget.setPlainText(str(value))
        elif isinstance(widget, QtWidgets.QLineEdit):
            widget.setText(", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value))
            widget.setCursorPosition(0)  # the list's start shows, not its end ("…n, person, manager")
        widget.blockSignals(False)

    def _get(self, spec: Field) -> Any:
        widget = self.inputs[spec.path]
        if isinstance(widget, QtWidgets.QSpinBox):
            return widget.value() / 100 if spec.kind == "percent" else widget.value()
        if isinstance(widget, QtWidgets.QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QtWidgets.QPlainTextEdit):
            return widget.toPlainText().strip()
        assert isinstance(widget, QtWidgets.QLineEdit)
        return [w.strip() for w in widget.text().split(",") if w.strip()]

    def edited_values(self) -> dict[tuple[str, ...], Any]:
        """The fields whose value differs from the version in force."""
        if self.state is None:
            return {}
        config = self.state.current.config
        out = {}
        for spec in FIELDS.get(self.agent, []):
            value = self._get(spec)
            before = field_value(config, spec)
            if isinstance(before, tuple):
                before = list(before)
            same = round(float(before) * 100) == round(value * 100) if spec.kind == "percent" else value == before
            if not same:
                out[spec.path] = value
        return out

    def is_edited(self) -> bool:
        if self.state is None:
            return False
        now = self.state.current
        return (
            self.enabled.isChecked() != now.enabled
            or (self.agent in WITH_MODES and self.mode.currentData() != now.mode)
            or bool(self.edited_values())
        )

    def _edited(self, *_args: object) -> None:
        self.save.setEnabled(self.is_edited())
        self.mode.setEnabled(self.enabled.isChecked())

    # ---- showing ---------------------------------------------------------------------------------------------
    def show_state(self, state: AgentState, *, keep_edits: bool = False) -> None:
        """The version in force; a person's unsaved edits are kept when a change arrives (``keep_edits``)."""
        edited = keep_edits and self.is_edited()
        self.state = state
        now = state.current
        self.version.setText(version_line(state))
        self.extra.setText(state.extra)
        self.extra.setVisible(bool(state.extra))
        if not edited:
            for box, value in ((self.enabled, now.enabled),):
                box.blockSignals(True)
                box.setChecked(value)
                box.blockSignals(False)
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(max(0, self.mode.findData(now.mode)))
            self.mode.blockSignals(False)
            for spec in FIELDS.get(self.agent, []):
                self._set(spec, field_value(now.config, spec))
        self._edited()
        chosen = self.chosen_version()
        self.history.setRowCount(len(state.history))
        for i, version in enumerate(state.history):
            who = state.authors.get(version.author_user_id or "", "")
            mark = " (in force)" if i == 0 else ""
            item = cell(f"{version.version}{mark}")
            item.setData(Qt.ItemDataRole.UserRole, version.version)
            self.history.setItem(i, 0, item)
            self.history.setItem(i, 1, cell(clock(version.updated_at)))
            self.history.setItem(i, 2, cell(who))
            self.history.setItem(i, 3, self._settings_cell(version, state.history[i + 1 : i + 2]))
            self.history.setItem(i, 4, cell(version.note, tip=version.note or None))
        # The version chosen stays chosen by its number: a save adds a row on top, and the row index left selected
        # would be another version, with "Roll back to this" offering it (seen in the app after a roll back).
        row = next((i for i, v in enumerate(state.history) if v.version == chosen), -1)
        if row >= 0:
            self.history.setCurrentCell(row, 0)
            self.history.selectRow(row)
        else:
            self.history.clearSelection()
            self.history.setCurrentCell(-1, -1)
        self._history_selected()

    def chosen_version(self) -> int | None:
        """The version selected in the history, if any."""
        item = self.history.item(self.history.currentRow(), 0) if self.history.selectedItems() else None
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _settings_cell(self, version: AgentConfig, before: list[AgentConfig]) -> QtWidgets.QTableWidgetItem:
        """The version's mode and what it changed from the one before ("Autopilot · Pause after a person writes:
        8 h → 10 h"): with the mode alone, versions that differ read the same and a roll back is a guess."""
        words = summary(version.enabled, version.mode, self.agent)
        if before:
            changed = differences(self.agent, before[0], version)
        else:  # the first version: what it changed from the defaults ("1 days" was saved, the row read "Autopilot")
            d = configs.DEFAULTS[version.agent]
            defaults = configs.Current(version.agent, 0, version.enabled, version.mode, dict(d.config))
            changed = differences(self.agent, defaults, version)
        shown = changed[:2] + ([f"{len(changed) - 2} more"] if len(changed) > 2 else [])
        text = " · ".join([words, *shown])
        return cell(text, tip="\n".join([words, *changed]) if changed else None)

    def _history_selected(self) -> None:
        row = self.history.currentRow()
        self.roll_back.setEnabled(bool(self.history.selectedItems()) and row > 0)

    # ---- writing ---------------------------------------------------------------------------------------------
    def _error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def save_now(self) -> None:
        state = self.state
        if state is None or not self.is_edited():
            return
        store, agent = self.ctx.store, self.agent
        enabled = self.enabled.isChecked()
        mode: AgentMode | None = self.mode.currentData() if agent in WITH_MODES else None
        values = self.edited_values()
        if agent == "retention" and ("template",) in values:
            values[("template",)] = str(values[("template",)])
        config = changes_for(state.current.config, values)
        note = self.note.text()

        def write() -> AgentConfig:
            if "template" in config:
                config["template"] = retention.check_followup_template(config["template"])
            if agent == "acquisition" and acquisition.CONFIG_KEY in config:
                acquisition.Limits.model_validate(config[acquisition.CONFIG_KEY])  # refuses a value out of range
            return configs.save(store, agent, enabled=enabled, mode=mode, config=config, note=note)

        self._run("Saving the agent's settings", write)

    def roll_back_now(self) -> None:
        """Ask first, naming what the roll back changes; a version with the settings in force changes nothing."""
        version, state = self.chosen_version(), self.state
        if version is None or state is None:
            return
        [then] = [v for v in state.history if v.version == version]
        changes = differences(self.agent, state.current, then)
        if not changes:
            self._error(f"Version {version} has the settings in force: rolling back would change nothing.")
            return
        store, agent = self.ctx.store, self.agent
        listed = "\n".join(f"• {line}" for line in changes)
        self.confirm_box = kit.confirm(
            self,
            f"Roll back to version {version}?",
            f"A new version with the settings of version {version} is saved. It changes:\n\n{listed}",
            "Roll back",
            lambda: self._run("Rolling back the agent's settings", lambda: configs.roll_back(store, agent, version)),
        )

    def _run(self, name: str, write: Callable[[], AgentConfig]) -> None:
        self._error("")
        self.save.setEnabled(False)
        self.roll_back.setEnabled(False)

        def done(_saved: AgentConfig) -> None:
            self.note.clear()
            self.state = None  # the next read shows the new version, not the edits
            self.saved.emit(self.agent)

        def failed(message: str) -> None:
            self._error(message)
            self._edited()

        self.ctx.tasks.start(name, write, done, failed, owner=self)


def kit_row(*buttons: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
    row = QtWidgets.QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    return row


# ---- the page -------------------------------------------------------------------------------------------------------
class AgentsPage(QtWidgets.QWidget):
    section_requested = Signal(str)
    settings_requested = Signal(str)  # a section of Settings by its name ("Business hours")
    loaded = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.states: dict[str, AgentState] = {}
        self._reads = 0
        top = QtWidgets.QHBoxLayout()
        top.addWidget(kit.page_title("Agents"))
        top.addSpacing(12)
        self.summary = kit.note()
        top.addWidget(self.summary, 1)
        intro = kit.note(
            "Agents handle routine work: they answer only where the AI owns the chat, never over a person, and each "
            "run is logged with the reason when it did nothing. Every save is a new version you can roll back.",
            "hint",
        )
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("agentList")
        self.list.setFixedWidth(220)
        self.editors: dict[str, AgentEditor] = {}
        self.stack = QtWidgets.QStackedWidget()
        for agent in configs.AGENTS:
            item = QtWidgets.QListWidgetItem(TITLES[agent])
            item.setData(Qt.ItemDataRole.UserRole, agent)
            item.setSizeHint(QtCore.QSize(0, 44))
            self.list.addItem(item)
            editor = AgentEditor(ctx, agent)
            editor.saved.connect(lambda _agent: self.refresh())
            self.editors[agent] = editor
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            holder = QtWidgets.QWidget()
            column = QtWidgets.QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 4, 0)
            column.addWidget(editor)
            # Each opens its own section of Settings (it opened wherever Settings was left, e.g. Workspace).
            if agent == "acquisition":
                self.hours_button = QtWidgets.QPushButton("Welcome and away messages…")
                self.hours_button.clicked.connect(lambda: self.settings_requested.emit("Business hours"))
                column.addLayout(kit_row(self.hours_button))
            if agent == "finance":
                self.finance_button = QtWidgets.QPushButton("Finance settings…")
                self.finance_button.clicked.connect(lambda: self.settings_requested.emit("Finance"))
                column.addLayout(kit_row(self.finance_button))
            column.addStretch(1)
            scroll.setWidget(holder)
            self.stack.addWidget(scroll)
        self.list.currentRowChanged.connect(self.stack.setCurrentIndex)
        settings = QtWidgets.QWidget()
        split = QtWidgets.QHBoxLayout(settings)
        split.setContentsMargins(0, 8, 0, 0)
        split.addWidget(self.list)
        split.addWidget(self.stack, 1)

        self.log = ExecutionLog(ctx)
        self.try_on = TryOnChat(ctx)
        self.jobs = JobsList(ctx)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(settings, "Agents")
        self.tabs.addTab(self.log, "Execution log")
        self.tabs.addTab(self.try_on, "Try on a chat")
        self.tabs.addTab(self.jobs, "Jobs")
        self.tabs.currentChanged.connect(self._tab)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)

        self._pending: set[str] = set()
        self._timer = QtCore.QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self._refresh_pending)
        self.watch = StaleWhenHidden(self, ctx.changes, TABLES, self._changed)
        self.list.setCurrentRow(0)
        self.refresh()
        self.log.refresh()
        self.jobs.refresh()
        self.try_on.refresh()

    # ---- reading ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._reads += 1
        seq, store, settings = self._reads, self.ctx.store, self.ctx.settings

        def done(states: dict[str, AgentState]) -> None:
            if seq == self._reads:
                self._show(states)

        self.ctx.tasks.start(
            "Reading the agents", lambda: read_agents(store, finance_line(settings)), done, owner=self, quiet=True
        )

    def _show(self, states: dict[str, AgentState]) -> None:
        self.states = states
        on = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            agent = str(item.data(Qt.ItemDataRole.UserRole))
            state = states[agent]
            now = state.current
            words = summary(now.enabled, now.mode, agent)
            item.setText(f"{TITLES[agent]}\n{words} · {'v' + str(now.version) if now.version else 'defaults'}")
            if now.enabled:
                on.append(TITLES[agent])
            self.editors[agent].show_state(state, keep_edits=True)
        self.summary.setText(f"On: {', '.join(on)}" if on else "All agents are off")
        self.loaded.emit()

    def _changed(self, tables: frozenset[str]) -> None:
        self._pending |= tables
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_pending(self) -> None:
        tables, self._pending = frozenset(self._pending), set()
        if tables & {"agent_configs", "users", "settings"}:
            self.refresh()
        if tables & {"agent_executions", "chats"}:
            self.log.refresh()
        if tables & {"jobs", "wa_sessions"}:
            self.jobs.refresh()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        """A refresh waiting on its timer waits for the page to be shown again (closed: never)."""
        self._timer.stop()
        super().hideEvent(event)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._pending:
            self._timer.start()

    def _tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.try_on:
            self.try_on.refresh()

    def show_agent(self, agent: str) -> AgentEditor:
        self.tabs.setCurrentIndex(0)
        self.list.setCurrentRow(list(self.editors).index(agent))
        return self.editors[agent]
