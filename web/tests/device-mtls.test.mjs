// A lent device enrolled with the real `hoshu-agent` binary, then its client certificate
// presented by the browser: the gateway recognises the device on a route that needs mTLS, and
// refuses the same route to a browser without the certificate.
//
// The certificate is presented through Playwright's `clientCertificates` option (notes/browser.md
// way 1): Playwright does the TLS for that origin inside Node, so this proves the gateway's mTLS
// with the issued certificate and key files as a browser context uses them.
//
// The second test uses Chromium's own certificate store instead: the PKCS#12 the agent wrote is
// imported with pk12util into an NSS database under a temporary HOME, and a managed policy
// (AutoSelectCertificateForUrls, for this gateway's origin only) lets headless Chromium present
// it without the selection dialog it cannot show. Without that policy headless Chromium waits
// on the dialog and the page never loads. The policy file is written to
// /etc/chromium/policies/managed (root; the test is skipped otherwise) and removed afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDemo, launchBrowser, hoshuBinary } from './gateway.mjs';

function agentBinary() {
  const candidates = [process.env.HOSHU_AGENT_BIN, join(dirname(hoshuBinary()), 'hoshu-agent')]
    .filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`hoshu-agent binary not found (tried ${candidates.join(', ')}); run cargo build --workspace first or set HOSHU_AGENT_BIN`);
  }
  return found;
}

let gateway;
let agentDir;
before(async () => {
  gateway = await startDemo();
  agentDir = mkdtempSync(join(tmpdir(), 'hoshu-agent-'));
});
after(async () => {
  await gateway?.stop();
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

test('the browser presents the enrolled device certificate; without it the route is refused', async () => {
  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const added = gateway.admin('device', 'add', '--asset-tag', 'PC-WEB', '--user', 'demo-vendor', '--until', until);
  const code = added.trim().split('\n').at(-1);
  const agent = agentBinary();
  const gatewayCa = join(gateway.data, 'tls', 'cert.pem');
  writeFileSync(join(agentDir, 'p12-password'), 'nss-test-password\n');
  execFileSync(agent, ['enroll', '--gateway', gateway.url, '--code', code, '--ca-file', gatewayCa, '--dir', agentDir,
    '--p12-password-file', join(agentDir, 'p12-password')], { encoding: 'utf8' });
  // One report from this machine: compliant or not, the gateway answers with its verdict.
  const report = spawnSync(agent, ['report', '--gateway', gateway.url, '--ca-file', gatewayCa, '--dir', agentDir],
    { encoding: 'utf8' });
  assert.ok([0, 1].includes(report.status), `report: ${report.stderr}`);
  assert.equal(typeof JSON.parse(report.stdout).compliant, 'boolean');

  const origin = gateway.url.replace(/\/$/, '');
  const withCert = await launchBrowser('en', {
    clientCertificates: [{ origin, certPath: join(agentDir, 'device.crt'), keyPath: join(agentDir, 'device.key') }],
  });
  const without = await launchBrowser('en');
  try {
    const page = await withCert.context.newPage();
    const response = await page.goto(`${gateway.url}api/v1/devices/status`);
    assert.equal(response.status(), 200);
    const status = JSON.parse(await page.locator('body').innerText());
    assert.equal(status.asset_tag, 'PC-WEB');
    assert.equal(status.user, 'demo-vendor');

    const other = await without.context.newPage();
    const refused = await other.goto(`${gateway.url}api/v1/devices/status`);
    assert.equal(refused.status(), 403);
  } finally {
    await withCert.close();
    await without.close();
  }
});

const POLICY_DIR = '/etc/chromium/policies/managed';

function policyDirWritable() {
  try {
    mkdirSync(POLICY_DIR, { recursive: true });
    accessSync(POLICY_DIR, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The device status page as headless Chromium loads it with HOME=`home`: the text of its body. */
function chromiumStatus(home, profile) {
  const out = spawnSync('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors',
    `--user-data-dir=${profile}`, '--dump-dom', `${gateway.url}api/v1/devices/status`],
  { encoding: 'utf8', env: { ...process.env, HOME: home }, timeout: 60_000 });
  const pre = /<pre>(.*?)<\/pre>/s.exec(out.stdout ?? '');
  return pre ? pre[1].replaceAll('&quot;', '"') : '';
}

test('Chromium presents the agent\'s PKCS#12 from an NSS database under its HOME', { skip: !policyDirWritable() && `${POLICY_DIR} is not writable (needs root)` }, () => {
  // Runs after the first test, which enrolled PC-WEB and wrote device.p12.
  const home = join(agentDir, 'home');
  const nssdb = join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  execFileSync('pk12util', ['-i', join(agentDir, 'device.p12'), '-d', `sql:${nssdb}`, '-w', join(agentDir, 'p12-password')]);
  const bare = join(agentDir, 'bare-home');
  mkdirSync(bare, { recursive: true });

  const origin = gateway.url.replace(/\/$/, '');
  const policy = join(POLICY_DIR, `hoshu-test-${process.pid}.json`);
  writeFileSync(policy, JSON.stringify({
    AutoSelectCertificateForUrls: [JSON.stringify({ pattern: origin, filter: {} })],
  }));
  try {
    const status = JSON.parse(chromiumStatus(home, join(agentDir, 'profile-nss')));
    assert.equal(status.asset_tag, 'PC-WEB');
    assert.equal(status.enrolled, true);
    // The same browser without the imported certificate is refused.
    const refused = JSON.parse(chromiumStatus(bare, join(agentDir, 'profile-bare')));
    assert.match(refused.error, /client certificate of an enrolled/);
  } finally {
    rmSync(policy, { force: true });
  }
});
