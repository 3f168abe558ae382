"""Media flow benchmark: a customer sends 200 photos, and Parley sends 20 photos with captions, end to end.

Runs the WhatsApp service as the app wires it (``WhatsAppHost`` → ``Supervisor`` on its own loop thread, the real
``WhatsAppDriver``, ``MediaFetcher`` and ``Sender``) in headless Chromium against the WhatsApp Web imitation (in a
process of its own, fed through its control API), writing into a passphrase-mode SQLCipher workspace opened by
``Workspaces`` with Qt's thumbnailer (``app.thumbnails.make_thumbnail``), as ``bootstrap`` opens it. Measured:

1. **Receive.** A customer sends N photos (default 200) of 200–500 KB as fast as the control API takes them into the
   chat the driver has open: seconds from the first POST until every photo is *viewable* (its media ``stored``, the
   bytes and a thumbnail in the store), photos/s, and the store's growth on disk (database + WAL as the app leaves
   them, and after a TRUNCATE checkpoint) per MB of photos. Baselines from the same run: N text messages through the
   same path just before (the ratio is per message), and the store alone taking the same bytes
   (``ops.media.attach_received``: thumbnail + encrypted write, no browser). The photos are real JPEGs (1600×1200,
   made with numpy and Qt, smooth colour plus noise: they do not compress, so their size is what a photo costs).
   Per-photo times come from the store (``messages.updated_at`` of the write that stored the bytes, ms), captures from
   ``MessageReceived`` on the store's bus (the committing thread, right after COMMIT). CPU seconds of this process
   (all threads), the browser's process tree and the imitation process are read around the burst.
2. **Send.** K photos with captions and K text messages of the same length queued one at a time to one chat
   (alternating): per message, queue → ``sent`` in the store, minus the time the humanizer planned for it (typing plan
   and reading time, recorded by a humanizer that remembers what it drew); median and p95, photo against text. The
   queue is woken on ``MessageQueued`` as bootstrap does. Send limits are raised for the bench (40 sends to one
   contact would otherwise wait for the hourly cap); pacing is the app's default (3–5 chars/s) unless ``--fast``.
3. **A reply while photos arrive.** M photos (default 50) into one chat, a text reply queued to another chat halfway:
   its overhead beyond the plan, and whether every photo still ends ``stored`` (the sender leaves the photos' chat).

Each receive round runs on a freshly restarted browser (200 photos grow the imitation's page by ~600 MB; the
watchdog's default limit is 1,500 MB), outside the measured part. The photos, the watchers and the records are in
``bench/media_flow_parts.py``. Results and their reading: docs/benchmarks.md, "Media flow".

Nothing here is a test: figures are printed, never asserted. A photo not stored, a message not sent once, or a
driver error makes the exit status non-zero. ``--profile`` adds cProfile of the WhatsApp loop thread during the
photo burst.

    python -m bench.media_flow_bench [--quick] [--photos 200] [--sends 20] [--rounds 3] [--mixed 50] [--fast]
                                     [--ack-delay-ms 250] [--profile] [--seed 17]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import cProfile
import dataclasses
import io
import os
import platform
import pstats
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # nothing touches the user's keyring

import keyring  # noqa: E402

from app.core.ids import new_id  # noqa: E402
from app.core.media import MediaInfo  # noqa: E402
from app.store import keys  # noqa: E402
from app.store.database import Database  # noqa: E402
from app.store.intake import CapturedChat, CapturedMessage, record_chat, record_messages  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.ops.media import attach_received, queue_media  # noqa: E402
from app.store.ops.messages import queue_message  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.thumbnails import make_thumbnail  # noqa: E402
from app.whatsapp.browser import browser_memory_bytes, browser_pid  # noqa: E402
from app.whatsapp.config import service_config  # noqa: E402
from app.whatsapp.host import WhatsAppHost  # noqa: E402
from app.whatsapp.humanizer import TypingPace  # noqa: E402
from app.whatsapp.limits import SendLimits  # noqa: E402
from app.whatsapp.profile import load_profile  # noqa: E402
from app.whatsapp.status import ConnectionState  # noqa: E402
from bench.media_flow_parts import (  # noqa: E402
    HEIGHT,
    KB,
    MB,
    WIDTH,
    Baseline,
    Burst,
    PhotoMaker,
    Queued,
    RecordingHumanizer,
    Sent,
    TimingSink,
    Watch,
    imitation_process,
    store_bytes,
    tree_cpu_seconds,
)
from bench.whatsapp_bench import chromium_version, load_average, pct  # noqa: E402
from tests.whatsapp.imitation_server import ImitationControl  # noqa: E402

CONNECT_TIMEOUT = 60.0
BURST_TIMEOUT = 600.0  # every photo of a burst stored within this, or the bench fails
SEND_TIMEOUT = 120.0
BENCH_LIMITS = SendLimits(
    per_contact_per_hour=10_000, per_hour=10_000, per_day=10_000, warmup_per_day=(10_000,), quiet_start=None
)
# Fast pacing for --quick / --fast (what the browser tests use): the overhead is the same, the run much shorter.
FAST = TypingPace(
    chars_per_second_min=150,
    chars_per_second_max=300,
    pause_chance=0,
    read_base_seconds=0.01,
    read_seconds_per_char=0,
    read_max_seconds=0.02,
    gap_seconds_min=0,
    gap_seconds_max=0,
)
ITEMS = [
    *("linen dress, blue", "silk scarf, red", "leather sandals", "tote bag, beige", "denim jacket"),
    *("straw hat", "cotton shirt, white", "midi skirt, green", "ankle boots", "wool cardigan"),
]
SIZES = ("S", "M", "L", "XL")


# ---- the run ----------------------------------------------------------------------------------------------------


class MediaFlowBench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.seed = int(args.seed)
        self.rng = random.Random(self.seed)
        self.failures: list[str] = []
        self.bursts: list[Burst] = []
        self.sent: list[Sent] = []
        self.baseline = Baseline()
        self.profile_text = ""
        self.connect_seconds = 0.0
        self.typing: TypingPace | None = None
        self.ack_delay_ms = 0
        self.restarts_requested = 0
        self.mixed: dict[str, Any] = {}

    def open_store(self, home: str) -> Store:
        # As bootstrap opens a workspace: passphrase mode at the production KDF cost, Qt's thumbnailer.
        workspaces = Workspaces(self.work / home, KeyringVault(keyring.get_keyring()), thumbnailer=make_thumbnail)
        return workspaces.create("Bench Boutique", "Bench Owner", passphrase="parley bench passphrase")

    # -- the store alone --
    def store_alone(self, photos: list[bytes]) -> None:
        """The same photos taken by a fresh store without the browser: ``attach_received`` (thumbnail + encrypted
        write, one transaction each) on pending media messages, and Qt's thumbnail alone."""
        db_path = self.work / "alone.db"
        store = Store(Database.open(db_path, keys.random_key()), new_id(), thumbnailer=make_thumbnail)
        try:
            chat = record_chat(store, CapturedChat(chat_jid="6599999999@c.us", title="Alone"))
            captured = [
                CapturedMessage(
                    wa_id=f"ALONE{i:06d}",
                    chat_jid=str(chat.wa_chat_id),
                    from_me=False,
                    body="",
                    kind="image",
                    media=MediaInfo(kind="image", state="pending", mime="image/jpeg").model_dump(mode="json"),
                    timestamp=datetime.now().astimezone(),
                )
                for i in range(len(photos))
            ]
            record_messages(store, captured)
            ids = [m.id for m in store.messages.find_all() if m.wa_id and m.wa_id.startswith("ALONE")]
            store.db.checkpoint()
            before = store_bytes(store)
            for message_id, data in zip(ids, photos, strict=True):
                started = time.perf_counter()
                attach_received(store, message_id, data, "image/jpeg")
                self.baseline.attach_ms.append((time.perf_counter() - started) * 1000)
            store.db.checkpoint()
            self.baseline.growth = store_bytes(store) - before
            self.baseline.photo_bytes = sum(map(len, photos))
            for data in photos[:50]:
                started = time.perf_counter()
                make_thumbnail(data, "image/jpeg")
                self.baseline.thumb_ms.append((time.perf_counter() - started) * 1000)
        finally:
            store.close()

    # -- the service --
    def run_service(
        self, photos_by_round: list[list[bytes]], send_photos: list[bytes], mixed_photos: list[bytes]
    ) -> None:
        store = self.open_store("home")
        self.store = store
        watch = Watch(store)
        self.watch = watch
        profile_dir = self.work / "wa-profile"
        try:
            with imitation_process() as (url, imitation_pid):
                self.imitation_pid = imitation_pid
                control = ImitationControl(url)
                control.configure(slow_ms=60, sync_ms=120)
                if self.args.ack_delay_ms is not None:
                    control.configure(ack_delay_ms=self.args.ack_delay_ms)
                self.control = control
                self.ack_delay_ms = int(control.state()["config"]["ack_delay_ms"])
                rounds = len(photos_by_round)
                for r in range(rounds):
                    control.add_chat(f"65910000{r:02d}", f"Photo Customer {r + 1}")
                    control.add_chat(f"65920000{r:02d}", f"Text Customer {r + 1}")
                control.add_chat("6593000001", "Send Customer")
                control.add_chat("6594000001", "Mixed Customer")
                control.scan()
                base = service_config(store.settings, seed=self.seed)
                config = dataclasses.replace(
                    base, url=url + "/", limits=BENCH_LIMITS, typing=FAST if self.args.fast else base.typing
                )
                self.typing = config.typing
                host = WhatsAppHost(store, load_profile(None), profile_dir, config, watch.on_status)
                self.host = host
                watch.on_queued = host.queue_changed  # bootstrap: MessageQueued → host.queue_changed()
                host.start()
                try:
                    self.humanizer = self.install_humanizer(host)
                    started = time.time()
                    host.connect()
                    watch.wait(lambda: watch.state is ConnectionState.connected, CONNECT_TIMEOUT, "connect")
                    self.connect_seconds = time.time() - started
                    for r, photos in enumerate(photos_by_round):
                        if r:  # each round on a fresh page: 200 photos take the imitation's page ~+600 MB
                            self.restart_browser()
                        self.settle_driver()
                        text_burst = self.receive("text", f"65920000{r:02d}", f"Text Customer {r + 1}", len(photos))
                        self.bursts.append(text_burst)
                        profiler = cProfile.Profile() if self.args.profile and r == 0 else None
                        burst = self.receive(
                            "photo", f"65910000{r:02d}", f"Photo Customer {r + 1}", len(photos), photos, profiler
                        )
                        self.bursts.append(burst)
                        print(
                            f"  round {r + 1}: {len(photos)} texts in {text_burst.seconds:.1f} s, "
                            f"{len(photos)} photos in {burst.seconds:.1f} s",
                            flush=True,
                        )
                    self.restart_browser()
                    self.settle_driver()
                    self.send_part(send_photos)
                    if mixed_photos:
                        self.mixed_part(mixed_photos)
                    driver = host.supervisor.driver
                    if driver is not None and driver.last_error:
                        self.failures.append(f"driver error: {driver.last_error}")
                    unexpected = host.supervisor.status.restarts - self.restarts_requested
                    if unexpected:
                        self.failures.append(f"the browser was restarted {unexpected} times (watchdog or crash)")
                finally:
                    host.close()
        finally:
            store.close()

    def restart_browser(self) -> None:
        """A fresh browser (as the Restart button does): outside any measured part."""
        watch = self.watch
        before = watch.restarts
        self.restarts_requested += 1
        self.host.restart()
        watch.wait(
            lambda: watch.restarts > before and watch.state is ConnectionState.connected, CONNECT_TIMEOUT, "restart"
        )

    def settle_driver(self) -> None:
        """After a connect: the catch-up done and the driver idle; then the media sink wrapped with timers."""

        async def settle() -> TimingSink:
            driver = self.host.supervisor.driver
            assert driver is not None
            await driver.wait_until(lambda: driver.last_backfill is not None and driver.idle, CONNECT_TIMEOUT)
            if not isinstance(driver.media.sink, TimingSink):
                driver.media.sink = TimingSink(driver.media.sink)
            return driver.media.sink

        self.sink = self.host.submit(settle()).result(CONNECT_TIMEOUT + 10)

    def install_humanizer(self, host: WhatsAppHost) -> RecordingHumanizer:
        async def install() -> RecordingHumanizer:
            supervisor = host.supervisor
            recording = RecordingHumanizer(supervisor.humanizer.settings, supervisor.humanizer.rng)
            supervisor.humanizer = recording  # before the first connect: the Sender is built with it
            return recording

        return host.submit(install()).result(10)

    # -- receiving --
    def stored_photos(self, chat_id: str) -> int:
        with self.store.db.read() as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM messages WHERE org_id = ? AND chat_id = ? AND kind = 'image' "
                    "AND json_extract(media, '$.state') = 'stored' "
                    "AND json_extract(media, '$.thumb_blob_id') IS NOT NULL",
                    (self.store.org_id, chat_id),
                ).fetchone()[0]
            )

    def chat_id(self, phone: str) -> str:
        chat = self.store.chats.find_by_wa_chat_id(f"{phone}@c.us")
        if chat is None:
            raise RuntimeError(f"no chat for {phone}")
        return chat.id

    def open_chat(self, phone: str, name: str) -> str:
        """A first message into the chat, so the driver opens it; back once it is in the store and the driver is
        idle. The chat's store id."""
        hello = self.control.incoming(phone, f"Hello from {name}", name=name)
        store, host = self.store, self.host
        self.watch.wait(lambda: store.messages.find_by_wa_id(str(hello["id"])) is not None, 30, f"{name}: hello")
        driver = host.supervisor.driver
        assert driver is not None
        host.submit(driver.wait_until(lambda: driver.idle and driver.media.idle, 30)).result(40)
        return self.chat_id(phone)

    def resources(self) -> dict[str, float]:
        pid = browser_pid(self.work / "wa-profile")
        return {
            "parley": time.process_time(),
            "browser": tree_cpu_seconds(pid),
            "imitation": tree_cpu_seconds(self.imitation_pid),
            "pss": browser_memory_bytes(pid) if pid else 0,
        }

    def post(self, kind: str, phone: str, name: str, i: int, n: int, data: bytes) -> str:
        if kind == "photo":
            caption = "" if i % 2 else f"Photo {i + 1} of {n}"
            sent = self.control.incoming_media(phone, "image", data, "image/jpeg", caption=caption, name=name)
        else:
            sent = self.control.incoming(phone, f"Message {i + 1} of {n}: is the blue one in stock?", name=name)
        return str(sent["id"])

    def receive(
        self,
        kind: str,
        phone: str,
        name: str,
        count: int,
        photos: list[bytes] | None = None,
        profiler: cProfile.Profile | None = None,
    ) -> Burst:
        """A burst of ``count`` texts or photos into a chat the driver has open, as fast as the control API takes
        them; back once every one is in the store (photos: stored, with a thumbnail)."""
        watch, store, host = self.watch, self.store, self.host
        chat_id = self.open_chat(phone, name)
        store.db.checkpoint()
        size_before = store_bytes(store)
        attached_before = len(self.sink.attaches)
        before = self.resources()
        if profiler is not None:
            host.submit(_enable(profiler)).result(10)
        items = photos if photos is not None else [b""] * count
        posts: dict[str, float] = {}
        first = time.time()
        for i, data in enumerate(items):
            posted = time.time()
            posts[self.post(kind, phone, name, i, count, data)] = posted
        last = time.time()
        if kind == "photo":
            watch.wait(lambda: self.stored_photos(chat_id) >= count, BURST_TIMEOUT, "photos stored")
        else:
            watch.wait(lambda: self.landed(list(posts)) >= count, BURST_TIMEOUT, "texts committed")
        after = self.resources()
        if profiler is not None:
            host.submit(_disable(profiler)).result(10)
            self.profile_text = profile_summary(profiler)
        size_after = store_bytes(store)
        store.db.checkpoint()
        burst = self.settle_burst(kind, items, posts, first, last)
        burst.growth = size_after - size_before
        burst.growth_checkpointed = store_bytes(store) - size_before
        burst.cpu = {k: after[k] - before[k] for k in ("parley", "browser", "imitation")}
        burst.browser_memory = (int(before["pss"]), int(after["pss"]))
        burst.attaches = self.sink.attaches[attached_before:]
        return burst

    def landed(self, wa_ids: list[str]) -> int:
        with self.store.db.read() as conn:
            marks = ",".join("?" * len(wa_ids))
            return int(
                conn.execute(
                    f"SELECT count(*) FROM messages WHERE org_id = ? AND wa_id IN ({marks})",
                    (self.store.org_id, *wa_ids),
                ).fetchone()[0]
            )

    def settle_burst(self, kind: str, items: list[bytes], posts: dict[str, float], first: float, last: float) -> Burst:
        """Per-item times from the store, and a check that every item is there once, with its very bytes."""
        store = self.store
        done: list[float] = []
        captured: list[float] = []
        per_item: list[float] = []
        for n, (wa_id, posted) in enumerate(posts.items()):
            message = store.messages.find_by_wa_id(wa_id)
            if message is None:
                self.failures.append(f"{kind} {wa_id}: not in the store")
                continue
            captured.append(self.watch.received.get(message.id, float("nan")))
            finished = captured[-1]
            if kind == "photo":
                media = message.media or {}
                blob = media.get("blob_id")
                if media.get("state") != "stored" or not blob or not media.get("thumb_blob_id"):
                    self.failures.append(f"photo {wa_id}: media {media.get('state')}, no bytes or no thumbnail")
                    continue
                if store.media.get(str(blob)) != items[n]:
                    self.failures.append(f"photo {wa_id}: stored bytes differ from the bytes sent")
                with store.db.read() as conn:
                    updated = conn.execute("SELECT updated_at FROM messages WHERE id = ?", (message.id,)).fetchone()[0]
                finished = int(updated) / 1000  # the write that stored the bytes (ms; nothing writes the row later)
            done.append(finished)
            per_item.append(finished - posted)
        return Burst(
            kind=kind,
            count=len(items),
            first_post=first,
            last_post=last,
            captured=max(captured) if captured else float("nan"),
            done=max(done) if done else float("nan"),
            per_item=per_item,
            photo_bytes=sum(map(len, items)),
        )

    # -- sending --
    def send_part(self, photos: list[bytes]) -> None:
        store, control = self.store, self.control
        chat = record_chat(store, CapturedChat(chat_jid="6593000001@c.us", title="Send Customer"))
        self.send_chat_id = chat.id
        # Warm-up, not counted: the first send opens the chat and self-tests the page; the first file warms the attach.
        self.finish(self.queue(chat.id, "text", "Hello! This week's new arrivals:", None))
        self.finish(self.queue(chat.id, "photo", "New arrivals", photos[0]))
        for i in range(len(photos) - 1):
            tail = self.tail(i)
            pair = [("photo", f"Photo {tail}", photos[i + 1]), ("text", f"Price {tail}", None)]
            for kind, body, data in pair if i % 2 == 0 else reversed(pair):
                self.sent.append(self.finish(self.queue(chat.id, kind, body, data)))
        state = control.state()
        page_sent = [m for c in state["chats"] for m in c["messages"] if m["from_me"] and m["source"] == "page"]
        if len(page_sent) != 2 * len(photos):
            self.failures.append(f"{len(page_sent)} messages reached WhatsApp for {2 * len(photos)} queued")
        if len({m["id"] for m in page_sent}) != len(page_sent):
            self.failures.append("a message reached WhatsApp twice")

    @staticmethod
    def tail(i: int) -> str:
        return f"{i + 1:02d}: {ITEMS[i % len(ITEMS)]}, size {SIZES[i % len(SIZES)]} — €{29 + 5 * (i % 7)}"

    def queue(self, chat_id: str, kind: str, body: str, data: bytes | None) -> Queued:
        self.humanizer.take()
        started = time.time()
        if data is not None:
            (message,) = queue_media(self.store, chat_id, [(f"{new_id()[:8]}.jpg", data, "image/jpeg", body)]).value
        else:
            message = queue_message(self.store, chat_id, body).value
        return Queued(kind, body, message.id, started, time.time())

    def finish(self, q: Queued) -> Sent:
        watch, mid = self.watch, q.message_id

        def done() -> bool:
            return mid in watch.settled and any((mid, s) in watch.status for s in ("sent", "delivered"))

        watch.wait(done, SEND_TIMEOUT, f"{q.kind} sent")
        sent_at = min(watch.status[(mid, s)] for s in ("sent", "delivered") if (mid, s) in watch.status)
        planned = sum(seconds for _what, seconds in self.humanizer.take())
        return Sent(
            kind=q.kind,
            chars=len(q.body),
            queue_op=q.queued - q.started,
            to_typing=watch.status.get((mid, "typing"), float("nan")) - q.started,
            to_sent=sent_at - q.started,
            to_settled=watch.settled[mid] - q.started,
            planned=planned,
        )

    # -- a reply while photos arrive --
    def mixed_part(self, photos: list[bytes]) -> None:
        """Photos arrive in one chat while the person replies in another: the reply is queued halfway through the
        burst. How long it takes beyond its plan, and whether every photo still ends stored (the sender leaves the
        photos' chat to send; the fetcher reads a photo only while its row is shown)."""
        phone, name, n = "6594000001", "Mixed Customer", len(photos)
        chat_id = self.open_chat(phone, name)
        posts: list[str] = []
        reply: Queued | None = None
        first = time.time()
        for i, data in enumerate(photos):
            posts.append(self.post("photo", phone, name, i, n, data))
            if i == n // 2:
                reply = self.queue(self.send_chat_id, "text", f"Price {self.tail(n)}", None)
        assert reply is not None
        sent = self.finish(reply)
        sent.kind = "reply during photos"
        self.sent.append(sent)

        def states() -> dict[str, int]:
            with self.store.db.read() as conn:
                rows = conn.execute(
                    "SELECT json_extract(media, '$.state'), count(*) FROM messages "
                    "WHERE org_id = ? AND chat_id = ? AND kind = 'image' GROUP BY 1",
                    (self.store.org_id, chat_id),
                ).fetchall()
            return {str(state): int(count) for state, count in rows}

        with contextlib.suppress(TimeoutError):  # a photo left pending is reported below
            self.watch.wait(lambda: sum(v for k, v in states().items() if k != "pending") >= n, 120, "mixed")
        final = states()
        self.mixed = {"photos": n, "seconds": time.time() - first, "states": final, "reply": sent}
        if final.get("stored", 0) != n:
            lost = []  # which photos (1-based, in the order sent; the reply was queued after photo n // 2 + 1)
            for i, wa_id in enumerate(posts):
                message = self.store.messages.find_by_wa_id(wa_id)
                if message is None or (message.media or {}).get("state") != "stored":
                    lost.append(i + 1)
            self.failures.append(
                f"a reply (queued after photo {n // 2 + 1}) during {n} photos: photo states {final}; "
                f"not stored: photos {lost}"
            )


