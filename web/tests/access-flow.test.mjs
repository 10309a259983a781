// Issue 5 in a real browser: an administrator onboards a vendor through the whole application
// flow (hearing sheet → briefing → review → approval → formal application with a document →
// lent device → contract → active), adds its engineer, who registers, requests work and is
// refused until an approver approves; the engineer then works on the target while the
// administrator watches live, until the administrator's emergency stop cuts the session (and
// the watch) with its reason; the stop is lifted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitForSessionState, waitUntil, hoshuBinary,
  DEMO_ADMIN, SESSION_VIEWPORT,
} from './gateway.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

const VENDOR = 'ブラウザ保守株式会社';
const SYSTEM = '住民記録';
const TARGET = 'juki-web1';
const ENGINEER = { login: 'browser-eng', cells: [12, 2, 29, 43, 56, 39, 17], fixed: 'pass', insert: 7 };

let gateway;
let adminBrowser;
let vendorBrowser;

before(async () => {
  gateway = await startDemo();
  // A target of the contracted system, on the demo desktop's address.
  const demo = JSON.parse(gateway.admin('target', 'list', '--json')).find((t) => t.name === 'demo-desktop');
  gateway.admin('target', 'add', '--name', TARGET, '--protocol', 'vnc', '--host', demo.host,
    '--port', String(demo.port), '--system', SYSTEM);
  adminBrowser = await launchBrowser('ja-JP');
  vendorBrowser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
});

after(async () => {
  await adminBrowser?.close();
  await vendorBrowser?.close();
  await gateway?.stop();
});

/** `YYYY-MM-DDTHH:MM` in Japan time, `minutes` from now (the gateway's default zone). */
function japanLocal(minutes) {
  return new Date(Date.now() + (9 * 60 + minutes) * 60_000).toISOString().slice(0, 16);
}

