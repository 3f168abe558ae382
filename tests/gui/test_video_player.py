"""Videos play inside the app from memory: a real H.264 MP4 (tests/support/video.py) goes through Qt Multimedia's
FFmpeg backend from a QBuffer onto a QVideoWidget, frames arrive and the position advances; pause holds; mute mutes;
bytes that are no video say so in a sentence."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore
from app.ui.widgets.video_player import CANNOT_PLAY, PosterFrames, VideoPlayer
from tests.support.video import VIDEO_LOG, clip

pytestmark = pytest.mark.qt_log_ignore(*VIDEO_LOG)


def make_player(qtbot: QtBot) -> VideoPlayer:
    widget = VideoPlayer()
    qtbot.addWidget(widget)
    widget.resize(320, 280)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_video_plays_from_memory_frames_arrive_and_the_position_advances(qtbot: QtBot) -> None:
    widget = make_player(qtbot)
    widget.load(clip(), "video/mp4")
    qtbot.waitUntil(lambda: widget.player.duration() > 1500, timeout=10000)
    assert widget.slider.maximum() == widget.player.duration()
    assert widget.time.text() == "0:00 / 0:02"
    qtbot.mouseClick(widget.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: widget.player.position() > 300, timeout=10000)
    assert widget.player.hasVideo()
    frame = widget.surface.videoSink().videoFrame()
    assert frame.isValid()
    assert frame.size() == QtCore.QSize(96, 72)  # decoded and on the surface
    assert widget.play_button.accessibleName() == "Pause"
    assert widget.slider.value() > 0
    widget.toggle()
    qtbot.waitUntil(lambda: widget.play_button.accessibleName() == "Play")
    held = widget.player.position()
    assert held > 300
    assert widget.error.isHidden()


def test_mute_and_the_keys(qtbot: QtBot) -> None:
    widget = make_player(qtbot)
    widget.load(clip())
    assert not widget.muted()
    qtbot.mouseClick(widget.mute_button, Qt.MouseButton.LeftButton)
    assert widget.muted()
    assert widget.mute_button.accessibleName() == "Unmute"
    qtbot.keyClick(widget, Qt.Key.Key_M)
    assert not widget.muted()
    assert widget.mute_button.text() == "🔊"
    qtbot.keyClick(widget, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: widget.play_button.accessibleName() == "Pause", timeout=10000)


def test_bytes_that_are_not_a_video_say_so(qtbot: QtBot) -> None:
    widget = make_player(qtbot)
    widget.load(b"this is not a video" * 20, "video/mp4")
    widget.play()
    qtbot.waitUntil(widget.error.isVisible, timeout=10000)
    assert widget.error.text() == CANNOT_PLAY
    assert "Save as" in CANNOT_PLAY
    assert not widget.play_button.isEnabled()


def test_a_video_without_a_poster_gets_its_first_frame_as_one(qtbot: QtBot) -> None:
    posters = PosterFrames()
    told: list[str] = []
    posters.ready.connect(told.append)
    posters.request("clip", clip(), "video/mp4")
    posters.request("clip", clip(), "video/mp4")  # asked once
    posters.request("junk", b"no video here" * 30, "video/mp4")
    qtbot.waitUntil(lambda: len(told) == 2, timeout=20000)
    assert told == ["clip", "junk"]
    poster = posters.posters["clip"]
    assert poster is not None
    assert poster.size() == QtCore.QSize(96, 72)
    assert posters.posters["junk"] is None
    assert posters.asked("clip")
    posters.request("again", clip(), "video/mp4")  # the player is fine after a video it could not read
    qtbot.waitUntil(lambda: len(told) == 3, timeout=20000)
    assert posters.posters["again"] is not None
    assert posters.player.playbackState() == posters.player.PlaybackState.StoppedState
