// Seeking in a recording (issue 7): a session on the demo desktop types two words at two known
// moments; the player, paused, seeks to each moment (forwards, then backwards) and shows the
// same pixels the live session showed then; a search hit opens the recording at its moment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitForSessionState, waitUntil, remotePixels,
  screenPoint, differingShare, getJson, randomWord, DEMO_VENDOR, SESSION_VIEWPORT,
} from './gateway.mjs';

const CELL = { width: 12, height: 20 };
/** The demo desktop's text area: its first line, 39 cells. */
const FIRST_LINE = { x: 24, y: 164, width: 39 * CELL.width, height: CELL.height };

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

let gateway;
let browser;
before(async () => {
  gateway = await startDemo();
  browser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
});
after(async () => {
  await browser?.close();
  await gateway?.stop();
});

/** Waits until the first line stops changing; its pixels and the time they were seen. */
async function settledLine(page) {
  let last = null;
  await waitUntil('the first line settles', async () => {
    const now = await remotePixels(page, FIRST_LINE);
    const same = last && differingShare(now, last) === 0;
    last = now;
    return same;
  }, { interval: 400 });
  return { pixels: last, at: Date.now() };
}

async function seekPaused(page, offset) {
  await page.$eval('#seek', (s, value) => {
    s.value = String(value);
    s.dispatchEvent(new Event('change'));
  }, offset);
}

test('seeking shows the picture of that moment, forwards and backwards', async () => {
  const page = await browser.context.newPage();
  await logInAs(page, gateway.url, DEMO_VENDOR);
  const sessionId = await openTarget(page, gateway.url, 'demo-desktop');
  await waitForSessionState(page, 'connected');
  const click = await screenPoint(page, 200, 500);
  await page.mouse.click(click.x, click.y);

  const first = randomWord(5);
  await page.keyboard.type(first, { delay: 20 });
  const moment1 = await settledLine(page);
  await new Promise((r) => setTimeout(r, 1500));
  const second = randomWord(7);
  await page.keyboard.type(` ${second}`, { delay: 20 });
  const moment2 = await settledLine(page);
  assert.ok(differingShare(moment1.pixels, moment2.pixels) > 0.02, 'the two moments differ');
  await new Promise((r) => setTimeout(r, 1000));
  await page.click('#disconnect');
  await waitForSessionState(page, 'ended');

  const index = await waitUntil('the recording is sealed', async () => {
    const got = await getJson(page, gateway.url, `api/v1/sessions/${sessionId}/recording/index`);
    return got.finished ? got : null;
  });
  const offset = (moment) => moment.at - index.start_ms;

  await page.goto(`${gateway.url}sessions/${sessionId}/play`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached' });
  await page.waitForSelector('#thumbnails img');
  if ((await page.textContent('#play-pause')) === await page.getAttribute('#play-pause', 'data-pause')) {
    await page.click('#play-pause');
  }
  for (const [name, moment] of [['first word', moment1], ['second word', moment2], ['first word again', moment1]]) {
    await seekPaused(page, offset(moment));
    await waitUntil(`${name}: the player's picture equals the live one`, async () => {
      const share = differingShare(await remotePixels(page, FIRST_LINE), moment.pixels, 40);
      return share < 0.01;
    }, { timeout: 10_000, interval: 1000 });
  }

  await page.screenshot({ path: join(shots, 'player-seek.png') });

  // The keystroke log and the search know the second word; the hit opens the player there.
  const hits = await getJson(page, gateway.url, `api/v1/search?q=${second}`);
  assert.equal(hits.length, 1, JSON.stringify(hits));
  assert.equal(hits[0].session, sessionId);
  await page.goto(`${gateway.url}${hits[0].play.replace(/^\//, '')}`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached' });
  assert.match(await page.textContent('#keystrokes'), new RegExp(second));
});
