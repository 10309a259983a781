// What the benchmarks share (vnc-compare.mjs, rdp-figures.mjs): the processes they start and stop,
// CPU figures from /proc, the byte-counting TCP relay in front of a server, `hoshu demo` with a
// release binary, the page's WebSocket tap, and the xterm workload both run on an X display.
// Log lines carry the script's name: `[vnc-compare] …`.
import { spawn, execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil, hoshuBinary } from '../tests/gateway.mjs';

export const run = promisify(execFile);
const NAME = basename(process.argv[1] ?? 'bench', '.mjs');
const CLK_TCK = Number(safeExec('getconf', ['CLK_TCK']) || 100);
/** Nothing drawn or sent this long: the screen is idle. */
export const QUIET_MS = 2500;

export function log(...a) { console.error(`[${NAME}]`, ...a); }

/** Output of a command, or what it printed when it failed; never throws. */
export function safeExec(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
  } catch (e) {
    return ((e.stdout || '') + (e.stderr || '')).trim();
  }
}

/** The tests' poller, with the benchmarks' longer default wait. */
export function waitFor(what, probe, { timeout = 30_000, interval = 100 } = {}) {
  return waitUntil(what, probe, { timeout, interval });
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

export function portOpen(port) {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
  });
}

export const fmtBytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
export const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Debian packages whose tools (`{tool: package}`) are not on PATH, and chromium if absent. */
export function missingPackages(need) {
  const missing = Object.entries(need).filter(([tool]) => !safeExec('sh', ['-c', `command -v ${tool}`])).map(([, pkg]) => pkg);
  if (!existsSync(process.env.CHROMIUM || '/usr/bin/chromium')) missing.push('chromium');
  return missing;
}

// ---------------------------------------------------------------------------------------------
// CPU and memory of processes, from /proc

/** Fields after the command name in /proc/<pid>/stat (index 0 is the state). */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime (seconds) of one process, all its threads. */
export function cpuOf(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch { return 0; }
}

/** pid → {ppid, cpu seconds, command name} for every process. */
export function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = statFields(name);
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      table.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, comm });
    } catch { /* gone */ }
  }
  return table;
}

/** `pid` and every live descendant: pid → {cpu seconds, command name}. */
export function processTree(pid) {
  const table = processTable();
  const out = new Map();
  const walk = (p) => {
    if (!table.has(p)) return;
    out.set(p, table.get(p));
    for (const [child, { ppid }] of table) if (ppid === p) walk(child);
  };
  walk(pid);
  return out;
}

/** CPU seconds of `pid` and every live descendant, by pid (websockify forks per connection). */
export function treeCpu(pid) {
  return new Map([...processTree(pid)].map(([p, { cpu }]) => [p, cpu]));
}

/**
 * CPU seconds spent between two `processTree`s by the processes whose command name `match`es;
 * processes that started meanwhile count from 0, those that ended are missing.
 */
export function programCpuDelta(before, after, match) {
  let sum = 0;
  for (const [pid, { cpu, comm }] of after) if (match.test(comm)) sum += cpu - (before.get(pid)?.cpu ?? 0);
  return sum;
}

/** CPU seconds of each thread of `pid`: tid → seconds. */
export function threadCpu(pid) {
  const out = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { out.set(tid, cpuOf(`${pid}/task/${tid}`)); } catch { /* gone */ }
    }
  } catch { /* gone */ }
  return out;
}

/** CPU seconds spent between two `treeCpu` (or pid → cpu) maps; new processes count from 0. */
export function treeCpuDelta(before, after) {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

export function rssKb(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  } catch { return 0; }
}

// ---------------------------------------------------------------------------------------------
// Processes and directories a benchmark makes (each process stopped by its own id at the end)

const started = [];
const tempDirs = [];

/** Spawns `cmd` as the leader of its own process group, keeping its output. */
export function start(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let output = '';
  const keep = (chunk) => { if (output.length < 200_000) output += chunk; };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (e) => { output += `\n(spawn error: ${e.message})`; });
  const entry = { name, child, output: () => output };
  started.push(entry);
  return entry;
}

