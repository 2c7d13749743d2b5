// One view: its facts, its runs with a chart of their durations, and its neighbours.

import { $, FAILED, RUN_STATUSES, act, api, current, h, isAdmin, isoSeconds, name, problemText, s, seconds, state, time } from './core.js';
import { drawGraph } from './graph.js';
import { actions, freshness, scheduleText, staleness, statusOf } from './views.js';

// ---- one view ---------------------------------------------------------------------------------

export async function viewPage(id, generation) {
  const r = await api('GET', `/api/admin/matviews/${encodeURIComponent(id)}`);
  if (!current(generation)) return;
  state.views.set(r.id, r);
  const facts = h('dl', { class: 'facts', id: 'facts' });
  const chart = h('figure', { class: 'chart', id: 'chart' });
  const runsBody = h('tbody');
  const older = h('button', { type: 'button', id: 'older', hidden: true }, 'Older runs');
  const statusFilter = h('select', { id: 'run-status' }, h('option', { value: '' }, 'all'),
    RUN_STATUSES.map(st => h('option', { value: st }, st)));
  const graph = h('div', { class: 'graph', id: 'graph' }, h('p', { class: 'muted' }, 'Loading…'));
  const buttons = h('div', { class: 'toolbar' });
  const renderFacts = reg => {
    facts.replaceChildren(...[
      ['Mode', reg.refreshMode], ['Status', h('span', { class: `badge ${statusOf(reg)}` }, statusOf(reg))],
      ['Last refresh', time(reg.lastRefreshAt)],
      ['Duration', reg.lastRefreshDurationMs == null ? '' : `${reg.lastRefreshDurationMs} ms`],
      ['Error', reg.lastRefreshError || ''], ['Last success', time(reg.lastSuccessAt)],
      ['Staleness', staleness(reg)], ['Schedule', scheduleText(reg)],
      ['Next run', reg.schedule && reg.schedule.enabled ? time(reg.schedule.nextRunAt) : ''],
      ['Skip unchanged', reg.skipUnchanged ? `on${reg.maxSkipAgeSeconds ? ` (refresh at least every ${seconds(reg.maxSkipAgeSeconds)})` : ''}` : 'off'],
      ['Freshness target', reg.targetLag ? (reg.targetLag === 'downstream' ? 'downstream (as fresh as its readers need)'
        : seconds(isoSeconds(reg.targetLag))) : 'none'],
      ['Data timestamp', time(reg.dataTimestamp)], ['Lag', freshness(reg)],
      ['Target missed', reg.targetMissedAt ? `${time(reg.targetMissedAt)}: ${reg.targetMissedReason}` : ''],
      ['Suspended', reg.suspended ? h('span', { class: 'stale', id: 'suspended' }, `since ${time(reg.suspendedAt)}: ${reg.suspendedReason}`)
        : (reg.consecutiveFailures ? `no (${reg.consecutiveFailures} scheduled failure(s) in a row)` : 'no')],
    ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    buttons.replaceChildren(...(isAdmin() ? actions(reg).filter(Boolean) : []));
  };
  $('#main').replaceChildren(h('section', { class: 'view' },
    h('p', {}, h('a', { href: '#/views' }, '← All views')),
    h('h1', {}, name(r)), facts, buttons,
    h('h2', {}, 'Refresh durations'), chart,
    h('h2', {}, 'Runs'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Status ', statusFilter)),
    h('table', { id: 'runs' }, h('thead', {}, h('tr', {}, ['Started', 'Trigger', 'Mode', 'Status', 'Duration', 'Error']
      .map(c => h('th', {}, c)))), runsBody),
    h('div', { class: 'pager' }, older),
    h('h2', {}, 'Dependency graph'), graph));
  renderFacts(r);

  let cursor = null;
  let asked = 0;
  let paged = false;
  const loadRuns = async append => {
    const mine = ++asked;
    const q = new URLSearchParams({ limit: '20' });
    if (statusFilter.value) q.set('status', statusFilter.value);
    if (append && cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/admin/matviews/${r.id}/runs?${q}`);
    // an answer overtaken by a newer request (another filter, a live update) is dropped
    if (mine !== asked || !current(generation)) return;
    paged = append;
    const rows = page.items.map(run => h('tr', { dataset: { run: run.id, status: run.status } },
      h('td', {}, time(run.startedAt)), h('td', {}, run.trigger), h('td', {}, run.refreshMode),
      h('td', {}, h('span', { class: `badge ${run.status}` }, run.status)),
      h('td', { class: 'num' }, run.durationMs == null ? '' : `${run.durationMs} ms`),
      h('td', { class: 'error' }, run.error || '')));
    if (append) runsBody.append(...rows); else runsBody.replaceChildren(...rows);
    if (!runsBody.rows.length) runsBody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No runs.')));
    cursor = page.nextCursor;
    older.hidden = !cursor;
  };
  const loadChart = async () => {
    const page = await api('GET', `/api/admin/matviews/${r.id}/runs?limit=200`);
    if (current(generation)) drawChart(chart, page.items);
  };
  statusFilter.addEventListener('change', () => act(() => loadRuns(false)));
  older.addEventListener('click', () => act(() => loadRuns(true)));
  let neighbourhood = null;
  state.page = {
    id: r.id,
    onRegistration: renderFacts,
    onRun: (event, run) => {
      if (neighbourhood) neighbourhood.onRun(event, run);
      if (run.registrationId !== r.id) return;
      if (event === 'run-started') {
        const reg = state.views.get(r.id);
        if (reg) renderFacts(reg);
      }
      // live runs go on top, unless the reader has paged back through older ones
      act(() => Promise.all([paged ? null : loadRuns(false), loadChart()]));
    },
  };
  await Promise.all([loadRuns(false), loadChart(),
    loadGraph(graph, r).then(drawn => { neighbourhood = drawn; })]);
}

/** Durations of finished runs over time; failures marked with a cross, skips as grey dots at 0. */
function drawChart(figure, runs) {
  const points = runs.filter(run => run.status !== 'running').map(run => ({
    t: new Date(run.startedAt).getTime(), ms: run.durationMs == null ? 0 : run.durationMs, run,
  })).sort((a, b) => a.t - b.t);
  if (!points.length) {
    figure.replaceChildren(h('p', { class: 'muted' }, 'No finished runs yet.'));
    return;
  }
  // drawn at the figure's width, in CSS pixels: labels keep their size whatever the screen
  const W = Math.max(400, figure.clientWidth - 16), H = 220, L = 64, R = 12, T = 12, B = 28;
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const max = Math.max(1, ...points.map(p => p.ms));
  const x = t => L + (W - L - R) * (t - t0) / (t1 - t0);
  const y = ms => H - B - (H - T - B) * ms / max;
  const ok = points.filter(p => p.run.status === 'success');
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'Refresh durations over time' },
    s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    s('text', { class: 'label', x: L - 6, y: T + 4, 'text-anchor': 'end' }, `${max} ms`),
    s('text', { class: 'label', x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'),
    s('text', { class: 'label', x: L, y: H - 8 }, time(new Date(t0).toISOString())),
    s('text', { class: 'label', x: W - R, y: H - 8, 'text-anchor': 'end' }, time(new Date(t1).toISOString())));
  if (ok.length > 1) {
    svg.append(s('polyline', { class: 'line', points: ok.map(p => `${x(p.t).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ') }));
  }
  for (const p of points) {
    const label = s('title', {}, `${time(p.run.startedAt)}: ${p.run.status}${p.run.durationMs == null ? '' : `, ${p.run.durationMs} ms`}`
      + (p.run.error ? ` – ${p.run.error}` : ''));
    const cx = x(p.t), cy = y(p.ms);
    if (FAILED.has(p.run.status)) {
      svg.append(s('g', { class: 'fail', 'data-status': p.run.status },
        s('line', { x1: cx - 4, y1: cy - 4, x2: cx + 4, y2: cy + 4 }),
        s('line', { x1: cx - 4, y1: cy + 4, x2: cx + 4, y2: cy - 4 }), label));
    } else {
      svg.append(s('circle', { class: p.run.status === 'success' ? 'ok' : 'skip', cx, cy, r: 3, 'data-status': p.run.status },
        label));
    }
  }
  const failures = points.filter(p => FAILED.has(p.run.status)).length;
  figure.replaceChildren(svg, h('figcaption', { class: 'muted' },
    `${points.length} finished runs, ${failures} failed (×), skipped ones at 0 (grey).`));
}

/** Everything upstream and downstream of the view, drawn, then listed. */
async function loadGraph(box, r) {
  let graph, list;
  try {
    [graph, list] = await Promise.all([api('GET', `/api/admin/matviews/${r.id}/graph?layout=true`), api('GET', '/api/admin/matviews')]);
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error' }, `The graph could not be loaded: ${problemText(e)}`));
    return null;
  }
  const self = graph.nodes.find(n => n.registrationId === r.id);
  if (!self) {
    box.replaceChildren(h('p', { class: 'muted' }, 'Not in the graph.'));
    return null;
  }
  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const walk = (start, next) => {
    const seen = new Set();
    const todo = [start];
    while (todo.length) {
      const id = todo.pop();
      for (const e of graph.edges) {
        const other = next(e, id);
        if (other && !seen.has(other)) { seen.add(other); todo.push(other); }
      }
    }
    return [...seen].map(id => byId.get(id)).filter(Boolean);
  };
  const up = walk(self.id, (e, id) => (e.to === id ? e.from : null));
  const down = walk(self.id, (e, id) => (e.from === id ? e.to : null));
  const item = n => h('li', {}, n.registrationId ? h('a', { href: `#/views/${n.registrationId}` }, n.id) : n.id,
    h('span', { class: 'muted' }, ` (${n.kind}${n.registrationId ? ', registered' : ''})`));
  const canvas = h('div', { class: 'graph-box', id: 'neighbourhood' });
  box.replaceChildren(canvas,
    h('h3', {}, 'Reads (upstream)'), up.length ? h('ul', { id: 'upstream' }, up.map(item)) : h('p', { class: 'muted' }, 'Nothing.'),
    h('h3', {}, 'Read by (downstream)'), down.length ? h('ul', { id: 'downstream' }, down.map(item)) : h('p', { class: 'muted' }, 'Nothing.'));
  try {
    return drawGraph(canvas, graph, new Map(list.items.map(x => [x.id, x])), self.id);
  } catch (e) {
    canvas.replaceChildren(h('p', { class: 'error' }, `The graph could not be drawn: ${problemText(e)}`));
    return null;
  }
}
