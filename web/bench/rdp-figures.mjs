#!/usr/bin/env node
// RDP through Hoshu, figures for issue 4 ("Benchmarks"), beside FreeRDP's xfreerdp on the same
// xrdp, from one run. Nothing is asserted.
//
// The xrdp fixture (web/tests/rdp-servers.mjs: xrdp 0.9 + xorgxrdp, TLS) behind a byte-counting
// TCP relay in this script, so the RDP bytes the server sends are counted for both clients.
//   1. Time from clicking "open" on the portal to the first frame the page has drawn (its `sync`
//      reply to the first frame with images), median of OPENS (5) sessions.
//   2. Hoshu in headless Chromium, one session: the VNC benchmark's xterm workload (web/bench/
//      vnc-compare.mjs: a 160×56 xterm, five command lines typed with xdotool, then
//      `ls -lR /usr | head -n 20000`) on the session's X display; then full-screen updates at
//      1280×800: the xterms unmapped and `xsetroot -solid` alternating two colours for
//      BENCH_FPS_SECONDS (10) s.
//   3. The peer: xfreerdp (Debian freerdp2-x11) on a private Xvfb, the same two phases in the
//      xrdp session Hoshu left (xrdp keeps a disconnected session for 60 s and gives it to the
//      user's next connection; it lets one client at a time in, so the two clients run one after
//      the other, not side by side).
// Beside each client's own CPU: the fixture's xrdp and the session's Xorg, Chromium, and xrdp's
// sending over time (at the relay), to see where the time goes.
// xrdp's session is the size the client asks for: 1280×800 for both.
//
// Run: `make bench` (or `node web/bench/rdp-figures.mjs` with HOSHU_BIN pointing at a release
// build). Debian packages: xrdp xorgxrdp xvfb xterm x11-xserver-utils xdotool freerdp2-x11
// chromium (make deps, BENCH_DEBS).
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_VENDOR, launchBrowser, logInAs, openTarget } from '../tests/gateway.mjs';
import { startXrdp } from '../tests/rdp-servers.mjs';
import {
  run, log, safeExec, waitFor, fmtBytes, median, missingPackages, cpuOf, rssKb, processTree, programCpuDelta, threadCpu, start, stopOne, startedAs, tempDir,
  runBench, startRelay, releaseBinary, startHoshuDemo, bytesToBrowser, pageScript, tapWebSockets, pacing, startXterm,
  xtermWorkload, LINES, LS_LINES, QUIET_MS,
} from './lib.mjs';

const WIDTH = 1280;
const HEIGHT = 800;
const OPENS = 5;
const TARGET = 'xrdp-bench';

// ---------------------------------------------------------------------------------------------
// The xrdp session's X display (the fixture runs it in its own PID namespace; /proc shows it)

/** The newest live Xorg of the fixture: `{pid, env}` for X clients (DISPLAY, XAUTHORITY). */
function sessionDisplay(server) {
  let newest = null;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let args;
    try { args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!args[0]?.endsWith('/Xorg') || !args.some((a) => a.startsWith(join(server.dir, 'session')))) continue;
    // The most recently started (field 22 of stat, clock ticks since boot).
    const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    const startedAt = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    if (!newest || startedAt > newest.startedAt) {
      // sesman starts Xorg with `-auth .Xauthority`, relative to the user's home (its cwd).
      const auth = args[args.indexOf('-auth') + 1];
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      newest = { pid: Number(name), startedAt, env: { ...process.env, DISPLAY: args[1], XAUTHORITY: resolve(cwd, auth) } };
    }
  }
  return newest;
}

/** Waits for the session's display, and `ready()` (the client has its picture). */
async function waitForSession(server, what, ready) {
  return waitFor(`${what}: the xrdp session's X display`, () => {
    const s = sessionDisplay(server);
    return s && /screen #0/.test(safeExec('xdpyinfo', [], { env: s.env })) && ready() ? s : null;
  }, { timeout: 60_000, interval: 250 });
}


/**
 * The xterm workload on the session's display `x`, with a new bench xterm; `relay.timeline` holds
 * the chunks xrdp sent meanwhile.
 */
