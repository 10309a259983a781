// Test support: a real OpenSSH server (Debian openssh-server) on a free loopback port with its
// own host key and configuration in a temporary directory, as crates/gateway/tests/common/sshd.rs
// starts it. Tests run as root: they log in as a dedicated local user, created if absent, with a
// fixed password; `UsePAM no` makes sshd check it against /etc/shadow itself.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './xvnc.mjs';

export const SSH_USER = 'hoshu-ssh-test';
export const SSH_PASSWORD = 'hoshu-Test-pw-8';

function ensureUser() {
  if (spawnSync('id', [SSH_USER]).status !== 0) {
    spawnSync('useradd', ['--create-home', '--shell', '/bin/bash', SSH_USER]);
  }
  execFileSync('chpasswd', { input: `${SSH_USER}:${SSH_PASSWORD}\n` });
  mkdirSync('/run/sshd', { recursive: true });
}

function banner(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
    socket.on('data', (d) => { socket.destroy(); resolve(String(d).startsWith('SSH-2.0-')); });
    socket.on('error', () => resolve(false));
  });
}

/** Starts sshd; `{port, fingerprint, stop()}`. */
export async function startSshd() {
  ensureUser();
  const dir = mkdtempSync(join(tmpdir(), 'hoshu-sshd-'));
  const hostKey = join(dir, 'host_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hoshu-test', '-f', hostKey]);
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PermitRootLogin no',
    `AllowUsers ${SSH_USER}`, 'UseDNS no', 'PrintMotd no', 'PrintLastLog no',
    // Without PAM no locale is set; readline in the C locale turns UTF-8 bytes into Meta keys.
    'SetEnv LANG=C.UTF-8', '',
  ].join('\n'));
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 20_000;
  while (!(await banner(port))) {
    if (Date.now() > deadline) throw new Error(`sshd did not start on ${port}: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    fingerprint,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null || child.signalCode) r(); else child.on('exit', r); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
