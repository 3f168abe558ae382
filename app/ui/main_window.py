"""The main window: navigation on the left, one page per section, status and progress at the bottom.

It owns layout and window chrome only; each page is its own widget built from the shared ``AppContext``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import shortcuts
from app.ui.context import AppContext
from app.ui.health_watch import HealthAlertBanner
from app.ui.icons import icon
from app.ui.layout_memory import remember_window
from app.ui.widgets.sync_indicator import SyncIndicator
from app.ui.widgets.whatsapp_indicator import HealthBanner, WhatsAppIndicator
from app.whatsapp.status import WhatsAppStatus


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    icon: str
    build: Callable[[AppContext], QtWidgets.QWidget]


class MainWindow(QtWidgets.QMainWindow):
    section_changed = Signal(str)

    def __init__(self, ctx: AppContext, sections: list[Section]) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"{ctx.business_name} — Parley")
        self.setWindowIcon(icon("app"))
        self.resize(1280, 800)
        self.setMinimumSize(900, 560)

        self.nav = QtWidgets.QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(210)
        self.nav.setIconSize(QtCore.QSize(18, 18))
        self.stack = QtWidgets.QStackedWidget()
        # Pages are built on first visit: start-up pays only for the inbox.
        self.pages: dict[str, QtWidgets.QWidget] = {}
        self._sections = sections
        self._keys: list[str] = []
        for section in sections:
            item = QtWidgets.QListWidgetItem(icon(section.icon), section.title)
            item.setSizeHint(QtCore.QSize(0, 40))  # stylesheet padding does not grow an item's size hint
            self.nav.addItem(item)
            self.stack.addWidget(QtWidgets.QWidget())
            self._keys.append(section.key)
        self.nav.currentRowChanged.connect(self._switch)

        # WhatsApp at a glance on every page: a "sending is paused" banner above the pages, the state in the status
        # bar; both lead to the WhatsApp page.
        self.banner = HealthBanner()
        self.whatsapp_indicator = WhatsAppIndicator()
        self.banner.details_requested.connect(self._open_whatsapp)
        self.whatsapp_indicator.clicked.connect(self._open_whatsapp)
        ctx.whatsapp.status_changed.connect(self._whatsapp_status)
        self._whatsapp_status(ctx.whatsapp.status)
        # A health check not ok (database, disk, AI, sync, WhatsApp): its own banner, "Details" opens the Health page.
        self.health_banner = HealthAlertBanner()
        self.health_banner.details_requested.connect(lambda: self.show_section("health"))
        if ctx.health is not None:
            ctx.health.alerted.connect(self.health_banner.alerted)
            ctx.health.reported.connect(self.health_banner.show_report)

        pages = QtWidgets.QVBoxLayout()
        pages.setContentsMargins(0, 0, 0, 0)
        pages.setSpacing(0)
        pages.addWidget(self.banner)
        pages.addWidget(self.health_banner)
        pages.addWidget(self.stack, 1)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addLayout(pages, 1)
        self.setCentralWidget(central)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.task_label = QtWidgets.QLabel()
        # Team sync beside WhatsApp (hidden while the workspace is not in a team); both lead to their settings.
        self.sync_indicator = SyncIndicator()
        self.sync_indicator.clicked.connect(self.open_team_sync)
        self.sync_indicator.conflicts_requested.connect(lambda: self.open_team_sync(conflicts=True))
        if ctx.sync is not None:
            ctx.sync.statusChanged.connect(self.sync_indicator.show_status)
            self.sync_indicator.show_status(ctx.sync.status)
        self.statusBar().addPermanentWidget(self.sync_indicator)
        self.statusBar().addPermanentWidget(self.whatsapp_indicator)
        self.statusBar().addPermanentWidget(self.task_label)
        self.statusBar().addPermanentWidget(self.progress)
        ctx.tasks.started.connect(self._task_started)
        ctx.tasks.progressed.connect(self._task_progress)
        ctx.tasks.finished.connect(self._task_finished)
        ctx.tasks.failed.connect(self.show_error)
        self._running = 0

        for combo, key in zip(shortcuts.keys("section"), self._keys, strict=False):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(combo), self)
            shortcut.activated.connect(lambda k=key: self.show_section(k))
        if "settings" in self._keys:  # past Ctrl+9; Ctrl+, is where many apps keep their settings
            shortcuts.bind(self, "settings", lambda: self.show_section("settings"))
        # Ctrl+Q ends the event loop like Quit in the tray and SIGTERM: ``run_desktop`` then runs the one ordered
        # shutdown, and ``aboutToQuit`` lets pages save what is unsaved (the window is not closed on the way).
        shortcuts.bind(self, "quit", QtWidgets.QApplication.quit, Qt.ShortcutContext.ApplicationShortcut)
        shortcuts.bind(self, "help", self.show_shortcuts)
        self.nav.setCurrentRow(0)
        # Position, size and maximized are remembered on this device (saved at quit, which closing it is too).
        self.window_memory = remember_window(self, "main", ctx.settings)
        from app.probe import install  # a bench's probe; does nothing unless PARLEY_PROBE_DIR is set

        self.probe = install(self)

    # ---- sections --------------------------------------------------------------------------------------------
    def show_section(self, key: str) -> QtWidgets.QWidget:
        self.nav.setCurrentRow(self._keys.index(key))
        return self.page(key)

    def page(self, key: str) -> QtWidgets.QWidget:
        """The page of ``key``, built now if it was not visited yet."""
        if key not in self.pages:
            row = self._keys.index(key)
            page = self._sections[row].build(self.ctx)
            page.setObjectName(f"page-{key}")
            placeholder = self.stack.widget(row)
            self.stack.insertWidget(row, page)
            if placeholder is not None:
                self.stack.removeWidget(placeholder)
                placeholder.deleteLater()
            self.pages[key] = page
            self._connect_requests(page)
        return self.pages[key]

    def _connect_requests(self, page: QtWidgets.QWidget) -> None:
        """A page asks for another section (``section_requested``) or for a chat in the inbox (``chat_requested``)."""
        section = getattr(page, "section_requested", None)
        if section is not None:
            section.connect(self.show_section)
        chat = getattr(page, "chat_requested", None)
        if chat is not None:
            chat.connect(self.open_chat)
        settings = getattr(page, "settings_requested", None)  # a section of Settings by its name
        if settings is not None:
            settings.connect(self.open_settings)

    def open_settings(self, section: str) -> None:
        """Show Settings at ``section`` ("Business hours"), not wherever it was left."""
        if "settings" not in self._keys:
            return
        page = self.show_section("settings")
        select = getattr(page, "select_section", None)
        if callable(select):
            select(section)

    def open_chat(self, chat_id: str) -> None:
        """Show the inbox with ``chat_id`` open."""
        inbox = self.show_section("inbox")
        opener = getattr(inbox, "open_chat", None)
        if callable(opener):
            opener(chat_id)

    def current_section(self) -> str:
        return self._keys[self.nav.currentRow()]

    def _switch(self, row: int) -> None:
        if row < 0:
            return
        self.page(self._keys[row])
        self.stack.setCurrentIndex(row)
        self.section_changed.emit(self._keys[row])

    # ---- keyboard --------------------------------------------------------------------------------------------
    def show_shortcuts(self) -> shortcuts.ShortcutsSheet:
        """The "Keyboard shortcuts" sheet (Ctrl+/), made on first use and shown again after."""
        sheet = self.findChild(shortcuts.ShortcutsSheet)
        if sheet is None:
            sheet = shortcuts.ShortcutsSheet(self)
        sheet.show()
        sheet.raise_()
        sheet.activateWindow()
        return sheet

    def focus_composer(self) -> None:
        """Put the cursor in the inbox's composer (after a chat was picked in the quick switcher)."""
        composer = getattr(self.pages.get("inbox"), "composer", None)
        edit = getattr(composer, "edit", None)
        if isinstance(edit, QtWidgets.QWidget):
            edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---- WhatsApp --------------------------------------------------------------------------------------------
    def _whatsapp_status(self, status: WhatsAppStatus) -> None:
        self.whatsapp_indicator.show_status(status)
        self.banner.show_status(status)

    def _open_whatsapp(self) -> None:
        if "whatsapp" in self._keys:
            self.show_section("whatsapp")

    # ---- team sync -------------------------------------------------------------------------------------------
    def open_team_sync(self, *, conflicts: bool = False) -> None:
        if "settings" not in self._keys:
            return
        page = self.show_section("settings")
        reveal = getattr(page, "reveal_team_sync", None)
        if callable(reveal):
            reveal(conflicts=conflicts)

    # ---- tasks and errors ------------------------------------------------------------------------------------
    def _task_started(self, name: str) -> None:
        self._running += 1
        self.task_label.setText(f"{name}…")
        self.progress.setRange(0, 0)
        self.progress.show()

    def _task_progress(self, name: str, done: int, total: int) -> None:
        self.task_label.setText(f"{name}… {done:,} of {total:,}")
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _task_finished(self, name: str) -> None:
        self._running = max(0, self._running - 1)
        if not self._running:
            self.progress.hide()
            self.task_label.clear()

    def show_error(self, task: str, message: str) -> None:
        self.statusBar().showMessage(f"{task} failed: {message}", 15000)
        QtWidgets.QMessageBox.warning(self, f"{task} failed", message)

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)