async function workload(x, home, snapshot, waitIdle, relay) {
  await startXterm(x.env, home);
  relay.timeline.length = 0;
  relay.record(true);
  try {
    const w = await xtermWorkload(x, { snapshot, waitIdle, snapshotAtLoopEnd: true, width: WIDTH, height: HEIGHT });
    return { ...w, timeline: relay.timeline.slice() };
  } finally {
    relay.record(false);
  }
}

/**
 * CPU of the processes this script started, at one instant (pid → {cpu, comm}): the gateway,
 * Chromium, and the fixture's xrdp, xrdp-sesman and the session's Xorg (its descendants too).
 */
const programs = () => processTree(process.pid);
/** Program groups, by command name. */
const XRDP = /^xrdp$/;
const XORG = /^Xorg$/;
const CHROMIUM = /^(chromium|chrome)/;

// ---------------------------------------------------------------------------------------------
// In the Hoshu page (an init script): frames received, frames drawn, colour flips seen

function pageCounters() {
  const c = { syncs: 0, frames: [], replies: [], flips: [], centre: [] };
  window.__bench = c;
  let imgs = 0;
  tapWebSockets((e) => {
    if (typeof e.data !== 'string') return;
    // Instruction starts only: `3.img,` and `4.sync,` at the start or after `;`.
    // Drawing instructions: img (tiles), rect+cfill (solid areas), copy.
    imgs += (e.data.match(/(^|;)(3\.img|5\.cfill|4\.copy),/g) || []).length;
    const syncs = (e.data.match(/(^|;)4\.sync,/g) || []).length;
    for (let i = 0; i < syncs; i += 1) {
      c.syncs += 1;
      c.frames.push({ t: Date.now(), imgs });
      imgs = 0;
    }
  }, c.replies);
  // What a person sees: once per animation frame, five points of the remote screen (corners and
  // centre); a "flip" is an animation frame in which all five changed colour.
  let last = null;
  const probe = () => {
    const canvas = document.querySelector('#display canvas');
    if (canvas && canvas.width >= 1280 && canvas.height >= 800) {
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const points = [[5, 5], [1274, 5], [640, 400], [5, 794], [1274, 794]];
      const now = points.map(([x, y]) => ctx.getImageData(x, y, 1, 1).data.slice(0, 3).join(','));
      if (last && now.every((v, i) => v !== last[i])) c.flips.push(Date.now());
      if (last && now[2] !== last[2]) c.centre.push(Date.now());
      last = now;
    }
    requestAnimationFrame(probe);
  };
  requestAnimationFrame(probe);
}

// ---------------------------------------------------------------------------------------------

function checkTools() {
  const need = { xrdp: 'xrdp xorgxrdp', Xvfb: 'xvfb', xterm: 'xterm', xsetroot: 'x11-xserver-utils', xwininfo: 'x11-utils', xdotool: 'xdotool' };
  const missing = missingPackages(need);
  if (missing.length) throw new Error(`missing Debian packages: ${missing.join(' ')} (make deps; apt-get install xdotool for the bench)`);
}

