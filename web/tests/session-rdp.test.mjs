// Real RDP servers through the gateway, in a real browser (issue 4, "Tests"): xrdp (TLS) and
// FreeRDP's shadow server (NLA), each a demo target with stored credentials, opened from the
// portal by the demo vendor; the canvas shows the servers' known picture (root #336699, a
// black xterm at +0+0); a command typed with the browser's keyboard runs in the xterm; the
// recording plays the picture back. Then a target without stored credentials asks for them in
// the page (Japanese), and a wrong password over NLA ends with the gateway's sentence.
//
// FreeRDP's shadow server encodes lossily: its #336699 arrives as about #306595, so colours
// are compared with a tolerance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitUntil, remotePixels, pixelAt, near, hex,
  differingShare, waitForSessionState, screenPoint, DEMO_VENDOR,
} from './gateway.mjs';
import { startXrdp, startShadowNla, RDP_ROOT } from './rdp-servers.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

/** Room for the 1280×800 desktop the gateway asks for, under the session bar, at scale 1. */
const VIEWPORT = { width: 1400, height: 1000 };
const BLACK = [0, 0, 0]; // the xterm's background
/** A root-window point right of and below the xterm (80×24 cells of 9×15 ≈ 724×364). */
const ROOT_POINT = [900, 600];
/** Inside the xterm, below its last line of text in these tests. */
const XTERM_POINT = [600, 300];
/** The xterm's first lines, where the prompt, the command and its output appear. */
const XTERM_TOP = { x: 0, y: 0, width: 720, height: 90 };
const TOLERANCE = 12;

let gateway;
let browser;
let xrdp;
let shadow;

before(async () => {
  [gateway, xrdp, shadow] = await Promise.all([startDemo(), startXrdp(), startShadowNla()]);
  const add = (name, server, ...extra) => gateway.admin('target', 'add', '--demo', '--name', name, '--protocol', 'rdp',
    '--host', '127.0.0.1', '--port', String(server.port), '--accept-certificate', server.certSha256, ...extra);
  const withPassword = (name, server, password) => {
    const file = join(gateway.data, `${name}.password`);
    writeFileSync(file, `${password}\n`);
    add(name, server, '--username', server.user, '--password-file', file);
  };
  withPassword('rdp-xrdp', xrdp, xrdp.password);
  withPassword('rdp-shadow', shadow, shadow.password);
  withPassword('rdp-shadow-wrong', shadow, 'not-the-password');
  add('rdp-shadow-ask', shadow);
  browser = await launchBrowser('en-US', { viewport: VIEWPORT });
  const page = await browser.context.newPage();
  await logInAs(page, gateway.url, DEMO_VENDOR); // the context keeps the login for every page
  await page.close();
});
after(async () => {
  await browser?.close();
  await Promise.all([xrdp?.stop(), shadow?.stop()]);
  await gateway?.stop();
});

async function colourAt(page, px, py) {
  return pixelAt(await remotePixels(page, { x: px, y: py, width: 1, height: 1 }), px, py);
}

async function waitForColour(page, [px, py], colour, what, timeout = 20_000) {
  let last = [];
  try {
    await waitUntil(`${what} at (${px}, ${py}) to be ${hex(colour)}`, async () => {
      last = await colourAt(page, px, py);
      return near(last, colour, TOLERANCE);
    }, { timeout });
  } catch (e) {
    throw new Error(`${e.message} (last seen ${last.length ? hex(last) : 'nothing'})`);
  }
}

async function waitForEnd(page, reasonPattern) {
  await page.waitForSelector('#ended', { state: 'visible', timeout: 30_000 });
  await waitForSessionState(page, 'ended');
  const reason = (await page.textContent('#end-reason')).trim();
  assert.match(reason, reasonPattern);
  return reason;
}

/** The desktop shows the servers' picture: root colour outside the xterm, black inside it. */
async function checkPicture(page, what) {
  await waitForColour(page, ROOT_POINT, RDP_ROOT, `${what}: the root window`);
  await waitForColour(page, XTERM_POINT, BLACK, `${what}: the xterm's background`);
}

/** Opens `target` from the portal in a new page of `context`, as a person clicks it. */
async function open(context, target) {
  const page = await context.newPage();
  await page.goto(gateway.url);
  const id = await openTarget(page, gateway.url, target);
  return { page, id };
}

/** US keyboard: the keys typed with Shift held, by the character they type. */
const SHIFTED = Object.fromEntries([...'~!@#$%^&*()_+'].map((c, i) =>
  [c, ['Backquote', 'Digit1', 'Digit2', 'Digit3', 'Digit4', 'Digit5', 'Digit6', 'Digit7', 'Digit8', 'Digit9', 'Digit0', 'Minus', 'Equal'][i]]));

/**
 * Types `text` as a person on a US keyboard does: Shift pressed, the key, Shift released.
 * (page.keyboard.type sends '$' without Shift, which no person's browser does; the gateway then
 * sends it as a Unicode key event, and FreeRDP's shadow server drops those.)
 */
