// A timeline of runs: a lane per view, each run a bar from its start to its end colored by outcome,
// the runs of one cascade grouped under it, so that parallel branches, queueing (a cascade's views
// waiting for what they read) and long refreshes show. The window (last 15 minutes to 24 hours) is
// read once; the wheel zooms within it, dragging moves, and live events add and end bars.

import { $, api, current, h, s, state, time } from './core.js';

const WINDOWS = [['15 min', 900], ['1 hour', 3600], ['6 hours', 21600], ['24 hours', 86400]];
const LANE = 18, LABEL = 230, HEADER = 22, AXIS = 24;

export async function timelinePage(generation) {
  const windowSelect = h('select', { id: 'timeline-window' },
    WINDOWS.map(([label, secs]) => h('option', { value: String(secs), selected: secs === 3600 }, label)));
  const summary = h('span', { class: 'muted', id: 'timeline-summary' });
  const reset = h('button', { type: 'button', id: 'timeline-reset' }, 'Whole window');
  const fit = h('button', { type: 'button', id: 'timeline-fit' }, 'Fit the runs');
  const canvas = h('div', { class: 'timeline-box', id: 'timeline-box' }, h('p', { class: 'muted' }, 'Loading…'));
  $('#main').replaceChildren(h('section', { class: 'timeline-page' },
    h('div', { class: 'toolbar' }, h('h1', {}, 'Timeline of runs'), h('label', {}, 'Last ', windowSelect), reset, fit, summary),
    h('p', { class: 'legend' },
      ...[['success', 'succeeded'], ['error', 'failed'], ['cancelled', 'cancelled'], ['skipped', 'skipped'],
        ['running', 'running']].map(([cls, text]) => h('span', { class: 'item' }, h('span', { class: `swatch bar-${cls}` }), text)),
      h('span', { class: 'muted' }, ' · a cascade\'s runs are grouped under it · the wheel zooms, drag to move, click a bar to open its view')),
    canvas));

  const view = { runs: new Map(), from: 0, to: 0, shownFrom: 0, shownTo: 0, now: Date.now(), drawnAt: 0 };
  const load = async () => {
    const secs = Number(windowSelect.value);
    const to = new Date();
    const from = new Date(to.getTime() - secs * 1000);
    const answer = await api('GET', `/api/admin/matview-runs?from=${encodeURIComponent(from.toISOString())}`
      + `&to=${encodeURIComponent(to.toISOString())}&limit=5000`);
    if (!current(generation)) return;
    view.runs = new Map(answer.items.map(r => [r.id, r]));
    view.from = from.getTime();
    view.to = to.getTime();
    view.now = view.to;
    view.shownFrom = view.from;
    view.shownTo = view.to;
    view.truncated = answer.truncated;
    draw();
  };
  const draw = () => {
    const runs = [...view.runs.values()];
    summary.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} of ${views(new Set(runs.map(r => r.registrationId)).size)}`
      + (view.truncated ? ' (the first 5,000 by start)' : '');
    render(canvas, runs, view);
    view.drawnAt = view.now;
    performance.mark('matviews:timeline-shown', { detail: runs.length });
  };
  windowSelect.addEventListener('change', () => load());
  reset.addEventListener('click', () => { view.shownFrom = view.from; view.shownTo = view.to; draw(); });
  // from the first start to the last end, a little more on each side
  fit.addEventListener('click', () => {
    const runs = [...view.runs.values()];
    if (!runs.length) return;
    const first = Math.max(view.from, Math.min(...runs.map(r => Date.parse(r.startedAt))));
    const last = Math.min(view.now, Math.max(...runs.map(r => (r.finishedAt ? Date.parse(r.finishedAt) : view.now))));
    const pad = Math.max(1000, (last - first) * 0.05);
    view.shownFrom = Math.max(view.from, first - pad);
    view.shownTo = Math.min(view.to, Math.max(last + pad, view.shownFrom + 5000));
    draw();
  });

  // live: a started run gets a bar, a finished one its end; running bars grow every second
  let pending = null;
  const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; if (current(generation)) draw(); }, 250); };
  const tick = setInterval(() => {
    if (!current(generation)) { clearInterval(tick); return; }
    const now = Date.now();
    // the window slides with the clock unless the reader zoomed or moved it
    const whole = view.shownFrom === view.from && view.shownTo === view.to;
    view.now = now;
    if (whole) {
      view.from += now - view.to; view.to = now; view.shownFrom = view.from; view.shownTo = now;
    }
    // redrawn when the window moved by a pixel or more, or a bar grows: not every second for nothing
    const pixel = (view.shownTo - view.shownFrom) / Math.max(1, plotWidth());
    if ((whole && now - view.drawnAt >= pixel) || [...view.runs.values()].some(r => r.status === 'running')) soon();
  }, 1000);
  const plotWidth = () => Math.max(600, canvas.clientWidth - 2) - LABEL - 8;
  // zoom around the pointer within the window read; drag to move (on the box: the picture is redrawn)
  canvas.addEventListener('wheel', ev => {
    const px = ev.clientX - canvas.getBoundingClientRect().left;
    if (px < LABEL || !view.to) return;
    ev.preventDefault();
    const span = view.shownTo - view.shownFrom;
    const at = view.shownFrom + (px - LABEL) / plotWidth() * span;
    const w = Math.min(view.to - view.from, Math.max(5000, span * (ev.deltaY > 0 ? 1.25 : 0.8)));
    view.shownFrom = Math.max(view.from, Math.min(at - (at - view.shownFrom) * w / span, view.to - w));
    view.shownTo = view.shownFrom + w;
    draw();
  }, { passive: false });
  let drag = null;
  let pressed = null;
  canvas.addEventListener('pointerdown', ev => {
    pressed = { x: ev.clientX, y: ev.clientY };
    if (ev.target.classList.contains('bar')) return;
    drag = ev.clientX;
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener('pointermove', ev => {
    if (drag == null) return;
    const w = view.shownTo - view.shownFrom;
    const dt = (drag - ev.clientX) / plotWidth() * w;
    drag = ev.clientX;
    view.shownFrom = Math.min(Math.max(view.from, view.shownFrom + dt), view.to - w);
    view.shownTo = view.shownFrom + w;
    draw();
  });
  canvas.addEventListener('pointerup', ev => {
    drag = null;
    // a bar opens its view: the one under the pointer when it is released, since the picture may
    // have been redrawn (live) since it was pressed
    if (pressed && Math.abs(ev.clientX - pressed.x) < 4 && Math.abs(ev.clientY - pressed.y) < 4) {
      const bar = document.elementFromPoint(ev.clientX, ev.clientY);
      if (bar && bar.classList.contains('bar') && bar.dataset.registration) {
        location.hash = `#/views/${bar.dataset.registration}`;
      }
    }
    pressed = null;
  });
  state.page = {
    onRun: (event, run) => { view.runs.set(run.id, run); soon(); },
  };
  await load();
}

