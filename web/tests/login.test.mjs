// A person registers a matrix pattern by clicking cells, confirms it with a real login, logs out
// and logs in again by reading the matrix off the page — once in Japanese, once in English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, launchBrowser, answerFor } from './gateway.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

let gateway;
before(async () => { gateway = await startDemo(); });
after(async () => { await gateway?.stop(); });

async function readMatrix(page) {
  const cells = await page.$$eval('#matrix td.cell', (tds) =>
    tds.map((td) => [Number(td.dataset.cell), td.textContent.trim()]));
  assert.equal(cells.length, 64, 'the matrix shows 64 cells');
  const digits = [];
  for (const [cell, digit] of cells) {
    assert.match(digit, /^[0-9]$/, 'every cell is one digit');
    digits[cell] = digit;
  }
  return digits;
}

async function logIn(page, login, cells, fixed, insert) {
  await page.fill('#login', login);
  await page.click('#next');
  await page.waitForSelector('#matrix');
  const digits = await readMatrix(page);
  await page.fill('#answer', answerFor(digits, cells, fixed, insert));
  await Promise.all([page.waitForURL(/\/$/), page.click('#submit-answer')]);
  await page.waitForSelector('#welcome');
}

const cases = [
  {
    locale: 'ja-JP', lang: 'ja', login: 'browser-ja', name: '試験 花子',
    cells: [5, 22, 47, 60, 33, 10], fixed: 'tok!', insert: 2,
    texts: { registered: 'パターンを登録しました', recent: '最近のログイン', loggedOut: 'ログアウトしました' },
  },
  {
    locale: 'en-US', lang: 'en', login: 'browser-en', name: 'Hanako Test',
    cells: [12, 2, 29, 43, 56, 39, 17], fixed: 'pass', insert: 7,
    texts: { registered: 'Your pattern is registered', recent: 'Recent logins', loggedOut: 'You are logged out' },
  },
];

for (const c of cases) {
  test(`register, confirm, log out and log in again (${c.lang})`, async () => {
    const out = gateway.admin('user', 'add', '--login', c.login, '--name', c.name,
      '--role', 'vendor', '--vendor', 'Test Vendor');
    const code = out.trim().split('\n').at(-1);
    const browser = await launchBrowser(c.locale);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${gateway.url}register`);
      assert.equal(await page.getAttribute('html', 'lang'), c.lang);

      // Registration: the code, then cells clicked in order on the blank table.
      await page.fill('#code', code);
      await page.click('#next');
      await page.waitForSelector('#pattern-grid');
      assert.equal(await page.textContent('#register-login'), c.login);
      for (const cell of c.cells) {
        await page.click(`#pattern-grid button.cell[data-cell="${cell}"]`);
      }
      assert.equal(await page.textContent('#cell-count'), String(c.cells.length));
      assert.equal(await page.inputValue('#cells'), c.cells.join(','));
      await page.fill('#fixed', c.fixed);
      await page.fill('#insert', String(c.insert));
      // The strength figures arrive from the server for the chosen length.
      // (Figures for shorter patterns may arrive first; wait for this length's.)
      const online = `1 / 10^${c.cells.length}`;
      await page.waitForFunction((want) => document.querySelector('#s-online').textContent === want, online);
      assert.match(await page.textContent('#s-space'), /10\^/);
      await page.screenshot({ path: join(shots, `register-${c.lang}.png`), fullPage: true });
      await Promise.all([page.waitForURL(/notice=registered/), page.click('#register')]);
      assert.match(await page.textContent('#notice'), new RegExp(c.texts.registered));
      assert.equal(await page.inputValue('#login'), c.login);

      // Confirmation login with the new pattern.
      await logIn(page, c.login, c.cells, c.fixed, c.insert);
      assert.equal(await page.textContent('#user-name'), c.name);

      // Log out, then log in again with a fresh matrix.
      await Promise.all([page.waitForURL(/notice=logged_out/), page.click('#logout')]);
      assert.match(await page.textContent('#notice'), new RegExp(c.texts.loggedOut));
      await page.screenshot({ path: join(shots, `login-${c.lang}.png`), fullPage: true });
      await logIn(page, c.login, c.cells, c.fixed, c.insert);
      assert.equal(await page.getAttribute('html', 'lang'), c.lang);
      assert.equal(await page.textContent('#user-login'), c.login);
      assert.equal(await page.getAttribute('#user-role', 'data-role'), 'vendor');
      assert.match(await page.textContent('main'), new RegExp(c.texts.recent));
      const sources = await page.$$eval('#recent-logins td.source', (tds) => tds.map((td) => td.textContent));
      assert.ok(sources.length >= 2 && sources.every((s) => s === '127.0.0.1'), `login sources: ${sources}`);
      await page.screenshot({ path: join(shots, `portal-${c.lang}.png`), fullPage: true });
    } finally {
      await browser.close();
    }
  });
}

test('a wrong answer shows the failure and a new matrix is needed', async () => {
  const browser = await launchBrowser('en-US');
  try {
    const page = await browser.context.newPage();
    await page.goto(`${gateway.url}login`);
    await page.fill('#login', 'demo-vendor');
    await page.click('#next');
    await page.waitForSelector('#matrix');
    const first = (await readMatrix(page)).join('');
    await page.screenshot({ path: join(shots, 'matrix-en.png'), fullPage: true });
    await page.fill('#answer', 'demo00000000');
    await page.click('#submit-answer');
    await page.waitForSelector('#error');
    assert.match(await page.textContent('#error'), /Login failed/);
    assert.equal(await page.inputValue('#login'), 'demo-vendor');
    await page.click('#next');
    await page.waitForSelector('#matrix');
    assert.notEqual((await readMatrix(page)).join(''), first, 'every attempt gets a new matrix');
  } finally {
    await browser.close();
  }
});
