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
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DEMO_VENDOR, launchBrowser, logInAs, openTarget, waitForSessionState } from '../tests/gateway.mjs';
import {
  log, safeExec, waitFor, freePort, portOpen, fmtBytes, ratio, missingPackages, cpuOf, treeCpu, treeCpuDelta, rssKb,
  start, tempDir, runBench, startRelay, releaseBinary, startHoshuDemo, bytesToBrowser, pageScript, tapWebSockets, pacing,
  startXterm, xtermWorkload, LINES, LS_LINES, QUIET_MS,
} from './lib.mjs';

const WIDTH = 1024;
const HEIGHT = 768;
const TARGET = 'xvnc-bench';
const NOVNC_DIR = '/usr/share/novnc';

// ---------------------------------------------------------------------------------------------
// The pieces

function checkTools() {
  const missing = missingPackages({
    Xvnc: 'tigervnc-standalone-server', xterm: 'xterm', xsetroot: 'x11-xserver-utils',
    xwininfo: 'x11-utils', xdotool: 'xdotool', websockify: 'websockify',
  });
  if (!existsSync(join(NOVNC_DIR, 'vnc_lite.html'))) missing.push('novnc');
  if (missing.length) {
    throw new Error(`missing Debian packages: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`);
  }
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

async function startHoshu(bin, rfbPort) {
  const hoshu = await startHoshuDemo(bin);
  execFileSync(bin, ['admin', '--data', hoshu.data, 'target', 'add', '--demo', '--name', TARGET, '--protocol', 'vnc',
    '--host', '127.0.0.1', '--port', String(rfbPort)], { encoding: 'utf8' });
  return hoshu;
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
  tapWebSockets((e) => {
    c.wsMessages += 1;
    if (typeof e.data === 'string') {
      c.wsBytes += new TextEncoder().encode(e.data).length;
      scan(e.data);
    } else if (e.data instanceof ArrayBuffer) {
      c.wsBytes += e.data.byteLength;
    } else if (e.data && typeof e.data.size === 'number') {
      c.wsBytes += e.data.size;
    }
  }, c.replies);
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
  const bin = releaseBinary();
  const home = tempDir('hoshu-bench-home-');

  log('starting Xvnc, xterm, hoshu demo, relay, websockify …');
  const x = await startXvnc();
  await startXterm(x.env, home);
  const hoshu = await startHoshu(bin, x.rfbPort);
  const relay = await startRelay(x.rfbPort);
  const wsfy = await startWebsockify(relay.port);

  // One Chromium per client, each page the only (front) tab of its browser: a second tab in one
  // browser gets requestAnimationFrame throttled to about once a second, which stalls
  // guacamole-common-js (it draws frames in rAF callbacks) while noVNC draws directly.
  const launch = async () => {
    const browser = await launchBrowser(undefined, { viewport: { width: 1100, height: 900 } });
    browsers.push(browser);
    const { context } = browser;
    await context.addInitScript(pageScript(pageCounters, tapWebSockets));
    const page = context.pages()[0] ?? await context.newPage();
    return { context, page };
  };
  const browsers = [];
  try {
    const hb = await launch();
    const nb = await launch();
    const browserVersion = hb.context.browser()?.version() ?? safeExec('chromium', ['--version']);

    log('opening the Hoshu session page …');
    const hp = hb.page;
    await logInAs(hp, hoshu.url, DEMO_VENDOR);
    await hp.goto(hoshu.url);
    const sessionId = await openTarget(hp, hoshu.url, TARGET);
    await waitForSessionState(hp, 'connected', 30_000);

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
      hoshuApiBytes: await bytesToBrowser(hp, hoshu.url, sessionId),
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

    // ---- Phase 1: the xterm workload; phase 2: full-screen updates --------------------------
    let agree = null;
    const { p1a, p1b, p2a, p2b, typeStarted, typeEnded, loopStart, loopEnd, changes } = await xtermWorkload(x, {
      snapshot,
      waitIdle: waitScreenIdle,
      afterPhase1: async () => { agree = await compareScreens(hp, np); },
      width: WIDTH,
      height: HEIGHT,
    });
    const loopSeconds = (loopEnd - loopStart) / 1000;

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
    out.push(`Phase 1 — xterm workload: ${LINES.length} command lines typed with xdotool (40 ms per key, ${((typeEnded - typeStarted) / 1000).toFixed(1)} s),`);
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

runBench(main);
