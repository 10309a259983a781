// Recording player (issue 7): plays a graphical session's recorded instruction stream through a
// Guacamole client of its own, window by window. The gateway serves any moment's window starting
// at the keyframe (full picture) before it, so a seek fetches that window and fast-forwards to
// the moment — it never replays from the beginning, and the page holds one window at a time
// whatever the recording's length. Speed 1×–16×; "skip idle" jumps over quiet stretches.
import Guacamole from '/static/guacamole-common.js';

const container = document.getElementById('display');
const playPause = document.getElementById('play-pause');
const seek = document.getElementById('seek');
const position = document.getElementById('position');
const state = document.getElementById('player-state');
const speed = document.getElementById('speed');
const skipIdle = document.getElementById('skip-idle');
const base = container.dataset.recording;

/** Milliseconds of recording one fetch covers. */
const WINDOW_MS = 60 * 1000;
/** With "skip idle", a pause longer than this is cut to IDLE_KEEP_MS. */
const IDLE_MS = 2000;
const IDLE_KEEP_MS = 300;

const clock = (ms) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

let index = null; // {start_ms, duration_ms, keyframes_ms, finished}
let client = null;
let frames = []; // [{at, instructions: [[opcode, args]...]}], `at` an offset, in order
let windowEnd = 0; // offset up to which the current window was asked for
let loading = null; // AbortController of the window being fetched
let loaded = false; // the current window is complete
let pos = 0; // the playback clock, an offset from the start
let playing = false;
let lastTick = 0;

/** A client fed by hand: the recording is the server. */
function newClient() {
  const tunnel = new Guacamole.Tunnel();
  tunnel.connect = () => {};
  tunnel.sendMessage = () => {};
  tunnel.disconnect = () => {};
  const c = new Guacamole.Client(tunnel);
  c.connect();
  c.feed = (opcode, args) => { if (tunnel.oninstruction) tunnel.oninstruction(opcode, args); };
  return c;
}

function show() {
  position.textContent = `${clock(pos)} / ${clock(index ? index.duration_ms : 0)}`;
  seek.value = String(Math.round(pos));
}

/** Width and height of a PNG from its first base64 bytes (the IHDR chunk), or null. */
function pngSize(base64) {
  try {
    const head = atob(base64.slice(0, 32));
    if (head.length < 24 || head.slice(12, 16) !== 'IHDR') return null;
    const u32 = (at) => ((head.charCodeAt(at) << 24) | (head.charCodeAt(at + 1) << 16)
      | (head.charCodeAt(at + 2) << 8) | head.charCodeAt(at + 3)) >>> 0;
    return { w: u32(16), h: u32(20) };
  } catch {
    return null;
  }
}

/**
 * Fast-forwarding draws only what shows at the end: an image on the screen layer that a later
 * image (PNG, so its size is known) covers entirely, with no copy, transfer or resize between
 * them that could read it, is left out with its data. Decoding those images is what a seek
 * would otherwise spend its time on.
 */
function withoutCovered(batch) {
  const images = [];
  const open = new Map();
  const barriers = new Set(['copy', 'transfer', 'size']);
  batch.forEach(([opcode, args], i) => {
    if (opcode === 'img') {
      const image = { i, layer: args[2], x: Number(args[4]), y: Number(args[5]), png: args[3] === 'image/png', size: null, parts: [i] };
      images.push(image);
      open.set(args[0], image);
    } else if (opcode === 'blob' || opcode === 'end') {
      const image = open.get(args[0]);
      if (!image) return;
      image.parts.push(i);
      if (opcode === 'blob' && image.png && image.size === null) image.size = pngSize(args[1]) || false;
      if (opcode === 'end') open.delete(args[0]);
    }
  });
  const byStart = new Map(images.map((image) => [image.i, image]));
  const drop = new Set();
  let later = [];
  for (let i = batch.length - 1; i >= 0; i -= 1) {
    if (barriers.has(batch[i][0])) later = [];
    const image = byStart.get(i);
    if (!image || image.layer !== '0' || !image.size) continue;
    const { x, y } = image;
    const { w, h } = image.size;
    if (later.some((c) => c.x <= x && c.y <= y && c.x + c.w >= x + w && c.y + c.h >= y + h)) {
      for (const part of image.parts) drop.add(part);
    } else {
      later.push({ x, y, w, h });
    }
  }
  return drop.size ? batch.filter((_, i) => !drop.has(i)) : batch;
}

function deliverUpTo(offset) {
  const batch = [];
  while (frames.length && frames[0].at <= offset) batch.push(...frames.shift().instructions);
  for (const [opcode, args] of withoutCovered(batch)) {
    // One bad instruction must not stop playback of the rest.
    try { client.feed(opcode, args); } catch (e) { console.warn(`recording: ${opcode}: ${e.message}`); }
  }
}

/**
 * Fetches the window holding `offset` and fast-forwards the picture to it. Resolves as soon as
 * the moment is reached (the rest of the window keeps arriving behind it).
 */
