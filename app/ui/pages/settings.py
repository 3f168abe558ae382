"""Settings: a list of sections on the left, one section at a time on the right, and a search across them.

The sections are Workspace, one per declared setting section (``app.core.settings.SECTIONS``), Team when this window
has team sync, Security and Backup. Every declared setting gets one editor chosen by its kind, with its help text
underneath, and is saved the moment it changes; a value the schema refuses is shown next to the field and not saved.
Adding a setting to the schema adds it here, and to search, with no UI code. The Quick replies card sits in Inbox,
the AI providers card (``ai_settings.py``) and the Team AI card (``team_ai.py``) in AI, the Team sync card
(``sync_settings.py``) in Team. Search (``settings_nav.py``) shows every setting whose label, help or section has the
words typed, under its section's name. The section last shown is remembered on this computer (an internal setting).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.core.errors import describe
from app.core.settings import SECTIONS, SETTINGS, Appearance, Security, Setting
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.keyring_vault import insecure_reason
from app.ui import kit, shortcuts, theme
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.backup_dialogs import BackupDialog, RestoreDialog, human_size
from app.ui.dialogs.change_passphrase import ChangePassphraseDialog, protection_text
from app.ui.dialogs.tracker import DialogTracker
from app.ui.pages.ai_settings import AiProvidersCard
from app.ui.pages.settings_hours import GreetingsCard, HoursCard
from app.ui.pages.sync_settings import SyncSettingsCard
from app.ui.pages.team_ai import TeamAiCard
from app.ui.pages.team_media import TeamMediaCard
from app.ui.widgets.empty_state import EmptyState
from app.ui.widgets.quick_replies_editor import QuickRepliesEditor
from app.ui.widgets.settings_nav import Entry, SettingsNav, summary, terms, words

_INT = re.compile(r"[+-]?\d+")
_INT_LIMIT = 2**31 - 1


class IntBox(QtWidgets.QSpinBox):
    """A spin box that lets an out-of-range number be typed and reports it (``refused``) instead of clamping it.

    The value itself stays within range: on Enter or focus-out the typed number is reported and the box returns to
    its previous value, so the page can say why.
    """

    refused = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        _wheel_when_focused(self, event, super().wheelEvent)

    def validate(self, text: str, pos: int) -> tuple[QtGui.QValidator.State, str, int]:
        state, text, pos = super().validate(text, pos)
        if state == QtGui.QValidator.State.Invalid and _INT.fullmatch(text.strip()):
            state = QtGui.QValidator.State.Intermediate  # keep the keystroke; fixup() reports it
        return state, text, pos

    def fixup(self, text: str) -> str:
        value = text.strip()
        if _INT.fullmatch(value) and not self.minimum() <= int(value) <= self.maximum():
            self.refused.emit(int(value))
        return super().fixup(text)


class ChoiceBox(QtWidgets.QComboBox):
    """A combo box that leaves the mouse wheel to the scrolling page unless it has focus."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        _wheel_when_focused(self, event, super().wheelEvent)


def _wheel_when_focused(
    widget: QtWidgets.QWidget, event: QtGui.QWheelEvent, handle: Callable[[QtGui.QWheelEvent], None]
) -> None:
    """Scrolling the page over a field must not change the setting (a theme flipping mid-scroll, say)."""
    if widget.hasFocus():
        handle(event)
    else:
        event.ignore()  # passes on to the scroll area


