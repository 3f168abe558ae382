"""The JavaScript the driver installs in WhatsApp Web: one observer that reports page changes to Python.

``observer_script(profile)`` returns an init script (``BrowserContext.add_init_script``, so it runs again after every
reload or navigation) that:

- defines ``window.__parleyScan()``: a snapshot of the page: state (``landing`` / ``logged_in`` / ``loading``), the
  QR ``data-ref``, whether the QR expired (its reload button shows), whether the phone-offline banner shows, whether
  the URL says ``post_logout``, the open chat's title, its message rows (data-id, direction,
  ``data-pre-plain-text``, text, ack icon) and the rendered chat-list rows in screen order (title, unread badge
  text, the last message's preview text, and the row's text as a signature that changes when a new message's preview
  or time shows up);
- recognises WhatsApp's notices (the profile's ``notices``: ban, restriction and rate-limit screens, the invalid-number
  modal) by the words in their popup, outside the chat pane and chat list, as ``notice`` {name, code, text};
- recognises media bubbles per row from the profile's ``media_*`` entries (kind, "no longer available", and the raw
  title / link / duration / size texts ``app.whatsapp.media.media_info`` parses);
- defines ``window.__parleyGrabMedia(dataId, cap, ms)``: a row's media bytes read in the page, as base64 (from the
  ``blob:`` URL the row shows, or from the blob the page makes once its download/play control is clicked: the script
  wraps ``URL.createObjectURL`` to see it, and does not follow a blob ``<a download>`` while fetching, so nothing
  reaches the disk); used by ``app.whatsapp.media_fetch``;
- watches the document with a ``MutationObserver`` and calls the exposed binding ``REPORT_BINDING`` with what changed
  since the last report: the state / QR / chat-list rows when they change, and only message rows that are new or
  whose ack icon changed. Reports are throttled, not debounced: the first change after a quiet spell is reported
  in the next task (a single message reaches Python in a few ms, not after a fixed wait), and while changes keep
  coming they are gathered into at most one report per ``REPORT_GAP_MS`` (a burst costs a report per gap, not one
  per row). After a reload the script starts afresh and reports everything again; Python and the store
  de-duplicate by message id.

Every selector comes from the page profile (entries tried in order, the first fallback that finds anything wins, as in
``probe.first_match``); selectors the browser rejects (Playwright-only syntax such as ``:has-text``) are skipped.
Entries newer than the profile format's required set (``_OPTIONAL_ENTRIES``) may be missing from an older workspace
profile: the script then never finds them (no phone-offline detection), and nothing else changes.
"""

from __future__ import annotations

import json

from app.whatsapp.profile import Profile

REPORT_BINDING = "__parleyReport"
REPORT_GAP_MS = 40  # at most one report per this many ms while the page keeps changing
SCAN_FUNCTION = "() => window.__parleyScan ? window.__parleyScan() : null"
# After ``/send?phone=N``: "open" once the chat shows, or the notice's name when WhatsApp answers with a
# ``not_on_whatsapp`` notice (the "phone number shared via url is invalid" modal); null while neither.
OPENED_BY_PHONE = (
    "() => { const s = window.__parleyScan && window.__parleyScan(); if (!s) return null;"
    " if (s.notice && s.notice.code === 'not_on_whatsapp') return s.notice.name;"
    " return s.state === 'logged_in' && !!s.header ? 'open' : null; }"
)

# Entries the observer needs, by the key the script uses.
_ENTRIES = (
    "qr_container",
    "logged_in_marker",
    "chat_row",
    "chat_row_title",
    "unread_badge",
    "chat_header_title",
    "message_row",
    "message_in",
    "message_out",
    "message_text",
    "ack_icon",
    "qr_reload",
)
# Entries an older profile may lack (``profile.REQUIRED_ENTRIES`` predates them).
_OPTIONAL_ENTRIES = (
    "chat_row_ack",
    "phone_offline",
    "chat_row_preview",
    "media_unavailable",
    "media_sticker",
    "media_image",
    "media_video",
    "media_gif",
    "media_view_once",
    "media_voice",
    "media_audio",
    "media_document",
    "media_location",
    "media_contact",
    "media_duration",
    "media_size",
    "media_source",
    "media_fetch_trigger",
    "media_pause",
    "message_time",
)
# The media kinds a row is checked for, in this order (a sticker is an <img> too; a voice note is an audio player).
MEDIA_KINDS = ("sticker", "image", "voice", "audio", "video", "document", "location", "contact")
GRAB_FUNCTION = (
    "([id, cap, ms]) => window.__parleyGrabMedia ? window.__parleyGrabMedia(id, cap, ms) : {state: 'no_script'}"
)

