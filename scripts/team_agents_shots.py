"""Part of ``make screenshots``: the retention agent in a team, with two real Parley apps on one sync server.

A (the owner) links WhatsApp to the local imitation, so A holds the number; B (staff) joined the team. Everything
after the apps start is real input on their X screens (``xdotool``, at the spots the probe of ``app/probe.py``
reports): on A the Agents page turns the retention agent on (autopilot, 1 day); on B a sale is recorded for Ana
(Products & Sales › Record sale…); B's Agents › Jobs shows the follow-up due, and A's shows the same job once it
synced; B cancels it, and A shows it cancelled. B never sends: its outbox holds nothing when it closes.
Output: ``build/screenshots/team-agents-<nn>-<screen>.png``.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.ids import utc_now  # noqa: E402
from app.store import sending_device  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from bench.two_apps_bench import App, Display, PathKeyring, wait  # noqa: E402
from scripts.team_media_shots import grab  # noqa: E402
from sync_server.pgcluster import Cluster  # noqa: E402
from tests.support.sync_server import ServerProcess, fresh_database  # noqa: E402
from tests.sync.clients import join, owner_client  # noqa: E402
from tests.whatsapp.imitation_server import ImitationConfig, ImitationServer  # noqa: E402

OUT = ROOT / "build" / "screenshots"
ANA = ("5511990000002", "Ana Lima")


class Screen:
    """One app on its X screen: asks the probe where a widget is, then clicks and types there for real."""

    def __init__(self, app: App, display: Display, apps: list[App]) -> None:
        self.app, self.display, self.apps = app, display, apps

    def ask(self, op: str, what: str, **fields: Any) -> dict[str, Any]:
        ident = self.app.send(op, **fields)
        found: dict[str, Any] = wait(
            self.apps, lambda: self.app.find("done" if op == "show" else op, id=ident), 30, what
        )
        return found

    def show(self, section: str, **extra: Any) -> None:
        self.ask("show", f"{self.app.name} showing {section}", section=section, **extra)

    def where(self, what: str, timeout: float = 30, **fields: Any) -> dict[str, Any]:
        def spot() -> dict[str, Any] | None:
            answer = self.ask("where", what, **fields)
            return answer if answer["found"] else None

        found: dict[str, Any] = wait(self.apps, spot, timeout, f"{self.app.name}: {what}")
        return found

    def xdotool(self, *args: str) -> None:
        env = dict(os.environ, DISPLAY=f":{self.display.number}")
        subprocess.run([shutil.which("xdotool") or "xdotool", *args], env=env, check=True, capture_output=True)

    def click(self, what: str, **fields: Any) -> None:
        spot = self.where(what, **fields)
        self.xdotool("mousemove", "--sync", str(spot["x"]), str(spot["y"]), "click", "1")
        time.sleep(0.3)  # the click's own repaint; the next step waits on its condition

    def type(self, text: str, *keys: str) -> None:
        self.xdotool("type", "--delay", "30", text)
        if keys:
            self.xdotool("key", *keys)

    def shot(self, name: str) -> None:
        time.sleep(1)  # the pages' first paints after the last change
        grab(self.display, OUT / f"team-agents-{name}-{self.app.name.lower()}.png")

    def row_with(self, word: str) -> int | None:
        """The row of the Agents page's jobs list that shows ``word``, if any."""
        row = 0
        while True:
            answer = self.ask("where", "a job row", name="jobsList", row=row, contains=word)
            if not answer["found"]:
                return None
            if answer["contains"]:
                return row
            row += 1

    def wait_row(self, word: str, timeout: float = 90) -> int:
        rows: list[int] = []

        def shown() -> bool:
            row = self.row_with(word)
            rows[:] = [] if row is None else [row]
            return bool(rows)

        wait(self.apps, shown, timeout, f"{self.app.name}: a job row showing {word}")
        return rows[0]

    def jobs_view(self, view: str) -> None:
        """Choose the jobs list's view (Waiting, Done, Failed or cancelled) as a user does: the combo, then keys."""
        self.click("the jobs view", name="jobsView")
        self.xdotool("key", "Home", *["Down"] * ["Waiting", "Done", "Failed or cancelled"].index(view), "Return")


def build_team(root: Path, server_url: str) -> tuple[Path, Path, Path, Path]:
    """An owner's workspace with Ana's chat (a message she sent), and an invited member's."""
    home_a, home_b = root / "a" / "home", root / "b" / "home"
    keyring_a, keyring_b = root / "a" / "keyring.json", root / "b" / "keyring.json"
    for folder in (home_a, home_b):
        folder.parent.mkdir(parents=True)
    owner = owner_client(Workspaces(home_a, KeyringVault(PathKeyring(keyring_a))), server_url, business="Casa Verde")
    store = owner.store
    ana = store.contacts.create(name=ANA[1], phone="+" + ANA[0])
    chat = store.chats.create(contact_id=ana.id, title=ANA[1])
    store.messages.create(chat_id=chat.id, direction="in", body="Got the dress, thank you!", sent_at=utc_now())
    store.set_meta(sending_device.DEVICE_NAME, "Shop counter PC")  # both screens run on this one host
    owner.sync()
    member = join(Workspaces(home_b, KeyringVault(PathKeyring(keyring_b))), server_url, owner.invite(), name="Bruno")
    member.store.set_meta(sending_device.DEVICE_NAME, "Bruno's laptop")
    member.store.close()
    store.close()
    return home_a, home_b, keyring_a, keyring_b


