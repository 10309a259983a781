// Real VNC servers through the gateway, in a real browser (issue 3, "Tests"): a TigerVNC Xvnc
// with a solid root, twm and an xterm; typing into the xterm, moving it by its title bar, the
// three clipboard policies in both directions, VncAuth with right and wrong passwords, a target
// that is down and one that dies mid-session.
//
// Clipboard facts checked with TigerVNC 1.12: Xvnc sends ServerCutText when the X CLIPBOARD or
// PRIMARY selection changes (SendPrimary is on by default), and text the gateway sends with
// ClientCutText becomes both selections (SetPrimary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitUntil, remotePixels, pixelAt, near, hex,
  differingShare, waitForSessionState, screenPoint, randomWord, DEMO_VENDOR, SESSION_VIEWPORT,
} from './gateway.mjs';
import { startXvnc, freePort, windowGeometry, setSelection, getSelection, xtermOutput } from './xvnc.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

const ROOT = [0x33, 0x66, 0xcc];
const AUTH_ROOT = [0xcc, 0x66, 0x33];
const WHITE = [0xff, 0xff, 0xff]; // xterm's background
/** A point of the root window that the xterm covers neither before nor after it is moved. */
const ROOT_POINT = [700, 80];
/** Clipboard instructions from the gateway (notes/guacamole-protocol.md wire format). */
const CLIPBOARD_INSTRUCTION = /(^|;)9\.clipboard,/;

let gateway;
let browser;
let x; // Xvnc with twm and an xterm, security None
const secrets = mkdtempSync(join(tmpdir(), 'hoshu-secrets-'));

before(async () => {
  [gateway, x] = await Promise.all([startDemo(), startXvnc({ wm: true, xterm: true })]);
  for (const policy of ['off', 'paste-in', 'both']) {
    gateway.admin('target', 'add', '--demo', '--name', `xvnc-${policy}`, '--protocol', 'vnc', '--host', '127.0.0.1',
      '--port', String(x.port), '--clipboard', policy);
  }
  browser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
  const page = await browser.context.newPage();
  await logInAs(page, gateway.url, DEMO_VENDOR); // the context keeps the login for every page
  await page.close();
});
after(async () => {
  await browser?.close();
  await x?.stop();
  await gateway?.stop();
  rmSync(secrets, { recursive: true, force: true });
});

/**
 * Opens `target` in a new page; `frames` collects the text the gateway sends over the tunnel.
 * With `captureSocket`, the page's WebSocket is kept as `window.__tunnel` for raw sends.
 */
async function open(target, { captureSocket = false } = {}) {
  const page = await browser.context.newPage();
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  if (captureSocket) {
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.__tunnel = this;
        }
      };
    });
  }
  await page.goto(gateway.url);
  const id = await openTarget(page, gateway.url, target);
  return { page, id, frames };
}

async function colourAt(page, px, py) {
  return pixelAt(await remotePixels(page, { x: px, y: py, width: 1, height: 1 }), px, py);
}

async function waitForColour(page, [px, py], colour, what) {
  await waitUntil(`${what} at (${px}, ${py}) to be ${hex(colour)}`, async () => near(await colourAt(page, px, py), colour, 8));
}

async function waitForEnd(page, reasonPattern) {
  await page.waitForSelector('#ended', { state: 'visible', timeout: 30_000 });
  await waitForSessionState(page, 'ended');
  const reason = (await page.textContent('#end-reason')).trim();
  assert.match(reason, reasonPattern);
  return reason;
}

async function paste(page, text) {
  if (!(await page.$eval('#clipboard-panel', (d) => d.open))) await page.click('#clipboard-panel summary');
  await page.fill('#paste-text', text);
  await page.click('#paste-send');
}

/** Sets an X selection and proves, through a `both` page, that Xvnc sent it to the gateway. */
async function copyFromTarget(control, selection, text) {
  setSelection(x, selection, text);
  await waitUntil(`"${text}" (X ${selection}) in the control page's #clipboard-out`, async () =>
    (await control.page.textContent('#clipboard-out')) === text);
}