_TEMPLATE = r"""
(() => {
  if (window.top !== window || window.__parleyObserver) return;
  window.__parleyObserver = true;
  const SEL = __SELECTORS__;
  const BINDING = __BINDING__;
  const GAP_MS = __GAP_MS__; // at most one report per GAP_MS; the first change after a quiet spell goes at once
  const MEDIA_KINDS = __MEDIA_KINDS__;
  const NOTICES = __NOTICES__; // [{name, code, selectors, phrases}] in profile order; phrases are normalized

  // Blobs the page turns into blob: URLs (media it downloaded or decrypted), so Parley can read a voice note's or a
  // document's bytes, which never sit in a src attribute. A blob <a download> the page clicks while Parley is
  // fetching is not followed: nothing is written to disk.
  const blobs = new Map(); // blob: URL -> Blob
  let lastBlob = null;
  let grabUntil = 0;
  const createObjectURL = URL.createObjectURL;
  const revokeObjectURL = URL.revokeObjectURL;
  URL.createObjectURL = function (obj) {
    const url = createObjectURL.call(URL, obj);
    if (obj instanceof Blob) {
      blobs.set(url, obj);
      if (blobs.size > 500) blobs.delete(blobs.keys().next().value);
      lastBlob = { url, blob: obj };
    }
    return url;
  };
  URL.revokeObjectURL = function (url) { blobs.delete(url); return revokeObjectURL.call(URL, url); };
  const anchorClick = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (performance.now() < grabUntil && this.hasAttribute('download') && String(this.href).startsWith('blob:')) return;
    return anchorClick.call(this);
  };

  function collect(name) {
    for (const sel of SEL[name]) {
      let found;
      try { found = document.querySelectorAll(sel); } catch (err) { continue; }
      if (found.length) return Array.from(found);
    }
    return [];
  }
  // Map each element of `items` to the nearest ancestor-or-self that is in `owners` (a Set).
  function owned(items, owners) {
    const map = new Map();
    for (const item of items) {
      for (let node = item; node; node = node.parentElement) {
        if (owners.has(node)) { if (!map.has(node)) map.set(node, item); break; }
      }
    }
    return map;
  }

  function mediaOf(row, media, unavailable, durations, sizes, gifs, viewOnce) {
    let found = null;
    let kind = null;
    for (const name of MEDIA_KINDS) {
      found = media[name].get(row);
      if (found) { kind = name; break; }
    }
    const gif = gifs.has(row);
    if (gif) { kind = 'video'; found = gifs.get(row); }
    const once = viewOnce.has(row);
    const gone = unavailable.has(row);
    if (!kind && !gone && !once) return null;
    const titled = found ? (found.hasAttribute('title') ? found : found.querySelector('[title]')) : null;
    const link = found ? (found.hasAttribute('href') ? found : found.querySelector('a[href]')) : null;
    const duration = durations.get(row);
    const size = sizes.get(row);
    return {
      kind: kind || 'image',
      unavailable: gone,
      gif: gif,
      view_once: once,
      title: titled ? titled.getAttribute('title') : null,
      href: link ? link.getAttribute('href') : null,
      duration: duration ? (duration.getAttribute('aria-valuetext') || duration.textContent) : null,
      size: size ? (size.getAttribute('title') || size.textContent) : null,
    };
  }

  // The first notice of the profile whose phrases a shown container's text holds (the profile's rule: lower case,
  // straight apostrophes, single spaces). Text inside the open chat or the chat list (customers' words) never counts.
  const normalize = (text) => text.replace(/[\u2018\u2019\u02bc]/g, "'").replace(/\s+/g, ' ').trim().toLowerCase();
  function noticeShown() {
    for (const notice of NOTICES) {
      for (const sel of notice.selectors) {
        let found;
        try { found = document.querySelectorAll(sel); } catch (err) { continue; }
        for (const el of found) {
          if (el.closest('#main, #pane-side')) continue;
          const shown = el.innerText || el.textContent || '';
          const text = normalize(shown);
          if (notice.phrases.some((phrase) => text.includes(phrase))) {
            return { name: notice.name, code: notice.code, text: shown.replace(/\s+/g, ' ').trim().slice(0, 400) };
          }
        }
      }
    }
    return null;
  }

  function scan() {
    const qr = collect('qr_container')[0];
    const loggedIn = collect('logged_in_marker').length > 0;
    const state = loggedIn ? 'logged_in' : (qr ? 'landing' : 'loading');
    const qrExpired = !loggedIn && !!qr && collect('qr_reload').length > 0;
    const phoneOffline = loggedIn && collect('phone_offline').length > 0;
    const header = collect('chat_header_title')[0];
    const rows = collect('message_row');
    const rowSet = new Set(rows);
    const ins = owned(collect('message_in'), rowSet);
    const outs = owned(collect('message_out'), rowSet);
    const texts = owned(collect('message_text'), rowSet);
    const acks = owned(collect('ack_icon'), rowSet);
    const media = {};
    for (const name of MEDIA_KINDS) media[name] = owned(collect(`media_${name}`), rowSet);
    const unavailable = owned(collect('media_unavailable'), rowSet);
    const durations = owned(collect('media_duration'), rowSet);
    const sizes = owned(collect('media_size'), rowSet);
    const gifs = owned(collect('media_gif'), rowSet);
    const viewOnce = owned(collect('media_view_once'), rowSet);
    const times = owned(collect('message_time'), rowSet);
    const messages = rows.map((row) => {
      const body = texts.get(row);
      const span = body ? (body.querySelector('span.selectable-text') || body) : null;
      const ack = acks.get(row);
      return {
        id: row.getAttribute('data-id'),
        out: outs.has(row) ? true : (ins.has(row) ? false : null),
        pre: body ? body.getAttribute('data-pre-plain-text') : null,
        text: span ? span.innerText : null,
        ack: ack ? ack.getAttribute('data-icon') : null,
        ack_label: ack ? (ack.getAttribute('aria-label') || '') : '',
        media: mediaOf(row, media, unavailable, durations, sizes, gifs, viewOnce),
        time: times.has(row) ? times.get(row).textContent : null,
      };
    }).filter((m) => m.id);
    // Rows of a virtualized list are positioned, not ordered, in the DOM: sort them as they are shown.
    const chatRows = collect('chat_row').map((row) => [row.getBoundingClientRect().top, row])
      .sort((a, b) => a[0] - b[0]).map((pair) => pair[1]);
    const chatSet = new Set(chatRows);
    const titles = owned(collect('chat_row_title'), chatSet);
    const badges = owned(collect('unread_badge'), chatSet);
    const previews = owned(collect('chat_row_preview'), chatSet);
    const rowAcks = owned(collect('chat_row_ack'), chatSet);
    const chats = [];
    for (const row of chatRows) {
      const title = titles.get(row);
      if (!title) continue;
      const badge = badges.get(row);
      const preview = previews.get(row);
      chats.push({
        title: title.getAttribute('title') || title.textContent,
        unread: badge ? badge.textContent.trim() : '',
        preview: preview ? (preview.getAttribute('title') || preview.innerText || '') : null,
        // The last message's tick icon is part of the signature: a reply delivered or read while its chat is not
        // open changes it, so the chat is opened and the new ticks read.
        sig: row.textContent + '|' + (rowAcks.has(row)
          ? `${rowAcks.get(row).getAttribute('data-icon')} ${rowAcks.get(row).getAttribute('aria-label') || ''}` : ''),
      });
    }
    return {
      state,
      qr: qr ? (qr.getAttribute('data-ref') || null) : null,
      qr_expired: qrExpired,
      phone_offline: phoneOffline,
      notice: noticeShown(),
      post_logout: new URLSearchParams(location.search).has('post_logout'),
      url: location.href,
      header: header ? (header.getAttribute('title') || header.textContent) : null,
      messages,
      chats,
    };
  }
  window.__parleyScan = scan;

  // The bytes of the media in the row whose data-id is `id`, read in the page: from the blob: URL an element of the
  // row shows, or else from the blob the page makes when its download/play control is clicked (then paused again).
  // {state: 'ok', mime, size, data (base64)} | {state: 'gone'} (row not shown) | {state: 'missing'} | {state:
  // 'too_large', size}.
  async function grabMedia(id, cap, ms) {
    const row = collect('message_row').find((r) => r.getAttribute('data-id') === id);
    if (!row) return { state: 'gone' };
    const within = (name) => {
      for (const sel of SEL[name]) {
        let found = null;
        try { found = row.querySelector(sel); } catch (err) { continue; }
        if (found) return found;
      }
      return null;
    };
    const shown = () => {
      const source = within('media_source');
      const url = source ? (source.currentSrc || source.getAttribute('src') || '') : '';
      return url.startsWith('blob:') ? url : null;
    };
    let url = shown();
    let blob = url ? (blobs.get(url) || null) : null;
    if (!url) {
      // Wait for the row's blob: URL, clicking its download/play control once one shows (a row still loading
      // shows neither yet), or for the blob the page makes after the click.
      const before = lastBlob;
      const deadline = performance.now() + ms;
      let clicked = false;
      grabUntil = deadline + 1000;
      try {
        while (performance.now() < deadline) {
          if (!clicked) {
            const trigger = within('media_fetch_trigger');
            if (trigger) { trigger.click(); clicked = true; }
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
          url = shown();
          if (url) { blob = blobs.get(url) || null; break; }
          if (clicked && lastBlob !== before) { url = lastBlob.url; blob = lastBlob.blob; break; }
        }
      } finally {
        grabUntil = performance.now() + 500;
        const pause = clicked ? within('media_pause') : null;
        if (pause) pause.click();
      }
      if (!url) return { state: 'missing' };
    }
    if (!blob) {
      try { blob = await (await fetch(url)).blob(); } catch (err) { return { state: 'missing' }; }
    }
    if (blob.size > cap) return { state: 'too_large', size: blob.size };
    if (!blob.size) return { state: 'missing' };
    const data = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
    return { state: 'ok', mime: blob.type || '', size: blob.size, data: data.slice(data.indexOf(',') + 1) };
  }
  window.__parleyGrabMedia = grabMedia;

  let lastKey = null;
  let lastUnread = null;
  const seen = new Map(); // data-id -> ack icon + label last reported
  let timer = null;
  let reported = -Infinity; // performance.now() of the last report

  const sig = (m) => `${m.ack}|${m.ack_label}|${m.text !== null || m.media !== null}`;

  function report() {
    timer = null;
    reported = performance.now();
    if (typeof window[BINDING] !== 'function') { schedule(); return; }
    const snap = scan();
    const key = JSON.stringify(
      [snap.state, snap.qr, snap.qr_expired, snap.phone_offline, snap.post_logout, snap.header, snap.notice]);
    const unreadKey = JSON.stringify(snap.chats);
    const fresh = snap.messages.filter((m) => seen.get(m.id) !== sig(m));
    if (key === lastKey && unreadKey === lastUnread && !fresh.length) return;
    lastKey = key;
    lastUnread = unreadKey;
    for (const m of fresh) seen.set(m.id, sig(m));
    snap.order = snap.messages.map((m) => m.id); // every row shown, top to bottom: where the fresh ones sit
    snap.messages = fresh;
    window[BINDING](snap).catch(() => { for (const m of fresh) seen.delete(m.id); lastKey = null; });
  }
  function schedule() {
    if (timer === null) timer = setTimeout(report, Math.max(0, reported + GAP_MS - performance.now()));
  }
  function start() {
    new MutationObserver(schedule).observe(document.documentElement, {
      subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ['data-ref', 'data-icon', 'data-id', 'aria-label', 'title', 'data-pre-plain-text'],
    });
    schedule();
  }
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
"""


def observer_script(profile: Profile) -> str:
    """The init script for ``profile``: selectors are embedded as JSON, so no profile text is ever evaluated."""
    selectors = {name: list(profile.entry(name).selectors) for name in _ENTRIES}
    for name in _OPTIONAL_ENTRIES:
        entry = profile.entries.get(name)
        selectors[name] = list(entry.selectors) if entry is not None else []
    return (
        _TEMPLATE.replace("__SELECTORS__", json.dumps(selectors))
        .replace("__BINDING__", json.dumps(REPORT_BINDING))
        .replace("__GAP_MS__", str(REPORT_GAP_MS))
        .replace("__MEDIA_KINDS__", json.dumps(list(MEDIA_KINDS)))
        .replace("__NOTICES__", json.dumps(_notices(profile)))
    )


def _notices(profile: Profile) -> list[dict[str, object]]:
    return [
        {
            "name": name,
            "code": notice.code,
            "selectors": list(notice.selectors),
            "phrases": [phrase for phrases in notice.texts.values() for phrase in phrases],
        }
        for name, notice in profile.notices.items()
    ]
