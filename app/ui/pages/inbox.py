"""Inbox: the chat list (filters, search), the open conversation with its composer, and the contact panel.

Each chat keeps its own draft (text, note mode, the message replied to) while another chat is open. Changes to
chats and messages arrive in bursts (a sync, a busy hour), so the list refreshes at most every
``REFRESH_DEBOUNCE_MS`` and re-reads only its top on a worker: the rows on screen (and the selected one) plus a
margin, at least a page, at most ``REFRESH_MAX`` rows.

The list never moves under a click: while a mouse button is down on it, and for ``CLICK_SETTLE_MS`` after the
release, a refresh waits (rows that jump as a new message arrives would turn the press into a click on another
customer's chat); it runs as soon as the list is let go. The selection is kept by chat id, never by row. The composer
names the recipient, and after Send an "Undo" bar offers to take the message back while it is still queued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.core.ids import utc_now
from app.core.models import Chat, Message, QuickReply, Tag
from app.core.templates import contact_variables, render
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store import labels
from app.store.inbox import InboxRow, View
from app.store.ops import Done
from app.store.ops.chats import assign_chat, mark_read
from app.store.ops.media import queue_media
from app.store.ops.messages import queue_message
from app.store.ops.notes import add_note
from app.store.search import SearchHit
from app.ui import shortcuts
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.labels_dialog import LabelsDialog, open_labels_dialog
from app.ui.dialogs.product_picker import ProductCards
from app.ui.format import display_name, phone
from app.ui.layout_memory import remember_checked, remember_splitter
from app.ui.models.chat_model import ChatModel, ItemRole
from app.ui.models.inbox_model import PAGE, InboxModel, RowRole
from app.ui.unsent_actions import cancel_message, retry_message
from app.ui.widgets.activation import connect_activation
from app.ui.widgets.ai_panel import AIPanel, attach_ai_service
from app.ui.widgets.bubble_delegate import BubbleDelegate
from app.ui.widgets.chat_actions import ChatActions
from app.ui.widgets.chat_list_delegate import ChatListDelegate
from app.ui.widgets.chat_view import ChatView
from app.ui.widgets.composer import Composer, Draft
from app.ui.widgets.composer_undo import UndoSendBar
from app.ui.widgets.contact_panel import ContactPanel
from app.ui.widgets.empty_state import EmptyState
from app.ui.widgets.inbox_filters import VIEW_NAMES, InboxFilterBar
from app.ui.widgets.media_actions import add_item_media_actions
from app.ui.widgets.media_bubble import TEAM_SHARING_OFF, TeamMedia
from app.ui.widgets.ownership_banner import OwnershipBanner
from app.ui.widgets.search_results import HitRole, SearchResultDelegate
from app.whatsapp.status import ConnectionState, WhatsAppStatus

REFRESH_DEBOUNCE_MS = 150
LABELS_DEBOUNCE_MS = 1000  # the label filter's list, re-read after chats or customers changed
REFRESH_MARGIN = 50  # rows re-read below the last one on screen
REFRESH_MAX = 300
REFRESH_TASK = "Refreshing the chat list"
CLICK_SETTLE_MS = 400  # after a click on the list, rows stay put this long (the chat it opened is on screen by then)
# What the page shows: the list (chat rows, their last message, contact names), the open chat's messages and
# notes, its header, the tag filter, the assignees and the composer's quick replies.
LIST_TABLES = frozenset({"chats", "chat_stats", "messages", "contacts"})
SHOWN_TABLES = LIST_TABLES | {"notes", "tags", "users", "quick_replies"}
STATE_WORDS = {"pending": "Pending", "resolved": "Resolved"}
FETCH_TASK = "Fetching the file"
FETCH_SENTENCES = {  # what "click to fetch" ended in, when the file did not arrive
    "missing": "WhatsApp Web did not have the file just now; try again in a moment, or open it on the phone.",
    "unavailable": "WhatsApp says this file is no longer available; ask the customer to send it again.",
    "too_large": "The file is larger than Parley fetches by itself; open it on the phone.",
    "error": "The file could not be fetched from WhatsApp; try again in a moment.",
}
EMPTY_VIEW: dict[str, str] = {
    "pending": "Chats you mark pending (waiting on the customer or a teammate) wait here.",
    "resolved": "Resolved chats come here; one opens again when the customer writes.",
    "snoozed": "Snoozed chats wait here until their time, or until the customer writes.",
    "archived": "Archived chats wait here; one comes back when the customer writes.",
}


class InboxPage(QtWidgets.QWidget):
    chat_opened = Signal(str)
    section_requested = Signal(str)  # the main window shows that section ("whatsapp" from "Connect WhatsApp")
    settings_requested = Signal(str)  # a section of Settings ("AI" from the owner chip's "AI replies are off")
    first_page_painted = Signal()
    search_finished = Signal(int)

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.chat_id: str | None = None
        self._header_chat: Chat | None = None  # the chat row the header shows
        self.current_row: InboxRow | None = None
        self._search_seq = 0
        self._drafts: dict[str, Draft] = {}  # chats other than the open one
        self._refreshing = False
        self._refresh_again = False
        self._open_chat_touched = False  # a change named the open chat since it was last read
        self._list_pressed = False  # a mouse button is down on the chat list: its rows must not move
        self._refresh_held = False  # a refresh waited for the press to end

        # ---- left: search, filters, list -----------------------------------------------------------------
        self.search = QtWidgets.QLineEdit(placeholderText="Search messages, contacts and notes")
        self.search.setClearButtonEnabled(True)
        # The conversation views (Open first, as in Chatwoot), whose chats, unread only, a label.
        self.filter_bar = InboxFilterBar()
        self._label_names: dict[str, str] = {}  # label id -> name, so the label filter follows a rename
        self.unread = self.filter_bar.unread
        self.chat_actions = ChatActions(ctx, self)

        self.model = InboxModel(ctx.store, self)
        self.model.filters = self.filter_bar.filters(ctx.store.local_user_id)
        self.list = QtWidgets.QListView()
        self.list.setModel(self.model)
        self.list_delegate = ChatListDelegate(self.list)
        self.list.setItemDelegate(self.list_delegate)
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.list.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._chat_menu)
        self.results = QtWidgets.QListWidget()
        self.results.setItemDelegate(SearchResultDelegate(self.results))
        self.results.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A search or filter without a match says so and offers the way back, instead of an empty list.
        self.no_results = EmptyState("No matches", "", action="Clear search")
        self.no_results.set_width(240)
        self.no_results.action_triggered.connect(self.search.clear)
        self.no_match = EmptyState("No chats match these filters", "", action="Clear filters")
        self.no_match.set_width(240)
        self.no_match.action_triggered.connect(self.clear_filters)
        self.left_stack = QtWidgets.QStackedWidget()
        self.left_stack.addWidget(self.list)
        self.left_stack.addWidget(self.results)
        self.left_stack.addWidget(self.no_results)
        self.left_stack.addWidget(self.no_match)
        left = QtWidgets.QWidget()
        left.setMinimumWidth(280)
        lv = QtWidgets.QVBoxLayout(left)
        lv.setContentsMargins(10, 10, 0, 0)
        lv.addWidget(self.search)
        lv.addWidget(self.filter_bar)
        lv.addWidget(self.left_stack, 1)

        # ---- centre: header, conversation, composer -------------------------------------------------------
        self.header_name = QtWidgets.QLabel()
        self.header_name.setObjectName("pageTitle")
        self.header_sub = QtWidgets.QLabel()
        self.header_sub.setObjectName("muted")
        self.assignee = QtWidgets.QComboBox()
        self.assignee.setToolTip("Who on the team handles this chat")
        header = QtWidgets.QFrame()
        header.setObjectName("header")
        titles = QtWidgets.QVBoxLayout()
        titles.addWidget(self.header_name)
        titles.addWidget(self.header_sub)
        # Who owns the conversation (AI autopilot, AI drafts, paused, a person) and Take over / Hand back to AI.
        self.ownership = OwnershipBanner(ctx)
        self.ownership.section_requested.connect(self.section_requested)
        self.ownership.settings_requested.connect(self.settings_requested)
        rows = QtWidgets.QVBoxLayout(header)  # the chip gets the header's whole width (a pause's sentence is long)
        rows.setContentsMargins(16, 10, 16, 8)
        rows.setSpacing(4)
        hv = QtWidgets.QHBoxLayout()
        rows.addLayout(hv)
        rows.addWidget(self.ownership)
        hv.addLayout(titles, 1)
        hv.addWidget(QtWidgets.QLabel("Assigned to"))
        hv.addWidget(self.assignee)
        # Resolve (or Reopen) at hand, the other choices behind its arrow (Chatwoot's header button).
        self.resolve = QtWidgets.QToolButton()
        self.resolve.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.resolve.setObjectName("primaryTool")
        self.resolve.clicked.connect(self._toggle_resolved)
        self.resolve.setMenu(QtWidgets.QMenu(self.resolve))
        self.resolve.menu().aboutToShow.connect(self._fill_header_menu)
        hv.addWidget(self.resolve)
        self.chat_model = ChatModel(ctx.store, page=int(ctx.settings.inbox.history_page), parent=self)
        self.conversation = ChatView()
        self.conversation.setModel(self.chat_model)
        bubbles = BubbleDelegate(self.conversation)
        self.conversation.setItemDelegate(bubbles)
        bubbles.fetch_requested.connect(self.fetch_media)
        self.conversation.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.conversation.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.conversation.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.conversation.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.conversation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversation.verticalScrollBar().valueChanged.connect(self._maybe_load_earlier)
        self.conversation.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.conversation.customContextMenuRequested.connect(self._message_menu)
        self.composer = Composer(self._render_reply, settings=ctx.settings)
        self.composer.edit.enter_sends = bool(ctx.settings.inbox.enter_sends)
        # The AI panel sits beside the conversation and its composer; bootstrap wires its provider factory.
        self.ai_panel = AIPanel(ctx.store, ctx.tasks)
        if ctx.ai is not None:
            attach_ai_service(self.ai_panel, ctx.ai)
        self.ai_panel.composer_text = self.composer.edit.toPlainText
        self.ai_panel.accepted.connect(self._accept_suggestion)
        ctx.changes.chats_changed.connect(self.ai_panel.agent_drafts.chats_changed)  # before ``changed``
        ctx.changes.changed.connect(self.ai_panel.agent_drafts.tables_changed)  # an agent's draft appears by itself
        talk = QtWidgets.QWidget()
        tv = QtWidgets.QVBoxLayout(talk)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.setSpacing(0)
        tv.addWidget(self.conversation, 1)
        self.undo_bar = UndoSendBar(ctx)
        self.undo_bar.undone.connect(self._send_undone)
        tv.addWidget(self.undo_bar)
        tv.addWidget(self.composer)
        talk.setMinimumWidth(340)  # the conversation and composer stay readable beside the AI panel
        body = QtWidgets.QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(talk, 1)
        body.addWidget(self.ai_panel)
        self.chat_area = QtWidgets.QWidget()
        cv = QtWidgets.QVBoxLayout(self.chat_area)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.setSpacing(0)
        cv.addWidget(header)
        cv.addLayout(body, 1)
        self.placeholder = EmptyState("Your conversations", "")
        self.placeholder.action_triggered.connect(lambda: self.section_requested.emit("whatsapp"))
        self.centre = QtWidgets.QStackedWidget()
        self.centre.addWidget(self.placeholder)
        self.centre.addWidget(self.chat_area)

        # ---- right: contact ------------------------------------------------------------------------------
        self.panel = ContactPanel(ctx)

        self.splitter = QtWidgets.QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.centre)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 640, 290])
        self.splitter.setChildrenCollapsible(False)
        # Sizes and whether the AI panel is open are remembered on this device (app.ui.layout_memory).
        remember_splitter(self.splitter, "inbox", ctx.settings)
        remember_checked(self.ai_panel.toggle, "inbox.ai_panel", ctx.settings)
        # The AI panel opens beside the customer panel, never instead of it: staff check the draft against the customer.
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        # ---- wiring ----------------------------------------------------------------------------------------
        self.list.selectionModel().currentChanged.connect(self._row_selected)
        connect_activation(self.results, self._hit_activated)
        self._search_timer = QtCore.QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.filter_bar.changed.connect(self._apply_filters)
        self.filter_bar.manage_labels.connect(self.open_labels)
        self._labels_timer = QtCore.QTimer(self, singleShot=True, interval=LABELS_DEBOUNCE_MS)
        self._labels_timer.timeout.connect(self._read_labels)
        self._counts_timer = QtCore.QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._counts_timer.timeout.connect(self.refresh_counts)
        # A snooze that runs out brings its chat back without anything else changing: refresh at its end.
        self._snooze_timer = QtCore.QTimer(self, singleShot=True)
        self._snooze_timer.timeout.connect(self._snooze_ended)
        self.composer.send.connect(self._send)
        self.composer.send_media.connect(self._send_media)
        self.composer.accept_drops_on(self.conversation)  # files dropped on the chat are attached
        self.product_cards = ProductCards(ctx, self.composer, lambda: self.chat_id, self)  # paperclip → Product…
        self.product_cards.queued.connect(lambda _id: self.conversation.scroll_to_bottom())
        for rows_signal in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            rows_signal.connect(self._show_list_or_no_match)
        self._refresh_timer = QtCore.QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._refresh_timer.timeout.connect(self.refresh_list)
        self._settle_timer = QtCore.QTimer(self, singleShot=True, interval=CLICK_SETTLE_MS)
        self._settle_timer.timeout.connect(self._list_settled)
        self.list.viewport().installEventFilter(self)
        ctx.changes.chats_changed.connect(self._chats_changed)  # before ``changed``, which acts on it
        self.watch = StaleWhenHidden(self, ctx.changes, SHOWN_TABLES, self._changed)
        ctx.whatsapp.status_changed.connect(self._whatsapp_status)
        ctx.whatsapp.media_fetched.connect(self._media_fetched)
        self._show_placeholder(ctx.whatsapp.status)
        shortcuts.bind(self, "search", self.search.setFocus)
        shortcuts.bind(self, "next_chat", lambda: self.step_chat(1))
        shortcuts.bind(self, "previous_chat", lambda: self.step_chat(-1))
        shortcuts.bind(self, "next_unread", self.next_unread)
        shortcuts.bind(self.search, "clear_search", self.clear_search, Qt.ShortcutContext.WidgetShortcut)
        shortcuts.bind(self, "resolve", self._toggle_resolved)
        shortcuts.bind(
            self, "archive", lambda: self._on_open_chat(lambda c: self.chat_actions.archive(c.id, not c.archived))
        )
        shortcuts.bind(self, "pin", lambda: self._on_open_chat(lambda c: self.chat_actions.pin(c.id, not c.pinned)))
        shortcuts.bind(self, "mark_unread", lambda: self._on_open_chat(lambda c: self.chat_actions.mark_unread(c.id)))

        self.assignee.currentIndexChanged.connect(self._assign)
        self._load_users()
        self._load_labels()
        self.composer.set_quick_replies(ctx.store.quick_replies.find_all(order_by="shortcut"))
        self.model.fetchMore(QtCore.QModelIndex())
        self.refresh_counts()
        QtCore.QTimer.singleShot(0, self.first_page_painted.emit)

    # ---- list --------------------------------------------------------------------------------------------
    def _load_labels(self) -> None:
        """The label filter offers the labels chats carry; the rows paint each label in its colour."""
        self._show_labels(labels.all_labels(self.ctx.store), labels.in_use(self.ctx.store))

    def _read_labels(self) -> None:
        """``_load_labels`` on a worker (after chats or customers changed, which happens with every message)."""
        self._labels_timer.stop()
        store = self.ctx.store
        self.ctx.tasks.start(
            "Reading labels",
            lambda: (labels.all_labels(store), labels.in_use(store)),
            lambda found: self._show_labels(*found),
            owner=self,
            quiet=True,
        )

    def _show_labels(self, managed: list[Tag], in_use: list[str]) -> None:
        colors = {t.name: t.color for t in managed}
        renamed = {self._label_names[t.id]: t.name for t in managed if self._label_names.get(t.id, t.name) != t.name}
        self._label_names = {t.id: t.name for t in managed}
        self.list_delegate.label_colors = {k.casefold(): v for k, v in colors.items()}
        self.filter_bar.set_labels(in_use, colors, renamed)

    def open_labels(self) -> LabelsDialog:
        """The label manager (create, rename, recolour, merge, delete)."""
        return open_labels_dialog(self.ctx, self)

    def refresh_counts(self) -> None:
        """The number on each view's tab, under the owner / unread / label filters in force."""
        self._counts_timer.stop()
        store, filters = self.ctx.store, self.model.filters

        def done(found: tuple[dict[View, int], datetime | None]) -> None:
            self.filter_bar.set_counts(found[0])
            self._arm_snooze_timer(found[1])

        self.ctx.tasks.start(
            "Counting conversations",
            lambda: (store.view_counts(filters), store.next_snooze_end()),
            done,
            owner=self,
            quiet=True,
        )

    def _arm_snooze_timer(self, end: datetime | None) -> None:
        if end is None:
            self._snooze_timer.stop()
            return
        ms = int((end - utc_now()).total_seconds() * 1000) + 500
        self._snooze_timer.start(max(500, min(ms, 3_600_000)))  # re-armed at least hourly (a suspended laptop)

    def _snooze_ended(self) -> None:
        self.refresh_list()
        self.refresh_counts()

    def _chat_menu(self, pos: QtCore.QPoint) -> None:
        index = self.list.indexAt(pos)
        if not index.isValid():
            return
        row: InboxRow = index.data(RowRole)
        menu = self.chat_menu(row.chat_id)
        if menu is not None:
            menu.popup(self.list.viewport().mapToGlobal(pos))

    def chat_menu(self, chat_id: str) -> QtWidgets.QMenu | None:
        """What a right click on a chat in the list offers (built apart from popping it up, so it can be tested)."""
        chat = self.ctx.store.chats.find(chat_id)
        if chat is None:
            return None
        row: InboxRow | None = self.model.index_of(chat_id).data(RowRole)
        return self.chat_actions.menu(chat, unread=bool(row is not None and row.unread), parent=self)

    def _on_open_chat(self, action: Callable[[Chat], None]) -> None:
        chat = self.ctx.store.chats.find(self.chat_id) if self.chat_id else None
        if chat is not None:
            action(chat)

    def _toggle_resolved(self) -> None:
        self._on_open_chat(self.chat_actions.toggle_resolved)

    def _fill_header_menu(self) -> None:
        menu = self.resolve.menu()
        menu.clear()
        chat = self.ctx.store.chats.find(self.chat_id) if self.chat_id else None
        if chat is None:
            return
        row: InboxRow | None = self.model.index_of(chat.id).data(RowRole)
        for action in self.chat_actions.menu(chat, unread=bool(row is not None and row.unread), parent=menu).actions():
            menu.addAction(action)

    def _load_users(self) -> None:
        users = self.ctx.store.users.find_all(order_by="name")
        self.list_delegate.user_names = {u.id: u.name for u in users}
        self.assignee.blockSignals(True)
        current = self.assignee.currentData()
        self.assignee.clear()
        self.assignee.addItem("Nobody", None)
        me = self.ctx.store.local_user_id
        for user in users:
            self.assignee.addItem(f"{user.name} (me)" if user.id == me else user.name, user.id)
        self.assignee.setCurrentIndex(max(0, self.assignee.findData(current)))
        self.assignee.blockSignals(False)

    def _assign(self) -> None:
        if self.chat_id is None:
            return
        chat_id, user_id, store = self.chat_id, self.assignee.currentData(), self.ctx.store
        self.ctx.tasks.start("Assigning the chat", lambda: assign_chat(store, chat_id, user_id))

    def _message_menu(self, pos: QtCore.QPoint) -> None:
        index = self.conversation.indexAt(pos)
        if not index.isValid():
            return
        menu = self.message_menu(self.chat_model.item(index.row()).id)
        if menu is not None:
            menu.popup(self.conversation.viewport().mapToGlobal(pos))

    def message_menu(self, item_id: str) -> QtWidgets.QMenu | None:
        """What a right click on a message offers (built apart from popping it up, so it can be tested)."""
        row = self.chat_model.row_of(item_id)
        if row < 0 or self.chat_model.item(row).kind != "message":
            return None
        item = self.chat_model.item(row)
        menu = QtWidgets.QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Reply", lambda: self.composer.set_reply(item.id, item.text))
        menu.addAction("Copy text", lambda: QtGui.QGuiApplication.clipboard().setText(item.text))
        if item.media is not None:  # Open in viewer / Play, Save as…, Copy
            add_item_media_actions(menu, item, self.conversation, lambda s: self.ctx.tasks.failed.emit("Save as", s))
        if item.direction == "out" and item.status in ("failed", "queued"):
            menu.addSeparator()
            if item.status == "failed":
                menu.addAction("Try again", lambda: retry_message(self.ctx, item.id))
            menu.addAction("Cancel sending", lambda: cancel_message(self.ctx, item.id))
        return menu

    def _show_placeholder(self, status: WhatsAppStatus) -> None:
        """What the centre says with no chat open: never "once a number is connected" while one is."""
        if status.state is ConnectionState.connected:
            self.placeholder.body.setText(
                "Choose a chat on the left. New WhatsApp messages appear here as they arrive."
            )
            self.placeholder.set_action(None)
        else:
            self.placeholder.body.setText(
                "Choose a chat on the left. New WhatsApp messages appear here as they arrive once WhatsApp is"
                " connected."
            )
            self.placeholder.set_action("Connect WhatsApp")

    def _whatsapp_status(self, status: WhatsAppStatus) -> None:
        self._show_placeholder(status)
        queue = status.queue
        waits_until = queue.next_send_at if queue.waiting and not queue.paused else None
        if self.chat_model.set_next_send_at(waits_until, waiting_on=queue.held_by):
            self.conversation.doItemsLayout()

    def _apply_filters(self) -> None:
        self.model.set_filters(self.filter_bar.filters(self.ctx.store.local_user_id))
        self._reselect()
        self.refresh_counts()

    def filter_words(self) -> list[str]:
        """The filters in force besides the view, as the controls name them ("Mine", "Unread", "VIP")."""
        return self.filter_bar.words()

    def clear_filters(self) -> None:
        self.filter_bar.clear()

    def _show_list_or_no_match(self) -> None:
        """The chat list, or "No chats match …" when filters leave it empty (search results have their own)."""
        if self.search.text().strip():
            return
        words = self.filter_words()
        view = self.filter_bar.view()
        if self.model.rowCount() == 0 and words:
            self.no_match.title.setText("No chats match these filters")
            self.no_match.body.setText(f"No {VIEW_NAMES[view].lower()} chats match {' · '.join(words)}.")
            self.no_match.set_action("Clear filters")
            self.left_stack.setCurrentWidget(self.no_match)
        elif self.model.rowCount() == 0 and view not in ("open", "all"):
            self.no_match.title.setText(f"No {VIEW_NAMES[view].lower()} chats")
            self.no_match.body.setText(EMPTY_VIEW[view])
            self.no_match.set_action(None)
            self.left_stack.setCurrentWidget(self.no_match)
        else:
            self.left_stack.setCurrentWidget(self.list)

    def step_chat(self, step: int) -> None:
        """Open the chat ``step`` rows below (above, when negative) the open one, in the list's order."""
        count = self.model.rowCount()
        current = self.model.index_of(self.chat_id).row() if self.chat_id else -1
        if current < 0:
            row = 0 if step > 0 else count - 1
        else:
            row = current + step
            if row >= count and self.model.canFetchMore(QtCore.QModelIndex()):
                self.model.fetchMore(QtCore.QModelIndex())
                count = self.model.rowCount()
        if 0 <= row < count:
            self.list.setCurrentIndex(self.model.index(row))  # opens it, as a click does

    def next_unread(self) -> None:
        """Open the next chat below the open one with unread messages (from the top again past the end)."""
        count = self.model.rowCount()
        current = self.model.index_of(self.chat_id).row() if self.chat_id else -1
        for offset in range(1, count + 1):
            row = (current + offset) % count
            if self.model.row(row).unread and row != current:
                self.list.setCurrentIndex(self.model.index(row))
                return

    def clear_search(self) -> None:
        """Esc in the search box: empty it and show the chat list again at once."""
        self.search.clear()
        self._search_timer.stop()
        self._search_seq += 1  # a search still on its way is dropped
        self._run_search()

    def _row_selected(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        row: InboxRow | None = current.data(RowRole) if current.isValid() else None
        if row is not None and row.chat_id != self.chat_id:
            self.open_chat(row.chat_id)

    def _reselect(self) -> None:
        if self.chat_id:
            index = self.model.index_of(self.chat_id)
            if index.isValid():
                self.list.selectionModel().blockSignals(True)
                self.list.setCurrentIndex(index)
                self.list.selectionModel().blockSignals(False)

    # ---- conversation --------------------------------------------------------------------------------------
    def open_chat(self, chat_id: str, *, around: str | None = None) -> None:
        if chat_id != self.chat_id and not self.panel.leave(lambda: self.open_chat(chat_id, around=around)):
            self._reselect()  # the customer's edits are being saved first (or the person is asked): stay on it
            return
        store = self.ctx.store
        chat = store.chats.get(chat_id)
        self._stash_draft()
        self.chat_id = chat_id
        self._show_header(chat)
        self.ownership.show_chat(chat_id)
        self._open_chat_touched = False
        self.chat_model.open(chat_id, around=around)
        self.centre.setCurrentWidget(self.chat_area)
        self.panel.show_contact(chat.contact_id)
        self.ai_panel.set_chat(chat_id)
        self.composer.set_draft(self._drafts.pop(chat_id, Draft()))
        self._reselect()
        if around:
            row = self.chat_model.row_of(around)
            if row >= 0:
                self.conversation.scrollTo(
                    self.chat_model.index(row), QtWidgets.QAbstractItemView.ScrollHint.PositionAtCenter
                )
        else:
            self.conversation.scroll_to_bottom()
        row_info = self.model.index_of(chat_id).data(RowRole)
        if (row_info is not None and row_info.unread) or chat.marked_unread:
            self.ctx.tasks.start("Marking as read", lambda: mark_read(store, chat_id))
        self.chat_opened.emit(chat_id)

    def _show_header(self, chat: Chat) -> None:
        """The open chat's name, phone, tags and assignee (again whenever its chat or contact row changes)."""
        self._header_chat = chat
        contact = self.ctx.store.contacts.find(chat.contact_id) if chat.contact_id else None
        number = phone(contact.phone) if contact else None  # as its country writes it; the store keeps E.164
        name = display_name((contact.name if contact else "") or chat.title, number)
        self.header_name.setText(name)
        self.composer.set_recipient(name, number)
        self.assignee.blockSignals(True)
        self.assignee.setCurrentIndex(max(0, self.assignee.findData(chat.assigned_user_id)))
        self.assignee.blockSignals(False)
        state = STATE_WORDS.get(chat.status, "")
        if chat.snoozed_until is not None and chat.snoozed_until > utc_now():
            state = "Snoozed until " + chat.snoozed_until.astimezone().strftime("%a %d %b, %H:%M")
        self.header_sub.setText(" · ".join(x for x in (number, state, *chat.tags) if x))
        self.resolve.setText("Reopen" if chat.status == "resolved" else "Resolve")
        self.resolve.setToolTip(
            "Open the conversation again" if chat.status == "resolved" else "Mark the conversation as done"
        )

    def _maybe_load_earlier(self, value: int) -> None:
        if value == 0 and self.chat_model.has_earlier:
            bar = self.conversation.verticalScrollBar()
            old_max = bar.maximum()
            if self.chat_model.load_earlier():
                self.conversation.doItemsLayout()
                bar.setValue(bar.maximum() - old_max)

    def _render_reply(self, reply: QuickReply) -> str:
        contact = self.panel.contact
        variables = contact_variables(
            contact.name if contact else "", contact.phone if contact else None, self.ctx.business_name
        )
        return render(reply.body, variables)

    def _accept_suggestion(self, text: str) -> None:
        """An accepted AI draft replaces the composer's text, ready to edit (the reply-to and note mode stay)."""
        self.composer.edit.setPlainText(text)
        self.composer.edit.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        self.composer.edit.setFocus()

    def _stash_draft(self) -> None:
        """Keep what the composer holds for the chat being left."""
        if self.chat_id is None:
            return
        draft = self.composer.draft()
        if draft == Draft():
            self._drafts.pop(self.chat_id, None)
        else:
            self._drafts[self.chat_id] = draft

    def draft_of(self, chat_id: str) -> Draft:
        """The draft of ``chat_id``: in the composer when it is the open chat, else kept aside."""
        return self.composer.draft() if chat_id == self.chat_id else self._drafts.get(chat_id, Draft())

    def _send(self, text: str, as_note: bool) -> None:
        if self.chat_id is None:
            return
        chat_id, store = self.chat_id, self.ctx.store
        sent = self.composer.draft()
        recipient = self.composer.recipient()
        reply_to = None if as_note else self.composer.reply_to
        if not as_note:
            self.ai_panel.sent(text)  # the AI log learns whether an accepted draft went out as it was

        def write() -> object:
            if as_note:
                return add_note(store, chat_id, text)
            return queue_message(store, chat_id, text, quoted_message_id=reply_to)

        def done(result: object) -> None:
            # Clear the draft that was sent, wherever it is now, unless it was edited since.
            if chat_id == self.chat_id:
                if self.composer.draft() == sent:
                    self.composer.clear()
                self.conversation.scroll_to_bottom()  # one's own message is always shown, as in WhatsApp
            elif self._drafts.get(chat_id) == sent:
                del self._drafts[chat_id]
            if not as_note and isinstance(result, Done) and isinstance(result.value, Message):
                self.undo_bar.offer(result.value, recipient, sent)

        self.ctx.tasks.start("Adding the note" if as_note else "Queuing the message", write, done, owner=self)

    def fetch_media(self, message_id: str) -> None:
        """ "Click to fetch": ask WhatsApp for the file again; the bubble shows it once stored (a store change).
        Media on a teammate's computer comes through the team server instead (``fetch_from_team``)."""
        row = self.chat_model.row_of(message_id)
        media = getattr(self.chat_model.index(row).data(ItemRole), "media", None) if row >= 0 else None
        if isinstance(media, TeamMedia):
            self.fetch_from_team(message_id, media.sharing)
            return
        if not self.ctx.whatsapp.fetch_media(message_id):
            self.ctx.tasks.failed.emit(FETCH_TASK, "WhatsApp is not connected: connect it, then click the file again.")

    def fetch_from_team(self, message_id: str, sharing: bool) -> None:
        sync = self.ctx.sync
        if not sharing or sync is None:
            why = TEAM_SHARING_OFF if sync is not None else "Sign in to the team in Settings → Team to fetch it"
            self.ctx.tasks.failed.emit(FETCH_TASK, why + ".")
            return
        service = sync.service

        def failed(message: str) -> None:
            self.ctx.tasks.failed.emit(FETCH_TASK, message)

        sync.call(FETCH_TASK, lambda: service.fetch_from_team(message_id), None, failed, owner=self)

    def _media_fetched(self, _message_id: str, state: str) -> None:
        sentence = FETCH_SENTENCES.get(state)
        if sentence:
            self.ctx.tasks.failed.emit(FETCH_TASK, sentence)

    def _send_media(self, files: list[tuple[str, bytes, str, str]]) -> None:
        """Queue the composer's attachments (each with its caption) for the open chat."""
        if self.chat_id is None:
            return
        chat_id, store = self.chat_id, self.ctx.store

        def done(_result: object) -> None:
            if chat_id == self.chat_id:
                self.composer.clear()
                self.conversation.scroll_to_bottom()

        def refused(message: str) -> None:
            if chat_id == self.chat_id:
                self.composer.attachments.refuse(message)

        self.ctx.tasks.start("Queuing the files", lambda: queue_media(store, chat_id, files), done, refused, owner=self)

    def _send_undone(self, chat_id: str, draft: Draft) -> None:
        """A message taken back with Undo returns to its chat's composer, unless something else was typed there."""
        if chat_id == self.chat_id:
            if self.composer.draft() == Draft():
                self.composer.set_draft(draft)
                self.composer.edit.setFocus()
        elif chat_id not in self._drafts:
            self._drafts[chat_id] = draft

    def _chats_changed(self, chat_ids: frozenset[str] | None) -> None:
        if self.chat_id is not None and (chat_ids is None or self.chat_id in chat_ids):
            self._open_chat_touched = True

    def _changed(self, tables: frozenset[str]) -> None:
        """What the store reports as changed (right away while shown, else once when shown again)."""
        open_chat_touched, self._open_chat_touched = self._open_chat_touched, False
        if tables & LIST_TABLES and not self._refresh_timer.isActive():
            self._refresh_timer.start()  # not restarted: a steady stream of changes still refreshes
        if tables & {"chats", "chat_stats", "contacts"} and not self._counts_timer.isActive():
            self._counts_timer.start()
        if self.chat_id and (tables & {"contacts"} or (tables & {"chats"} and open_chat_touched)):
            chat = self.ctx.store.chats.find(self.chat_id)
            if chat is not None and (chat != self._header_chat or tables & {"contacts"}):
                self._show_header(chat)
        if self.chat_id and tables & {"messages", "notes"} and open_chat_touched:  # not for other chats' messages
            shown = {self.chat_model.item(i).id for i in range(self.chat_model.rowCount())}
            with self.conversation.keeping_position():
                self.chat_model.reload()
            count = self.chat_model.rowCount()
            if count and self.chat_model.item(count - 1).id not in shown:  # a new message or note at the end
                self.conversation.announce_new()
        if tables & {"messages"}:
            self.undo_bar.message_changed()
        if tables & {"tags"}:
            self._read_labels()
        elif tables & {"chats", "contacts"} and not self._labels_timer.isActive():
            # A label put on or taken off a chat or customer: the filter's list follows, at most once a second
            # (every message received touches its chat and contact; the rows repaint through the list refresh).
            self._labels_timer.start()
        if tables & {"users"}:
            self._load_users()
        if tables & {"quick_replies"}:
            self.composer.set_quick_replies(self.ctx.store.quick_replies.find_all(order_by="shortcut"))

    # ---- refreshing the list ---------------------------------------------------------------------------------
    def refresh_window(self) -> int:
        """How many rows a refresh re-reads: those on screen and the selected one, plus a margin, within bounds."""
        viewport = self.list.viewport()
        last = self.list.indexAt(QtCore.QPoint(4, viewport.height() - 1)).row()
        if last < 0:
            last = self.model.rowCount() - 1  # the list ends on screen
        selected = self.list.currentIndex().row()
        return min(REFRESH_MAX, max(PAGE, max(last, selected) + 1 + REFRESH_MARGIN))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """Notice presses and releases on the chat list (its rows stay put from a press until shortly after)."""
        if watched is self.list.viewport():
            kind = event.type()
            if (
                kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonDblClick)
                and isinstance(event, QtGui.QMouseEvent)
                and event.button() == Qt.MouseButton.RightButton
            ):
                return True  # a right click opens the chat's menu, not the chat (as in WhatsApp)
            if kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonDblClick):
                self._list_pressed = True
                self._settle_timer.stop()
            elif (
                kind == QtCore.QEvent.Type.MouseButtonRelease
                and isinstance(event, QtGui.QMouseEvent)
                and event.buttons() == Qt.MouseButton.NoButton
            ):
                self._settle_timer.start()
        return super().eventFilter(watched, event)

    def rows_held(self) -> bool:
        """True while the list's rows must not move: a button is down on it, or it was just clicked."""
        if (
            self._list_pressed
            and QtGui.QGuiApplication.mouseButtons() == Qt.MouseButton.NoButton
            and not self._settle_timer.isActive()
        ):
            self._settle_timer.start()  # the release went elsewhere (a dialog the press opened): settle from now
        return self._list_pressed

    def _list_settled(self) -> None:
        self._list_pressed = False
        if self._refresh_held:
            self._refresh_held = False
            self.refresh_list()

    def refresh_list(self) -> None:
        """Re-read the top of the list on a worker and apply what changed (the debounce timer calls this)."""
        self._refresh_timer.stop()
        if self.rows_held():
            self._refresh_held = True
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        store, filters, generation = self.ctx.store, self.model.filters, self.model.generation
        want = self.refresh_window()

        def done(rows: list[InboxRow]) -> None:
            self._refreshing = False
            if generation == self.model.generation:
                if self.rows_held():
                    self._refresh_held = True  # read again once the list is let go
                else:
                    self._apply_refresh(rows, want)
            self._refresh_more()

        def failed(message: str) -> None:
            self._refreshing = False
            self.ctx.tasks.failed.emit(REFRESH_TASK, message)
            self._refresh_more()

        self.ctx.tasks.start(REFRESH_TASK, lambda: store.inbox(limit=want, filters=filters), done, failed, owner=self)

    def _refresh_more(self) -> None:
        if self._refresh_again:
            self._refresh_again = False
            self.refresh_list()

    def _apply_refresh(self, rows: list[InboxRow], want: int) -> None:
        bar = self.list.verticalScrollBar()
        position = bar.value()
        if self.model.apply_refresh(rows, want):
            self.list.doItemsLayout()
            self._reselect()
            bar.setValue(position)

    # ---- search --------------------------------------------------------------------------------------------
    def _run_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self.left_stack.setCurrentWidget(self.list)
            self._show_list_or_no_match()
            return
        self._search_seq += 1
        seq = self._search_seq
        store = self.ctx.store

        def query() -> list[SearchHit]:
            return (
                store.search_contacts(text, limit=8)
                + store.search_messages(text, limit=60)
                + store.search_notes(text, limit=10)
            )

        def show(hits: list[SearchHit]) -> None:
            if seq != self._search_seq:
                return  # a newer search is on its way
            self.results.clear()
            for hit in hits:
                item = QtWidgets.QListWidgetItem()
                item.setData(HitRole, hit)
                item.setData(Qt.ItemDataRole.DisplayRole, hit.snippet)
                self.results.addItem(item)
            self.no_results.title.setText(f"No chats match “{text}”")
            self.no_results.body.setText("Nothing in messages, contacts or notes has these words.")
            self.left_stack.setCurrentWidget(self.results if hits else self.no_results)
            self.search_finished.emit(len(hits))

        self.ctx.tasks.start("Searching", query, show, owner=self)

    def _hit_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        hit: SearchHit = item.data(HitRole)
        if hit.chat_id:
            self.open_chat(hit.chat_id, around=hit.id if hit.kind == "message" else None)
            return
        if hit.contact_id:
            chats = self.ctx.store.chats.find_all({"contact_id": hit.contact_id}, limit=1)
            if chats:
                self.open_chat(chats[0].id)
            else:
                self.panel.show_contact(hit.contact_id)
