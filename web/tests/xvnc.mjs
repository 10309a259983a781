// Test support: a real TigerVNC Xvnc (DESIGN §9) on a free display and port, painted with
// xsetroot, optionally with twm and an xterm, and the X clipboard through xclip.
// Debian packages: tigervnc-standalone-server, tigervnc-tools (vncpasswd), x11-xserver-utils
// (xsetroot), x11-utils (xwininfo), xterm, twm, xclip.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it when this returns). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const taken = new Set();

/** An X display number ≥ `from` with neither a socket nor a lock file. */
export function freeDisplay(from = 50) {
  for (let n = from; n < from + 200; n += 1) {
    if (taken.has(n) || existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    taken.add(n);
    return n;
  }
  throw new Error(`no free X display from :${from}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

async function poll(what, probe, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts Xvnc (800×600, depth 24, loopback only). Options:
 * `password` (VncAuth with this password; None otherwise), `root` (xsetroot colour),
 * `wm` (start twm), `xterm` (start an xterm at +0+0 titled `hoshu-xterm`, logging to a file).
 */
export async function startXvnc({ password, root = '#3366cc', wm = false, xterm = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hoshu-xvnc-'));
  const display = freeDisplay();
  const port = await freePort();
  const args = [`:${display}`, '-rfbport', String(port), '-localhost', '-nolisten', 'tcp',
    '-geometry', '800x600', '-depth', '24', '-desktop', `hoshu-test-${display}`];
  if (password) {
    const obfuscated = execFileSync('vncpasswd', ['-f'], { input: `${password}\n` });
    writeFileSync(join(dir, 'passwd'), obfuscated, { mode: 0o600 });
    args.push('-SecurityTypes', 'VncAuth', '-PasswordFile', join(dir, 'passwd'));
  } else {
    args.push('-SecurityTypes', 'None');
  }
  const server = spawn('Xvnc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (chunk) => { log += chunk; });
  const exited = new Promise((r) => server.on('exit', r));
  const env = { ...process.env, DISPLAY: `:${display}`, LC_ALL: 'C' };
  const x = {
    display,
    port,
    dir,
    env,
    pid: server.pid,
    get log() { return log; },
    /** Runs an X client to completion; returns its stdout. */
    run(cmd, cmdArgs, options = {}) {
      return execFileSync(cmd, cmdArgs, { env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options });
    },
    /** Sends `signal` to Xvnc and waits for it to exit (its X clients exit with it). */
    async stop(signal = 'SIGTERM') {
      if (server.exitCode === null && server.signalCode === null) server.kill(signal);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await poll(`Xvnc :${display} (log: ${log})`, async () =>
      existsSync(`/tmp/.X11-unix/X${display}`) && canConnect(port));
    x.run('xsetroot', ['-solid', root]);
    if (wm) {
      writeFileSync(join(dir, 'twmrc'), [
        'TitleFont "fixed"', 'ResizeFont "fixed"', 'MenuFont "fixed"', 'IconFont "fixed"',
        'IconManagerFont "fixed"', 'RandomPlacement', 'NoGrabServer', 'Button1 = : title : f.move', '',
      ].join('\n'));
      spawn('twm', ['-f', join(dir, 'twmrc')], { env, stdio: 'ignore' });
      await poll('twm to manage the screen', () => { try { return twmRunning(x); } catch { return false; } });
    }
    if (xterm) {
      x.xtermLog = join(dir, 'xterm.log');
      spawn('xterm', ['-title', 'hoshu-xterm', '-geometry', '80x24+0+0', '-l', '-lf', x.xtermLog,
        '-e', '/bin/sh'], { env: { ...env, PS1: '$ ' }, stdio: 'ignore' });
      await poll('the xterm window', () => { try { return windowGeometry(x, 'hoshu-xterm'); } catch { return null; } });
    }
  } catch (e) {
    await x.stop();
    throw e;
  }
  return x;
}

function twmRunning(x) {
  // twm creates its icon manager window once it manages the screen.
  return /TWM Icon Manager/.test(x.run('xwininfo', ['-root', '-tree']));
}

/** Absolute geometry of the window named `name` ({x, y, width, height}), or throws. */
export function windowGeometry(x, name) {
  const out = x.run('xwininfo', ['-name', name]);
  const num = (label) => Number(out.match(new RegExp(`${label}:\\s+(-?\\d+)`))[1]);
  return { x: num('Absolute upper-left X'), y: num('Absolute upper-left Y'), width: num('Width'), height: num('Height') };
}

/** Puts `text` on the X selection (`clipboard` or `primary`); xclip keeps serving it in the background. */
export function setSelection(x, selection, text) {
  execFileSync('xclip', ['-selection', selection, '-i'], { env: x.env, input: text, stdio: ['pipe', 'ignore', 'ignore'] });
}

/** The X selection's text, or null when nobody owns it. */
export function getSelection(x, selection) {
  try {
    return execFileSync('xclip', ['-selection', selection, '-o'], { env: x.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 });
  } catch {
    return null;
  }
}

/** The xterm's log so far (what the shell echoed and printed). */
export function xtermOutput(x) {
  try { return readFileSync(x.xtermLog, 'utf8'); } catch { return ''; }
}