async function hoshuFigures(bin, server, relay) {
  const hoshu = await startHoshuDemo(bin);
  const { url, data } = hoshu;
  const passwordFile = join(data, 'xrdp.password');
  writeFileSync(passwordFile, `${server.password}\n`);
  // Not execFileSync: the command reaches xrdp through the relay, which runs in this process.
  await run(bin, ['admin', '--data', data, 'target', 'add', '--demo', '--name', TARGET, '--protocol', 'rdp',
    '--host', '127.0.0.1', '--port', String(relay.port), '--accept-certificate', server.certSha256,
    '--username', server.user, '--password-file', passwordFile, '--security', 'tls']);

  const browser = await launchBrowser(undefined, { viewport: { width: 1400, height: 1000 } });
  const { context } = browser;
  try {
    await context.addInitScript(pageScript(pageCounters, tapWebSockets));
    const page = context.pages()[0] ?? await context.newPage();
    await logInAs(page, url, DEMO_VENDOR);
    const open = async () => {
      await page.goto(url);
      const clicked = Date.now();
      const id = await openTarget(page, url, TARGET);
      // The first reply after a frame that carried images: that frame is on the canvas.
      const drawn = await waitFor('the first frame drawn', () => page.evaluate(() => {
        const c = window.__bench;
        const first = c.frames.find((f) => f.imgs > 0);
        return first ? c.replies.find((r) => r >= first.t) : null;
      }), { timeout: 60_000 });
      return { id, clicked, firstFrameMs: drawn - clicked };
    };
    // xrdp keeps a left session for DisconnectedTimeLimit (60 s) and gives it to the user's
    // next connection: opens after the first find the session's X server running.
    const close = async () => {
      await page.click('#disconnect');
      await page.waitForSelector('#session-state[data-state="ended"]', { timeout: 30_000 });
      await sleep(1000);
    };

    log(`hoshu: opening the target ${OPENS} times …`);
    const firstFrame = [];
    for (let i = 0; i < OPENS; i += 1) {
      const { firstFrameMs } = await open();
      firstFrame.push(firstFrameMs);
      await close();
    }

    log('hoshu: the workload …');
    const { id } = await open();
    const x = await waitForSession(server, 'hoshu', () => true);
    const snapshot = async () => ({
      at: Date.now(),
      bytes: await bytesToBrowser(page, url, id),
      rdpBytes: relay.counts.toClient,
      cpu: cpuOf(hoshu.pid),
      threads: threadCpu(hoshu.pid),
      programs: programs(),
      page: await page.evaluate(() => ({ syncs: window.__bench.syncs, frames: window.__bench.frames.slice(), replies: window.__bench.replies.slice(), flips: window.__bench.flips.slice(), centre: window.__bench.centre.slice() })),
    });
    const waitIdle = async (what, timeout) => {
      let prev = -1;
      let changed = Date.now();
      await waitFor(what, async () => {
        const n = await page.evaluate(() => window.__bench.frames.filter((f) => f.imgs > 0).length);
        if (n !== prev) { prev = n; changed = Date.now(); }
        return Date.now() - changed >= QUIET_MS;
      }, { timeout, interval: 100 });
    };
    const home = tempDir('hoshu-bench-home-');
    const w = await workload(x, home, snapshot, waitIdle, relay);
    await close();
    for (const s of startedAs('bench xterm')) await stopOne(s);
    return { firstFrame, w, bin, version: hoshu.version, chromium: context.browser()?.version() ?? safeExec('chromium', ['--version']), rss: rssKb(hoshu.pid) };
  } finally {
    await browser.close().catch(() => {});
    await stopOne(hoshu.process);
  }
}

