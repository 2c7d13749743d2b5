// The dependency graph drawn: the service lays it out (ELK Layered, ?layout=true: what is read left of
// what reads it) and this module draws it as SVG. Registered nodes are colored by their state (as
// the overview counts it) and lag; running refreshes and the cascades they belong to are highlighted
// live; a click on a registered node opens it.

import { $, act, api, current, h, isoSeconds, lagText, s, seconds, state, viewState } from './core.js';

const KIND_CLASS = {
  'materialized view': 'matview', 'incremental view': 'incremental', view: 'view', table: 'table',
  'partitioned table': 'table', 'foreign table': 'table',
};
const STATE_TEXT = {
  fresh: 'fresh', 'behind-target': 'behind target', failing: 'failing', suspended: 'suspended',
  'never-refreshed': 'never refreshed',
};

/** What a registered node says under its name: its state, and its lag against its target. */
function detail(r) {
  const st = viewState(r);
  if (r.currentRunId) return 'refreshing';
  const lag = r.lagSeconds == null ? null : lagText(r.lagSeconds);
  const target = r.targetLag && r.targetLag !== 'downstream' ? seconds(isoSeconds(r.targetLag)) : null;
  if (lag && target) return `${STATE_TEXT[st]} · lag ${lag} / ${target}`;
  if (lag && st === 'fresh') return `fresh · lag ${lag}`;
  return STATE_TEXT[st];
}

/**
 * Draws {@code graph} into {@code box}, registered nodes colored from {@code registrations} (by
 * id). Answers a handle to recolor it and follow runs live.
 */
export function drawGraph(box, graph, registrations, focus) {
  const t0 = performance.now();
  const at = new Map(graph.layout.nodes.map(b => [b.id, b]));
  const nodes = graph.nodes.map(n => ({ ...n, box: at.get(n.id) })).filter(n => n.box);
  const { width, height } = graph.layout;
  const PAD = 12;
  const svg = s('svg', { class: 'graph-canvas', role: 'img', 'aria-label': 'Dependency graph',
    viewBox: `${-PAD} ${-PAD} ${width + 2 * PAD} ${height + 2 * PAD}`, preserveAspectRatio: 'xMinYMin meet' },
  s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }))));
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  svg.append(edgeLayer, nodeLayer);
  const edgeEls = [];
  for (const e of graph.layout.edges) {
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    const path = s('path', { class: 'edge', d, 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to });
    edgeLayer.append(path);
    edgeEls.push({ e, path });
  }
  const byRegistration = new Map();
  const byNode = new Map(nodes.map(n => [n.id, n]));
  for (const n of nodes) {
    const b = n.box;
    const r = n.registrationId ? registrations.get(n.registrationId) : null;
    const g = s('g', { class: `node ${KIND_CLASS[n.kind] || 'table'}${r ? ' registered' : ''}${n.id === focus ? ' focus' : ''}`,
      transform: `translate(${b.x.toFixed(1)} ${b.y.toFixed(1)})`, 'data-id': n.id, 'data-kind': n.kind },
    s('title', {}, `${n.id} (${n.kind}${n.registrationId ? ', registered' : ''})`),
    s('rect', { width: b.width, height: b.height, rx: n.kind === 'incremental view' ? 10 : n.kind === 'view' ? 12 : 3 }),
    s('text', { x: 8, y: r ? 15 : 16, class: 'name' }, b.label));
    if (r) {
      const info = s('text', { x: 8, y: 31, class: 'detail' }, '');
      g.append(info);
      g.setAttribute('data-registration', n.registrationId);
      g.setAttribute('tabindex', '0');
      const open = () => { location.hash = `#/views/${n.registrationId}`; };
      g.addEventListener('click', open);
      g.addEventListener('keydown', ev => { if (ev.key === 'Enter') open(); });
      byRegistration.set(n.registrationId, { g, info, n, title: g.firstChild });
    }
    nodeLayer.append(g);
  }
  const paint = r => {
    const el = byRegistration.get(r.id);
    if (!el) return;
    const st = viewState(r);
    el.g.setAttribute('data-state', st);
    el.g.classList.toggle('running', Boolean(r.currentRunId));
    el.info.textContent = detail(r);
    el.title.textContent = `${el.n.id} (${el.n.kind}, registered): ${detail(r)}`;
  };
  for (const r of registrations.values()) paint(r);
  box.replaceChildren(svg);
  enablePanAndZoom(svg, width + 2 * PAD, height + 2 * PAD);
  const timings = { drawMs: Math.round(performance.now() - t0) };

  // cascades: the nodes a running cascade refreshed or refreshes, and the edges between them
  const cascades = new Map();
  const markCascades = () => {
    const lit = new Set();
    for (const c of cascades.values()) for (const id of c.nodes) lit.add(id);
    for (const { e, path } of edgeEls) {
      const from = byNode.get(e.from), to = byNode.get(e.to);
      const on = from && to && [...cascades.values()].some(c => c.nodes.has(e.from) && c.nodes.has(e.to));
      path.classList.toggle('cascade', Boolean(on));
    }
    for (const { g, n } of byRegistration.values()) g.classList.toggle('cascade', lit.has(n.id));
  };
  return {
    timings,
    paint,
    onRun(event, run) {
      const el = byRegistration.get(run.registrationId);
      if (!el) return;
      el.g.classList.toggle('running', event === 'run-started');
      if (run.cascadeId) {
        const c = cascades.get(run.cascadeId) || { nodes: new Set(), timer: null };
        cascades.set(run.cascadeId, c);
        c.nodes.add(el.n.id);
        clearTimeout(c.timer);
        // a cascade is lit while its runs follow one another; it goes dark 3 s after its last one ends
        if (event === 'run-finished') c.timer = setTimeout(() => { cascades.delete(run.cascadeId); markCascades(); }, 3000);
        markCascades();
      }
    },
    find(text) {
      const term = text.trim().toLowerCase();
      let first = null;
      for (const g of nodeLayer.children) {
        const id = g.dataset.id.toLowerCase();
        const hit = Boolean(term) && id.includes(term);
        g.classList.toggle('match', hit);
        // the relation named exactly comes first, else the first whose name holds the text
        if (hit && (!first || (id === term && first.dataset.id.toLowerCase() !== term))) first = g;
      }
      return first;
    },
    svg,
  };
}

