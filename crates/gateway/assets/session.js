// The full-window session page: the Guacamole client over the gateway's tunnel, keyboard and
// mouse to the target, the watermark, and the reason when the session ends.
import Guacamole from '/static/guacamole-common.js';
import { showState, onWatchers } from '/static/live.js';
import { startWatermark } from '/static/watermark.js';

const container = document.getElementById('display');
const watermark = document.getElementById('watermark');

const tunnel = new Guacamole.WebSocketTunnel(container.dataset.tunnel);
const client = new Guacamole.Client(tunnel);
const display = client.getDisplay();
container.appendChild(display.getElement());

showState(client, container, () => {
  keyboard.onkeydown = null;
  keyboard.onkeyup = null;
});

// Mouse: positions are in remote-screen pixels (the display is not scaled).
const mouse = new Guacamole.Mouse(display.getElement());
mouse.onEach(['mousedown', 'mousemove', 'mouseup'], (e) => client.sendMouseState(e.state, true));

// Keyboard: only while the remote screen has focus, so the page's own fields still work.
const keyboard = new Guacamole.Keyboard(container);
keyboard.onkeydown = (keysym) => { client.sendKeyEvent(1, keysym); return false; };
keyboard.onkeyup = (keysym) => { client.sendKeyEvent(0, keysym); };
// preventScroll: focusing must never move the bar (and its Disconnect button) out of view.
container.addEventListener('mousedown', () => container.focus({ preventScroll: true }));

// Clipboard, as the target's policy allows (the gateway enforces it too).
const clipboardOut = document.getElementById('clipboard-out');
client.onclipboard = (stream, mimetype) => {
  if (!clipboardOut || !mimetype.startsWith('text/')) return;
  const reader = new Guacamole.StringReader(stream);
  let text = '';
  reader.ontext = (t) => { text += t; };
  reader.onend = () => { clipboardOut.textContent = text; };
};
const pasteButton = document.getElementById('paste-send');
if (pasteButton) {
  pasteButton.addEventListener('click', () => {
    const stream = client.createClipboardStream('text/plain');
    const writer = new Guacamole.StringWriter(stream);
    writer.sendText(document.getElementById('paste-text').value);
    writer.sendEnd();
    container.focus({ preventScroll: true });
  });
}

// Being watched (立会い): the gateway pushes the list of watchers in band whenever it
// changes; the banner shows while it is not empty.
const watched = document.getElementById('watched');
onWatchers(client, (logins) => {
  watched.textContent = `${watched.dataset.label} ${logins.join(', ')}`;
  watched.hidden = logins.length === 0;
});

// Credentials the target has not stored (RDP): the gateway asks with `required`; the answers
// go back as `argv` streams, to the target only (never recorded, never kept in the page).
const credentials = document.getElementById('credentials');
let required = [];
const credentialField = (name) =>
  document.getElementById(name === 'username' ? 'target-username' : 'target-password');
client.onrequired = (parameters) => {
  required = parameters.filter((name) => name === 'username' || name === 'password');
  document.getElementById('username-field').hidden = !required.includes('username');
  credentials.hidden = false;
  credentialField(required[0] || 'password').focus();
};
document.getElementById('credentials-form').addEventListener('submit', (event) => {
  event.preventDefault();
  for (const name of required) {
    const field = credentialField(name);
    const writer = new Guacamole.StringWriter(client.createArgumentValueStream('text/plain', name));
    writer.sendText(field.value);
    writer.sendEnd();
    field.value = '';
  }
  required = [];
  credentials.hidden = true;
  container.focus({ preventScroll: true });
});

document.getElementById('disconnect').addEventListener('click', () => client.disconnect());
window.addEventListener('beforeunload', () => client.disconnect());

startWatermark(watermark, container.dataset.login);

client.connect('');
container.focus({ preventScroll: true });
