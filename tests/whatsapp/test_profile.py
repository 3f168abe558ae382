"""The packaged page profile against the WhatsApp Web imitation in real headless Chromium (async Playwright).

pytest-asyncio is not installed: ``browser_runner`` (``conftest``) owns one event loop and one browser per module, and
each test runs its scenario on that loop in a fresh browser context.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from app.whatsapp.probe import first_match, self_test
from app.whatsapp.profile import Entry, Profile
from tests.support.whatsapp_fixtures import BrowserRunner
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

# The test's own view of the page states, independent of the profile under test.
QR_CANVAS = "div[data-ref] canvas"
CHAT_LIST = "#pane-side [aria-label='Chat list']"
HEADER_TITLE = "#main header span[title]"
ALICE = "6590000001"

expect.set_options(timeout=5000)


async def _open_alice(page: Page, server: ImitationServer, control: ImitationControl, query: str = "") -> None:
    control.incoming(ALICE, "Is the blue dress in stock?", name="Alice")
    control.scan()
    await page.goto(f"{server.url}/{query}")
    await expect(page.locator(CHAT_LIST)).to_be_visible()
    await page.locator("#pane-side span[dir=auto][title=Alice]").click()
    await expect(page.locator(HEADER_TITLE)).to_have_attribute("title", "Alice")


def test_classic_page_passes_every_state_without_fallbacks(
    browser_runner: BrowserRunner, server: ImitationServer, control: ImitationControl, profile: Profile
) -> None:
    async def scenario(page: Page) -> None:
        control.incoming(ALICE, "Is the blue dress in stock?", name="Alice")
        await page.goto(server.url)
        await expect(page.locator(QR_CANVAS)).to_be_visible()
        landing = await self_test(page, profile, "landing")
        assert landing.ok, landing.message
        assert landing.used_fallbacks == []
        assert landing.result("qr_container").matched == 0
        assert landing.missing_optional == ["startup", "qr_reload"]  # loading is over; the QR has not expired
        shown = await page.evaluate(profile.scripts["read_qr_ref"])
        assert isinstance(shown, str)
        assert shown.startswith("2@")
        control.scan(ref=shown)

        await expect(page.locator(CHAT_LIST)).to_be_visible()
        logged_in = await self_test(page, profile, "logged_in")
        assert logged_in.ok, logged_in.message
        assert logged_in.used_fallbacks == []
        # Alice's row and its unread badge are there; the phone is online, so no offline banner (and no own message
        # shows ticks in the chat list yet, for profiles that look for them).
        assert "phone_offline" in logged_in.missing_optional
        assert set(logged_in.missing_optional) <= {"phone_offline", "chat_row_ack"}
        assert await page.evaluate(profile.scripts["is_logged_in"]) is True

        row = await first_match(page, profile, "chat_row")
        assert row is not None
        await row.click()
        await expect(page.locator(HEADER_TITLE)).to_have_attribute("title", "Alice")
        composer = await first_match(page, profile, "composer")
        assert composer is not None
        await composer.click()
        await page.keyboard.type("Yes, size M")
        await expect(page.locator('button[aria-label="Send"]')).to_be_visible()
        chat_open = await self_test(page, profile, "chat_open", draft=True)
        assert chat_open.ok, chat_open.message
        assert chat_open.used_fallbacks == []
        assert chat_open.result("send_button").matched == 0
        assert "ack_icon" in chat_open.missing_optional  # nothing sent yet
        assert await composer.evaluate(profile.scripts["composer_text"]) == "Yes, size M"

        send = await first_match(page, profile, "send_button")
        assert send is not None
        await send.click()
        await expect(page.locator("#main .message-out")).to_have_count(1)
        after = await self_test(page, profile, "chat_open")
        assert after.ok, after.message
        assert after.used_fallbacks == []
        # Alice's chat is open, so it was read; the contact-info drawer is closed.
        # (no media in this chat: tests/whatsapp/test_media.py checks those entries)
        assert [name for name in after.missing_optional if not name.startswith("media_")] == [
            "unread_badge",
            "phone_offline",
            "contact_info_phone",
            "contact_info_close",
        ]
        assert [r.name for r in after.results if r.name == "send_button"] == []  # not checked without a draft
        messages = await page.evaluate(profile.scripts["read_messages"])
        assert [(m["out"], m["text"]) for m in messages] == [
            (False, "Is the blue dress in stock?"),
            (True, "Yes, size M"),
        ]
        assert messages[1]["ack"].startswith("msg-")

    browser_runner.run(scenario)


def test_contact_info_drawer_entries(
    browser_runner: BrowserRunner, server: ImitationServer, control: ImitationControl, profile: Profile
) -> None:
    async def scenario(page: Page) -> None:
        await _open_alice(page, server, control)
        header = await first_match(page, profile, "chat_header_info")
        assert header is not None
        await header.click()
        await expect(page.locator("section", has_text="Contact info")).to_be_visible()
        report = await self_test(page, profile, "chat_open")
        assert report.ok, report.message
        for name in ("chat_header_info", "contact_info_phone", "contact_info_close"):
            assert report.result(name).matched == 0, name
        texts = await page.locator(profile.entry("contact_info_phone").selectors[0]).all_inner_texts()
        assert texts[:2] == ["Alice", "+65 9000 0001"]  # name, then number (then the about text)
        close = await first_match(page, profile, "contact_info_close")
        assert close is not None
        await close.click()
        await expect(page.locator("section")).to_have_count(0)
        assert await first_match(page, profile, "contact_info_phone") is None

    browser_runner.run(scenario)


def test_2026_variant_passes_with_fallbacks(
    browser_runner: BrowserRunner, server: ImitationServer, control: ImitationControl, profile: Profile
) -> None:
    async def scenario(page: Page) -> None:
        await page.goto(f"{server.url}/?variant=2026")
        await expect(page.locator(QR_CANVAS)).to_be_visible()
        landing = await self_test(page, profile, "landing")
        assert landing.ok, landing.message
        assert landing.used_fallbacks == []

        await _open_alice(page, server, control, "?variant=2026")
        composer = await first_match(page, profile, "composer")
        assert composer is not None
        await composer.click()
        await page.keyboard.type("New look")
        await expect(page.locator('button[aria-label="Send"]')).to_be_visible()
        report = await self_test(page, profile, "chat_open", draft=True)
        assert report.ok, report.message
        assert report.used_fallbacks == ["chat_row", "chat_row_title", "chat_row_preview", "send_button"]
        assert report.result("send_button").selector == 'span[data-icon="wds-ic-send-filled"]'
        assert report.result("chat_row").selector == "#pane-side [role=listitem]"
        assert "older or looser selector" in report.message
        assert f"({len(report.results)} checks passed, 4 of them" in report.message  # the count the table shows

    browser_runner.run(scenario)


def test_bogus_composer_is_reported_broken(
    browser_runner: BrowserRunner, server: ImitationServer, control: ImitationControl, profile: Profile
) -> None:
    bogus = profile.entry("composer").model_copy(
        update={"selectors": ("#main footer textarea.parley-nope", 'div[data-tab="999"]', "div[[[not css")}
    )
    assert isinstance(bogus, Entry)
    broken_profile = profile.model_copy(update={"entries": {**profile.entries, "composer": bogus}})

    async def scenario(page: Page) -> None:
        await _open_alice(page, server, control)
        report = await self_test(page, broken_profile, "chat_open")
        assert not report.ok
        assert report.broken == ["composer"]
        assert report.message == (
            "Parley can't find the WhatsApp composer (entry 'composer'); "
            "sending is paused until the page profile is updated"
        )
        assert len(report.result("composer").errors) == 1  # the malformed selector is reported, not raised
        assert await first_match(page, broken_profile, "composer") is None
        assert await first_match(page, profile, "composer") is not None

    browser_runner.run(scenario)


def test_media_entries_match_every_media_bubble_in_both_variants(
    browser_runner: BrowserRunner, server: ImitationServer, control: ImitationControl, profile: Profile
) -> None:
    """Each media entry finds the bubbles the imitation renders, in both markup variants (only the pause control is
    missing: it shows while a voice note plays)."""
    control.add_chat(ALICE, "Alice")
    for kind, details in [
        ("image", {}),
        ("video", {"duration": 12}),
        ("video", {"gif": True}),
        ("image", {"view_once": True}),
        ("voice", {"duration": 7}),
        ("audio", {"duration": 30}),
        ("document", {"file_name": "prices.pdf"}),
        ("sticker", {}),
        ("location", {"latitude": 1.28, "longitude": 103.86, "place": "Marina Bay"}),
        ("contact", {"contact_name": "Bob"}),
        ("image", {"unavailable": True}),
    ]:
        control.incoming_media(ALICE, kind, b"\x01\x02\x03", "application/octet-stream", name="Alice", **details)
    control.scan()

    async def scenario(page: Page) -> None:
        for variant in ("classic", "2026"):
            await page.goto(f"{server.url}/?variant={variant}")
            await page.locator("#pane-side span[dir=auto][title=Alice]").click()
            await expect(page.locator(HEADER_TITLE)).to_have_attribute("title", "Alice")
            await expect(page.locator('#main div[data-id] img[src^="blob:"]')).to_have_count(2)  # photo, sticker
            report = await self_test(page, profile, "chat_open")
            assert report.ok, report.message
            missing = {r.name for r in report.results if r.name.startswith("media_") and r.matched is None}
            sending = {"media_input_photos", "media_input_document", "media_caption", "media_send"}
            assert missing == {"media_pause"} | sending, variant
            # The attach menu offers the file inputs; a photo set on the photos input opens the preview.
            attach = await first_match(page, profile, "media_attach_button")
            assert attach is not None
            await attach.click()
            photos = await first_match(page, profile, "media_input_photos")
            assert photos is not None
            assert await first_match(page, profile, "media_input_document") is not None
            await photos.set_input_files(files=[{"name": "a.png", "mimeType": "image/png", "buffer": b"\x89PNG"}])
            await expect(page.locator("div[role=dialog]")).to_be_visible()
            report = await self_test(page, profile, "chat_open")
            found = {r.name for r in report.results if r.name in sending and r.matched is not None}
            assert found == {"media_caption", "media_send"}, variant  # (the menu and its inputs are gone)

    browser_runner.run(scenario)
