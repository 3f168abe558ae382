"""Settings › Team sync: join this workspace to a team on a Parley sync server, and see how syncing goes.

Signed out, the card offers the server's address and two ways in: "Create a team from this workspace" (the owner's
workspace becomes the team's data) and "Sign in". Passwords leave their fields the moment an attempt starts: only
the server sees them, and a failed attempt shows the server's or the transport's own sentence under the form.
Signed in, ``SignedInPanel`` (``sync_team.py``) shows who and where, the state, the conflicts list, members and
devices. A device that was removed, or whose sign-in expired, shows a banner with a way to sign in again.

When the server made the team (or the device) but the keyring refused the sign-in, the card stays signed out, says
so, and offers "Save sign-in", which saves the session the service holds and carries on: no second team. Under
both panels the card says where the sign-in is kept: this computer's keyring, or inside the encrypted workspace
when there is no secure keyring (``app.store.secrets``).
"""

from __future__ import annotations

from typing import Any

from app.qt import Qt, QtWidgets, Signal
from app.store.secrets import Secrets
from app.sync.protocol import MIN_PASSWORD_CHARS
from app.sync.status import SyncState, SyncStatus
from app.ui import kit
from app.ui.context import AppContext
from app.ui.pages.sync_team import SignedInPanel
from app.ui.sync_bridge import SyncBridge
from app.ui.widgets.secrets_home import SecretsHomeNote
from app.ui.widgets.sync_fields import check_server, device_name


def align_labels(*forms: QtWidgets.QFormLayout) -> None:
    """One label column for several forms stacked in a card, so their fields line up."""
    widgets: list[QtWidgets.QWidget] = []
    for form in forms:
        for row in range(form.rowCount()):
            item = form.itemAt(row, QtWidgets.QFormLayout.ItemRole.LabelRole)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widgets.append(widget)
    width = max((w.sizeHint().width() for w in widgets), default=0)
    for widget in widgets:
        widget.setMinimumWidth(width)


def banner_text(status: SyncStatus) -> str | None:
    if status.state is SyncState.REVOKED:
        return status.message or (
            "This computer was removed from the team, so it no longer syncs. Your data on it is kept. "
            "Sign in to add it again."
        )
    if status.state is SyncState.SIGN_IN_AGAIN:
        return status.message or "Your sign-in has expired: sign in again to keep syncing. Nothing was lost."
    return None


class SignInBanner(QtWidgets.QFrame):
    """Removed from the team, or the sign-in expired: say so, and lead to the sign-in form."""

    sign_in_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        icon = QtWidgets.QLabel("⚠")
        icon.setObjectName("bannerIcon")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("bannerText")
        self.message.setWordWrap(True)
        self.button = QtWidgets.QPushButton("Sign in")
        self.button.clicked.connect(self.sign_in_requested.emit)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_status(self, status: SyncStatus) -> None:
        text = banner_text(status)
        self.setVisible(text is not None)
        if text is not None:
            self.message.setText(text)


