"""Products & Sales: the catalogue (with photos, stock and archiving) and the history of sales, newest first.

Everything is read on a worker, the products' photos too (decoded and scaled there, each once while the page
lives). The sales history loads a page at a time as it is scrolled, since a shop
records many more sales than products; the header sums today's and this month's sales per currency (amounts in
different currencies are listed side by side, never converted).
"""

from __future__ import annotations

from app.core.models import Product, Sale
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.ops.media import queue_product_card
from app.store.ops.products import set_product_active
from app.store.queries import SalesPage, SalesSummary, read_sales, read_summary
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.product_editor import ProductEditorDialog
from app.ui.dialogs.product_picker import ChatPickerDialog
from app.ui.dialogs.sale_dialog import SaleDialog
from app.ui.dialogs.tracker import DialogTracker
from app.ui.format import money, money_sums
from app.ui.widgets.product_photo import LIST_PX, read_pictures
from app.ui.widgets.tables import cell, read_only_table

IdRole = Qt.ItemDataRole.UserRole + 1
# Products; the sales history and its sums (with the buyers' names and the products sold).
SHOWN_TABLES = frozenset({"products", "sales", "sale_items", "contacts"})


class ProductsPage(QtWidgets.QWidget):
    products_loaded = Signal()
    sales_loaded = Signal()
    page_size = 50

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.products: list[Product] = []
        self.sales: list[Sale] = []
        self.has_more = False
        self.currency = "USD"
        self._dialogs = DialogTracker[QtWidgets.QDialog]()
        self._sales_seq = 0
        self._loading_sales = False
        self.pictures: dict[str, QtGui.QIcon] = {}  # products' photos by blob id, for the list
        blank = QtGui.QPixmap(LIST_PX, LIST_PX)
        blank.fill(Qt.GlobalColor.transparent)
        self.no_picture = QtGui.QIcon(blank)  # names stay aligned whether their product has a photo or not

        title = QtWidgets.QLabel("Products & Sales")
        title.setObjectName("pageTitle")
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("muted")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.summary)

        # ---- products tab --------------------------------------------------------------------------------
        self.new_product = QtWidgets.QPushButton("New product")
        self.new_product.setObjectName("primary")
        self.edit_product = QtWidgets.QPushButton("Edit")
        self.archive = QtWidgets.QPushButton("Archive")
        self.send_card = QtWidgets.QPushButton("Send to chat…")
        self.send_card.setToolTip("Send the product's card (photo, name, price) to a customer")
        self.product_table = read_only_table(["Name", "SKU", "Price", "Stock", "Status"], stretch=0)
        self.product_table.setIconSize(QtCore.QSize(LIST_PX, LIST_PX))
        self.product_table.verticalHeader().setDefaultSectionSize(LIST_PX + 6)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.new_product)
        bar.addWidget(self.edit_product)
        bar.addWidget(self.archive)
        bar.addWidget(self.send_card)
        bar.addStretch(1)
        products_tab = QtWidgets.QWidget()
        pv = QtWidgets.QVBoxLayout(products_tab)
        pv.addLayout(bar)
        pv.addWidget(self.product_table, 1)

        # ---- sales tab -----------------------------------------------------------------------------------
        self.record = QtWidgets.QPushButton("Record sale…")
        self.record.setObjectName("primary")
        self.sales_table = read_only_table(["Date", "Contact", "Items", "Amount"], stretch=2)
        self.load_more = QtWidgets.QPushButton("Load more")
        self.load_more.hide()
        sbar = QtWidgets.QHBoxLayout()
        sbar.addWidget(self.record)
        sbar.addStretch(1)
        sales_tab = QtWidgets.QWidget()
        sv = QtWidgets.QVBoxLayout(sales_tab)
        sv.addLayout(sbar)
        sv.addWidget(self.sales_table, 1)
        sv.addWidget(self.load_more, 0, Qt.AlignmentFlag.AlignHCenter)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(products_tab, "Products")
        self.tabs.addTab(sales_tab, "Sales")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.hide()
        self.notice = QtWidgets.QLabel()  # what was just done ("The card of … is queued for …")
        self.notice.setObjectName("muted")
        self.notice.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)

        self.new_product.clicked.connect(lambda: self.open_product_editor())
        self.edit_product.clicked.connect(self._edit_selected)
        self.product_table.itemDoubleClicked.connect(lambda _: self._edit_selected())
        self.product_table.itemSelectionChanged.connect(self._selection_changed)
        self.archive.clicked.connect(self.toggle_archived)
        self.send_card.clicked.connect(lambda: self.send_to_chat())
        self.record.clicked.connect(lambda: self.record_sale())
        self.load_more.clicked.connect(self.fetch_more_sales)
        self.sales_table.verticalScrollBar().valueChanged.connect(self._sales_scrolled)
        self.watch = StaleWhenHidden(self, ctx.changes, SHOWN_TABLES, self._changed)
        self._selection_changed()
        self.reload_products()
        self.reload_sales()

    # ---- products ------------------------------------------------------------------------------------------
    def reload_products(self) -> None:
        store = self.ctx.store

        known = set(self.pictures)

        def read() -> tuple[list[Product], str, dict[str, QtGui.QImage]]:
            org = store.orgs.find(store.org_id)
            products = store.products.find_all(order_by="name")
            photos = [p.photo_blob_id for p in products if p.photo_blob_id and p.photo_blob_id not in known]
            return products, org.default_currency if org else "USD", read_pictures(store, photos, LIST_PX)

        self.ctx.tasks.start("Loading products", read, self._show_products, self._show_error, owner=self)

    def _show_products(self, loaded: tuple[list[Product], str, dict[str, QtGui.QImage]]) -> None:
        self.products, self.currency, pictures = loaded
        for blob_id, image in pictures.items():
            self.pictures[blob_id] = QtGui.QIcon(QtGui.QPixmap.fromImage(image))
        chosen = self.selected_product()
        table = self.product_table
        table.setRowCount(0)
        table.setRowCount(len(self.products))
        for r, p in enumerate(self.products):
            name = cell(p.name)
            name.setData(IdRole, p.id)
            name.setIcon(self.pictures.get(p.photo_blob_id or "", self.no_picture))
            table.setItem(r, 0, name)
            table.setItem(r, 1, cell(p.sku or ""))
            table.setItem(r, 2, cell(money(p.price_minor, p.currency), right=True))
            table.setItem(r, 3, cell("not tracked" if p.stock is None else str(p.stock), right=True))
            table.setItem(r, 4, cell("Active" if p.active else "Archived"))
            if chosen is not None and p.id == chosen.id:
                table.selectRow(r)
        self._selection_changed()
        self.products_loaded.emit()

    def selected_product(self) -> Product | None:
        rows = self.product_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.product_table.item(rows[0].row(), 0)
        product_id = item.data(IdRole) if item is not None else None
        return next((p for p in self.products if p.id == product_id), None)

    def select_product(self, product_id: str) -> None:
        for r, p in enumerate(self.products):
            if p.id == product_id:
                self.product_table.selectRow(r)

    def _selection_changed(self) -> None:
        product = self.selected_product()
        self.edit_product.setEnabled(product is not None)
        self.archive.setEnabled(product is not None)
        self.archive.setText("Restore" if product is not None and not product.active else "Archive")
        self.send_card.setEnabled(product is not None and product.active)

    def _edit_selected(self) -> None:
        product = self.selected_product()
        if product is not None:
            self.open_product_editor(product)

    def open_product_editor(self, product: Product | None = None) -> ProductEditorDialog:
        dialog = ProductEditorDialog(self.ctx, product=product, currency=self.currency, parent=self)
        self._dialogs.show(dialog)
        return dialog

    def send_to_chat(self) -> ChatPickerDialog | None:
        """Send the selected product's card to a chat chosen in a picker (through the send queue)."""
        product = self.selected_product()
        if product is None:
            return None
        dialog = ChatPickerDialog(self.ctx, product, parent=self)
        dialog.chosen.connect(lambda chat_id, name: self._queue_card(product, chat_id, name))
        self._dialogs.show(dialog)
        return dialog

    def _queue_card(self, product: Product, chat_id: str, name: str) -> None:
        store = self.ctx.store

        def queued(_done: object) -> None:
            self.notice.setText(f"The card of {product.name} is queued for {name}.")
            self.notice.show()

        self.ctx.tasks.start(
            "Queuing the product card",
            lambda: queue_product_card(store, chat_id, product.id),
            queued,
            self._show_error,
            owner=self,
        )

    def toggle_archived(self) -> None:
        product = self.selected_product()
        if product is None:
            return
        store, active = self.ctx.store, not product.active

        name = "Restoring the product" if active else "Archiving the product"
        self.ctx.tasks.start(
            name, lambda: set_product_active(store, product.id, active), None, self._show_error, owner=self
        )

    # ---- sales ---------------------------------------------------------------------------------------------
    def reload_sales(self) -> None:
        """Start the history again from the newest sale and refresh the header sums."""
        self._sales_seq += 1
        self.sales = []
        self.sales_table.setRowCount(0)
        self._loading_sales = False
        self.fetch_more_sales()
        store = self.ctx.store
        self.ctx.tasks.start(
            "Summing sales", lambda: read_summary(store), self._show_summary, self._show_error, owner=self
        )

    def fetch_more_sales(self) -> None:
        if self._loading_sales:
            return
        self._loading_sales = True
        seq, store, offset, limit = self._sales_seq, self.ctx.store, len(self.sales), self.page_size

        def show(page: SalesPage) -> None:
            if seq == self._sales_seq:
                self._append_sales(page)

        self.ctx.tasks.start(
            "Loading sales", lambda: read_sales(store, offset, limit), show, self._show_error, owner=self
        )

    def _append_sales(self, page: SalesPage) -> None:
        table = self.sales_table
        for sale, contact, items in page.rows:
            r = table.rowCount()
            table.insertRow(r)
            date = cell(f"{sale.sold_at.astimezone():%d %b %Y %H:%M}")
            date.setData(IdRole, sale.id)
            table.setItem(r, 0, date)
            table.setItem(r, 1, cell(contact or "—"))
            items_cell = cell(items)
            items_cell.setToolTip("\n".join(items.split(", ")) + (f"\n\n{sale.note}" if sale.note else ""))
            table.setItem(r, 2, items_cell)
            table.setItem(r, 3, cell(money(sale.amount_minor, sale.currency), right=True))
            self.sales.append(sale)
        self.has_more = page.more
        self.load_more.setVisible(page.more)
        self._loading_sales = False
        self.sales_loaded.emit()

    def _sales_scrolled(self, value: int) -> None:
        if self.has_more and value >= self.sales_table.verticalScrollBar().maximum() - 2:
            self.fetch_more_sales()

    def _show_summary(self, summary: SalesSummary) -> None:
        self.summary.setText(f"Today: {money_sums(summary.today)}   ·   This month: {money_sums(summary.month)}")

    def record_sale(self) -> SaleDialog:
        dialog = SaleDialog(self.ctx, currency=self.currency, parent=self)
        self._dialogs.show(dialog)
        return dialog

    # ---- shared --------------------------------------------------------------------------------------------
    @property
    def dialog(self) -> QtWidgets.QDialog | None:
        """The product editor or sale dialog open now, if any."""
        return self._dialogs.current

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _changed(self, tables: frozenset[str]) -> None:
        if tables & {"products"}:
            self.reload_products()
        if tables & {"sales", "sale_items", "contacts", "products"}:
            self.reload_sales()