async function peerFigures(server, relay) {
  if (!safeExec('sh', ['-c', 'command -v xfreerdp'])) return { missing: 'xfreerdp not found (Debian freerdp2-x11)' };
  const xvfbDisplay = `:${2900 + Math.floor(Math.random() * 90)}`;
  const xvfb = start('Xvfb', 'Xvfb', [xvfbDisplay, '-nolisten', 'tcp', '-screen', '0', `${WIDTH + 100}x${HEIGHT + 100}x24`]);
  await waitFor('the peer\'s Xvfb', () => existsSync(`/tmp/.X11-unix/X${xvfbDisplay.slice(1)}`), { timeout: 20_000 });
  const home = tempDir('hoshu-bench-xfreerdp-');
  const args = [`/v:127.0.0.1:${relay.port}`, `/u:${server.user}`, `/p:${server.password}`, '/cert:ignore', '/sec:tls',
    `/size:${WIDTH}x${HEIGHT}`, '-grab-keyboard', '/title:hoshu-bench-peer'];
  // xfreerdp opens its X display before anything else, --version too.
  const peerEnv = { ...process.env, DISPLAY: xvfbDisplay };
  const xf = start('xfreerdp', 'xfreerdp', args, { env: { ...peerEnv, HOME: home } });
  try {
    // Connected once xfreerdp shows its window (it maps it after the connection sequence). The
    // session is the one Hoshu left (xrdp keeps it for 60 s and gives it to the user's next
    // connection), its xterms unmapped: the root window only, which xrdp's bulk compression
    // (negotiated by xfreerdp, not by Hoshu) sends in a few KiB.
    const x = await waitForSession(server, 'xfreerdp',
      () => /IsViewable/.test(safeExec('xwininfo', ['-name', 'hoshu-bench-peer'], { env: peerEnv })));
    const snapshot = async () => ({ at: Date.now(), rdpBytes: relay.counts.toClient, cpu: cpuOf(xf.child.pid), xvfbCpu: cpuOf(xvfb.child.pid), programs: programs() });
    // No frame count from xfreerdp: idle is when xrdp has sent nothing for QUIET_MS.
    const waitIdle = async (what, timeout) => {
      let prev = -1;
      let changed = Date.now();
      await waitFor(what, () => {
        const n = relay.counts.toClient;
        if (n !== prev) { prev = n; changed = Date.now(); }
        return Date.now() - changed >= QUIET_MS;
      }, { timeout, interval: 100 });
    };
    const w = await workload(x, tempDir('hoshu-bench-home-'), snapshot, waitIdle, relay);
    return { w, args: args.map((a) => (a.startsWith('/p:') ? '/p:***' : a)).join(' '), version: (safeExec('xfreerdp', ['--version'], { env: peerEnv }).match(/version [^\s]+/) || ['?'])[0] };
  } finally {
    await stopOne(xf);
    await stopOne(xvfb);
  }
}

async function main() {
  checkTools();
  const bin = releaseBinary();
  log('starting the xrdp fixture …');
  const server = await startXrdp();
  const relay = await startRelay(server.port);
  try {
    const h = await hoshuFigures(bin, server, relay);
    log('peer: xfreerdp …');
    let p;
    try {
      p = await peerFigures(server, relay);
    } catch (e) {
      p = { missing: `xfreerdp run failed: ${e.message.split('\n')[0]}` };
    }
    print(h, p);
  } finally {
    relay.close();
    await server.stop();
  }
}

