// Test support: start the real `hoshu` binary on port 0 with a temporary data directory, run
// its admin CLI, and launch Debian's Chromium through playwright-core (DESIGN §9).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repo = resolve(import.meta.dirname, '..', '..');

export function hoshuBinary() {
  const candidates = [
    process.env.HOSHU_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'hoshu'),
    join(repo, 'target', 'debug', 'hoshu'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`hoshu binary not found (tried ${candidates.join(', ')}); run cargo build first or set HOSHU_BIN`);
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
export async function launchBrowser(locale) {
  const profile = mkdtempSync(join(tmpdir(), 'hoshu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    locale,
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
