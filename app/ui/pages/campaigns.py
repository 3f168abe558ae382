"""The Campaigns page (issue 19): the list of campaigns, and one campaign at a time — its editor while a draft
(``campaigns_editor.py``), its frozen audience with who was left out and why, and its results
(``campaigns_results.py``).

The moves follow the state machine of ``app.campaigns.lifecycle``: a draft is saved and prepared (its audience
frozen), a prepared one may be made a draft again, tested on one contact, and started; a running one paused and
resumed; any one not ended cancelled (asked first). A move the machine does not have is a disabled button; one the
operation refuses all the same (a teammate moved it meanwhile) shows the operation's sentence. Every write is an
operation of ``app.store.ops.campaigns`` on the task runner; every read runs on a worker, and the page follows the
tables it shows (``StaleWhenHidden``), so the runner's progress and a teammate's moves show by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.campaigns import lifecycle, results
from app.core.errors import InvalidInput
from app.core.models import Campaign, CampaignStatus
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.ops import campaigns as ops
from app.store.store import Store
from app.ui import kit
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.pages.campaigns_editor import CampaignEditor, Options, read_options
from app.ui.pages.campaigns_results import AudienceView, CampaignDetail, ResultsView, included, read_detail
from app.ui.widgets.empty_state import EmptyState
from app.ui.widgets.tables import cell, read_only_table
from app.ui.widgets.whatsapp_indicator import clock

# campaigns and their recipients; sales (bought, revenue); what the editor offers (labels, stages, products, fields)
TABLES = frozenset(
    {"campaigns", "campaign_recipients", "sales", "tags", "pipeline_stages", "products", "custom_field_defs"}
)
REFRESH_MS = 300
IdRole = Qt.ItemDataRole.UserRole + 1
TEST_CONTACTS = 5000  # the "Send a test to…" field completes among this many contacts

STATE_WORDS: dict[str, str] = {
    "draft": "Draft",
    "prepared": "Prepared",
    "running": "Running",
    "paused": "Paused",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
STATE_ABOUT: dict[str, str] = {
    "draft": "A draft: choose who gets it and write the message, then prepare it to freeze the audience.",
    "prepared": "Prepared: the audience is frozen. Send yourself a test, then start it; or make it a draft again.",
    "running": "Running: one message at a time, at the number's pace (and this campaign's, if stricter).",
    "paused": "Paused: nothing more is queued until you resume it.",
    "completed": "Completed: everyone in the audience was sent to or left out.",
    "cancelled": "Cancelled: nobody else gets it.",
}


# ---- reading (on a worker) ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRow:
    campaign: Campaign
    audience: int | None  # who gets it (None: not frozen yet)
    sent: int
    replied: int


def read_list(store: Store) -> list[ListRow]:
    rows = []
    for campaign in store.campaigns.find_all(order_by="created_at", descending=True):
        if campaign.status == "draft":
            rows.append(ListRow(campaign, None, 0, 0))
            continue
        funnel = results.funnel(store, campaign.id)
        rows.append(ListRow(campaign, included(funnel), funnel.sent, funnel.replied))
    return rows


@dataclass(frozen=True)
class Contactable:
    contact_id: str
    label: str


def read_test_contacts(store: Store) -> list[Contactable]:
    """Contacts a test can go to (a WhatsApp id or a phone), by name."""
    found = []
    for c in store.contacts.find_all(order_by="name", limit=TEST_CONTACTS):
        if c.wa_id or c.phone:
            found.append(Contactable(c.id, f"{c.name or c.phone} · {c.phone}" if c.phone else c.name))
    return found


def created_text(at: datetime) -> str:
    return f"{at.astimezone():%d %b %Y}"


# ---- the page -------------------------------------------------------------------------------------------------------
class CampaignsPage(QtWidgets.QWidget):
    loaded = Signal()  # the list was shown
    detail_loaded = Signal()  # the open campaign's views were shown
    moved = Signal(str)  # a move succeeded: the campaign's new status

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rows: list[ListRow] = []
        self.current: Campaign | None = None
        self.detail: CampaignDetail | None = None
        self.options = Options()
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self.test_contacts: list[Contactable] = []
        self._reads = 0
        self._detail_reads = 0

        # ---- the list ----------------------------------------------------------------------------------------
        self.new = kit.primary_button("New campaign")
        self.new.clicked.connect(self.new_campaign)
        self.open_button = kit.secondary_button("Open")
        self.open_button.clicked.connect(self._open_selected)
        self.table = read_only_table(["Name", "State", "Audience", "Sent / replied", "Created"], stretch=0)
        self.table.setObjectName("campaignList")
        self.table.itemActivated.connect(lambda _item: self._open_selected())
        self.table.itemSelectionChanged.connect(self._list_selection)
        self.empty = EmptyState(
            "No campaigns yet",
            "A campaign sends one message, in a few versions, to the customers your filters choose — one at a time, "
            "at your number's pace, leaving out whoever opted out.",
            action="New campaign",
        )
        self.empty.action_triggered.connect(self.new_campaign)
        list_page = QtWidgets.QWidget()
        lv = QtWidgets.QVBoxLayout(list_page)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(kit.title_row(kit.page_title("Campaigns"), self.open_button, self.new))
        lv.addWidget(
            kit.note(
                "Every campaign shares the WhatsApp number's pacing with follow-ups and autopilot; your own replies "
                "always go first. Opted-out contacts never get one.",
                "hint",
            )
        )
        self.list_error = kit.note(kind="error")
        self.list_error.hide()
        lv.addWidget(self.list_error)
        self.list_stack = QtWidgets.QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        lv.addWidget(self.list_stack, 1)

        # ---- one campaign ------------------------------------------------------------------------------------
        self.back = kit.secondary_button("‹ All campaigns")
        self.back.setObjectName("backToCampaigns")
        self.back.setToolTip("Back to the list (Esc)")
        self.back.clicked.connect(self.show_list)
        self.title = kit.page_title("")
        self.title.setObjectName("pageTitle")
        self.state = QtWidgets.QLabel()
        self.state.setObjectName("campaignState")
        self.about = kit.note()
        self.error = kit.note(kind="error")
        self.error.hide()
        self.notice = kit.note()
        self.notice.hide()
        self.save = kit.secondary_button("Save")
        self.save.setObjectName("saveCampaign")
        self.save.setToolTip("Save the draft (Ctrl+S)")
        self.prepare = kit.primary_button("Prepare")
        self.prepare.setToolTip("Freeze the audience: who gets it, who is left out and why")
        self.unprepare = kit.secondary_button("Edit again")
        self.unprepare.setToolTip("Make it a draft again (the frozen audience is dropped; nothing was sent)")
        self.start = kit.primary_button("Start")
        self.pause = kit.secondary_button("Pause")
        self.pause.setObjectName("pauseCampaign")
        self.resume = kit.primary_button("Resume")
        self.cancel = kit.secondary_button("Cancel campaign…")
        self.cancel.setObjectName("cancelCampaign")
        self.test_to = QtWidgets.QComboBox(editable=True)
        self.test_to.setObjectName("testContact")
        self.test_to.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        test_line = self.test_to.lineEdit()
        assert test_line is not None
        test_line.setPlaceholderText("Send a test to…")
        self.test_to.setMinimumContentsLength(18)
        self.test_to.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        completer = self.test_to.completer()
        assert completer is not None
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
        popup = completer.popup()
        if popup is not None:  # names with their numbers are wider than the field
            popup.setMinimumWidth(340)
        self.send_test = kit.secondary_button("Send test")
        self.send_test.setObjectName("sendTest")
        self.send_test.setToolTip("Send the message (its first version) to this one contact, as a customer sees it")
        test_line.returnPressed.connect(self.send_test_now)
        self.moves = [self.save, self.prepare, self.unprepare, self.start, self.pause, self.resume, self.cancel]
        self.save.clicked.connect(lambda: self.save_now())
        self.prepare.clicked.connect(self.prepare_now)
        self.unprepare.clicked.connect(lambda: self._move("Making it a draft again", ops.unprepare))
        self.start.clicked.connect(lambda: self._move("Starting the campaign", ops.start))
        self.pause.clicked.connect(lambda: self._move("Pausing the campaign", ops.pause))
        self.resume.clicked.connect(lambda: self._move("Resuming the campaign", ops.resume))
        self.cancel.clicked.connect(self.cancel_now)
        self.send_test.clicked.connect(self.send_test_now)

        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.back)
        head.addSpacing(8)
        head.addWidget(self.title)
        head.addSpacing(8)
        head.addWidget(self.state)
        head.addStretch(1)
        head.addWidget(self.test_to)
        head.addWidget(self.send_test)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.about, 1)
        for button in self.moves:
            bar.addWidget(button)

        self.editor = CampaignEditor(ctx)
        self.editor.edited.connect(self._update_actions)
        self.editor.save_requested.connect(lambda: self.save_now())
        self.audience = AudienceView()
        self.results = ResultsView()
        self.results.status.currentIndexChanged.connect(lambda _i: self.refresh_detail())
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.editor, "Message && audience")
        self.tabs.addTab(self.audience, "Audience")
        self.tabs.addTab(self.results, "Results")
        one = QtWidgets.QWidget()
        ov = QtWidgets.QVBoxLayout(one)
        ov.setContentsMargins(0, 0, 0, 0)
        ov.addLayout(head)
        ov.addLayout(bar)
        ov.addWidget(self.error)
        ov.addWidget(self.notice)
        ov.addWidget(self.tabs, 1)

        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(list_page)
        self.stack.addWidget(one)
        self.list_page, self.campaign_page = list_page, one
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.stack)

        self._pending: set[str] = set()
        self._timer = QtCore.QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self._refresh_pending)
        self.watch = StaleWhenHidden(self, ctx.changes, TABLES, self._changed)
        self._update_actions()
        self._list_selection()
        self.refresh()
        self.refresh_options()

    # ---- reading ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._reads += 1
        seq, store = self._reads, self.ctx.store

        def done(rows: list[ListRow]) -> None:
            if seq == self._reads:
                self._show_list(rows)

        self.ctx.tasks.start("Reading the campaigns", lambda: read_list(store), done, self._list_failed, owner=self,
                             quiet=True)  # fmt: skip

    def refresh_options(self) -> None:
        store = self.ctx.store

        def done(loaded: tuple[Options, list[Contactable]]) -> None:
            self.options, self.test_contacts = loaded
            self.editor.set_options(self.options)
            typed = self.test_to.currentText()
            self.test_to.blockSignals(True)
            self.test_to.clear()
            for c in self.test_contacts:
                self.test_to.addItem(c.label, c.contact_id)
            self.test_to.setCurrentIndex(-1)
            self.test_to.setEditText(typed)
            self.test_to.blockSignals(False)
            self._select_test_contact()

        self.ctx.tasks.start(
            "Reading the audience's choices", lambda: (read_options(store), read_test_contacts(store)), done,
            self._show_error, owner=self, quiet=True,
        )  # fmt: skip

    def refresh_detail(self) -> None:
        if self.current is None:
            return
        self._detail_reads += 1
        seq, store, cid, status = self._detail_reads, self.ctx.store, self.current.id, self.results.chosen_status()

        def done(detail: CampaignDetail) -> None:
            if seq == self._detail_reads and self.current is not None and detail.campaign.id == self.current.id:
                self._show_detail(detail)

        self.ctx.tasks.start("Reading the campaign", lambda: read_detail(store, cid, status), done, self._show_error,
                             owner=self, quiet=True)  # fmt: skip

    def _list_failed(self, message: str) -> None:
        self.list_error.setText(message)
        self.list_error.show()

    def _show_list(self, rows: list[ListRow]) -> None:
        self.list_error.hide()
        chosen = self.selected_id()
        self.rows = rows
        self.list_stack.setCurrentWidget(self.table if rows else self.empty)
        self.open_button.setVisible(bool(rows))
        self.new.setVisible(bool(rows))  # the empty state offers it
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            c = row.campaign
            name = cell(c.name)
            name.setData(IdRole, c.id)
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, cell(STATE_WORDS.get(c.status, c.status)))
            audience = "not frozen yet" if row.audience is None else f"{row.audience:,}"
            self.table.setItem(r, 2, cell(audience, right=row.audience is not None))
            sent = "—" if c.status in ("draft", "prepared") else f"{row.sent:,} / {row.replied:,}"
            self.table.setItem(r, 3, cell(sent, right=True))
            self.table.setItem(r, 4, cell(created_text(c.created_at)))
            if c.id == chosen:
                self.table.selectRow(r)
        self._list_selection()
        self.loaded.emit()

    def _show_detail(self, detail: CampaignDetail) -> None:
        previous = self.current
        self.detail = detail
        self.current = campaign = detail.campaign
        switched = previous is None or previous.id != campaign.id or previous.status != campaign.status
        keep = (
            not switched and campaign.status == "draft" and self.editor.campaign is not None and self.editor.is_edited()
        )
        shown = self.editor.campaign
        unchanged = (
            not switched and shown is not None and shown.id == campaign.id and shown.updated_at == campaign.updated_at
        )  # a running campaign's recipients change at every step: its editor (and its count) need not be read again
        if not keep and not unchanged:
            self.editor.set_campaign(campaign)
        self.editor.set_read_only(campaign.status != "draft")
        self.title.setText(campaign.name)
        self.state.setText(STATE_WORDS.get(campaign.status, campaign.status))
        self.about.setText(STATE_ABOUT.get(campaign.status, ""))
        self.audience.show_detail(detail)
        self.results.show_detail(detail)
        self._select_test_contact()
        self._update_actions()
        self.detail_loaded.emit()

    def _select_test_contact(self) -> None:
        c = self.current
        if c is None or not c.test_contact_id or self.test_to.currentText().strip():
            return
        index = self.test_to.findData(c.test_contact_id)
        if index >= 0:
            self.test_to.setCurrentIndex(index)

    # ---- list ----------------------------------------------------------------------------------------------
    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else str(item.data(IdRole))

    def _list_selection(self) -> None:
        self.open_button.setEnabled(self.selected_id() is not None)

    def _open_selected(self) -> None:
        chosen = self.selected_id()
        if chosen is not None:
            self.open_campaign(chosen)

    def open_campaign(self, campaign_id: str) -> None:
        """Show one campaign (read on a worker); the first tab that says the most about its state."""
        found = next((r.campaign for r in self.rows if r.campaign.id == campaign_id), None)
        self.current = None
        self.detail = None
        self.error.hide()
        self.notice.hide()
        self.test_to.setEditText("")
        self.stack.setCurrentWidget(self.campaign_page)
        if found is not None:
            self.title.setText(found.name)
            self.tabs.setCurrentIndex(self._tab_for(found.status))
        self._detail_reads += 1
        seq, store = self._detail_reads, self.ctx.store
        status = self.results.chosen_status()

        def done(detail: CampaignDetail) -> None:
            if seq == self._detail_reads:
                self.tabs.setCurrentIndex(self._tab_for(detail.campaign.status))
                self._show_detail(detail)
                self.tabs.currentWidget().setFocus()
                if detail.campaign.status == "draft":
                    self.editor.name.setFocus()

        self.ctx.tasks.start("Reading the campaign", lambda: read_detail(store, campaign_id, status), done,
                             self._show_error, owner=self, quiet=True)  # fmt: skip

    def _tab_for(self, status: str) -> int:
        return {"draft": 0, "prepared": 1}.get(status, 2)

    def show_list(self) -> None:
        if self.editor.is_edited() and self.current is not None and self.current.status == "draft":
            self.confirm_box = kit.confirm(
                self,
                "Leave without saving?",
                f"The changes to “{self.current.name}” are not saved.",
                "Leave without saving",
                self._leave,
            )
            return
        self._leave()

    def _leave(self) -> None:
        self.current = None
        self.detail = None
        self.editor.campaign = None
        self.stack.setCurrentWidget(self.list_page)
        self.table.setFocus()
        self.refresh()

    # ---- the moves -----------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        c = self.current
        status: CampaignStatus | None = c.status if c is not None else None

        def can(target: CampaignStatus) -> bool:
            return status is not None and lifecycle.can(status, target)

        draft = status == "draft"
        edited = draft and self.editor.is_edited()
        self.save.setVisible(draft)
        self.save.setEnabled(edited)
        self.prepare.setVisible(draft)
        self.prepare.setEnabled(can("prepared"))
        self.unprepare.setVisible(status == "prepared")
        self.unprepare.setEnabled(can("draft"))
        self.start.setVisible(status in ("draft", "prepared"))
        self.start.setEnabled(status == "prepared" and can("running"))
        self.pause.setVisible(status in ("running", "paused"))
        self.pause.setEnabled(can("paused"))
        self.resume.setVisible(status == "paused")
        self.resume.setEnabled(status == "paused" and can("running"))
        if status == "paused":
            self.pause.setVisible(False)
        self.cancel.setVisible(status is not None and status not in lifecycle.ENDED)
        self.cancel.setEnabled(can("cancelled"))
        testable = status in ("draft", "prepared")
        self.test_to.setVisible(testable)
        self.send_test.setVisible(testable)
        self.send_test.setEnabled(testable)

    def _error_text(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _show_error(self, message: str) -> None:
        self._error_text(message)
        self._update_actions()

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _run(self, name: str, write: Callable[[], Any], then: Callable[[Any], None] | None = None) -> None:
        self._error_text("")
        self._say("")
        for button in self.moves:
            button.setEnabled(False)

        def done(result: Any) -> None:
            if then is not None:
                then(result)
            self.refresh_detail()
            self.refresh()

        self.ctx.tasks.start(name, write, done, self._show_error, owner=self)

    def new_campaign(self) -> None:
        """A draft at once (named, empty), opened in the editor with its name selected to type over."""
        store = self.ctx.store
        name = f"New campaign {clock(datetime.now().astimezone())}"

        def created(campaign: Campaign) -> None:
            self.refresh()
            self.open_campaign(campaign.id)
            self.tabs.setCurrentIndex(0)

        self.ctx.tasks.start(
            "Creating a campaign", lambda: ops.create_draft(store, name).value, created, self._list_failed, owner=self
        )

    def save_now(self, then: Callable[[Campaign], None] | None = None) -> None:
        c = self.current
        if c is None or c.status != "draft":
            return
        try:
            values = self.editor.values()
        except InvalidInput as exc:  # an amount that is not one: the editor's sentence
            self._error_text(str(exc))
            return
        store, cid = self.ctx.store, c.id

        def saved(campaign: Campaign) -> None:
            self.current = campaign
            self.editor.campaign = campaign
            self._say("Saved.")
            if then is not None:
                then(campaign)

        self._run("Saving the campaign", lambda: ops.edit_draft(store, cid, **values).value, saved)

    def prepare_now(self) -> None:
        """Save what was edited, then freeze the audience; the Audience tab shows who is in and who is left out."""
        c = self.current
        if c is None:
            return
        store, cid = self.ctx.store, c.id

        def prepared(prep: ops.Preparation) -> None:
            left_out = sum(prep.excluded.values())
            self._say(
                f"Prepared: {prep.included:,} get it, {left_out:,} left out."
                if left_out
                else f"Prepared: {prep.included:,} get it."
            )
            self.tabs.setCurrentWidget(self.audience)

        def prepare(_saved: object = None) -> None:
            self._run("Preparing the campaign", lambda: ops.prepare(store, cid).value, prepared)

        if self.editor.is_edited():
            self.save_now(prepare)
        else:
            prepare()

    def _move(self, name: str, op: Callable[[Store, str], Any]) -> None:
        c = self.current
        if c is None:
            return
        store, cid = self.ctx.store, c.id

        def moved(result: Any) -> None:
            status = getattr(getattr(result, "value", None), "status", "")
            if status == "running":
                self.tabs.setCurrentWidget(self.results)
            self.moved.emit(str(status))

        self._run(name, lambda: op(store, cid), moved)

    def cancel_now(self) -> None:
        c = self.current
        if c is None:
            return
        left = ""
        if self.detail is not None and self.detail.funnel.queued:
            left = f" The {self.detail.funnel.queued:,} still waiting will not get it."
        self.confirm_box = kit.confirm(
            self,
            "Cancel the campaign?",
            f"“{c.name}” stops for good and cannot be started again.{left} Messages already sent stay sent.",
            "Cancel campaign",
            lambda: self._move("Cancelling the campaign", ops.cancel),
        )
        keep = self.confirm_box.button(QtWidgets.QMessageBox.StandardButton.Cancel)
        if keep is not None:  # "Cancel" beside "Cancel campaign" read as the same thing twice
            keep.setText("Keep it")

    def send_test_now(self) -> None:
        c = self.current
        if c is None or c.status not in ("draft", "prepared"):
            return
        typed = self.test_to.currentText().strip()
        index = self.test_to.findText(typed) if typed else -1
        if index < 0 and typed:
            index = next((i for i in range(self.test_to.count()) if typed.casefold() in self.test_to.itemText(i)
                          .casefold()), -1)  # fmt: skip
        if index < 0:
            self._error_text("Choose the contact to send the test to: start typing their name.")
            return
        contact_id, label = str(self.test_to.itemData(index)), self.test_to.itemText(index)
        store, cid = self.ctx.store, c.id
        values = self.editor.values() if c.status == "draft" and self.editor.is_edited() else {}

        def write() -> ops.Sent:
            if values:  # the test shows what is in the editor: it is saved first
                ops.edit_draft(store, cid, **values)
            return ops.send_test(store, cid, contact_id).value

        def sent(result: ops.Sent) -> None:
            who = label.split(" · ")[0]
            if result.message is not None:
                self._say(f"A test is queued for {who}; it goes out at the number's pace (WhatsApp page).")
            else:
                self._error_text(TEST_REFUSED.get(result.reason or "", "The test was not sent."))

        self._run("Sending a test", write, sent)

    # ---- following changes ---------------------------------------------------------------------------------
    def _changed(self, tables: frozenset[str]) -> None:
        self._pending |= tables
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_pending(self) -> None:
        tables, self._pending = frozenset(self._pending), set()
        if tables & {"campaigns", "campaign_recipients"}:
            self.refresh()
        if self.current is not None and tables & {"campaigns", "campaign_recipients", "sales"}:
            self.refresh_detail()
        if tables & {"tags", "pipeline_stages", "products", "custom_field_defs"}:
            self.refresh_options()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        """Esc goes back to the list; Ctrl+S saves a draft (what a field left unhandled reaches the page)."""
        if self.stack.currentWidget() is self.campaign_page:
            if event.key() == Qt.Key.Key_Escape:
                self.show_list()
                return
            if event.matches(QtGui.QKeySequence.StandardKey.Save):
                self.save_now()
                return
        super().keyPressEvent(event)

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._pending:
            self._timer.start()


TEST_REFUSED: dict[str, str] = {
    ops.HALTED: "Automated sending is stopped (WhatsApp page), so the test waits: resume it there first.",
    ops.NOT_SENDING_DEVICE: "Another computer holds the WhatsApp session; send the test from that computer.",
    "opted_out": "That contact opted out of campaigns, so the test was not sent; choose another contact.",
}
