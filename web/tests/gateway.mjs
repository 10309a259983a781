// Test support: start the real `hoshu` binary on port 0 with a temporary data directory, run
// its admin CLI, and launch Debian's Chromium through playwright-core (DESIGN §9).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repo = resolve(import.meta.dirname, '..', '..');

/** HOSHU_BIN, else the build of `profile` (debug for tests, release for benchmarks). */
export function hoshuBinary({ profile = 'debug' } = {}) {
  const candidates = [
    process.env.HOSHU_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, profile, 'hoshu'),
    join(repo, 'target', profile, 'hoshu'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    const build = profile === 'release' ? 'cargo build --release' : 'cargo build';
    throw new Error(`${profile} hoshu binary not found (tried ${candidates.join(', ')}); run ${build} first or set HOSHU_BIN`);
  }
  return found;
}

/** A running `hoshu demo`; `stop()` ends it and removes its data. */
export async function startDemo() {
  const data = mkdtempSync(join(tmpdir(), 'hoshu-browser-'));
  const bin = hoshuBinary();
  const child = spawn(bin, ['demo', '--data', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const url = await new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hoshu demo printed no URL in 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('https://'));
      if (line) {
        clearTimeout(timer);
        resolveUrl(line.trim());
      }
    });
    child.on('exit', (code) => reject(new Error(`hoshu demo exited with ${code}; stderr: ${stderr}`)));
  });
  return {
    url,
    data,
    pid: child.pid,
    admin(...args) {
      return execFileSync(bin, ['admin', '--data', data, ...args], { encoding: 'utf8' });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with a fresh profile; `locale` sets Accept-Language. */
export async function launchBrowser(locale, options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'hoshu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    locale,
    ...options,
    // The demo's certificate is self-signed on first start.
    ignoreHTTPSErrors: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The answer a person types: digits under the cells in order, fixed password at `insert`. */
export function answerFor(digitsByCell, cells, fixed, insert) {
  const digits = cells.map((c) => digitsByCell[c]);
  return digits.slice(0, insert).join('') + fixed + digits.slice(insert).join('');
}

// ---------------------------------------------------------------------------------------------
// Remote sessions (session-*.test.mjs)

/** The demo users `hoshu demo` creates (crates/gateway/src/demo.rs). */
export const DEMO_VENDOR = { login: 'demo-vendor', cells: [9, 14, 27, 33, 44, 50, 58, 3], fixed: 'demo', insert: 0 };
export const DEMO_ADMIN = { login: 'demo-admin', cells: [1, 18, 35, 52, 7, 30, 41, 60], fixed: 'hoshu', insert: 4 };

/** A viewport where a 1024×768 remote screen fits under the session bar without scrolling. */
export const SESSION_VIEWPORT = { width: 1100, height: 900 };

/** Logs `user` in on `baseUrl` by reading the matrix off the login page. */
export async function logInAs(page, baseUrl, user) {
  await page.goto(`${baseUrl}login`);
  await page.fill('#login', user.login);
  await page.click('#next');
  await page.waitForSelector('#matrix');
  const digits = [];
  for (const [cell, digit] of await page.$$eval('#matrix td.cell', (tds) =>
    tds.map((td) => [Number(td.dataset.cell), td.textContent.trim()]))) {
    digits[cell] = digit;
  }
  await page.fill('#answer', answerFor(digits, user.cells, user.fixed, user.insert));
  await Promise.all([page.waitForURL(/\/$/), page.click('#submit-answer')]);
  await page.waitForSelector('#welcome');
}

/** Opens `target` from the portal; returns the session id of the full-window page it lands on. */
export async function openTarget(page, baseUrl, target) {
  if (page.url() !== baseUrl) await page.goto(baseUrl);
  await Promise.all([
    page.waitForURL(/\/sessions\/[0-9a-f-]{36}\/view$/),
    page.click(`tr[data-target="${target}"] button.open`),
  ]);
  return page.url().match(/\/sessions\/([0-9a-f-]{36})\/view$/)[1];
}

/** Polls `probe` (sync or async) until it returns a truthy value; throws `what` after `timeout`. */
export async function waitUntil(what, probe, { timeout = 10_000, interval = 150 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * RGBA pixels of `rect` ({x, y, width, height}, remote-screen pixels) as the browser drew them:
 * the Guacamole display's default layer is the first canvas inside `#display` (its top-left is
 * the remote screen's, at scale 1). Overlays (watermark, cursor) are not in it.
 */
export async function remotePixels(page, rect) {
  const { width, height, b64 } = await page.evaluate(({ x, y, width, height }) => {
    const canvas = document.querySelector('#display canvas');
    if (!canvas || canvas.width < x + width || canvas.height < y + height) return { width: 0, height: 0, b64: '' };
    const bytes = canvas.getContext('2d').getImageData(x, y, width, height).data;
    // Base64 keeps large reads fast (a JSON array of 3 MB of numbers takes tens of seconds).
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return { width, height, b64: btoa(binary) };
  }, rect);
  return { x: rect.x, y: rect.y, width, height, data: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** The [r, g, b] at remote-screen point (x, y) of an image from `remotePixels`. */
export function pixelAt(img, x, y) {
  const i = ((y - img.y) * img.width + (x - img.x)) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

/** True when every channel of `a` is within `tolerance` of `b`. */
export function near(a, b, tolerance = 24) {
  return a.length >= 3 && [0, 1, 2].every((k) => Math.abs(a[k] - b[k]) <= tolerance);
}

export const hex = (c) => `#${c.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** How many pixels of `img` are near `colour`. */
export function countNear(img, colour, tolerance = 24) {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (near([img.data[i], img.data[i + 1], img.data[i + 2]], colour, tolerance)) n += 1;
  }
  return n;
}

/** The share (0..1) of pixels of two same-sized images that differ by more than `tolerance`. */
export function differingShare(a, b, tolerance = 24) {
  if (a.width !== b.width || a.height !== b.height || a.data.length === 0) return 1;
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (!near([a.data[i], a.data[i + 1], a.data[i + 2]], [b.data[i], b.data[i + 1], b.data[i + 2]], tolerance)) n += 1;
  }
  return n / (a.data.length / 4);
}

/** Waits for `#session-state` to be `state` (connecting, connected or ended). */
export async function waitForSessionState(page, state, timeout = 20_000) {
  await page.waitForSelector(`#session-state[data-state="${state}"]`, { timeout });
}

/** Viewport point of remote-screen pixel (x, y) (for page.mouse). */
export async function screenPoint(page, x, y) {
  const box = await page.locator('#display canvas').first().boundingBox();
  return { x: box.x + x + 0.5, y: box.y + y + 0.5 };
}

/** A JSON API GET with the page's cookies. */
export async function getJson(page, baseUrl, path) {
  const res = await page.request.get(`${baseUrl}${path.replace(/^\//, '')}`);
  if (!res.ok()) throw new Error(`GET ${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}

/** Lowercase letters, for words typed into remote screens. */
export function randomWord(length = 6) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length }, () => letters[Math.floor(Math.random() * letters.length)]).join('');
}
