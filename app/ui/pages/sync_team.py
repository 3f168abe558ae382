"""Settings › Team sync while signed in: who and where, the state, edits the server replaced, members and devices.

Everything shown comes from the sync service: the status snapshot (on the main thread through ``SyncBridge``), the
local conflicts list (read on a worker: it is a database query) and the server's members and devices lists (fetched
on the sync loop). Admins and owners invite by e-mail — the one-time invite code is shown to copy and send — and
remove members; owners change members' roles; anyone can revoke their own devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from app.qt import Qt, QtGui, QtWidgets
from app.sync.protocol import DeviceInfo, Invite, MemberInfo, Role
from app.sync.status import ConflictNote, SyncState, SyncStatus
from app.ui import kit
from app.ui.context import AppContext
from app.ui.pages.sync_lists import REASONS, fields_text, fit_rows, theirs_text, what_text, when_ms
from app.ui.sync_bridge import SyncBridge
from app.ui.widgets.sync_indicator import changes_text, indicator_text, last_synced_text
from app.ui.widgets.tables import cell, read_only_table

ADMIN_ROLES = ("owner", "admin")
T = TypeVar("T")


class SignedInPanel(QtWidgets.QWidget):
    def __init__(self, ctx: AppContext, bridge: SyncBridge, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bridge = bridge
        self._team_loaded = False
        self._conflict_count = -1
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        self.who = QtWidgets.QLabel()
        self.team = QtWidgets.QLabel()
        self.server = QtWidgets.QLabel()
        self.state = QtWidgets.QLabel()
        self.pending = QtWidgets.QLabel()
        self.last_synced = QtWidgets.QLabel()
        for label in (self.who, self.team, self.server):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QtWidgets.QFormLayout()
        form.addRow("Signed in as", self.who)
        form.addRow("Team", self.team)
        form.addRow("Server", self.server)
        form.addRow("State", self.state)
        form.addRow("Waiting to upload", self.pending)
        form.addRow("Last synced", self.last_synced)
        layout.addLayout(form)
        self.message = kit.note("", "hint")
        self.message.hide()
        layout.addWidget(self.message)
        self.sync_button = QtWidgets.QPushButton("Sync now")
        self.sync_button.clicked.connect(self.bridge.sync_now)
        self.sign_out_button = QtWidgets.QPushButton("Sign out…")
        self.sign_out_button.clicked.connect(self.confirm_sign_out)
        layout.addLayout(kit.button_row(self.sync_button, self.sign_out_button, align="left"))
        self.error = kit.note("", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)

        self._conflicts_block(layout)
        self._members_block(layout)
        self._devices_block(layout)

    # ---- status ------------------------------------------------------------------------------------------------
    def show_status(self, status: SyncStatus) -> None:
        if not status.signed_in:
            self._team_loaded = False
            return
        who = status.email or "—"
        self.who.setText(f"{who} ({status.role})" if status.role else who)
        self.team.setText(status.org_name or "—")
        self.server.setText(status.server_url or "—")
        self.state.setText(indicator_text(status))
        self.pending.setText(changes_text(status.pending) if status.pending else "Nothing")
        self.last_synced.setText(last_synced_text(status))
        self.message.setText(status.message or "")
        self.message.setVisible(bool(status.message))
        admin = status.role in ADMIN_ROLES
        self.invite_box.setVisible(admin)
        self.remove_button.setVisible(admin)
        self.role_box.setVisible(status.role == "owner")
        if not self._team_loaded and status.state is SyncState.SYNCED:
            self._team_loaded = True  # the first time the server answered since signing in: it has the lists
            self.refresh_team()
        if status.unseen_conflicts != self._conflict_count:
            self._conflict_count = status.unseen_conflicts
            self.load_conflicts()

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def confirm_sign_out(self) -> None:
        self.confirm_box = kit.confirm(
            self,
            "Sign out of the team?",
            "This computer stops syncing with the team. Everything in this workspace stays here and keeps working "
            "offline; sign in again to catch up.",
            "Sign out",
            self.sign_out,
        )

    def sign_out(self) -> None:
        self.error.hide()
        self.sign_out_button.setEnabled(False)

        def done(_: object) -> None:
            self.sign_out_button.setEnabled(True)

        def failed(message: str) -> None:
            self.sign_out_button.setEnabled(True)
            self._failed(message)

        self.bridge.call("Sign out", self.bridge.service.sign_out, done, failed, owner=self)

    # ---- conflicts ---------------------------------------------------------------------------------------------
    def _conflicts_block(self, layout: QtWidgets.QVBoxLayout) -> None:
        layout.addSpacing(6)
        self.seen_button = QtWidgets.QPushButton("Mark all as seen")
        self.seen_button.clicked.connect(self.mark_seen)
        layout.addLayout(kit.title_row(kit.subheading("Edits the server replaced"), self.seen_button))
        layout.addWidget(
            kit.note(
                "When two people change the same thing, the change that reached the server last is kept. "
                "These are your edits that lost, with the value that was kept instead."
            )
        )
        self.conflicts = read_only_table(["When", "What", "Fields", "Why", "Their value"], 4)
        fit_rows(self.conflicts, least=3)
        layout.addWidget(self.conflicts)
        self.no_conflicts = kit.note("None: every edit of yours was kept.")
        layout.addWidget(self.no_conflicts)

    def load_conflicts(self) -> None:
        self.ctx.tasks.start(
            "Read sync conflicts", lambda: self.bridge.service.conflicts(limit=200), self._show_conflicts, owner=self
        )

    def _show_conflicts(self, notes: list[ConflictNote]) -> None:
        self.conflicts.setRowCount(len(notes))
        for row, note in enumerate(notes):
            stamp = note.detected_at.astimezone().strftime("%d %b, %H:%M")
            when = cell(stamp)
            if not note.seen:
                font = QtGui.QFont(when.font())
                font.setBold(True)
                when.setFont(font)
            theirs = theirs_text(note)
            self.conflicts.setItem(row, 0, when)
            self.conflicts.setItem(row, 1, cell(what_text(note), tip=f"{note.table} {note.row_id}"))
            self.conflicts.setItem(row, 2, cell(fields_text(note)))
            self.conflicts.setItem(row, 3, cell(REASONS.get(note.reason, note.reason)))
            self.conflicts.setItem(row, 4, cell(theirs, tip=theirs))
        fit_rows(self.conflicts, least=3)
        self.conflicts.setVisible(bool(notes))
        self.no_conflicts.setVisible(not notes)
        self.seen_button.setEnabled(any(not n.seen for n in notes))

    def mark_seen(self) -> None:
        self.ctx.tasks.start(
            "Mark conflicts seen", self.bridge.service.mark_conflicts_seen, lambda _: self.load_conflicts(), owner=self
        )

    def show_conflicts(self) -> None:
        self.load_conflicts()
        self.conflicts.setFocus()

    # ---- members -----------------------------------------------------------------------------------------------
    def _members_block(self, layout: QtWidgets.QVBoxLayout) -> None:
        layout.addSpacing(6)
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_team)
        layout.addLayout(kit.title_row(kit.subheading("Members"), self.refresh_button))
        self.members = read_only_table(["Name", "E-mail", "Role"], 1)
        fit_rows(self.members)
        layout.addWidget(self.members)
        self.remove_button = QtWidgets.QPushButton("Remove member…")
        self.remove_button.clicked.connect(self.remove_member)
        # Owners change roles (the server allows no one else): pick the member, the role, then Change role.
        self.role_box = QtWidgets.QWidget()
        role_line = QtWidgets.QHBoxLayout(self.role_box)
        role_line.setContentsMargins(0, 0, 0, 0)
        self.new_role = QtWidgets.QComboBox()
        for label, value in (("Staff", "staff"), ("Admin", "admin"), ("Owner", "owner")):
            self.new_role.addItem(label, value)
        self.new_role.setAccessibleName("New role")
        self.role_button = QtWidgets.QPushButton("Change role")
        self.role_button.clicked.connect(self.change_role)
        role_line.addSpacing(12)
        role_line.addWidget(QtWidgets.QLabel("Set the selected member's role to"))
        role_line.addWidget(self.new_role)
        role_line.addWidget(self.role_button)
        layout.addLayout(kit.button_row(self.remove_button, self.role_box, align="left"))

        self.invite_box = QtWidgets.QWidget()
        invite = QtWidgets.QVBoxLayout(self.invite_box)
        invite.setContentsMargins(0, 4, 0, 0)
        self.invite_email = QtWidgets.QLineEdit()
        self.invite_email.setPlaceholderText("staff@example.com")
        self.invite_role = QtWidgets.QComboBox()
        self.invite_role.addItem("Staff", "staff")
        self.invite_role.addItem("Admin", "admin")
        self.invite_button = QtWidgets.QPushButton("Invite")
        self.invite_button.clicked.connect(self.invite)
        self.invite_email.returnPressed.connect(self.invite)
        line = QtWidgets.QHBoxLayout()
        line.addWidget(QtWidgets.QLabel("Invite by e-mail"))
        line.addWidget(self.invite_email, 1)
        line.addWidget(self.invite_role)
        line.addWidget(self.invite_button)
        invite.addLayout(line)
        self.invite_code = QtWidgets.QLineEdit()
        self.invite_code.setReadOnly(True)
        self.copy_button = QtWidgets.QPushButton("Copy code")
        self.copy_button.clicked.connect(self.copy_code)
        code_row = QtWidgets.QHBoxLayout()
        code_row.addWidget(self.invite_code, 1)
        code_row.addWidget(self.copy_button)
        self.code_box = QtWidgets.QWidget()
        code_layout = QtWidgets.QVBoxLayout(self.code_box)
        code_layout.setContentsMargins(0, 0, 0, 0)
        self.code_note = kit.note("")
        code_layout.addWidget(self.code_note)
        code_layout.addLayout(code_row)
        self.code_box.hide()
        invite.addWidget(self.code_box)
        layout.addWidget(self.invite_box)
        self._members: list[MemberInfo] = []
        self._refreshing = False
        self._refresh_again = False

    def refresh_team(self) -> None:
        # A refresh asked for while one is loading runs after it: the one in flight may have left before the change
        # the user is refreshing for (a disabled button would have swallowed the click and shown the stale list).
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing, self._refresh_again = True, False
        self.refresh_button.setText("Refreshing…")

        def finished() -> None:
            self._refreshing = False
            self.refresh_button.setText("Refresh")
            if self._refresh_again:
                self.refresh_team()

        def failed(message: str) -> None:
            finished()
            self._failed(message)

        def got_members(members: list[MemberInfo]) -> None:
            self._members = [m for m in members if not m.removed]
            self.members.setRowCount(len(self._members))
            for row, member in enumerate(self._members):
                self.members.setItem(row, 0, cell(member.name))
                self.members.setItem(row, 1, cell(member.email))
                self.members.setItem(row, 2, cell(member.role.capitalize()))
            fit_rows(self.members)
            self.bridge.call("List devices", self.bridge.service.devices, got_devices, failed, owner=self)

        def got_devices(devices: list[DeviceInfo]) -> None:
            self._show_devices(devices)
            finished()

        self.bridge.call("List members", self.bridge.service.members, got_members, failed, owner=self)

    def invite(self) -> None:
        email = self.invite_email.text().strip()
        if not email:
            self._failed("Enter the e-mail address of the person to invite.")
            return
        role: Role = "admin" if self.invite_role.currentData() == "admin" else "staff"
        self.invite_button.setEnabled(False)
        self.error.hide()

        def done(invite: Invite) -> None:
            self.invite_button.setEnabled(True)
            self.invite_email.clear()
            self.invite_code.setText(invite.token)
            self.invite_code.setCursorPosition(0)
            self.code_note.setText(
                f"Send this invite code to {invite.email} ({invite.role}). It works once, until "
                f"{when_ms(invite.expires_at)}, and is not shown again."
            )
            self.code_box.show()

        def failed(message: str) -> None:
            self.invite_button.setEnabled(True)
            self._failed(message)

        self.bridge.call("Invite", lambda: self.bridge.service.invite(email, role), done, failed, owner=self)

    def copy_code(self) -> None:
        clipboard = QtGui.QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.invite_code.text())
        self.copy_button.setText("Copied")

    def _selected(self, table: QtWidgets.QTableWidget, items: Sequence[T], missing: str) -> T | None:
        """The item of ``table``'s selected row, or None after saying ``missing`` in the panel."""
        row = table.currentRow()
        if not 0 <= row < len(items):
            self._failed(missing)
            return None
        return items[row]

    def remove_member(self) -> None:
        member = self._selected(self.members, self._members, "Select the member to remove.")
        if member is None:
            return

        def remove() -> None:
            self.bridge.call(
                "Remove member",
                lambda: self.bridge.service.remove_member(member.id),
                lambda _: self.refresh_team(),
                self._failed,
                owner=self,
            )

        text = f"Remove {member.name} ({member.email}) from the team? Their devices stop syncing at once."
        self.confirm_box = kit.confirm(self, "Remove member?", text, "Remove", remove)

    def change_role(self) -> None:
        member = self._selected(self.members, self._members, "Select the member whose role to change.")
        if member is None:
            return
        role: Role = self.new_role.currentData()
        if role == member.role:
            self._failed(f"{member.name} is already {role}.")
            return
        self.error.hide()
        self.role_button.setEnabled(False)

        def done(_: MemberInfo) -> None:
            self.role_button.setEnabled(True)
            self.refresh_team()

        def failed(message: str) -> None:
            self.role_button.setEnabled(True)
            self._failed(message)

        self.bridge.call("Change role", lambda: self.bridge.service.set_role(member.id, role), done, failed, owner=self)

    # ---- devices -----------------------------------------------------------------------------------------------
    def _devices_block(self, layout: QtWidgets.QVBoxLayout) -> None:
        layout.addSpacing(6)
        layout.addWidget(kit.subheading("Devices"))
        self.devices = read_only_table(["Name", "Added", "Last seen", "State"], 0)
        fit_rows(self.devices)
        layout.addWidget(self.devices)
        self.revoke_button = QtWidgets.QPushButton("Revoke device…")
        self.revoke_button.clicked.connect(self.revoke_device)
        layout.addLayout(kit.button_row(self.revoke_button, align="left"))
        self._devices: list[DeviceInfo] = []

    def _show_devices(self, devices: list[DeviceInfo]) -> None:
        self._devices = sorted(devices, key=lambda d: (not d.current, d.revoked_at is not None, d.name.lower()))
        self.devices.setRowCount(len(self._devices))
        for row, device in enumerate(self._devices):
            name = f"{device.name} (this computer)" if device.current else device.name
            state = "Revoked" if device.revoked_at is not None else "Active"
            self.devices.setItem(row, 0, cell(name))
            self.devices.setItem(row, 1, cell(when_ms(device.created_at)))
            self.devices.setItem(row, 2, cell(when_ms(device.last_seen_at)))
            self.devices.setItem(row, 3, cell(state))
        fit_rows(self.devices)

    def revoke_device(self) -> None:
        device = self._selected(self.devices, self._devices, "Select the device to revoke.")
        if device is None:
            return
        warning = " This is this computer: it stops syncing and is signed out." if device.current else ""

        def revoke() -> None:
            self.bridge.call(
                "Revoke device",
                lambda: self.bridge.service.revoke_device(device.id),
                lambda _: self.refresh_team(),
                self._failed,
                owner=self,
            )

        text = f"Revoke “{device.name}”? It stops syncing at once; its data stays on it.{warning}"
        self.confirm_box = kit.confirm(self, "Revoke device?", text, "Revoke", revoke)
