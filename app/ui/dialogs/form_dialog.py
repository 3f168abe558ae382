"""The frame Parley's form dialogs share: heading, fields, error line, busy bar, a way out and one action.

Every dialog of the app derives from it (``tests/gui/test_dialog_frame.py`` walks them), so Enter means the same
everywhere: it presses the dialog's action and nothing else. No button is "auto-default" (see
``kit.secondary_button``), the action included: it is the default button, which Enter presses wherever the focus
is, without an auto-default button taking Enter over when it gets the focus.
"""

from __future__ import annotations

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.kit import button_row, page_title, primary_button, secondary_button

__all__ = ["FormDialog", "secondary_button"]


class FormDialog(QtWidgets.QDialog):
    def __init__(
        self,
        window_title: str,
        heading: str,
        action: str,
        parent: QtWidgets.QWidget | None = None,
        *,
        cancel: str = "Quit",
    ) -> None:
        super().__init__(parent)
        self._shown_once = False
        self._error_room = 0  # the height the window has grown by for its error line so far
        self._busy_room = 0  # the height it grew by to show the busy bar
        self.first_field: QtWidgets.QWidget | None = None  # where the cursor starts; None: the first field
        self.setWindowTitle(window_title)
        self.heading = title = page_title(heading)
        self.body = QtWidgets.QVBoxLayout()
        self.body.setSpacing(12)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QtWidgets.QVBoxLayout()  # below the busy bar: what happened (subclasses fill it)
        self.primary = primary_button(action)
        self.primary.setDefault(True)
        self.primary.setAutoDefault(False)
        self.cancel_button = secondary_button(cancel)
        self.cancel_button.clicked.connect(self.reject)
        buttons = button_row(self.cancel_button, self.primary)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addLayout(self.status)
        layout.addLayout(buttons)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.focus_first_field()

    def focus_first_field(self) -> None:
        """Put the cursor in the first field that takes typing. Qt gives a new dialog's focus to the first widget
        in its focus chain, and the frame's buttons are made before the subclass's fields: every form opened with
        its action button focused, so typing went nowhere until the first field was clicked. A subclass names
        another field in ``first_field`` (one that is filled in already is a poor start, and so is a chooser Qt
        would focus first: Unlock's workspace list came before its passphrase); without one, a field it focused
        itself is left as it is."""
        if self.first_field is not None and self.first_field.isVisible() and self.first_field.isEnabled():
            self.first_field.setFocus(Qt.FocusReason.OtherFocusReason)  # named: it wins over Qt's pick
            return
        current = self.focusWidget()
        if current is not None and not isinstance(current, QtWidgets.QAbstractButton):
            return
        widget = self.nextInFocusChain()
        while widget is not None and widget is not self:
            if (
                not isinstance(widget, QtWidgets.QAbstractButton)
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                and widget.isVisible()
                and widget.isEnabled()
                and self.isAncestorOf(widget)
            ):
                widget.setFocus(Qt.FocusReason.OtherFocusReason)  # not Tab: that selects a filled-in path whole
                return
            widget = widget.nextInFocusChain()

    def set_busy(self, busy: bool) -> None:
        """Show the busy bar (growing for it when the window has no room) or hide it and give that room back, so
        an error after a failed try does not leave a gap where the bar was."""
        self.primary.setEnabled(not busy)
        if busy != self.progress.isHidden():
            return  # already so
        before = self.height()
        self.progress.setVisible(busy)  # a visible window can grow at once here (its minimum height)
        if busy:
            self.fit_height()
            self._busy_room = max(0, self.height() - before)
        elif self._busy_room:
            room, self._busy_room = self._busy_room, 0
            self.fit_height(exactly=before - room)

    def show_error(self, message: str) -> None:
        """Say what went wrong under the fields, the whole sentence. The dialog grows by the height the sentence
        takes (only by the difference when a longer one follows a shorter one): a stretchy box (a text area) keeps
        its height instead of giving it up to the error, and no field is squashed below its natural height."""
        rest = self.height() - self._busy_room  # without the busy bar's room (set_busy gives it back)
        self.set_busy(False)
        self.error.setText(message)
        self.error.show()
        needed = self._error_height()
        extra = max(0, needed - self._error_room)  # an error shown before (and hidden on retry) left its room
        self._error_room = max(self._error_room, needed)
        # From the height computed here, not read back: a window manager applies a resize when it gets to it.
        self.fit_height(exactly=rest + extra if self.isVisible() else None)

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    def _error_height(self) -> int:
        """The height the error line takes in the layout at the dialog's width (0 while hidden)."""
        if self.error.isHidden() or not self.error.text():
            return 0
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else QtCore.QMargins()
        width = self.width() - margins.left() - margins.right()
        spacing = layout.spacing() if layout is not None else 0
        return self.error.heightForWidth(width) + spacing

    def fit_height(self, exactly: int | None = None) -> int:
        """Grow to the height the contents need at the current width (never shrinking), or take the height
        ``exactly`` (never less than they need: the busy bar's room is given back this way). A window does not
        follow its word-wrapped labels' height-for-width by itself: a long error would squash the fields above it
        instead. (No cap at the screen's height read from Python: holding a QScreen from ``self.screen()`` here
        made a later restyle in the test suite crash in QScreen::virtualSiblings.) Returns how much it grew."""
        layout = self.layout()
        if layout is None:
            return 0
        # Not ``layout.activate()`` first: that lays the fields out in the old, too small height, and a form layout
        # holding a wrapped label kept its squashed fields even after the window grew.
        needed = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else layout.sizeHint().height()
        wanted = max(needed, self.height() if exactly is None else exactly)
        grown = wanted - self.height()
        if grown == 0:
            return 0
        if grown < 0:
            layout.activate()  # the window's minimum height as it is now, or a smaller height is refused
        self.resize(self.width(), wanted)
        # A form layout squeezed for a moment (a busy bar or an error shown before the window grew) keeps its rows'
        # squashed heights once it has its room back; laid out afresh, each field has its height again.
        for inner in self.findChildren(QtWidgets.QLayout):
            inner.invalidate()
        layout.activate()
        for widget in self.findChildren(QtWidgets.QWidget):
            own = widget.layout()
            if own is not None and widget.isVisible():
                own.activate()
        return max(grown, 0)
