// The RDP test servers (rdp-servers.mjs) checked with a real RDP client, FreeRDP's xfreerdp
// (Debian freerdp2-x11), as crates/gateway/tests/rdp_fixtures.rs checks the Rust side: NLA
// refuses a wrong password; each server presents the certificate it reports, and xrdp a new one
// on the same port after restartWithNewCertificate(). xfreerdp opens an X display even for
// /auth-only, so it runs on a private Xvfb. Against xrdp's TLS security /auth-only proves only
// the TLS handshake and connection sequence: xrdp checks the password later, in the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXrdp, startShadowNla } from './rdp-servers.mjs';

let xvfb;
let display;
const homes = [];

before(async () => {
  xvfb = spawn('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '640x480x24'], { stdio: ['ignore', 'pipe', 'ignore'] });
  display = await new Promise((resolve, reject) => {
    xvfb.stdout.once('data', (d) => resolve(`:${String(d).trim()}`));
    xvfb.once('exit', () => reject(new Error('Xvfb did not start')));
  });
});
after(() => {
  xvfb?.kill();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** A HOME for xfreerdp, where /cert:tofu remembers certificates. */
function newHome() {
  const home = mkdtempSync(join(tmpdir(), 'hoshu-xfreerdp-'));
  homes.push(home);
  return home;
}

function authOnly(home, port, user, password) {
  return spawnSync('xfreerdp', ['/auth-only', '/cert:tofu', `/v:127.0.0.1:${port}`, `/u:${user}`, `/p:${password}`], {
    env: { ...process.env, HOME: home, DISPLAY: display }, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The fingerprint xfreerdp remembered for the port (known_hosts2: host port aa:bb:… subject issuer). */
function rememberedFingerprint(home, port) {
  const text = readFileSync(join(home, '.config', 'freerdp', 'known_hosts2'), 'utf8');
  const entry = text.split('\n').map((l) => l.split(' ')).find(([host, p]) => host === '127.0.0.1' && p === String(port));
  assert.ok(entry, `no entry for port ${port} in ${text}`);
  return entry[2].replaceAll(':', '');
}

test('the shadow server checks the password with NLA', async () => {
  const server = await startShadowNla();
  try {
    const home = newHome();
    const right = authOnly(home, server.port, server.user, server.password);
    assert.equal(right.status, 0, `right password: ${right.stderr}`);
    assert.equal(rememberedFingerprint(home, server.port), server.certSha256);
    const wrong = authOnly(home, server.port, server.user, 'not-the-password');
    assert.notEqual(wrong.status, 0, 'a wrong password fails');
  } finally {
    await server.stop();
  }
});

test('xrdp presents the certificate it reports, and a new one after a restart', async () => {
  const server = await startXrdp();
  try {
    const home = newHome();
    const first = authOnly(home, server.port, server.user, server.password);
    assert.equal(first.status, 0, `TLS connection: ${first.stderr}`);
    assert.equal(rememberedFingerprint(home, server.port), server.certSha256);

    const { port, certSha256: old } = server;
    await server.restartWithNewCertificate();
    assert.equal(server.port, port);
    assert.notEqual(server.certSha256, old);
    const again = newHome();
    const second = authOnly(again, server.port, server.user, server.password);
    assert.equal(second.status, 0, `after the restart: ${second.stderr}`);
    assert.equal(rememberedFingerprint(again, server.port), server.certSha256);
  } finally {
    await server.stop();
  }
});