test('xvnc: root colour, typing into an xterm, moving it by its title bar, copy-out and paste-in (clipboard both)', async () => {
  const { page } = await open('xvnc-both');
  await waitForSessionState(page, 'connected');
  await waitForColour(page, ROOT_POINT, ROOT, 'the root window');
  const size = await page.$eval('#display canvas', (c) => [c.width, c.height]);
  assert.ok(size[0] >= 800 && size[1] >= 600, `the default layer is ${size} (800×600 screen)`);
  assert.ok(near(await colourAt(page, 790, 590), ROOT, 8), 'the bottom-right corner is root colour');

  // The xterm, drawn where X says it is.
  const xterm = windowGeometry(x, 'hoshu-xterm');
  const area = { x: xterm.x, y: xterm.y, width: xterm.width, height: 60 };
  await waitForColour(page, [xterm.x + 300, xterm.y + 200], WHITE, 'the xterm');
  const before = await remotePixels(page, area);

  // Type a command (twm: focus follows the pointer, so click into the xterm first).
  const word = `hoshu-${randomWord(6)}`;
  const inside = await screenPoint(page, xterm.x + 200, xterm.y + 150);
  await page.mouse.click(inside.x, inside.y);
  await page.keyboard.type(`echo ${word}`, { delay: 15 });
  await page.keyboard.press('Enter');
  await waitUntil(`the shell to print ${word}`, () => new RegExp(`^${word}\\r?$`, 'm').test(xtermOutput(x)));
  await waitUntil('the xterm\'s first lines to change on the canvas', async () =>
    differingShare(before, await remotePixels(page, area)) > 0.005);
  const typed = await remotePixels(page, area);
  await page.screenshot({ path: join(shots, 'session-xvnc-typed.png') });

  // Copy-out: the X CLIPBOARD, then PRIMARY, appear in #clipboard-out.
  for (const selection of ['clipboard', 'primary']) {
    const text = `from-x-${selection}-${randomWord(5)}`;
    setSelection(x, selection, text);
    await waitUntil(`"${text}" in #clipboard-out`, async () => (await page.textContent('#clipboard-out')) === text);
  }

  // Paste-in: the text becomes the X clipboard.
  const pasted = `paste-both-${randomWord(5)}`;
  await paste(page, pasted);
  await waitUntil(`"${pasted}" on the X clipboard`, () => getSelection(x, 'clipboard') === pasted);

  // Move the xterm by dragging twm's title bar (just above the xterm).
  const dx = 200;
  const dy = 180;
  const grab = await screenPoint(page, xterm.x + 200, xterm.y - 10);
  const drop = await screenPoint(page, xterm.x + 200 + dx, xterm.y - 10 + dy);
  await page.mouse.move(grab.x, grab.y);
  await page.mouse.down();
  await page.mouse.move(drop.x, drop.y, { steps: 20 });
  await page.mouse.up();
  const moved = await waitUntil('X to report the xterm moved', () => {
    const g = windowGeometry(x, 'hoshu-xterm');
    return Math.abs(g.x - (xterm.x + dx)) <= 3 && Math.abs(g.y - (xterm.y + dy)) <= 3 ? g : null;
  });
  // On the canvas: where the xterm was is root colour now, and its new place shows the text.
  await waitForColour(page, [xterm.x + 20, xterm.y + 40], ROOT, 'the xterm\'s old place');
  await waitForColour(page, [moved.x + 300, moved.y + 200], WHITE, 'the xterm\'s new place');
  const movedArea = { ...area, x: moved.x, y: moved.y };
  await waitUntil('the typed lines at the xterm\'s new place', async () =>
    differingShare(typed, await remotePixels(page, movedArea)) < 0.02);
  await page.screenshot({ path: join(shots, 'session-xvnc-moved.png') });
  const sessionId = new URL(page.url()).pathname.split('/')[2];
  await page.click('#disconnect');
  await waitForEnd(page, /.+/);

  // The recording replays the same picture: the root colour where the xterm was, and the
  // xterm with the typed lines at its new place.
  await page.goto(`${gateway.url}sessions/${sessionId}/play`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached', timeout: 20_000 });
  const duration = await page.$eval('#seek', (s) => Number(s.max));
  await page.waitForFunction(() => {
    const button = document.getElementById('play-pause');
    const [pos, total] = document.getElementById('position').textContent.split(' / ');
    return button.textContent === button.dataset.play && pos === total;
  }, null, { timeout: duration + 30_000, polling: 200 });
  await waitForColour(page, ROOT_POINT, ROOT, 'the replayed root');
  await waitForColour(page, [xterm.x + 20, xterm.y + 40], ROOT, 'the xterm\'s old place, replayed');
  await waitForColour(page, [moved.x + 300, moved.y + 200], WHITE, 'the xterm\'s new place, replayed');
  await waitUntil('the typed lines in the replay', async () =>
    differingShare(typed, await remotePixels(page, movedArea)) < 0.02);
  await page.screenshot({ path: join(shots, 'session-xvnc-replayed.png') });
  await page.close();
});

test('clipboard paste-in: paste reaches X, the target\'s clipboard never reaches the browser', async () => {
  const control = await open('xvnc-both');
  const { page, frames } = await open('xvnc-paste-in');
  await Promise.all([waitForSessionState(control.page, 'connected'), waitForSessionState(page, 'connected')]);
  assert.ok(await page.$('#clipboard-panel'), 'paste-in shows the clipboard panel');
  assert.equal(await page.$('#clipboard-out'), null, 'paste-in has no #clipboard-out');

  const pasted = `paste-in-${randomWord(5)}`;
  await paste(page, pasted);
  await waitUntil(`"${pasted}" on the X clipboard`, () => getSelection(x, 'clipboard') === pasted);

  await copyFromTarget(control, 'clipboard', `not-for-paste-in-${randomWord(5)}`);
  // The control page has it, so the gateway had it for this session too; give it a moment more.
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!frames.some((f) => CLIPBOARD_INSTRUCTION.test(f)), 'no clipboard instruction was sent to the paste-in page');
  await control.page.close();
  await page.close();
});