/** Lanes: per cascade (oldest first) its views, then the views refreshed on their own. */
function lanes(runs) {
  const groups = new Map();
  for (const r of runs) {
    const key = r.cascadeId || '';
    if (!groups.has(key)) groups.set(key, { cascadeId: r.cascadeId, start: r.startedAt, lanes: new Map() });
    const g = groups.get(key);
    if (r.startedAt < g.start) g.start = r.startedAt;
    const name = `${r.schemaName}.${r.viewName}`;
    if (!g.lanes.has(name)) g.lanes.set(name, { name, registrationId: r.registrationId, runs: [] });
    g.lanes.get(name).runs.push(r);
  }
  const cascades = [...groups.values()].filter(g => g.cascadeId).sort((a, b) => a.start.localeCompare(b.start));
  const single = groups.get('');
  const ordered = [...cascades, ...(single ? [single] : [])];
  for (const g of ordered) g.lanes = [...g.lanes.values()].sort((a, b) => a.runs[0].startedAt.localeCompare(b.runs[0].startedAt));
  return ordered;
}

const views = n => `${n} view${n === 1 ? '' : 's'}`;

function statusClass(status) {
  if (status === 'timeout' || status === 'abandoned') return 'error';
  return status;
}

function render(canvas, runs, view) {
  const width = Math.max(600, canvas.clientWidth - 2);
  const groups = lanes(runs);
  const height = AXIS + groups.reduce((n, g) => n + HEADER + g.lanes.length * LANE, 0) + 4;
  const span = Math.max(1, view.shownTo - view.shownFrom);
  const plot = width - LABEL - 8;
  const x = t => LABEL + plot * (t - view.shownFrom) / span;
  const svg = s('svg', { class: 'timeline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'Runs over time, a lane per view' });
  // the axis: a tick every round step, about one per 90 px
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600].map(v => v * 1000);
  const step = steps.find(v => plot * v / span >= 90) || steps[steps.length - 1];
  const axis = s('g', { class: 'axis' });
  for (let t = Math.ceil(view.shownFrom / step) * step; t <= view.shownTo; t += step) {
    const d = new Date(t);
    const p = n => String(n).padStart(2, '0');
    axis.append(s('line', { x1: x(t), x2: x(t), y1: AXIS - 4, y2: height, class: 'tick' }),
      s('text', { x: x(t), y: AXIS - 8, 'text-anchor': 'middle', class: 'label' },
        `${p(d.getHours())}:${p(d.getMinutes())}${step < 60000 ? `:${p(d.getSeconds())}` : ''}`));
  }
  svg.append(axis);
  let y = AXIS;
  const clip = s('clipPath', { id: 'plot' }, s('rect', { x: LABEL, y: 0, width: plot + 8, height }));
  svg.append(s('defs', {}, clip));
  for (const g of groups) {
    const header = s('g', { class: `group${g.cascadeId ? ' cascade' : ''}`, 'data-cascade': g.cascadeId || '' });
    const ids = g.lanes.flatMap(l => l.runs);
    const first = Math.min(...ids.map(r => Date.parse(r.startedAt)));
    const last = Math.max(...ids.map(r => (r.finishedAt ? Date.parse(r.finishedAt) : view.now)));
    header.append(s('rect', { x: 0, y, width, height: HEADER, class: 'band' }),
      s('text', { x: 6, y: y + 15, class: 'title' }, g.cascadeId
        ? `cascade ${g.cascadeId.slice(0, 8)} · ${views(g.lanes.length)} · ${time(new Date(first).toISOString()).slice(11)}`
          + `–${time(new Date(last).toISOString()).slice(11)}`
        : `refreshed on their own · ${views(g.lanes.length)}`));
    if (g.cascadeId) {
      header.append(s('rect', { x: x(first), y: y + 16, width: Math.max(2, x(last) - x(first)), height: 3, class: 'span',
        'clip-path': 'url(#plot)' }));
    }
    svg.append(header);
    y += HEADER;
    for (const lane of g.lanes) {
      const row = s('g', { class: 'lane', 'data-view': lane.name, 'data-registration': lane.registrationId },
        s('text', { x: 10, y: y + 13, class: 'name' }, lane.name.length > 34 ? `${lane.name.slice(0, 33)}…` : lane.name),
        s('line', { x1: LABEL, x2: width, y1: y + LANE - 0.5, y2: y + LANE - 0.5, class: 'rule' }));
      for (const r of lane.runs) {
        const start = Date.parse(r.startedAt);
        const end = r.finishedAt ? Date.parse(r.finishedAt) : view.now;
        if (end < view.shownFrom || start > view.shownTo) continue;
        const bar = s('rect', { x: x(start), y: y + 3, width: Math.max(2, x(end) - x(start)), height: LANE - 6,
          class: `bar bar-${statusClass(r.status)}`, 'data-run': r.id, 'data-status': r.status, 'data-registration': r.registrationId, 'data-start': start,
          'data-end': r.finishedAt ? end : '', 'clip-path': 'url(#plot)' },
        s('title', {}, `${lane.name}: ${r.status}, ${time(r.startedAt)}`
          + (r.finishedAt ? ` – ${time(r.finishedAt).slice(11)}` : ' – running')
          + (r.durationMs != null ? ` (${r.durationMs} ms)` : '') + (r.error ? `: ${r.error}` : '')));
        row.append(bar);
      }
      svg.append(row);
      y += LANE;
    }
  }
  if (!groups.length) {
    svg.append(s('text', { x: LABEL, y: AXIS + 20, class: 'label' }, 'No runs in this window.'));
  }
  canvas.replaceChildren(svg);
}
