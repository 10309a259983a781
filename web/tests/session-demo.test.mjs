// The built-in demo desktop through the gateway, in a real browser: a vendor logs in, opens
// `demo-desktop`, sees its panels, types, draws and pastes, disconnects; then the session list,
// the recording API and the player show the same session (issue 3, "Tests").
//
// Remote pixels are read from the Guacamole display's default canvas (gateway.mjs
// remotePixels); the geometry below is crates/demo-target/src/desktop.rs's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitUntil, remotePixels, pixelAt, near, hex,
  countNear, differingShare, waitForSessionState, screenPoint, getJson, randomWord,
  DEMO_VENDOR, SESSION_VIEWPORT,
} from './gateway.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

// desktop.rs: PANEL_COLOURS (x, y, width, height), TEXT_AREA, DRAW_AREA and their inks.
const PANELS = [
  { name: 'red', rect: { x: 16, y: 48, width: 236, height: 80 }, colour: [0xd9, 0x3b, 0x3b] },
  { name: 'green', rect: { x: 268, y: 48, width: 236, height: 80 }, colour: [0x3b, 0xa5, 0x5c] },
  { name: 'blue', rect: { x: 520, y: 48, width: 236, height: 80 }, colour: [0x3b, 0x6e, 0xd9] },
  { name: 'yellow', rect: { x: 772, y: 48, width: 236, height: 80 }, colour: [0xe8, 0xc1, 0x3a] },
];
const TEXT_INK = [0x10, 0x10, 0x10];
const DRAW_INK = [0xc0, 0x10, 0x70];
// The text area's first line of character cells: TEXT_AREA (16, 156) + 8 px padding; cells are
// the 6×10 font at scale 2, 39 to a line.
const CELL = { width: 12, height: 20 };
const FIRST_LINE = { x: 24, y: 164, width: 39 * CELL.width, height: CELL.height };
const cellRect = (i) => ({ x: FIRST_LINE.x + i * CELL.width, y: FIRST_LINE.y, width: CELL.width, height: CELL.height });
// A drag across DRAW_AREA (520, 156, 488×596), well inside it.
const DRAG = { from: [560, 220], to: [960, 700] };

let gateway;
let browser;
let page;
let sessionId;
const live = {}; // what the live session showed, compared with the player later

before(async () => {
  gateway = await startDemo();
  browser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
  page = await browser.context.newPage();
});
after(async () => {
  await browser?.close();
  await gateway?.stop();
});

async function panelColours() {
  const out = {};
  for (const p of PANELS) {
    const cx = p.rect.x + p.rect.width / 2;
    const cy = p.rect.y + p.rect.height / 2;
    out[p.name] = pixelAt(await remotePixels(page, { x: cx, y: cy, width: 1, height: 1 }), cx, cy);
  }
  return out;
}

async function waitForPanels(what) {
  await waitUntil(`${what}: the four panel colours`, async () => {
    const seen = await panelColours();
    return PANELS.every((p) => near(seen[p.name], p.colour, 8));
  });
}

/** Indices of first-line cells in `from..to` that hold text ink. */
async function inkedCells(from, to) {
  const cells = [];
  for (let i = from; i < to; i += 1) {
    if (countNear(await remotePixels(page, cellRect(i)), TEXT_INK, 40) > 0) cells.push(i);
  }
  return cells;
}

const range = (from, to) => Array.from({ length: to - from }, (_, k) => from + k);