test('clipboard off: no panel, nothing in either direction, even when the browser forces a paste', async () => {
  const control = await open('xvnc-both');
  const { page, frames } = await open('xvnc-off', { captureSocket: true });
  await Promise.all([waitForSessionState(control.page, 'connected'), waitForSessionState(page, 'connected')]);
  assert.equal(await page.$('#clipboard-panel'), null, 'off has no clipboard panel');
  assert.equal(await page.$('#paste-send'), null);
  assert.equal(await page.$('#clipboard-out'), null);

  await copyFromTarget(control, 'clipboard', `not-for-off-${randomWord(5)}`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!frames.some((f) => CLIPBOARD_INSTRUCTION.test(f)), 'no clipboard instruction was sent to the off page');

  // A modified browser sends a clipboard stream anyway: the gateway refuses it (ack 0x0303).
  const forced = `forced-${randomWord(6)}`;
  const seen = new Set();
  await page.evaluate((text) => {
    const b64 = btoa(text);
    window.__tunnel.send(`9.clipboard,3.900,10.text/plain;4.blob,3.900,${b64.length}.${b64};3.end,3.900;`);
  }, forced);
  await waitUntil('the gateway to refuse the clipboard stream', () =>
    frames.some((f) => /(^|;)3\.ack,3\.900,\d+\.[^,;]*,3\.771;/.test(f)));
  // Then a paste through the control session: once it is on the X clipboard, the forced text
  // (sent earlier on its own connection) would have been too.
  const controlText = `control-${randomWord(5)}`;
  await paste(control.page, controlText);
  await waitUntil(`"${controlText}" on the X clipboard`, () => {
    const now = getSelection(x, 'clipboard');
    seen.add(now);
    return now === controlText;
  });
  assert.ok(!seen.has(forced), 'the forced paste never reached the X clipboard');
  assert.notEqual(getSelection(x, 'primary'), forced);
  await control.page.close();
  await page.close();
});

test('VncAuth: the right password connects, a wrong one ends with an authentication error', async () => {
  const xa = await startXvnc({ password: 'hoshu-pw', root: hex(AUTH_ROOT) });
  try {
    writeFileSync(join(secrets, 'right'), 'hoshu-pw\n');
    writeFileSync(join(secrets, 'wrong'), 'wrong-pw\n');
    for (const name of ['right', 'wrong']) {
      gateway.admin('target', 'add', '--demo', '--name', `xvnc-auth-${name}`, '--protocol', 'vnc', '--host', '127.0.0.1',
        '--port', String(xa.port), '--password-file', join(secrets, name));
    }
    const right = await open('xvnc-auth-right');
    await waitForSessionState(right.page, 'connected');
    await waitForColour(right.page, [400, 300], AUTH_ROOT, 'the VncAuth root window');
    await right.page.click('#disconnect');
    await waitForEnd(right.page, /.+/);
    await right.page.close();

    const wrong = await open('xvnc-auth-wrong');
    const reason = await waitForEnd(wrong.page, /authenticat/i);
    assert.ok(!reason.includes('wrong-pw'), 'the reason does not show the password');
    await wrong.page.screenshot({ path: join(shots, 'session-xvnc-auth-failed.png') });
    await wrong.page.close();

  } finally {
    await xa.stop();
  }
});

test('Xvnc killed mid-session: the page shows the end and why', async () => {
  const xk = await startXvnc({ root: hex(AUTH_ROOT) });
  try {
    gateway.admin('target', 'add', '--demo', '--name', 'xvnc-doomed', '--protocol', 'vnc', '--host', '127.0.0.1',
      '--port', String(xk.port));
    const { page } = await open('xvnc-doomed');
    await waitForSessionState(page, 'connected');
    await waitForColour(page, [400, 300], AUTH_ROOT, 'the root window');
    await xk.stop('SIGTERM');
    await waitForEnd(page, /closed the connection|connection to .* failed/i);
    await page.screenshot({ path: join(shots, 'session-xvnc-target-gone.png') });
    await page.close();
  } finally {
    await xk.stop();
  }
});

test('a target with nothing listening ends with a reason saying it cannot be reached', async () => {
  const port = await freePort();
  gateway.admin('target', 'add', '--demo', '--name', 'xvnc-down', '--protocol', 'vnc', '--host', '127.0.0.1', '--port', String(port));
  const { page } = await open('xvnc-down');
  await waitForEnd(page, /cannot reach|cannot be reached|unreachable/i);
  await page.close();
});
