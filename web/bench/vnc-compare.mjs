#!/usr/bin/env node
// Hoshu versus noVNC + websockify on the same Xvnc, in one run (issue 3, "Benchmarks").
//
// One Xvnc (1024×768) with an xterm; two headless Chromium pages watch it at the same time:
//   Hoshu:  `hoshu demo` with the Xvnc added as a target, its session page /sessions/<id>/view;
//   noVNC:  Debian's noVNC (vnc_lite.html) served by websockify, which reaches Xvnc through a
//           byte-counting TCP relay in this script (websockify → relay → Xvnc).
// Phase 1 (xterm workload): xdotool types a few command lines, then `ls -lR /usr | head -n 20000`,
//   then we wait until both pages have been idle for a while.
// Phase 2 (full-screen updates): the xterm is unmapped and `xsetroot -solid` alternates two
//   colours for BENCH_FPS_SECONDS (default 10) seconds.
// For each phase and each client: bytes to the browser, server-side CPU (gateway vs websockify),
// browser main-thread time, frames received. Printed side by side; nothing is asserted.
//
// Run: `make bench` (or `node web/bench/vnc-compare.mjs` with HOSHU_BIN pointing at a release
// build). Debian packages: tigervnc-standalone-server xterm x11-xserver-utils xdotool novnc
// websockify chromium.
import { spawn, execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { waitUntil } from '../tests/gateway.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const WIDTH = 1024;
const HEIGHT = 768;
const FPS_SECONDS = Number(process.env.BENCH_FPS_SECONDS || 10);
const LS_LINES = Number(process.env.BENCH_LS_LINES || 20000);
/** Both pages unchanged this long: the screen is idle. */
const QUIET_MS = 2500;
const TARGET = 'xvnc-bench';
const VENDOR = { login: 'demo-vendor', cells: [9, 14, 27, 33, 44, 50, 58, 3], fixed: 'demo', insert: 0 };
const NOVNC_DIR = '/usr/share/novnc';
const run = promisify(execFile);
const CLK_TCK = Number(safeExec('getconf', ['CLK_TCK']) || 100);

// ---------------------------------------------------------------------------------------------
// Small helpers

function safeExec(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
  } catch (e) {
    return ((e.stdout || '') + (e.stderr || '')).trim();
  }
}

function log(...a) { console.error('[vnc-compare]', ...a); }

/** The tests' poller, with the bench's longer default wait. */
function waitFor(what, probe, { timeout = 30_000, interval = 100 } = {}) {
  return waitUntil(what, probe, { timeout, interval });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function portOpen(port) {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
  });
}

/** utime+stime (seconds) of one process, all its threads. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch { return 0; }
}

/** pid → [ppid, cpu seconds] for every process. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch { /* gone */ }
  }
  return table;
}

/** CPU seconds of `pid` and every live descendant, by pid (websockify forks per connection). */
function treeCpu(pid) {
  const table = processTable();
  const out = new Map();
  const walk = (p) => {
    if (!table.has(p)) return;
    out.set(p, table.get(p).cpu);
    for (const [child, { ppid }] of table) if (ppid === p) walk(child);
  };
  walk(pid);
  return out;
}

function treeCpuDelta(before, after) {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

function rssKb(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  } catch { return 0; }
}

const fmtBytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');

// ---------------------------------------------------------------------------------------------
// Processes this script starts (each stopped by its own id in cleanup)

const started = [];
const tempDirs = [];

function start(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let output = '';
  const keep = (chunk) => { if (output.length < 200_000) output += chunk; };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const entry = { name, child, output: () => output };
  started.push(entry);
  child.on('error', (e) => { output += `\n(spawn error: ${e.message})`; });
  return entry;
}

