"""Product operations: save a product of the catalogue, archive or restore one."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.models import Product
from app.store.ops import Done, done, op_transaction
from app.store.ops.deals import check_currency
from app.store.store import Store


@dataclass(frozen=True)
class ProductInput:
    """A product as a person typed it (amounts already in minor units; ``stock`` None: not tracked)."""

    name: str
    price_minor: int
    currency: str = "USD"
    sku: str | None = None
    description: str = ""
    stock: int | None = None
    active: bool = True


def check_product(product: ProductInput) -> dict[str, object]:
    """The Product fields for ``product``, or InvalidInput with what is wrong."""
    name = product.name.strip()
    if not name:
        raise InvalidInput("Give the product a name.")
    if product.price_minor < 0:
        raise InvalidInput("A price cannot be negative.")
    if product.stock is not None and product.stock < 0:
        raise InvalidInput("Stock cannot be negative.")
    return {
        "name": name,
        "sku": (product.sku or "").strip() or None,
        "description": product.description.strip(),
        "price_minor": product.price_minor,
        "currency": check_currency(product.currency),
        "stock": product.stock,
        "active": product.active,
    }


def save_product(store: Store, product: ProductInput, *, product_id: str | None = None) -> Done[Product]:
    """Create a product (``product_id`` None) or replace an existing one's details."""
    fields = check_product(product)
    with op_transaction(store) as tx:
        saved = store.products.create(**fields) if product_id is None else store.products.update(product_id, **fields)
    return done(tx, saved)


def set_product_active(store: Store, product_id: str, active: bool) -> Done[Product]:
    """Archive (``active`` False: no longer offered in a sale) or restore a product; its sales keep it."""
    with op_transaction(store) as tx:
        updated = store.products.update(product_id, active=active)
    return done(tx, updated)
