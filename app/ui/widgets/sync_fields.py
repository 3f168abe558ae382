"""Small pieces the Team sync card and the join dialog share: this computer's name, the server address check and
a password field."""

from __future__ import annotations

import socket

from app.qt import QtWidgets


def device_name() -> str:
    """This computer's name as the team's device list shows it (the host name, without its domain)."""
    return (socket.gethostname() or "").split(".")[0][:120] or "This computer"


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
