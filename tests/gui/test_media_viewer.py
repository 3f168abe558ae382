"""The photo viewer: zoom with the wheel and +/-, fit, previous/next within the chat, Esc closes, Save as… writes
the bytes where chosen (the only way they reach the disk)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.widgets.media_viewer import ZOOM_STEP, MediaViewer, Viewable


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
