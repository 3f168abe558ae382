"""Pipeline: the deals of a pipeline as a board of stage columns, moved by dragging cards.

Each column is a ``QListWidget`` painting its cards with a delegate. A drag carries only the deal id under a
private MIME type; the column it lands on works out the card index from the drop point and the page moves the card
at once (so the board answers the hand immediately), then ``move_deal`` runs on a worker and the board reloads
from the store. The board is read on a worker too, and a reply older than the latest request is dropped.

Columns share the page's width between a readable minimum (``COLUMN_MIN``) and ``COLUMN_WIDTH``; when a pipeline has
more stages than fit, the board scrolls sideways with a visible bar. Shift+wheel scrolls it sideways anywhere on the
board, and a card dragged near its left or right edge scrolls it (``EdgeScroll``) so every column can be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from app.core.models import Deal, Pipeline, PipelineStage
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store import deals as dealstore
from app.store.ops.deals import move_deal
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.deal_editor import DealEditorDialog
from app.ui.dialogs.tracker import DialogTracker
from app.ui.format import money, money_sums
from app.ui.theme import colors
from app.ui.widgets.chat_list_delegate import paint_avatar

MIME = "application/x-parley-deal-id"
CardRole = Qt.ItemDataRole.UserRole + 1
CARD_HEIGHT = 84
COLUMN_WIDTH = 250  # a column's width when there is room
COLUMN_MIN = 200  # never narrower: the title, contact, value and owner of a card stay readable
EDGE = 48  # a dragged card this close to the board's left or right edge scrolls it
EDGE_STEP = 24  # pixels per tick while it does
EDGE_TICK_MS = 30
WHEEL_STEP = COLUMN_WIDTH // 2  # pixels a wheel notch scrolls the board sideways (with Shift)
WATCHED = frozenset({"deals", "contacts", "pipeline_stages", "pipelines", "users", "orgs"})


@dataclass(frozen=True)
class Card:
    deal: Deal
    contact: str  # the contact's display name, "" without one
    owner: str  # the owner's name, "" without one


@dataclass
class BoardData:
    pipelines: list[Pipeline]
    pipeline_id: str | None
    board: dealstore.Board
    contacts: dict[str, str]
    owners: dict[str, str]
    currency: str


class CardDelegate(QtWidgets.QStyledItemDelegate):
    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        return QtCore.QSize(120, CARD_HEIGHT)  # ListMode stretches a card to the column width

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        card: Card | None = index.data(CardRole)
        if card is None:
            return
        c = colors()
        selected = bool(option.state & QtWidgets.QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 4, -4, -4)
        painter.setPen(QtGui.QPen(QtGui.QColor(c.accent if selected else c.border), 2 if selected else 1))
        painter.setBrush(QtGui.QColor(c.surface))
        painter.drawRoundedRect(rect, 8, 8)
        inner = rect.adjusted(12, 9, -12, -9)
        bold = QtGui.QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        fm = painter.fontMetrics()
        painter.setPen(QtGui.QColor(c.text))
        title = fm.elidedText(card.deal.title, Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(QtCore.QRect(inner.left(), inner.top(), inner.width(), fm.height()), 0, title)
        painter.setFont(option.font)
        fm = painter.fontMetrics()
        painter.setPen(QtGui.QColor(c.muted))
        contact = fm.elidedText(card.contact or "No contact", Qt.TextElideMode.ElideRight, inner.width())
        second = QtCore.QRect(inner.left(), inner.top() + fm.height() + 3, inner.width(), fm.height())
        painter.drawText(second, 0, contact)
        bottom = QtCore.QRect(inner.left(), inner.bottom() - 22, inner.width(), 22)
        painter.setPen(QtGui.QColor(c.accent))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(bottom, int(align), money(card.deal.value_minor, card.deal.currency))
        if card.owner:
            avatar = QtCore.QRect(bottom.right() - 22, bottom.top(), 22, 22)
            paint_avatar(painter, avatar, card.owner, card.deal.owner_user_id or card.owner)
        painter.restore()


class StageList(QtWidgets.QListWidget):
    """One column's cards: a drag source and a drop target for deal ids."""

    dropped = Signal(str, int)  # deal id, the row in this list the card was dropped at (before moving it)
    drag_moved = Signal(QtCore.QPoint)  # a card being dragged over this list, at this global position
    drag_ended = Signal()  # it left this list, was dropped, or the drag ended

    def __init__(self, stage_id: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.stage_id = stage_id
        self.setItemDelegate(CardDelegate(self))
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setUniformItemSizes(True)

    def row_of(self, deal_id: str) -> int:
        ids = [self.item(r).data(CardRole).deal.id for r in range(self.count())]
        return ids.index(deal_id) if deal_id in ids else -1

    # ---- dragging out ------------------------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, items: Sequence[QtWidgets.QListWidgetItem]) -> QtCore.QMimeData:
        data = QtCore.QMimeData()
        if items:
            data.setData(MIME, QtCore.QByteArray(items[0].data(CardRole).deal.id.encode()))
        return data

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        items = self.selectedItems()
        if not items:
            return
        item = items[0]
        drag = QtGui.QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        rect = self.visualItemRect(item)
        drag.setPixmap(self.viewport().grab(rect))
        drag.setHotSpot(self.viewport().mapFromGlobal(QtGui.QCursor.pos()) - rect.topLeft())
        drag.exec(Qt.DropAction.MoveAction)  # the page moves the card on drop; nothing is removed here
        self.drag_ended.emit()

    # ---- dropping in -------------------------------------------------------------------------------------
    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        super().dragMoveEvent(event)
        if event.mimeData().hasFormat(MIME):
            self.drag_moved.emit(self.viewport().mapToGlobal(event.position().toPoint()))

    def dragLeaveEvent(self, event: QtGui.QDragLeaveEvent) -> None:
        super().dragLeaveEvent(event)
        self.drag_ended.emit()

    def drop_row(self, pos: QtCore.QPoint) -> int:
        index = self.indexAt(pos)
        if not index.isValid():
            return self.count()
        return index.row() + (1 if pos.y() > self.visualRect(index).center().y() else 0)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(MIME):
            event.ignore()
            return
        deal_id = bytes(data.data(MIME).data()).decode()
        row = self.drop_row(event.position().toPoint())
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.stopAutoScroll()
        self.setState(QtWidgets.QAbstractItemView.State.NoState)
        self.viewport().update()
        self.drag_ended.emit()
        self.dropped.emit(deal_id, row)


class StageColumn(QtWidgets.QFrame):
    def __init__(self, stage: PipelineStage, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setMinimumWidth(COLUMN_MIN)  # columns share the board between these; past that it scrolls
        self.setMaximumWidth(COLUMN_WIDTH)
        self.stage = stage
        self.name = QtWidgets.QLabel(stage.name)
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.count = QtWidgets.QLabel("0")
        self.count.setObjectName("muted")
        self.total = QtWidgets.QLabel()
        self.total.setObjectName("muted")
        self.list = StageList(stage.id)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.count)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 10, 8, 8)
        layout.addLayout(head)
        layout.addWidget(self.total)
        layout.addWidget(self.list, 1)

    def fill(self, cards: list[Card], totals: dealstore.StageTotals, currency: str) -> None:
        selected = self.list.currentItem()
        keep = selected.data(CardRole).deal.id if selected is not None else None
        self.list.clear()
        for card in cards:
            item = QtWidgets.QListWidgetItem()
            item.setData(CardRole, card)
            item.setData(Qt.ItemDataRole.DisplayRole, card.deal.title)
            item.setToolTip(f"{card.deal.title}\n{card.contact or 'No contact'}")
            self.list.addItem(item)
            if card.deal.id == keep:
                self.list.setCurrentItem(item)
        self.count.setText(str(len(cards)))
        self.total.setText(money_sums(totals.value, currency))
        self.total.setToolTip(f"Weighted by {self.stage.probability}%: {money_sums(totals.weighted, currency)}")


