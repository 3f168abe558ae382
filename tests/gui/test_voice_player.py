"""Voice notes play inside the app from memory: a real OGG/Opus file (made in memory, tests/support/ogg_opus.py) goes
through Qt Multimedia's FFmpeg backend and the position advances; pause holds; speed steps 1× → 1.5× → 2× → 1×."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.qt import Qt
from app.ui.widgets.voice_player import VoicePlayer
from tests.support.ogg_opus import silent_ogg_opus

# The test machines have no sound server: Qt Multimedia says so, then plays against its null output (the clock runs).
# Its backend also reports what it cannot load (PipeWire, VA-API) and, for the bytes that are no audio, FFmpeg's error.
pytestmark = pytest.mark.qt_log_ignore(
    "^PulseAudioService: pa_context_connect\\(\\) failed",
    "^No audio device detected",
    "^Couldn't (load|resolve) ",
    "^Could not open media",
)


def test_a_voice_note_plays_from_memory_and_its_position_advances(qtbot: QtBot) -> None:
    widget = VoicePlayer()
    qtbot.addWidget(widget)
    widget.show()
    widget.load(silent_ogg_opus(3.0), "audio/ogg", "Voice note 0:03")
    qtbot.waitUntil(lambda: widget.player.duration() > 2500, timeout=10000)
    assert widget.slider.maximum() == widget.player.duration()
    qtbot.mouseClick(widget.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: widget.player.position() > 300, timeout=10000)
    assert widget.play_button.accessibleName() == "Pause"
    assert widget.slider.value() > 0
    assert widget.time.text().endswith("/ 0:03")
    widget.toggle()
    qtbot.waitUntil(lambda: widget.play_button.accessibleName() == "Play")
    held = widget.player.position()
    assert held > 300
    assert widget.error.isHidden()


def test_speed_steps_through_whatsapps_three(qtbot: QtBot) -> None:
    widget = VoicePlayer()
    qtbot.addWidget(widget)
    widget.load(silent_ogg_opus(1.0))
    assert widget.speed() == 1.0
    widget.speed_button.click()
    assert widget.speed() == 1.5
    assert widget.speed_button.text() == "1.5×"
    widget.speed_button.click()
    assert widget.speed() == 2.0
    widget.speed_button.click()
    assert widget.speed() == 1.0
    assert widget.speed_button.text() == "1×"


def test_bytes_that_are_not_audio_say_so(qtbot: QtBot) -> None:
    widget = VoicePlayer()
    qtbot.addWidget(widget)
    widget.show()
    widget.load(b"this is not a recording" * 10, "audio/ogg")
    widget.play()
    qtbot.waitUntil(widget.error.isVisible, timeout=10000)
    assert "cannot be played here" in widget.error.text()
