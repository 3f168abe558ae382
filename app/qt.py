"""The one module that imports PySide6 (house rule 2). Everything else imports Qt from here."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

os.environ.setdefault("QT_API", "pyside6")

import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

if TYPE_CHECKING:
    from PySide6 import QtMultimedia as QtMultimedia
    from PySide6 import QtMultimediaWidgets as QtMultimediaWidgets

__all__ = [
    "Qt",
    "QtCore",
    "QtGui",
    "QtWidgets",
    "Signal",
    "Slot",
    "is_alive",
    "media_player",
    "video_sink",
    "video_widget",
]


def media_player(
    parent: QtCore.QObject,
) -> tuple[QtMultimedia.QMediaPlayer, QtMultimedia.QAudioOutput]:
    """A media player with its audio output. Qt Multimedia is imported on first use, not at start-up: it costs
    ~16 ms and its backend probes (PipeWire, VA-API) print warnings that only matter once something plays."""
    from PySide6 import QtMultimedia as QtMultimedia

    player = QtMultimedia.QMediaPlayer(parent)
    output = QtMultimedia.QAudioOutput(parent)
    player.setAudioOutput(output)
    return player, output


def video_widget(parent: QtWidgets.QWidget | None = None) -> QtMultimediaWidgets.QVideoWidget:
    """A surface a media player draws video on (imported on first use, like ``media_player``)."""
    from PySide6 import QtMultimediaWidgets as QtMultimediaWidgets

    return QtMultimediaWidgets.QVideoWidget(parent)


def video_sink(parent: QtCore.QObject | None = None) -> QtMultimedia.QVideoSink:
    """Where a media player hands its decoded frames when nothing shows them (a poster taken from a video)."""
    from PySide6 import QtMultimedia as QtMultimedia

    return QtMultimedia.QVideoSink(parent)


def is_alive(obj: QtCore.QObject) -> bool:
    """False once Qt has deleted the C++ object behind ``obj`` (e.g. a dialog closed with WA_DeleteOnClose)."""
    return shiboken6.isValid(obj)
