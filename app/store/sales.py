"""Recording a sale: the sale, its items, the stock, the customer's lifetime value and the event, in one go.

Also the reads the sales history needs: sums per currency over a time range (one indexed query), and the items of
a page of sales (one query for the whole page, product names included).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from app.core.errors import InvalidInput, ParleyError
from app.core.events import SaleCompleted
from app.core.ids import to_ms, utc_now
from app.core.models import Sale, SaleItem
from app.store.store import Store


class SaleLine(BaseModel):
    product_id: str | None = None
    description: str = ""
    quantity: int = 1
    unit_price_minor: int | None = None  # None: the product's current price


class OutOfStock(ParleyError):
    hint = "Lower the quantity or update the product's stock."


class MixedCurrencies(ParleyError):
    hint = "One sale has one currency: record the lines in each currency as a sale of their own."


class ProductArchived(ParleyError):
    hint = "Restore the product in Products & Sales first, or leave it out of the sale."


def _check_lines(lines: list[SaleLine]) -> None:
    """Refuse what no sale can contain, before anything is read or written."""
    if not lines:
        raise InvalidInput("a sale needs at least one line")
    for n, line in enumerate(lines, start=1):
        what = f"line {n}" + (f" ({line.description!r})" if line.description else "")
        if line.quantity < 1:
            raise InvalidInput(f"The quantity on {what} must be at least 1, not {line.quantity}.")
        if line.unit_price_minor is not None and line.unit_price_minor < 0:
            raise InvalidInput(f"The price on {what} cannot be negative.")


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
    """Record a sale in one transaction; every refusal (a typed error or ValueError) leaves the store untouched.

    The sale's currency is ``currency`` or else its products'; products in another currency than that are refused
    (``MixedCurrencies``), and so are archived products (``ProductArchived``) and products short of stock
    (``OutOfStock``). Lines without a product take the sale's currency.
    """
    _check_lines(lines)
    with store.db.transaction():
        priced: list[tuple[SaleLine, int]] = []
        sale_currency = currency
        for line in lines:
            price = line.unit_price_minor
            if line.product_id:
                product = store.products.get(line.product_id)
                if not product.active:
                    raise ProductArchived(f"{product.name!r} is archived and can no longer be sold.")
                if sale_currency is not None and product.currency != sale_currency:
                    raise MixedCurrencies(
                        f"{product.name!r} is priced in {product.currency}, but this sale is in {sale_currency}."
                    )
                sale_currency = product.currency
                price = product.price_minor if price is None else price
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
            # The contact's one lifetime value is in one currency: a sale in another is never added into it (the
            # finance agent recomputes the value from the sales, app/agents/finance_figures.py, with the same rule).
            contact = store.contacts.get(contact_id)
            changes: dict[str, object] = {"lifecycle": "customer"}
            if contact.currency == sale.currency:
                changes["lifetime_value_minor"] = contact.lifetime_value_minor + total
            elif contact.lifetime_value_minor == 0:
                changes |= {"lifetime_value_minor": total, "currency": sale.currency}
            store.contacts.update(contact_id, **changes)
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


def sales_totals(store: Store, since: datetime, until: datetime | None = None) -> dict[str, int]:
    """Currency → the sum of ``amount_minor`` over the sales sold in ``[since, until)`` (deleted ones left out).

    Amounts in different currencies are kept apart, never converted. One query over the ``sales_time`` index: left
    to itself the planner prefers the ``(org_id, id)`` index, which walks every sale of the workspace.
    """
    sql = (
        "SELECT currency, sum(amount_minor) FROM sales INDEXED BY sales_time"
        " WHERE sold_at >= ? AND org_id = ? AND deleted_at IS NULL"
    )
    params: list[object] = [to_ms(since), store.org_id]
    if until is not None:
        sql += " AND sold_at < ?"
        params.append(to_ms(until))
    with store.db.read() as conn:
        rows = conn.execute(sql + " GROUP BY currency", params).fetchall()
    return {str(currency): int(total) for currency, total in rows}


def items_of_sales(store: Store, sale_ids: Iterable[str]) -> dict[str, list[tuple[SaleItem, str | None]]]:
    """Sale id → its items in the order they were recorded, each with its product's name (None: no product, or
    the product was purged). Products archived or deleted since keep their name. One query per 500 sales.
    """
    ids = list(dict.fromkeys(sale_ids))
    found: dict[str, list[tuple[SaleItem, str | None]]] = {sale_id: [] for sale_id in ids}
    codec = store.sale_items.codec
    columns = ", ".join(f"i.{c}" for c in codec.columns)
    with store.db.read() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(
                f"SELECT {columns}, p.name FROM sale_items AS i"
                " LEFT JOIN products AS p ON p.org_id = i.org_id AND p.id = i.product_id"
                f" WHERE i.org_id = ? AND i.deleted_at IS NULL AND i.sale_id IN ({marks}) ORDER BY i.rid",
                [store.org_id, *chunk],
            )
            for row in rows:
                item = codec.decode(row[:-1])
                found[item.sale_id].append((item, None if row[-1] is None else str(row[-1])))
    return found
