"""What the voice-note and video players share: a QMediaPlayer reading decrypted bytes from a QBuffer (never a
temporary file), a play/pause button, a position slider (drag to seek) and "0:03 / 0:12", and one sentence when
the bytes cannot be played. ``VoicePlayer`` adds the speed, ``VideoPlayer`` the picture and mute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.media import EXTENSIONS, clock
from app.qt import Qt, QtCore, QtGui, QtWidgets, media_player

if TYPE_CHECKING:
    from app.qt import QtMultimedia


class MemoryPlayer(QtWidgets.QFrame):
    """One recording at a time; ``load`` replaces what was loaded. Qt's FFmpeg backend takes the format hint from the
    suffix of a URL it never reads (``EXTENSIONS``; ``default_suffix`` for a MIME type not in it)."""

    def __init__(self, parent: QtWidgets.QWidget | None, *, default_suffix: str, cannot_play: str) -> None:
        super().__init__(parent)
        self._default_suffix, self._cannot_play_text = default_suffix, cannot_play
        self.player, self.output = media_player(self)
        self.buffer: QtCore.QBuffer | None = None
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
        self.time = QtWidgets.QLabel("0:00 / 0:00")
        self.time.setObjectName("muted")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.player.positionChanged.connect(self._position)
        self.player.durationChanged.connect(self._duration)
        self.player.playbackStateChanged.connect(self._state)
        self.player.errorOccurred.connect(self._failed)
        self.player.mediaStatusChanged.connect(self._status)

    def load(self, data: bytes, mime: str) -> None:
        """Get ready to play ``data`` (nothing is written to disk)."""
        self.player.stop()
        self.player.setSource(QtCore.QUrl())
        old, self.buffer = self.buffer, QtCore.QBuffer(self)
        self.buffer.setData(QtCore.QByteArray(data))
        self.buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
        suffix = EXTENSIONS.get(mime, self._default_suffix)
        self.player.setSourceDevice(self.buffer, QtCore.QUrl(f"memory.{suffix}"))
        if old is not None:
            old.close()
            old.deleteLater()
        self.error.hide()
        self.play_button.setEnabled(True)

    def unload(self) -> None:
        """Stop and let go of the bytes."""
        self.player.stop()
        self.player.setSource(QtCore.QUrl())
        if self.buffer is not None:
            self.buffer.close()
            self.buffer.deleteLater()
            self.buffer = None
        self.play_button.setEnabled(False)

    def play(self) -> None:
        self.player.play()

    def toggle(self) -> None:
        if self.player.playbackState() == self.player.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

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

    def _status(self, status: QtMultimedia.QMediaPlayer.MediaStatus) -> None:
        if status == self.player.MediaStatus.InvalidMedia:
            self._cannot_play()

    def _failed(self, _error: QtMultimedia.QMediaPlayer.Error, _text: str) -> None:
        self._cannot_play()  # Qt's text names codecs and internals; a person needs to know it cannot play here

    def _cannot_play(self) -> None:
        self.error.setText(self._cannot_play_text)
        self.error.show()
        self.play_button.setEnabled(False)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.toggle()
            return
        super().keyPressEvent(event)
