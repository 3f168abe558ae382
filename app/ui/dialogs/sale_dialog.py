"""Recording a sale by hand: an optional customer, product lines and free lines, a live total, a note.

The sale is written by ``record_sale`` on a worker, which does everything in one transaction (items, stock,
the customer's lifetime value, the event); if it refuses (not enough stock, a product archived meanwhile) the
message stays in the dialog and nothing is saved. One sale has one currency, so lines in another are refused.
"""

from __future__ import annotations

from app.core.errors import InvalidInput, describe
from app.core.models import Product, Sale
from app.qt import QtWidgets, Signal
from app.store.ops import Done
from app.store.ops.sales import SaleLine, record_sale
from app.ui.context import AppContext
from app.ui.dialogs.deal_editor import ContactPicker
from app.ui.dialogs.form_dialog import FormDialog, secondary_button
from app.ui.format import money, parse_money


def product_label(product: Product) -> str:
    stock = "stock not tracked" if product.stock is None else f"{product.stock} in stock"
    return f"{product.name} — {money(product.price_minor, product.currency)} · {stock}"


class LineRow(QtWidgets.QWidget):
    """One line of the sale: a product from the catalogue, or a free description with its own price."""

    changed = Signal()
    removed = Signal(object)  # the row

    def __init__(self, products: list[Product] | None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.products = {p.id: p for p in products or []}
        self.is_product = products is not None
        self.product = QtWidgets.QComboBox()
        self.description = QtWidgets.QLineEdit(placeholderText="Description, e.g. Delivery")
        self.price = QtWidgets.QLineEdit(placeholderText="Price")
        self.price.setMaximumWidth(100)
        self.quantity = QtWidgets.QSpinBox(minimum=1, maximum=100_000)
        self.quantity.setPrefix("× ")
        remove = QtWidgets.QToolButton()
        remove.setText("✕")
        remove.setToolTip("Remove this line")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        if self.is_product:
            for product in products or []:
                self.product.addItem(product_label(product), product.id)
            row.addWidget(self.product, 1)
            self.product.currentIndexChanged.connect(lambda _: self.changed.emit())
        else:
            row.addWidget(self.description, 1)
            row.addWidget(self.price)
            self.price.textChanged.connect(lambda _: self.changed.emit())
        row.addWidget(self.quantity)
        row.addWidget(remove)
        self.quantity.valueChanged.connect(lambda _: self.changed.emit())
        remove.clicked.connect(lambda: self.removed.emit(self))

    def chosen(self) -> Product | None:
        return self.products.get(str(self.product.currentData())) if self.is_product else None

    def amount(self) -> tuple[int, str | None]:
        """(line total in minor units, its currency or None for a free line); ValueError for a bad price."""
        product = self.chosen()
        if product is not None:
            return product.price_minor * self.quantity.value(), product.currency
        if self.is_product:
            raise InvalidInput("Choose a product for every product line.")
        return parse_money(self.price.text() or "0") * self.quantity.value(), None

    def sale_line(self) -> SaleLine:
        product = self.chosen()
        if product is not None:
            return SaleLine(product_id=product.id, quantity=self.quantity.value())
        description = self.description.text().strip()
        if not description:
            raise InvalidInput("Describe every line that is not a product.")
        if not self.price.text().strip():
            raise InvalidInput(f"Enter a price for {description!r}.")
        return SaleLine(
            description=description, quantity=self.quantity.value(), unit_price_minor=parse_money(self.price.text())
        )


class SaleDialog(FormDialog):
    saved = Signal(str)  # sale id

    def __init__(
        self,
        ctx: AppContext,
        *,
        currency: str = "USD",
        contact_id: str | None = None,
        contact_name: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__("Record a sale", "Record a sale", "Record sale", parent, cancel="Cancel")
        self.ctx = ctx
        self.default_currency = currency
        self.products: list[Product] = []
        self.lines: list[LineRow] = []
        self.setMinimumWidth(560)

        self.contact = ContactPicker(ctx)
        self.contact.set_contact(contact_id, contact_name)
        self.lines_box = QtWidgets.QVBoxLayout()
        self.lines_box.setSpacing(6)
        self.add_product = secondary_button("Add product")
        self.add_product.setEnabled(False)
        self.add_free = secondary_button("Add other item")
        self.total = QtWidgets.QLabel()
        self.total.setObjectName("pageTitle")
        self.note = QtWidgets.QLineEdit(placeholderText="Optional, e.g. paid by bank transfer")

        form = QtWidgets.QFormLayout()
        form.addRow("Customer", self.contact)
        adders = QtWidgets.QHBoxLayout()
        adders.addWidget(self.add_product)
        adders.addWidget(self.add_free)
        adders.addStretch(1)
        adders.addWidget(self.total)
        self.save_button = self.primary
        self.save_button.clicked.connect(self.save)
        self.body.addLayout(form)
        self.body.addWidget(QtWidgets.QLabel("Items"))
        self.body.addLayout(self.lines_box)
        self.body.addLayout(adders)
        note_form = QtWidgets.QFormLayout()
        note_form.addRow("Note", self.note)
        self.body.addLayout(note_form)

        self.add_product.clicked.connect(lambda: self.add_product_line())
        self.add_free.clicked.connect(lambda: self.add_free_line())
        self._update_total()
        store = ctx.store
        ctx.tasks.start(
            "Loading products",
            lambda: store.products.find_all({"active": True}, order_by="name"),
            self._products_loaded,
            self.show_error,
            owner=self,
        )

    # ---- lines -------------------------------------------------------------------------------------------
    def _products_loaded(self, products: list[Product]) -> None:
        self.products = products
        self.add_product.setEnabled(bool(products))
        if not self.lines:
            if products:
                self.add_product_line()
            else:
                self.add_free_line()

    def add_product_line(self, product_id: str | None = None) -> LineRow:
        row = self._add(LineRow(self.products))
        if product_id is not None:
            row.product.setCurrentIndex(max(0, row.product.findData(product_id)))
        return row

    def add_free_line(self, description: str = "", price: str = "") -> LineRow:
        row = self._add(LineRow(None))
        row.description.setText(description)
        row.price.setText(price)
        return row

    def _add(self, row: LineRow) -> LineRow:
        self.lines.append(row)
        self.lines_box.addWidget(row)
        row.changed.connect(self._update_total)
        row.removed.connect(self._remove)
        self._update_total()
        return row

    def _remove(self, row: LineRow) -> None:
        self.lines.remove(row)
        self.lines_box.removeWidget(row)
        row.deleteLater()
        self._update_total()

    def _sale_currency(self) -> str:
        """The currency of the product lines (one at most); the workspace's when there are none."""
        currencies = {p.currency for p in (row.chosen() for row in self.lines) if p is not None}
        if len(currencies) > 1:
            raise InvalidInput(
                "One sale has one currency: record lines in " + " and ".join(sorted(currencies)) + " apart."
            )
        return currencies.pop() if currencies else self.default_currency

    def _update_total(self) -> None:
        try:
            currency = self._sale_currency()
            total = sum(row.amount()[0] for row in self.lines)
        except ValueError:
            self.total.setText("Total: —")
            return
        self.total.setText(f"Total: {money(total, currency)}")

    # ---- saving ------------------------------------------------------------------------------------------
    def save(self) -> None:
        try:
            if not self.lines:
                raise InvalidInput("Add at least one item.")
            lines = [row.sale_line() for row in self.lines]
            currency = self._sale_currency()
            contact_id = self.contact.contact_id()
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        store, note = self.ctx.store, self.note.text().strip()
        self.clear_error()
        self.set_busy(True)
        self.ctx.tasks.start(
            "Recording the sale",
            lambda: record_sale(store, lines, contact_id=contact_id, currency=currency, note=note),
            self._saved,
            self.show_error,
            owner=self,
        )

    def _saved(self, result: Done[Sale]) -> None:
        self.saved.emit(result.value.id)
        self.accept()
