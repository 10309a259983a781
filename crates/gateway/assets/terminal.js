// The terminal page of an SSH session: xterm.js over the gateway's tunnel. Binary frames carry
// terminal bytes both ways, text frames JSON control messages (session/terminal.rs).
import { Terminal } from '/static/xterm.mjs';
import { FitAddon } from '/static/addon-fit.mjs';
import { startWatermark } from '/static/watermark.js';

const container = document.getElementById('terminal');
const state = document.getElementById('session-state');
const notice = document.getElementById('session-notice');
const watermark = document.getElementById('watermark');
const ended = document.getElementById('ended');
const endReason = document.getElementById('end-reason');
const credentials = document.getElementById('credentials');
const clipboard = container.dataset.clipboard;

const term = new Terminal({
  cursorBlink: true,
  fontSize: 15,
  // CJK fonts after the Latin one, so Japanese renders in its own glyphs.
  fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK JP", "Noto Sans CJK JP", monospace',
  scrollback: 5000,
});
const fit = new FitAddon();
term.loadAddon(fit);
term.open(container);
fit.fit();
// For tests and people debugging: the terminal object.
window.hoshuTerminal = term;

const url = new URL(container.dataset.tunnel, window.location.href);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const socket = new WebSocket(url);
socket.binaryType = 'arraybuffer';
const encoder = new TextEncoder();
const send = (data) => { if (socket.readyState === WebSocket.OPEN) socket.send(data); };
const control = (message) => send(JSON.stringify(message));

let lastReason = null;
let noticeTimer = null;
function show(message) {
  notice.textContent = message;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.textContent = ''; }, 4000);
}

// The first message tells the gateway the size the shell starts with.
socket.onopen = () => control({ type: 'resize', cols: term.cols, rows: term.rows });
socket.onmessage = (event) => {
  if (typeof event.data !== 'string') {
    term.write(new Uint8Array(event.data));
    return;
  }
  const message = JSON.parse(event.data);
  if (message.type === 'connected') {
    state.dataset.state = 'connected';
    state.textContent = container.dataset.connected;
    term.focus();
  } else if (message.type === 'credentials') {
    document.getElementById('username-field').hidden = !message.username;
    credentials.hidden = false;
    document.getElementById(message.username ? 'target-username' : 'target-password').focus();
  } else if (message.type === 'notice') {
    show(message.message);
  } else if (message.type === 'end') {
    lastReason = message.reason;
  }
};
socket.onclose = () => {
  state.dataset.state = 'ended';
  state.textContent = container.dataset.ended;
  endReason.textContent = lastReason || container.dataset.ended;
  credentials.hidden = true;
  ended.hidden = false;
};

document.getElementById('credentials-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const password = document.getElementById('target-password');
  control({
    type: 'credentials',
    username: document.getElementById('target-username').value,
    password: password.value,
  });
  password.value = '';
  credentials.hidden = true;
  term.focus();
});

term.onData((data) => send(encoder.encode(data)));
// Mouse reports of some programs are bytes, not text.
term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
term.onResize(({ cols, rows }) => control({ type: 'resize', cols, rows }));
window.addEventListener('resize', () => fit.fit());

// Clipboard policy. Copying out is stopped here, in the page only (the text is on the user's
// screen, so the gateway cannot prevent it): no selection, no copy or cut events. Pasting in is
// also refused by the gateway, which drops input that looks like a paste when policy is off.
const stopEvent = (message) => (event) => {
  event.preventDefault();
  event.stopImmediatePropagation();
  show(message);
};
if (clipboard !== 'both') {
  term.onSelectionChange(() => { if (term.hasSelection()) term.clearSelection(); });
  document.addEventListener('copy', stopEvent(container.dataset.copyDisabled), true);
  document.addEventListener('cut', stopEvent(container.dataset.copyDisabled), true);
  container.addEventListener('contextmenu', (event) => event.preventDefault());
}
if (clipboard === 'off') {
  document.addEventListener('paste', (event) => {
    if (credentials.contains(event.target)) return; // typing the target's password
    stopEvent(container.dataset.pasteDisabled)(event);
  }, true);
}

document.getElementById('disconnect').addEventListener('click', () => socket.close());
window.addEventListener('beforeunload', () => socket.close());

startWatermark(watermark, container.dataset.login);
