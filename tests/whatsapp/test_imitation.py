"""The WhatsApp Web imitation in real headless Chromium: the hooks and behaviours a driver relies on.

Sync Playwright; the browser (``sync_browser``) and the imitation (``server``, ``control``) come from ``conftest``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

QR_CANVAS = 'div[data-ref] canvas[aria-label="Scan this QR code to link a device!"]'
CHAT_LIST = '#pane-side div[aria-label="Chat list"][role=grid][aria-rowcount]'
COMPOSER = "#main footer div.selectable-text[contenteditable=true][role=textbox][data-tab]"
PRE_PLAIN = re.compile(r"^\[\d\d:\d\d, \d\d/\d\d/\d{4}\] (?P<author>.+): $")
WEB_ID = re.compile(r"^3EB0[0-9A-F]{18}$")
ALICE = "6590000001"
BOB = "6590000002"

expect.set_options(timeout=5000)


@pytest.fixture
def page(sync_browser: Browser) -> Iterator[Page]:
    context = sync_browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()


def _chat(state: dict[str, Any], phone: str) -> dict[str, Any]:
    return next(c for c in state["chats"] if c["phone"] == phone)


def _log_in(page: Page, server: ImitationServer, control: ImitationControl, query: str = "") -> None:
    control.scan()
    page.goto(f"{server.url}/{query}")
    expect(page.locator(CHAT_LIST)).to_be_visible()


def _row(page: Page, name: str) -> Any:
    return page.locator("#pane-side [role=row], #pane-side [role=listitem]").filter(
        has=page.locator(f'span[dir=auto][title="{name}"]')
    )


def test_qr_rotates_in_place_then_expires(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    # Generous times: the loading screen and each code must still be there when a loaded machine looks.
    page.goto(f"{server.url}/?slow=2500&qr_ms=1200&qr_rotations=2")
    expect(page.locator("#startup progress")).to_be_attached()
    canvas = page.locator(QR_CANVAS)
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => [c.width, c.height]") == [264, 264]
    expect(page.locator("div[data-ref][data-testid=qrcode]")).to_be_visible()
    expect(page.locator(".landing-wrapper .landing-headerTitle")).to_have_text("WhatsApp Web")
    qr = page.locator("div[data-ref]").element_handle()
    assert qr is not None
    first_ref = qr.get_attribute("data-ref")
    assert first_ref
    assert first_ref.startswith("2@")
    # Tools watch data-ref with a MutationObserver on the same element.
    qr.evaluate(
        """el => { window.__refs = [];
        new MutationObserver(() => window.__refs.push(el.getAttribute('data-ref')))
            .observe(el, {attributes: true, attributeFilter: ['data-ref']}); }"""
    )
    page.wait_for_function("() => window.__refs.length >= 1")
    assert qr.evaluate("el => el === document.querySelector('div[data-ref]') && el.isConnected")
    assert qr.get_attribute("data-ref") != first_ref

    reload = page.locator("div[data-ref] > span > button")
    expect(reload).to_contain_text("Click to reload QR code")  # real icons carry an svg <title>
    state = control.wait_for(lambda s: s["qr"]["expired"])
    assert state["qr"]["rotations"] == 2  # two rotations, then expiry
    assert page.evaluate("window.__refs").count(state["qr"]["ref"]) == 1
    assert state["session"] == "unpaired"
    with pytest.raises(Exception, match="409"):
        control.scan()

    seen = [first_ref, *page.evaluate("window.__refs")]
    reload.click()
    expect(canvas).to_be_visible()
    expect(reload).to_have_count(0)
    state = control.wait_for(lambda s: not s["qr"]["expired"] and s["qr"]["ref"] not in seen)
    # The new series rotates on the same element (and may have rotated again since): the server saw a shown code.
    assert state["qr"]["ref"] in page.evaluate("window.__refs")


def test_scan_shows_the_chat_list(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    control.incoming(ALICE, "Hi, is the blue dress in stock?", name="Alice")
    control.incoming(BOB, "Order 1042?", name="Bob")
    page.goto(f"{server.url}/?sync_ms=300")
    expect(page.locator(QR_CANVAS)).to_be_visible()
    shown = page.locator("div[data-ref]").get_attribute("data-ref")
    control.wait_for(lambda s: s["qr"]["ref"] == shown)
    control.scan(ref=shown)  # the phone scans exactly the code on screen

    expect(page.locator("#startup progress")).to_be_attached()
    expect(page.locator("#app .two[tabindex]")).to_be_visible()
    expect(page.locator("div[data-ref]")).to_have_count(0)
    expect(
        page.locator('#side div[contenteditable][role=textbox][title="Search input textbox"][data-tab="3"]')
    ).to_be_visible()
    expect(page.locator("[data-asset-intro-image-light]")).to_be_visible()
    expect(page.locator('h1[data-testid="intro-title"]')).to_be_visible()
    grid = page.locator(CHAT_LIST)
    expect(grid).to_have_attribute("aria-rowcount", "2")
    names = page.locator("#pane-side [role=row] [role=gridcell] span[dir=auto][title]")
    expect(names).to_have_count(2)
    assert names.evaluate_all("els => els.map(e => e.title)") == ["Bob", "Alice"]  # newest first
    expect(_row(page, "Alice").locator('span[aria-label="1 unread message"]')).to_have_text("1")
    assert control.state()["session"] == "logged_in"


def test_incoming_message_badge_and_open_chat(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    control.add_chat(ALICE, "Alice")
    _log_in(page, server, control)
    first = control.incoming(BOB, "Is shipping free?", name="Bob")
    expect(_row(page, "Bob").locator('span[aria-label="1 unread message"]')).to_have_text("1")
    control.incoming(BOB, "To Jurong?", name="Bob")
    expect(_row(page, "Bob").locator('span[aria-label="2 unread messages"]')).to_have_text("2")
    expect(page.locator(CHAT_LIST)).to_have_attribute("aria-rowcount", "2")

    _row(page, "Bob").click()
    expect(page.locator("#main header span[title]")).to_have_attribute("title", "Bob")
    expect(_row(page, "Bob").locator("[aria-label$='unread messages']")).to_have_count(0)
    expect(_row(page, "Bob")).to_have_attribute("aria-selected", "true")
    bubble = page.locator(f'#main [role=row] > div[data-id="false_{BOB}@c.us_{first["id"]}"] > .message-in')
    text_box = bubble.locator(".copyable-text[data-pre-plain-text] > span.selectable-text")
    expect(text_box).to_have_text("Is shipping free?")
    pre = bubble.locator("div.copyable-text[data-pre-plain-text]").get_attribute("data-pre-plain-text")
    assert pre is not None
    match = PRE_PLAIN.match(pre)
    assert match
    assert match["author"] == "Bob"
    control.wait_for(lambda s: _chat(s, BOB)["unread"] == 0 and s["open_chat"] == f"{BOB}@c.us")

    control.incoming(BOB, "Thanks!", name="Bob")
    expect(page.locator("#main .message-in span.selectable-text").last).to_have_text("Thanks!")
    expect(page.locator("#main .message-in")).to_have_count(3)
    expect(_row(page, "Bob").locator("[aria-label*='unread message']")).to_have_count(0)
    assert _chat(control.state(), BOB)["unread"] == 0


def test_typing_and_enter_sends_with_acks(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    control.incoming(ALICE, "Hello?", name="Alice")
    _log_in(page, server, control)
    _row(page, "Alice").click()
    composer = page.locator(COMPOSER)
    expect(composer).to_have_attribute("data-tab", "1")
    expect(composer.locator("p")).to_have_count(1)
    # Setting .value does nothing on a contenteditable.
    composer.evaluate("el => { el.value = 'ignored'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(composer).to_have_text("")
    expect(page.locator('button[aria-label="Send"]')).to_have_count(0)
    page.evaluate(
        """() => { window.__icons = [];
        new MutationObserver(() => document.querySelectorAll('#main .message-out [data-icon^="msg-"]')
            .forEach(i => window.__icons.push(i.dataset.icon + '|' + i.getAttribute('aria-label'))))
            .observe(document.querySelector('#main'), {childList: true, subtree: true}); }"""
    )

    composer.click()
    page.keyboard.type("Yes, in stock")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Size M?")
    expect(composer.locator("p")).to_have_count(2)
    expect(
        page.locator('button[aria-label="Send"][data-testid="compose-btn-send"] span[data-icon="send"]')
    ).to_be_visible()
    page.keyboard.press("Enter")

    out = page.locator("#main [role=row] > div[data-id] > .message-out")
    expect(out).to_have_count(1)
    expect(out.locator("span.selectable-text")).to_have_text("Yes, in stock\nSize M?")
    expect(composer).to_have_text("")
    expect(out.locator('span[data-icon="msg-check"][aria-label=" Sent "]')).to_be_visible()
    icons = page.evaluate("window.__icons")
    assert icons[0] == "msg-time| Pending "
    assert "msg-check| Sent " in icons

    state = control.wait_for(lambda s: any(m["from_me"] and m["ack"] == 1 for m in _chat(s, ALICE)["messages"]))
    sent = next(m for m in _chat(state, ALICE)["messages"] if m["from_me"])
    assert WEB_ID.match(sent["id"]), sent["id"]
    assert sent["text"] == "Yes, in stock\nSize M?"
    assert sent["source"] == "page"
    assert sent["serialized"] == f"true_{ALICE}@c.us_{sent['id']}"
    expect(page.locator(f'#main div[data-id="{sent["serialized"]}"] .message-out')).to_have_count(1)

    control.ack(sent["id"], 2)
    expect(out.locator('span[data-icon="msg-dblcheck"][aria-label=" Delivered "]')).to_be_visible()
    control.ack(sent["id"], 3)
    read = out.locator('span[data-icon="msg-dblcheck"][aria-label=" Read "]')
    expect(read).to_be_visible()
    assert read.evaluate("el => getComputedStyle(el).color") == "rgb(83, 189, 235)"
    expect(_row(page, "Alice").locator('span[data-icon="status-dblcheck"]')).to_be_visible()

    # The send button works too.
    page.keyboard.type("Sent by button")
    page.locator('button[aria-label="Send"]').click()
    expect(out).to_have_count(2)
    control.wait_for(lambda s: sum(m["from_me"] for m in _chat(s, ALICE)["messages"]) == 2)


def test_reload_keeps_session_and_logout_shows_qr(
    page: Page, server: ImitationServer, control: ImitationControl
) -> None:
    control.incoming(ALICE, "Hello", name="Alice")
    _log_in(page, server, control)
    page.goto(f"{server.url}/?slow=400")  # a reload passes through the loading screen again
    expect(page.locator("#startup progress")).to_be_attached()
    expect(page.locator(CHAT_LIST)).to_be_visible()
    expect(_row(page, "Alice")).to_be_visible()
    page.reload()
    expect(_row(page, "Alice")).to_be_visible()

    control.logout()
    page.wait_for_url(re.compile(r"/\?post_logout=1$"))
    expect(page.locator(QR_CANVAS)).to_be_visible()
    expect(page.locator("#pane-side")).to_have_count(0)
    assert control.state()["session"] == "unpaired"


def test_send_url_prefills_or_rejects(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    _log_in(page, server, control)
    page.goto(f"{server.url}/send?phone=%2B65%209000%200003&text=Your%20order%20is%20ready")
    expect(page.locator("#main header span[title]")).to_have_attribute("title", "+6590000003")
    composer = page.locator(COMPOSER)
    expect(composer.locator("p")).to_have_text("Your order is ready")
    page.wait_for_url(re.compile(r"/$"))
    composer.press("Enter")
    expect(page.locator("#main .message-out span.selectable-text")).to_have_text("Your order is ready")
    control.wait_for(lambda s: any(c["phone"] == "6590000003" and c["messages"] for c in s["chats"]))

    page.goto(f"{server.url}/send?phone=not-a-number&text=x")
    expect(page.get_by_text("Phone number shared via url is invalid.")).to_be_visible()
    expect(page.locator("#main")).to_have_count(0)


def test_variant_2026_exposes_the_new_hooks(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    control.incoming(ALICE, "Hello", name="Alice")
    page.goto(f"{server.url}/?variant=2026")
    expect(page.locator(QR_CANVAS)).to_be_visible()
    assert page.locator("[data-testid]").count() == 0
    control.scan()
    expect(page.locator(CHAT_LIST)).to_be_visible()
    expect(page.locator("#pane-side [role=listitem] span[dir=auto][title=Alice]")).to_be_visible()
    assert page.locator("#pane-side [role=row], #pane-side [role=gridcell]").count() == 0
    _row(page, "Alice").click()
    composer = page.locator(COMPOSER)
    expect(composer).to_have_attribute("data-tab", "10")
    composer.click()
    page.keyboard.type("New look")
    send = page.locator('button[aria-label="Send"] span[data-icon="wds-ic-send-filled"]')
    expect(send).to_be_visible()
    assert page.locator('span[data-icon="send"]').count() == 0
    # data-testid hooks vanished in August 2023; 2026 builds expose a few again (msg-meta, document-thumb, ...).
    testids = page.locator("[data-testid]").evaluate_all("els => els.map((e) => e.dataset.testid)")
    assert set(testids) <= {"msg-meta"}
    send.click()
    state = control.wait_for(lambda s: any(m["from_me"] for m in _chat(s, ALICE)["messages"]))
    sent = next(m for m in _chat(state, ALICE)["messages"] if m["from_me"])
    # Since April 2026 the DOM data-id is the bare message id.
    expect(page.locator(f'#main [role=row] > div[data-id="{sent["id"]}"] > .message-out')).to_be_visible()


def test_phone_offline_banner(page: Page, server: ImitationServer, control: ImitationControl) -> None:
    control.incoming(ALICE, "Hello", name="Alice")
    _log_in(page, server, control)
    banner = page.locator('#side [data-icon="alert-phone"]')
    expect(banner).to_have_count(0)
    control.phone_online(False)
    expect(banner).to_be_visible()
    expect(page.locator("#side")).to_contain_text("Trying to reach phone")
    assert control.state()["phone_online"] is False
    page.reload()  # the phone is still offline after a reload
    expect(banner).to_be_visible()
    control.phone_online(True)
    expect(banner).to_have_count(0)
    expect(_row(page, "Alice")).to_be_visible()


def test_chat_list_is_virtualized_like_the_real_page(
    page: Page, server: ImitationServer, control: ImitationControl
) -> None:
    """Only about a screenful of the 60 chats is in the DOM (aria-rowcount says 60); scrolling the pane renders the
    others, in place of the ones scrolled away, as WhatsApp Web's list does."""
    for n in range(60):
        control.incoming(f"659300{n:04d}", f"hello {n}", name=f"Shopper {n:02d}")
    _log_in(page, server, control)
    expect(page.locator(CHAT_LIST)).to_have_attribute("aria-rowcount", "60")
    rows = page.locator("#pane-side [role=row]")
    rendered = rows.count()
    assert 0 < rendered < 20, rendered
    expect(_row(page, "Shopper 59")).to_have_count(1)  # the newest is on top
    expect(_row(page, "Shopper 00")).to_have_count(0)  # the oldest is not in the DOM at all
    page.locator("#pane-side").evaluate("pane => { pane.scrollTop = pane.scrollHeight; }")
    expect(_row(page, "Shopper 00")).to_have_count(1)
    expect(_row(page, "Shopper 59")).to_have_count(0)
    assert rows.count() < 20
