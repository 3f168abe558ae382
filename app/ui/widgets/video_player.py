"""Plays a video inside the app, from memory: the decrypted bytes go into a QBuffer that Qt Multimedia (its FFmpeg
backend decodes H.264/MPEG-4 in MP4, 3GP and QuickTime in software) reads, and the frames are drawn on a QVideoWidget
— never a temporary file. The media viewer shows it for a chat's videos.

Play/pause, a position slider (drag to seek), "0:03 / 0:12", and mute. When the bytes cannot be decoded the person
is told to use "Save as…" and another player; Qt's own error text (codec names, FFmpeg internals) is not shown.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from app.core.media import EXTENSIONS
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal, media_player, video_sink, video_widget
from app.ui.widgets.memory_player import MemoryPlayer

if TYPE_CHECKING:
    from app.qt import QtMultimedia

CANNOT_PLAY = "This video can't be played here — Save as… to open it in another player."


class VideoPlayer(MemoryPlayer):
    """One video at a time; ``load`` replaces what was loaded."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, default_suffix="mp4", cannot_play=CANNOT_PLAY)
        self.setObjectName("videoPlayer")
        self.surface = video_widget(self)
        self.surface.setMinimumSize(160, 120)
        self.surface.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.player.setVideoOutput(self.surface)
        self.mute_button = QtWidgets.QToolButton()
        self.mute_button.setCheckable(True)
        self.mute_button.setText("🔊")
        self.mute_button.setToolTip("Mute (M)")
        self.mute_button.setAccessibleName("Mute")
        self.mute_button.toggled.connect(self.set_muted)
        for control in (self.play_button, self.slider, self.mute_button):
            control.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and the arrows stay with the window
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time)
        row.addWidget(self.mute_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.error)
        layout.addLayout(row)

    def load(self, data: bytes, mime: str = "video/mp4") -> None:
        """Get ready to play ``data`` (nothing is written to disk)."""
        super().load(data, mime)

    def set_muted(self, muted: bool) -> None:
        self.output.setMuted(muted)
        if self.mute_button.isChecked() != muted:
            self.mute_button.setChecked(muted)
        self.mute_button.setText("🔇" if muted else "🔊")
        self.mute_button.setAccessibleName("Unmute" if muted else "Mute")
        self.mute_button.setToolTip("Unmute (M)" if muted else "Mute (M)")

    def muted(self) -> bool:
        return bool(self.output.isMuted())

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_M:
            self.set_muted(not self.muted())
        else:
            super().keyPressEvent(event)


POSTER_PX = 320  # the most a bubble shows of a picture (as the chat model's thumbnails)
POSTERS_KEPT = 120
POSTER_WAIT_MS = 8000  # a video whose first frame has not come by then gets no poster


class PosterFrames(QtCore.QObject):
    """Posters for videos that came without one (the page showed none, or it was not captured): the first frame,
    decoded from the bytes in memory, one video at a time, kept as a small pixmap for this session — never written
    anywhere. ``ready`` names the blob whose poster is known (or known to be impossible: None)."""

    ready = Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.posters: OrderedDict[str, QtGui.QPixmap | None] = OrderedDict()  # the last POSTERS_KEPT
        self._queue: list[tuple[str, bytes, str]] = []
        self._current: str | None = None
        self._buffer: QtCore.QBuffer | None = None
        self.player, self._output = media_player(self)
        self._output.setMuted(True)
        self._sink = video_sink(self)
        self.player.setVideoOutput(self._sink)
        self._sink.videoFrameChanged.connect(self._frame)
        self.player.errorOccurred.connect(lambda _e, _t: self._finish(None))
        self.player.mediaStatusChanged.connect(self._status)
        self._timer = QtCore.QTimer(self, singleShot=True, interval=POSTER_WAIT_MS)
        self._timer.timeout.connect(lambda: self._finish(None))

    def asked(self, blob_id: str) -> bool:
        """Known already, or on its way (its bytes need not be read again)."""
        return blob_id in self.posters or blob_id == self._current or any(b == blob_id for b, _d, _m in self._queue)

    def request(self, blob_id: str, data: bytes, mime: str) -> None:
        """Decode ``data``'s first frame when its turn comes (once per blob)."""
        if self.asked(blob_id):
            return
        self._queue.append((blob_id, data, mime))
        if self._current is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            return
        self._current, data, mime = self._queue.pop(0)
        self._buffer = QtCore.QBuffer(self)
        self._buffer.setData(QtCore.QByteArray(data))
        self._buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
        self.player.setSourceDevice(self._buffer, QtCore.QUrl(f"memory.{EXTENSIONS.get(mime, 'mp4')}"))
        self._timer.start()
        self.player.play()

    def _frame(self, frame: QtMultimedia.QVideoFrame) -> None:
        if self._current is None or not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():
            return
        if max(image.width(), image.height()) > POSTER_PX:
            image = image.scaled(
                POSTER_PX, POSTER_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        self._finish(QtGui.QPixmap.fromImage(image))

    def _status(self, status: QtMultimedia.QMediaPlayer.MediaStatus) -> None:
        if status in (self.player.MediaStatus.InvalidMedia, self.player.MediaStatus.EndOfMedia):
            self._finish(None)

    def _finish(self, poster: QtGui.QPixmap | None) -> None:
        blob_id, self._current = self._current, None
        if blob_id is None:
            return
        self._timer.stop()
        self.player.stop()
        self.player.setSource(QtCore.QUrl())
        if self._buffer is not None:
            self._buffer.close()
            self._buffer.deleteLater()
            self._buffer = None
        self.posters[blob_id] = poster
        while len(self.posters) > POSTERS_KEPT:
            self.posters.popitem(last=False)  # seen again later: decoded again
        self.ready.emit(blob_id)
        QtCore.QTimer.singleShot(0, self._next)  # not from inside the player's own signal