class SectionBlock(QtWidgets.QWidget):
    """One section on the right: its name (with "Reset section" when it has several settings), a sentence on what
    it holds, and its cards. While searching only the name is shown over what matched."""

    def __init__(self, title: str, blurb: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = QtWidgets.QVBoxLayout(self)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(12)
        self.heading = kit.page_title(title)
        self.top = kit.title_row(self.heading)
        self.body.addLayout(self.top)
        self.blurb = kit.note(blurb)
        self.blurb.setVisible(bool(blurb))
        self.body.addWidget(self.blurb)


# What each section is for, under its name; a section declared later without one just has none.
BLURBS = {
    "Workspace": "This workspace's name and where its data lives on this computer.",
    "Appearance": "How Parley looks.",
    "Notifications": "When and how Parley tells you about new customer messages.",
    "Inbox": "Writing replies, and the quick replies the composer offers after /.",
    "WhatsApp": "How messages go out: connecting, typing speed, pauses between contacts, limits and quiet hours.",
    "Business hours": "When you are open, and the welcome and away messages customers get on their own.",
    "AI": "Suggested replies and analysis: your preferences, and the providers that answer.",
    "Team": "Share this workspace with your team through a Parley server: sign in, members, devices and conflicts.",
    "Security": "Everything in this workspace is encrypted with one key; this is how that key is kept.",
    "Backup": "Encrypted copies of the whole workspace, and putting one back.",
}
# A declared setting shown in another section than the one it is declared in (its key stays where it is).
PLACED = {Security.backup_reminder_days.key: "Backup"}
# What the cards that are not declared settings are found by in search, besides their section's name.
FOUND_BY = {
    "Workspace": "business name company shop folder location path organisation organization id database size",
    "Quick replies": "quick replies canned responses templates snippets saved answers composer slash shortcut",
    "AI providers": "ai providers provider keys api key model openai anthropic gemini ollama local server byok test",
    "Team AI": "team ai parley server keys limits budget rate usage cost members",
    "Team sync": "team sync sign in sign out log in account create a team join invite members devices conflicts "
    "server password",
    "Media sharing": "team media sharing share photos voice notes documents files server quota space",
    "Business hours": "business hours opening times schedule weekly open closed holidays time zone timezone",
    "Welcome and away": "welcome away greeting greetings out of office first-time contact template variables",
    "Security": "key protection encryption passphrase password change passphrase keyring system keyring",
    "Backup": "backup back up now restore last backup copy export import",
}


def _placed(setting: Setting[Any]) -> str:
    return PLACED.get(setting.key, setting.section)


class SettingsPage(QtWidgets.QWidget):
    """The section list (``nav``) on the left and the chosen section, or what a search found, on the right."""

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.errors: dict[str, QtWidgets.QLabel] = {}
        self.resets: dict[str, QtWidgets.QToolButton] = {}
        self.section_resets: dict[str, QtWidgets.QPushButton] = {}
        self.entries: list[Entry] = []
        self.section_blocks: dict[str, SectionBlock] = {}
        self._dialogs = DialogTracker[QtWidgets.QDialog]()
        self.team_sync: SyncSettingsCard | None = None
        self.team_ai: TeamAiCard | None = None
        self.team_media: TeamMediaCard | None = None
        self.quick_replies = QuickRepliesEditor(ctx)

        column = QtWidgets.QWidget()
        column.setMaximumWidth(820)
        self.column = QtWidgets.QVBoxLayout(column)
        self.column.setContentsMargins(28, 22, 28, 28)
        self.column.setSpacing(28)
        self.results_note = kit.note()
        self.results_note.hide()
        self.column.addWidget(self.results_note)
        for section in self._section_names():
            self._section(section)
        self.column.addStretch(1)

        holder = QtWidgets.QWidget()
        centred = QtWidgets.QHBoxLayout(holder)
        centred.setContentsMargins(0, 0, 0, 0)
        centred.addWidget(column, 100)
        centred.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.scroll_area = scroll
        self.no_match = EmptyState("", "", action="Clear search")
        self.no_match.action_triggered.connect(self.clear_search)
        self.right = QtWidgets.QStackedWidget()
        self.right.addWidget(scroll)
        self.right.addWidget(self.no_match)

        self.nav = SettingsNav(list(self.section_blocks))
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.right, 1)
        shortcuts.bind(self, "settings_search", self.focus_search)
        for setting in SETTINGS:
            self._load(setting)
        self.refresh_security()

        remembered = ctx.settings.internal.settings_section
        self.current_section = remembered if remembered in self.section_blocks else next(iter(self.section_blocks))
        self.nav.select(self.current_section)
        self.nav.section_chosen.connect(self._chosen)
        self.nav.query_changed.connect(self._filter)
        self._filter("")
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"settings", "orgs"}), self._changed)

    def _section_names(self) -> list[str]:
        declared = [s for s in SECTIONS if s != "Security"]
        declared += sorted({_placed(s) for s in SETTINGS} - {*SECTIONS, "Backup"})
        team = ["Team"] if self.ctx.sync is not None else []  # the sync card exists only with a sync service
        at = declared.index("WhatsApp") + 1 if "WhatsApp" in declared else len(declared)
        declared.insert(at, "Business hours")  # cards only (settings_hours.py): the schedule and the greetings
        return ["Workspace", *declared, *team, "Security", "Backup"]

    def _changed(self, tables: frozenset[str]) -> None:
        """Settings or the business name changed (here, in another view, or by a teammate): show the stored values,
        except in the field being edited."""
        if "settings" in tables:
            for setting in SETTINGS:
                if not self.editors[setting.key].hasFocus():
                    self._load(setting)
        if "orgs" in tables:
            self.refresh_workspace()

    # ---- sections and search -------------------------------------------------------------------------------------
    def _section(self, section: str) -> None:
        """Build one section: the cards that are not declared settings, then the declared ones, then the cards
        that belong after them (quick replies after the Inbox settings, providers after the AI preferences)."""
        block = SectionBlock(section, BLURBS.get(section, ""))
        self.section_blocks[section] = block
        self.column.addWidget(block)
        settings = [s for s in SETTINGS if _placed(s) == section]
        into: kit.Card | None = None
        if section == "Workspace":
            self._add_card(section, self._workspace_card(), FOUND_BY["Workspace"])
        elif section == "Team" and self.ctx.sync is not None:
            self.team_sync = SyncSettingsCard(self.ctx, self.ctx.sync)
            self._add_card(section, self.team_sync, FOUND_BY["Team sync"])
            self.team_media = TeamMediaCard(self.ctx.sync)  # the owner's switch for media through the server
            self._add_card(section, self.team_media, FOUND_BY["Media sharing"], hides_itself=True)
        elif section == "Business hours":
            self.hours_card = HoursCard(self.ctx)
            self._add_card(section, self.hours_card, FOUND_BY["Business hours"])
            self.greetings_card = GreetingsCard(self.ctx)
            self._add_card(section, self.greetings_card, FOUND_BY["Welcome and away"])
            self.hours_card.hours_edited.connect(self.greetings_card.show_hours)  # the away preview follows edits
        elif section == "Security":
            self._add_card(section, self._security_card(), FOUND_BY["Security"])
        elif section == "Backup":
            into = self._backup_card()
        if settings or into is not None:
            self._schema_card(section, settings, into)
        if section == "Inbox":  # canned responses sit with the inbox preferences
            self._add_card(section, self._quick_replies_card(), FOUND_BY["Quick replies"])
        if section == "AI":  # the provider chain and its keys, after the AI preferences
            self.ai_providers = AiProvidersCard(self.ctx, self.ctx.ai)
            self._add_card(section, self.ai_providers, FOUND_BY["AI providers"])
            if self.ctx.sync is not None:  # the team server's keys and limits, shown to its owner and admins
                self.team_ai = TeamAiCard(self.ctx, self.ctx.sync)
                self._add_card(section, self.team_ai, FOUND_BY["Team AI"], hides_itself=True)

    def _add_card(self, section: str, card: QtWidgets.QWidget, found_by: str, *, hides_itself: bool = False) -> None:
        """Put ``card`` in ``section``, found by ``found_by``. A card that shows or hides itself (Team AI, for
        owners and admins only) sits in a holder, so search and the card each keep their own say."""
        shown: QtWidgets.QWidget = card
        if hides_itself:
            shown = QtWidgets.QWidget()
            wrap = QtWidgets.QVBoxLayout(shown)
            wrap.setContentsMargins(0, 0, 0, 0)
            wrap.addWidget(card)
        self.section_blocks[section].body.addWidget(shown)
        self.entries.append(Entry(section, shown, words(section, found_by), inner=card if hides_itself else None))

    def select_section(self, section: str) -> None:
        """Show ``section`` (by its name in the list), as picking it in the list does."""
        if section in self.section_blocks:
            self.nav.select(section)
            self._chosen(section)  # when it was the current row already

    def _chosen(self, section: str) -> None:
        self.current_section = section
        if self.internal_section() != section:
            self.ctx.settings.internal.settings_section = section  # opens here again next time
        if terms(self.nav.search.text()):  # searching: go to this section's results, keep the others
            self._scroll_to(self.section_blocks[section])
            return
        for name, block in self.section_blocks.items():
            block.setVisible(name == section)
        self.scroll_area.verticalScrollBar().setValue(0)

    def internal_section(self) -> str:
        return self.ctx.settings.internal.settings_section

    def focus_search(self) -> None:
        self.nav.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.nav.search.selectAll()

    def clear_search(self) -> None:
        self.nav.search.clear()

    def _filter(self, query: str) -> None:
        """Show what matches ``query`` across sections under their names, or the chosen section when it is empty."""
        wanted = terms(query)
        searching = bool(wanted)
        found = [e for e in self.entries if e.matches(wanted)] if searching else list(self.entries)
        hit = set(found)
        for entry in self.entries:
            entry.widget.setVisible(entry in hit)
        for card in {e.card for e in self.entries if e.card is not None}:
            card.setVisible(any(e.card is card for e in found))
        in_sections = {e.section for e in found}
        for name, block in self.section_blocks.items():
            block.setVisible(name in in_sections if searching else name == self.current_section)
            block.blurb.setVisible(not searching and bool(BLURBS.get(name)))
        for reset in self.section_resets.values():
            reset.setVisible(not searching)  # it resets the whole section, not just the rows a search shows
        self.nav.show_only(in_sections if searching else None)
        shown_query = " ".join(query.split())
        self.results_note.setText(f"{summary(found)} “{shown_query}”.")
        self.results_note.setVisible(searching and bool(found))
        if searching and not found:
            self.no_match.title.setText(f"No settings match “{shown_query}”")
            self.no_match.body.setText(
                "No setting's name or description has these words. Try another word, such as “theme”, "
                "“quiet hours” or “backup”."
            )
            self.right.setCurrentWidget(self.no_match)
            return
        self.right.setCurrentWidget(self.scroll_area)
        if not searching:
            self.nav.select(self.current_section)
        self.scroll_area.verticalScrollBar().setValue(0)

    def _scroll_to(self, target: QtWidgets.QWidget) -> None:
        def scroll() -> None:  # after the layout has placed the widget
            holder = self.scroll_area.widget()
            if holder is None:
                return
            top = target.mapTo(holder, QtCore.QPoint(0, 0)).y()
            self.scroll_area.verticalScrollBar().setValue(max(0, top - 16))

        QtCore.QTimer.singleShot(0, scroll)

    def reveal(self, widget: QtWidgets.QWidget) -> None:
        """Show the section that holds ``widget`` (a card) and scroll to it; a search in the way is cleared."""
        for name, block in self.section_blocks.items():
            if block.isAncestorOf(widget):
                self.clear_search()
                self.select_section(name)
                self._scroll_to(widget)
                return

    def reveal_team_sync(self, *, conflicts: bool = False) -> None:
        """Show the Team section (the status bar's sync indicator leads here), scrolled to its conflicts list."""
        card = self.team_sync
        if card is None:
            return
        self.reveal(card)
        if conflicts:
            card.show_conflicts()
            if card.signed_in.isVisibleTo(card):
                self._scroll_to(card.signed_in.conflicts)

    # ---- the declared settings ---------------------------------------------------------------------------------
    def _schema_card(self, section: str, settings: list[Setting[Any]], card: kit.Card | None = None) -> None:
        """The section's declared settings, one row each, in ``card`` (Backup's) or in a card of their own."""
        if card is None:
            card = kit.Card()
            self.section_blocks[section].body.addWidget(card)
        if len(settings) > 1:  # with one setting its own Reset says it all
            reset = QtWidgets.QPushButton("Reset section")
            reset.setToolTip(f"Put every {section} setting back to its default")
            reset.clicked.connect(lambda _=False, s=settings: self.reset_all(s))
            self.section_blocks[section].top.addWidget(reset)
            self.section_resets[section] = reset
        for setting in settings:
            row = self._row(setting)
            card.body.addWidget(row)
            found_by = words(setting.label, setting.help, setting.section, section)
            self.entries.append(Entry(section, row, found_by, card=card))

    def _row(self, setting: Setting[Any]) -> QtWidgets.QWidget:
        row = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(row)
        grid.setContentsMargins(0, 6, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        editor = self._editor(setting)
        # Free text (a brand voice, say) gets the row's whole width under its label; short values sit beside it.
        wide = setting.kind == "str" and setting.check is None
        below = 1 if wide else 0
        if setting.kind == "bool":
            grid.addWidget(editor, 0, 0)
        else:
            label = QtWidgets.QLabel(setting.label)
            label.setBuddy(editor)
            grid.addWidget(label, 0, 0)
            if wide:
                grid.addWidget(editor, 1, 0, 1, 2)
            else:
                grid.addWidget(editor, 0, 1)
        reset = QtWidgets.QToolButton()
        reset.setText("Reset")
        reset.setToolTip(f"Reset to default ({self._shown(setting, setting.default)})")
        reset.clicked.connect(lambda _=False, s=setting: self.reset(s))
        grid.addWidget(reset, 0, 2)
        grid.addWidget(kit.note(setting.help), 1 + below, 0, 1, 2)
        error = kit.note(kind="error")
        error.hide()
        grid.addWidget(error, 2 + below, 0, 1, 3)
        self.editors[setting.key] = editor
        self.errors[setting.key] = error
        self.resets[setting.key] = reset
        return row

    def _editor(self, setting: Setting[Any]) -> QtWidgets.QWidget:
        if setting.kind == "bool":
            box = QtWidgets.QCheckBox(setting.label)
            box.toggled.connect(lambda checked, s=setting: self.save(s, checked))
            return box
        if setting.kind == "int":
            spin = IntBox()
            spin.setRange(
                -_INT_LIMIT if setting.minimum is None else setting.minimum,
                _INT_LIMIT if setting.maximum is None else setting.maximum,
            )
            spin.setKeyboardTracking(False)  # save on Enter, focus-out or the arrows, not on every digit
            spin.setMinimumWidth(110)
            spin.valueChanged.connect(lambda value, s=setting: self.save(s, value))
            spin.refused.connect(lambda value, s=setting: self.save(s, value))
            return spin
        if setting.kind == "choice":
            combo = ChoiceBox()
            for value, label in setting.choices:
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(lambda i, s=setting, c=combo: self.save(s, c.itemData(i)))
            return combo
        edit = QtWidgets.QLineEdit()
        edit.editingFinished.connect(lambda s=setting, e=edit: self.save(s, e.text()))
        return edit

    @staticmethod
    def _shown(setting: Setting[Any], value: Any) -> str:
        if setting.kind == "bool":
            return "on" if value else "off"
        if setting.kind == "choice":
            return dict(setting.choices).get(value, str(value))
        return str(value) if value != "" else "empty"

    def _load(self, setting: Setting[Any]) -> None:
        """Show the stored value without saving it again."""
        value = self.ctx.settings.value(setting)
        editor = self.editors[setting.key]
        blocker = QtCore.QSignalBlocker(editor)
        if isinstance(editor, QtWidgets.QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, IntBox):
            editor.setValue(int(value))
        elif isinstance(editor, QtWidgets.QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QtWidgets.QLineEdit):
            editor.setText(str(value))
        blocker.unblock()
        self.resets[setting.key].setEnabled(value != setting.default)

    def save(self, setting: Setting[Any], value: Any) -> bool:
        """Validate and store ``value``; a refused value is explained under the field and the stored one shown."""
        try:
            self.ctx.settings.set(setting, value)
        except ValueError as exc:
            self.errors[setting.key].setText(describe(exc, doing=f"saving the setting {setting.key}"))
            self.errors[setting.key].show()
            self._load(setting)
            return False
        self.errors[setting.key].hide()
        self._applied(setting)
        return True

    def reset(self, setting: Setting[Any]) -> None:
        self.ctx.settings.reset(setting)
        self.errors[setting.key].hide()
        self._applied(setting)

    def reset_all(self, settings: list[Setting[Any]]) -> None:
        for setting in settings:
            self.reset(setting)

    def _applied(self, setting: Setting[Any]) -> None:
        self._load(setting)
        if setting is Appearance.theme:
            app = QtWidgets.QApplication.instance()
            if isinstance(app, QtWidgets.QApplication):
                theme.apply(app, self.ctx.settings.appearance.theme)

    # ---- quick replies -------------------------------------------------------------------------------------------
    def _quick_replies_card(self) -> kit.Card:
        card = kit.Card("Quick replies")
        card.body.addWidget(kit.note("Canned responses for the inbox: type / in the composer and pick one."))
        card.body.addWidget(self.quick_replies)
        return card

    # ---- workspace -----------------------------------------------------------------------------------------------
    def _workspace_card(self) -> kit.Card:
        card = kit.Card("Details")
        paths = self.ctx.workspaces.paths(self.ctx.workspace.workspace_id)
        self.business = QtWidgets.QLineEdit(self.ctx.business_name)
        self.business.setMaxLength(120)
        self.business.editingFinished.connect(self.save_business_name)
        self.business_error = kit.note(kind="error")
        self.business_error.hide()
        self.folder = self._selectable(str(paths.root))
        open_folder = QtWidgets.QPushButton("Open folder")
        open_folder.clicked.connect(lambda: QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(paths.root))))
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(open_folder)
        self.org_id = self._selectable(self.ctx.store.org_id)
        self.db_size = QtWidgets.QLabel()
        form = QtWidgets.QFormLayout()
        form.addRow("Business name", self.business)
        form.addRow("", self.business_error)
        form.addRow("Folder", folder_row)
        form.addRow("Organisation id", self.org_id)
        form.addRow("Database size", self.db_size)
        card.body.addLayout(form)
        self.refresh_workspace()
        return card

    @staticmethod
    def _selectable(text: str) -> QtWidgets.QLineEdit:
        """Read-only text that can be selected and copied whole, however long (paths, ids)."""
        field = QtWidgets.QLineEdit(text)
        field.setReadOnly(True)
        field.setFrame(False)
        field.setCursorPosition(0)
        return field

    def refresh_workspace(self) -> None:
        paths = self.ctx.workspaces.paths(self.ctx.workspace.workspace_id)
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += (paths.root / f"{paths.database.name}{suffix}").stat().st_size
        self.db_size.setText(human_size(total))
        if not self.business.hasFocus():
            self.business.setText(self.ctx.business_name)

    def save_business_name(self) -> None:
        name = self.business.text().strip()
        current = self.ctx.business_name
        if not name:
            self.business_error.setText("The business name cannot be empty.")
            self.business_error.show()
            self.business.setText(current)
            return
        self.business_error.hide()
        if name != current:
            self.ctx.workspace.header = self.ctx.workspaces.rename(
                self.ctx.store, self.ctx.workspace.workspace_id, name
            )

    # ---- security and backup -------------------------------------------------------------------------------------
    def _security_card(self) -> kit.Card:
        card = kit.Card("Workspace key")
        self.protection = QtWidgets.QLabel()
        form = QtWidgets.QFormLayout()
        form.addRow("Key protection", self.protection)
        card.body.addLayout(form)
        self.change_button = QtWidgets.QPushButton("Change passphrase…")
        self.change_button.clicked.connect(self.open_change_passphrase)
        card.body.addLayout(kit.button_row(self.change_button, align="left"))
        # The keyring is offered from a passphrase; with no keyring that protects secrets it is shown disabled, with
        # the reason beside it, rather than hidden (a person looking for it learns why it is not there).
        self.keyring_button = QtWidgets.QPushButton("Keep the key in the system keyring…")
        self.keyring_button.clicked.connect(self.open_move_to_keyring)
        self.keyring_reason = kit.note(kind="hint")
        keyring_row = QtWidgets.QHBoxLayout()
        keyring_row.addWidget(self.keyring_button, 0, Qt.AlignmentFlag.AlignTop)
        keyring_row.addWidget(self.keyring_reason, 1)
        self.keyring_option = QtWidgets.QWidget()
        self.keyring_option.setLayout(keyring_row)
        keyring_row.setContentsMargins(0, 0, 0, 0)
        card.body.addWidget(self.keyring_option)
        card.body.addWidget(
            kit.note("There is no way to recover a forgotten passphrase: keep a backup (Settings › Backup).", "hint")
        )
        return card

    def _backup_card(self) -> kit.Card:
        card = kit.Card("Backups")
        self.last_backup = QtWidgets.QLabel()
        self.backup_button = QtWidgets.QPushButton("Back up now…")
        self.restore_button = QtWidgets.QPushButton("Restore…")
        self.backup_button.clicked.connect(self.open_backup)
        self.restore_button.clicked.connect(self.open_restore)
        content = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            kit.note(
                "A backup is an encrypted copy of the whole workspace, locked with a passphrase you choose; it opens "
                "on any computer with Parley. Restoring one replaces this workspace's data."
            )
        )
        form = QtWidgets.QFormLayout()
        form.addRow("Last backup", self.last_backup)
        layout.addLayout(form)
        layout.addLayout(kit.button_row(self.backup_button, self.restore_button, align="left"))
        card.body.addWidget(content)
        self.entries.append(Entry("Backup", content, words("Backup", FOUND_BY["Backup"]), card=card))
        self.section_blocks["Backup"].body.addWidget(card)
        return card

    def refresh_security(self) -> None:
        header = self.ctx.workspaces.header(self.ctx.workspace.workspace_id)
        self.protection.setText(protection_text(header))
        in_keyring = header.key.mode == "keyring"
        self.change_button.setText("Use a passphrase instead…" if in_keyring else "Change passphrase…")
        vault = self.ctx.workspaces.vault
        self.keyring_option.setVisible(not in_keyring)
        self.keyring_button.setEnabled(vault.secure)
        self.keyring_reason.setText("" if vault.secure else f"Not available: {insecure_reason(vault.backend)}.")
        self.keyring_reason.setVisible(not vault.secure)
        stamp = self.ctx.store.meta("last_backup_at")
        when = "Never"
        if stamp:
            try:
                when = datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y, %H:%M")
            except ValueError:
                when = stamp
        self.last_backup.setText(when)

    def _present(self, dialog: QtWidgets.QDialog) -> None:
        self._dialogs.show(dialog)

    @property
    def dialog(self) -> QtWidgets.QDialog | None:
        """The backup, restore or passphrase dialog open now, if any (forgotten once it closes)."""
        return self._dialogs.current

    def open_change_passphrase(self) -> ChangePassphraseDialog:
        dialog = ChangePassphraseDialog(self.ctx, self)
        dialog.changed.connect(lambda _: self.refresh_security())
        self._present(dialog)
        return dialog

    def open_move_to_keyring(self) -> ChangePassphraseDialog:
        """The passphrase dialog with "Keep the key in the system keyring instead" ticked."""
        dialog = self.open_change_passphrase()
        dialog.use_keyring.setChecked(True)
        return dialog

    def open_backup(self) -> BackupDialog:
        dialog = BackupDialog(self.ctx, parent=self)
        dialog.backed_up.connect(lambda _: self.refresh_security())
        self._present(dialog)
        return dialog

    def open_restore(self) -> RestoreDialog:
        dialog = RestoreDialog(self.ctx, parent=self)
        dialog.restored.connect(lambda _: self._after_restore())
        self._present(dialog)
        return dialog

    def _after_restore(self) -> None:
        for setting in SETTINGS:  # settings live in the database too, so the restored ones are shown
            self._load(setting)
        self._applied(Appearance.theme)
        self.refresh_workspace()
        self.refresh_security()
