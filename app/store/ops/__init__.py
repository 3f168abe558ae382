"""Operations: every write a person makes, as one Qt-free call (Anki's ``CollectionOp``/``OpChanges``).

An operation validates its input (refusing with an ``InvalidInput`` or another ``ParleyError`` whose sentence is
fit to show), writes in one transaction, publishes its domain event(s) after the commit through ``Store.emit``, and
returns a ``Done``: what it saved and the tables it touched. A dialog that validated, wrote and emitted the event
itself made a second path that forgot the event (the CSV import created contacts without ``ContactCreated``); here
every path that creates a contact, records a sale, moves a deal or queues a message goes through the same code.

The UI calls an operation on the task runner and handles its result or its sentence; it never writes through a
repository, holds a transaction or emits an event (``tests/unit/test_layering.py`` enforces it). Operations do not
tell the UI anything: the store derives what each commit touched and publishes ``TablesChanged``, which views
follow.

Modules by domain: ``contacts``, ``deals``, ``products``, ``sales``, ``chats``, ``notes``, ``messages``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.store.store import Store

T = TypeVar("T")

# The transaction's set of touched tables, kept by the writer's TEMP triggers (see app/store/touched.py).
_TOUCHED = "temp.parley_touched"


@dataclass(frozen=True)
class Done(Generic[T]):
    """What an operation did: ``value`` (the saved record, a report…) and the tracked tables its transaction
    wrote (as derived by the store, not declared by the operation; inside an outer transaction it includes what
    that transaction wrote before)."""

    value: T
    tables: frozenset[str] = field(default_factory=frozenset)

    def touched(self, *tables: str) -> bool:
        return any(t in self.tables for t in tables)


class _Collector:
    tables: frozenset[str] = frozenset()


@contextmanager
def op_transaction(store: Store) -> Iterator[_Collector]:
    """One write transaction for an operation; ``.tables`` holds what it touched once the block has run."""
    collector = _Collector()
    with store.db.transaction() as conn:
        yield collector
        collector.tables = frozenset(str(row[0]) for row in conn.execute(f"SELECT tbl FROM {_TOUCHED}"))


def done(collector: _Collector, value: T) -> Done[T]:
    return Done(value, collector.tables)
