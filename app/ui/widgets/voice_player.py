"""Plays a voice note or audio inside the app, from memory: the decrypted bytes go into a QBuffer that Qt Multimedia
(its FFmpeg backend decodes OGG/Opus, MP3, AAC, WAV) reads — never a temporary file.

Play/pause, a position slider (drag to seek), "0:03 / 0:12", and the speed WhatsApp offers: 1×, 1.5×, 2×.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.media import clock
from app.qt import Qt, QtCore, QtGui, QtWidgets, media_player
from app.ui.kit import secondary_button

if TYPE_CHECKING:
    from app.qt import QtMultimedia

SPEEDS = (1.0, 1.5, 2.0)
SUFFIX = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/webm": "webm",
}


def speed_label(speed: float) -> str:
    return f"{speed:g}×"


class VoicePlayer(QtWidgets.QFrame):
    """One note at a time; ``load`` replaces what was loaded."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("voicePlayer")
        self.player, self.output = media_player(self)
        self.buffer: QtCore.QBuffer | None = None
        self.title = QtWidgets.QLabel()
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play (Space)")
        self.play_button.setAccessibleName("Play")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle)
        self.slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Position")
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(self.player.setPosition)
        self.time = QtWidgets.QLabel("0:00")
        self.time.setObjectName("muted")
        self.speed_button = QtWidgets.QToolButton()
        self.speed_button.setText(speed_label(1.0))
        self.speed_button.setToolTip("Playback speed")
        self.speed_button.setAccessibleName("Speed")
        self.speed_button.clicked.connect(self.next_speed)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.hide()
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
        self.player.positionChanged.connect(self._position)
        self.player.durationChanged.connect(self._duration)
        self.player.playbackStateChanged.connect(self._state)
        self.player.errorOccurred.connect(self._failed)

    def load(self, data: bytes, mime: str = "audio/ogg", title: str = "") -> None:
        """Get ready to play ``data`` (nothing is written to disk)."""
        self.player.stop()
        self.player.setSource(QtCore.QUrl())
        old, self.buffer = self.buffer, QtCore.QBuffer(self)
        self.buffer.setData(QtCore.QByteArray(data))
        self.buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
        # The URL only hints at the format; nothing is read from it.
        self.player.setSourceDevice(self.buffer, QtCore.QUrl(f"memory.{SUFFIX.get(mime, 'ogg')}"))
        if old is not None:
            old.close()
            old.deleteLater()
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.error.hide()
        self.play_button.setEnabled(True)

    def play(self) -> None:
        self.player.play()

    def toggle(self) -> None:
        if self.player.playbackState() == self.player.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def speed(self) -> float:
        return float(self.player.playbackRate())

    def next_speed(self) -> None:
        """1× → 1.5× → 2× → 1×."""
        now = self.speed()
        later = SPEEDS[(SPEEDS.index(now) + 1) % len(SPEEDS)] if now in SPEEDS else 1.0
        self.player.setPlaybackRate(later)
        self.speed_button.setText(speed_label(later))

    def stop(self) -> None:
        self.player.stop()

    def _position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time.setText(f"{clock(ms / 1000)} / {clock(self.player.duration() / 1000)}")

    def _duration(self, ms: int) -> None:
        self.slider.setRange(0, ms)
        self._position(self.player.position())

    def _state(self, state: QtMultimedia.QMediaPlayer.PlaybackState) -> None:
        playing = state == self.player.PlaybackState.PlayingState
        self.play_button.setText("⏸" if playing else "▶")
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def _failed(self, _error: QtMultimedia.QMediaPlayer.Error, _text: str) -> None:
        # Qt's text names codecs and internals; the person needs to know it cannot be played here.
        self.error.setText("This recording cannot be played here. Use Save as… to open it in another app.")
        self.error.show()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.toggle()
            return
        super().keyPressEvent(event)


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
