"""Part of ``make screenshots``: team media with two real Parley apps on one sync server.

A private PostgreSQL cluster and the real sync server; an owner's workspace (app A) and an invited member's (app B),
each a real ``python -m app`` process on an Xvfb screen of its own. A sent a customer a photo; B opens that chat and
sees "On a teammate's computer — Media sharing is off" (the owner's switch is off by default). Then the owner turns
media sharing on (the same server call as Settings › Team › Media sharing) and B's open chat shows the photo by
itself: A uploads it, B downloads it, nothing is clicked on B. Each screen is grabbed from its X server.
Output: ``build/screenshots/team-media-<nn>-<screen>.png``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.ids import utc_now  # noqa: E402
from app.qt import QtCore, QtGui, QtWidgets  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.ops.media import queue_media  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.sync.credentials import EMAIL  # noqa: E402
from app.thumbnails import make_thumbnail  # noqa: E402
from bench.two_apps_bench import App, Display, PathKeyring, wait  # noqa: E402
from sync_server.pgcluster import Cluster  # noqa: E402
from tests.support.sync_fixtures import PASSWORD  # noqa: E402
from tests.support.sync_server import ServerProcess, fresh_database  # noqa: E402
from tests.sync.clients import join, owner_client  # noqa: E402

PHOTO_BLUE = "#2a7ab0"


def photo() -> bytes:
    """A shop photo made in memory (a JPEG of a coloured card with the product's name and price)."""
    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["shots", "-platform", "offscreen"])
    image = QtGui.QImage(800, 600, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(PHOTO_BLUE))
    painter = QtGui.QPainter(image)
    painter.setPen(QtGui.QColor("white"))
    font = painter.font()
    font.setPointSize(48)
    painter.setFont(font)
    painter.drawText(image.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "Blue jacket\n59 €")
    painter.end()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG", 85)
    return bytes(buffer.data().data())


def shows_photo(screen: QtGui.QImage) -> bool:
    """Whether the screen shows the photo (a block of its blue, sampled every 8 px), not the placeholder."""
    blue = QtGui.QColor(PHOTO_BLUE)
    hits = 0
    for y in range(0, screen.height(), 8):
        for x in range(0, screen.width(), 8):
            c = screen.pixelColor(x, y)
            hits += abs(c.red() - blue.red()) + abs(c.green() - blue.green()) + abs(c.blue() - blue.blue()) < 30
    return hits > 300


GRAB = (
    "import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication(sys.argv[:1]); "
    "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)"
)


def grab(display: Display, path: Path, *, quiet: bool = False) -> None:
    """The whole X screen of ``display``, by Qt in a process of its own on that screen (no ImageMagick needed)."""
    env = dict(os.environ, DISPLAY=f":{display.number}", QT_QPA_PLATFORM="xcb")
    subprocess.run([sys.executable, "-c", GRAB, str(path)], env=env, check=True, capture_output=True)
    if not quiet:
        print(path, flush=True)


def main() -> int:
    if shutil.which("Xvfb") is None:
        print("team_media_shots: needs Xvfb (make system-deps)", file=sys.stderr)
        return 1
    out = ROOT / "build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parley-team-media-") as tmp:
        root = Path(tmp)
        cluster = Cluster.ensure(root / "pg")
        server = ServerProcess(fresh_database(cluster, "teammedia"), root / "server.log").start()
        apps: list[App] = []
        displays: list[Display] = []
        try:
            home_a, home_b = root / "a" / "home", root / "b" / "home"
            keyring_a, keyring_b = root / "a" / "keyring.json", root / "b" / "keyring.json"
            for folder in (home_a, home_b):
                folder.parent.mkdir(parents=True)
            thumbs = {"thumbnailer": make_thumbnail}
            owner = owner_client(
                Workspaces(home_a, KeyringVault(PathKeyring(keyring_a)), **thumbs), server.url, business="Lumen"
            )
            store = owner.store
            customer = store.contacts.create(name="Maria Santos", phone="+5511990000001")
            chat = store.chats.create(contact_id=customer.id, title="Maria Santos")
            store.messages.create(
                chat_id=chat.id, direction="in", body="Do you have the blue jacket in M?", sent_at=utc_now()
            )
            queue_media(store, chat.id, [("jacket.jpg", photo(), "image/jpeg", "Here it is — size M, 59 €")])
            owner.sync()
            email = store.meta(EMAIL)  # the owner's sign-in, to turn media sharing on as Settings › Team does
            workspaces_b = Workspaces(home_b, KeyringVault(PathKeyring(keyring_b)), **thumbs)
            member = join(workspaces_b, server.url, owner.invite())
            member.store.close()
            store.close()

            key = secrets.token_hex(16)
            for name, home, keyring in (("A", home_a, keyring_a), ("B", home_b, keyring_b)):
                display = Display()
                displays.append(display)
                app = App(name, home, keyring, root / name.lower() / "probe", key, display)
                apps.append(app)
                app.start()
            b = apps[1]
            for app in apps:
                wait(apps, lambda app=app: app.find("ready"), 90, f"app {app.name} ready")
                wait(apps, lambda app=app: app.find("sync", state="synced"), 90, f"app {app.name} synced")
            ident = b.send("show", section="inbox", chat_id=chat.id)
            wait(apps, lambda: b.find("done", id=ident), 60, "B opening the chat")
            time.sleep(3)  # the page's first paints and the media pass's first look at the server
            grab(displays[1], out / "team-media-01-teammate-sharing-off.png")

            with httpx.Client(base_url=server.url, timeout=30) as http:
                login = {"email": email, "password": PASSWORD, "device_name": "owner phone"}
                token = http.post("/api/auth/login", json=login).raise_for_status().json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                http.put("/api/media/settings", json={"enabled": True}, headers=headers).raise_for_status()

                def uploaded() -> bool:
                    used = http.get("/api/media/settings", headers=headers).json()["used_bytes"]
                    return bool(used)

                wait(apps, uploaded, 90, "A uploading the photo")
            probe = root / "b-screen.png"

            def photo_on_screen() -> bool:
                grab(displays[1], probe, quiet=True)
                return shows_photo(QtGui.QImage(str(probe)))

            wait(apps, photo_on_screen, 90, "B showing the photo")
            grab(displays[1], out / "team-media-02-teammate-photo-arrived.png")
            return 0
        finally:
            for app in apps:
                app.stop()
            for display in displays:
                display.stop()
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
