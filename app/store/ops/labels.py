"""Label operations: create, rename, recolour, merge and delete the org's managed labels (see app/store/labels.py)."""

from __future__ import annotations

from app.core.models import Tag
from app.store import labels
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def create_label(store: Store, name: str, color: str | None = None) -> Done[Tag]:
    with op_transaction(store) as tx:
        label = labels.create(store, name, color)
    return done(tx, label)


def rename_label(store: Store, label_id: str, name: str) -> Done[Tag]:
    """Rename the label everywhere it is used; refuses a name another label has (merge instead)."""
    with op_transaction(store) as tx:
        label = labels.rename(store, label_id, name)
    return done(tx, label)


def recolor_label(store: Store, label_id: str, color: str) -> Done[Tag]:
    with op_transaction(store) as tx:
        label = labels.recolor(store, label_id, color)
    return done(tx, label)


def merge_labels(store: Store, source_id: str, target_id: str) -> Done[Tag]:
    """Relabel everything ``source`` was on as ``target`` and delete ``source``."""
    with op_transaction(store) as tx:
        label = labels.merge(store, source_id, target_id)
    return done(tx, label)


def delete_label(store: Store, label_id: str) -> Done[int]:
    """Delete the label and take it off every contact and chat (returns how many carried it)."""
    with op_transaction(store) as tx:
        count = labels.delete(store, label_id)
    return done(tx, count)