async function stopAll() {
  for (const { child } of started.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    // Each child leads its own process group (detached): that group is this script's doing,
    // and it holds websockify's per-connection forks too.
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const exited = await Promise.race([
      new Promise((r) => child.once('exit', () => r(true))),
      sleep(5000).then(() => false),
    ]);
    if (!exited) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The pieces

function checkTools() {
  const need = {
    Xvnc: 'tigervnc-standalone-server', xterm: 'xterm', xsetroot: 'x11-xserver-utils',
    xdotool: 'xdotool', websockify: 'websockify',
  };
  const missing = [];
  for (const [tool, pkg] of Object.entries(need)) {
    if (!safeExec('sh', ['-c', `command -v ${tool}`])) missing.push(pkg);
  }
  if (!existsSync(join(NOVNC_DIR, 'vnc_lite.html'))) missing.push('novnc');
  if (!existsSync(process.env.CHROMIUM || '/usr/bin/chromium')) missing.push('chromium');
  if (missing.length) {
    throw new Error(`missing Debian packages: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`);
  }
}

function hoshuBinary() {
  const candidates = [
    process.env.HOSHU_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'release', 'hoshu'),
    join(repo, 'target', 'release', 'hoshu'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`release hoshu binary not found (tried ${candidates.join(', ')}); run cargo build --release or set HOSHU_BIN`);
  return found;
}

async function startXvnc() {
  let display = 60;
  while (existsSync(`/tmp/.X${display}-lock`) || existsSync(`/tmp/.X11-unix/X${display}`)) display += 1;
  const rfbPort = await freePort();
  const xvnc = start('Xvnc', 'Xvnc', [`:${display}`, '-rfbport', String(rfbPort), '-localhost',
    '-SecurityTypes', 'None', '-AlwaysShared', '-geometry', `${WIDTH}x${HEIGHT}`, '-depth', '24']);
  await waitFor(`Xvnc :${display} on port ${rfbPort}`, () => portOpen(rfbPort), { timeout: 20_000 })
    .catch((e) => { throw new Error(`${e.message}\n${xvnc.output()}`); });
  const env = { ...process.env, DISPLAY: `:${display}` };
  return { display, rfbPort, env, pid: xvnc.child.pid };
}

/** An xterm in the top-left corner running a plain shell; returns its window id. */
async function startXterm(env, home) {
  writeFileSync(join(home, '.bashrc'), 'PS1="bench$ "\n');
  start('xterm', 'xterm', ['-geometry', '160x56+0+0', '-bg', 'white', '-fg', 'black',
    '-e', 'bash', '--noprofile', '--rcfile', join(home, '.bashrc'), '-i'],
  { env: { ...env, HOME: home, LANG: 'C', LC_ALL: 'C' }, cwd: home });
  const wid = await waitFor('the xterm window', () => {
    const out = safeExec('xdotool', ['search', '--onlyvisible', '--class', 'xterm'], { env });
    return /^\d+/.test(out) ? out.split('\n')[0] : null;
  }, { timeout: 20_000, interval: 200 });
  return wid;
}

async function startHoshu(bin, rfbPort) {
  const data = mkdtempSync(join(tmpdir(), 'hoshu-bench-'));
  tempDirs.push(data);
  const demo = start('hoshu', bin, ['demo', '--data', data, '--listen', '127.0.0.1:0'],
    { env: { ...process.env, RUST_LOG: 'warn' } });
  const url = await waitFor('hoshu demo to print its URL', () =>
    demo.output().split('\n').find((l) => l.startsWith('https://'))?.trim(), { timeout: 60_000 })
    .catch((e) => { throw new Error(`${e.message}\n${demo.output()}`); });
  execFileSync(bin, ['admin', '--data', data, 'target', 'add', '--demo', '--name', TARGET, '--protocol', 'vnc',
    '--host', '127.0.0.1', '--port', String(rfbPort)], { encoding: 'utf8' });
  return { url, pid: demo.child.pid, version: safeExec(bin, ['--version']) };
}

/** websockify → this relay → Xvnc; counts the bytes each way. */
async function startRelay(rfbPort) {
  const counts = { toClient: 0, toServer: 0, connections: 0 };
  const server = createServer((client) => {
    counts.connections += 1;
    const upstream = connect(rfbPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.on('data', (b) => { counts.toClient += b.length; });
    client.on('data', (b) => { counts.toServer += b.length; });
    upstream.pipe(client);
    client.pipe(upstream);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end); upstream.on('error', end);
    client.on('close', end); upstream.on('close', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, counts, close: () => server.close() };
}

async function startWebsockify(relayPort) {
  const port = await freePort();
  const ws = start('websockify', 'websockify', ['--web', NOVNC_DIR, String(port), `127.0.0.1:${relayPort}`]);
  await waitFor('websockify to listen', () => portOpen(port), { timeout: 20_000 })
    .catch((e) => { throw new Error(`${e.message}\n${ws.output()}`); });
  return { port, pid: ws.child.pid };
}

// ---------------------------------------------------------------------------------------------
// In-page counters (an init script in both pages, before any page script runs)

function pageCounters() {
  const c = {
    wsBytes: 0, wsMessages: 0,
    // Hoshu (Guacamole text frames): sync instructions, img instructions, frames and their times.
    syncs: 0, imgs: 0, frames: [], mimetypes: {}, replies: [],
    // noVNC: flips of its back buffer onto the visible canvas, one per FramebufferUpdate that
    // changed something on screen, with the flipped area.
    flips: [],
  };
  window.__bench = c;
  let frameImgs = [];
  /** Opcodes (and for img, x/y) of one Guacamole message; lengths are UTF-16 units. */
  function scan(s) {
    let i = 0;
    while (i < s.length) {
      const elements = [];
      for (;;) {
        const dot = s.indexOf('.', i);
        if (dot < 0) return;
        const len = Number(s.slice(i, dot));
        const start = dot + 1;
        // Only the first seven elements matter (img's x and y); skip the rest by index.
        elements.push(elements.length < 7 && len < 64 ? s.slice(start, start + len) : null);
        i = start + len;
        const sep = s[i];
        i += 1;
        if (sep === ';') break;
        if (sep !== ',') return;
      }
      const op = elements[0];
      if (op === 'img') {
        c.imgs += 1;
        c.mimetypes[elements[4]] = (c.mimetypes[elements[4]] || 0) + 1;
        frameImgs.push([Number(elements[5]), Number(elements[6])]);
      } else if (op === 'sync') {
        c.syncs += 1;
        c.frames.push({ t: Date.now(), imgs: frameImgs });
        frameImgs = [];
      }
    }
  }
  const Native = window.WebSocket;
  // A plain function that returns the native socket (noVNC checks the socket's own prototype,
  // so a subclass would not do), listening to every message as the page does.
  function CountingWebSocket(...args) {
    const ws = new Native(...args);
    // Guacamole answers each frame with `sync` once it has drawn it: the reply times.
    const send = ws.send;
    ws.send = function (data) {
      if (typeof data === 'string' && data.includes('4.sync,')) c.replies.push(Date.now());
      return send.call(this, data);
    };
    ws.addEventListener('message', (e) => {
      c.wsMessages += 1;
      if (typeof e.data === 'string') {
        c.wsBytes += new TextEncoder().encode(e.data).length;
        scan(e.data);
      } else if (e.data instanceof ArrayBuffer) {
        c.wsBytes += e.data.byteLength;
      } else if (e.data && typeof e.data.size === 'number') {
        c.wsBytes += e.data.size;
      }
    });
    return ws;
  }
  CountingWebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) CountingWebSocket[k] = Native[k];
  window.WebSocket = CountingWebSocket;
  const drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (src, ...rest) {
    // noVNC's Display.flip(): drawImage(backbuffer, x, y, w, h, vx, vy, w, h) onto the canvas
    // in the page; every other draw goes to the back buffer.
    if (rest.length === 8 && src instanceof HTMLCanvasElement && !src.isConnected && this.canvas.isConnected) {
      c.flips.push({ t: Date.now(), area: rest[2] * rest[3] });
    }
    return drawImage.call(this, src, ...rest);
  };
}

async function counters(page) {
  return page.evaluate(() => {
    const c = window.__bench;
    return {
      wsBytes: c.wsBytes, wsMessages: c.wsMessages, syncs: c.syncs, imgs: c.imgs,
      frames: c.frames.map((f) => ({ t: f.t, n: f.imgs.length, full: isFull(f.imgs) })),
      flips: c.flips.slice(), replies: c.replies.slice(), mimetypes: { ...c.mimetypes },
    };
    function isFull(imgs) {
      // Hoshu sends a whole-screen change as 256-pixel tiles from (0, 0): all twelve origins.
      const have = new Set(imgs.map(([x, y]) => `${x},${y}`));
      for (let y = 0; y < 768; y += 256) for (let x = 0; x < 1024; x += 256) if (!have.has(`${x},${y}`)) return false;
      return true;
    }
  });
}

/** Main-thread time of a page (Chrome DevTools Performance metrics), seconds. */
async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map(({ name, value }) => [name, value]));
  return { task: m.TaskDuration ?? 0, script: m.ScriptDuration ?? 0 };
}

// ---------------------------------------------------------------------------------------------

async function logIn(page, baseUrl) {
  await page.goto(`${baseUrl}login`);
  await page.fill('#login', VENDOR.login);
  await page.click('#next');
  await page.waitForSelector('#matrix');
  const digits = [];
  for (const [cell, digit] of await page.$$eval('#matrix td.cell', (tds) =>
    tds.map((td) => [Number(td.dataset.cell), td.textContent.trim()]))) digits[cell] = digit;
  const typed = VENDOR.cells.map((c) => digits[c]);
  const answer = typed.slice(0, VENDOR.insert).join('') + VENDOR.fixed + typed.slice(VENDOR.insert).join('');
  await page.fill('#answer', answer);
  await Promise.all([page.waitForURL(/\/$/), page.click('#submit-answer')]);
  await page.waitForSelector('#welcome');
}

async function hoshuBytes(page, baseUrl, id) {
  const res = await page.request.get(`${baseUrl}api/v1/sessions?state=live`);
  if (!res.ok()) throw new Error(`GET /api/v1/sessions: ${res.status()}`);
  const s = (await res.json()).find((x) => x.id === id);
  if (!s) throw new Error(`session ${id} is not live any more`);
  return s.bytes_to_browser;
}

/** Full-screen RGBA of each page's remote screen, and the share of pixels that differ. */
async function compareScreens(hoshuPage, novncPage) {
  const grab = (page, selector) => page.evaluate(({ selector, w, h }) => {
    const canvas = document.querySelector(selector);
    if (!canvas || canvas.width < w || canvas.height < h) return null;
    return Array.from(canvas.getContext('2d').getImageData(0, 0, w, h).data.filter((_, i) => i % 16 === 0));
  }, { selector, w: WIDTH, h: HEIGHT });
  const a = await grab(hoshuPage, '#display canvas');
  const b = await grab(novncPage, '#screen canvas');
  if (!a || !b || a.length !== b.length) return null;
  let differ = 0;
  for (let i = 0; i < a.length; i += 1) if (Math.abs(a[i] - b[i]) > 24) differ += 1;
  return differ / a.length;
}

async function main() {
  checkTools();
  const bin = hoshuBinary();
  const home = mkdtempSync(join(tmpdir(), 'hoshu-bench-home-'));
  tempDirs.push(home);

  log('starting Xvnc, xterm, hoshu demo, relay, websockify …');
  const x = await startXvnc();
  const xtermWindow = await startXterm(x.env, home);
  const hoshu = await startHoshu(bin, x.rfbPort);
  const relay = await startRelay(x.rfbPort);
  const wsfy = await startWebsockify(relay.port);

  // One Chromium per client, each page the only (front) tab of its browser: a second tab in one
  // browser gets requestAnimationFrame throttled to about once a second, which stalls
  // guacamole-common-js (it draws frames in rAF callbacks) while noVNC draws directly.
  const launch = async () => {
    const profile = mkdtempSync(join(tmpdir(), 'hoshu-bench-chromium-'));
    tempDirs.push(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      viewport: { width: 1100, height: 900 },
      ignoreHTTPSErrors: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await context.addInitScript(pageCounters);
    const page = context.pages()[0] ?? await context.newPage();
    return { context, page };
  };
  const browsers = [];
  try {
    const hb = await launch();
    browsers.push(hb.context);
    const nb = await launch();
    browsers.push(nb.context);
    const browserVersion = hb.context.browser()?.version() ?? safeExec('chromium', ['--version']);

    log('opening the Hoshu session page …');
    const hp = hb.page;
    await logIn(hp, hoshu.url);
    await hp.goto(hoshu.url);
    await Promise.all([
      hp.waitForURL(/\/sessions\/[0-9a-f-]{36}\/view$/),
      hp.click(`tr[data-target="${TARGET}"] button.open`),
    ]);
    const sessionId = hp.url().match(/\/sessions\/([0-9a-f-]{36})\/view$/)[1];
    await hp.waitForSelector('#session-state[data-state="connected"]', { timeout: 30_000 });

    log('opening noVNC (vnc_lite.html) …');
    const np = nb.page;
    await np.goto(`http://127.0.0.1:${wsfy.port}/vnc_lite.html?host=127.0.0.1&port=${wsfy.port}`);
    await np.waitForFunction(() => document.getElementById('status')?.textContent.startsWith('Connected'), null, { timeout: 30_000 });

    const hcdp = await hb.context.newCDPSession(hp);
    const ncdp = await nb.context.newCDPSession(np);
    await hcdp.send('Performance.enable');
    await ncdp.send('Performance.enable');
    // Animation frames per second in each page (about 60 unless the browser throttles it).
    const rafRate = (page) => page.evaluate(() => new Promise((done) => {
      let n = 0;
      const t0 = performance.now();
      const step = () => { n += 1; if (performance.now() - t0 < 1000) requestAnimationFrame(step); else done(n); };
      requestAnimationFrame(step);
    }));
    const raf = await Promise.all([rafRate(hp), rafRate(np)]);
    const visibility = [await hp.evaluate(() => document.visibilityState), await np.evaluate(() => document.visibilityState)];

    /** Everything measured, at one instant. */
    const snapshot = async () => ({
      at: Date.now(),
      hoshuApiBytes: await hoshuBytes(hp, hoshu.url, sessionId),
      relayBytes: relay.counts.toClient,
      hoshuCpu: cpuOf(hoshu.pid),
      wsfyCpu: treeCpu(wsfy.pid),
      hc: await counters(hp),
      nc: await counters(np),
      hMain: await mainThread(hcdp),
      nMain: await mainThread(ncdp),
    });
    // Hoshu pings every 500 ms through its tunnel (a few bytes): "idle" ignores bytes that small.
    const waitScreenIdle = async (what, timeout) => {
      let prev = null;
      let hLast = Date.now();
      let nLast = Date.now();
      await waitFor(what, async () => {
        const h = await hp.evaluate(() => window.__bench.syncs);
        const n = relay.counts.toClient;
        const now = Date.now();
        if (prev && h !== prev.h) hLast = now;
        if (prev && n !== prev.n) nLast = now;
        prev = { h, n };
        return now - Math.max(hLast, nLast) >= QUIET_MS;
      }, { timeout, interval: 100 });
    };

    await waitScreenIdle('both pages to show the first picture', 60_000);

    // ---- Phase 1: the xterm workload ------------------------------------------------------
    log('phase 1: typing, then ls -lR …');
    // Never block the event loop while the screens update: the relay runs in this process.
    const xdo = (...args) => run('xdotool', args, { env: x.env });
    await xdo('mousemove', '400', '300');
    await sleep(300);
    const p1a = await snapshot();
    const lines = [
      'echo "Hoshu benchmark: typing into an xterm"',
      'cd /usr/share && pwd',
      'printf "%s\\n" alpha beta gamma delta',
      'uname -sr; date -u +%Y-%m-%d',
      'echo done typing',
    ];
    const typeStarted = Date.now();
    for (const line of lines) {
      await xdo('type', '--delay', '40', line);
      await xdo('key', 'Return');
      await sleep(300);
    }
    const typeEnded = Date.now();
    await xdo('type', '--delay', '40', `ls -lR /usr | head -n ${LS_LINES}`);
    await xdo('key', 'Return');
    await waitScreenIdle('the screen to be idle after ls -lR', 300_000);
    const p1b = await snapshot();
    const agree = await compareScreens(hp, np);

    // ---- Phase 2: full-screen updates -------------------------------------------------------
    log(`phase 2: xsetroot alternation for ${FPS_SECONDS} s …`);
    await xdo('windowunmap', '--sync', xtermWindow);
    await xdo('mousemove', String(WIDTH - 1), String(HEIGHT - 1));
    await waitScreenIdle('the screen to be idle after unmapping the xterm', 60_000);
    const p2a = await snapshot();
    const loopStart = Date.now();
    const { stdout: loopOut } = await run('bash', ['-c',
      `end=$((SECONDS+${FPS_SECONDS})); n=0; while [ $SECONDS -lt $end ]; do ` +
      'xsetroot -solid "#d93b3b"; xsetroot -solid "#3b6ed9"; n=$((n+2)); done; echo $n'],
    { env: x.env, encoding: 'utf8' });
    const loopEnd = Date.now();
    const changes = Number(loopOut.trim());
    const loopSeconds = (loopEnd - loopStart) / 1000;
    await waitScreenIdle('the screen to be idle after the colour loop', 120_000);
    const p2b = await snapshot();

    // ---- Figures ------------------------------------------------------------------------------
    const phase = (a, b) => ({
      hBytes: b.hoshuApiBytes - a.hoshuApiBytes,
      hPageBytes: b.hc.wsBytes - a.hc.wsBytes,
      nBytes: b.relayBytes - a.relayBytes,
      nPageBytes: b.nc.wsBytes - a.nc.wsBytes,
      hCpu: b.hoshuCpu - a.hoshuCpu,
      nCpu: treeCpuDelta(a.wsfyCpu, b.wsfyCpu),
      hTask: b.hMain.task - a.hMain.task,
      nTask: b.nMain.task - a.nMain.task,
      hFrames: b.hc.syncs - a.hc.syncs,
      hPacing: pacing(b.hc.frames.filter((f) => f.t >= a.at).map((f) => f.t), b.hc.replies.filter((t) => t >= a.at)),
      hImages: Object.entries(b.hc.mimetypes).map(([m, n]) => [m, n - (a.hc.mimetypes[m] || 0)]).filter(([, n]) => n > 0),
      nFrames: b.nc.flips.length - a.nc.flips.length,
    });
    /** Median ms from a frame's arrival to its `sync` reply, and from a reply to the next frame. */
    function pacing(arrivals, replies) {
      const median = (xs) => (xs.length ? xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)] : NaN);
      const draw = [];
      const turn = [];
      for (const t of arrivals) {
        const reply = replies.find((r) => r >= t);
        if (reply !== undefined) draw.push(reply - t);
        const before = replies.filter((r) => r < t).at(-1);
        if (before !== undefined) turn.push(t - before);
      }
      return { draw: median(draw), turn: median(turn) };
    }
    const pacingLine = (p, bytes, frames) => `  Hoshu frames: median ${p.draw} ms from arrival to the page's sync reply, ${p.turn} ms from a reply to the next frame; ` +
      `${fmtBytes(frames ? bytes / frames : 0)} per frame; images ${p.images.map(([m, n]) => `${m} ${n}`).join(', ') || 'none'}.`;
    const one = phase(p1a, p1b);
    const two = phase(p2a, p2b);
    // Frames per second inside the loop's window (pages stamp frames with Date.now(), the same
    // clock as this script's).
    const windowFrames = (list, pick) => list.filter((f) => f.t >= loopStart && f.t <= loopEnd && pick(f)).length;
    const hAll = windowFrames(p2b.hc.frames, (f) => f.n > 0);
    const hFull = windowFrames(p2b.hc.frames, (f) => f.full);
    const nAll = windowFrames(p2b.nc.flips, () => true);
    const nFull = windowFrames(p2b.nc.flips, (f) => f.area >= 0.9 * WIDTH * HEIGHT);
    const lastT = (list, from) => Math.max(from, ...list.map((f) => f.t));

    const versions = {
      hoshu: hoshu.version.replace(/^hoshu\s*/, ''),
      chromium: browserVersion,
      novnc: safeExec('dpkg-query', ['-W', '-f', '${Version}', 'novnc']),
      websockify: safeExec('dpkg-query', ['-W', '-f', '${Version}', 'websockify']),
      xvnc: (safeExec('sh', ['-c', 'Xvnc -version 2>&1']).match(/Xvnc TigerVNC [0-9.]+/) || ['Xvnc ?'])[0],
      xterm: safeExec('xterm', ['-version']),
      node: process.version,
    };
    const row = (label, h, n, r = '') => `| ${label.padEnd(44)} | ${String(h).padStart(14)} | ${String(n).padStart(16)} | ${r.padStart(7)} |`;
    const head = [
      row('', 'Hoshu', 'noVNC+websockify', 'H / N'),
      `|${'-'.repeat(46)}|${'-'.repeat(16)}|${'-'.repeat(18)}|${'-'.repeat(9)}|`,
    ];
    const out = [];
    out.push('');
    out.push(`vnc-compare: Hoshu vs noVNC + websockify, both watching one Xvnc ${WIDTH}×${HEIGHT} at the same time`);
    out.push(`  hoshu ${versions.hoshu} (release) | Chromium ${versions.chromium} (headless) | novnc ${versions.novnc} (vnc_lite.html) | websockify ${versions.websockify}`);
    out.push(`  ${versions.xvnc} | ${versions.xterm} | node ${versions.node} | ${cpus().length} CPUs (shared, noisy)`);
    out.push(`  two headless Chromium processes, one page each: Hoshu ${visibility[0]} (${raf[0]} animation frames/s), noVNC ${visibility[1]} (${raf[1]}/s)`);
    out.push('');
    out.push(`Phase 1 — xterm workload: ${lines.length} command lines typed with xdotool (40 ms per key, ${((typeEnded - typeStarted) / 1000).toFixed(1)} s),`);
    out.push(`  then \`ls -lR /usr | head -n ${LS_LINES}\` in a 160×56 xterm, until both screens were idle for ${QUIET_MS / 1000} s.`);
    out.push(...head);
    out.push(row('bytes to the browser', fmtBytes(one.hBytes), fmtBytes(one.nBytes), ratio(one.hBytes, one.nBytes)));
    out.push(row('  (cross-check: WebSocket payload in page)', fmtBytes(one.hPageBytes), fmtBytes(one.nPageBytes), ratio(one.hPageBytes, one.nPageBytes)));
    out.push(row('server CPU s (gateway | websockify)', one.hCpu.toFixed(2), one.nCpu.toFixed(2), ratio(one.hCpu, one.nCpu)));
    out.push(row('browser main-thread busy s', one.hTask.toFixed(2), one.nTask.toFixed(2), ratio(one.hTask, one.nTask)));
    out.push(row('screen updates received (frames)', one.hFrames, one.nFrames, ratio(one.hFrames, one.nFrames)));
    out.push(row('last update after the workload began, s', ((lastT(p1b.hc.frames, typeStarted) - typeStarted) / 1000).toFixed(1), ((lastT(p1b.nc.flips, typeStarted) - typeStarted) / 1000).toFixed(1)));
    out.push(row('final pictures differ (share of pixels)', agree === null ? '?' : `${(agree * 100).toFixed(2)}%`, ''));
    out.push(pacingLine({ ...one.hPacing, images: one.hImages }, one.hBytes, one.hFrames));
    out.push('');
    out.push(`Phase 2 — full-screen updates: xterm unmapped, \`xsetroot -solid\` alternating two colours for ${loopSeconds.toFixed(1)} s`);
    out.push(`  (${changes} colour changes, ${(changes / loopSeconds).toFixed(1)} per second: the most frames either client could get).`);
    out.push(...head);
    out.push(row('frames per second (any change)', (hAll / loopSeconds).toFixed(1), (nAll / loopSeconds).toFixed(1), ratio(hAll, nAll)));
    out.push(row('full-screen frames per second', (hFull / loopSeconds).toFixed(1), (nFull / loopSeconds).toFixed(1), ratio(hFull, nFull)));
    out.push(row('bytes to the browser', fmtBytes(two.hBytes), fmtBytes(two.nBytes), ratio(two.hBytes, two.nBytes)));
    out.push(row('server CPU s (gateway | websockify)', two.hCpu.toFixed(2), two.nCpu.toFixed(2), ratio(two.hCpu, two.nCpu)));
    out.push(row('browser main-thread busy s', two.hTask.toFixed(2), two.nTask.toFixed(2), ratio(two.hTask, two.nTask)));
    out.push(row('frames received incl. catch-up', two.hFrames, two.nFrames, ratio(two.hFrames, two.nFrames)));
    out.push(row('last update after the loop ended, s', ((lastT(p2b.hc.frames, loopEnd) - loopEnd) / 1000).toFixed(1), ((lastT(p2b.nc.flips, loopEnd) - loopEnd) / 1000).toFixed(1)));
    out.push(pacingLine({ ...two.hPacing, images: two.hImages }, two.hBytes, two.hFrames));
    out.push('');
    out.push('What the numbers mean:');
    out.push('- bytes to the browser: Hoshu, the session\'s bytes_to_browser from GET /api/v1/sessions (Guacamole');
    out.push('  instruction text, the WebSocket payload, before TLS); noVNC, RFB bytes Xvnc sent through a counting');
    out.push('  relay between websockify and Xvnc (= websockify\'s binary WebSocket payload; no TLS on that side).');
    out.push('  The cross-check row counts the payload the page\'s WebSocket received (same layer for both).');
    out.push('- server CPU: utime+stime from /proc/<pid>/stat: the hoshu process (RFB decoding, PNG/JPEG encoding,');
    out.push('  recording with zstd, TLS) against websockify and its per-connection fork (relaying only; noVNC');
    out.push('  decodes RFB in the browser). The relay runs in this script and is counted for neither.');
    out.push('- browser main-thread busy: TaskDuration of each page from the DevTools Performance domain.');
    out.push('- frames: Hoshu, `sync` instructions the page received (one per frame; the gateway sends at most two');
    out.push('  unanswered, coalescing the rest); noVNC, flips of its back buffer onto the visible canvas (one per');
    out.push('  FramebufferUpdate that changed the screen). Full-screen: Hoshu frames carrying all twelve 256-px tiles');
    out.push('  of 1024×768; noVNC flips covering ≥ 90% of the screen. Frames per second count frames that arrived');
    out.push('  inside the loop\'s window, divided by its length.');
    out.push('- one run on a shared 2-core machine: compare the columns, not runs on different days.');
    console.log(out.join('\n'));
    const rss = rssKb(hoshu.pid);
    console.log(`  (gateway RSS at the end: ${(rss / 1024).toFixed(1)} MiB; relay saw ${relay.counts.connections} connection(s))`);
    relay.close();
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
  }
}

let exitCode = 0;
const timer = setTimeout(() => { log('did not finish within 15 minutes'); exitCode = 1; cleanupAndExit(); }, 15 * 60_000);
let cleaning = false;
async function cleanupAndExit() {
  if (cleaning) return;
  cleaning = true;
  clearTimeout(timer);
  await stopAll();
  process.exit(exitCode);
}
process.on('SIGINT', () => { exitCode = 130; cleanupAndExit(); });
process.on('SIGTERM', () => { exitCode = 143; cleanupAndExit(); });
main().catch((e) => {
  exitCode = 1;
  log(e.stack || e.message);
  for (const s of started) {
    const o = s.output();
    if (o) log(`--- ${s.name} output (last 2000 chars)\n${o.slice(-2000)}`);
  }
}).finally(cleanupAndExit);
