// A lent device enrolled with the real `hoshu-agent` binary, then its client certificate
// presented by the browser: the gateway recognises the device on a route that needs mTLS, and
// refuses the same route to a browser without the certificate.
//
// The certificate is presented through Playwright's `clientCertificates` option (notes/browser.md
// way 1): Playwright does the TLS for that origin inside Node, so this proves the gateway's mTLS
// with the issued certificate and key files as a browser context uses them, not Chromium's own
// NSS certificate store (that needs a PKCS#12, which the agent does not write yet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
  execFileSync(agent, ['enroll', '--gateway', gateway.url, '--code', code, '--ca-file', gatewayCa, '--dir', agentDir],
    { encoding: 'utf8' });
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
