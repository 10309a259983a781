// Registration page: click cells of the blank table in order; the hidden "cells" field, the
// fixed-password position's range and the policy/strength panel follow every change.
// Loaded as an external script (the Content-Security-Policy forbids inline scripts).
'use strict';

(function () {
  const form = document.getElementById('register-form');
  const grid = document.getElementById('pattern-grid');
  if (!form || !grid) return;
  const maxCells = Number(form.dataset.maxCells);
  const allowRepeats = form.dataset.allowRepeats === 'true';
  const cellsInput = document.getElementById('cells');
  const count = document.getElementById('cell-count');
  const insert = document.getElementById('insert');
  const fixed = document.getElementById('fixed');
  const live = document.getElementById('live-violations');
  const order = [];
  let pending = null;

  function render() {
    for (const button of grid.querySelectorAll('button.cell')) {
      const cell = Number(button.dataset.cell);
      const places = [];
      order.forEach((c, i) => { if (c === cell) places.push(i + 1); });
      button.textContent = places.join(',');
      button.classList.toggle('chosen', places.length > 0);
      button.setAttribute('aria-pressed', places.length > 0 ? 'true' : 'false');
    }
    cellsInput.value = order.join(',');
    count.textContent = String(order.length);
    insert.max = String(order.length);
    if (Number(insert.value) > order.length) insert.value = String(order.length);
    scheduleCheck();
  }

  function scheduleCheck() {
    clearTimeout(pending);
    pending = setTimeout(check, 150);
  }

  async function check() {
    const body = JSON.stringify({
      cells: order, fixed: fixed.value, insert: Number(insert.value) || 0,
    });
    let result;
    try {
      const response = await fetch('/api/v1/register/check', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
      });
      if (!response.ok) return;
      result = await response.json();
    } catch (_) {
      return; // The server decides at submission anyway.
    }
    live.replaceChildren(...result.violations.map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }));
    const s = result.strength;
    document.getElementById('s-space').textContent = s ? s.pattern_space : '—';
    document.getElementById('s-online').textContent = s ? s.online_guess : '—';
    document.getElementById('s-observed').textContent = s ? s.expected_observations : '—';
  }

  grid.addEventListener('click', (event) => {
    const button = event.target.closest('button.cell');
    if (!button) return;
    const cell = Number(button.dataset.cell);
    if (order.length >= maxCells) return;
    if (!allowRepeats && order.includes(cell)) return;
    order.push(cell);
    render();
  });
  document.getElementById('undo').addEventListener('click', () => { order.pop(); render(); });
  document.getElementById('clear').addEventListener('click', () => { order.length = 0; render(); });
  fixed.addEventListener('input', scheduleCheck);
  insert.addEventListener('input', scheduleCheck);
  render();
})();