function print(h, p) {
  const hw = h.w;
  const pw = p.w;
  const loopS = (w) => (w.loopEnd - w.loopStart) / 1000;
  const inLoop = (ts, w) => ts.filter((t) => t >= w.loopStart && t <= w.loopEnd).length;
  const hFrames = inLoop(hw.p2b.page.frames.filter((f) => f.imgs > 0).map((f) => f.t), hw);
  const hFlips = inLoop(hw.p2b.page.flips, hw);
  const hCentre = inLoop(hw.p2b.page.centre, hw);
  const na = 'not measured';
  // Where the time goes: CPU by program between two snapshots, in seconds and in cores.
  const prog = (a, b, re) => programCpuDelta(a.programs, b.programs, re);
  const cores = (a, b, cpu) => (cpu / ((b.at - a.at) / 1000)).toFixed(2);
  const busiestThread = (a, b) => Math.max(0, ...[...b.threads].map(([tid, cpu]) => cpu - (a.threads.get(tid) ?? 0)));
  // xrdp's sending, from the relay's timeline: bytes in a window, and bursts (chunks less than
  // 5 ms apart are one burst; xrdp sends each screen update as one burst of PDUs).
  const bytesIn = (w, from, to) => w.timeline.filter(([t]) => t >= from && t <= to).reduce((sum, [, n]) => sum + n, 0);
  const bursts = (w, from, to) => {
    let n = 0;
    let last = -Infinity;
    for (const [t] of w.timeline) {
      if (t < from || t > to) continue;
      if (t - last > 5) n += 1;
      last = t;
    }
    return n;
  };
  const lastSent = (w) => (w.timeline.reduce((last, [t]) => (t <= w.p2b.at ? Math.max(last, t) : last), w.loopEnd) - w.loopEnd) / 1000;
  const loopFrames = hw.p2b.page.frames.filter((f) => f.t >= hw.loopStart && f.t <= hw.loopEnd);
  const loopReplies = hw.p2b.page.replies.filter((t) => t >= hw.loopStart && t <= hw.loopEnd);
  const hPacing = pacing(loopFrames.map((f) => f.t), hw.p2b.page.replies);
  const lastDrawn = (hw.p2b.page.frames.reduce((last, f) => (f.imgs > 0 ? Math.max(last, f.t) : last), hw.loopEnd) - hw.loopEnd) / 1000;
  const row = (label, a, b = '') => `| ${label.padEnd(52)} | ${String(a).padStart(16)} | ${String(b).padStart(22)} |`;
  const out = [];
  out.push('');
  out.push(`rdp-figures: Hoshu (RDP → Guacamole → Chromium) and xfreerdp, one after the other on one xrdp ${WIDTH}×${HEIGHT}`);
  out.push(`  ${h.version} (${h.bin}) | Chromium ${h.chromium} (headless) | ${p.version ? `xfreerdp ${p.version} on Xvfb` : 'no peer'}`);
  out.push(`  xrdp ${safeExec('dpkg-query', ['-W', '-f', '${Version}', 'xrdp'])} + xorgxrdp ${safeExec('dpkg-query', ['-W', '-f', '${Version}', 'xorgxrdp'])}, TLS security | node ${process.version} | ${cpus().length} CPUs (shared, noisy)`);
  if (p.args) out.push(`  peer: xfreerdp ${p.args}`);
  if (p.missing) out.push(`  peer: none — ${p.missing}`);
  out.push('');
  out.push(`Open → first frame drawn in the browser (click on the portal's "open" to the page's sync reply`);
  out.push(`  to the first frame with images; the first starts xrdp's session (Xorg), the others reconnect to it):`);
  out.push(`  median ${median(h.firstFrame)} ms of ${h.firstFrame.length}: ${h.firstFrame.join(', ')} ms`);
  out.push('');
  const head = [row('', 'Hoshu', 'xfreerdp (peer)'), `|${'-'.repeat(54)}|${'-'.repeat(18)}|${'-'.repeat(24)}|`];
  out.push(`Phase 1 — xterm workload (as vnc-compare): ${LINES.length} lines typed with xdotool (40 ms per key), then`);
  out.push(`  \`ls -lR /usr | head -n ${LS_LINES}\` in a 160×56 xterm, until the screen was idle for ${QUIET_MS / 1000} s.`);
  out.push(...head);
  out.push(row('bytes to the browser (bytes_to_browser)', fmtBytes(hw.p1b.bytes - hw.p1a.bytes), '—'));
  out.push(row('RDP bytes from xrdp (TLS records, at the relay)', fmtBytes(hw.p1b.rdpBytes - hw.p1a.rdpBytes), pw ? fmtBytes(pw.p1b.rdpBytes - pw.p1a.rdpBytes) : na));
  out.push(row('client CPU s (gateway | xfreerdp)', (hw.p1b.cpu - hw.p1a.cpu).toFixed(2), pw ? (pw.p1b.cpu - pw.p1a.cpu).toFixed(2) : na));
  out.push(row('  (peer\'s Xvfb, drawing for xfreerdp, CPU s)', '', pw ? (pw.p1b.xvfbCpu - pw.p1a.xvfbCpu).toFixed(2) : na));
  out.push(row('frames drawn in the browser', hw.p1b.page.frames.filter((f) => f.imgs > 0).length - hw.p1a.page.frames.filter((f) => f.imgs > 0).length, '—'));
  out.push(row('xrdp CPU s (all xrdp processes of the fixture)', prog(hw.p1a, hw.p1b, XRDP).toFixed(2), pw ? prog(pw.p1a, pw.p1b, XRDP).toFixed(2) : na));
  out.push(row('session Xorg CPU s (xorgxrdp, draws and diffs)', prog(hw.p1a, hw.p1b, XORG).toFixed(2), pw ? prog(pw.p1a, pw.p1b, XORG).toFixed(2) : na));
  out.push(row('Chromium CPU s (all its processes)', prog(hw.p1a, hw.p1b, CHROMIUM).toFixed(2), '—'));
  out.push(row('workload seconds (typing to idle)', ((hw.p1b.at - hw.typeStarted) / 1000 - QUIET_MS / 1000).toFixed(1), pw ? ((pw.p1b.at - pw.typeStarted) / 1000 - QUIET_MS / 1000).toFixed(1) : na));
  out.push('');
  out.push(`Phase 2 — full-screen updates at ${WIDTH}×${HEIGHT}: xterms unmapped, \`xsetroot -solid\` alternating two colours`);
  out.push(`  for ${loopS(hw).toFixed(1)} s (${hw.changes} changes, ${(hw.changes / loopS(hw)).toFixed(0)}/s, through Hoshu)` +
    (pw ? `, ${loopS(pw).toFixed(1)} s (${pw.changes} changes) through xfreerdp.` : '.'));
  out.push(...head);
  out.push(row('frames drawn per second (sync replies, drawing)   ', (hFrames / loopS(hw)).toFixed(1), 'not countable'));
  out.push(row('visible full-screen changes per second (rAF probe)', (hFlips / loopS(hw)).toFixed(1), 'not countable'));
  out.push(row('visible changes of the centre pixel per second', (hCentre / loopS(hw)).toFixed(1), 'not countable'));
  out.push(row('client CPU, cores (gateway | xfreerdp)', ((hw.p2b.cpu - hw.p2a.cpu) / ((hw.p2b.at - hw.p2a.at) / 1000)).toFixed(2),
    pw ? ((pw.p2b.cpu - pw.p2a.cpu) / ((pw.p2b.at - pw.p2a.at) / 1000)).toFixed(2) : na));
  out.push(row('client CPU s over the phase', (hw.p2b.cpu - hw.p2a.cpu).toFixed(2), pw ? (pw.p2b.cpu - pw.p2a.cpu).toFixed(2) : na));
  out.push(row('  (peer\'s Xvfb CPU s)', '', pw ? (pw.p2b.xvfbCpu - pw.p2a.xvfbCpu).toFixed(2) : na));
  out.push(row('bytes to the browser', fmtBytes(hw.p2b.bytes - hw.p2a.bytes), '—'));
  out.push(row('RDP bytes from xrdp', fmtBytes(hw.p2b.rdpBytes - hw.p2a.rdpBytes), pw ? fmtBytes(pw.p2b.rdpBytes - pw.p2a.rdpBytes) : na));
  out.push(row('phase seconds (loop start to idle)', ((hw.p2b.at - hw.p2a.at) / 1000).toFixed(1), pw ? ((pw.p2b.at - pw.p2a.at) / 1000).toFixed(1) : na));
  out.push(`  Issue 4's target: ≥ 30 fps on ≤ 1 core.`);
  out.push('');
  out.push('Phase 2, where the time goes — during the loop only (its start to its end), unless said otherwise:');
  out.push(...head);
  out.push(row('gateway | xfreerdp CPU, cores', cores(hw.p2a, hw.pLoop, hw.pLoop.cpu - hw.p2a.cpu), pw ? cores(pw.p2a, pw.pLoop, pw.pLoop.cpu - pw.p2a.cpu) : na));
  out.push(row('  busiest gateway thread, cores', cores(hw.p2a, hw.pLoop, busiestThread(hw.p2a, hw.pLoop)), '—'));
  out.push(row('  (peer\'s Xvfb, cores)', '', pw ? cores(pw.p2a, pw.pLoop, pw.pLoop.xvfbCpu - pw.p2a.xvfbCpu) : na));
  out.push(row('xrdp CPU, cores (all xrdp processes of the fixture)', cores(hw.p2a, hw.pLoop, prog(hw.p2a, hw.pLoop, XRDP)), pw ? cores(pw.p2a, pw.pLoop, prog(pw.p2a, pw.pLoop, XRDP)) : na));
  out.push(row('session Xorg CPU, cores', cores(hw.p2a, hw.pLoop, prog(hw.p2a, hw.pLoop, XORG)), pw ? cores(pw.p2a, pw.pLoop, prog(pw.p2a, pw.pLoop, XORG)) : na));
  out.push(row('Chromium CPU, cores (all its processes)', cores(hw.p2a, hw.pLoop, prog(hw.p2a, hw.pLoop, CHROMIUM)), '—'));
  out.push(row('xrdp update bursts per second (relay timeline)', (bursts(hw, hw.loopStart, hw.loopEnd) / loopS(hw)).toFixed(1), pw ? (bursts(pw, pw.loopStart, pw.loopEnd) / loopS(pw)).toFixed(1) : na));
  out.push(row('RDP bytes from xrdp per second', fmtBytes(bytesIn(hw, hw.loopStart, hw.loopEnd) / loopS(hw)), pw ? fmtBytes(bytesIn(pw, pw.loopStart, pw.loopEnd) / loopS(pw)) : na));
  out.push(row('frames received by the page per second (sync)', (loopFrames.length / loopS(hw)).toFixed(1), '—'));
  out.push(row('sync replies sent by the page per second', (loopReplies.length / loopS(hw)).toFixed(1), '—'));
  out.push(row('median ms, frame arrival → the page\'s sync reply', hPacing.draw, '—'));
  out.push(row('median ms, sync reply → the next frame arrives', hPacing.turn, '—'));
  out.push(row('after the loop: RDP bytes xrdp still sent', fmtBytes(bytesIn(hw, hw.loopEnd + 1, hw.p2b.at)), pw ? fmtBytes(bytesIn(pw, pw.loopEnd + 1, pw.p2b.at)) : na));
  out.push(row('after the loop: xrdp\'s last bytes, s after its end', lastSent(hw).toFixed(1), pw ? lastSent(pw).toFixed(1) : na));
  out.push(row('after the loop: last frame with images, s after', lastDrawn.toFixed(1), '—'));
  out.push(row('whole phase: xrdp | session Xorg CPU s', `${prog(hw.p2a, hw.p2b, XRDP).toFixed(2)} | ${prog(hw.p2a, hw.p2b, XORG).toFixed(2)}`,
    pw ? `${prog(pw.p2a, pw.p2b, XRDP).toFixed(2)} | ${prog(pw.p2a, pw.p2b, XORG).toFixed(2)}` : na));
  out.push('');
  out.push('What the numbers mean:');
  out.push('- bytes to the browser: the session\'s bytes_to_browser (GET /api/v1/sessions), Guacamole text before TLS.');
  out.push('- RDP bytes: what xrdp sent, counted by a TCP relay in this script between the client and xrdp (TLS');
  out.push('  records); the same server and settings for both clients, so it shows what each client negotiated.');
  out.push('- client CPU: utime+stime from /proc/<pid>/stat of the hoshu process (RDP decoding, PNG/JPEG encoding,');
  out.push('  recording, TLS) and of xfreerdp (RDP decoding, drawing through X11 into its Xvfb; the Xvfb shown apart).');
  out.push('  Cores = CPU seconds over the phase\'s wall seconds (loop plus catching up until idle).');
  out.push('- frames drawn: the page\'s sync replies to frames that carried images (guacamole-common-js replies once a');
  out.push('  frame is on the canvas); visible changes: animation frames in which five points (corners, centre) all');
  out.push('  changed colour. xfreerdp draws straight into X and has no such count: its frame rate is not measured.');
  out.push('- where the time goes: CPU of this script\'s process tree by command name (xrdp, Xorg, chromium/chrome:');
  out.push('  every process of that name; the xsetroot loop\'s short-lived processes are not counted); busiest thread:');
  out.push('  the hoshu thread with the most CPU during the loop (the session\'s loop is one task). Bursts: chunks xrdp');
  out.push('  sent less than 5 ms apart count as one screen update. Frames received: `sync` instructions the page got;');
  out.push('  replies: its `sync` answers (the gateway sends at most two frames ahead of them, coalescing the rest).');
  out.push('- the two clients run one after the other (xrdp lets one client at a time into a session); one run on a');
  out.push('  shared 2-core machine.');
  out.push(`  (gateway RSS at the end: ${(h.rss / 1024).toFixed(1)} MiB)`);
  console.log(out.join('\n'));
}

runBench(main);