test('demo desktop: panels, typing, drawing, paste-in, disconnect', async () => {
  await logInAs(page, gateway.url, DEMO_VENDOR);
  sessionId = await openTarget(page, gateway.url, 'demo-desktop');
  assert.equal(await page.textContent('#session-target'), 'demo-desktop');
  await waitForSessionState(page, 'connected');

  // The four panels, each at its centre and near its corners (PNG: exact colours).
  await waitForPanels('live session');
  for (const p of PANELS) {
    const img = await remotePixels(page, p.rect);
    const inside = countNear(img, p.colour, 8);
    assert.ok(inside >= p.rect.width * p.rect.height * 0.99,
      `${p.name} panel: ${inside} of ${p.rect.width * p.rect.height} pixels near ${hex(p.colour)}`);
  }
  assert.match(await page.textContent('#watermark'), /demo-vendor/);

  // Policy paste-in: a paste panel, no copy-out box.
  assert.ok(await page.$('#clipboard-panel'), 'paste-in shows the clipboard panel');
  assert.ok(await page.$('#paste-send'), 'paste-in has a send button');
  assert.equal(await page.$('#clipboard-out'), null, 'paste-in has no #clipboard-out');

  // Typing: click the remote screen (in the text area, where a click draws nothing), type a word.
  const before = await remotePixels(page, FIRST_LINE);
  assert.deepEqual(await inkedCells(0, 10), [0], 'only the caret is on the first line at first');
  const word = randomWord(6);
  const at = await screenPoint(page, 200, 500);
  await page.mouse.click(at.x, at.y);
  await page.keyboard.type(word, { delay: 20 });
  await waitUntil(`"${word}" on the text area's first line`, async () =>
    (await inkedCells(0, word.length + 1)).length === word.length + 1);
  assert.ok(differingShare(before, await remotePixels(page, FIRST_LINE)) > 0.02, 'the first line changed');

  // Drawing: drag across the drawing area; ink appears all along the line.
  const from = await screenPoint(page, ...DRAG.from);
  const to = await screenPoint(page, ...DRAG.to);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 30 });
  await page.mouse.up();
  const samples = range(0, 21).map((k) => {
    const t = k / 20;
    return [Math.round(DRAG.from[0] + t * (DRAG.to[0] - DRAG.from[0])),
      Math.round(DRAG.from[1] + t * (DRAG.to[1] - DRAG.from[1]))];
  });
  const dragBox = { x: DRAG.from[0] - 4, y: DRAG.from[1] - 4, width: DRAG.to[0] - DRAG.from[0] + 9, height: DRAG.to[1] - DRAG.from[1] + 9 };
  await waitUntil('ink along the dragged line', async () => {
    const img = await remotePixels(page, dragBox);
    // The brush is 5 px wide: within 1 px of the ideal line is always inked.
    return samples.every(([x, y]) => [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]]
      .some(([dx, dy]) => near(pixelAt(img, x + dx, y + dy), DRAW_INK, 40)));
  });
  const drawn = await remotePixels(page, dragBox);
  const inkPixels = countNear(drawn, DRAW_INK, 40);
  assert.ok(inkPixels > 400 * 3, `${inkPixels} ink pixels along a ~630 px line`);
  assert.ok(near(pixelAt(drawn, DRAG.to[0], DRAG.from[1]), [0xff, 0xff, 0xff], 8), 'away from the line stays white');

  // Paste-in: the text goes to the target, which types it after the word.
  const pasted = `-${randomWord(5)}`;
  await page.click('#clipboard-panel summary');
  await page.fill('#paste-text', pasted);
  await page.click('#paste-send');
  const end = word.length + pasted.length;
  await waitUntil(`pasted "${pasted}" after the typed word`, async () =>
    (await inkedCells(word.length, end + 1)).length === pasted.length + 1);
  assert.deepEqual(await inkedCells(0, end + 3), range(0, end + 1), 'word, paste, caret and nothing more');

  live.panels = await panelColours();
  live.firstLine = await remotePixels(page, FIRST_LINE);
  live.drawn = drawn;
  await page.screenshot({ path: join(shots, 'session-demo-live.png') });

  // Disconnect: the page says the session ended, with a reason.
  await page.click('#disconnect');
  await page.waitForSelector('#ended', { state: 'visible' });
  await waitForSessionState(page, 'ended');
  const reason = (await page.textContent('#end-reason')).trim();
  assert.ok(reason.length > 0, 'the end shows a reason');
  await page.screenshot({ path: join(shots, 'session-demo-ended.png') });
});

