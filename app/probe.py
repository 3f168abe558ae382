"""A measuring probe for ``bench/two_apps_bench.py``; inert unless ``PARLEY_PROBE_DIR`` names a folder.

With the variable set, the main window's probe (installed by one guarded call in ``MainWindow``):

- reads JSON commands, one a line, from the FIFO ``<dir>/commands`` (a FIFO keeps the bench's marker text off the
  disk) and performs each in this process through the operation the UI calls (``app.store.ops``), on the UI's
  task runner;
  the moment the write committed is recorded (``time.time()``). ``show`` only navigates (a section, a chat, a tab);
  ``where`` answers where a visible widget is on screen, for a script's real clicks (``scripts/team_agents_shots.py``);
- records, after each paint of an item view on the page on screen, the keyed and truncated SHA-256 of every
  marker-shaped word in the rows it painted, once per word: what reached the screen, never the text itself. Words
  that are not markers (customers' words) are not hashed at all, so the record says nothing about them;
- records the sync status and the tables each change report named, with their times, to split a latency into
  its legs.

Everything goes to ``<dir>/events.jsonl`` as JSON lines. Nothing here runs without the variable.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.qt import Qt, QtCore, QtWidgets, Signal

if TYPE_CHECKING:
    from app.sync.status import SyncStatus
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ENV_DIR = "PARLEY_PROBE_DIR"
ENV_KEY = "PARLEY_PROBE_KEY"  # hex; keys the hashes so a word cannot be guessed back from its hash
MARKER = re.compile(r"\bpm[0-9a-f]{12}\b")  # the words the bench makes up; nothing else is hashed
HASH_CHARS = 16
MAX_ROWS = 400  # rows looked at per view and paint (only the painted ones are hashed)


def marker_hash(key: bytes, scope: str, word: str) -> str:
    """The recorded form of ``word`` painted in a view of ``scope`` (a pipeline column's stage id, else "")."""
    return hmac.new(key, f"{scope}\x1f{word}".encode(), hashlib.sha256).hexdigest()[:HASH_CHARS]


def install(window: MainWindow) -> Probe | None:
    """The probe of ``window`` when ``PARLEY_PROBE_DIR`` is set; otherwise nothing at all happens."""
    directory = os.environ.get(ENV_DIR)
    if not directory:
        return None
    return Probe(window, Path(directory), bytes.fromhex(os.environ.get(ENV_KEY, "")))


class Probe(QtCore.QObject):
    _command = Signal(str)  # reader thread → main thread

    def __init__(self, window: MainWindow, directory: Path, key: bytes) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.key = key
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._out_lock = threading.Lock()
        self._out = (directory / "events.jsonl").open("a", buffering=1, encoding="utf-8")
        self._seen: set[str] = set()
        self._views: dict[QtCore.QObject, QtWidgets.QAbstractItemView] = {}
        self._command.connect(self._run, Qt.ConnectionType.QueuedConnection)
        window.section_changed.connect(lambda _key: QtCore.QTimer.singleShot(0, self._track))
        self.ctx.changes.changed.connect(lambda tables: self.write("changed", tables=sorted(tables)))
        if self.ctx.sync is not None:
            self.ctx.sync.statusChanged.connect(self._sync_status)
        fifo = directory / "commands"
        if not fifo.exists():
            os.mkfifo(fifo)
        closing = threading.Event()
        threading.Thread(target=self._read, args=(fifo, closing), name="parley-probe", daemon=True).start()
        window.destroyed.connect(lambda _obj=None: _stop_reader(fifo, closing))  # never touches this deleted object
        # Pages build some views once their data arrives (the board's columns): look for new ones now and then.
        self._tracker = QtCore.QTimer(self, interval=250)
        self._tracker.timeout.connect(self._track)
        self._tracker.start()
        QtCore.QTimer.singleShot(0, self._track)
        self.write("ready", pid=os.getpid())

    # ---- output ------------------------------------------------------------------------------------------------
    def write(self, event: str, **fields: Any) -> None:
        line = json.dumps({"ev": event, "t": fields.pop("t", None) or time.time(), **fields})
        with self._out_lock:
            self._out.write(line + "\n")

    def _sync_status(self, status: SyncStatus) -> None:
        self.write(
            "sync", state=status.state.value, pending=status.pending, cursor=status.cursor, server=status.server_version
        )

    # ---- commands ----------------------------------------------------------------------------------------------
    def _read(self, fifo: Path, closing: threading.Event) -> None:
        while not closing.is_set():  # a writer closing the FIFO is an end of file: open it again for the next one
            try:
                with fifo.open(encoding="utf-8") as commands:
                    for line in commands:
                        if line.strip() and not closing.is_set():
                            self._command.emit(line)
            except OSError:
                log.warning("probe: cannot read %s", fifo)
                return

    def _run(self, line: str) -> None:
        command: dict[str, Any] = json.loads(line)
        op, ident = str(command.get("op")), str(command.get("id"))
        if op == "show":
            self._show(command)
            self.write("done", id=ident)
            return
        if op == "where":
            self.write("where", id=ident, **self._where(command))
            return
        write = self._write_of(op, command)
        if write is None:
            self.write("error", id=ident, error=f"unknown op {op}")
            return

        def run() -> None:
            try:
                write()
            except Exception as exc:  # reported to the bench by type only (no customer text)
                self.write("error", id=ident, error=type(exc).__name__)
                raise
            self.write("commit", id=ident, op=op)

        self.ctx.tasks.start(f"Probe {op}", run, on_error=lambda _message: None)

    def _write_of(self, op: str, c: dict[str, Any]) -> Callable[[], object] | None:
        """The operation the UI calls for ``op`` (the inbox composer, the contact panel and editor, the board's
        drop, the sale dialog), bound to the command's arguments."""
        from app.store.ops import contacts, deals, messages, notes, sales

        store = self.ctx.store
        if op == "message":
            return lambda: messages.queue_message(store, c["chat_id"], c["text"])
        if op == "note":
            return lambda: notes.add_note(store, c["chat_id"], c["text"])
        if op == "contact_edit":
            return lambda: contacts.update_contact(store, c["contact_id"], {"name": c["name"]})
        if op == "contact_new":
            fields = contacts.contact_fields(name=c["name"], phone=c.get("phone") or "")
            return lambda: contacts.save_contact(store, fields, company="")
        if op == "deal_move":
            return lambda: deals.move_deal(store, c["deal_id"], c["stage_id"], index=c.get("index"))
        if op == "sale":
            line = sales.SaleLine(description=c["text"], quantity=1, unit_price_minor=int(c.get("price", 1250)))
            return lambda: sales.record_sale(store, [line], contact_id=c.get("contact_id"))
        return None

    def _show(self, c: dict[str, Any]) -> None:
        page = self.window.show_section(str(c["section"]))
        chat_id = c.get("chat_id")
        open_chat = getattr(page, "open_chat", None)
        if chat_id and callable(open_chat):
            open_chat(chat_id)
        tabs = getattr(page, "tabs", None)
        if isinstance(tabs, QtWidgets.QTabWidget) and c.get("tab") is not None:
            tabs.setCurrentIndex(int(c["tab"]))
        self._track()

    def _where(self, c: dict[str, Any]) -> dict[str, Any]:
        """Where a visible widget is on the screen, for a script's real click (``xdotool``): by ``name`` (object
        name), ``text`` (a button's), ``tab`` (a tab's title), ``placeholder`` (the start of a text field's) or
        ``item`` (a list item's first line); with ``row``, that row of the named item view. ``contains`` asks whether
        that row shows a word (the answer is yes or no, never the row's text). ``found`` is False when nothing
        visible matches."""
        for top in QtWidgets.QApplication.topLevelWidgets():
            if not top.isVisible():
                continue
            for widget in (top, *top.findChildren(QtWidgets.QWidget)):
                if not widget.isVisible():
                    continue
                spot = _spot(widget, c)
                if spot is not None:
                    point = widget.mapToGlobal(spot[0])
                    return {"found": True, "x": point.x(), "y": point.y(), **spot[1]}
        return {"found": False}

    # ---- paints ------------------------------------------------------------------------------------------------
    def _track(self) -> None:
        """Watch the paints of every item view on the page on screen (pages are built on first visit)."""
        page = self.window.stack.currentWidget()
        if page is None:
            return
        for view in page.findChildren(QtWidgets.QAbstractItemView):
            viewport = view.viewport()
            if viewport not in self._views:
                self._views[viewport] = view
                viewport.installEventFilter(self)
                viewport.update()  # what it shows now is recorded with its next paint
                viewport.destroyed.connect(lambda _obj=None, v=viewport: self._views.pop(v, None))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Paint:
            view = self._views.get(watched)
            if view is not None and view.isVisible():
                began = time.time()
                fresh = self._painted(view) - self._seen
                if fresh:
                    self._seen |= fresh
                    page, cost = self.window.current_section(), time.time() - began
                    # Stamped once the paint is done (the next turn of the loop), with the time it began beside and
                    # what the probe's own look at the rows cost of that.
                    QtCore.QTimer.singleShot(
                        0,
                        lambda: self.write(
                            "paint", page=page, view=type(view).__name__, t0=began, cost=cost, h=sorted(fresh)
                        ),
                    )
        return False

    def _painted(self, view: QtWidgets.QAbstractItemView) -> set[str]:
        model = view.model()
        viewport = view.viewport()
        area = viewport.rect()
        first = view.indexAt(QtCore.QPoint(2, 2)).row()
        last = view.indexAt(QtCore.QPoint(2, max(area.height() - 3, 0))).row()
        rows = model.rowCount(QtCore.QModelIndex())
        first = max(first, 0)
        last = rows - 1 if last < 0 else last
        scope = str(getattr(view, "stage_id", ""))
        found: set[str] = set()
        # A list model's columnCount is private to PySide: it has one column.
        columns = 1 if isinstance(model, QtCore.QAbstractListModel) else model.columnCount()
        for row in range(first, min(last + 1, first + MAX_ROWS)):
            for column in range(columns):
                index = model.index(row, column)
                if not view.visualRect(index).intersects(area):
                    continue
                text = model.data(index, Qt.ItemDataRole.DisplayRole)
                if isinstance(text, str):
                    found.update(marker_hash(self.key, scope, word) for word in MARKER.findall(text))
        return found


def _spot(widget: QtWidgets.QWidget, c: dict[str, Any]) -> tuple[QtCore.QPoint, dict[str, Any]] | None:
    """The point of ``widget`` that ``c`` asks for (see ``Probe._where``), with what the answer adds, else None."""
    if c.get("name") is not None and widget.objectName() == c["name"]:
        if isinstance(widget, QtWidgets.QAbstractItemView) and c.get("row") is not None:
            model, row = widget.model(), int(c["row"])
            rows = model.rowCount(QtCore.QModelIndex())
            if not 0 <= row < rows:
                return None
            index = model.index(row, 0)
            words = " ".join(
                str(model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole) or "")
                for col in range(model.columnCount(QtCore.QModelIndex()))
            )
            extra: dict[str, Any] = {"rows": rows}
            if c.get("contains") is not None:
                extra["contains"] = str(c["contains"]) in words
            return widget.viewport().mapTo(widget, widget.visualRect(index).center()), extra
        return widget.rect().center(), {}
    text = widget.text() if isinstance(widget, QtWidgets.QAbstractButton) else None
    if c.get("text") is not None and text is not None and text.replace("&", "") == c["text"]:
        return widget.rect().center(), {}
    hint = widget.placeholderText() if isinstance(widget, QtWidgets.QLineEdit) else None
    if c.get("placeholder") is not None and hint is not None and hint.startswith(str(c["placeholder"])):
        return widget.rect().center(), {}
    if c.get("tab") is not None and isinstance(widget, QtWidgets.QTabBar):
        for i in range(widget.count()):
            if widget.tabText(i).replace("&", "") == c["tab"]:
                return widget.tabRect(i).center(), {}
    if c.get("item") is not None and isinstance(widget, QtWidgets.QListWidget):
        for i in range(widget.count()):
            item = widget.item(i)
            if item.text().split("\n")[0] == c["item"]:
                return widget.viewport().mapTo(widget, widget.visualItemRect(item).center()), {}
    return None


def _stop_reader(fifo: Path, closing: threading.Event) -> None:
    """End the reader thread: it may be waiting for a writer to open the FIFO, so open it once as one."""
    closing.set()
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