def outgoing_on(home: Path, keyring: Path) -> int:
    workspaces = Workspaces(home, KeyringVault(PathKeyring(keyring)))
    (workspace,) = workspaces.available()  # B's outbound messages: a follow-up sent from B would be one
    store = workspaces.open(workspace.workspace_id)
    try:
        return sum(1 for m in store.messages.find_all() if m.direction == "out")
    finally:
        store.close()


def main() -> int:
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        print("team_agents_shots: needs Xvfb and xdotool (make system-deps)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="parley-team-agents-") as tmp,
        ImitationServer(ImitationConfig()) as phone,
    ):
        root = Path(tmp)
        cluster = Cluster.ensure(root / "pg")
        server = ServerProcess(fresh_database(cluster, "teamagents"), root / "server.log").start()
        apps: list[App] = []
        displays: list[Display] = []
        try:
            home_a, home_b, keyring_a, keyring_b = build_team(root, server.url)
            key = secrets.token_hex(16)
            screens = []
            for name, home, keyring in (("A", home_a, keyring_a), ("B", home_b, keyring_b)):
                display = Display()
                displays.append(display)
                app = App(name, home, keyring, root / name.lower() / "probe", key, display)
                apps.append(app)
                os.environ["PARLEY_WHATSAPP_URL"] = phone.url + "/" if name == "A" else "http://127.0.0.1:9/"
                app.start()
                screens.append(Screen(app, display, apps))
            a, b = screens
            for app in apps:
                wait(apps, lambda app=app: app.find("ready"), 90, f"app {app.name} ready")
                wait(apps, lambda app=app: app.find("sync", state="synced"), 90, f"app {app.name} synced")

            # A links the phone: WhatsApp › Connect, the QR scanned on the imitation's phone.
            a.show("whatsapp")
            a.click("Connect", text="Connect")
            time.sleep(3)
            phone.control().scan()
            a.where("WhatsApp connected", 90, text="Disconnect")
            a.shot("01-whatsapp-linked")

            # A turns the retention agent on: autopilot, a follow-up 1 day after a sale.
            a.show("agents")
            a.click("the retention agent", item="Retention")
            a.click("On", text="On")
            a.click("the mode", name="agentMode-retention")
            a.xdotool("key", "End", "Return")
            a.click("Follow up after", name="agentField-retention-days")
            a.xdotool("key", "ctrl+a")
            a.type("1", "Tab")
            a.click("Save", text="Save as a new version")
            a.shot("02-retention-on")

            # A watches its jobs list (left open: a pulled job must show by itself); B records a sale for Ana.
            for screen in (a, b):
                screen.show("agents")
                screen.click("Jobs", tab="Jobs")
            b.show("products", tab=1)
            b.click("Record sale", text="Record sale…")
            b.click("the customer", placeholder="No contact")
            b.type("Ana")
            time.sleep(1)
            b.xdotool("key", "Down", "Return")
            b.click("the item's description", placeholder="Description")
            b.type("Linen dress")
            b.click("the item's price", placeholder="Price")
            b.type("89")
            b.shot("03-sale-dialog")
            b.click("Record sale", text="Record sale")

            # B's jobs list: the follow-up due, for Ana, run by A. A's open list shows it by itself.
            b.show("agents")
            b.wait_row("Ana Lima")
            b.wait_row("Runs on Shop counter PC")
            a.wait_row("Ana Lima")
            b.shot("04-followup-due")
            a.shot("04-followup-due")

            # B cancels it (a real click on its row, then on Cancel job); A's list drops it, then shows it cancelled.
            b.click("the follow-up", name="jobsList", row=b.wait_row("Ana Lima"))
            b.click("Cancel job", text="Cancel job")
            wait(apps, lambda: a.row_with("Ana Lima") is None, 90, "A dropping the follow-up from Waiting")
            a.shot("05-cancel-arrived")
            for screen in (b, a):
                screen.jobs_view("Failed or cancelled")
                screen.wait_row("Ana Lima")
            b.shot("06-cancelled")
            a.shot("06-cancelled")
        finally:
            for app in apps:
                app.stop()
            for display in displays:
                display.stop()
            server.stop()
        sent_by_b = outgoing_on(home_b, keyring_b)
        print(f"messages sent from B: {sent_by_b}")
        return 1 if sent_by_b else 0


if __name__ == "__main__":
    sys.exit(main())
