"""Plays a voice note or audio inside the app, from memory: the decrypted bytes go into a QBuffer that Qt Multimedia
(its FFmpeg backend decodes OGG/Opus, MP3, AAC, WAV) reads — never a temporary file.

Play/pause, a position slider (drag to seek), "0:03 / 0:12", and the speed WhatsApp offers: 1×, 1.5×, 2×.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.qt import Qt, QtCore, QtWidgets
from app.ui.kit import secondary_button
from app.ui.widgets.memory_player import MemoryPlayer

if TYPE_CHECKING:
    pass

SPEEDS = (1.0, 1.5, 2.0)


def speed_label(speed: float) -> str:
    return f"{speed:g}×"


class VoicePlayer(MemoryPlayer):
    """One note at a time; ``load`` replaces what was loaded."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(
            parent,
            default_suffix="ogg",
            cannot_play="This recording cannot be played here. Use Save as… to open it in another app.",
        )
        self.setObjectName("voicePlayer")
        self.title = QtWidgets.QLabel()
        self.time.setText("0:00")
        self.speed_button = QtWidgets.QToolButton()
        self.speed_button.setText(speed_label(1.0))
        self.speed_button.setToolTip("Playback speed")
        self.speed_button.setAccessibleName("Speed")
        self.speed_button.clicked.connect(self.next_speed)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time)
        row.addWidget(self.speed_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def load(self, data: bytes, mime: str = "audio/ogg", title: str = "") -> None:
        """Get ready to play ``data`` (nothing is written to disk)."""
        super().load(data, mime)
        self.title.setText(title)
        self.title.setVisible(bool(title))

    def speed(self) -> float:
        return float(self.player.playbackRate())

    def next_speed(self) -> None:
        """1× → 1.5× → 2× → 1×."""
        now = self.speed()
        later = SPEEDS[(SPEEDS.index(now) + 1) % len(SPEEDS)] if now in SPEEDS else 1.0
        self.player.setPlaybackRate(later)
        self.speed_button.setText(speed_label(later))

    def _cannot_play(self) -> None:
        self.error.setText(self._cannot_play_text)
        self.error.show()  # the play button stays: a voice note Qt could not read may still be saved and opened


class VoicePopup(QtWidgets.QDialog):
    """The player as a small window beside the conversation, opened by a voice or audio bubble; "Save as…" writes
    the recording where the person chooses (the only way it reaches the disk)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Voice note")
        self.player = VoicePlayer(self)
        self.data = b""
        self.file_name = ""
        self.save_button = secondary_button("Save as…")  # Enter never saves a file by surprise
        self.save_button.clicked.connect(self.save_as)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.player)
        layout.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(380, 110)

    def load(self, data: bytes, mime: str, title: str, file_name: str) -> None:
        self.data, self.file_name = data, file_name
        self.player.load(data, mime, title)

    def save_as(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save recording as", self.file_name)
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> bool:
        file = QtCore.QSaveFile(path)
        if file.open(QtCore.QIODevice.OpenModeFlag.WriteOnly) and file.write(self.data) >= 0 and file.commit():
            return True
        self.player.error.setText("The recording could not be saved there.")
        self.player.error.show()
        return False

    def done(self, result: int) -> None:
        self.player.stop()
        super().done(result)
