"""``make screenshots``: the real app's windows under Xvfb on a seeded workspace, one PNG per screen and theme.

It builds the windows with the same code the app runs (startup dialogs, ``bootstrap.open_main_window``) on the
xcb platform, and grabs them from the X server, so the PNGs show what a person would see. Output:
``build/screenshots/<theme>-<nn>-<screen>.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.agents.health import GB, HealthMonitor  # noqa: E402
from app.core.errors import KeyChangeUnfinished  # noqa: E402
from app.core.events import Event  # noqa: E402
from app.qt import QtCore, QtWidgets  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.keys import KdfParams  # noqa: E402
from app.store.messaging import queue_outbound  # noqa: E402
from app.store.seed import populate  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.ui import theme  # noqa: E402
from app.ui.context import AppContext, Changes  # noqa: E402
from app.ui.dialogs.backup_dialogs import BackupDialog, RestoreDialog  # noqa: E402
from app.ui.dialogs.change_passphrase import ChangePassphraseDialog  # noqa: E402
from app.ui.dialogs.create_workspace import CreateWorkspaceDialog  # noqa: E402
from app.ui.dialogs.paste_knowledge import PasteKnowledgeDialog  # noqa: E402
from app.ui.dialogs.unlock import UnlockDialog  # noqa: E402
from app.ui.dialogs.unusable_workspaces import UnusableWorkspacesDialog  # noqa: E402
from app.ui.health_watch import HealthWatch  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.health import HealthPage  # noqa: E402
from app.ui.pages.inbox import InboxPage  # noqa: E402
from app.ui.quick_switcher import QuickSwitcher  # noqa: E402
from app.ui.sections import SECTIONS  # noqa: E402
from app.ui.shortcuts import ShortcutsSheet  # noqa: E402
from app.ui.startup import OpenWorkspace  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from tests.support.whatsapp_ui import RecordingControl, connected_quiet_hours, failed_broken, scan_qr  # noqa: E402

PASS = "screenshot passphrase"


def settle(app: QtWidgets.QApplication, ms: int = 250) -> None:
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(app: QtWidgets.QApplication, what: str, predicate: Callable[[], bool], timeout: float = 60) -> None:
    """Keep the event loop turning until ``predicate()`` holds (live shots wait for the real service)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        settle(app, 100)


def grab(app: QtWidgets.QApplication, widget: QtWidgets.QWidget, path: Path) -> None:
    widget.show()
    widget.raise_()
    widget.activateWindow()
    settle(app)
    screen = widget.screen() or app.primaryScreen()
    pixmap = screen.grabWindow(widget.winId())
    if pixmap.isNull() or pixmap.width() < 10:
        pixmap = widget.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def grab_screen(app: QtWidgets.QApplication, path: Path) -> None:
    """The whole X screen (a message box is a window of its own)."""
    settle(app, 300)
    app.primaryScreen().grabWindow(0).save(str(path))
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def new_workspace(home: Path, business: str = "Lumen Boutique", owner: str = "Alex Morgan") -> tuple[Workspaces, Store]:
    """The screenshots' workspace in a fresh home, still empty."""
    from keyring.backends import null

    # No secure keyring on a build machine: the passphrase path is the one shown (and exercised).
    workspaces = Workspaces(home, KeyringVault(null.Keyring()), kdf=KdfParams(time_cost=1, memory_kib=16384))
    return workspaces, workspaces.create(business, owner, passphrase=PASS)


def shots_context(workspaces: Workspaces, store: Store) -> AppContext:
    """What the app gives its windows once ``store`` is open: a task runner, the changes bus, the open workspace."""
    workspace_id = store.meta("workspace_id") or ""
    tasks = TaskRunner()
    changes = Changes()
    store.bus.subscribe(Event, changes.forward)
    opened = OpenWorkspace(workspace_id, workspaces.header(workspace_id), store)
    return AppContext(store, tasks, store.settings, workspaces, opened, changes)


def close_window(app: QtWidgets.QApplication, window: QtWidgets.QWidget) -> None:
    window.close()
    window.deleteLater()
    settle(app, 100)


def close_context(ctx: AppContext) -> None:
    """The tasks finished and stopped, then the store closed."""
    ctx.tasks.drain()
    ctx.tasks.shutdown()
    ctx.store.close()


def shoot_themes(app: QtWidgets.QApplication, ctx: AppContext, shoot: Callable[[MainWindow, str], None]) -> None:
    """``shoot(window, mode)`` in a 1600x1000 main window, light then dark; then ``ctx`` closed."""
    for mode in ("light", "dark"):
        theme.apply(app, mode)
        ctx.settings.appearance.theme = mode
        window = MainWindow(ctx, SECTIONS)
        window.resize(1600, 1000)
        shoot(window, mode)
        close_window(app, window)
    close_context(ctx)


