// The read-only live view of a session (立会い): a Guacamole client on the gateway's watch
// tunnel. It sends no keyboard or mouse events (the gateway would drop them anyway); it shows
// the picture, who watches (the `hoshu-watchers` pipe), and why the view ended.
import Guacamole from '/static/guacamole-common.js';

const container = document.getElementById('display');
const state = document.getElementById('session-state');
const watchers = document.getElementById('watchers');
const ended = document.getElementById('ended');
const endReason = document.getElementById('end-reason');

if (container) {
  const tunnel = new Guacamole.WebSocketTunnel(container.dataset.tunnel);
  const client = new Guacamole.Client(tunnel);
  const display = client.getDisplay();
  container.appendChild(display.getElement());
  // The target's pointer shape would sit still at the top-left: watchers are not sent where
  // the vendor's pointer is, so show none.
  display.showCursor(false);

  let lastError = null;
  client.onerror = (status) => { lastError = status.message || `error ${status.code}`; };
  client.onstatechange = (s) => {
    if (s === 3) { // CONNECTED
      state.dataset.state = 'connected';
      state.textContent = container.dataset.connected;
    }
    if (s === 5) { // DISCONNECTED
      state.dataset.state = 'ended';
      state.textContent = container.dataset.ended;
      endReason.textContent = lastError || container.dataset.ended;
      ended.hidden = false;
    }
  };

  // Who watches: the gateway sends the whole list as JSON whenever it changes.
  client.onpipe = (stream, mimetype, name) => {
    if (name !== 'hoshu-watchers') return;
    const reader = new Guacamole.StringReader(stream);
    let text = '';
    reader.ontext = (t) => { text += t; };
    reader.onend = () => {
      let list = [];
      try { list = JSON.parse(text); } catch { return; }
      const me = container.dataset.login;
      const others = list.map((w) => w.login).filter((login) => login !== me);
      watchers.textContent = others.length ? others.join(', ') : watchers.dataset.none;
    };
  };

  window.addEventListener('beforeunload', () => client.disconnect());
  client.connect('');
}
