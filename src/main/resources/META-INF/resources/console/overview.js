// The landing page: how many views are in which state, the ones that need attention first, the
// failures of the last 24 hours, and per hour the refreshes by outcome and the time they took. Live:
// read again (at most once a second) when a run ends or an alert comes.

import { $, act, api, current, h, lagText, s, seconds, state, time } from './core.js';

const STATES = [
  ['fresh', 'Fresh'], ['behindTarget', 'Behind target'], ['failing', 'Failing'], ['suspended', 'Suspended'],
  ['neverRefreshed', 'Never refreshed'],
];
const STATE_LABEL = { 'behind-target': 'behind target', failing: 'failing', suspended: 'suspended' };

export async function overviewPage(generation) {
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const generated = h('span', { class: 'muted', id: 'generated' });
  const attention = h('tbody');
  const attentionNote = h('p', { class: 'muted', id: 'attention-note' });
  const failures = h('tbody');
  const failuresNote = h('p', { class: 'muted', id: 'failures-note' });
  const runsChart = h('figure', { class: 'chart', id: 'runs-per-hour' });
  const timeChart = h('figure', { class: 'chart', id: 'time-per-hour' });
  const failuresTitle = h('h2', {}, 'Failures in the last 24 hours');
  $('#main').replaceChildren(h('section', { class: 'overview' },
    h('div', { class: 'toolbar' }, h('h1', {}, 'Overview'), generated, h('a', { href: '#/views' }, 'All views')),
    tiles,
    h('h2', {}, 'Needs attention'),
    h('table', { id: 'attention' }, h('thead', {}, h('tr', {}, ['View', 'State', 'Why', 'Since'].map(c => h('th', {}, c)))),
      attention),
    attentionNote,
    h('div', { class: 'charts' },
      h('div', {}, h('h2', {}, 'Refreshes per hour'), runsChart),
      h('div', {}, h('h2', {}, 'REFRESH time per hour'), timeChart)),
    failuresTitle,
    h('table', { id: 'failures' }, h('thead', {}, h('tr', {}, ['Ended', 'View', 'Status', 'Duration', 'Error']
      .map(c => h('th', {}, c)))), failures),
    failuresNote));

  const load = async () => {
    const o = await api('GET', '/api/admin/overview');
    if (!current(generation)) return;
    generated.textContent = `as of ${time(o.generatedAt)}`;
    renderTiles(tiles, o.counts);
    renderAttention(attention, attentionNote, o);
    failuresTitle.textContent = `Failures in the last ${o.windowHours} hours`;
    renderFailures(failures, failuresNote, o);
    drawRuns(runsChart, o.hours);
    drawTime(timeChart, o.hours);
  };
  let timer = null;
  const soon = () => {
    if (!timer) timer = setTimeout(() => { timer = null; if (current(generation)) act(load); }, 1000);
  };
  state.page = {
    onRun: event => { if (event === 'run-finished') soon(); },
    onAlert: soon,
  };
  await load();
  // what bench/console measures: from opening the page to the overview shown
  performance.mark('matviews:overview-shown');
}

function renderTiles(tiles, counts) {
  tiles.replaceChildren(...STATES.map(([key, label]) => h('a', {
    class: `tile ${key}${counts[key] && key !== 'fresh' && key !== 'neverRefreshed' ? ' alarm' : ''}`,
    href: '#/views', dataset: { state: key, count: String(counts[key]) },
  }, h('span', { class: 'n' }, String(counts[key])), h('span', { class: 'label' }, label))),
  h('div', { class: 'tile total', dataset: { state: 'total', count: String(counts.total) } },
    h('span', { class: 'n' }, String(counts.total)), h('span', { class: 'label' }, 'registered')));
}

/** Why a view needs attention, in words. */
function why(a) {
  if (a.state === 'behind-target') {
    const lag = a.lagSeconds == null ? 'never refreshed' : `lag ${lagText(a.lagSeconds)}`;
    return a.targetLagSeconds != null && a.lagSeconds != null && a.lagSeconds > a.targetLagSeconds
      ? `${lag} of a ${seconds(a.targetLagSeconds)} target`
      : `${lag}, stale past ${seconds(a.maxStalenessSeconds)}`;
  }
  if (a.state === 'failing') return `${a.lastRefreshStatus}: ${a.reason || ''}`;
  return a.reason || '';
}

function renderAttention(body, note, o) {
  body.replaceChildren(...o.attention.map(a => h('tr', { dataset: { id: a.id, state: a.state } },
    h('td', { class: 'name' }, h('a', { href: `#/views/${a.id}` }, `${a.schemaName}.${a.viewName}`)),
    h('td', {}, h('span', { class: `badge ${a.state}` }, STATE_LABEL[a.state] || a.state)),
    h('td', { class: a.state === 'behind-target' ? 'behind' : 'error' }, why(a)),
    h('td', {}, time(a.state === 'suspended' ? a.suspendedAt : a.lastRefreshAt)))));
  if (!o.attention.length) body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Nothing needs attention.')));
  note.textContent = o.attentionTotal > o.attention.length
    ? `The first ${o.attention.length} of ${o.attentionTotal}.` : '';
}