/** Ends the process group `start` made (SIGTERM, SIGKILL after 5 s). */
export async function stopOne({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Each child leads its own process group (detached): that group is this script's doing,
  // and it holds websockify's per-connection forks too.
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  const exited = await Promise.race([
    new Promise((r) => child.once('exit', () => r(true))),
    sleep(5000).then(() => false),
  ]);
  if (!exited) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** Processes started under `name` so far. */
export const startedAs = (name) => started.filter((e) => e.name === name);

/** A new directory under /tmp, removed at the end. */
export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Runs `main` with a 15-minute limit; on failure logs the error and what the started processes
 * printed; then stops them all, removes the directories and exits.
 */
export function runBench(main) {
  let exitCode = 0;
  let finishing = false;
  const finish = async () => {
    if (finishing) return;
    finishing = true;
    clearTimeout(timer);
    for (const s of started.reverse()) await stopOne(s);
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    process.exit(exitCode);
  };
  const timer = setTimeout(() => { log('did not finish within 15 minutes'); exitCode = 1; finish(); }, 15 * 60_000);
  process.on('SIGINT', () => { exitCode = 130; finish(); });
  process.on('SIGTERM', () => { exitCode = 143; finish(); });
  main().catch((e) => {
    exitCode = 1;
    log(e.stack || e.message);
    for (const s of started) {
      const o = s.output();
      if (o) log(`--- ${s.name} output (last 2000 chars)\n${o.slice(-2000)}`);
    }
  }).finally(finish);
}

// ---------------------------------------------------------------------------------------------
// The relay and the gateway

/**
 * Clients → this relay → the server at `port`; counts the bytes each way. Between `record(true)`
 * and `record(false)` it also keeps `[time, bytes]` of each chunk the server sent, in `timeline`.
 */
export async function startRelay(port) {
  const counts = { toClient: 0, toServer: 0, connections: 0 };
  const timeline = [];
  let recording = false;
  const server = createServer((client) => {
    counts.connections += 1;
    const upstream = connect(port, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.on('data', (b) => {
      counts.toClient += b.length;
      if (recording) timeline.push([Date.now(), b.length]);
    });
    client.on('data', (b) => { counts.toServer += b.length; });
    upstream.pipe(client);
    client.pipe(upstream);
    const end = () => { client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) { s.on('error', end); s.on('close', end); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port, counts, timeline, record: (on) => { recording = on; }, close: () => server.close(),
  };
}

/** The release binary: HOSHU_BIN, else $CARGO_TARGET_DIR/release/hoshu, else target/release/hoshu. */
export const releaseBinary = () => hoshuBinary({ profile: 'release' });

/** `hoshu demo` on a free port with a new data directory: `{url, data, pid, process, version}`. */
export async function startHoshuDemo(bin) {
  const data = tempDir('hoshu-bench-');
  const demo = start('hoshu', bin, ['demo', '--data', data, '--listen', '127.0.0.1:0'],
    { env: { ...process.env, RUST_LOG: 'warn' } });
  const url = await waitFor('hoshu demo to print its URL', () =>
    demo.output().split('\n').find((l) => l.startsWith('https://'))?.trim(), { timeout: 60_000 })
    .catch((e) => { throw new Error(`${e.message}\n${demo.output()}`); });
  return { url, data, pid: demo.child.pid, process: demo, version: safeExec(bin, ['--version']) };
}

/** The session's bytes_to_browser (Guacamole text before TLS) from GET /api/v1/sessions. */
export async function bytesToBrowser(page, baseUrl, id) {
  const res = await page.request.get(`${baseUrl}api/v1/sessions?state=live`);
  if (!res.ok()) throw new Error(`GET /api/v1/sessions: ${res.status()}`);
  const s = (await res.json()).find((x) => x.id === id);
  if (!s) throw new Error(`session ${id} is not live any more`);
  return s.bytes_to_browser;
}

// ---------------------------------------------------------------------------------------------
// In the page (init scripts, before any page script runs)

/** An init script that declares `helpers` (functions) and calls `main`, which may use them. */
export function pageScript(main, ...helpers) {
  return { content: `${helpers.map(String).join('\n')}\n(${main})();` };
}

/**
 * Runs in the page: replaces window.WebSocket so that every message a socket receives also goes
 * to `onMessage(event)`, and the time of every `sync` the page sends is pushed to `replies`
 * (Guacamole answers each frame with `sync` once it has drawn it).
 */
export function tapWebSockets(onMessage, replies) {
  const Native = window.WebSocket;
  // A plain function that returns the native socket (noVNC checks the socket's own prototype,
  // so a subclass would not do), listening to every message as the page does.
  function CountingWebSocket(...args) {
    const ws = new Native(...args);
    const send = ws.send;
    ws.send = function (data) {
      if (typeof data === 'string' && data.includes('4.sync,')) replies.push(Date.now());
      return send.call(this, data);
    };
    ws.addEventListener('message', onMessage);
    return ws;
  }
  CountingWebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) CountingWebSocket[k] = Native[k];
  window.WebSocket = CountingWebSocket;
}

/**
 * Median ms from a frame's arrival (times the page stamped) to the page's `sync` reply to it, and
 * from a reply to the next frame (NaN where there is none).
 */
export function pacing(arrivals, replies) {
  const draw = [];
  const turn = [];
  for (const t of arrivals) {
    const reply = replies.find((r) => r >= t);
    if (reply !== undefined) draw.push(reply - t);
    const before = replies.filter((r) => r < t).at(-1);
    if (before !== undefined) turn.push(t - before);
  }
  return { draw: draw.length ? median(draw) : NaN, turn: turn.length ? median(turn) : NaN };
}

// ---------------------------------------------------------------------------------------------
// The xterm workload (issue 3's, run again on RDP for issue 4)

export const LS_LINES = Number(process.env.BENCH_LS_LINES || 20000);
export const FPS_SECONDS = Number(process.env.BENCH_FPS_SECONDS || 10);
export const LINES = [
  'echo "Hoshu benchmark: typing into an xterm"',
  'cd /usr/share && pwd',
  'printf "%s\\n" alpha beta gamma delta',
  'uname -sr; date -u +%Y-%m-%d',
  'echo done typing',
];

/** A 160×56 xterm titled bench-xterm at +0+0 on display `env`, running a plain shell in `home`. */
export async function startXterm(env, home) {
  writeFileSync(join(home, '.bashrc'), 'PS1="bench$ "\n');
  start('bench xterm', 'xterm', ['-title', 'bench-xterm', '-geometry', '160x56+0+0', '-bg', 'white', '-fg', 'black',
    '-e', 'bash', '--noprofile', '--rcfile', join(home, '.bashrc'), '-i'],
  { env: { ...env, HOME: home, LANG: 'C', LC_ALL: 'C' }, cwd: home });
  await waitFor('the bench xterm', () => /IsViewable/.test(safeExec('xwininfo', ['-name', 'bench-xterm'], { env })),
    { timeout: 20_000, interval: 200 });
}

/**
 * The two phases on display `x` (with the bench xterm on it). `snapshot()` returns the figures
 * at one instant; `waitIdle(what, timeout)` returns once the client's screen was quiet for
 * QUIET_MS; `afterPhase1()` runs while the xterm's final picture is still on screen; with
 * `snapshotAtLoopEnd`, `pLoop` is a snapshot taken as the colour loop ends.
 *   Phase 1: five command lines typed with xdotool (40 ms per key), then `ls -lR /usr`.
 *   Phase 2: every xterm unmapped, `xsetroot -solid` alternating two colours for FPS_SECONDS.
 */
export async function xtermWorkload(x, { snapshot, waitIdle, afterPhase1 = async () => {}, snapshotAtLoopEnd = false, width, height }) {
  // Never block the event loop while the screens update: the relay runs in this process.
  const xdo = (...args) => run('xdotool', args, { env: x.env });
  // No window manager on the display: the keyboard follows the pointer.
  await xdo('mousemove', '400', '300');
  await waitIdle('the screen to be idle with the bench xterm', 60_000);

  log('phase 1: typing, then ls -lR …');
  const p1a = await snapshot();
  const typeStarted = Date.now();
  for (const line of LINES) {
    await xdo('type', '--delay', '40', line);
    await xdo('key', 'Return');
    await sleep(300);
  }
  const typeEnded = Date.now();
  await xdo('type', '--delay', '40', `ls -lR /usr | head -n ${LS_LINES}`);
  await xdo('key', 'Return');
  await waitIdle('the screen to be idle after ls -lR', 300_000);
  const p1b = await snapshot();
  await afterPhase1();

  log(`phase 2: xsetroot alternation for ${FPS_SECONDS} s …`);
  // Full-screen updates: nothing but the root window on the screen, its colour alternating.
  const windows = safeExec('xdotool', ['search', '--onlyvisible', '--class', 'xterm'], { env: x.env }).split('\n').filter(Boolean);
  for (const w of windows) await xdo('windowunmap', '--sync', w);
  await xdo('mousemove', String(width - 1), String(height - 1));
  await waitIdle('the screen to be idle after unmapping the xterms', 60_000);
  const p2a = await snapshot();
  const loopStart = Date.now();
  const { stdout } = await run('bash', ['-c',
    `end=$((SECONDS+${FPS_SECONDS})); n=0; while [ $SECONDS -lt $end ]; do ` +
    'xsetroot -solid "#d93b3b"; xsetroot -solid "#3b6ed9"; n=$((n+2)); done; echo $n'], { env: x.env });
  const loopEnd = Date.now();
  const pLoop = snapshotAtLoopEnd ? await snapshot() : null;
  await waitIdle('the screen to be idle after the colour loop', 120_000);
  const p2b = await snapshot();
  return { p1a, p1b, p2a, pLoop, p2b, typeStarted, typeEnded, loopStart, loopEnd, changes: Number(stdout.trim()) };
}
