"""A read on a worker of the task runner, one at a time: asked for again while one runs, one more follows it.

For a widget that shows what the store says and re-reads it on events: ``read`` runs on the worker, ``show`` gets
its result on the main thread. A failed read is announced through the runner's ``failed`` (the main window shows
it) and not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from app.qt import QtCore
from app.ui.tasks import TaskRunner

T = TypeVar("T")


class CoalescedRead(Generic[T]):
    def __init__(
        self,
        tasks: TaskRunner,
        name: str,
        read: Callable[[], T],
        show: Callable[[T], None],
        owner: QtCore.QObject,
    ) -> None:
        self.tasks, self.name, self.read, self.show, self.owner = tasks, name, read, show, owner
        self._reading = False
        self._again = False

    def start(self) -> None:
        if self._reading:
            self._again = True
            return
        self._reading = True
        self.tasks.start(self.name, self.read, self._done, self._failed, owner=self.owner, quiet=True)

    def _done(self, result: T) -> None:
        self._reading = False
        self.show(result)
        if self._again:
            self._again = False
            self.start()

    def _failed(self, message: str) -> None:
        self._reading = False
        self.tasks.failed.emit(self.name, message)
