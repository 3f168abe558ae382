"""Creating and editing a product of the catalogue.

Prices are typed as amounts and kept in minor units; an empty stock means the stock is not tracked (services,
made-to-order goods), which the sale dialog and ``record_sale`` then never decrement. Validation happens before
anything is written, and a store error stays in the dialog.
"""

from __future__ import annotations

from app.core.errors import InvalidInput, describe
from app.core.models import Product
from app.qt import QtWidgets, Signal
from app.ui.context import AppContext
from app.ui.dialogs.deal_editor import CURRENCIES
from app.ui.format import parse_money


def parse_stock(text: str) -> int | None:
    """'' → None (not tracked); a whole number ≥ 0 otherwise, else ValueError with a readable message."""
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        value = int(cleaned)
    except ValueError:
        raise InvalidInput("Stock is a whole number; leave it empty when you don't track stock.") from None
    if value < 0:
        raise InvalidInput("Stock cannot be negative.")
    return value


class ProductEditorDialog(QtWidgets.QDialog):
    saved = Signal(str)  # product id

    def __init__(
        self,
        ctx: AppContext,
        *,
        product: Product | None = None,
        currency: str = "USD",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.product = product
        self.setWindowTitle("Edit product" if product else "New product")
        self.setMinimumWidth(420)

        self.name = QtWidgets.QLineEdit(placeholderText="e.g. Linen shirt")
        self.sku = QtWidgets.QLineEdit(placeholderText="Optional")
        self.description = QtWidgets.QPlainTextEdit()
        self.description.setFixedHeight(70)
        self.price = QtWidgets.QLineEdit(placeholderText="0.00")
        self.currency = QtWidgets.QComboBox()
        self.currency.setEditable(True)
        self.currency.addItems(sorted({currency, *CURRENCIES}))
        self.currency.setCurrentText(product.currency if product else currency)
        self.stock = QtWidgets.QLineEdit(placeholderText="Not tracked")
        self.active = QtWidgets.QCheckBox("Available for sale")
        self.active.setChecked(True)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        price_row = QtWidgets.QHBoxLayout()
        price_row.addWidget(self.price, 1)
        price_row.addWidget(self.currency)
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("SKU", self.sku)
        form.addRow("Description", self.description)
        form.addRow("Price", price_row)
        form.addRow("Stock", self.stock)
        form.addRow("", self.active)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("primary")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        if product is not None:
            self.name.setText(product.name)
            self.sku.setText(product.sku or "")
            self.description.setPlainText(product.description)
            self.price.setText(f"{product.price_minor / 100:.2f}")
            self.stock.setText("" if product.stock is None else str(product.stock))
            self.active.setChecked(product.active)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.save_button.setEnabled(True)

    def save(self) -> None:
        try:
            name = self.name.text().strip()
            if not name:
                raise InvalidInput("Give the product a name.")
            if not self.price.text().strip():
                raise InvalidInput("Enter a price (0 is fine for a free item).")
            price = parse_money(self.price.text())
            currency = self.currency.currentText().strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                raise InvalidInput("The currency is a three-letter code such as USD or EUR.")
            stock = parse_stock(self.stock.text())
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        fields = {
            "name": name,
            "sku": self.sku.text().strip() or None,
            "description": self.description.toPlainText().strip(),
            "price_minor": price,
            "currency": currency,
            "stock": stock,
            "active": self.active.isChecked(),
        }
        store, product = self.ctx.store, self.product

        def write() -> Product:
            return store.products.create(**fields) if product is None else store.products.update(product.id, **fields)

        self.save_button.setEnabled(False)
        self.ctx.tasks.start("Saving the product", write, self._saved, self.show_error, owner=self)

    def _saved(self, product: Product) -> None:
        self.saved.emit(product.id)
        self.accept()
