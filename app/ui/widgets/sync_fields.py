"""Small pieces the Team sync card and the join dialog share: this computer's name, the server address check and
a password field."""

from __future__ import annotations

from app.qt import QtWidgets
from app.store.sending_device import host_name


def device_name() -> str:
    """This computer's name as the team's device list shows it (the name the WhatsApp sending device goes by too)."""
    return host_name()


def check_server(url: str) -> str | None:
    """Why ``url`` cannot be a sync server's address, or None."""
    if not url:
        return "Enter the address of your team's Parley server."
    if not url.startswith(("http://", "https://")):
        return "The server address starts with https:// (or http:// on a local network)."
    return None


def password_field(placeholder: str) -> QtWidgets.QLineEdit:
    edit = QtWidgets.QLineEdit()
    edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit
