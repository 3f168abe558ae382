/* WhatsApp Web imitation: plain JS, no build step, no external fetches.
 * The markup copies the hooks automation tools rely on (#app, #side, #pane-side, #main, data-icon, data-tab,
 * data-id, data-pre-plain-text, data-ref, role/aria attributes). State lives on the local server
 * (tests/whatsapp/imitation_server.py); pushes arrive through a long-poll on /__control/events. */
(() => {
  'use strict';

  const query = new URLSearchParams(location.search);
  const wrapper = document.querySelector('#app > .app-wrapper-web');
  const ROW_HEIGHT = 72;
  const MESSAGE_CHUNK = 30;
  const P_EMPTY = '<p class="selectable-text copyable-text x15bjb6t x1n2onr6"><br></p>';

  let cfg = null;
  let seq = 0;
  let session = 'unpaired';
  let phoneOnline = true;
  const chats = new Map(); // jid -> {id, phone, name, unread, last, messages: []}
  let openJid = null;
  let searchTerm = '';
  let pendingSend = null; // {phone, text} from /send, applied once logged in
  let qrState = null; // {ref, rotations, expired, timer}
  let conv = null; // open conversation: {jid, start, rowEls: Map, list, scroller}
  let infoOpen = false; // the contact-info drawer is shown (it follows the open chat, like the real one)
  let notice = null; // WhatsApp's notice about the account: rate_limited | restricted | banned | temp_banned
  let unregistered = new Set(); // numbers without a WhatsApp account: /send?phone=N shows the "invalid" modal

  const v26 = () => cfg && cfg.variant === '2026';

  // ---- helpers ------------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? 'true' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const ICON_PATHS = {
    'msg-time': 'M9.8 4.7a.9.9 0 0 0-1.8 0v3.9l3 1.8.9-1.5-2.1-1.3z M9 1a7 7 0 1 0 0 14A7 7 0 0 0 9 1zm0 12.4A5.4 5.4 0 1 1 9 2.6a5.4 5.4 0 0 1 0 10.8z',
    'msg-check': 'M10.9 3.8l-.5-.4a.4.4 0 0 0-.5.1L4.4 10.1 1.8 7.6a.4.4 0 0 0-.5 0l-.4.5a.4.4 0 0 0 0 .5l3.4 3.2a.4.4 0 0 0 .5 0l6.1-7.5a.4.4 0 0 0 0-.5z',
    'msg-dblcheck': 'M15 3.4l-.5-.4a.4.4 0 0 0-.5.1L8 10.1l-.7-.6-.9 1.1 1.4 1.3a.4.4 0 0 0 .5 0L15 3.9a.4.4 0 0 0 0-.5zm-4.1.4l-.5-.4a.4.4 0 0 0-.5.1L4.4 10.1 1.8 7.6a.4.4 0 0 0-.5 0l-.4.5a.4.4 0 0 0 0 .5l3.4 3.2a.4.4 0 0 0 .5 0l6.1-7.5a.4.4 0 0 0 0-.5z',
    send: 'M1.1 21.8 23 12 1.1 2.2 1.1 9.8 16.7 12 1.1 14.2z',
    ptt: 'M12 15a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v7a3 3 0 0 0 3 3zm5.3-3a5.3 5.3 0 0 1-10.6 0H5a7 7 0 0 0 6 6.9V22h2v-3.1A7 7 0 0 0 19 12z',
    search: 'M15.9 14.3h-.8l-.3-.3a6.5 6.5 0 1 0-.7.7l.3.3v.8l5 5 1.5-1.5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z',
    'alert-phone': 'M16 1H8a3 3 0 0 0-3 3v16a3 3 0 0 0 3 3h8a3 3 0 0 0 3-3V4a3 3 0 0 0-3-3zm-3 20h-2v-2h2zm0-5h-2V6h2z',
    menu: 'M12 7a2 2 0 1 0-.01-4.01A2 2 0 0 0 12 7zm0 2a2 2 0 1 0 .01 4.01A2 2 0 0 0 12 9zm0 6a2 2 0 1 0 .01 4.01A2 2 0 0 0 12 15z',
    chat: 'M19 3H5a2 2 0 0 0-2 2v14l4-4h12a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm-2 9H7v-2h10zm0-3H7V7h10z',
    plus: 'M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6z',
    x: 'M19.1 17.2 13.9 12l5.2-5.2-1.9-1.9-5.2 5.2-5.2-5.2-1.9 1.9 5.2 5.2-5.2 5.2 1.9 1.9 5.2-5.2 5.2 5.2z',
    default: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20z',
  };
  const ICON_ALIASES = {
    'wds-ic-send-filled': 'send', 'mic-outlined': 'ptt', 'new-chat-outline': 'chat', 'plus-rounded': 'plus',
    'status-check': 'msg-check', 'status-dblcheck': 'msg-dblcheck', 'status-time': 'msg-time', 'search-alt': 'search',
  };
  function icon(name, attrs) {
    const path = ICON_PATHS[name] || ICON_PATHS[ICON_ALIASES[name]] || ICON_PATHS.default;
    const span = el('span', Object.assign({ 'data-icon': name, 'aria-hidden': 'true' }, attrs || {}));
    span.innerHTML = `<svg viewBox="0 0 24 24" height="20" width="20" preserveAspectRatio="xMidYMid meet"><title>${name}</title><path fill="currentColor" d="${path}"></path></svg>`;
    return span;
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  const pad = (n) => String(n).padStart(2, '0');
  const hhmm = (ts) => { const d = new Date(ts * 1000); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; };
  const ddmmyyyy = (ts) => { const d = new Date(ts * 1000); return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`; };
  const prePlain = (m) => `[${hhmm(m.timestamp)}, ${ddmmyyyy(m.timestamp)}] ${m.author}: `;
  const sameDay = (a, b) => ddmmyyyy(a) === ddmmyyyy(b);
  function dayLabel(ts) {
    const now = Date.now() / 1000;
    if (sameDay(ts, now)) return 'TODAY';
    if (sameDay(ts, now - 86400)) return 'YESTERDAY';
    return ddmmyyyy(ts);
  }
  function listTime(ts) {
    if (!ts) return '';
    const now = Date.now() / 1000;
    if (sameDay(ts, now)) return hhmm(ts);
    if (sameDay(ts, now - 86400)) return 'Yesterday';
    return ddmmyyyy(ts);
  }
  function randomHex(n) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(n / 2)));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').slice(0, n).toUpperCase();
  }
  function randomB64(n) {
    return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---- loading screen -----------------------------------------------------------------------------------
  let startupGeneration = 0;
  function showStartup(ms, title) {
    const generation = ++startupGeneration;
    let progress = wrapper.querySelector('#startup progress');
    if (!progress || wrapper.querySelector('#startup .startup-title').textContent !== title) {
      wrapper.replaceChildren(el('div', { id: 'startup', class: 'startup' },
        el('div', { class: 'startup-inner' },
          icon('wa-logo', { class: 'startup-logo' }),
          el('div', { class: 'startup-progress' }, el('progress', { value: 0, max: 100 })),
          el('div', { class: 'startup-title', text: title }),
          el('div', { class: 'startup-sub' }, icon('lock-small'), ' End-to-end encrypted'))));
      progress = wrapper.querySelector('#startup progress');
    }
    const from = Number(progress.value) || 0;
    const started = performance.now();
    return new Promise((resolve) => {
      const step = () => {
        if (generation !== startupGeneration) { resolve(); return; }
        const done = Math.min(1, (performance.now() - started) / Math.max(ms, 1));
        progress.value = Math.round(from + done * (100 - from));
        if (done >= 1) resolve();
        else setTimeout(step, Math.max(10, Math.min(50, ms / 10)));
      };
      step();
    });
  }

  // ---- QR landing ---------------------------------------------------------------------------------------
  function newRef() {
    return `2@${randomB64(66)},${randomB64(32)},${randomB64(32)},${randomB64(16)}`;
  }

  function drawQr(canvas, ref) {
    const ctx = canvas.getContext('2d');
    const n = 29, quiet = 2, m = canvas.width / (n + 2 * quiet);
    let seed = 2166136261;
    for (let i = 0; i < ref.length; i++) seed = Math.imul(seed ^ ref.charCodeAt(i), 16777619) >>> 0;
    const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
    const finder = (r, c) => (r < 8 && c < 8) || (r < 8 && c >= n - 8) || (r >= n - 8 && c < 8);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#122e31';
    const dot = (r, c) => ctx.fillRect((c + quiet) * m, (r + quiet) * m, m, m);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        if (finder(r, c)) continue;
        if (r === 6 || c === 6) { if ((r + c) % 2 === 0) dot(r, c); continue; }
        if (rand() & 1) dot(r, c);
      }
    }
    for (const [r0, c0] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
      for (let r = 0; r < 7; r++) {
        for (let c = 0; c < 7; c++) {
          const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
          if (ring !== 2) dot(r0 + r, c0 + c);
        }
      }
    }
  }

  function renderLanding() {
    const qrBox = el('div', { class: 'qr-box _akau', 'data-ref': '', 'data-testid': v26() ? null : 'qrcode' });
    wrapper.replaceChildren(el('div', { class: 'landing-wrapper' },
      el('div', { class: 'landing-wrapper-before' }),
      el('div', { class: 'landing-header' }, icon('wa-wordmark-refreshed'),
        el('div', { class: 'landing-headerTitle', text: 'WhatsApp Web' })),
      el('div', { class: 'landing-window' },
        el('div', { class: 'landing-main' },
          el('div', { class: 'landing-title', text: 'To use WhatsApp on your computer:' }),
          el('ol', { class: 'landing-steps' },
            el('li', {}, 'Open WhatsApp on your phone'),
            el('li', {}, 'Tap ', el('strong', { text: 'Menu' }), ' or ', el('strong', { text: 'Settings' }),
              ' and select ', el('strong', { text: 'Linked devices' })),
            el('li', {}, 'Tap on ', el('strong', { text: 'Link a device' })),
            el('li', {}, 'Point your phone to this screen to capture the QR code'))),
        el('div', { class: 'landing-qr' }, qrBox,
          el('label', { class: 'stay' }, el('input', { type: 'checkbox', checked: true }), ' Stay logged in')))));
    startQr(qrBox);
  }

  function startQr(qrBox) {
    if (qrState && qrState.timer) clearTimeout(qrState.timer);
    qrBox.classList.remove('expired');
    qrBox.replaceChildren(
      el('canvas', { 'aria-label': 'Scan this QR code to link a device!', role: 'img', width: 264, height: 264 }),
      icon('logo', { class: 'qr-logo' }));
    qrState = { box: qrBox, ref: null, rotations: 0, expired: false, timer: null };
    showRef(newRef());
    scheduleRotation(cfg.qr_first_ms || cfg.qr_ms);
  }

  function showRef(ref) {
    qrState.ref = ref;
    qrState.box.setAttribute('data-ref', ref);
    drawQr(qrState.box.querySelector('canvas'), ref);
    reportQr();
  }

  function reportQr() {
    api('POST', '/__page/qr', { ref: qrState.ref, expired: qrState.expired, rotations: qrState.rotations })
      .catch(() => {});
  }

  function scheduleRotation(ms) {
    qrState.timer = setTimeout(() => {
      if (!qrState || !qrState.box.isConnected) return;
      if (qrState.rotations >= cfg.qr_rotations) { expireQr(); return; }
      qrState.rotations += 1;
      showRef(newRef());
      scheduleRotation(cfg.qr_ms);
    }, ms);
  }

  function expireQr() {
    qrState.expired = true;
    qrState.timer = null;
    qrState.box.classList.add('expired');
    const box = qrState.box;
    box.append(el('span', { class: 'qr-reload' },
      el('button', { type: 'button', onclick: () => reloadQr(box) },
        el('div', { class: 'qr-reload-icon' }, icon('refresh-large')),
        el('div', { text: 'Click to reload QR code' }))));
    reportQr();
  }

  // A reload asks the server for a new series of codes (and picks up its current timing options).
  async function reloadQr(box) {
    try { applyConfig((await api('GET', '/__page/boot')).config); } catch (err) { /* keep the old timings */ }
    if (box.isConnected) startQr(box);
  }

  function stopQr() {
    if (qrState && qrState.timer) clearTimeout(qrState.timer);
    qrState = null;
  }

  // ---- logged-in shell ----------------------------------------------------------------------------------
  function setChats(list) {
    chats.clear();
    for (const chat of list) chats.set(chat.id, Object.assign({}, chat, { messages: chat.messages || [] }));
  }

  function renderShell() {
    stopQr();
    const search = el('div', {
      contenteditable: 'true', role: 'textbox', title: 'Search input textbox', 'aria-label': 'Search input textbox',
      'data-tab': '3', class: 'selectable-text copyable-text search-input', spellcheck: 'true',
      oninput: (ev) => { searchTerm = ev.currentTarget.innerText.trim().toLowerCase(); renderChatList(); },
    });
    search.innerHTML = P_EMPTY;
    const grid = el('div', {
      'aria-label': 'Chat list', role: 'grid', 'aria-rowcount': 0, 'aria-colcount': 1, tabindex: '-1',
      class: 'chat-grid', 'data-testid': v26() ? null : 'chat-list',
    }, el('div', { class: 'chat-rows' }));
    const pane = el('div', { id: 'pane-side', class: 'pane-side', onscroll: () => renderChatList() }, grid);
    const menu = el('div', { class: 'menu', role: 'button', tabindex: '0', title: 'Menu', 'aria-label': 'Menu',
      onclick: toggleMenu }, icon('menu'));
    const side = el('div', { id: 'side', class: 'side' },
      el('header', { class: 'side-header' },
        el('div', { class: 'avatar me', title: 'Profile' }),
        el('div', { class: 'side-icons' },
          el('div', { role: 'button', title: 'New chat', 'aria-label': 'New chat' }, icon(v26() ? 'new-chat-outline' : 'chat')),
          menu)),
      el('div', { class: 'side-search' }, icon('search'), search,
        el('div', { class: 'search-placeholder', text: 'Search or start new chat' })),
      el('span', { class: 'side-banner-slot' }),
      pane);
    const mainArea = el('div', { class: 'main-area' });
    const drawer = el('div', { class: 'drawer-slot' });
    wrapper.replaceChildren(el('div', { class: 'two _aigs', tabindex: '-1' }, side, mainArea, drawer));
    renderIntro();
    renderPhoneBanner();
    renderChatList();
  }

  // The pre-multi-device "phone offline" banner above the chat list.
  function renderPhoneBanner() {
    const slot = document.querySelector('#side .side-banner-slot');
    if (!slot) return;
    if (phoneOnline) { slot.replaceChildren(); return; }
    if (slot.firstChild) return;
    slot.replaceChildren(el('div', { class: 'side-banner', role: 'button', tabindex: '0' },
      el('div', { class: 'side-banner-icon' }, icon('alert-phone')),
      el('div', { class: 'side-banner-body' },
        el('div', { class: 'side-banner-title', text: 'Trying to reach phone' }),
        el('div', { class: 'side-banner-text', text: 'Make sure your phone has an active internet connection.' }))));
  }

  function toggleMenu(ev) {
    ev.stopPropagation();
    const existing = document.querySelector('.menu-dropdown');
    if (existing) { existing.remove(); return; }
    const dropdown = el('ul', { class: 'menu-dropdown', role: 'application' },
      el('li', { role: 'button', tabindex: '0', 'aria-label': 'Log out', onclick: () => api('POST', '/__control/logout', {}) },
        el('div', { text: 'Log out' })));
    ev.currentTarget.parentElement.append(dropdown);
    setTimeout(() => document.addEventListener('click', () => dropdown.remove(), { once: true }), 0);
  }

  function renderIntro() {
    const area = document.querySelector('.main-area');
    if (!area) return;
    conv = null;
    closeContactInfo();
    area.replaceChildren(el('div', { class: 'intro', 'data-asset-intro-image-light': 'true' },
      icon('intro-md-beta-logo-light', { class: 'intro-logo' }),
      el('h1', { class: 'intro-title', 'data-testid': v26() ? null : 'intro-title', text: 'WhatsApp Web' }),
      el('div', { class: 'intro-text', text: 'Send and receive messages without keeping your phone online.' })));
  }

  function sortedChats() {
    const list = Array.from(chats.values()).filter((c) => c.listed !== false);
    list.sort((a, b) => (b.last ? b.last.timestamp : 0) - (a.last ? a.last.timestamp : 0));
    if (!searchTerm) return list;
    return list.filter((c) => c.name.toLowerCase().includes(searchTerm) || c.phone.includes(searchTerm));
  }

  function ackIcon(level, prefix) {
    const map = {
      '-1': ['error', ' Error '], 0: ['time', ' Pending '], 1: ['check', ' Sent '], 2: ['dblcheck', ' Delivered '],
      3: ['dblcheck', ' Read '], 4: ['dblcheck', ' Read '],
    };
    const [name, label] = map[level] || map[0];
    return icon(`${prefix}-${name}`, { 'aria-label': label, 'aria-hidden': null, class: level >= 3 ? 'ack ack-read' : 'ack' });
  }

  function unreadLabel(n) {
    return `${n} unread message${n === 1 ? '' : 's'}`;
  }

  function chatRow(chat, index) {
    const last = chat.last;
    const preview = el('span', { class: 'preview', title: last ? last.text : '' });
    if (last && last.from_me) preview.append(ackIcon(last.ack, 'status'));
    preview.append(el('span', { dir: 'ltr', class: 'preview-text', text: last ? last.text : '' }));
    const cell = el('div', { role: v26() ? null : 'gridcell', 'aria-colindex': v26() ? null : 2, class: 'cell' },
      el('div', { class: 'cell-top' },
        el('div', { class: 'cell-name' }, el('span', { dir: 'auto', title: chat.name, class: 'name', text: chat.name })),
        el('div', { class: chat.unread ? 'cell-time unread-time' : 'cell-time', text: listTime(last && last.timestamp) })),
      el('div', { class: 'cell-bottom' },
        el('div', { class: 'cell-preview' }, preview),
        el('div', { class: 'cell-badges' }, chat.unread
          ? el('span', {}, el('span', { class: 'unread-badge', 'aria-label': unreadLabel(chat.unread), text: chat.unread }))
          : null)));
    return el('div', {
      role: v26() ? 'listitem' : 'row', 'aria-selected': chat.id === openJid ? 'true' : 'false',
      class: chat.id === openJid ? 'chat-row selected' : 'chat-row',
      style: `transform: translateY(${index * ROW_HEIGHT}px); height: ${ROW_HEIGHT}px`,
      onclick: () => openChat(chat.id),
    }, el('div', { tabindex: '-1', class: 'row-inner' }, el('div', { class: 'avatar' }), cell));
  }

  function renderChatList() {
    const pane = document.getElementById('pane-side');
    if (!pane) return;
    const grid = pane.querySelector('[aria-label="Chat list"]');
    const rows = grid.querySelector('.chat-rows');
    const list = sortedChats();
    grid.setAttribute('aria-rowcount', String(list.length));
    rows.style.height = `${list.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(pane.scrollTop / ROW_HEIGHT) - 2);
    const last = Math.min(list.length, Math.ceil((pane.scrollTop + pane.clientHeight) / ROW_HEIGHT) + 2);
    const nodes = [];
    for (let i = first; i < last; i++) nodes.push(chatRow(list[i], i));
    rows.replaceChildren(...nodes);
  }

  // ---- conversation -------------------------------------------------------------------------------------
  function ensureChat(jid, phone) {
    let chat = chats.get(jid);
    if (!chat) {
      chat = { id: jid, phone, name: `+${phone}`, unread: 0, last: null, messages: [], listed: false };
      chats.set(jid, chat);
    }
    return chat;
  }

  function openChat(jid) {
    const chat = chats.get(jid);
    const area = document.querySelector('.main-area');
    if (!chat || !area) return;
    openJid = jid;
    chat.unread = 0;
    api('POST', '/__page/open', { chat: jid }).catch(() => {});
    const box = el('div', {
      contenteditable: 'true', role: 'textbox', spellcheck: 'true', 'data-tab': v26() ? '10' : '1',
      title: 'Type a message', 'aria-label': 'Type a message', 'aria-placeholder': 'Type a message',
      'aria-owns': 'emoji-suggestion', 'data-lexical-editor': 'true', tabindex: v26() ? '10' : null,
      class: 'selectable-text copyable-text x15bjb6t x1n2onr6 composer',
    });
    box.innerHTML = P_EMPTY;
    box.addEventListener('keydown', onComposerKey);
    box.addEventListener('input', () => { normalizeComposer(box); updateSendButton(); });
    box.addEventListener('paste', (ev) => {
      ev.preventDefault();
      document.execCommand('insertText', false, ev.clipboardData.getData('text/plain'));
    });
    const list = el('div', { role: 'application', class: 'msg-list', tabindex: '-1' });
    const scroller = el('div', { class: 'msg-scroll', tabindex: '0' }, list);
    scroller.addEventListener('scroll', () => { if (scroller.scrollTop < 40) loadOlder(); });
    const main = el('div', { id: 'main', class: 'main' },
      el('header', { class: 'main-header' },
        el('div', { class: 'avatar' }),
        el('div', { class: 'header-info', role: 'button', tabindex: '0', title: 'Profile details', onclick: openContactInfo },
          el('div', {}, el('span', { dir: 'auto', title: chat.name, class: 'name', text: chat.name })),
          el('div', { class: 'header-sub' }, el('span', { class: 'header-subtitle', text: 'click here for contact info' }))),
        el('div', { class: 'header-icons' }, icon('search-alt'), icon('menu'))),
      el('div', { class: 'conversation-panel copyable-area' }, scroller),
      el('footer', { class: 'footer' },
        el('div', { class: 'compose' },
          el('div', { role: 'button', title: 'Attach', 'aria-label': 'Attach', 'aria-haspopup': 'menu', class: 'attach',
            onclick: toggleAttachMenu }, icon(v26() ? 'plus-rounded' : 'plus')),
          el('div', { class: 'lexical-rich-text-input' }, box,
            el('div', { class: 'composer-placeholder', text: 'Type a message' })),
          el('div', { class: 'send-slot' }))));
    area.replaceChildren(main);
    conv = { jid, start: Math.max(0, chat.messages.length - MESSAGE_CHUNK), rowEls: new Map(), list, scroller, box };
    renderMessages();
    scroller.scrollTop = scroller.scrollHeight;
    updateSendButton();
    renderChatList();
    if (infoOpen) renderContactInfo();
    box.focus();
  }

  // ---- contact info drawer (right-hand side, opened by clicking the conversation header) ---------------
  function formatPhone(digits) {
    if (/^65\d{8}$/.test(digits)) return `+65 ${digits.slice(2, 6)} ${digits.slice(6)}`;
    if (/^1\d{10}$/.test(digits)) return `+1 (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
    if (/^44\d{10}$/.test(digits)) return `+44 ${digits.slice(2, 6)} ${digits.slice(6)}`;
    return `+${digits.slice(0, 2)} ${digits.slice(2).replace(/(\d{4})(?=\d)/g, '$1 ')}`;
  }

  function openContactInfo() {
    if (!conv) return;
    infoOpen = true;
    renderContactInfo();
  }

  function closeContactInfo() {
    infoOpen = false;
    const slot = document.querySelector('.drawer-slot');
    if (slot) slot.replaceChildren();
  }

  function renderContactInfo() {
    const slot = document.querySelector('.drawer-slot');
    const chat = conv && chats.get(conv.jid);
    if (!slot || !chat) return;
    const phone = formatPhone(chat.phone);
    const saved = !chat.name.startsWith('+');
    const selectable = (text) => el('span', { dir: 'auto', class: 'selectable-text copyable-text', text });
    slot.replaceChildren(el('div', { class: 'drawer', tabindex: '-1' },
      el('section', { class: 'drawer-section' },
        el('header', { class: 'drawer-header' },
          el('div', { role: 'button', tabindex: '0', 'aria-label': 'Close', class: 'drawer-close', onclick: closeContactInfo },
            icon('x')),
          el('div', { class: 'drawer-title', title: 'Contact info', text: 'Contact info' })),
        el('div', { class: 'drawer-body' },
          el('div', { class: 'avatar drawer-avatar' }),
          el('h2', { class: 'drawer-name' }, selectable(saved ? chat.name : phone)),
          saved ? el('div', { class: 'drawer-phone' }, selectable(phone)) : null),
        el('div', { class: 'drawer-block' },
          el('div', { class: 'drawer-label', text: 'About' }),
          selectable('Hey there! I am using WhatsApp.')))));
  }

  // ---- media bubbles (whatsapp-web-media.md "Receiving media") ----------------------------------------------
  // The bytes come from the phone side (/__media/<id>, standing in for WhatsApp's CDN + decryption) and are shown
  // through blob: URLs made with URL.createObjectURL, as the real page does. Images and stickers get theirs when the
  // bubble renders; video, voice/audio and documents only when played or downloaded (a <video src=blob:> appears on
  // play; voice plays through an Audio() outside the DOM; a document downloads through an <a download> click).
  // Location and contact-card bubbles, the audio-file marker, the document's size line and the "no longer
  // available" bubble are not documented by any source (see the reference's "Gaps"): their hooks here are guesses.
  const THUMB = 'data:image/gif;base64,R0lGODlhAQABAIAAAMLCwgAAACH5BAAAAAAALAAAAAABAAEAAAICRAEAOw==';
  const mediaBlobs = new Map(); // message id -> Promise of its blob: URL

  function mediaUrl(m) {
    if (!mediaBlobs.has(m.id)) {
      mediaBlobs.set(m.id, fetch(`/__media/${encodeURIComponent(m.id)}`, { cache: 'no-store' })
        .then((r) => { if (!r.ok) throw new Error(`media ${r.status}`); return r.blob(); })
        .then((blob) => URL.createObjectURL(m.media.mime ? new Blob([blob], { type: m.media.mime }) : blob))
        .catch((err) => { mediaBlobs.delete(m.id); throw err; }));
    }
    return mediaBlobs.get(m.id);
  }

  const mmss = (s) => { const t = Math.round(s || 0); return `${Math.floor(t / 60)}:${pad(t % 60)}`; };
  function humanSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function imagePart(m) {
    const img = el('img', { src: THUMB, alt: '', draggable: 'false', class: 'media-img',
      'data-testid': v26() ? null : 'media-url-cover' });
    const frame = el('div', { role: 'button', 'aria-label': 'Open picture', class: 'media-frame',
      'data-testid': v26() ? null : 'image-thumb' }, img);
    const show = () => mediaUrl(m).then((url) => { img.src = url; return true; }).catch(() => false);
    // Not downloaded (slow link, old media, or the download failed): a blurred data: thumbnail and a download
    // control to click.
    const offerDownload = () => {
      img.classList.add('media-blurred');
      const download = el('div', { role: 'button', class: 'media-download', 'aria-label': 'Download' },
        icon('media-download'));
      download.addEventListener('click', async (ev) => {
        ev.stopPropagation();
        if (await show()) { img.classList.remove('media-blurred'); download.remove(); }
      });
      frame.append(download);
    };
    if (m.media.downloaded === false) offerDownload();
    else show().then((ok) => { if (!ok) offerDownload(); });
    return frame;
  }

  function videoPart(m) {
    // A GIF is a short muted MP4 the page loops; its bubble says "Play GIF" and carries a media-gif mark, no length.
    const gif = !!m.media.gif;
    const frame = el('div', { role: 'button', 'aria-label': gif ? 'Play GIF' : 'Play video', class: 'media-frame' });
    const play = async () => {
      if (frame.querySelector('video')) return;
      const url = await mediaUrl(m);
      frame.replaceChildren(el('video', { src: url, class: 'media-img', muted: true, playsinline: true,
        loop: gif ? true : null, autoplay: gif ? true : null }));
    };
    if (gif) {
      frame.addEventListener('click', () => { play().catch(() => {}); });
      frame.append(el('img', { src: THUMB, alt: '', class: 'media-img media-poster' }),
        el('div', { class: 'media-play-btn' }, icon('media-gif')));
      return frame;
    }
    frame.addEventListener('click', () => { play().catch(() => {}); });
    frame.append(el('img', { src: THUMB, alt: '', class: 'media-img media-poster' }),
      el('div', { class: 'media-play-btn' }, icon('media-play', { 'data-testid': v26() ? null : 'media-play' })),
      el('div', { class: 'media-duration' }, icon('video-pip'), el('span', { text: mmss(m.media.duration) })));
    return frame;
  }

  function audioPart(m) {
    const voice = m.media.kind === 'voice';
    const total = mmss(m.media.duration);
    let audio = null;
    const label = (playing) => `${playing ? 'Pause' : 'Play'} ${voice ? 'voice message' : 'audio'}`;
    const button = el('button', { type: 'button', class: 'audio-play', 'aria-label': label(false) },
      icon(v26() ? 'ptt-play' : 'audio-play'));
    const slider = el('div', { role: 'slider', class: 'audio-slider', 'aria-valuemin': '0',
      'aria-valuemax': String(Math.round(m.media.duration || 0)), 'aria-valuenow': '0',
      'aria-valuetext': `0:00/${total}` });
    const setPlaying = (playing) => {
      button.setAttribute('aria-label', label(playing));
      button.replaceChildren(icon(playing ? 'audio-pause' : (v26() ? 'ptt-play' : 'audio-play')));
    };
    button.addEventListener('click', async () => {
      if (audio && !audio.paused) { audio.pause(); setPlaying(false); return; }
      const url = await mediaUrl(m).catch(() => null);
      if (!url) return;
      if (!audio) { audio = new Audio(url); audio.addEventListener('ended', () => setPlaying(false)); }
      setPlaying(true);
      audio.play().catch(() => {}); // not decodable here: the control still shows "Pause", as while loading
    });
    return el('div', { class: 'audio-bubble' },
      el('div', { class: 'audio-avatar' }, voice ? icon('ptt-status', { class: 'ptt-status' }) : icon('audio-file')),
      button,
      el('div', { class: 'audio-track' }, slider, el('canvas', { width: 180, height: 24, class: 'waveform' }),
        el('div', { class: 'audio-time', text: total })));
  }

  function documentPart(m) {
    const name = m.media.file_name || 'file';
    const ext = (name.includes('.') ? name.split('.').pop() : 'file').toUpperCase();
    const download = async () => {
      const url = await mediaUrl(m);
      const a = el('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
    };
    return el('div', { role: 'button', class: 'document-thumb', 'data-testid': 'document-thumb',
      title: `Download "${name}"`, onclick: () => { download().catch(() => {}); } },
    icon(`document-${ext}-icon`, { class: 'document-icon' }),
    el('div', { class: 'document-body' },
      el('span', { dir: 'auto', class: 'document-name', text: name }),
      el('div', { class: 'document-meta' }, el('span', { text: ext }), el('span', { text: ' • ' }),
        el('span', { class: 'document-size', title: humanSize(m.media.size || 0), text: humanSize(m.media.size || 0) }))),
    icon(v26() ? 'download-outline' : 'audio-download', { class: 'document-download' }));
  }

  function stickerPart(m) {
    const img = el('img', { src: THUMB, alt: '', draggable: 'false', class: 'sticker-img',
      'data-testid': v26() ? null : 'sticker' });
    mediaUrl(m).then((url) => { img.src = url; }).catch(() => {});
    return el('div', { role: 'button', 'aria-label': 'Sticker', class: 'sticker-frame' }, img);
  }

  function locationPart(m) {
    const { latitude: lat, longitude: lng, place } = m.media;
    return el('a', { href: `https://maps.google.com/maps?q=${lat}%2C${lng}&z=17&hl=en`, target: '_blank',
      rel: 'noopener noreferrer', class: 'location-link', title: place || null },
    el('img', { src: THUMB, alt: '', class: 'media-img location-thumb' }),
    place ? el('div', { class: 'location-place', dir: 'auto', text: place }) : null);
  }

  function contactPart(m) {
    const name = m.media.contact_name || '';
    return el('div', { class: 'vcard' },
      el('div', { class: 'vcard-top' }, icon('default-user', { class: 'vcard-avatar' }),
        el('span', { dir: 'auto', class: 'vcard-name', title: name, text: name })),
      el('div', { role: 'button', class: 'vcard-action', text: 'Message' }));
  }

  function unavailablePart() {
    return el('div', { class: 'media-frame media-unavailable' },
      el('img', { src: THUMB, alt: '', class: 'media-img media-blurred' }),
      el('div', { class: 'media-unavailable-note' }, icon('media-disabled'),
        el('span', { dir: 'auto', text: 'This media is no longer available' })));
  }

  // Since November 2022 WhatsApp Web can neither send nor open view-once media: the bubble is a badge and a line.
  function viewOncePart(m) {
    const what = m.media.kind === 'video' ? 'Video' : (m.media.kind === 'voice' ? 'Voice message' : 'Photo');
    return el('div', { class: 'view-once' }, icon('view-once'),
      el('span', { dir: 'auto', class: 'view-once-label', text: `${what} · View once` }),
      el('div', { dir: 'auto', class: 'view-once-note', text: 'To protect privacy, view once media can only be opened on your phone.' }));
  }

  function mediaPart(m) {
    if (m.media.view_once) return viewOncePart(m);
    if (m.media.unavailable) return unavailablePart();
    switch (m.media.kind) {
      case 'image': return imagePart(m);
      case 'video': return videoPart(m);
      case 'voice': case 'audio': return audioPart(m);
      case 'document': return documentPart(m);
      case 'sticker': return stickerPart(m);
      case 'location': return locationPart(m);
      case 'contact': return contactPart(m);
      default: return null;
    }
  }

  function messageRow(m) {
    const dataId = v26() ? m.id : `${m.from_me}_${m.chat}_${m.id}`;
    const meta = el('div', { class: 'msg-meta', 'data-testid': 'msg-meta' },
      el('span', { class: 'msg-time', dir: 'auto', text: hhmm(m.timestamp) }));
    if (m.from_me) meta.append(el('div', { class: 'msg-status' }, ackIcon(m.ack, 'msg')));
    // A media bubble without a caption has no data-pre-plain-text block (the reference's note 5).
    const body = m.media && !m.text ? null : el('div', { class: 'copyable-text', 'data-pre-plain-text': prePlain(m) },
      el('span', { dir: 'ltr', class: 'selectable-text copyable-text _ao3e' }, el('span', { text: m.text })));
    const media = m.media ? mediaPart(m) : null;
    return el('div', { role: 'row', class: 'msg-row', tabindex: '-1' },
      el('div', { 'data-id': dataId, class: 'msg-wrap', tabindex: '-1' },
        el('div', { class: `${m.from_me ? 'message-out' : 'message-in'} focusable-list-item` },
          el('div', { class: m.media ? `bubble media-bubble media-${m.media.kind}` : 'bubble' }, media, body, meta))));
  }

  function dateRow(ts) {
    return el('div', { role: 'row', class: 'date-row' },
      el('div', { class: 'focusable-list-item date-chip' }, el('span', { dir: 'auto', text: dayLabel(ts) })));
  }

  function rowFor(m) {
    let row = conv.rowEls.get(m.id);
    if (!row) { row = messageRow(m); conv.rowEls.set(m.id, row); }
    return row;
  }

  function renderMessages() {
    const chat = chats.get(conv.jid);
    const nodes = [];
    let prev = null;
    for (const m of chat.messages.slice(conv.start)) {
      if (!prev || !sameDay(prev.timestamp, m.timestamp)) nodes.push(dateRow(m.timestamp));
      nodes.push(rowFor(m));
      prev = m;
    }
    conv.list.replaceChildren(...nodes);
  }

  function loadOlder() {
    if (!conv || conv.start === 0) return;
    const before = conv.scroller.scrollHeight;
    conv.start = Math.max(0, conv.start - MESSAGE_CHUNK);
    renderMessages();
    conv.scroller.scrollTop += conv.scroller.scrollHeight - before;
  }

  function appendMessage(m) {
    const chat = chats.get(m.chat);
    const prev = chat.messages.length > 1 ? chat.messages[chat.messages.length - 2] : null;
    const stick = conv.scroller.scrollHeight - conv.scroller.scrollTop - conv.scroller.clientHeight < 80;
    if (!prev || !sameDay(prev.timestamp, m.timestamp)) conv.list.append(dateRow(m.timestamp));
    conv.list.append(rowFor(m));
    if (stick || m.from_me) conv.scroller.scrollTop = conv.scroller.scrollHeight;
  }

  // ---- composer -----------------------------------------------------------------------------------------
  function composerText(box) {
    const paragraphs = box.querySelectorAll(':scope > p');
    const text = paragraphs.length ? Array.from(paragraphs, (p) => p.textContent).join('\n') : box.innerText;
    return text.replace(/\u00a0/g, ' ').trim();
  }

  function setComposerText(box, text) {
    box.replaceChildren(...text.split('\n').map((line) => {
      const p = el('p', { class: 'selectable-text copyable-text x15bjb6t x1n2onr6' });
      if (line) p.append(el('span', { class: 'selectable-text copyable-text', 'data-lexical-text': 'true', text: line }));
      else p.append(el('br'));
      return p;
    }));
    const range = document.createRange();
    range.selectNodeContents(box.lastChild);
    range.collapse(false);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function normalizeComposer(box) {
    const stray = Array.from(box.childNodes).some((n) => !(n.nodeType === 1 && n.tagName === 'P'));
    if (!stray && box.firstChild) return;
    setComposerText(box, box.innerText.replace(/\n$/, ''));
  }

  function updateSendButton() {
    if (!conv) return;
    const slot = document.querySelector('#main footer .send-slot');
    const hasText = composerText(conv.box).length > 0;
    const current = slot.querySelector('button');
    if (current && current.dataset.kind === (hasText ? 'send' : 'ptt')) return;
    slot.replaceChildren(hasText
      ? el('button', { type: 'button', 'aria-label': 'Send', 'data-tab': '11', 'data-kind': 'send', class: 'send-btn',
        'data-testid': v26() ? null : 'compose-btn-send', onclick: sendFromComposer },
      icon(v26() ? 'wds-ic-send-filled' : 'send'))
      : el('button', { type: 'button', 'aria-label': 'Voice message', 'data-tab': '11', 'data-kind': 'ptt', class: 'ptt-btn' },
        icon(v26() ? 'mic-outlined' : 'ptt')));
  }

  function onComposerKey(ev) {
    if (ev.key !== 'Enter' || ev.isComposing) return;
    ev.preventDefault();
    if (ev.shiftKey) {
      document.execCommand('insertParagraph');
      normalizeComposer(conv.box);
      return;
    }
    sendFromComposer();
  }

  function sendFromComposer() {
    if (!conv) return;
    const text = composerText(conv.box);
    if (!text) return;
    conv.box.innerHTML = P_EMPTY;
    updateSendButton();
    conv.box.focus();
    const m = {
      id: `3EB0${randomHex(18)}`, chat: conv.jid, from_me: true, text, timestamp: Date.now() / 1000, ack: 0,
      author: cfg.me_name, source: 'page',
    };
    receiveMessage(m, null);
    api('POST', '/__page/send', { chat: m.chat, text, id: m.id }).catch(() => applyAck(m.id, -1));
  }

  // ---- attaching media (whatsapp-web-media.md "Sending media") ---------------------------------------------
  // Attach (plus icon) opens a menu whose items hold the hidden file inputs: Document (accept="*") and Photos &
  // videos (accept="image/*,video/mp4,video/3gpp,video/quicktime", multiple); a sticker-maker input that takes
  // images only is a decoy (a photo sent through it would go as a sticker). Choosing a file opens the media preview
  // over the chat pane (a dialog with the picture or the document's name, a caption box, a send button); Enter in
  // the caption box or the send button sends; the bubble appears with a clock, then the server's tick.
  const MEDIA_ACCEPT = 'image/*,video/mp4,video/3gpp,video/quicktime';
  let preview = null; // {files, dialog, caption}

  function toggleAttachMenu(ev) {
    ev.stopPropagation();
    const footer = document.querySelector('#main footer');
    const existing = footer && footer.querySelector('.attach-menu');
    if (existing) { existing.remove(); return; }
    if (!footer) return;
    const item = (label, iconName, accept, multiple) => {
      const input = el('input', { type: 'file', accept, multiple: multiple || null, style: 'display: none' });
      input.addEventListener('change', () => {
        const files = Array.from(input.files || []);
        footer.querySelector('.attach-menu')?.remove();
        if (!files.length) return;
        if (accept === 'image/*') { showModal('Stickers are not supported here.'); return; }
        openPreview(files, accept === '*' ? 'document' : 'media');
      });
      const button = el('button', { type: 'button', role: 'menuitem', 'aria-label': label, class: 'attach-item',
        onclick: (e) => { e.stopPropagation(); input.click(); } },
      icon(iconName), el('span', { class: v26() ? 'attach-label visually-hidden' : 'attach-label', text: label }));
      return el('li', { 'data-animate-dropdown-item': 'true', class: 'attach-li' }, button, input);
    };
    const menu = el('div', { class: 'attach-menu', 'data-animate-modal-popup': 'true' },
      el('ul', { role: 'menu', class: 'attach-list' },
        item('Document', v26() ? 'document' : 'attach-document', '*'),
        item('Photos & videos', v26() ? 'ic-filter-filled' : 'attach-image', MEDIA_ACCEPT, true),
        item('New sticker', 'wds-ic-image-stickers', 'image/*')));
    footer.append(menu);
    setTimeout(() => document.addEventListener('click', (e) => {
      if (!menu.contains(e.target)) menu.remove();
    }, { once: true }), 0);
  }

  function openPreview(files, via) {
    closePreview();
    const area = document.querySelector('.main-area');
    if (!area || !conv) return;
    const file = files[0];
    const isPicture = via === 'media' && file.type.startsWith('image/');
    const url = URL.createObjectURL(file);
    const shown = isPicture
      ? el('img', { src: url, alt: '', class: 'preview-img' })
      : el('div', { class: 'preview-doc' }, icon(`document-${(file.name.split('.').pop() || 'file').toUpperCase()}-icon`),
        el('div', { class: 'preview-doc-name', text: file.name }),
        el('div', { class: 'preview-doc-size', text: humanSize(file.size) }));
    const caption = el('div', {
      contenteditable: 'true', role: 'textbox', spellcheck: 'true', 'data-tab': v26() ? '10' : '9',
      'aria-label': v26() ? 'Add a caption' : 'Add a caption…', 'aria-placeholder': 'Add a caption',
      'data-lexical-editor': 'true', class: 'selectable-text copyable-text caption-box',
    });
    caption.innerHTML = P_EMPTY;
    caption.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.isComposing) return;
      ev.preventDefault();
      if (ev.shiftKey) { document.execCommand('insertParagraph'); normalizeComposer(caption); return; }
      sendPreview();
    });
    caption.addEventListener('input', () => normalizeComposer(caption));
    const send = el('div', { role: 'button', tabindex: '0', class: 'preview-send',
      'aria-label': v26() ? `Send ${files.length} selected` : 'Send', 'data-testid': v26() ? null : 'media-send',
      onclick: sendPreview }, icon(v26() ? 'wds-ic-send-filled' : 'send'));
    const dialog = el('div', { role: 'dialog', class: 'media-preview', tabindex: '-1' },
      el('div', { class: 'preview-toolbar' },
        el('div', { role: 'button', 'aria-label': 'Close', class: 'preview-close', onclick: closePreview }, icon('x')),
        isPicture ? icon('wds-ic-image-rotate-right') : null),
      el('div', { class: 'preview-body' }, shown),
      el('div', { class: 'preview-footer' },
        el('div', { class: 'caption-container', 'data-testid': v26() ? null : 'media-caption-input-container' },
          caption, el('div', { class: 'caption-placeholder', text: 'Add a caption' })),
        send));
    area.append(dialog);
    preview = { files, via, dialog, caption, url };
    caption.focus();
  }

  function closePreview() {
    if (!preview) return;
    preview.dialog.remove();
    preview = null;
  }

  function fileBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => { const r = String(reader.result); resolve(r.slice(r.indexOf(',') + 1)); };
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  function sendPreview() {
    if (!preview || !conv) return;
    const { files, via, url } = preview;
    const text = composerText(preview.caption);
    closePreview();
    for (const [index, file] of files.entries()) {
      const kind = via === 'document' ? 'document' : (file.type.startsWith('video/') ? 'video' : 'image');
      const m = {
        id: `3EB0${randomHex(18)}`, chat: conv.jid, from_me: true, text: index === 0 ? text : '',
        timestamp: Date.now() / 1000, ack: 0, author: cfg.me_name, source: 'page',
        media: { kind, mime: file.type, size: file.size, file_name: kind === 'document' ? file.name : null,
          unavailable: false, downloaded: true },
      };
      mediaBlobs.set(m.id, Promise.resolve(index === 0 ? url : URL.createObjectURL(file)));
      receiveMessage(m, null);
      fileBase64(file)
        .then((data) => api('POST', '/__page/send', { chat: m.chat, text: m.text, id: m.id,
          media: { kind, mime: file.type, file_name: file.name, data } }))
        .catch(() => applyAck(m.id, -1));
    }
  }

  // ---- events -------------------------------------------------------------------------------------------
  function receiveMessage(m, summary) {
    const chat = ensureChat(m.chat, m.chat.split('@')[0]);
    if (summary) Object.assign(chat, { name: summary.name, unread: summary.unread });
    chat.listed = true;
    const existing = chat.messages.find((x) => x.id === m.id);
    if (existing) {
      if (m.ack > existing.ack) applyAck(m.id, m.ack);
      return;
    }
    chat.messages.push(m);
    chat.last = m;
    if (conv && conv.jid === m.chat) {
      appendMessage(m);
      if (chat.unread) { chat.unread = 0; api('POST', '/__page/open', { chat: m.chat }).catch(() => {}); }
    }
    renderChatList();
  }

  function applyAck(id, level) {
    for (const chat of chats.values()) {
      const m = chat.messages.find((x) => x.id === id);
      if (!m) continue;
      m.ack = level;
      const row = conv && conv.rowEls.get(id);
      if (row) {
        const status = row.querySelector('.msg-status');
        if (status) status.replaceChildren(ackIcon(level, 'msg'));
      }
      renderChatList();
      return;
    }
  }

  async function handleEvent(ev) {
    switch (ev.type) {
      case 'scan':
        if (session === 'logged_in') return;
        session = 'logged_in';
        stopQr();
        await showStartup(cfg.sync_ms, 'Loading your chats');
        setChats(ev.chats);
        renderShell();
        applyPendingSend();
        renderNotice();
        return;
      case 'logout':
        location.assign('/?post_logout=1');
        return;
      case 'phone':
        phoneOnline = ev.online;
        renderPhoneBanner();
        return;
      case 'notice':
        setNotice(ev.notice);
        return;
      case 'unregistered':
        unregistered = new Set(ev.phones);
        return;
      case 'reset':
        location.assign('/');
        return;
      case 'message':
        if (session === 'logged_in') receiveMessage(ev.message, ev.chat);
        return;
      case 'chat': {
        if (session !== 'logged_in') return;
        const chat = ensureChat(ev.chat.id, ev.chat.phone);
        Object.assign(chat, { name: ev.chat.name, listed: true, unread: conv && conv.jid === ev.chat.id ? 0 : ev.chat.unread });
        renderChatList();
        return;
      }
      case 'ack':
        if (session === 'logged_in') applyAck(ev.id, ev.ack);
        break;
      default:
    }
  }

  async function pollLoop() {
    for (;;) {
      try {
        const result = await api('GET', `/__control/events?since=${seq}`);
        for (const ev of result.events) {
          seq = Math.max(seq, ev.seq);
          await handleEvent(ev);
        }
        seq = result.seq;
      } catch (err) {
        await sleep(250);
      }
    }
  }

  // ---- /send?phone=N&text=T -----------------------------------------------------------------------------
  function applyPendingSend() {
    if (!pendingSend) return;
    const { phone, text } = pendingSend;
    pendingSend = null;
    history.replaceState(null, '', '/');
    const digits = phone.replace(/[\s()+-]/g, '');
    if (!/^[1-9]\d{6,14}$/.test(digits) || unregistered.has(digits)) {
      showModal('Phone number shared via url is invalid.');
      return;
    }
    const jid = `${digits}@c.us`;
    ensureChat(jid, digits);
    openChat(jid);
    if (text) {
      setComposerText(conv.box, text);
      updateSendButton();
    }
  }

  // WhatsApp's popup (WAWebConfirmPopup): the body's lines and its buttons; a button without an action closes it.
  function showModal(text, lines, buttons, extraClass) {
    const body = el('div', { class: 'modal-body', 'data-animate-modal-body': 'true' },
      ...(lines || [text]).map((line) => el('div', { text: line })));
    const modal = el('div', { class: `modal-backdrop ${extraClass || ''}`.trim(), 'data-animate-modal-backdrop': 'true' },
      el('div', { class: 'modal', role: 'dialog', 'data-animate-modal-popup': 'true', 'aria-label': text },
        body,
        el('div', { class: 'modal-actions' },
          ...(buttons || [['OK', null]]).map(([label, action]) => el('button', {
            type: 'button', class: 'modal-ok', onclick: () => (action ? action() : modal.remove()),
          }, el('div', { text: label }))))));
    document.body.append(modal);
    return modal;
  }

  // ---- WhatsApp's notices about the account (ban screens replace the app; the others are popups over it) ----
  const NOTICE_TEXTS = {
    rate_limited: ["You\u2019re sending too many messages. Try again later."],
    restricted: ['Your account is restricted right now',
      'You can\u2019t message new people for a while because your account sent too many messages.'],
    temp_banned: ['You\u2019re temporarily banned from WhatsApp because you sent too many messages to people who '
      + 'don\u2019t have your number in their address books.', 'You\u2019ll be able to use WhatsApp again in 2 hours'],
    banned: ['This account is not allowed to use WhatsApp due to spam.'],
  };
  const FULL_SCREEN = new Set(['temp_banned', 'banned']);

  function renderNotice() {
    for (const old of document.querySelectorAll('.notice-popup')) old.remove();
    if (!notice || !NOTICE_TEXTS[notice] || session !== 'logged_in') return;
    const lines = NOTICE_TEXTS[notice];
    if (FULL_SCREEN.has(notice)) {
      // WAWebConflict: the app gives way to the popup, with "Log out" and "Learn more".
      conv = null;
      openJid = null;
      wrapper.replaceChildren();
      showModal(lines[0], lines, [['Log out', null], ['Learn more', null]], 'notice-popup');
    } else {
      showModal(lines[0], lines, [['OK', null]], 'notice-popup');
    }
  }

  function setNotice(kind) {
    const wasFull = FULL_SCREEN.has(notice);
    notice = kind || null;
    if (wasFull && !FULL_SCREEN.has(notice) && session === 'logged_in') {
      renderShell();
      applyPendingSend();
    }
    renderNotice();
  }

  // Escape closes the contact-info drawer if it is open, else the open chat (back to the intro pane).
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || session !== 'logged_in' || document.querySelector('.modal-backdrop')) return;
    if (infoOpen) { closeContactInfo(); return; }
    if (!conv) return;
    openJid = null;
    renderIntro();
    renderChatList();
    api('POST', '/__page/open', { chat: null }).catch(() => {});
  });

  // ---- boot ---------------------------------------------------------------------------------------------
  function applyConfig(config) {
    cfg = Object.assign({}, config);
    const num = (name, key) => { if (query.has(name) && !Number.isNaN(Number(query.get(name)))) cfg[key] = Number(query.get(name)); };
    num('slow', 'slow_ms');
    num('qr_ms', 'qr_ms');
    num('qr_first_ms', 'qr_first_ms');
    num('qr_rotations', 'qr_rotations');
    num('sync_ms', 'sync_ms');
    if (query.has('variant')) cfg.variant = query.get('variant');
  }

  async function boot() {
    const startupStarted = performance.now();
    showStartup(60000, 'WhatsApp');
    let state;
    for (;;) {
      try { state = await api('GET', '/__page/boot'); break; } catch (err) { await sleep(250); }
    }
    applyConfig(state.config);
    document.body.classList.toggle('variant-2026', v26());
    seq = state.seq;
    session = state.session;
    phoneOnline = state.phone_online !== false;
    notice = FULL_SCREEN.has(state.notice) ? state.notice : null; // a warning popup is not shown again on a reload
    unregistered = new Set(state.unregistered || []);
    if (location.pathname === '/send') pendingSend = { phone: query.get('phone') || '', text: query.get('text') || '' };
    const remaining = cfg.slow_ms - (performance.now() - startupStarted);
    await showStartup(Math.max(remaining, 1), 'WhatsApp');
    if (session === 'logged_in') {
      setChats(state.chats);
      renderShell();
      applyPendingSend();
      renderNotice();
    } else {
      renderLanding();
    }
    pollLoop();
  }

  boot();
})();
