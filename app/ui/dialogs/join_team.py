"""Join a team with an invite: a new workspace for a staff member, filled with the team's data from its server.

The admin's invite code, the server's address, the new member's name and password, and the name this computer shows
for the business. Joining (accepting the invite, creating the encrypted workspace, downloading the team's data) runs
on the sync loop, never on the UI thread; the dialog shows progress meanwhile and the server's own sentence when it
refuses (an expired code, a taken e-mail, an unreachable address).

If the server accepted the invite but the keyring refused the sign-in, the dialog says so and its button becomes
"Save sign-in": the held join is saved once the keyring works (the invite is not needed again); closing the dialog
instead signs that device out on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from app.qt import QtCore, QtWidgets, Signal
from app.store.keys import MIN_PASSPHRASE
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.protocol import MIN_PASSWORD_CHARS
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note, password_field
from app.ui.sync_bridge import SyncLoop
from app.ui.widgets.sync_fields import check_server, device_name

if TYPE_CHECKING:
    from app.sync.account import HeldJoin

log = logging.getLogger(__name__)


class Joiner(Protocol):
    """``app.sync.service.join_with_invite``'s shape."""

    def __call__(
        self,
        workspaces: Workspaces,
        server_url: str,
        token: str,
        *,
        name: str,
        password: str,
        device_name: str,
        business_name: str,
        passphrase: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Awaitable[tuple[str, Store]]: ...


def default_joiner() -> Joiner:
    from app.sync.service import join_with_invite  # the sync client is imported only when someone joins

    return join_with_invite


class JoinTeamDialog(FormDialog):
    joined = Signal(object)  # Store of the new workspace, open
    _progressed = Signal(int, int, str)  # sync loop → main thread

    def __init__(
        self,
        workspaces: Workspaces,
        loop: SyncLoop,
        parent: QtWidgets.QWidget | None = None,
        *,
        joiner: Callable[[], Joiner] = default_joiner,
    ) -> None:
        super().__init__("Join a team", "Join a team with an invite", "Join team", parent, cancel="Cancel")
        self.setMinimumWidth(540)
        self.workspaces = workspaces
        self.loop = loop
        self._joiner = joiner
        intro = note(
            "Your team's admin sent you an invite code and the address of its Parley server. Joining makes a new "
            "workspace on this computer with the team's customers, chats and deals."
        )
        self.server = QtWidgets.QLineEdit(placeholderText="https://sync.example.com")
        self.code = QtWidgets.QLineEdit(placeholderText="Paste the invite code")
        self.name = QtWidgets.QLineEdit(placeholderText="Your name, as the team sees it")
        self.password = password_field(f"At least {MIN_PASSWORD_CHARS} characters")
        self.repeat = password_field("Type it again")
        self.business = QtWidgets.QLineEdit(placeholderText="e.g. Lumen Boutique")
        self.device = QtWidgets.QLineEdit(device_name())
        form = QtWidgets.QFormLayout()
        form.addRow("Server address", self.server)
        form.addRow("Invite code", self.code)
        form.addRow("Your name", self.name)
        form.addRow("Password", self.password)
        form.addRow("Repeat password", self.repeat)
        form.addRow("Business name", self.business)
        form.addRow("This computer", self.device)
        self.passphrase = password_field(f"At least {MIN_PASSPHRASE} characters")
        self.needs_passphrase = not workspaces.vault.secure
        if self.needs_passphrase:
            form.addRow("Workspace passphrase", self.passphrase)
        self.body.addWidget(intro)
        self.body.addLayout(form)
        self.progress_text = note()
        self.progress_text.hide()
        self.status.addWidget(self.progress_text)
        self.primary.clicked.connect(self.submit)
        self._progressed.connect(self._show_progress, QtCore.Qt.ConnectionType.QueuedConnection)
        self._held: HeldJoin | None = None  # joined on the server, but the keyring refused the sign-in

    @property
    def edits(self) -> tuple[QtWidgets.QLineEdit, ...]:
        return (self.server, self.code, self.name, self.password, self.repeat, self.business, self.device)

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if busy:
            self.progress.setRange(0, 0)  # until the download reports its size
            self.progress.setTextVisible(False)
        self.progress_text.setVisible(busy)
        for edit in self.edits:
            edit.setEnabled(not busy and self._held is None)

    def _problem(self, url: str, password: str, repeat: str, passphrase: str) -> str | None:
        problem = check_server(url)
        if problem:
            return problem
        if len(self.code.text().strip()) < 16:
            return "Paste the whole invite code your admin sent you."
        if not self.name.text().strip():
            return "Enter your name."
        if len(password) < MIN_PASSWORD_CHARS:
            return f"The password must be at least {MIN_PASSWORD_CHARS} characters long."
        if password != repeat:
            return "The two passwords differ."
        if not self.business.text().strip():
            return "Enter the business's name, as this computer should show it."
        if not self.device.text().strip():
            return "Give this computer a name."
        if self.needs_passphrase and len(passphrase) < MIN_PASSPHRASE:
            return f"The passphrase must be at least {MIN_PASSPHRASE} characters long."
        return None

    def submit(self) -> None:
        if self._held is not None:
            self.save_sign_in(self._held)
            return
        url = self.server.text().strip().rstrip("/")
        password, repeat, passphrase = self.password.text(), self.repeat.text(), self.passphrase.text()
        for edit in (self.password, self.repeat, self.passphrase):
            edit.clear()  # secrets leave the widgets at once, whatever happens next
        problem = self._problem(url, password, repeat, passphrase)
        if problem:
            self.show_error(problem)
            return
        self.error.hide()
        token = self.code.text().strip()
        name, business, device = self.name.text().strip(), self.business.text().strip(), self.device.text().strip()
        self.progress_text.setText(f"Joining the team on {url} and downloading its data…")
        self.set_busy(True)
        join = self._joiner()

        async def run() -> tuple[str, Store]:
            from app.sync.account import JoinNotSaved

            try:
                return await join(
                    self.workspaces,
                    url,
                    token,
                    name=name,
                    password=password,
                    device_name=device,
                    business_name=business,
                    passphrase=passphrase or None,
                    progress=self._progressed.emit,
                )
            except JoinNotSaved as exc:
                self._held = exc.held  # read on the main thread once the failure is delivered there
                raise

        self.loop.call("Join team", run, self._done, self._failed, owner=self)

    def save_sign_in(self, held: HeldJoin) -> None:
        """Save the held join's sign-in (the keyring works again) and download, as joining would have."""
        self.error.hide()
        self.progress_text.setText("Saving the sign-in and downloading the team's data…")
        self.set_busy(True)

        async def run() -> tuple[str, Store]:
            return await held.save(self._progressed.emit)

        self.loop.call("Save sign-in", run, self._done, self._failed, owner=self)

    def _failed(self, message: str) -> None:
        self.show_error(message)
        if self._held is not None:
            self.primary.setText("Save sign-in")

    def reject(self) -> None:
        """Closing with a held join signs that device out on the server: its token would otherwise be lost."""
        held, self._held = self._held, None
        if held is not None:
            self.loop.call("Discard the unsaved join", held.discard)
        super().reject()

    def _show_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setTextVisible(True)
        self.progress_text.setText(text or "Downloading the team's data…")

    def _done(self, result: tuple[str, Store]) -> None:
        workspace_id, store = result
        log.info("joined a team: workspace %s", workspace_id)
        self._held = None
        self.set_busy(False)
        self.joined.emit(store)
