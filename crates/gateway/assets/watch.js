// The read-only live view of a session (立会い): a Guacamole client on the gateway's watch
// tunnel. It sends no keyboard or mouse events (the gateway would drop them anyway); it shows
// the picture with the vendor's pointer, who else watches, and why the view ended.
import Guacamole from '/static/guacamole-common.js';
import { showState, onWatchers } from '/static/live.js';

const container = document.getElementById('display');
const watchers = document.getElementById('watchers');

// No #display: the session had already ended when the page was made.
if (container) {
  const client = new Guacamole.Client(new Guacamole.WebSocketTunnel(container.dataset.tunnel));
  const display = client.getDisplay();
  container.appendChild(display.getElement());
  // No pointer until the gateway says where the vendor's is (a `mouse` instruction shows it).
  display.showCursor(false);
  showState(client, container);
  onWatchers(client, (logins) => {
    const others = logins.filter((login) => login !== container.dataset.login);
    watchers.textContent = others.length ? others.join(', ') : watchers.dataset.none;
  });
  window.addEventListener('beforeunload', () => client.disconnect());
  client.connect('');
}