function load(offset) {
  if (loading) loading.abort();
  const controller = new AbortController();
  loading = controller;
  loaded = false;
  frames = [];
  if (client) {
    client.disconnect();
    container.replaceChildren();
  }
  client = newClient();
  container.appendChild(client.getDisplay().getElement());
  windowEnd = offset + WINDOW_MS;
  let reach;
  const reached = new Promise((resolve) => { reach = resolve; });
  const parser = new Guacamole.Parser();
  let pending = [];
  parser.oninstruction = (opcode, args) => {
    // The parser may reuse its array for the next instruction: keep a copy.
    pending.push([opcode, args.slice()]);
    // A frame ends at its `sync`; everything before it belongs to it.
    if (opcode === 'sync') {
      const at = Math.max(0, Number(args[0]) - index.start_ms);
      frames.push({ at, instructions: pending });
      pending = [];
      // Frames up to the moment are drawn together once it is reached (withoutCovered).
      if (at > offset) reach();
    }
  };
  const download = (async () => {
    const response = await fetch(`${base}?from=${Math.floor(offset)}&until=${Math.floor(windowEnd)}`,
      { signal: controller.signal });
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || `HTTP ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (loading !== controller) return;
      parser.receive(decoder.decode(value, { stream: true }));
    }
    if (loading !== controller) return;
    loaded = true;
    loading = null;
  })();
  // Reached: a frame after the moment arrived, or the window ended (or failed: said here).
  download.catch((e) => { if (e.name !== 'AbortError') fail(e.message); }).finally(reach);
  return reached;
}

async function seekTo(offset) {
  pos = Math.max(0, Math.min(offset, index.duration_ms));
  show();
  try {
    await load(pos);
    deliverUpTo(pos);
  } catch (e) {
    if (e.name !== 'AbortError') fail(e.message);
  }
}

function fail(message) {
  state.dataset.state = 'error';
  state.textContent = message;
  setPlaying(false);
}

function setPlaying(on) {
  playing = on;
  playPause.textContent = on ? playPause.dataset.pause : playPause.dataset.play;
  lastTick = performance.now();
  if (on) requestAnimationFrame(tick);
}

function tick(now) {
  if (!playing) return;
  const elapsed = (now - lastTick) * Number(speed.value || 1);
  lastTick = now;
  let next = pos + elapsed;
  if (skipIdle.checked && frames.length && frames[0].at - pos > IDLE_MS) {
    next = Math.max(next, frames[0].at - IDLE_KEEP_MS);
  }
  pos = Math.min(next, index.duration_ms);
  deliverUpTo(pos);
  show();
  if (pos >= index.duration_ms) {
    deliverUpTo(Infinity);
    setPlaying(false);
    return;
  }
  // The window is used up: fetch the next one (from the keyframe before this moment).
  if (loaded && !frames.length && pos >= windowEnd) {
    seekTo(pos).then(() => { if (playing) requestAnimationFrame(tick); });
    return;
  }
  requestAnimationFrame(tick);
}

playPause.addEventListener('click', () => {
  if (playing) setPlaying(false);
  else {
    if (pos >= index.duration_ms) seekTo(0).then(() => setPlaying(true));
    else setPlaying(true);
  }
});
seek.addEventListener('change', () => seekTo(Number(seek.value)));
for (const item of document.querySelectorAll('#keystrokes li')) {
  item.addEventListener('click', () => seekTo(Number(item.dataset.offsetMs)));
}

/** The time line's pictures (taken at the recording's keyframes); a click seeks there. */
async function showThumbnails() {
  const strip = document.getElementById('thumbnails');
  const response = await fetch(base.replace(/\/recording$/, '/thumbnails'));
  if (!strip || !response.ok) return;
  for (const thumb of await response.json()) {
    const offset = Math.max(0, thumb.at_ms - index.start_ms);
    const img = document.createElement('img');
    img.src = thumb.url;
    img.loading = 'lazy';
    img.alt = clock(offset);
    img.title = clock(offset);
    img.dataset.offsetMs = String(offset);
    img.addEventListener('click', () => seekTo(offset));
    strip.appendChild(img);
  }
}

async function start() {
  const response = await fetch(`${base}/index`);
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || `HTTP ${response.status}`);
  index = await response.json();
  seek.max = String(index.duration_ms);
  showThumbnails().catch(() => {});
  // `?t=<ms>` opens the recording at that moment (a search hit, a keystroke line).
  const startAt = Number(new URLSearchParams(window.location.search).get('t')) || 0;
  await seekTo(startAt);
  state.dataset.state = 'loaded';
  state.textContent = '';
  seek.disabled = false;
  playPause.disabled = false;
  setPlaying(true);
}

// For tests and benchmarks: seek and resolve once the picture of that moment is drawn.
window.hoshuPlayer = {
  seek: (ms) => seekTo(ms).then(() => new Promise((done) => client.getDisplay().flush(done))),
  pause: () => setPlaying(false),
};

start().catch((e) => fail(e.message));
