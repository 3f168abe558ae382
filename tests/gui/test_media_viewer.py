"""The photo viewer: zoom with the wheel and +/-, fit, previous/next within the chat, Esc closes, Save as… writes
the bytes where chosen (the only way they reach the disk)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.widgets.media_viewer import ZOOM_STEP, MediaViewer, Viewable
from tests.support.video import VIDEO_LOG, clip


def png(width: int, height: int, color: str) -> bytes:
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(color))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


PHOTOS = {"m1": png(1600, 1200, "#e76f51"), "m2": png(300, 200, "#2a9d8f"), "m3": png(640, 480, "#264653")}


def make_viewer(qtbot: QtBot, start: int = 0) -> MediaViewer:
    items = [Viewable(key, f"Photo {key}", f"{key}.png", "image/png") for key in PHOTOS]
    viewer = MediaViewer(items, lambda item: PHOTOS[item.key], start=start)
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.fit()
    return viewer


def wheel(widget: QtWidgets.QWidget, steps: int) -> None:
    center = QtCore.QPointF(widget.rect().center())
    event = QtGui.QWheelEvent(
        center,
        widget.mapToGlobal(center),
        QtCore.QPoint(),
        QtCore.QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def test_zoom_with_keys_and_wheel_then_fit(qtbot: QtBot) -> None:
    viewer = make_viewer(qtbot)
    fitted = viewer.zoom
    assert fitted < 1  # 1600×1200 fitted into the window
    assert viewer.canvas.width() <= viewer.area.viewport().width()
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.zoom == fitted * ZOOM_STEP
    assert viewer.canvas.width() > viewer.area.viewport().width() * 0.9
    wheel(viewer.area.viewport(), 2)
    assert abs(viewer.zoom - fitted * ZOOM_STEP**3) < 1e-9
    wheel(viewer.area.viewport(), -1)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert abs(viewer.zoom - fitted * ZOOM_STEP) < 1e-9
    qtbot.keyClick(viewer, Qt.Key.Key_0)
    assert viewer.zoom == fitted
    assert viewer.fitting


def test_next_and_previous_within_the_chat_and_escape_closes(qtbot: QtBot) -> None:
    viewer = make_viewer(qtbot, start=1)
    assert viewer.current() is not None
    assert viewer.position.text() == "2 of 3"
    assert viewer.image.size() == QtCore.QSize(300, 200)
    assert viewer.zoom == 1.0  # a small photo is not enlarged to fit
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.image.size() == QtCore.QSize(640, 480)
    assert viewer.caption.text() == "Photo m3"
    assert not viewer.next.isEnabled()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.index == 2
    qtbot.mouseClick(viewer.previous, Qt.MouseButton.LeftButton)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.index == 0
    assert not viewer.previous.isEnabled()
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()


def test_save_as_writes_the_photo_where_chosen(qtbot: QtBot, tmp_path: Path) -> None:
    viewer = make_viewer(qtbot, start=2)
    target = tmp_path / "chosen.png"
    assert viewer.save_to(str(target))
    assert target.read_bytes() == PHOTOS["m3"]
    assert not viewer.save_to(str(tmp_path / "no such folder" / "x.png"))
    assert viewer.refusal.text() == "The photo could not be saved there."


@pytest.mark.qt_log_ignore(*VIDEO_LOG)
def test_a_video_in_the_chat_plays_in_the_viewer_and_stops_when_left(qtbot: QtBot, tmp_path: Path) -> None:
    items = [
        Viewable("m1", "Photo m1", "m1.png", "image/png"),
        Viewable("v1", "Video 0:02 — Unboxing", "Video 2026-12-07 17.17.mp4", "video/mp4", "video"),
    ]
    data = {"m1": PHOTOS["m1"], "v1": clip()}
    viewer = MediaViewer(items, lambda item: data[item.key], start=1)
    qtbot.addWidget(viewer)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.windowTitle() == "Video"
    assert viewer.playing_video()
    video = viewer.video
    assert video is not None
    qtbot.waitUntil(lambda: video.player.position() > 300, timeout=10000)
    assert video.surface.videoSink().videoFrame().isValid()
    qtbot.keyClick(viewer, Qt.Key.Key_Space)  # pause
    qtbot.waitUntil(lambda: video.play_button.accessibleName() == "Play")
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert video.muted()
    assert viewer.save_to(str(tmp_path / "kept.mp4"))
    assert (tmp_path / "kept.mp4").read_bytes() == clip()
    qtbot.keyClick(viewer, Qt.Key.Key_Left)  # back to the photo: the video stops and lets go of its bytes
    assert not viewer.playing_video()
    assert viewer.windowTitle() == "Photo"
    assert video.buffer is None
    assert video.player.playbackState() == video.player.PlaybackState.StoppedState
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.playing_video()
    qtbot.waitUntil(lambda: video.play_button.accessibleName() == "Pause", timeout=10000)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)  # closing stops it
    assert video.player.playbackState() == video.player.PlaybackState.StoppedState


@pytest.mark.qt_log_ignore(*VIDEO_LOG)
def test_a_video_that_cannot_be_played_says_to_save_it(qtbot: QtBot) -> None:
    items = [Viewable("v1", "Video", "v1.mp4", "video/mp4", "video")]
    viewer = MediaViewer(items, lambda item: b"not a video at all" * 40)
    qtbot.addWidget(viewer)
    viewer.show()
    video = viewer.video
    assert video is not None
    qtbot.waitUntil(video.error.isVisible, timeout=10000)
    assert video.error.text() == "This video can't be played here — Save as… to open it in another player."
    assert viewer.save_button.isEnabled()