function japanDay(days) {
  return new Date(Date.now() + 9 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

async function move(page, to, note = '') {
  if (note) await page.fill('#move-application textarea[name=note]', note);
  await Promise.all([
    page.waitForSelector(`#application-state[data-state="${to}"]`),
    page.click(`#move-application button[data-to="${to}"]`),
  ]);
}

test('an administrator onboards a vendor; its engineer requests work, works, and is stopped', async () => {
  const admin = await adminBrowser.context.newPage();
  await logInAs(admin, gateway.url, DEMO_ADMIN);
  await admin.click('#vendors-link');
  await admin.fill('#new-vendor input[name=name]', VENDOR);
  await admin.fill('#new-vendor input[name=contacts]', '山田 花子 03-1234-5678');
  await admin.fill('#new-vendor input[name=systems]', SYSTEM);
  await admin.fill('#new-vendor textarea[name=tools]', 'Web ブラウザ');
  await admin.check('#new-vendor input[name=protocol_vnc]');
  await admin.fill('#new-vendor input[name=frequency]', '月1回');
  await Promise.all([admin.waitForURL(/\/admin\/vendors\/\d+$/), admin.click('#new-vendor button[type=submit]')]);
  const vendorPage = admin.url();
  assert.equal(await admin.textContent('#vendor-name'), VENDOR);
  assert.equal(await admin.getAttribute('#application-state', 'data-state'), 'hearing-sheet');
  assert.match(await admin.textContent('#hearing-sheet'), /山田 花子/);

  await move(admin, 'briefing-held', '説明会 11/20 実施');
  await move(admin, 'under-review');
  await move(admin, 'approved', '審査OK');
  // The formal application needs a document: refused with the reason, then attached.
  await admin.click('#move-application button[data-to="formal-application"]');
  // In the reader's language (this administrator reads Japanese), with the refusal's code.
  assert.equal(await admin.getAttribute('#form-error', 'data-code'), 'documents-required');
  assert.match(await admin.textContent('#form-error'), /書類/);
  await admin.goto(vendorPage);
  await admin.setInputFiles('#attach-document input[type=file]', {
    name: '本申請書.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n% 本申請\n'),
  });
  await Promise.all([admin.waitForURL(vendorPage), admin.click('#attach-document button[type=submit]')]);
  assert.match(await admin.textContent('#documents'), /本申請書\.pdf/);
  await move(admin, 'formal-application');
  // The engineer: added on the vendor page (the registration code is shown once); the device
  // is lent to them, which is the "devices lent" step.
  await admin.fill('#add-user input[name=login]', ENGINEER.login);
  await admin.fill('#add-user input[name=name]', '保守 次郎');
  await admin.click('#add-user button[type=submit]');
  const code = (await admin.textContent('#registration-code')).trim();
  await admin.goto(vendorPage);
  await admin.fill('#lend-device input[name=asset_tag]', 'PC-2026-001');
  await admin.selectOption('#lend-device select[name=user]', ENGINEER.login);
  await admin.fill('#lend-device input[name=until]', japanDay(180));
  await admin.click('#lend-device button[type=submit]');
  assert.match(await admin.textContent('#enrol-command'), /hoshu-agent enroll --gateway https:\/\/.+ --code \S+/);
  await admin.goto(vendorPage);
  assert.equal(await admin.getAttribute('#devices tr[data-asset-tag="PC-2026-001"]', 'data-state'), 'awaiting-enrolment');
  await move(admin, 'devices-lent');
  await admin.fill('#add-contract input[name=title]', '住民記録システム保守契約');
  await admin.fill('#add-contract input[name=valid_from]', japanDay(-1));
  await admin.fill('#add-contract input[name=valid_until]', japanDay(365));
  await admin.fill('#add-contract input[name=systems]', SYSTEM);
  await Promise.all([admin.waitForURL(vendorPage), admin.click('#add-contract button[type=submit]')]);
  assert.match(await admin.textContent('#contracts'), /住民記録システム保守契約/);
  await move(admin, 'active', '利用開始');
  const timeline = await admin.$$eval('#timeline tr[data-to]', (rows) => rows.map((r) => r.dataset.to));
  assert.deepEqual(timeline, ['hearing-sheet', 'briefing-held', 'under-review', 'approved',
    'formal-application', 'devices-lent', 'active']);
  await admin.screenshot({ path: join(shots, 'vendor-active-ja.png'), fullPage: true });

  // The engineer registers with the code shown earlier.
  const vendor = await vendorBrowser.context.newPage();
  await vendor.goto(`${gateway.url}register`);
  await vendor.fill('#code', code);
  await vendor.click('#next');
  await vendor.waitForSelector('#pattern-grid');
  for (const cell of ENGINEER.cells) await vendor.click(`#pattern-grid button.cell[data-cell="${cell}"]`);
  await vendor.fill('#fixed', ENGINEER.fixed);
  await vendor.fill('#insert', String(ENGINEER.insert));
  await Promise.all([vendor.waitForURL(/notice=registered/), vendor.click('#register')]);
  await logInAs(vendor, gateway.url, ENGINEER);

  // Without an approved work request the target is listed but refused, with the reason.
  await vendor.click(`tr[data-target="${TARGET}"] button.open`);
  assert.match(await vendor.textContent('#refusal'), /no approved work request/);

  // The work request, then the approver's decision.
  await vendor.goto(`${gateway.url}work`);
  await vendor.check(`#new-work-request input[value="${TARGET}"]`);
  await vendor.fill('#new-work-request input[name=starts]', japanLocal(-5));
  await vendor.fill('#new-work-request input[name=ends]', japanLocal(120));
  await vendor.fill('#new-work-request textarea[name=purpose]', 'Monthly patches');
  await Promise.all([vendor.waitForURL(/\/work$/), vendor.click('#new-work-request button[type=submit]')]);
  const row = vendor.locator('#work-requests tr[data-state="pending"]');
  assert.equal(await row.count(), 1);
  const id = await row.getAttribute('data-request');

  await admin.goto(`${gateway.url}work`);
  await admin.fill(`tr[data-request="${id}"] input[name=comment]`, '承認します');
  await Promise.all([
    admin.waitForSelector(`tr[data-request="${id}"][data-state="approved"]`),
    admin.click(`tr[data-request="${id}"] button[value=approve]`),
  ]);

  await vendor.goto(gateway.url);
  assert.match(await vendor.textContent('#notifications'), new RegExp(`Work request #${id} was approved`));
  const sessionId = await openTarget(vendor, gateway.url, TARGET);
  await waitForSessionState(vendor, 'connected');

  // The administrator watches the work live (立会い); the engineer sees it.
  const watcher = await adminBrowser.context.newPage();
  await watcher.goto(`${gateway.url}sessions/${sessionId}/watch`);
  await waitForSessionState(watcher, 'connected');
  await vendor.waitForSelector('#watched', { state: 'visible', timeout: 10_000 });
  assert.match(await vendor.textContent('#watched'), /demo-admin/);

  // The emergency stop from the admin page cuts the session with its reason.
  await admin.goto(`${gateway.url}admin/emergency`);
  await admin.selectOption('#stop-one select[name=scope]', 'vendor');
  await admin.fill('#stop-one input[name=name]', VENDOR);
  await admin.fill('#stop-one input[name=reason]', '訓練のため停止');
  const stoppedAt = Date.now();
  await Promise.all([admin.waitForSelector('#locks tr[data-scope="vendor"]'), admin.click('#stop-one button[type=submit]')]);
  await waitForSessionState(vendor, 'ended', 10_000);
  console.log(`emergency stop (admin page) to the vendor's page showing the end: ${Date.now() - stoppedAt} ms`);
  assert.match(await vendor.textContent('#end-reason'), /訓練のため停止/);
  await waitForSessionState(watcher, 'ended', 10_000);
  await vendor.screenshot({ path: join(shots, 'emergency-stopped-en.png') });
  await Promise.all([admin.waitForSelector('#no-locks'), admin.click('#locks button.lift')]);

  // Everything above is on the audit chain, and the chain holds.
  const verify = execFileSync(hoshuBinary(), ['audit', 'verify', '--data', gateway.data], { encoding: 'utf8' });
  assert.match(verify, /audit chain intact/);
  await waitUntil('the vendor page still lists the timeline', async () => {
    await admin.goto(vendorPage);
    return (await admin.$$('#timeline tr[data-to]')).length === 7;
  });
});