async def _enable(profiler: cProfile.Profile) -> None:
    profiler.enable()  # on the WhatsApp loop's thread: cProfile follows the thread it is enabled on


async def _disable(profiler: cProfile.Profile) -> None:
    profiler.disable()


def profile_summary(profiler: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


# ---- report -----------------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def p50_p95(samples: Sequence[float]) -> str:
    return f"{ms(statistics.median(samples))} / {ms(pct(samples, 95))}"


def report(bench: MediaFlowBench) -> list[str]:
    lines = ["| figure | value | baseline | ratio | note |", "| --- | --- | --- | --- | --- |"]

    def row(*cells: str) -> None:
        lines.append("| " + " | ".join(cells) + " |")

    photos = [b for b in bench.bursts if b.kind == "photo"]
    texts = [b for b in bench.bursts if b.kind == "text"]
    if photos and texts:
        n = photos[0].count
        mb = statistics.median(b.photo_bytes for b in photos) / MB
        p_seconds = statistics.median(b.seconds for b in photos)
        t_seconds = statistics.median(b.seconds for b in texts)
        rounds = f"median of {len(photos)} rounds ({', '.join(f'{b.seconds:.1f}' for b in photos)} s)"
        row(
            f"receive {n} photos ({mb:.1f} MB): first POST → all viewable (s)",
            f"{p_seconds:.1f}",
            f"{n} texts {t_seconds:.2f}",
            f"{p_seconds / t_seconds:.1f}× per message",
            f"{rounds}; viewable = media stored, bytes + thumbnail in the store",
        )
        p_rate = statistics.median(b.rate for b in photos)
        row(
            "receive: photos/s (MB/s)",
            f"{p_rate:.1f} ({p_rate * mb / n:.2f})",
            f"store alone {bench.baseline.rate:.1f}/s",
            f"{p_rate / bench.baseline.rate:.2f}",
            "store alone: attach_received (thumbnail + encrypted write) of the same bytes, no browser",
        )
        row(
            "receive: texts/s through the same path",
            f"{statistics.median(b.rate for b in texts):.0f}",
            "",
            "",
            f"{len(texts)} bursts of {texts[0].count}, first POST → last commit",
        )
        post_rate = statistics.median(b.count / (b.last_post - b.first_post) for b in photos)
        captured = statistics.median(b.captured - b.first_post for b in photos)
        row(
            "receive: POSTs accepted (photos/s); first POST → all captured (s)",
            f"{post_rate:.1f}; {captured:.1f}",
            "",
            "",
            "the injection ceiling; captured = row in the store, media pending",
        )
        per_photo = [v for b in photos for v in b.per_item]
        row(
            "receive: POST → viewable per photo, p50 / p95 (ms)",
            p50_p95(per_photo),
            f"text POST → commit {p50_p95([v for b in texts for v in b.per_item])}",
            "",
            "in a burst: mostly time queued behind earlier photos",
        )
        growth = statistics.median(b.growth / b.photo_bytes for b in photos)
        growth_cp = statistics.median(b.growth_checkpointed / b.photo_bytes for b in photos)
        alone = bench.baseline.growth / bench.baseline.photo_bytes
        row(
            "store growth per MB of photos, DB + WAL as left / after checkpoint (MB)",
            f"{growth:.3f} / {growth_cp:.3f}",
            f"store alone {alone:.3f}",
            f"{growth_cp / alone:.2f}",
            "includes thumbnails (~7 KB each) and the rows; checkpoint = PRAGMA wal_checkpoint(TRUNCATE)",
        )
        cpu = photos[0].cpu
        if cpu:
            wall = photos[0].seconds
            row(
                "receive CPU seconds (round 1): Parley / Chromium / imitation",
                f"{cpu['parley']:.1f} / {cpu['browser']:.1f} / {cpu['imitation']:.1f}",
                f"wall {wall:.1f} s × 2 cores",
                f"{sum(cpu.values()) / wall:.2f} cores busy",
                "Parley = this process, all threads (incl. the bench's POSTs); Chromium = its process tree",
            )
            before, after = photos[0].browser_memory
            row(
                "browser memory (PSS) before / after the photos (MB)",
                f"{before / MB:.0f} / {after / MB:.0f}",
                "",
                "",
                "browser_memory_bytes: the watchdog's figure",
            )
        cycles, gaps, attaches = [], [], []
        for b in photos:
            for (_s0, e0), (s1, e1) in zip(b.attaches, b.attaches[1:], strict=False):
                cycles.append(e1 - e0)
                gaps.append(s1 - e0)
                attaches.append(e1 - s1)
        if cycles:
            row(
                "receive: fetch cycle per photo, p50 (ms) = page part + store part",
                f"{ms(statistics.median(cycles))} = {ms(statistics.median(gaps))} + {ms(statistics.median(attaches))}",
                f"store alone {statistics.median(bench.baseline.attach_ms):.0f}",
                f"{statistics.median(attaches) * 1000 / statistics.median(bench.baseline.attach_ms):.2f} (store part)",
                "one photo at a time: page part = grab in the page, base64 over CDP, decode; store part = "
                "attach_received (thumbnail + encrypted write) on a worker thread, awaited",
            )
        thumbs = bench.baseline.thumb_ms
        row(
            "store alone per photo: attach_received / thumbnail alone (ms)",
            f"{statistics.median(bench.baseline.attach_ms):.1f} / {statistics.median(thumbs):.1f}",
            "",
            "",
            "medians; Qt QImage decode + scale to 320 px + JPEG encode",
        )
    for kind in ("photo", "text"):
        sent = [s for s in bench.sent if s.kind == kind]
        if not sent:
            continue
        other = [s for s in bench.sent if s.kind == "text"]
        ratio = statistics.median(s.overhead for s in sent) / statistics.median(s.overhead for s in other)
        row(
            f"send {len(sent)} {kind}s: queue → sent minus planned, p50 / p95 (ms)",
            p50_p95([s.overhead for s in sent]),
            "" if kind == "text" else f"text {p50_p95([s.overhead for s in other])}",
            "" if kind == "text" else f"{ratio:.1f}× (p50)",
            f"planned p50 {statistics.median(s.planned for s in sent):.1f} s "
            f"({statistics.median(s.chars for s in sent):.0f} chars); "
            f"queue → sender done minus planned {p50_p95([s.overhead_settled for s in sent])}",
        )
        row(
            f"send {kind}s: queue op / queue → typing, p50 (ms)",
            f"{ms(statistics.median(s.queue_op for s in sent))} / {ms(statistics.median(s.to_typing for s in sent))}",
            "",
            "",
            "queue op: the store operation (a photo's thumbnail and encrypted write); typing: the sender picked it",
        )
    mixed = bench.mixed
    if mixed:
        reply: Sent = mixed["reply"]
        texts_sent = [s.overhead for s in bench.sent if s.kind == "text"]
        row(
            f"a reply queued while {mixed['photos']} photos arrive: queue → sent minus planned (ms)",
            ms(reply.overhead),
            f"text alone {ms(statistics.median(texts_sent))}" if texts_sent else "",
            f"{reply.overhead / statistics.median(texts_sent):.1f}×" if texts_sent else "",
            f"photo states after: {mixed['states']}; queue → typing {ms(reply.to_typing)} ms",
        )
    return lines


def print_sends(bench: MediaFlowBench) -> None:
    print("\nsends, in order (ms; planned in s):")
    print(f"{'kind':<6}{'chars':>6}{'planned':>9}{'queue op':>9}{'→typing':>9}{'→sent':>8}{'→done':>8}{'overhead':>9}")
    for s in bench.sent:
        print(
            f"{s.kind:<6}{s.chars:>6}{s.planned:>9.2f}{ms(s.queue_op):>9}{ms(s.to_typing):>9}{ms(s.to_sent):>8}"
            f"{ms(s.to_settled):>8}{ms(s.overhead):>9}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="30 photos, 5 sends of each kind, one round, fast pace")
    parser.add_argument("--photos", type=int, default=None, help="photos received per round (default 200)")
    parser.add_argument("--sends", type=int, default=None, help="photos (and texts) sent (default 20)")
    parser.add_argument("--rounds", type=int, default=None, help="receive rounds, medians over them (default 3)")
    parser.add_argument("--mixed", type=int, default=None, help="photos arriving while a reply goes out (50)")
    parser.add_argument("--fast", action="store_true", help="send at 150–300 chars/s instead of the app's pace")
    parser.add_argument("--profile", action="store_true", help="cProfile the WhatsApp loop thread in round 1")
    parser.add_argument("--ack-delay-ms", type=int, default=None, help="the imitation's clock → tick delay (250)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    if args.quick:
        args.fast = True
    n_photos = args.photos or (30 if args.quick else 200)
    n_sends = args.sends or (5 if args.quick else 20)
    rounds = args.rounds or (1 if args.quick else 3)
    n_mixed = args.mixed if args.mixed is not None else (10 if args.quick else 50)
    wall = time.perf_counter()
    print(f"command    {shlex.join(sys.orig_argv)}")
    print(f"python     {platform.python_version()} on {platform.platform()}")
    print(f"cpus       {os.cpu_count()}; load at the start {load_average()}")
    print(f"chromium   {chromium_version()}")
    print(f"date       {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    started = time.perf_counter()
    maker = PhotoMaker(args.seed)
    photos_by_round = [[maker.photo() for _ in range(n_photos)] for _ in range(rounds)]
    send_photos = [maker.photo() for _ in range(n_sends + 1)]
    mixed_photos = [maker.photo() for _ in range(n_mixed)]
    sizes = [len(p) for p in photos_by_round[0]]
    print(
        f"photos     {rounds} × {n_photos} JPEGs {WIDTH}×{HEIGHT}, {min(sizes) // KB}–{max(sizes) // KB} KB, "
        f"{sum(sizes) / MB:.1f} MB a round (made in {time.perf_counter() - started:.0f} s); "
        f"{n_sends} + 1 to send, {n_mixed} during a reply"
    )
    with tempfile.TemporaryDirectory(prefix="parley-mediaflow-") as tmp:  # bench bytes only, no customer data
        bench = MediaFlowBench(args, Path(tmp))
        bench.store_alone(photos_by_round[0])
        try:
            bench.run_service(photos_by_round, send_photos, mixed_photos)
        except (TimeoutError, concurrent.futures.TimeoutError) as exc:
            bench.failures.append(str(exc) or type(exc).__name__)
    t = bench.typing
    pace = f"{t.chars_per_second_min:g}–{t.chars_per_second_max:g} chars/s" if t else "?"
    print(
        f"service    connected in {bench.connect_seconds:.1f} s; typing pace {pace}; "
        f"imitation ack delay {bench.ack_delay_ms} ms (a sent photo waits for its tick)"
    )
    if bench.sent:
        print_sends(bench)
    print()
    print("\n".join(report(bench)))
    if bench.profile_text:
        print("\ncProfile of the WhatsApp loop thread during the first photo burst (by own time):")
        print(bench.profile_text)
    print(f"\nload at the end: {load_average()}; wall time {time.perf_counter() - wall:.0f} s")
    if bench.failures:
        print("\nFAILED:")
        for failure in bench.failures[:30]:
            print(f"  - {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
