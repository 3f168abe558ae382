"""Part of ``make screenshots``: the app connected for real — the WhatsApp service, headless Chromium, the imitation.

Nothing here is a canned status: a fresh workspace opens in the real main window, the real ``WhatsAppHost`` starts
Chromium against the local WhatsApp Web imitation, the QR code it shows is the one captured from the page, the
"phone" scans it, customers' messages arrive through the page into the encrypted store, and a reply typed in the
composer goes out through the sender and comes back delivered and read. Output:
``build/screenshots/live-<nn>-<screen>.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bootstrap import build_context, start_whatsapp  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.keys import KdfParams  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.ui import theme  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.inbox import InboxPage  # noqa: E402
from app.ui.sections import SECTIONS  # noqa: E402
from app.ui.startup import OpenWorkspace  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from app.whatsapp.status import ConnectionState  # noqa: E402
from scripts.screenshots import grab, settle, start_shots, wait_for  # noqa: E402
from tests.whatsapp.imitation_server import ImitationConfig, ImitationServer  # noqa: E402

CUSTOMERS = [
    ("6590000001", "Amelia Tan", ["Hi! Is the blue linen dress still available in size M?", "I can pick it up today"]),
    ("6590000002", "Ravi Kumar", ["Can you send me the price list please?"]),
    ("4915112345678", "Jonas Becker", ["Danke, das Paket ist heute angekommen 😊"]),
]


def main() -> int:
    _args, out, app = start_shots()
    from keyring.backends import null

    with tempfile.TemporaryDirectory(prefix="parley-live-") as tmp, ImitationServer(ImitationConfig()) as server:
        control = server.control()
        for phone, name, lines in CUSTOMERS:
            control.add_chat(phone, name)
            for line in lines:
                control.incoming(phone, line, name)
        os.environ["PARLEY_WHATSAPP_URL"] = server.url + "/"
        workspaces = Workspaces(Path(tmp), KeyringVault(null.Keyring()), kdf=KdfParams(time_cost=1, memory_kib=16384))
        store = workspaces.create("Lumen Boutique", "Alex Morgan", passphrase="live screenshots")  # noqa: S106
        workspace_id = store.meta("workspace_id") or ""
        tasks = TaskRunner()
        ctx = build_context(workspaces, tasks, OpenWorkspace(workspace_id, workspaces.header(workspace_id), store))
        ctx.settings.whatsapp.quiet_start = ""  # the shots are taken at any hour
        ctx.settings.whatsapp.quiet_end = ""
        theme.apply(app, "light")
        window = MainWindow(ctx, SECTIONS)
        window.resize(1360, 840)
        window.show()
        host = start_whatsapp(ctx, app)
        window.show_section("whatsapp")
        ctx.whatsapp.connect_whatsapp()
        status = lambda: ctx.whatsapp.status  # noqa: E731
        wait_for(app, "the QR code", lambda: status().state is ConnectionState.scan_qr and bool(status().qr_png))
        grab(app, window, out / "live-01-whatsapp-qr.png")

        control.scan()
        wait_for(app, "the connection", lambda: status().state is ConnectionState.connected)
        wait_for(app, "the customers' messages", lambda: store.messages.count() >= 4)
        settle(app, 500)
        grab(app, window, out / "live-02-whatsapp-connected.png")

        inbox = window.show_section("inbox")
        assert isinstance(inbox, InboxPage)
        settle(app, 500)
        amelia = store.chats.find_by_wa_chat_id("6590000001@c.us")
        assert amelia is not None
        inbox.open_chat(amelia.id)
        settle(app, 300)
        inbox.composer.edit.setPlainText("Yes, size M is in stock. Shall I keep it for you until 6 pm?")
        inbox.composer.send_button.click()

        def last_of_amelia() -> dict[str, object]:
            chat = next(c for c in control.state()["chats"] if c["id"] == "6590000001@c.us")
            return dict(chat["messages"][-1])

        wait_for(app, "the reply to go out", lambda: bool(last_of_amelia()["from_me"]))
        reply = last_of_amelia()
        control.ack(str(reply["id"]), 2)
        control.ack(str(reply["id"]), 3)
        wait_for(app, "the read tick", lambda: any(m.status == "read" for m in store.messages.find_all()))
        settle(app, 500)
        grab(app, window, out / "live-03-inbox-reply-read.png")

        window.close()
        host.close()
        tasks.drain()
        tasks.shutdown()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
