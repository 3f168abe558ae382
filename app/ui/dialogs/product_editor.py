"""Creating and editing a product of the catalogue, with its optional photo (sent with its product card).

Prices are typed as amounts and kept in minor units; an empty stock means the stock is not tracked (services,
made-to-order goods), which the sale dialog and ``record_sale`` then never decrement. Validation happens before
anything is written, and a store error stays in the dialog. The details and the photo are saved together
(``save_product_with_photo``): a refused photo leaves the product as it was.
"""

from __future__ import annotations

from app.core.errors import InvalidInput, describe
from app.core.models import Product
from app.qt import QtGui, QtWidgets, Signal
from app.store.ops import Done
from app.store.ops.media import save_product_with_photo
from app.store.ops.products import ProductInput, check_product
from app.ui.context import AppContext
from app.ui.dialogs.deal_editor import CURRENCIES
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.format import parse_money
from app.ui.widgets.product_photo import FORM_PX, ProductPhotoField, read_pictures


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


class ProductEditorDialog(FormDialog):
    saved = Signal(str)  # product id

    def __init__(
        self,
        ctx: AppContext,
        *,
        product: Product | None = None,
        currency: str = "USD",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        title = "Edit product" if product else "New product"
        super().__init__(title, title, "Save", parent, cancel="Cancel")
        self.ctx = ctx
        self.product = product
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
        self.photo = ProductPhotoField()
        self.photo.refused.connect(self.show_error)
        self.photo.changed.connect(self.clear_error)

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
        form.addRow("Photo", self.photo)
        self.body.addLayout(form)
        self.save_button = self.primary
        self.save_button.clicked.connect(self.save)

        if product is not None:
            self.name.setText(product.name)
            self.sku.setText(product.sku or "")
            self.description.setPlainText(product.description)
            self.price.setText(f"{product.price_minor / 100:.2f}")
            self.stock.setText("" if product.stock is None else str(product.stock))
            self.active.setChecked(product.active)
            if product.photo_blob_id:
                self._load_photo(product.photo_blob_id)

    def _load_photo(self, blob_id: str) -> None:
        store = self.ctx.store

        def show(pictures: dict[str, QtGui.QImage]) -> None:
            self.photo.show_stored(pictures.get(blob_id))

        self.ctx.tasks.start("Reading the photo", lambda: read_pictures(store, [blob_id], FORM_PX), show, owner=self)

    def save(self) -> None:
        try:
            if not self.name.text().strip():
                raise InvalidInput("Give the product a name.")
            if not self.price.text().strip():
                raise InvalidInput("Enter a price (0 is fine for a free item).")
            typed = ProductInput(
                name=self.name.text(),
                price_minor=parse_money(self.price.text()),
                currency=self.currency.currentText(),
                sku=self.sku.text(),
                description=self.description.toPlainText(),
                stock=parse_stock(self.stock.text()),
                active=self.active.isChecked(),
            )
            check_product(typed)
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        store, product_id = self.ctx.store, self.product.id if self.product else None
        photo, remove_photo = self.photo.change()
        self.clear_error()
        self.set_busy(True)
        self.ctx.tasks.start(
            "Saving the product",
            lambda: save_product_with_photo(
                store, typed, product_id=product_id, photo=photo, remove_photo=remove_photo
            ),
            self._saved,
            self.show_error,
            owner=self,
        )

    def _saved(self, result: Done[Product]) -> None:
        self.saved.emit(result.value.id)
        self.accept()
