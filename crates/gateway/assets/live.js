// What the session page and the watch page share: the connection state shown in the bar with
// the reason when it ends, and the list of watchers the gateway pushes on the `hoshu-watchers`
// pipe (JSON `[{"login", "since_ms"}]`, the whole list whenever it changes).
import Guacamole from '/static/guacamole-common.js';

/**
 * Shows `client`'s state in `#session-state` (texts from `container`'s data-connected and
 * data-ended), and on the end the `#ended` card with the gateway's reason; then `onEnd()`.
 */
export function showState(client, container, onEnd = () => {}) {
  const state = document.getElementById('session-state');
  const ended = document.getElementById('ended');
  const endReason = document.getElementById('end-reason');
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
      onEnd();
    }
  };
}

/** Calls `show(logins)` each time the gateway says who watches. */
export function onWatchers(client, show) {
  client.onpipe = (stream, mimetype, name) => {
    if (name !== 'hoshu-watchers') return;
    const reader = new Guacamole.StringReader(stream);
    let text = '';
    reader.ontext = (t) => { text += t; };
    reader.onend = () => {
      let list;
      try { list = JSON.parse(text); } catch { return; }
      if (Array.isArray(list)) show(list.map((w) => String(w.login)));
    };
  };
}