class EdgeScroll(QtCore.QObject):
    """Scrolls a board sideways while a dragged card is held near its left or right edge.

    The card's last position is kept while the board moves under it (Qt reports no new position until the mouse
    moves), so the board keeps scrolling until the card leaves the edge, is dropped, or the end is reached.
    """

    def __init__(self, area: QtWidgets.QScrollArea) -> None:
        super().__init__(area)
        self.area = area
        self._direction = 0
        self._timer = QtCore.QTimer(self, interval=EDGE_TICK_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def track(self, global_pos: QtCore.QPoint) -> None:
        """A card is being dragged at ``global_pos``: scroll while it is near an edge, stop when it is not."""
        viewport = self.area.viewport()
        x = viewport.mapFromGlobal(global_pos).x()
        self._direction = -1 if x < EDGE else 1 if x > viewport.width() - EDGE else 0
        if self._direction and not self._timer.isActive():
            self._tick()
            self._timer.start()
        elif not self._direction:
            self.stop()

    def stop(self) -> None:
        self._direction = 0
        self._timer.stop()

    def _tick(self) -> None:
        bar = self.area.horizontalScrollBar()
        bar.setValue(bar.value() + self._direction * EDGE_STEP)
        if bar.value() in (bar.minimum(), bar.maximum()):
            self.stop()


class PipelinePage(QtWidgets.QWidget):
    board_loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.pipeline_id: str | None = None
        self.columns: list[StageColumn] = []
        self.data: BoardData | None = None
        self._editor = DialogTracker[DealEditorDialog]()
        self._seq = 0

        title = QtWidgets.QLabel("Pipeline")
        title.setObjectName("pageTitle")
        self.pipelines = QtWidgets.QComboBox()
        self.pipelines.setMinimumContentsLength(14)
        self.pipelines.hide()
        self.new_button = QtWidgets.QPushButton("New deal")
        self.new_button.setObjectName("primary")
        self.new_button.setEnabled(False)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.pipelines)
        top.addStretch(1)
        top.addWidget(self.new_button)

        self.strip = QtWidgets.QWidget()
        self.strip_layout = QtWidgets.QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_layout.setSpacing(10)
        self.strip_layout.addStretch(1)
        self.board_scroll = QtWidgets.QScrollArea()
        self.board_scroll.setWidgetResizable(True)
        self.board_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.board_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.board_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # shown when needed
        self.board_scroll.setWidget(self.strip)
        self.edge_scroll = EdgeScroll(self.board_scroll)
        # Between and above the columns a dragged card is not dropped, but it still scrolls the board at its edges.
        self.strip.setAcceptDrops(True)
        self.strip.installEventFilter(self)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.board_scroll, 1)

        self.pipelines.currentIndexChanged.connect(self._pipeline_chosen)
        self.new_button.clicked.connect(lambda: self.new_deal())
        self.watch = StaleWhenHidden(self, ctx.changes, WATCHED, self._changed)
        self.reload()

    # ---- loading -----------------------------------------------------------------------------------------
    def reload(self) -> None:
        self._seq += 1
        seq, store, wanted = self._seq, self.ctx.store, self.pipeline_id

        def read() -> BoardData:
            pipelines = store.pipelines.find_all(order_by="position")
            pipeline_id = wanted if wanted in {p.id for p in pipelines} else dealstore.default_pipeline_id(store)
            board = dealstore.pipeline_board(store, pipeline_id) if pipeline_id else []
            deals = [d for _, column in board for d in column]
            owners = {u.id: u.name for u in store.users.find_all()}
            org = store.orgs.find(store.org_id)
            contacts = dealstore.contact_names(store, (d.contact_id for d in deals))
            return BoardData(pipelines, pipeline_id, board, contacts, owners, org.default_currency if org else "USD")

        def show(data: BoardData) -> None:
            if seq == self._seq:
                self._show(data)

        self.ctx.tasks.start("Loading the pipeline", read, show, self._show_error, owner=self)

    def _show(self, data: BoardData) -> None:
        self.data, self.pipeline_id = data, data.pipeline_id
        self.pipelines.blockSignals(True)
        self.pipelines.clear()
        for pipeline in data.pipelines:
            self.pipelines.addItem(pipeline.name, pipeline.id)
        self.pipelines.setCurrentIndex(max(0, self.pipelines.findData(data.pipeline_id)))
        self.pipelines.setVisible(len(data.pipelines) > 1)
        self.pipelines.blockSignals(False)
        stages = [stage for stage, _ in data.board]
        if [c.stage.id for c in self.columns] != [s.id for s in stages]:
            self._build_columns(stages)
        totals = dealstore.board_totals(data.board)
        for column, (stage, deals) in zip(self.columns, data.board, strict=True):
            column.stage = stage
            column.name.setText(stage.name)
            cards = [
                Card(d, data.contacts.get(d.contact_id or "", ""), data.owners.get(d.owner_user_id or "", ""))
                for d in deals
            ]
            column.fill(cards, totals[stage.id], data.currency)
        self.new_button.setEnabled(bool(stages))
        self.board_loaded.emit()

    def _build_columns(self, stages: list[PipelineStage]) -> None:
        for column in self.columns:
            column.setParent(None)
            column.deleteLater()
        self.columns = []
        for n, stage in enumerate(stages):
            column = StageColumn(stage)
            column.list.dropped.connect(lambda deal_id, row, s=stage.id: self.card_dropped(deal_id, s, row))
            column.list.itemDoubleClicked.connect(lambda item: self.edit_deal(item.data(CardRole).deal.id))
            column.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            column.list.customContextMenuRequested.connect(lambda pos, lst=column.list: self._card_menu(lst, pos))
            column.list.drag_moved.connect(self.edge_scroll.track)
            column.list.drag_ended.connect(self.edge_scroll.stop)
            column.list.viewport().installEventFilter(self)  # Shift+wheel over the cards scrolls the board
            self.strip_layout.insertWidget(n, column)
            self.columns.append(column)

    # ---- scrolling the board ------------------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Wheel and isinstance(event, QtGui.QWheelEvent):
            return self._wheel(event)
        if watched is self.strip and isinstance(event, QtGui.QDragMoveEvent):  # DragEnter is a DragMove too
            if not event.mimeData().hasFormat(MIME):
                return False
            self.edge_scroll.track(self.strip.mapToGlobal(event.position().toPoint()))
            if kind == QtCore.QEvent.Type.DragEnter:
                event.accept()  # so the moves keep coming here
            else:
                event.ignore()  # no drop between the columns
            return True
        if watched is self.strip and kind in (QtCore.QEvent.Type.DragLeave, QtCore.QEvent.Type.Drop):
            self.edge_scroll.stop()
            if isinstance(event, QtGui.QDropEvent):
                event.ignore()  # not on a column: the card stays where it was
            return True
        return False

    def _wheel(self, event: QtGui.QWheelEvent) -> bool:
        """Shift+wheel (or a sideways swipe) scrolls the board sideways; a plain wheel stays the column's own."""
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            steps = (delta.y() or delta.x()) / 120
        elif abs(delta.x()) > abs(delta.y()):
            steps = delta.x() / 120
        else:
            return False
        bar = self.board_scroll.horizontalScrollBar()
        bar.setValue(bar.value() - round(steps * WHEEL_STEP))
        event.accept()
        return True

    def _card_menu(self, lst: StageList, pos: QtCore.QPoint) -> None:
        item = lst.itemAt(pos)
        if item is not None:
            self.card_menu(item.data(CardRole).deal.id).popup(lst.viewport().mapToGlobal(pos))

    def card_menu(self, deal_id: str) -> QtWidgets.QMenu:
        """Edit or move a card without dragging it (keyboard users, trackpads)."""
        menu = QtWidgets.QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Edit…", lambda: self.edit_deal(deal_id))
        move_to = menu.addMenu("Move to")
        current = self.column_of(deal_id)
        for column in self.columns:
            if column is not current:
                move_to.addAction(column.stage.name, partial(self.move_card, deal_id, column.stage.id))
        return menu

    def column(self, stage_id: str) -> StageColumn:
        return next(c for c in self.columns if c.stage.id == stage_id)

    def column_of(self, deal_id: str) -> StageColumn | None:
        return next((c for c in self.columns if c.list.row_of(deal_id) >= 0), None)

    def _changed(self, _tables: frozenset[str]) -> None:
        self.reload()

    def _pipeline_chosen(self, index: int) -> None:
        self.pipeline_id = self.pipelines.itemData(index)
        self.reload()

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # ---- moving ------------------------------------------------------------------------------------------
    def card_dropped(self, deal_id: str, stage_id: str, row: int) -> None:
        """A card landed at ``row`` of a column: show it there now, then persist the move."""
        source = self.column_of(deal_id)
        target = self.column(stage_id)
        index = row
        if source is not None:
            from_row = source.list.row_of(deal_id)
            if source is target:
                if from_row < row:
                    index -= 1
                if index == from_row:
                    return  # dropped back where it was
            item = source.list.takeItem(from_row)
            target.list.insertItem(index, item)
            target.list.setCurrentItem(item)
        self.move_card(deal_id, stage_id, index)

    def move_card(self, deal_id: str, stage_id: str, index: int | None = None) -> None:
        """Persist a move to ``stage_id`` (at card ``index``, or at the bottom) and refresh every view of deals."""
        store = self.ctx.store
        self._show_error("")

        def failed(message: str) -> None:
            self._show_error(message)
            self.reload()

        self.ctx.tasks.start(
            "Moving the deal", lambda: move_deal(store, deal_id, stage_id, index=index), None, failed, owner=self
        )

    # ---- editing -----------------------------------------------------------------------------------------
    def new_deal(self, stage_id: str | None = None) -> DealEditorDialog:
        currency = self.data.currency if self.data else "USD"
        return self._editor.show(
            DealEditorDialog(
                self.ctx, [c.stage for c in self.columns], stage_id=stage_id, currency=currency, parent=self
            )
        )

    def edit_deal(self, deal_id: str) -> DealEditorDialog | None:
        column = self.column_of(deal_id)
        if column is None:
            return None
        card: Card = column.list.item(column.list.row_of(deal_id)).data(CardRole)
        dialog = DealEditorDialog(
            self.ctx, [c.stage for c in self.columns], deal=card.deal, contact_name=card.contact, parent=self
        )
        return self._editor.show(dialog)

    @property
    def editor(self) -> DealEditorDialog | None:
        """The deal editor open now, if any."""
        return self._editor.current
