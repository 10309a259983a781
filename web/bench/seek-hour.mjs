#!/usr/bin/env node
// Issue 7's seek benchmark end to end: a synthetic one-hour graphical recording (written by
// `cargo bench -p hoshu-guac --bench recording_seek -- --write FILE`) placed in a `hoshu demo`
// data directory as an ended session, played in headless Chromium by the gateway's player.
// Prints: time from opening the player page to the first picture, time to seek to 10 random
// points (from the request until the picture of that moment is drawn), and the gateway's memory
// while serving. Nothing is asserted.
//
// Run: `make bench`, or `node web/bench/seek-hour.mjs` with HOSHU_BIN set (release build).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startDemo, launchBrowser, logInAs, DEMO_ADMIN, SESSION_VIEWPORT } from '../tests/gateway.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const HOUR_MS = 3_600_000;

function kib(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
  return line ? Number(line.split(/\s+/)[1]) : 0;
}

const scratch = mkdtempSync(join(tmpdir(), 'hoshu-seek-hour-'));
const file = join(scratch, 'hour.guac.zst');
const written = execFileSync('cargo', ['bench', '-q', '-p', 'hoshu-guac', '--bench', 'recording_seek', '--', '--write', file],
  { cwd: repo, encoding: 'utf8' });
const startMs = Number(written.trim().split(/\s+/).at(-1));

const gateway = await startDemo();
const browser = await launchBrowser('en-US', { viewport: SESSION_VIEWPORT });
try {
  // The hour as an ended session of the demo administrator (ended without a sealed hash: the
  // player serves it as "unsealed").
  const id = randomUUID();
  mkdirSync(join(gateway.data, 'recordings'), { recursive: true });
  copyFileSync(file, join(gateway.data, 'recordings', `${id}.guac.zst`));
  execFileSync('sqlite3', [join(gateway.data, 'hoshu.db'),
    `INSERT INTO remote_sessions (id, user_id, target_name, protocol, started_at_ms, ended_at_ms, outcome, recording)
     SELECT '${id}', id, 'synthetic-hour', 'vnc', ${startMs}, ${startMs + HOUR_MS}, 'synthetic', '${id}.guac.zst'
     FROM users WHERE login = 'demo-admin'`]);
  const page = await browser.context.newPage();
  if (process.env.SEEK_DEBUG) page.on('console', (m) => console.log('  page:', m.text()));
  await logInAs(page, gateway.url, DEMO_ADMIN);
  const before = kib(gateway.pid, 'VmRSS:');

  const opened = Date.now();
  await page.goto(`${gateway.url}sessions/${id}/play`);
  await page.waitForSelector('#player-state[data-state="loaded"]', { state: 'attached', timeout: 60_000 });
  await page.evaluate(() => window.hoshuPlayer.pause());
  // The recording's first frame is drawn a moment after its start: show 0:01.
  await page.evaluate(() => window.hoshuPlayer.seek(1000));
  const firstFrame = Date.now() - opened;
  console.log(`player page opened to the first picture (0:01): ${firstFrame} ms`);

  let peak = kib(gateway.pid, 'VmRSS:');
  const seeks = [];
  let seed = 42;
  for (let i = 0; i < 10; i += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const point = seed % HOUR_MS;
    const began = Date.now();
    await page.evaluate((ms) => window.hoshuPlayer.seek(ms), point);
    const took = Date.now() - began;
    seeks.push(took);
    peak = Math.max(peak, kib(gateway.pid, 'VmRSS:'));
    const mm = Math.floor(point / 60_000);
    const ss = String(Math.floor(point / 1000) % 60).padStart(2, '0');
    console.log(`seek to ${String(mm).padStart(2)}:${ss}: ${took} ms`);
  }
  console.log(`worst seek ${Math.max(...seeks)} ms, median ${seeks.sort((a, b) => a - b)[5]} ms`);
  console.log(`gateway RSS: ${Math.round(before / 1024)} MiB before playing, at most ${Math.round(peak / 1024)} MiB while serving`);
} finally {
  await browser.close();
  await gateway.stop();
  rmSync(scratch, { recursive: true, force: true });
}
