// An SSH target in a real browser (issue 8): log in to Hoshu, open the target from the portal,
// type a command into the xterm.js terminal and see its output, Japanese text, a resize the
// shell sees, copying disabled by the clipboard policy, then the recording played back by
// asciinema-player and the command log beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, logInAs, openTarget, waitUntil, waitForSessionState, randomWord, getJson,
  DEMO_VENDOR,
} from './gateway.mjs';
import { startSshd, SSH_USER, SSH_PASSWORD } from './sshd.mjs';

const shots = join(import.meta.dirname, '..', 'test-results');
mkdirSync(shots, { recursive: true });

let gateway;
let sshd;
let browser;

before(async () => {
  [gateway, sshd] = await Promise.all([startDemo(), startSshd()]);
  const passwordFile = join(gateway.data, 'ssh-box.password');
  writeFileSync(passwordFile, `${SSH_PASSWORD}\n`);
  gateway.admin('target', 'add', '--demo', '--name', 'ssh-box', '--protocol', 'ssh', '--host', '127.0.0.1',
    '--port', String(sshd.port), '--username', SSH_USER, '--password-file', passwordFile,
    '--accept-host-key', sshd.fingerprint);
  gateway.admin('target', 'add', '--demo', '--name', 'ssh-ask', '--protocol', 'ssh', '--host', '127.0.0.1',
    '--port', String(sshd.port), '--accept-host-key', sshd.fingerprint);
  browser = await launchBrowser('ja-JP', { viewport: { width: 1100, height: 800 } });
});
after(async () => {
  await browser?.close();
  await sshd?.stop();
  await gateway?.stop();
});

/** The terminal's lines as text (xterm.js buffer), trailing blanks removed. */
function screenLines(page) {
  return page.evaluate(() => {
    const buffer = window.hoshuTerminal.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i += 1) lines.push(buffer.getLine(i).translateToString(true));
    return lines;
  });
}

async function waitForLine(page, what, predicate) {
  try {
    return await waitUntil(what, async () => (await screenLines(page)).find(predicate), { timeout: 20_000 });
  } catch (e) {
    const screen = (await screenLines(page)).filter((l) => l !== '').join('\n');
    throw new Error(`${e.message}; the terminal shows:\n${screen}`);
  }
}

test('ssh: type in the browser terminal, see the output, resize, replay the recording', async () => {
  const page = await browser.context.newPage();
  await logInAs(page, gateway.url, DEMO_VENDOR);
  const id = await openTarget(page, gateway.url, 'ssh-box');
  await waitForSessionState(page, 'connected');
  await waitForLine(page, 'the prompt', (l) => l.trimEnd().endsWith('$'));

  // A command typed like a person, and its output on a line of its own.
  const word = `hoshu-${randomWord(6)}`;
  await page.keyboard.type(`echo ${word}`, { delay: 20 });
  await page.keyboard.press('Enter');
  await waitForLine(page, `the output ${word}`, (l) => l === word);

  // Japanese text renders (the DOM holds the characters; fonts-noto-cjk draws them).
  await page.keyboard.type('echo 日本語の保守作業', { delay: 20 });
  await page.keyboard.press('Enter');
  await waitForLine(page, 'the Japanese output', (l) => l === '日本語の保守作業');

  // Resize: the window shrinks, xterm.js fits, the shell is told the new size.
  const before = await page.evaluate(() => [window.hoshuTerminal.cols, window.hoshuTerminal.rows]);
  await page.setViewportSize({ width: 800, height: 600 });
  const after = await waitUntil('the terminal to fit the smaller window', () => page.evaluate((b) => {
    const t = window.hoshuTerminal;
    return t.cols < b[0] && t.rows < b[1] ? [t.cols, t.rows] : null;
  }, before));
  await page.keyboard.type('stty size', { delay: 20 });
  await page.keyboard.press('Enter');
  await waitForLine(page, `stty size to say ${after[1]} ${after[0]}`, (l) => l === `${after[1]} ${after[0]}`);

  // Clipboard policy off: selecting text selects nothing (copy-out is stopped in the page).
  await page.evaluate(() => window.hoshuTerminal.selectAll());
  assert.equal(await page.evaluate(() => window.hoshuTerminal.getSelection()), '');
  // Clipboard policy off: a paste is stopped in the page (and the gateway would drop it).
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', 'echo pasted-text');
    document.querySelector('#terminal textarea')
      .dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await waitUntil('the paste notice', async () => (await page.textContent('#session-notice')) !== '');
  assert.ok(!(await screenLines(page)).some((l) => l.includes('pasted-text')), 'the paste reached the shell');
  // The watermark names the user.
  assert.match(await page.textContent('#watermark'), /demo-vendor/);
  await page.screenshot({ path: join(shots, 'session-ssh-terminal.png') });

  await page.keyboard.type('exit', { delay: 20 });
  await page.keyboard.press('Enter');
  await page.waitForSelector('#ended', { state: 'visible', timeout: 20_000 });
  assert.match(await page.textContent('#end-reason'), /exit status 0/);

  // The command log holds what was typed.
  const commands = (await getJson(page, gateway.url, `/api/v1/sessions/${id}/commands`)).map((c) => c.command);
  assert.deepEqual(commands, [`echo ${word}`, 'echo 日本語の保守作業', 'stty size', 'exit']);

  // The recording, played by asciinema-player: at its end the terminal shows the output.
  await page.setViewportSize({ width: 1100, height: 800 });
  await page.goto(`${gateway.url}sessions/${id}/play`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached', timeout: 20_000 });
  await page.evaluate(() => window.hoshuPlayer.seek('100%'));
  await waitUntil(`${word} in the replayed terminal`, async () =>
    (await page.$$eval('.ap-line', (lines) => lines.map((l) => l.textContent.trimEnd()))).includes(word),
  { timeout: 20_000 });
  const listed = await page.$$eval('#commands li code', (codes) => codes.map((c) => c.textContent));
  assert.deepEqual(listed, commands);
  await page.screenshot({ path: join(shots, 'session-ssh-replayed.png') });
  await page.close();
});

test('ssh: a target without stored credentials asks for them in the page', async () => {
  const page = await browser.context.newPage();
  await page.goto(gateway.url);
  await openTarget(page, gateway.url, 'ssh-ask');
  await page.waitForSelector('#credentials', { state: 'visible', timeout: 20_000 });
  assert.ok(await page.isVisible('#target-username'), 'no user name is stored: it is asked too');
  await page.fill('#target-username', SSH_USER);
  await page.fill('#target-password', SSH_PASSWORD);
  await page.click('#credentials-form button[type=submit]');
  await waitForSessionState(page, 'connected');
  await waitForLine(page, 'the prompt', (l) => l.trimEnd().endsWith('$'));
  assert.equal(await page.inputValue('#target-password'), '', 'the password field is emptied');
  await page.keyboard.type('whoami', { delay: 20 });
  await page.keyboard.press('Enter');
  await waitForLine(page, 'whoami', (l) => l === SSH_USER);
  await page.click('#disconnect');
  await page.waitForSelector('#ended', { state: 'visible', timeout: 20_000 });
  await page.close();
});
