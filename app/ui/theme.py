"""Light and dark palettes, following the OS unless the user picked one.

Fusion is used on every platform so the app looks the same everywhere; colours come from one table per mode, and
custom-painted widgets (chat bubbles, badges, kanban cards) read them through ``colors()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.qt import Qt, QtGui, QtWidgets


@dataclass(frozen=True)
class Colors:
    window: str
    surface: str
    surface_alt: str
    text: str
    muted: str
    accent: str
    accent_text: str
    border: str
    bubble_in: str
    bubble_out: str
    note: str
    badge: str
    danger: str
    warning: str  # waiting states: connecting, scan the QR, phone offline
    highlight: str


LIGHT = Colors(
    window="#f4f5f7",
    surface="#ffffff",
    surface_alt="#eef0f3",
    text="#1d2433",
    muted="#6b7280",
    accent="#0f8a6c",
    accent_text="#ffffff",
    border="#d9dde3",
    bubble_in="#ffffff",
    bubble_out="#d8f3e6",
    note="#fff4cc",
    badge="#0f8a6c",
    danger="#c62828",
    warning="#9a5b00",
    highlight="#ffe08a",
)
DARK = Colors(
    window="#15191f",
    surface="#1d232b",
    surface_alt="#262d37",
    text="#e6e9ee",
    muted="#98a2b3",
    accent="#2bb98f",
    accent_text="#0b1410",
    border="#323a46",
    bubble_in="#262d37",
    bubble_out="#1f4d3f",
    note="#4a4221",
    badge="#2bb98f",
    danger="#ff8a80",  # readable on every dark surface, own bubbles included
    warning="#f0b429",
    highlight="#7a6420",
)

_current = LIGHT


def colors() -> Colors:
    return _current


def system_is_dark(app: QtGui.QGuiApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply(app: QtWidgets.QApplication, choice: str) -> Colors:
    """Apply ``choice`` ("system", "light" or "dark") to the whole application."""
    global _current
    dark = system_is_dark(app) if choice == "system" else choice == "dark"
    _current = DARK if dark else LIGHT
    c = _current
    app.setStyle("Fusion")
    palette = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    for r, value in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.surface),
        (role.AlternateBase, c.surface_alt),
        (role.Text, c.text),
        (role.Button, c.surface),
        (role.ButtonText, c.text),
        (role.ToolTipBase, c.surface),
        (role.ToolTipText, c.text),
        (role.Highlight, c.accent),
        (role.HighlightedText, c.accent_text),
        (role.PlaceholderText, c.muted),
        (role.Link, c.accent),
        (role.Mid, c.border),
    ):
        palette.setColor(r, QtGui.QColor(value))
    palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.Text, QtGui.QColor(c.muted))
    palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.ButtonText, QtGui.QColor(c.muted))
    app.setPalette(palette)
    app.setStyleSheet(_stylesheet(c))
    return c


def _stylesheet(c: Colors) -> str:
    return f"""
    QListWidget#nav {{ background: {c.surface}; border: none; border-right: 1px solid {c.border};
                       padding-top: 8px; outline: 0; }}
    QListWidget#nav::item {{ padding: 0px 10px; margin: 2px 8px; border-radius: 6px; color: {c.text}; }}
    QListWidget#nav::item:selected {{ background: {c.accent}; color: {c.accent_text}; }}
    QListWidget#nav::item:hover:!selected {{ background: {c.surface_alt}; }}
    QLabel#pageTitle {{ font-size: 18px; font-weight: 600; }}
    QLabel#muted, QLabel#hint {{ color: {c.muted}; }}
    QLabel#error {{ color: {c.danger}; }}
    QLabel#emptyTitle {{ font-size: 17px; font-weight: 600; }}
    QLabel#emptyBody {{ color: {c.muted}; }}
    QFrame#card {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 8px; }}
    QFrame#panel {{ background: {c.surface}; border-left: 1px solid {c.border}; }}
    QFrame#header {{ background: {c.surface}; border-bottom: 1px solid {c.border}; }}
    QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border: none; border-radius: 6px;
                           padding: 7px 16px; font-weight: 600; }}
    QPushButton#primary:disabled {{ background: {c.border}; color: {c.muted}; }}
    QLineEdit, QPlainTextEdit, QTextEdit {{ border: 1px solid {c.border}; border-radius: 6px;
                           padding: 5px 8px; background: {c.surface}; }}
    QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 1px solid {c.accent}; }}
    QStatusBar {{ background: {c.surface}; border-top: 1px solid {c.border}; }}
    QFrame#banner {{ background: {c.note}; border-bottom: 1px solid {c.border}; }}
    QLabel#bannerIcon {{ color: {c.warning}; font-weight: 700; }}
    QLabel#cardTitle {{ font-weight: 600; }}
    QLabel#qr {{ background: #ffffff; border: 1px solid {c.border}; border-radius: 8px; }}
    """
