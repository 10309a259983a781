// Live watching (立会い, issue 5 item 6) in real browsers: a vendor works on the demo desktop in
// one browser, an admin watches from the session list in another and sees the same pixels; the
// vendor's page says who is watching; the watcher's typing changes nothing; the admin ends the
// session from the watch page and the vendor's page shows that it ended.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitUntil, remotePixels, differingShare,
  countNear, waitForSessionState, screenPoint, randomWord, DEMO_VENDOR, DEMO_ADMIN, SESSION_VIEWPORT,
} from './gateway.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

// crates/demo-target/src/desktop.rs: the whole screen, and the text area's first line.
const SCREEN = { x: 0, y: 0, width: 1024, height: 768 };
const FIRST_LINE = { x: 24, y: 164, width: 39 * 12, height: 20 };
const TEXT_INK = [0x10, 0x10, 0x10];

let gateway;
let vendorBrowser;
let adminBrowser;

before(async () => {
  gateway = await startDemo();
  vendorBrowser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
  adminBrowser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
});
after(async () => {
  await vendorBrowser?.close();
  await adminBrowser?.close();
  await gateway?.stop();
});

/** Waits until the watcher's picture of `rect` equals the vendor's (PNG: exact but for fills). */
async function samePicture(what, vendor, admin, rect) {
  let share = 1;
  await waitUntil(`${what}: the watcher's picture equals the vendor's`, async () => {
    const [a, b] = [await remotePixels(vendor, rect), await remotePixels(admin, rect)];
    share = differingShare(a, b, 8);
    return a.width > 0 && share < 0.001;
  }, { timeout: 20_000, interval: 300 });
  return share;
}

test('an admin watches a vendor session read-only and ends it', async () => {
  const vendor = await vendorBrowser.context.newPage();
  const admin = await adminBrowser.context.newPage();

  await logInAs(vendor, gateway.url, DEMO_VENDOR);
  const sessionId = await openTarget(vendor, gateway.url, 'demo-desktop');
  await waitForSessionState(vendor, 'connected');
  assert.equal(await vendor.isVisible('#watched'), false, 'nobody watches yet');

  // Something of the vendor's own on the screen before the watcher arrives.
  const at = await screenPoint(vendor, 200, 500);
  await vendor.mouse.click(at.x, at.y);
  const before = randomWord(5);
  await vendor.keyboard.type(before, { delay: 20 });
  await waitUntil('the typed word', async () =>
    countNear(await remotePixels(vendor, FIRST_LINE), TEXT_INK, 40) > 40);

  // The admin finds the live session in the list and watches it.
  await logInAs(admin, gateway.url, DEMO_ADMIN);
  await admin.goto(`${gateway.url}sessions`);
  await Promise.all([
    admin.waitForURL(new RegExp(`/sessions/${sessionId}/watch$`)),
    admin.click(`table#sessions tr[data-session="${sessionId}"] a.watch`),
  ]);
  await waitForSessionState(admin, 'connected');
  await samePicture('on joining', vendor, admin, SCREEN);

  // The vendor is told who watches.
  await vendor.waitForSelector('#watched', { state: 'visible', timeout: 10_000 });
  const banner = await vendor.textContent('#watched');
  assert.match(banner, /Being watched by/);
  assert.match(banner, /demo-admin/);
  assert.equal((await admin.textContent('#watchers')).trim(), 'nobody else');
  await vendor.screenshot({ path: join(shots, 'watch-vendor-banner.png') });

  // The vendor keeps working; the watcher follows.
  await vendor.keyboard.type(` ${randomWord(6)}`, { delay: 20 });
  await samePicture('after more typing', vendor, admin, FIRST_LINE);
  await samePicture('the whole screen', vendor, admin, SCREEN);
  await admin.screenshot({ path: join(shots, 'watch-admin-view.png') });

  // The watcher's own typing and clicking change nothing on the target.
  const untouched = await remotePixels(vendor, SCREEN);
  const inside = await screenPoint(admin, 600, 300);
  await admin.mouse.click(inside.x, inside.y);
  await admin.keyboard.type('zzzz', { delay: 20 });
  await admin.mouse.move(inside.x, inside.y);
  await admin.mouse.down();
  await admin.mouse.move(inside.x + 200, inside.y + 200, { steps: 10 });
  await admin.mouse.up();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(differingShare(untouched, await remotePixels(vendor, SCREEN), 8), 0,
    "the watcher's input changed the vendor's screen");

  // The admin ends the session from the watch page; the vendor's page says so.
  await Promise.all([
    admin.waitForURL(/\/sessions$/),
    admin.click('#terminate-button'),
  ]);
  await vendor.waitForSelector('#ended', { state: 'visible', timeout: 10_000 });
  await waitForSessionState(vendor, 'ended');
  assert.match(await vendor.textContent('#end-reason'), /administrator demo-admin/);
  await vendor.screenshot({ path: join(shots, 'watch-vendor-ended.png') });
  const row = admin.locator(`table#sessions tr[data-session="${sessionId}"]`);
  await waitUntil('the session listed as ended', async () => {
    await admin.reload();
    return (await row.getAttribute('class')) === 'ended';
  });
  assert.equal(await row.locator('a.watch').count(), 0, 'no watch link for an ended session');
});
