// Player of SSH recordings: the session's asciicast played by asciinema-player, with the
// command log beside it (a click seeks to the command).
const container = document.getElementById('player');
const state = document.getElementById('player-state');

const player = window.AsciinemaPlayer.create(container.dataset.recording, container, {
  preload: true,
  fit: 'width',
  idleTimeLimit: 3,
  terminalFontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK JP", "Noto Sans CJK JP", monospace',
});
window.hoshuPlayer = player;

// The player has no "loaded" event: its duration appears once the recording is read.
const waitLoaded = setInterval(() => {
  if (player.getDuration() !== undefined) {
    clearInterval(waitLoaded);
    state.dataset.state = 'loaded';
    state.textContent = '';
    // `?t=<ms>` opens the recording at that moment (a search hit).
    const startAt = Number(new URLSearchParams(window.location.search).get('t')) || 0;
    if (startAt > 0) player.seek(startAt / 1000);
  }
}, 100);

for (const item of document.querySelectorAll('#commands li')) {
  item.addEventListener('click', () => {
    player.seek(Number(item.dataset.offsetMs) / 1000).then(() => player.play());
  });
}
