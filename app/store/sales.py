"""Recording a sale: the sale, its items, the stock, the customer's lifetime value and the event, in one go."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.core.errors import ParleyError
from app.core.events import SaleCompleted
from app.core.ids import utc_now
from app.core.models import Sale
from app.store.store import Store


class SaleLine(BaseModel):
    product_id: str | None = None
    description: str = ""
    quantity: int = 1
    unit_price_minor: int | None = None  # None: the product's current price


class OutOfStock(ParleyError):
    hint = "Lower the quantity or update the product's stock."


def record_sale(
    store: Store,
    lines: list[SaleLine],
    *,
    contact_id: str | None = None,
    deal_id: str | None = None,
    chat_id: str | None = None,
    currency: str | None = None,
    sold_at: datetime | None = None,
    source: str = "manual",
    note: str = "",
) -> Sale:
    if not lines:
        raise ValueError("a sale needs at least one line")
    with store.db.transaction():
        priced: list[tuple[SaleLine, int]] = []
        sale_currency = currency
        for line in lines:
            price = line.unit_price_minor
            if line.product_id:
                product = store.products.get(line.product_id)
                price = product.price_minor if price is None else price
                sale_currency = sale_currency or product.currency
                if product.stock is not None:
                    if product.stock < line.quantity:
                        raise OutOfStock(f"Only {product.stock} of {product.name!r} left in stock.")
                    store.products.update(product.id, stock=product.stock - line.quantity)
            priced.append((line, price or 0))
        total = sum(line.quantity * price for line, price in priced)
        sale = store.sales.create(
            contact_id=contact_id,
            deal_id=deal_id,
            chat_id=chat_id,
            amount_minor=total,
            currency=sale_currency or "USD",
            sold_at=sold_at or utc_now(),
            recorded_by_user_id=store.local_user_id,
            source=source,
            note=note,
        )
        for line, price in priced:
            store.sale_items.create(
                sale_id=sale.id,
                product_id=line.product_id,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=price,
            )
        if contact_id:
            contact = store.contacts.get(contact_id)
            store.contacts.update(
                contact_id, lifetime_value_minor=contact.lifetime_value_minor + total, lifecycle="customer"
            )
        store.emit(
            SaleCompleted(
                org_id=store.org_id,
                sale_id=sale.id,
                amount_minor=total,
                currency=sale.currency,
                contact_id=contact_id,
            )
        )
    return sale
