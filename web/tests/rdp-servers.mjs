// Test support: real RDP servers (issue 4), started by crates/gateway/tests/fixtures/rdp-server.sh,
// the script the Rust fixture (crates/gateway/tests/common/rdp_server.rs) starts too:
// - startXrdp(): xrdp 0.9 + xorgxrdp, TLS security (no NLA in xrdp), local account hoshu-rdp.
//   A wrong password is no protocol error there: the connection stays up and shows xrdp's login
//   dialog.
// - startShadowNla(): FreeRDP's shadow server on an Xvfb, NLA against a SAM file; a wrong
//   password fails the connection.
// Both show the root window solid #336699 and, at +0+0, a white-on-black xterm (80x24, core font
// 9x15, title hoshu-xterm) running bash with the prompt "$ ". Each server runs in its own PID and
// mount namespaces, so test processes may run xrdp at the same time; stop() leaves nothing
// behind. Debian packages: xrdp xorgxrdp xvfb xterm x11-xserver-utils xfonts-base openssl
// freerdp2-shadow-x11 winpr-utils (make deps). Runs as root, like the other fixtures.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', '..', 'crates', 'gateway', 'tests', 'fixtures', 'rdp-server.sh');
/** The root window of both servers. */
export const RDP_ROOT = [0x33, 0x66, 0x99];

/**
 * Runs the script until it reports the server ready: `{port, user, password, certSha256, xtermLog,
 * dir, xtermOutput(), restartWithNewCertificate(), stop()}`.
 */
async function start(mode, port) {
  const args = [SCRIPT, mode, ...(port ? [String(port)] : [])];
  // detached: its own process group, for the last-resort kill in stop().
  const child = spawn('bash', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => {}); // EPIPE when the script has already exited
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the ${mode} fixture did not start in time: ${stderr}`)), 90_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) { clearTimeout(timer); resolve(out.split('\n')[0]); }
    });
    exited.then(() => { clearTimeout(timer); reject(new Error(`the ${mode} fixture did not start: ${stderr}`)); });
  }).catch(async (e) => { await stop(); throw e; });
  const fields = Object.fromEntries(line.replace(/^ready /, '').split(' ').map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));

  async function stop() {
    // The script stops and cleans up when its stdin closes.
    child.stdin.end();
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 15_000);
    if (child.exitCode === null && child.signalCode === null) await exited;
    clearTimeout(timer);
  }

  const server = {
    port: Number(fields.port),
    user: fields.user,
    password: fields.password,
    /** SHA-256 of the certificate's DER, lowercase hex without colons. */
    certSha256: fields.cert_sha256,
    xtermLog: fields.xterm_log,
    /** The fixture's directory; xrdp's sessions log to session/xorg.<display>.log in it. */
    dir: fields.dir,
    /** What the xterm showed so far (prompt, echoed input, output). */
    xtermOutput() {
      try { return readFileSync(server.xtermLog, 'utf8'); } catch { return ''; }
    },
    /** Stops the server and starts it again on the same port with a new certificate. */
    async restartWithNewCertificate() {
      await server.stop();
      Object.assign(server, await start(mode, server.port));
    },
    stop,
  };
  return server;
}

/** xrdp with a new certificate on a free port (or `port`). */
export function startXrdp({ port } = {}) {
  return start('xrdp', port);
}

/** freerdp-shadow-cli with NLA on a new Xvfb, with a new certificate on a free port (or `port`). */
export function startShadowNla({ port } = {}) {
  return start('shadow-nla', port);
}