test('session list and recording API show the ended session', async () => {
  assert.ok(sessionId, 'the live test opened a session');
  const row = await waitUntil('the session in /api/v1/sessions?state=ended', async () => {
    const rows = await getJson(page, gateway.url, `api/v1/sessions?state=ended`);
    return rows.find((r) => r.id === sessionId);
  });
  assert.equal(row.target, 'demo-desktop');
  assert.equal(row.user, 'demo-vendor');
  assert.equal(row.protocol, 'vnc');
  assert.ok(row.ended_at, 'ended_at is set');
  assert.ok(row.bytes_to_browser > 0, `bytes_to_browser ${row.bytes_to_browser}`);
  const liveRows = await getJson(page, gateway.url, `api/v1/sessions?state=live`);
  assert.ok(!liveRows.some((r) => r.id === sessionId), 'no longer live');

  await page.goto(`${gateway.url}sessions`);
  const tr = page.locator(`table#sessions tr[data-session="${sessionId}"]`);
  assert.equal(await tr.getAttribute('class'), 'ended');
  const bytes = Number((await tr.locator('td').nth(4).textContent()).trim());
  assert.ok(bytes > 0, `the list shows ${bytes} bytes`);
  assert.match(await tr.locator('td').nth(2).textContent(), /demo-desktop/);
  await page.screenshot({ path: join(shots, 'session-demo-list.png'), fullPage: true });

  const res = await page.request.get(`${gateway.url}api/v1/sessions/${sessionId}/recording`);
  assert.equal(res.status(), 200);
  const text = await res.text();
  assert.match(text.slice(0, 16), /^4\.(size|name),/, `recording starts with: ${text.slice(0, 40)}`);
  assert.ok(text.includes('4.sync,'), 'the recording has sync instructions');
  assert.ok(!text.includes('4.ping') && !text.startsWith('0.,'), 'no tunnel-internal instructions');
});

test('the player replays the session to its end with the same pixels', async () => {
  assert.ok(live.firstLine, 'the live test recorded what it saw');
  await page.goto(`${gateway.url}sessions`);
  await Promise.all([
    page.waitForURL(new RegExp(`/sessions/${sessionId}/play$`)),
    page.click(`table#sessions tr[data-session="${sessionId}"] a.play`),
  ]);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached', timeout: 20_000 });
  const duration = await page.$eval('#seek', (s) => Number(s.max));
  assert.ok(duration > 0, `duration ${duration} ms`);
  // Playing back takes as long as the session did; the button returns to "Play" at the end.
  await page.waitForFunction(() => {
    const button = document.getElementById('play-pause');
    const [pos, total] = document.getElementById('position').textContent.split(' / ');
    return button.textContent === button.dataset.play && pos === total;
  }, null, { timeout: duration + 20_000, polling: 200 });
  assert.equal(await page.getAttribute('#player-state', 'data-state'), 'loaded');

  await waitForPanels('player');
  const panels = await panelColours();
  for (const p of PANELS) {
    assert.ok(near(panels[p.name], live.panels[p.name], 8), `${p.name}: ${hex(panels[p.name])} vs live ${hex(live.panels[p.name])}`);
  }
  const firstLine = await remotePixels(page, FIRST_LINE);
  const share = differingShare(firstLine, live.firstLine, 40);
  assert.ok(share < 0.01, `player's first text line differs from the live one in ${(share * 100).toFixed(1)}% of pixels`);
  assert.ok(countNear(firstLine, TEXT_INK, 40) > 50, 'the typed text is inked in the player');
  const drawn = await remotePixels(page, { x: live.drawn.x, y: live.drawn.y, width: live.drawn.width, height: live.drawn.height });
  assert.ok(differingShare(drawn, live.drawn, 40) < 0.01, 'the drawn line replays');
  await page.screenshot({ path: join(shots, 'session-demo-player.png') });
});

test('after a paste the session bar (Disconnect, clipboard panel) stays in view', async () => {
  // The panel opens inside the bar and makes it taller; sending a paste then focuses #display.
  // The page itself must not scroll (body has overflow: hidden, so a person cannot scroll back).
  const p = await browser.context.newPage();
  try {
    await p.goto(gateway.url);
    await openTarget(p, gateway.url, 'demo-desktop');
    await waitForSessionState(p, 'connected');
    await p.click('#clipboard-panel summary');
    await p.fill('#paste-text', randomWord(4));
    await p.click('#paste-send');
    await p.waitForFunction(() => document.activeElement === document.getElementById('display'));
    const { scrollTop, disconnectTop, displayBottom } = await p.evaluate(() => ({
      scrollTop: document.scrollingElement.scrollTop,
      disconnectTop: document.getElementById('disconnect').getBoundingClientRect().top,
      displayBottom: document.getElementById('display').getBoundingClientRect().bottom,
    }));
    await p.screenshot({ path: join(shots, 'session-demo-after-paste.png') });
    assert.ok(scrollTop === 0 && disconnectTop >= 0,
      `the page scrolled by ${scrollTop} px: #disconnect is at y=${disconnectTop}, out of view`);
    assert.ok(displayBottom <= SESSION_VIEWPORT.height + 1,
      `#display ends at y=${displayBottom}, below the ${SESSION_VIEWPORT.height} px window`);
  } finally {
    await p.close();
  }
});