def queue_some(store: Store) -> int:
    """A send queue to look at: replies waiting for quiet hours and one that failed (what ``inbox`` then shows)."""
    rows = store.inbox(limit=4)
    replies = ["Your order is packed and ships tomorrow.", "Yes, the linen shirt comes in M and L."]
    for row, text in zip(rows[1:3], replies, strict=True):
        queue_outbound(store, row.chat_id, text)
    failed = queue_outbound(store, rows[0].chat_id, "Shall I reserve the blue scarf for you until Friday?")
    store.messages.update(failed.id, status="failed", status_reason="WhatsApp showed an error when sending.")
    queue_outbound(store, rows[0].chat_id, "Here is the link to pay.")
    return 3


def shoot_pipeline_many_stages(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, path: Path, extra: int = 5
) -> None:
    """A pipeline with more stages than fit (issue 16, "Layout"): readable columns and a visible sideways scroll
    bar, scrolled half way. The stages and deals added for it are removed again."""
    from app.store.deals import create_deal, default_pipeline_id
    from app.ui.pages.pipeline import PipelinePage

    store = ctx.store
    pipeline_id = default_pipeline_id(store) or ""
    seeded = len(store.pipeline_stages.find_all({"pipeline_id": pipeline_id}))
    names = ["Sample sent", "Quote approved", "Invoice sent", "Paid", "Shipped", "Reviewed"][:extra]
    stages = [
        store.pipeline_stages.create(pipeline_id=pipeline_id, name=name, position=100 + n)
        for n, name in enumerate(names)
    ]
    deals = [
        create_deal(store, s.id, f"Order {n + 1} for {s.name.lower()}", value_minor=4_990 * (n + 1))
        for n, s in enumerate(stages)
    ]
    page = window.show_section("pipeline")
    assert isinstance(page, PipelinePage)
    page.reload()
    wait_for(
        app,
        "the extra stages",
        lambda: ctx.tasks.idle and bool(page.columns) and page.columns[-1].stage.id == stages[-1].id,
    )
    settle(app, 200)
    bar = page.board_scroll.horizontalScrollBar()
    bar.setValue(bar.maximum() // 2)
    grab(app, window, path)
    bar.setValue(0)
    for deal in deals:
        store.deals.delete(deal.id)
    for stage in stages:
        store.pipeline_stages.delete(stage.id)
    page.reload()
    wait_for(app, "the board as seeded", lambda: ctx.tasks.idle and len(page.columns) == seeded)


def shoot_inbox_states(app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str) -> None:
    """Issue 16's conversation states and labels: the Open view with counts, state marks and label chips; the chat
    menu; the Resolved view; a label filter; the label manager. The states are put back afterwards."""
    from datetime import timedelta

    from app.store.ops import chats as chat_ops
    from app.ui.dialogs.labels_dialog import open_labels_dialog

    store, tasks = ctx.store, ctx.tasks
    window.show_section("inbox")
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    rows = store.inbox(limit=12)
    before = {r.chat_id: store.chats.get(r.chat_id) for r in rows}
    chat_ops.set_status(store, rows[2].chat_id, "resolved")
    chat_ops.set_status(store, rows[4].chat_id, "resolved")
    chat_ops.set_status(store, rows[3].chat_id, "pending")
    chat_ops.snooze(store, rows[5].chat_id, datetime.now(UTC) + timedelta(days=1))
    chat_ops.mute(store, rows[1].chat_id, None)
    chat_ops.mark_unread(store, rows[6].chat_id)
    wait_for(app, "the views' counts", lambda: "Resolved · 2" in [inbox.filter_bar.views.itemText(i) for i in range(6)])
    inbox.refresh_list()
    tasks.drain()
    settle(app, 300)
    inbox.open_chat(rows[0].chat_id)
    grab(app, window, out / f"{mode}-42-inbox-open-view.png")
    menu = inbox.chat_menu(rows[7].chat_id)
    assert menu is not None
    index = inbox.model.index_of(rows[7].chat_id)
    menu.popup(inbox.list.viewport().mapToGlobal(inbox.list.visualRect(index).center()))
    settle(app, 300)
    screen = app.primaryScreen().grabWindow(0)
    screen.save(str(out / f"{mode}-42-inbox-chat-menu.png"))
    print(out / f"{mode}-42-inbox-chat-menu.png")
    menu.close()
    inbox.filter_bar.set_view("resolved")
    tasks.drain()
    settle(app, 300)
    grab(app, window, out / f"{mode}-42-inbox-resolved-view.png")
    inbox.filter_bar.set_view("open")
    box = inbox.filter_bar.label
    box.setCurrentIndex(max(1, box.findText("VIP")))
    tasks.drain()
    settle(app, 300)
    grab(app, window, out / f"{mode}-42-inbox-label-filter.png")
    inbox.filter_bar.clear()
    dialog = open_labels_dialog(ctx, window)
    grab(app, dialog, out / f"{mode}-42-labels-manager.png")
    dialog.close()
    for chat_id, chat in before.items():  # the later shots show the workspace as seeded
        store.chats.update(
            chat_id,
            status=chat.status,
            snoozed_until=chat.snoozed_until,
            muted_until=chat.muted_until,
            marked_unread=chat.marked_unread,
        )
    tasks.drain()
    settle(app, 200)


def media_picture(width: int, height: int, top: str, bottom: str, label: str, fmt: str = "JPEG") -> bytes:
    """A made-up product photo (a gradient, a shape and a label), encoded in memory."""
    from app.qt import QtGui

    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor(0, 0, 0, 0))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    if fmt == "PNG" and label == "sticker":  # a round sticker on a transparent background
        painter.setBrush(QtGui.QColor(top))
        painter.setPen(QtGui.QPen(QtGui.QColor("white"), width // 24))
        painter.drawEllipse(QtCore.QRectF(width * 0.06, height * 0.06, width * 0.88, height * 0.88))
        painter.setPen(QtGui.QPen(QtGui.QColor(bottom), width // 20))
        painter.drawPoint(QtCore.QPointF(width * 0.36, height * 0.40))
        painter.drawPoint(QtCore.QPointF(width * 0.64, height * 0.40))
        painter.drawArc(QtCore.QRectF(width * 0.30, height * 0.38, width * 0.40, height * 0.32), 200 * 16, 140 * 16)
    else:
        gradient = QtGui.QLinearGradient(0, 0, 0, height)
        gradient.setColorAt(0, QtGui.QColor(top))
        gradient.setColorAt(1, QtGui.QColor(bottom))
        painter.fillRect(image.rect(), gradient)
        painter.setBrush(QtGui.QColor(255, 255, 255, 70))
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.drawEllipse(QtCore.QPointF(width * 0.5, height * 0.45), width * 0.28, height * 0.28)
        font = QtGui.QFont()
        font.setPixelSize(max(14, height // 10))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QtGui.QColor("white"))
        painter.drawText(
            image.rect().adjusted(0, 0, 0, -height // 12),
            QtCore.Qt.AlignmentFlag.AlignBottom | QtCore.Qt.AlignmentFlag.AlignHCenter,
            label,
        )
    painter.end()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, fmt)  # type: ignore[call-overload]
    return bytes(buffer.data().data())


def seed_media_chat(store: Store) -> str:
    """A chat holding every kind of media (issue 17), newest in the inbox: received photos (with and without a
    caption), a video with its poster, a voice note, an audio file, a PDF, a sticker, a location, a contact card, a
    photo no longer on WhatsApp, a voice note not downloaded yet, and a photo we sent, read."""
    from datetime import timedelta

    from app.core.media import MediaInfo
    from app.store.ops.media import attach_received
    from tests.support.ogg_opus import silent_ogg_opus

    contact = store.contacts.create(name="Marta Oliveira", phone="+351912345678")
    chat = store.chats.create(contact_id=contact.id)
    start = datetime.now(UTC) - timedelta(minutes=40)
    minute = iter(range(100))

    def add(info: MediaInfo, caption: str = "", data: bytes = b"", direction: str = "in", **extra: object) -> str:
        message = store.messages.create(
            chat_id=chat.id,
            direction=direction,
            body=caption,
            kind=info.kind,
            media=info.model_dump(mode="json"),
            sent_at=start + timedelta(minutes=next(minute) * 3),
            **extra,
        )
        if data:
            attach_received(store, message.id, data, info.mime)
        return message.id

    store.messages.create(chat_id=chat.id, direction="in", body="Hi! Do you still have the linen dress?", sent_at=start)
    dress = media_picture(900, 1200, "#e9c46a", "#e76f51", "Linen dress")
    add(MediaInfo(kind="image", mime="image/jpeg", width=900, height=1200), "This one, in size M please 🙏", dress)
    add(
        MediaInfo(kind="image", mime="image/jpeg", width=1200, height=800),
        "",
        media_picture(1200, 800, "#8ecae6", "#219ebc", "Fitting room"),
    )
    poster_id = store.media.put(media_picture(640, 480, "#264653", "#2a9d8f", "Unboxing"), "image/jpeg")
    video_id = add(  # tests/data/clip_h264.mp4: 2 s of a test pattern, 4:3
        MediaInfo(kind="video", mime="video/mp4", width=640, height=480, duration_s=2),
        "How it looks when it arrives",
        (ROOT / "tests" / "data" / "clip_h264.mp4").read_bytes(),
    )
    stored = MediaInfo.model_validate(store.messages.get(video_id).media)
    store.messages.update(
        video_id, media=stored.model_copy(update={"thumb_blob_id": poster_id}).model_dump(mode="json")
    )
    add(MediaInfo(kind="voice", mime="audio/ogg", duration_s=12), "", silent_ogg_opus(12.0))
    add(
        MediaInfo(kind="audio", mime="audio/mpeg", duration_s=95, file_name="Delivery options explained.mp3"),
        "",
        silent_ogg_opus(3.0),
    )
    add(
        MediaInfo(kind="document", mime="application/pdf", file_name="Spring price list 2026.pdf"),
        "Our prices",
        b"%PDF-1.4 " + bytes(180_000),
    )
    add(
        MediaInfo(kind="sticker", mime="image/png", width=300, height=300),
        "",
        media_picture(300, 300, "#ffb703", "#3d2c00", "sticker", "PNG"),
    )
    add(MediaInfo(kind="location", latitude=38.71078, longitude=-9.13659, place="Rua Augusta 120, Lisboa"))
    add(
        MediaInfo(
            kind="contact", vcard="BEGIN:VCARD\nVERSION:3.0\nFN:Rui Costa (courier)\nTEL:+351911111111\nEND:VCARD"
        )
    )
    add(MediaInfo(kind="image", mime="image/jpeg", state="unavailable"), "The old photo from March")
    add(MediaInfo(kind="voice", mime="audio/ogg", duration_s=31, state="missing"))
    sent = media_picture(800, 800, "#cdb4db", "#6d597a", "Size M — in stock")
    add(
        MediaInfo(kind="image", mime="image/jpeg", width=800, height=800),
        "Here it is in M, ready to ship today ✨",
        sent,
        direction="out",
        status="read",
    )
    return chat.id


def shoot_media_chat(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str, chat_id: str
) -> None:
    """Issue 17's media in the chat: every kind, top and bottom of the conversation; a photo's context menu; the
    viewer on a photo and on a playing video; the voice player."""
    from app.ui.widgets.bubble_delegate import BubbleDelegate

    window.show_section("inbox")
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    inbox.open_chat(chat_id)
    ctx.tasks.drain()
    settle(app, 300)
    wait_for(app, "the media chat", lambda: inbox.chat_id == chat_id and inbox.chat_model.rowCount() > 10)
    # The conversation a screen at a time, top to bottom: every kind once.
    bar = inbox.conversation.verticalScrollBar()
    page, value = 1, 0
    while True:
        bar.setValue(value)
        settle(app, 300)
        grab(app, window, out / f"{mode}-43-media-chat-{page}.png")
        if value >= bar.maximum():
            break
        page, value = page + 1, min(bar.maximum(), value + bar.pageStep() * 9 // 10)
    inbox.conversation.scroll_to_bottom()
    model = inbox.chat_model
    items = [model.item(row) for row in range(model.rowCount())]
    photo = next(it for it in items if it.media is not None and it.media.kind == "image" and it.text)
    video = next(it for it in items if it.media is not None and it.media.kind == "video")
    voice = next(it for it in items if it.media is not None and it.media.kind == "voice" and it.media.blob_id)
    row = model.row_of(photo.id)
    inbox.conversation.scrollTo(model.index(row, 0))
    settle(app, 200)
    menu = inbox.message_menu(photo.id)
    assert menu is not None
    menu.popup(inbox.conversation.viewport().mapToGlobal(inbox.conversation.visualRect(model.index(row, 0)).center()))
    settle(app, 300)
    app.primaryScreen().grabWindow(0).save(str(out / f"{mode}-43-media-menu.png"))
    print(out / f"{mode}-43-media-menu.png")
    menu.close()
    delegate = inbox.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    delegate.open_media(photo, inbox.conversation)
    viewer = delegate.viewer
    assert viewer is not None
    grab(app, viewer, out / f"{mode}-43-media-viewer-photo.png")
    viewer.go(next(i for i, v in enumerate(viewer.items) if v.key == video.id))
    player = viewer.video
    assert player is not None
    wait_for(app, "the video to play", lambda: player.player.position() > 500, timeout=20)
    player.player.pause()
    grab(app, viewer, out / f"{mode}-43-media-viewer-video.png")
    viewer.close()
    delegate.open_media(voice, inbox.conversation)
    popup = delegate.voice
    assert popup is not None
    wait_for(app, "the voice note to play", lambda: popup.player.player.position() > 1500, timeout=20)  # type: ignore[attr-defined]
    popup.player.player.pause()  # type: ignore[attr-defined]
    grab(app, popup, out / f"{mode}-43-media-voice-player.png")
    popup.close()
    settle(app, 100)


def shoot_settings(app: QtWidgets.QApplication, window: MainWindow, out: Path, mode: str) -> None:
    """Settings (issue 16): the section list with one section at a time (the keyring option disabled, with its
    reason, on this keyring-less machine), a search across sections, and a search with no match."""
    from app.ui.pages.settings import SettingsPage

    page = window.show_section("settings")
    assert isinstance(page, SettingsPage)
    for name in ("WhatsApp", "AI", "Security"):
        page.select_section(name)
        grab(app, window, out / f"{mode}-41-settings-{name.lower()}.png")
    for name, query in (("search", "message"), ("no-match", "zebra crossing")):
        page.nav.search.setText(query)
        grab(app, window, out / f"{mode}-41-settings-{name}.png")
    page.clear_search()
    page.select_section("Workspace")  # the next window opens Settings where it was first


def start_shots(
    parser: argparse.ArgumentParser | None = None,
) -> tuple[argparse.Namespace, Path, QtWidgets.QApplication]:
    """What every screenshot script does first: ``--out``, refuse to run outside Xvfb's xcb, the QApplication."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "build" / "screenshots"))
    args = parser.parse_args()
    if os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb" or not os.environ.get("DISPLAY"):
        raise SystemExit("run under Xvfb with the xcb platform: make screenshots")
    return args, Path(args.out), QtWidgets.QApplication(sys.argv)


def shoot_product_cards(app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str) -> None:
    """Issue 17's product cards: the catalogue with photos, a product's editor with its photo, the composer's
    paperclip → Product… picker filtered by typing, and a chat with a product card sent. The first call gives the
    seeded products photos and seeds the chat; later calls (the other theme) reuse them."""
    from app.store.ops.media import queue_product_card, set_product_photo
    from app.ui.dialogs.product_picker import ProductPickerDialog
    from app.ui.pages.products import ProductsPage

    store = ctx.store
    colours = [("#e9c46a", "#e76f51"), ("#8ecae6", "#219ebc"), ("#cdb4db", "#6d597a"), ("#95d5b2", "#2d6a4f")]
    products = store.products.find_all({"active": True}, order_by="name")
    for n, product in enumerate(p for p in products if p.photo_blob_id is None and p.stock is not None):
        top, bottom = colours[n % len(colours)]  # goods get a photo; services and gift cards stay without
        set_product_photo(store, product.id, media_picture(800, 800, top, bottom, product.name), "image/jpeg")
    contact = store.contacts.find_all({"phone": "+5511987650000"})
    if not contact:
        julia = store.contacts.create(name="Júlia Santos", phone="+5511987650000")
        chat = store.chats.create(contact_id=julia.id)
        asked = "Oi! Do you have the linen shirt in white? How much is it?"
        store.messages.create(chat_id=chat.id, direction="in", body=asked, sent_at=datetime.now(UTC))
        shirt = next(p for p in store.products.find_all({"name": "Linen shirt"}))
        card = queue_product_card(store, chat.id, shirt.id).value
        store.messages.update(card.id, status="read", sent_at=datetime.now(UTC))
        thanks = "Perfect, I'll take one in M 😍"
        store.messages.create(chat_id=chat.id, direction="in", body=thanks, sent_at=datetime.now(UTC))
        chat_id = chat.id
    else:
        chat_id = store.chats.find_all({"contact_id": contact[0].id})[0].id

    page = window.show_section("products")
    assert isinstance(page, ProductsPage)
    page.reload_products()
    wait_for(app, "the catalogue's photos", lambda: ctx.tasks.idle and bool(page.pictures))
    settle(app, 200)
    grab(app, window, out / f"{mode}-44-products-with-photos.png")
    shirt = next(p for p in page.products if p.name == "Linen shirt")
    editor = page.open_product_editor(shirt)
    wait_for(app, "the product's photo", lambda: ctx.tasks.idle and not editor.photo.preview.pixmap().isNull())
    grab(app, editor, out / f"{mode}-44-product-editor-photo.png")
    editor.close()
    settle(app, 100)

    window.show_section("inbox")
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    inbox.open_chat(chat_id)
    ctx.tasks.drain()
    wait_for(app, "the chat with the card", lambda: inbox.chat_id == chat_id and inbox.chat_model.rowCount() >= 3)
    inbox.conversation.scroll_to_bottom()
    settle(app, 300)
    grab(app, window, out / f"{mode}-44-chat-product-card.png")
    picker = inbox.product_cards.choose()
    assert isinstance(picker, ProductPickerDialog)
    wait_for(app, "the picker's catalogue", lambda: bool(picker.products))
    picker.search.setText("lin")
    settle(app, 200)
    grab(app, picker, out / f"{mode}-44-product-picker.png")
    picker.reject()
    settle(app, 100)


def health_watch_for_shots(ctx: AppContext) -> HealthWatch:
    """The health monitor for the shots (issue 18): the real checks on the seeded workspace, the disk reading fixed at
    1.4 GB free (one warning), and a day of history written as five-minute runs would have: the phone offline for
    half an hour this morning, the disk getting low three hours ago."""
    monitor = HealthMonitor(
        ctx.store,
        ctx.workspaces.paths(ctx.workspace.workspace_id).root,
        whatsapp=lambda: ctx.whatsapp.status,
        free_bytes=lambda _folder: int(1.4 * GB),
    )
    now = datetime.now(UTC)
    rows: list[tuple[int, str, str, str, float | None]] = []
    for step in range(288, 0, -1):
        at = now - timedelta(minutes=5 * step)
        ms = int(at.timestamp() * 1000)
        offline = timedelta(hours=9) >= now - at >= timedelta(hours=8, minutes=30)
        low = now - at <= timedelta(hours=3)
        rows += [
            (ms, "whatsapp", "warn", "The phone is offline: messages wait until it is back online.", 2.0)
            if offline
            else (ms, "whatsapp", "ok", "Connected and the page self-test passed.", 0.0),
            (ms, "database", "ok", "The database (38 MB) is intact.", 180.0),
            (ms, "ai", "ok", "No AI calls in the last hour.", None),
            (ms, "sync", "ok", "Not in a team: nothing to sync.", None),
            (ms, "disk", "warn", "1.4 GB free on the workspace's disk: running low.", 1433.6)
            if low
            else (ms, "disk", "ok", "2.1 GB free on the workspace's disk.", 2150.4),
        ]
    with ctx.store.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO health_checks (checked_at, name, status, sentence, value) VALUES (?, ?, ?, ?, ?)", rows
        )
    return HealthWatch(ctx, monitor)


def shoot_health(app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str) -> None:
    """The Health page after "Check now" with one warning (disk space), and its banner above the inbox."""
    watch = ctx.health
    assert watch is not None
    window.health_banner.dismissed = False
    ctx.whatsapp.publish(connected_quiet_hours(waiting=0))
    settle(app, 200)
    page = window.show_section("health")
    assert isinstance(page, HealthPage)
    watch.check_now()
    wait_for(
        app,
        "the health check",
        lambda: (
            ctx.tasks.idle
            and not watch.busy
            and page.rows["disk"].status == "warn"
            and len(page.rows["ai"].strip.results) > 200
        ),
    )
    settle(app, 200)
    grab(app, window, out / f"{mode}-45-health.png")
    window.show_section("inbox")
    grab(app, window, out / f"{mode}-45-health-banner.png")


def seed_agents(ctx: AppContext) -> str:
    """The agents as a shop that uses them (issue 18): acquisition on autopilot (two versions, the second with a
    note), welcome on, a day of runs in the log (sent, skipped for a person, the cooldown, greeted), waiting and
    finished jobs, the dry run's agents; and a new customer's chat, which is returned."""
    from app.agents import configs
    from app.agents.greetings import GreetingsAgent, GreetingsConfig, save_config_version
    from app.agents.orchestrator import Orchestrator

    store = ctx.store
    configs.save(store, "acquisition", enabled=True, mode="draft", note="Drafts first")
    configs.save(store, "acquisition", mode="autopilot", config={"pause_hours": 8}, note="Autopilot after a week")
    save_config_version(store, GreetingsConfig(welcome_enabled=True))
    rows = store.inbox(limit=6)
    now = datetime.now(UTC)
    runs = [
        ("acquisition", rows[0].chat_id, None, "sent", 2),
        ("acquisition", rows[1].chat_id, "owned_by_person", None, 3),
        ("greetings", rows[2].chat_id, "recently_greeted", None, 4),
        ("acquisition", rows[2].chat_id, "cooldown", None, 5),
        ("acquisition", rows[3].chat_id, "debounced", None, 7),
        ("greetings", rows[4].chat_id, None, "send_welcome", 9),
        ("acquisition", rows[5].chat_id, "outside_hours", None, 12),
    ]
    for agent, chat_id, skip, action, minutes in runs:
        at = now - timedelta(minutes=minutes)
        store.agent_executions.create(
            agent=agent, trigger="message.received", event_name="message.received", started_at=at, finished_at=at,
            status="skipped" if skip else "succeeded", skip_reason=skip, action=action, chat_id=chat_id,
            config_version=3 if agent == "acquisition" else None,
        )  # fmt: skip
    store.jobs.schedule("finance_check", {}, now + timedelta(hours=9), dedupe_key="finance:check:shots")
    store.jobs.schedule("retention_followup", {}, now + timedelta(days=2), dedupe_key="followup:sale:shots:d3")
    ana = store.contacts.create(name="Ana Ribeiro", phone="+5511912340000")
    chat = store.chats.create(contact_id=ana.id)
    asked = "Hi! Is the linen shirt still available in M?"
    store.messages.create(chat_id=chat.id, direction="in", body=asked, sent_at=now)
    ctx.agents = Orchestrator(store, [GreetingsAgent()], loop=ctx.tasks.service_loop)
    return chat.id


def shoot_agents(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str, chat: str
) -> None:
    """The Agents page (issue 18): acquisition's settings and versions, the log filtered to skipped runs, a dry run
    of the welcome on a new customer's chat, and the jobs list."""
    from app.ui.pages.agents import AgentsPage

    ctx.whatsapp.publish(connected_quiet_hours(waiting=0))  # the earlier shots left WhatsApp failed
    page = window.show_section("agents")
    assert isinstance(page, AgentsPage)
    page.refresh()
    wait_for(app, "the agents", lambda: ctx.tasks.idle and page.editors["acquisition"].history.rowCount() >= 3)
    page.show_agent("acquisition")
    settle(app, 200)
    grab(app, window, out / f"{mode}-46-agents-settings.png")
    page.tabs.setCurrentWidget(page.log)
    page.log.skipped.setChecked(True)
    wait_for(app, "the log", lambda: ctx.tasks.idle and page.log.table.rowCount() >= 5)
    grab(app, window, out / f"{mode}-46-agents-log-skipped.png")
    page.log.skipped.setChecked(False)
    page.tabs.setCurrentWidget(page.try_on)
    wait_for(app, "the chats", lambda: ctx.tasks.idle and page.try_on.chat.findData(chat) >= 0)
    page.try_on.choose("greetings", chat)
    page.try_on.try_now()
    wait_for(app, "the dry run", lambda: ctx.tasks.idle and page.try_on.card.isVisible())
    grab(app, window, out / f"{mode}-46-agents-try-on.png")
    page.tabs.setCurrentWidget(page.jobs)
    page.jobs.refresh()
    wait_for(app, "the jobs", lambda: ctx.tasks.idle and page.jobs.table.rowCount() >= 2)
    grab(app, window, out / f"{mode}-46-agents-jobs.png")
    page.tabs.setCurrentIndex(0)


def shoot_ownership(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str, chat_id: str
) -> None:
    """Who owns the conversation, in the chat header (issue 18): AI autopilot with "Take over", then paused by a
    reply typed by a person with "Hand back to AI" (the reply is removed again)."""
    store = ctx.store
    window.show_section("inbox")
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    inbox.open_chat(chat_id)
    wait_for(app, "the owner", lambda: ctx.tasks.idle and inbox.ownership.chip.text() == "AI autopilot")
    grab(app, window, out / f"{mode}-47-chat-owner-autopilot.png")
    typed = store.messages.create(
        chat_id=chat_id, direction="out", body="I'll check the stock for you now.", sent_at=datetime.now(UTC),
        author_user_id=store.local_user_id, status="sent",
    )  # fmt: skip
    wait_for(app, "the pause", lambda: ctx.tasks.idle and inbox.ownership.chip.text().startswith("Paused"))
    inbox.conversation.scroll_to_bottom()
    settle(app, 200)
    grab(app, window, out / f"{mode}-47-chat-owner-paused.png")
    store.messages.delete(typed.id)
    wait_for(app, "the owner again", lambda: ctx.tasks.idle and inbox.ownership.chip.text() == "AI autopilot")


def newer_workspace(home: Path) -> Workspaces:
    """A home whose one workspace was written by a newer Parley: start-up shows it rather than offer "create"."""
    workspaces, store = new_workspace(home, "Harbour Florist", "Sam Lee")
    workspace_id = store.meta("workspace_id") or ""
    store.close()
    header = home / "workspaces" / workspace_id / "workspace.json"
    header.write_text(header.read_text().replace('"format": 1', '"format": 9'))
    return workspaces


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=400)
    parser.add_argument("--messages", type=int, default=12000)
    args, out, app = start_shots(parser)
    app.setApplicationName("Parley")

    with tempfile.TemporaryDirectory(prefix="parley-shots-") as tmp:
        home = Path(tmp)
        workspaces, store = new_workspace(home)
        report = populate(store, chats=args.chats, messages=args.messages, seed=7)
        print(f"seeded {report.chats} chats, {report.messages} messages")
        ctx = shots_context(workspaces, store)
        tasks = ctx.tasks
        waiting = queue_some(store)
        media_chat = seed_media_chat(store)
        broken = newer_workspace(home / "other-home")
        ctx.whatsapp.attach(RecordingControl())
        ctx.health = health_watch_for_shots(ctx)
        agents_chat = seed_agents(ctx)

        for mode in ("light", "dark"):
            theme.apply(app, mode)
            create = CreateWorkspaceDialog(keyring_available=False, keyring_name="keyring.backends.fail.Keyring")
            create.business.setText("Lumen Boutique")
            create.owner.setText("Alex Morgan")
            grab(app, create, out / f"{mode}-01-create-workspace.png")
            create.close()
            unlock = UnlockDialog(workspaces.available())
            unlock.show_error("That passphrase is not right for this workspace. Check the passphrase and try again.")
            grab(app, unlock, out / f"{mode}-02-unlock-error.png")
            unlock.close()
            unlock = UnlockDialog(workspaces.available())
            unfinished = KeyChangeUnfinished(
                "The change of passphrase of workspace 'Lumen Boutique' did not finish: enter the previous passphrase."
            )
            unlock.show_error(f"{unfinished} {unfinished.hint}")
            grab(app, unlock, out / f"{mode}-02-unlock-unfinished-change.png")
            unlock.close()
            unusable = UnusableWorkspacesDialog(broken.unusable(), others=False)
            grab(app, unusable, out / f"{mode}-02-unusable-workspace.png")
            unusable.close()
            paste = PasteKnowledgeDialog(ctx)
            paste.title.setText("Returns policy")
            grab(app, paste, out / f"{mode}-30-dialog-paste-text.png")
            paste.close()
            for name, dialog in (
                ("change-passphrase", ChangePassphraseDialog(ctx)),
                ("backup", BackupDialog(ctx)),
                ("restore", RestoreDialog(ctx)),
            ):
                grab(app, dialog, out / f"{mode}-31-dialog-{name}.png")
                dialog.close()
            switcher = QuickSwitcher(ctx)
            switcher.open_switcher()
            grab(app, switcher, out / f"{mode}-32-quick-switcher.png")
            switcher.close()
            sheet = ShortcutsSheet()  # Ctrl+/ (issue 16, "Keyboard")
            grab(app, sheet, out / f"{mode}-33-keyboard-shortcuts.png")
            sheet.close()

            ctx.settings.appearance.theme = mode
            ctx.whatsapp.publish(connected_quiet_hours(waiting=waiting, failed=1))
            window = MainWindow(ctx, SECTIONS)
            window.resize(1360, 840)
            inbox = window.pages["inbox"]
            assert isinstance(inbox, InboxPage)
            first = inbox.model.row(0)
            grab(app, window, out / f"{mode}-03-inbox-no-chat.png")  # the customer panel's empty state (16)
            inbox.open_chat(first.chat_id)
            grab(app, window, out / f"{mode}-03-inbox.png")
            # The customer panel (issue 16.3): Save enabled by an edit; switching chats saves it and says so; an
            # edit that cannot be saved keeps the customer on screen and asks. The store is put back afterwards.
            panel = inbox.panel
            kept = store.contacts.get(panel.contact.id if panel.contact else "")
            panel.tags.setText(", ".join([*kept.tags, "gift wrap"]))
            grab(app, window, out / f"{mode}-03-customer-edited.png")
            inbox.open_chat(inbox.model.row(1).chat_id)
            wait_for(app, "the edits saved", lambda p=panel: tasks.idle and p.status.text().startswith("Saved changes"))
            grab(app, window, out / f"{mode}-03-customer-saved-on-switch.png")
            inbox.open_chat(first.chat_id)
            panel.email.setText("ana@")
            inbox.open_chat(inbox.model.row(1).chat_id)
            wait_for(app, "the question", lambda p=panel: p.question is not None and p.question.isVisible())
            grab(app, window, out / f"{mode}-03-customer-not-saved-asks.png")
            question = panel.question
            assert question is not None
            grab(app, question, out / f"{mode}-03-customer-not-saved-question.png")
            [discard] = [b for b in question.buttons() if b.text() == "Discard changes"]
            discard.click()
            store.contacts.update(kept.id, tags=kept.tags)
            inbox.open_chat(first.chat_id)
            tasks.drain()
            settle(app, 200)
            # The composer names the recipient; after Send, "Undo" while the message is still queued (issue 16.2).
            undo_bar = inbox.undo_bar
            inbox.composer.edit.setPlainText("Yes, it ships tomorrow before noon.")
            inbox.composer.send_button.click()
            wait_for(app, "the undo bar", lambda bar=undo_bar: bar.offered)
            grab(app, window, out / f"{mode}-03-inbox-undo-send.png")
            undo_bar.undo()  # taken back: the later shots show the same queue
            wait_for(app, "the undo bar to close", lambda bar=undo_bar: tasks.idle and not bar.isVisible())
            inbox.composer.clear()
            # A reader who scrolled up is not moved by a new message: "New messages ↓" (issue 16.7).
            scroll = inbox.conversation.verticalScrollBar()
            scroll.setValue(scroll.maximum() // 2)
            asked = "Is the blue one still available?"
            incoming = store.messages.create(
                chat_id=first.chat_id, direction="in", body=asked, sent_at=datetime.now(UTC)
            )
            wait_for(app, "the new-messages button", inbox.conversation.new_messages.isVisible)
            grab(app, window, out / f"{mode}-03-inbox-new-messages.png")
            store.messages.delete(incoming.id)  # the later shots show the workspace as seeded
            inbox.conversation.scroll_to_bottom()
            inbox.search.setText("delivery")
            inbox._run_search()
            tasks.drain()
            settle(app, 400)
            grab(app, window, out / f"{mode}-04-inbox-search.png")
            inbox.search.clear()
            for number, section in enumerate(SECTIONS[1:], start=5):
                window.show_section(section.key)
                grab(app, window, out / f"{mode}-{number:02d}-{section.key}.png")
            number += 1
            window.show_section("whatsapp")
            for name, status in (
                ("scan-qr", scan_qr()),
                ("connected", connected_quiet_hours(waiting=waiting, failed=1)),
                ("failed", failed_broken(waiting=waiting, failed=1)),
            ):
                ctx.whatsapp.publish(status)
                settle(app, 400)  # the status arrives, then the queue is re-read
                tasks.drain()
                grab(app, window, out / f"{mode}-{number:02d}-whatsapp-{name}.png")
                number += 1
            shoot_product_cards(app, window, ctx, out, mode)
            shoot_pipeline_many_stages(app, window, ctx, out / f"{mode}-40-pipeline-many-stages.png")
            shoot_settings(app, window, out, mode)
            shoot_inbox_states(app, window, ctx, out, mode)
            shoot_media_chat(app, window, ctx, out, mode, media_chat)
            shoot_agents(app, window, ctx, out, mode, agents_chat)
            shoot_ownership(app, window, ctx, out, mode, agents_chat)
            shoot_health(app, window, ctx, out, mode)  # last: its banner stays on the window
            close_window(app, window)
        close_context(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