/**
 * The picture's viewBox moves: the wheel scrolls (with Ctrl, or a pinch, it zooms around the
 * pointer), dragging pans, a double click fits it all. It opens fitted when that stays readable,
 * else at full size from its top left corner.
 */
function enablePanAndZoom(svg, fullWidth, fullHeight) {
  const box = () => svg.viewBox.baseVal;
  const scale = () => {
    const b = box();
    const rect = svg.getBoundingClientRect();
    return Math.min(rect.width / b.width, rect.height / b.height) || 1;
  };
  // the whole picture, never drawn larger than its own size
  const fit = () => {
    const b = box();
    const r = svg.getBoundingClientRect();
    b.x = -12; b.y = -12; b.width = Math.max(fullWidth, r.width || 0); b.height = Math.max(fullHeight, r.height || 0);
  };
  const rect = svg.getBoundingClientRect();
  if (rect.width && Math.min(rect.width / fullWidth, rect.height / fullHeight) < 0.5) {
    const b = box();
    b.x = -12; b.y = -12; b.width = rect.width; b.height = rect.height;
  } else {
    fit();
  }
  svg.addEventListener('wheel', ev => {
    ev.preventDefault();
    const b = box();
    const k = scale();
    if (!ev.ctrlKey && !ev.metaKey) {
      b.x += (ev.shiftKey ? ev.deltaY : ev.deltaX) / k;
      b.y += (ev.shiftKey ? 0 : ev.deltaY) / k;
      return;
    }
    const r = svg.getBoundingClientRect();
    const px = b.x + (ev.clientX - r.left) / k, py = b.y + (ev.clientY - r.top) / k;
    const w = Math.min(fullWidth * 2, Math.max(120, b.width * (ev.deltaY > 0 ? 1.2 : 1 / 1.2)));
    const f = w / b.width;
    b.x = px - (px - b.x) * f; b.y = py - (py - b.y) * f;
    b.width = w; b.height *= f;
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', ev => {
    if (ev.target.closest('.node.registered')) return;
    drag = { x: ev.clientX, y: ev.clientY };
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener('pointermove', ev => {
    if (!drag) return;
    const b = box();
    const k = scale();
    b.x -= (ev.clientX - drag.x) / k; b.y -= (ev.clientY - drag.y) / k;
    drag = { x: ev.clientX, y: ev.clientY };
  });
  svg.addEventListener('pointerup', () => { drag = null; });
  svg.addEventListener('dblclick', fit);
  svg.fit = fit;
  /** Shows {@code g} (a node) in the middle, at full size. */
  svg.show = g => {
    const t = g.transform.baseVal.consolidate().matrix;
    const b = box();
    const r = svg.getBoundingClientRect();
    b.width = r.width || b.width; b.height = r.height || b.height;
    b.x = t.e - b.width / 2; b.y = t.f - b.height / 2;
  };
}

/** The page of the whole graph: every relation a materialized or incremental view reads, drawn. */
export async function graphPage(generation) {
  const canvas = h('div', { class: 'graph-box', id: 'graph-box' }, h('p', { class: 'muted' }, 'Loading…'));
  const summary = h('span', { class: 'muted', id: 'graph-summary' });
  const search = h('input', { type: 'search', id: 'graph-find', placeholder: 'Find a relation' });
  $('#main').replaceChildren(h('section', { class: 'graph-page' },
    h('div', { class: 'toolbar' }, h('h1', {}, 'Dependency graph'), summary, search,
      h('button', { type: 'button', id: 'graph-fit', onclick: () => canvas.firstChild && canvas.firstChild.fit
        && canvas.firstChild.fit() }, 'Fit')),
    legend(), canvas));
  const started = performance.now();
  const [graph, list] = await Promise.all([api('GET', '/api/admin/graph?layout=true'), api('GET', '/api/admin/matviews')]);
  if (!current(generation)) return;
  const loaded = performance.now();
  const registrations = new Map(list.items.map(r => [r.id, r]));
  const drawn = drawGraph(canvas, graph, registrations, null);
  if (!current(generation)) return;
  const took = Math.round(performance.now() - started);
  summary.textContent = `${graph.nodes.length} relations, ${graph.edges.length} edges,`
    + ` ${graph.nodes.filter(n => n.registrationId).length} registered (shown in ${took} ms)`;
  // where the time went, for whoever wonders (and bench/console)
  summary.title = `graph (laid out by the service) and registrations read in ${Math.round(loaded - started)} ms,`
    + ` drawn in ${drawn.timings.drawMs} ms`;
  search.addEventListener('input', () => {
    const first = drawn.find(search.value);
    if (first) drawn.svg.show(first);
  });
  let reload = null;
  state.page = {
    onRun(event, run) {
      drawn.onRun(event, run);
      const r = registrations.get(run.registrationId);
      if (r) {
        r.currentRunId = event === 'run-started' ? run.id : null;
        drawn.paint(r);
      }
      // the state a finished run leaves (lag, failures, suspension) is read again, for many runs at once
      if (event === 'run-finished' && !reload) {
        reload = setTimeout(() => act(async () => {
          reload = null;
          const fresh = await api('GET', '/api/admin/matviews');
          if (!current(generation)) return;
          for (const r2 of fresh.items) {
            const now = registrations.get(r2.id);
            if (now && now.currentRunId && !r2.currentRunId) r2.currentRunId = now.currentRunId;
            registrations.set(r2.id, r2);
            drawn.paint(r2);
          }
        }), 500);
      }
    },
    onAlert() {},
  };
  // what bench/console measures: from opening the page to the graph drawn
  performance.mark('matviews:graph-shown', { detail: graph.nodes.length });
}

function legend() {
  const item = (cls, text) => h('span', { class: 'item' }, h('span', { class: `swatch ${cls}` }), text);
  return h('p', { class: 'legend', id: 'graph-legend' },
    item('table', 'table'), item('view', 'plain view'), item('matview', 'materialized view'),
    item('incremental', 'incremental view'), ' registered: ', item('fresh', 'fresh'),
    item('behind-target', 'behind target'), item('failing', 'failing'), item('suspended', 'suspended'),
    item('never-refreshed', 'never refreshed'), item('running', 'refreshing'), item('cascade', 'in a running cascade'),
    h('span', { class: 'muted' }, ' · the wheel scrolls, Ctrl+wheel zooms, drag to move, double click to fit all, click a registered view to open it'));
}