function renderFailures(body, note, o) {
  body.replaceChildren(...o.failures.map(run => h('tr', { dataset: { run: run.id, status: run.status } },
    h('td', {}, time(run.finishedAt)),
    h('td', { class: 'name' }, h('a', { href: `#/views/${run.registrationId}` }, `${run.schemaName}.${run.viewName}`)),
    h('td', {}, h('span', { class: `badge ${run.status}` }, run.status)),
    h('td', { class: 'num' }, run.durationMs == null ? '' : `${run.durationMs} ms`),
    h('td', { class: 'error' }, run.error || ''))));
  if (!o.failures.length) body.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No failures.')));
  note.textContent = o.failuresTotal > o.failures.length ? `The newest ${o.failures.length} of ${o.failuresTotal}.` : '';
}

/** The frame of an hourly bar chart: axes, the top value, an hour label every few bars. */
function frame(figure, hours, max, top, label) {
  const W = Math.max(360, figure.clientWidth - 16), H = 200, L = 56, R = 8, T = 12, B = 26;
  const slot = (W - L - R) / hours.length;
  const y = v => H - B - (H - T - B) * v / max;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label },
    s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    s('text', { class: 'label', x: L - 6, y: T + 4, 'text-anchor': 'end' }, top),
    s('text', { class: 'label', x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'));
  const every = Math.ceil(hours.length / 8);
  hours.forEach((hr, i) => {
    if ((hours.length - 1 - i) % every === 0) {
      const d = new Date(hr.hour);
      svg.append(s('text', { class: 'label', x: L + slot * (i + 0.5), y: H - 8, 'text-anchor': 'middle' },
        `${String(d.getHours()).padStart(2, '0')}:00`));
    }
  });
  return { svg, slot, y, x: i => L + slot * i, base: H - B };
}

function hourText(hr) {
  return time(hr.hour).slice(0, 16);
}

/** Runs per hour, stacked by outcome; skipped ones as a grey bar of their own beside them. */
function drawRuns(figure, hours) {
  const refreshed = hr => hr.success + hr.failed + hr.cancelled;
  const max = Math.max(1, ...hours.map(hr => Math.max(refreshed(hr), hr.skipped)));
  const { svg, slot, y, x, base } = frame(figure, hours, max, String(max), 'Refreshes per hour by outcome');
  const w = Math.max(1, slot * 0.55), gap = Math.max(1, slot * 0.05);
  hours.forEach((hr, i) => {
    const g = s('g', { class: 'hour', 'data-hour': hr.hour, 'data-success': hr.success, 'data-failed': hr.failed,
      'data-cancelled': hr.cancelled, 'data-skipped': hr.skipped },
    s('title', {}, `${hourText(hr)}: ${hr.success} succeeded, ${hr.failed} failed, ${hr.cancelled} cancelled,`
      + ` ${hr.skipped} skipped`));
    let top = base;
    for (const [key, cls] of [['success', 'ok'], ['failed', 'bad'], ['cancelled', 'cancel']]) {
      if (!hr[key]) continue;
      const h1 = base - y(hr[key]);
      top -= h1;
      g.append(s('rect', { class: cls, x: x(i) + gap, y: top, width: w, height: h1 }));
    }
    if (hr.skipped) {
      g.append(s('rect', { class: 'skip', x: x(i) + gap + w, y: y(hr.skipped), width: Math.max(1, slot * 0.3),
        height: base - y(hr.skipped) }));
    }
    svg.append(g);
  });
  const total = key => hours.reduce((n, hr) => n + hr[key], 0);
  figure.replaceChildren(svg, h('figcaption', { class: 'muted' },
    `${total('success')} succeeded (blue), ${total('failed')} failed (red), ${total('cancelled')} cancelled,`
    + ` ${total('skipped')} skipped (grey, beside: nothing had changed)`));
}

function msText(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

/** The time the refreshes that ended in each hour took, together. */
function drawTime(figure, hours) {
  const max = Math.max(1, ...hours.map(hr => hr.refreshMs));
  const { svg, slot, y, x, base } = frame(figure, hours, max, msText(max), 'REFRESH time per hour');
  const w = Math.max(1, slot * 0.7);
  hours.forEach((hr, i) => {
    const g = s('g', { class: 'hour', 'data-hour': hr.hour, 'data-ms': hr.refreshMs },
      s('title', {}, `${hourText(hr)}: ${msText(hr.refreshMs)} refreshing`));
    if (hr.refreshMs) g.append(s('rect', { class: 'time', x: x(i) + slot * 0.15, y: y(hr.refreshMs), width: w,
      height: base - y(hr.refreshMs) }));
    svg.append(g);
  });
  figure.replaceChildren(svg, h('figcaption', { class: 'muted' },
    `${msText(hours.reduce((n, hr) => n + hr.refreshMs, 0))} in all: the durations of the runs that refreshed`));
}
