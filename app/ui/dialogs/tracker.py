"""Opening a page's dialogs the one way: deleted when closed, forgotten by the page when they finish.

A page makes a new dialog for every action (edit a contact, record a sale, import a file). Parented to the page
and never deleted, each closed dialog would stay in memory for as long as the page lives, with everything it
loaded (a CSV import keeps its whole preview). ``DialogTracker.show`` sets ``WA_DeleteOnClose``, opens the dialog
window-modal and clears ``current`` when it finishes, so a page never touches a dialog Qt has deleted; work the
dialog started runs with ``owner=`` the dialog, so late results are dropped (see ``app.ui.tasks``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from app.qt import Qt, QtWidgets

D = TypeVar("D", bound=QtWidgets.QDialog)


class DialogTracker(Generic[D]):
    """The dialog a page has open for one kind of action, if any."""

    def __init__(self) -> None:
        self.current: D | None = None

    def show(self, dialog: D) -> D:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.current = dialog
        dialog.open()
        return dialog

    def _forget(self, dialog: D) -> None:
        if self.current is dialog:
            self.current = None