async function typeLikeAPerson(page, text) {
  for (const c of text) {
    if (SHIFTED[c]) {
      await page.keyboard.down('Shift');
      await page.keyboard.press(SHIFTED[c]);
      await page.keyboard.up('Shift');
    } else {
      await page.keyboard.press(c === ' ' ? 'Space' : c);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Clicks into the xterm, types `echo hoshu-$((6*7))` + Enter; waits for the shell's answer. */
async function typeIntoXterm(page, server, name) {
  const before = await remotePixels(page, XTERM_TOP);
  const inside = await screenPoint(page, ...XTERM_POINT);
  await page.mouse.click(inside.x, inside.y);
  await typeLikeAPerson(page, 'echo hoshu-$((6*7))');
  await page.keyboard.press('Enter');
  try {
    await waitUntil(`${name}: the shell to print hoshu-42`, () => /^hoshu-42\r?$/m.test(server.xtermOutput()), { timeout: 20_000 });
  } catch (e) {
    await page.screenshot({ path: join(shots, `session-rdp-${name}-typing-failed.png`) });
    throw new Error(`${e.message}; the xterm showed:\n${server.xtermOutput()}`);
  }
  assert.match(server.xtermOutput(), /echo hoshu-\$\(\(6\*7\)\)/, 'the command arrives as typed (Shift for $, (, ) and *)');
  await waitUntil(`${name}: the xterm's first lines to change on the canvas`, async () =>
    differingShare(before, await remotePixels(page, XTERM_TOP)) > 0.01);
}

/** Plays the recording of session `id` to its end in `page`; checks the picture there. */
async function replay(page, id, name) {
  await page.goto(`${gateway.url}sessions/${id}/play`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached', timeout: 20_000 });
  const duration = await page.$eval('#seek', (s) => Number(s.max));
  await page.waitForFunction(() => {
    const button = document.getElementById('play-pause');
    const [pos, total] = document.getElementById('position').textContent.split(' / ');
    return button.textContent === button.dataset.play && pos === total;
  }, null, { timeout: duration + 30_000, polling: 200 });
  await checkPicture(page, `${name}, replayed`);
  await page.screenshot({ path: join(shots, `session-rdp-${name}-replayed.png`) });
}

for (const [name, server, size] of [
  ['xrdp', () => xrdp, [1280, 800]], // xrdp makes its session the size the client asks for
  ['shadow', () => shadow, [1024, 768]], // the shadow server shows its Xvfb, 1024×768
]) {
  test(`${name}: open from the portal, see the desktop, type into the xterm, replay the recording`, async () => {
    const { page, id } = await open(browser.context, `rdp-${name}`);
    await waitForSessionState(page, 'connected', 30_000);
    await checkPicture(page, name);
    // guacamole-common-js rounds its canvases up to multiples of 64 (1280×800 → 1280×832).
    const canvas = await page.$eval('#display canvas', (c) => [c.width, c.height]);
    assert.ok(canvas[0] >= size[0] && canvas[1] >= size[1], `the default layer (${canvas}) holds the ${size} desktop`);
    const corner = [size[0] - 5, size[1] - 5];
    assert.ok(near(await colourAt(page, ...corner), RDP_ROOT, TOLERANCE), `the bottom-right corner is root colour: ${hex(await colourAt(page, ...corner))}`);
    await page.screenshot({ path: join(shots, `session-rdp-${name}.png`) });

    await typeIntoXterm(page, server(), name);
    await page.screenshot({ path: join(shots, `session-rdp-${name}-typed.png`) });

    await page.click('#disconnect');
    await waitForEnd(page, /.+/);
    await replay(page, id, name);
    await page.close();
  });
}

test('shadow (NLA): a target without stored credentials asks for them in the page (Japanese)', async () => {
  const ja = await launchBrowser('ja-JP', { viewport: VIEWPORT });
  try {
    const login = await ja.context.newPage();
    await logInAs(login, gateway.url, DEMO_VENDOR);
    await login.close();
    const { page } = await open(ja.context, 'rdp-shadow-ask');
    await page.waitForSelector('#credentials', { state: 'visible', timeout: 20_000 });
    assert.match(await page.textContent('#credentials-form'), /接続先のパスワード/);
    assert.ok(await page.isVisible('#target-username'), 'no user name is stored: it is asked too');
    await page.fill('#target-username', shadow.user);
    await page.fill('#target-password', shadow.password);
    await page.click('#credentials-form button[type=submit]');
    await waitForSessionState(page, 'connected', 30_000);
    assert.equal(await page.isVisible('#credentials'), false, 'the form is gone');
    assert.equal(await page.inputValue('#target-password'), '', 'the password field is emptied');
    await checkPicture(page, 'shadow, credentials typed');
    await page.screenshot({ path: join(shots, 'session-rdp-shadow-asked.png') });
    await page.click('#disconnect');
    await waitForEnd(page, /.+/);
    await page.close();
  } finally {
    await ja.close();
  }
});

test('shadow (NLA): a wrong stored password ends with the gateway\'s sentence', async () => {
  const { page } = await open(browser.context, 'rdp-shadow-wrong');
  const reason = await waitForEnd(page, /refused the user name or password/);
  assert.ok(!reason.includes('not-the-password'), 'the reason does not show the password');
  await page.screenshot({ path: join(shots, 'session-rdp-shadow-wrong-password.png') });
  await page.close();
});
