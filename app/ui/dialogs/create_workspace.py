"""First run: name the business and yourself, and choose how the database key is protected."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from app.qt import QtWidgets, Signal
from app.store.keyring_vault import insecure_reason
from app.store.keys import MIN_PASSPHRASE
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note, password_field


class CreateRequest(BaseModel):
    business_name: str
    owner_name: str
    owner_email: str | None
    passphrase: SecretStr | None  # None: key in the system keyring; SecretStr keeps it out of repr() and logs


class CreateWorkspaceDialog(FormDialog):
    submitted = Signal(object)  # CreateRequest

    def __init__(self, *, keyring_available: bool, keyring_name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Welcome to Parley", "Set up your workspace", "Create workspace", parent)
        self.setMinimumWidth(520)
        intro = note("Everything stays on this computer in an encrypted database. You can invite your team later.")

        self.business = QtWidgets.QLineEdit(placeholderText="e.g. Lumen Boutique")
        self.owner = QtWidgets.QLineEdit(placeholderText="Your name")
        self.email = QtWidgets.QLineEdit(placeholderText="Optional")
        form = QtWidgets.QFormLayout()
        form.addRow("Business name", self.business)
        form.addRow("Your name", self.owner)
        form.addRow("Your e-mail", self.email)

        self.use_keyring = QtWidgets.QRadioButton("Keep the key in this computer's keyring (recommended)")
        self.use_passphrase = QtWidgets.QRadioButton("Protect with a passphrase I type when Parley starts")
        # ``keyring_name`` is the backend's class path: the sentence says what it means instead.
        keyring_note = note(
            "Parley opens without a prompt; the key is guarded by your login."
            if keyring_available
            else f"This computer has no secure keyring ({insecure_reason(keyring_name)}), so a passphrase "
            "protects the workspace. AI provider keys and the team sign-in are then kept inside the encrypted "
            "workspace.",
            "hint",
        )
        self.use_keyring.setEnabled(keyring_available)
        if not keyring_available:
            self.use_keyring.setToolTip(f"Not available: {insecure_reason(keyring_name)}.")
        (self.use_keyring if keyring_available else self.use_passphrase).setChecked(True)

        self.passphrase = password_field(f"At least {MIN_PASSPHRASE} characters")
        self.confirm = password_field("Type it again")
        warning = note("There is no way to recover a forgotten passphrase. Keep a backup.", "hint")
        self.passphrase_box = QtWidgets.QWidget()
        pform = QtWidgets.QFormLayout(self.passphrase_box)
        pform.setContentsMargins(24, 0, 0, 0)
        pform.addRow("Passphrase", self.passphrase)
        pform.addRow("Confirm", self.confirm)
        pform.addRow("", warning)

        self.create_button = self.primary
        for item in (intro, form, 6, self.use_keyring, self.use_passphrase, keyring_note, self.passphrase_box):
            if isinstance(item, int):
                self.body.addSpacing(item)
            elif isinstance(item, QtWidgets.QLayout):
                self.body.addLayout(item)
            else:
                self.body.addWidget(item)

        self.use_passphrase.toggled.connect(self._sync)
        self.create_button.clicked.connect(self._submit)
        self._sync()

    def _sync(self) -> None:
        self.passphrase_box.setVisible(self.use_passphrase.isChecked())
        self.adjustSize()

    def _submit(self) -> None:
        problem = self._problem()
        if problem:
            self.show_error(problem)
            return
        self.error.hide()
        self.submitted.emit(
            CreateRequest(
                business_name=self.business.text().strip(),
                owner_name=self.owner.text().strip(),
                owner_email=self.email.text().strip() or None,
                passphrase=SecretStr(self.passphrase.text()) if self.use_passphrase.isChecked() else None,
            )
        )

    def _problem(self) -> str | None:
        if not self.business.text().strip():
            return "Enter your business's name."
        if not self.owner.text().strip():
            return "Enter your name."
        if self.use_passphrase.isChecked():
            if len(self.passphrase.text()) < MIN_PASSPHRASE:
                return f"The passphrase must be at least {MIN_PASSPHRASE} characters long."
            if self.passphrase.text() != self.confirm.text():
                return "The two passphrases differ."
        return None
