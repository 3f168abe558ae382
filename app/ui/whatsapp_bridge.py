"""The UI's end of the WhatsApp connection: status snapshots in, commands out.

The supervisor runs on its own thread and calls ``publish`` with a new ``WhatsAppStatus`` whenever something
changes. ``publish`` only emits a signal; Qt queues it to the thread the bridge lives on (the main thread), so
pages listening to ``status_changed`` touch their widgets on the main thread only (house rule 3). Snapshots are
immutable, so handing one across threads needs no lock.

Commands go the other way through ``attach``-ed ``WhatsAppControl`` (thread-safe, returns at once). Until a
supervisor is attached — a workspace without WhatsApp, a test — every command is a logged no-op.
"""

from __future__ import annotations

import concurrent.futures
import logging

from app.qt import QtCore, Signal
from app.whatsapp.status import WhatsAppControl, WhatsAppStatus

log = logging.getLogger(__name__)


class WhatsAppBridge(QtCore.QObject):
    status_changed = Signal(object)  # WhatsAppStatus, on the main thread
    control_changed = Signal()
    media_fetched = Signal(str, str)  # message id, the state its media ended in (or "error"), on the main thread
    _published = Signal(object)  # any thread → the bridge's thread
    _fetched = Signal(str, str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._status = WhatsAppStatus()
        self._control: WhatsAppControl | None = None
        self._closed = False
        self._published.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        self._fetched.connect(self.media_fetched, QtCore.Qt.ConnectionType.QueuedConnection)

    # ---- status ----------------------------------------------------------------------------------------------
    @property
    def status(self) -> WhatsAppStatus:
        """The last snapshot delivered on the main thread (a stopped, empty one before the first)."""
        return self._status

    def publish(self, status: WhatsAppStatus) -> None:
        """Hand over a new snapshot; callable from any thread (the supervisor's ``on_status``)."""
        self._published.emit(status)

    def _deliver(self, status: WhatsAppStatus) -> None:
        if self._closed:  # queued before close; the pages' workspace may be closed by now
            return
        self._status = status
        self.status_changed.emit(status)

    def close(self) -> None:
        """Detach at quit, after the service stopped: snapshots still queued for the main thread are dropped."""
        self._closed = True
        self.attach(None)

    # ---- commands --------------------------------------------------------------------------------------------
    @property
    def control(self) -> WhatsAppControl | None:
        return self._control

    def attach(self, control: WhatsAppControl | None) -> None:
        """Route commands to ``control`` (the supervisor); ``None`` detaches it (the workspace closes)."""
        self._control = control
        self.control_changed.emit()

    def connect_whatsapp(self) -> None:
        self._command("connect")

    def disconnect_whatsapp(self) -> None:
        self._command("disconnect")

    def restart(self) -> None:
        self._command("restart")

    def queue_changed(self) -> None:
        self._command("queue_changed")

    def fetch_media(self, message_id: str) -> bool:
        """Ask WhatsApp for a received message's media again ("click to fetch"); ``media_fetched`` tells the
        state it ends in. False when no WhatsApp service is running to ask."""
        control = self._control
        if control is None:
            return False
        try:
            future = control.fetch_media(message_id)
        except Exception:  # the service closed meanwhile (LoopClosed) or refused: nothing is running to ask
            log.info("WhatsApp media fetch not started", exc_info=True)
            return False

        def done(f: concurrent.futures.Future[str]) -> None:
            error = None if f.cancelled() else f.exception()
            if error is not None:
                log.warning("fetching a message's media failed: %s", type(error).__name__)
            self._fetched.emit(message_id, "error" if f.cancelled() or error is not None else f.result())

        future.add_done_callback(done)
        return True

    def _command(self, name: str) -> None:
        control = self._control
        if control is None:
            log.info("WhatsApp %s ignored: no WhatsApp service is attached", name)
            return
        try:
            getattr(control, name)()
        except Exception:  # the control is meant to return at once; a bug in it must not take a page down
            log.exception("WhatsApp %s failed", name)
