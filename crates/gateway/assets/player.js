// Recording player: the session's recorded instruction stream played by
// Guacamole.SessionRecording through a StaticHTTPTunnel (the 1.5.0 Blob constructor is broken).
import Guacamole from '/static/guacamole-common.js';

const container = document.getElementById('display');
const playPause = document.getElementById('play-pause');
const seek = document.getElementById('seek');
const position = document.getElementById('position');
const state = document.getElementById('player-state');

const recording = new Guacamole.SessionRecording(new Guacamole.StaticHTTPTunnel(container.dataset.recording));
container.appendChild(recording.getDisplay().getElement());

const clock = (ms) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const show = () => {
  position.textContent = `${clock(recording.getPosition())} / ${clock(recording.getDuration())}`;
  seek.value = String(recording.getPosition());
};

recording.onprogress = (duration) => { seek.max = String(duration); show(); };
// `?t=<ms>` opens the recording at that moment (a search hit, a keystroke line).
const startAt = Number(new URLSearchParams(window.location.search).get('t')) || 0;

recording.onload = () => {
  state.dataset.state = 'loaded';
  state.textContent = '';
  seek.max = String(recording.getDuration());
  seek.disabled = false;
  playPause.disabled = false;
  show();
  if (startAt > 0) {
    recording.seek(Math.min(startAt, recording.getDuration()), () => { show(); recording.play(); });
  } else {
    recording.play();
  }
};
recording.onerror = (message) => { state.dataset.state = 'error'; state.textContent = message; };
recording.onplay = () => { playPause.textContent = playPause.dataset.pause; };
recording.onpause = () => { playPause.textContent = playPause.dataset.play; };
recording.onseek = () => show();

playPause.addEventListener('click', () => {
  if (recording.isPlaying()) recording.pause(); else recording.play();
});
seek.addEventListener('input', () => recording.seek(Number(seek.value), show));

for (const item of document.querySelectorAll('#keystrokes li')) {
  item.addEventListener('click', () => recording.seek(Number(item.dataset.offsetMs), show));
}

recording.connect();