class SignedOutPanel(QtWidgets.QWidget):
    """The server's address, and the create-a-team and sign-in forms."""

    def __init__(self, ctx: AppContext, bridge: SyncBridge, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bridge = bridge
        self._last_state: SyncState | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.banner = SignInBanner()
        self.banner.sign_in_requested.connect(self.focus_sign_in)
        layout.addWidget(self.banner)
        layout.addWidget(
            kit.note(
                "Work on the same customers, chats and deals from several computers. Everything keeps working "
                "offline; changes are exchanged through your team's Parley server whenever it can be reached."
            )
        )
        self.server = QtWidgets.QLineEdit()
        self.server.setPlaceholderText("https://sync.example.com")
        self.device = QtWidgets.QLineEdit(device_name())
        self.device.setMaxLength(120)
        top = QtWidgets.QFormLayout()
        top.addRow("Server address", self.server)
        top.addRow("This computer", self.device)
        layout.addLayout(top)

        # A tab bar over two forms shown one at a time (a QTabWidget would be as tall as the taller form).
        self.tabs = QtWidgets.QTabBar()
        self.tabs.setDocumentMode(True)
        self.tabs.setExpanding(False)
        self.tabs.addTab("Sign in")
        self.tabs.addTab("Create a team from this workspace")
        self.pages = [self._sign_in_form(), self._create_form()]
        self.tabs.currentChanged.connect(self._show_page)
        layout.addWidget(self.tabs)
        for page in self.pages:
            layout.addWidget(page)
        self._show_page(0)
        self.error = kit.note("", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.busy = kit.note("")
        self.busy.hide()
        self.save_button = kit.primary_button("Save sign-in")
        self.save_button.setToolTip("Save the sign-in the server already gave, once the keyring is unlocked")
        self.save_button.clicked.connect(self.save_sign_in)
        self.save_row = _left(self.save_button)
        self.save_row.hide()
        layout.addWidget(self.error)
        layout.addWidget(self.save_row)
        layout.addWidget(self.busy)
        align_labels(top, *(form for page in self.pages for form in page.findChildren(QtWidgets.QFormLayout)))

    def _sign_in_form(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        form.setContentsMargins(0, 10, 0, 0)
        self.sign_in_email = QtWidgets.QLineEdit()
        self.sign_in_email.setPlaceholderText("you@example.com")
        self.sign_in_password = kit.password_field("Your team password")
        self.sign_in_button = kit.primary_button("Sign in")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_in_password.returnPressed.connect(self.sign_in)
        form.addRow("E-mail", self.sign_in_email)
        form.addRow("Password", self.sign_in_password)
        form.addRow("", _left(self.sign_in_button))
        return page

    def _create_form(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        form.setContentsMargins(0, 10, 0, 0)
        self.create_name = QtWidgets.QLineEdit()
        self.create_name.setPlaceholderText("Your name")
        self.create_email = QtWidgets.QLineEdit()
        self.create_email.setPlaceholderText("you@example.com")
        self.create_password = kit.password_field(f"At least {MIN_PASSWORD_CHARS} characters")
        self.create_repeat = kit.password_field("Type it again")
        self.create_button = kit.primary_button("Create team")
        self.create_button.clicked.connect(self.create_team)
        self.create_repeat.returnPressed.connect(self.create_team)
        form.addRow(
            kit.note(
                f"“{self.ctx.business_name}” becomes your team's workspace: what is in it now is uploaded, and "
                "you can then invite your staff. You are the team's owner."
            )
        )
        form.addRow("Your name", self.create_name)
        form.addRow("E-mail", self.create_email)
        form.addRow("Password", self.create_password)
        form.addRow("Repeat password", self.create_repeat)
        form.addRow("", _left(self.create_button))
        return page

    # ---- state -------------------------------------------------------------------------------------------------
    def show_status(self, status: SyncStatus) -> None:
        self.banner.show_status(status)
        needs_sign_in = status.state in (SyncState.REVOKED, SyncState.SIGN_IN_AGAIN)
        if needs_sign_in and status.state is not self._last_state:
            self.tabs.setCurrentIndex(0)  # what they need now is the sign-in form, not "create a team"
        self._last_state = status.state
        if status.server_url and not self.server.text().strip():
            self.server.setText(status.server_url)
        if status.email and not self.sign_in_email.text().strip():
            self.sign_in_email.setText(status.email)

    def _show_page(self, current: int) -> None:
        for index, page in enumerate(self.pages):
            page.setVisible(index == current)

    def focus_sign_in(self) -> None:
        self.tabs.setCurrentIndex(0)
        (self.sign_in_password if self.sign_in_email.text() else self.sign_in_email).setFocus()

    def _busy(self, text: str | None) -> None:
        for widget in (self.server, self.device, self.tabs, *self.pages, self.save_button):
            widget.setEnabled(text is None)
        self.busy.setText(text or "")
        self.busy.setVisible(text is not None)

    def _failed(self, message: str) -> None:
        self._busy(None)
        self.error.setText(message)
        self.error.show()
        # The server already made the team or device but the keyring refused it: offer to save it, not to redo it.
        self.save_row.setVisible(self.bridge.ready and self.bridge.service.unsaved_sign_in())

    def _done(self, _result: Any) -> None:
        self._busy(None)
        self.error.hide()
        self.save_row.hide()

    def _common(self) -> tuple[str, str] | None:
        url = self.server.text().strip().rstrip("/")
        problem = check_server(url)
        name = self.device.text().strip()
        if problem is None and not name:
            problem = "Give this computer a name, so you can recognise it in the team's device list."
        if problem is not None:
            self._failed(problem)
            return None
        return url, name

    # ---- actions -----------------------------------------------------------------------------------------------
    def sign_in(self) -> None:
        email = self.sign_in_email.text().strip()
        password = self.sign_in_password.text()
        self.sign_in_password.clear()  # the password leaves the widget at once, whatever happens next
        common = self._common()
        if common is None:
            return
        if not email or not password:
            self._failed("Enter your e-mail and password.")
            return
        url, name = common
        self.error.hide()
        self._busy(f"Signing in to {url}…")
        self.bridge.call(
            "Sign in",
            lambda: self.bridge.service.sign_in(url, email=email, password=password, device_name=name),
            self._done,
            self._failed,
            owner=self,
        )

    def create_team(self) -> None:
        name = self.create_name.text().strip()
        email = self.create_email.text().strip()
        password = self.create_password.text()
        repeat = self.create_repeat.text()
        self.create_password.clear()
        self.create_repeat.clear()
        common = self._common()
        if common is None:
            return
        problem = None
        if not name:
            problem = "Enter your name."
        elif not email:
            problem = "Enter your e-mail address: it is how you sign in."
        elif len(password) < MIN_PASSWORD_CHARS:
            problem = f"The password must be at least {MIN_PASSWORD_CHARS} characters long."
        elif password != repeat:
            problem = "The two passwords differ."
        if problem is not None:
            self._failed(problem)
            return
        url, device = common
        self.error.hide()
        self._busy(f"Creating the team on {url}…")
        self.bridge.call(
            "Create team",
            lambda: self.bridge.service.sign_up(url, name=name, email=email, password=password, device_name=device),
            self._done,
            self._failed,
            owner=self,
        )

    def save_sign_in(self) -> None:
        """Save the sign-in the service holds (the keyring refused it), then carry on as the flow would have."""
        self.error.hide()
        self._busy("Saving the sign-in…")
        self.bridge.call("Save sign-in", self.bridge.service.save_sign_in, self._done, self._failed, owner=self)


def _left(widget: QtWidgets.QWidget) -> QtWidgets.QWidget:
    holder = QtWidgets.QWidget()
    row = kit.button_row(widget, align="left")
    row.setContentsMargins(0, 4, 0, 0)
    holder.setLayout(row)
    return holder


class SyncSettingsCard(kit.Card):
    """The Team sync card: the signed-out forms or the signed-in panel, following the bridge's status."""

    def __init__(self, ctx: AppContext, bridge: SyncBridge, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Team sync", parent)
        self.ctx = ctx
        self.bridge = bridge
        layout = self.body
        self.signed_out = SignedOutPanel(ctx, bridge)
        self.signed_in = SignedInPanel(ctx, bridge)
        layout.addWidget(self.signed_out)
        layout.addWidget(self.signed_in)
        self.where = SecretsHomeNote(ctx, Secrets(ctx.workspaces.vault.backend, ctx.store), "The team sign-in is")
        layout.addWidget(self.where)
        bridge.statusChanged.connect(self.show_status)
        self.show_status(bridge.status)

    def show_status(self, status: SyncStatus) -> None:
        self.signed_out.setVisible(not status.signed_in)
        self.signed_in.setVisible(status.signed_in)
        self.signed_out.show_status(status)
        self.signed_in.show_status(status)
        self.where.refresh()  # signing in records where secrets are kept

    def show_conflicts(self) -> None:
        self.signed_in.show_conflicts()
