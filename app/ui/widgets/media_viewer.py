"""A chat's photos and videos, one at a time, from memory: zoom (wheel, +/-), fit to the window (0 or F), previous
and next within the chat (←/→), Esc closes; a video plays in the window (``app.ui.widgets.video_player``: Space
plays and pauses, M mutes). "Save as…" is the only way a decrypted file reaches the disk, and only where the person
chose.

The viewer is given the chat's viewable items and a ``load`` that returns an item's bytes (the full image, or its
thumbnail while the full one is not here); it decodes them with QImage in memory, and a video's with Qt Multimedia
from a QBuffer (never a temporary file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.kit import secondary_button

if TYPE_CHECKING:
    from app.ui.widgets.video_player import VideoPlayer

ZOOM_STEP = 1.25
ZOOM_MIN = 0.05
ZOOM_MAX = 16.0


@dataclass(frozen=True)
class Viewable:
    """One photo, sticker or video of the chat."""

    key: str  # the message id
    title: str  # "Photo — caption"
    file_name: str  # suggested to "Save as…"
    mime: str
    kind: str = "image"  # "image", "sticker" or "video"

    @property
    def is_video(self) -> bool:
        return self.kind == "video" or self.mime.startswith("video/")

    @property
    def noun(self) -> str:
        return {"video": "video", "sticker": "sticker"}.get("video" if self.is_video else self.kind, "photo")


class MediaViewer(QtWidgets.QDialog):
    def __init__(
        self,
        items: Sequence[Viewable],
        load: Callable[[Viewable], bytes | None],
        start: int = 0,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Photo")
        self.items = list(items)
        self.load = load
        self.index = -1
        self.zoom = 1.0
        self.fitting = True
        self.image = QtGui.QImage()
        self.data: bytes | None = None
        self.video: VideoPlayer | None = None  # made when the first video is shown (Qt Multimedia loads then)
        self.canvas = QtWidgets.QLabel()
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area = QtWidgets.QScrollArea()
        self.area.setWidget(self.canvas)
        self.area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.setWidgetResizable(False)
        self.area.viewport().installEventFilter(self)
        self.area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows go to previous/next, not to scrolling
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.position = QtWidgets.QLabel()
        self.position.setObjectName("muted")
        self.previous = QtWidgets.QToolButton()
        self.previous.setText("←")
        self.previous.setToolTip("Previous (←)")
        self.previous.clicked.connect(lambda: self.go(self.index - 1))
        self.next = QtWidgets.QToolButton()
        self.next.setText("→")
        self.next.setToolTip("Next (→)")
        self.next.clicked.connect(lambda: self.go(self.index + 1))
        self.zoom_controls: list[QtWidgets.QWidget] = []
        zoom_out = QtWidgets.QToolButton()
        zoom_out.setText("−")
        zoom_out.setToolTip("Zoom out (-)")
        zoom_out.clicked.connect(lambda: self.zoom_by(1 / ZOOM_STEP))
        zoom_in = QtWidgets.QToolButton()
        zoom_in.setText("+")
        zoom_in.setToolTip("Zoom in (+)")
        zoom_in.clicked.connect(lambda: self.zoom_by(ZOOM_STEP))
        fit = QtWidgets.QToolButton()
        fit.setText("Fit")
        fit.setToolTip("Fit to the window (0)")
        fit.clicked.connect(self.fit)
        self.zoom_controls = [zoom_out, zoom_in, fit]
        self.save_button = secondary_button("Save as…")  # Enter never saves a file by surprise
        self.save_button.setToolTip("Save a copy where you choose (Ctrl+S)")
        self.save_button.clicked.connect(self.save_as)
        self.refusal = QtWidgets.QLabel()
        self.refusal.setObjectName("error")
        self.refusal.hide()
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.previous)
        bar.addWidget(self.position)
        bar.addWidget(self.next)
        bar.addSpacing(12)
        bar.addWidget(zoom_out)
        bar.addWidget(zoom_in)
        bar.addWidget(fit)
        bar.addStretch(1)
        bar.addWidget(self.refusal)
        bar.addWidget(self.save_button)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.area)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.caption)
        layout.addLayout(bar)
        QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Save, self, self.save_as)
        self.resize(900, 680)
        self.go(start)

    # ---- moving ----------------------------------------------------------------------------------------------
    def go(self, index: int) -> None:
        """Show the item at ``index`` (kept within the chat's photos and videos): a photo fitted to the window, a
        video playing (its poster while only the poster is here)."""
        if not self.items:
            return
        index = max(0, min(len(self.items) - 1, index))
        item = self.items[index]
        self.index = index
        self.data = self.load(item)
        self.image = QtGui.QImage.fromData(self.data) if self.data else QtGui.QImage()
        playing = item.is_video and self.data is not None and self.image.isNull()
        if playing and self.data is not None:
            self._play(self.data, item.mime)
        else:
            if self.video is not None:
                self.video.unload()
            self.stack.setCurrentWidget(self.area)
        for control in self.zoom_controls:
            control.setEnabled(not playing)
        self.setWindowTitle(item.noun.capitalize())
        self.caption.setText(item.title)
        self.position.setText(f"{index + 1} of {len(self.items)}")
        self.previous.setEnabled(index > 0)
        self.next.setEnabled(index < len(self.items) - 1)
        self.save_button.setEnabled(self.data is not None)
        self.refusal.hide()
        if self.image.isNull():
            self.canvas.setPixmap(QtGui.QPixmap())
            self.canvas.setText(f"This {item.noun} is not here yet.")
            self.canvas.adjustSize()
        self.fit()

    def _play(self, data: bytes, mime: str) -> None:
        from app.ui.widgets.video_player import VideoPlayer  # Qt Multimedia only once a video is shown

        if self.video is None:
            self.video = VideoPlayer(self)
            self.stack.addWidget(self.video)
        self.stack.setCurrentWidget(self.video)
        self.video.load(data, mime or "video/mp4")
        self.video.play()

    def playing_video(self) -> bool:
        return self.video is not None and self.stack.currentWidget() is self.video

    def current(self) -> Viewable | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    # ---- zoom ------------------------------------------------------------------------------------------------
    def fit(self) -> None:
        """The whole photo in the window (never enlarged past its own size)."""
        self.fitting = True
        if self.image.isNull():
            return
        room = self.area.viewport().size()
        scale = min(room.width() / self.image.width(), room.height() / self.image.height(), 1.0)
        self._show(max(ZOOM_MIN, scale))

    def zoom_by(self, factor: float) -> None:
        self.fitting = False
        self._show(max(ZOOM_MIN, min(ZOOM_MAX, self.zoom * factor)))

    def _show(self, zoom: float) -> None:
        self.zoom = zoom
        if self.image.isNull():
            return
        size = self.image.size() * zoom
        pixmap = QtGui.QPixmap.fromImage(
            self.image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )
        self.canvas.setPixmap(pixmap)
        self.canvas.resize(pixmap.size())

    # ---- saving ----------------------------------------------------------------------------------------------
    def save_as(self) -> None:
        item = self.current()
        if item is None or self.data is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Save {item.noun} as", item.file_name)
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Write the item's bytes to ``path``, chosen by the person (Save as…)."""
        item = self.current()
        if self.data is None or item is None:
            return False
        file = QtCore.QSaveFile(path)
        if not (file.open(QtCore.QIODevice.OpenModeFlag.WriteOnly) and file.write(self.data) >= 0 and file.commit()):
            self.refusal.setText(f"The {item.noun} could not be saved there.")
            self.refusal.show()
            return False
        return True

    # ---- input -----------------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if self.video is not None and self.playing_video() and key in (Qt.Key.Key_Space, Qt.Key.Key_M):
            self.video.keyPressEvent(event)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif key in (Qt.Key.Key_0, Qt.Key.Key_F):
            self.fit()
        elif key == Qt.Key.Key_Left:
            self.go(self.index - 1)
        elif key == Qt.Key.Key_Right:
            self.go(self.index + 1)
        else:
            super().keyPressEvent(event)  # Esc closes

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Wheel and isinstance(event, QtGui.QWheelEvent):
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_by(ZOOM_STEP**steps)
            return True
        return False

    def done(self, result: int) -> None:
        if self.video is not None:
            self.video.unload()
        super().done(result)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitting:
            self.fit()
