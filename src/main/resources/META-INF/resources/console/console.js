// The matviews console: a client of the admin REST API, as the CLI is. No framework and no build
// step; every text from the API goes into the page through textContent, never as HTML.

const TOKEN = 'matviews.token';
const RUN_STATUSES = ['success', 'error', 'skipped', 'cancelled', 'timeout', 'abandoned', 'running'];
const FAILED = new Set(['error', 'timeout', 'cancelled', 'abandoned']);
// generation: bumped at every navigation, so that an answer for a page left meanwhile is dropped
const state = { session: null, views: new Map(), stream: null, lastEventId: null, page: null, generation: 0 };

const $ = (selector, root = document) => root.querySelector(selector);

/** A problem+json answer (or a network failure), shown as its title and detail. */
class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.title = body.title || `HTTP ${status}`;
    this.detail = body.detail || '';
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Problem(0, { title: 'Cannot reach the service', detail: String(e.message || e) });
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    throw new Problem(res.status, data && typeof data === 'object' ? data
      : { title: `${res.status} ${res.statusText}`, detail: text.slice(0, 300) });
  }
  return data;
}

/** A refused token leads back to sign-in, wherever it was met; true if that is what e was. */
function tokenRefused(e) {
  if (!(e instanceof Problem && e.status === 401 && state.session)) return false;
  signIn('Your session has ended or its token was refused: sign in again.');
  return true;
}

/** Runs an action; a refusal is shown, a refused token leads back to sign-in. */
async function act(fn) {
  try {
    return await fn();
  } catch (e) {
    if (!tokenRefused(e)) showProblem(e);
    return undefined;
  }
}

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

function showProblem(e) {
  const box = $('#problem');
  const title = e instanceof Problem ? e.title : 'Unexpected error';
  const detail = e instanceof Problem ? e.detail : String(e && e.message || e);
  box.replaceChildren(h('strong', { class: 'title' }, title), detail && h('span', { class: 'detail' }, detail),
    h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => { box.hidden = true; } }, '×'));
  box.hidden = false;
}

let noticeTimer;
function notice(text) {
  const box = $('#notice');
  box.replaceChildren(h('span', {}, text));
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

function clearBanners() {
  $('#problem').hidden = true;
  $('#notice').hidden = true;
}

const isAdmin = () => state.session && state.session.role === 'admin';
const name = r => `${r.schemaName}.${r.viewName}`;
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function seconds(n) {
  if (n % 86400 === 0) return `${n / 86400} d`;
  if (n % 3600 === 0) return `${n / 3600} h`;
  if (n % 60 === 0) return `${n / 60} min`;
  return `${n} s`;
}

// ---- sign-in -------------------------------------------------------------------------------

async function boot() {
  window.addEventListener('hashchange', route);
  window.addEventListener('unhandledrejection', e => showProblem(e.reason));
  // A page kept in the back/forward cache would keep its stream, one of the browser's six
  // connections to the service: close it on leaving, open it again on coming back.
  window.addEventListener('pagehide', stopStream);
  window.addEventListener('pageshow', e => { if (e.persisted && state.session) startStream(); });
  $('#signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN);
    signIn('Signed out.');
  });
  await start();
}

async function start() {
  try {
    state.session = await api('GET', '/api/admin/auth/session');
  } catch (e) {
    if (e instanceof Problem && e.status === 401) {
      signIn(sessionStorage.getItem(TOKEN) ? 'Your session has ended: sign in again.' : null);
    } else {
      showProblem(e);
      $('#main').replaceChildren(h('p', {}, 'The service could not be asked who you are. ',
        h('button', { type: 'button', id: 'retry', onclick: () => { clearBanners(); start(); } }, 'Try again')));
    }
    return;
  }
  $('#nav').hidden = false;
  $('#who').textContent = state.session.authRequired ? `signed in as ${state.session.role}` : `open access (${state.session.role})`;
  $('#signout').hidden = !state.session.authRequired;
  startStream();
  route();
}

function signIn(message) {
  state.session = null;
  state.generation++;
  state.page = null;
  state.views = new Map();
  state.lastEventId = null;
  for (const d of document.querySelectorAll('dialog')) d.remove();
  stopStream();
  sessionStorage.removeItem(TOKEN);
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#live').hidden = true;
  $('#who').textContent = '';
  clearBanners();
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' }, message || '');
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const token = h('textarea', { id: 'token', rows: 4, spellcheck: 'false', autocomplete: 'off' });
  async function signedIn(fn) {
    error.textContent = '';
    try {
      await fn();
      await start();
    } catch (e) {
      sessionStorage.removeItem(TOKEN);
      error.textContent = e instanceof Problem ? [e.title, e.detail].filter(Boolean).join(': ') : String(e);
    }
  }
  $('#main').replaceChildren(h('section', { class: 'signin' },
    h('h1', {}, 'Sign in to matviews'),
    h('form', { id: 'signin-form', onsubmit: e => {
      e.preventDefault();
      signedIn(async () => {
        const answer = await api('POST', '/api/admin/auth', { password: password.value });
        password.value = '';
        sessionStorage.setItem(TOKEN, answer.token);
      });
    } },
    h('label', { for: 'password' }, 'Password (admin or viewer)'), password,
    h('button', { type: 'submit', class: 'primary', id: 'signin' }, 'Sign in')),
    h('details', {}, h('summary', {}, 'Use a token from your identity provider'),
      h('form', { id: 'token-form', onsubmit: e => {
        e.preventDefault();
        signedIn(async () => {
          sessionStorage.setItem(TOKEN, token.value.trim());
          token.value = '';
          await api('GET', '/api/admin/auth/session');
        });
      } }, h('label', { for: 'token' }, 'Bearer token'), token, h('button', { type: 'submit' }, 'Use token'))),
    error));
  password.focus();
}

// ---- live events -----------------------------------------------------------------------------

function stopStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

/** The event stream over fetch (an EventSource cannot send the token), resuming with Last-Event-ID. */
function startStream() {
  stopStream();
  const ctrl = new AbortController();
  state.stream = ctrl;
  (async () => {
    let backoff = 1000;
    while (!ctrl.signal.aborted) {
      try {
        const headers = { Accept: 'text/event-stream' };
        const token = sessionStorage.getItem(TOKEN);
        if (token) headers.Authorization = `Bearer ${token}`;
        if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
        const res = await fetch('/api/admin/matviews/events', { headers, signal: ctrl.signal });
        if (res.status === 401) {
          signIn('Your session has ended: sign in again.');
          return;
        }
        if (!res.ok) throw new Error(`event stream: HTTP ${res.status}`);
        $('#live').hidden = false;
        backoff = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          // a CR at the end of a chunk may be the first half of a CRLF: keep it for the next one
          buffer += value;
          const held = buffer.endsWith('\r') ? '\r' : '';
          buffer = (held ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            dispatch(block);
          }
          buffer += held;
        }
      } catch (e) {
        if (ctrl.signal.aborted) return;
      }
      $('#live').hidden = true;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 15000);
    }
  })();
}

function dispatch(block) {
  let event = 'message';
  let id = null;
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  try {
    if (event === 'resync') {
      route();
    } else if (data.length && (event === 'run-started' || event === 'run-finished')) {
      onRun(event, JSON.parse(data.join('\n')));
    } else if (data.length && event === 'alert') {
      onAlert(JSON.parse(data.join('\n')));
    }
  } catch (e) {
    console.warn('matviews: ignored an event it could not read', e);
  }
  if (id) state.lastEventId = id;
}

function onRun(event, run) {
  if (event === 'run-finished' && followed.has(run.id)) followed.get(run.id)(run);
  const r = state.views.get(run.registrationId);
  if (r) {
    if (event === 'run-started') {
      r.currentRunId = run.id;
      renderRow(r);
    } else {
      r.currentRunId = null;
      renderRow(r);
      finished.add(run.registrationId);
      if (!finishedTimer) finishedTimer = setTimeout(reloadFinished, 150);
    }
  }
  if (state.page && state.page.onRun) state.page.onRun(event, run);
}

/** A suspension, a missed target or a recovery changed a registration: read it again with the others. */
function onAlert(alert) {
  if (!state.views.has(alert.registrationId)) return;
  finished.add(alert.registrationId);
  if (!finishedTimer) finishedTimer = setTimeout(reloadFinished, 150);
  if (alert.event === 'suspended' || alert.event === 'target-missed') {
    const r = state.views.get(alert.registrationId);
    notice(`${name(r)}: ${alert.event}${alert.detail && alert.detail.reason ? ` – ${alert.detail.reason}` : ''}`);
  }
}

// Registrations whose run ended, read again together: a burst of refreshes costs one list
// request, not one per run.
const finished = new Set();
let finishedTimer = null;

async function reloadFinished() {
  finishedTimer = null;
  const ids = [...finished];
  finished.clear();
  const answers = ids.length > 20
    ? (await api('GET', '/api/admin/matviews').catch(() => ({ items: [] }))).items.filter(r => ids.includes(r.id))
    : await Promise.all(ids.map(id => api('GET', `/api/admin/matviews/${id}`).catch(() => null)));
  for (const fresh of answers) {
    const now = fresh && state.views.get(fresh.id);
    if (!now) continue;
    // a run that started while this answer was on its way is newer than the answer
    if (now.currentRunId && !fresh.currentRunId) fresh.currentRunId = now.currentRunId;
    upsert(fresh);
  }
}

// ---- pages -----------------------------------------------------------------------------------

function route() {
  if (!state.session) return;
  clearBanners();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [, section, id] = hash.split('/');
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.dataset.nav === (section === 'views' || !section ? 'views' : section));
  }
  state.page = null;
  const generation = ++state.generation;
  const page = section === 'views' && id ? () => viewPage(decodeURIComponent(id), generation)
    : section === 'schedules' ? () => schedulesPage(generation)
      : section === 'jobs' ? () => jobsPage(generation) : () => viewsPage(generation);
  return show(page, generation);
}

const current = generation => state.session && generation === state.generation;

/** Renders a page; one that cannot be loaded says so in place, with a way to try again. */
async function show(page, generation) {
  try {
    await page();
  } catch (e) {
    if (tokenRefused(e)) return;
    showProblem(e);
    if (current(generation)) {
      state.page = null;
      $('#main').replaceChildren(h('section', { class: 'failed' },
        h('p', {}, `This page could not be loaded: ${problemText(e)}`),
        h('p', {}, h('button', { type: 'button', onclick: () => route() }, 'Try again'), ' ', h('a', { href: '#/' }, 'All views'))));
    }
  }
}

const VIEW_COLUMNS = ['Schema', 'View', 'Mode', 'Status', 'Last refresh', 'Duration', 'Error', 'Staleness', 'Freshness',
  'Schedule', 'Next run'];

async function viewsPage(generation) {
  const body = h('tbody');
  const count = h('span', { id: 'count', class: 'muted' });
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter by schema or view', oninput: () => applyFilter() });
  $('#main').replaceChildren(h('section', { class: 'views' },
    h('div', { class: 'toolbar' }, h('h1', {}, 'Materialized views'), count,
      isAdmin() && h('button', { type: 'button', id: 'register', class: 'primary', onclick: () => act(openRegister) },
        'Register a view…'),
      filter),
    h('table', { id: 'views' }, h('thead', {}, h('tr', {}, VIEW_COLUMNS.map(c => h('th', {}, c)),
      isAdmin() && h('th', {}, 'Actions'))), body)));
  state.page = { body, count, filter };
  const list = await api('GET', '/api/admin/matviews');
  if (!current(generation)) return;
  state.views = new Map(list.items.map(r => [r.id, r]));
  const rows = document.createDocumentFragment();
  for (const r of state.views.values()) rows.append(viewRow(r));
  body.replaceChildren(rows);
  applyFilter();
  // what bench/console measures: from opening the page to the whole list shown
  performance.mark('matviews:list-shown', { detail: state.views.size });
}

function applyFilter() {
  const page = state.page;
  if (!page || !page.filter) return;
  const term = page.filter.value.trim().toLowerCase();
  let shown = 0;
  for (const tr of page.body.rows) {
    const r = state.views.get(tr.dataset.id);
    const visible = !term || (r && name(r).toLowerCase().includes(term));
    tr.hidden = !visible;
    if (visible) shown++;
  }
  page.count.textContent = term ? `${shown} of ${state.views.size}` : `${state.views.size} registered`;
}

function statusOf(r) {
  return r.currentRunId ? 'running' : (r.lastRefreshStatus || 'never');
}

function staleness(r) {
  if (r.maxStalenessSeconds == null) return '';
  return h('span', { class: r.stale ? 'stale' : '' }, `${r.stale ? 'stale' : 'fresh'} (max ${seconds(r.maxStalenessSeconds)})`);
}

/** An ISO-8601 duration of whole seconds (PT1H30M, PT48H) in seconds; null for anything else. */
function isoSeconds(text) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text || '');
  return m ? (Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0)) : null;
}

function lagText(s) {
  if (s < 90) return `${Math.max(0, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The lag against the target: behind when over it. */
function freshness(r) {
  const lag = r.lagSeconds == null ? 'never refreshed' : `lag ${lagText(r.lagSeconds)}`;
  if (!r.targetLag) return r.lagSeconds == null ? '' : lag;
  if (r.targetLag === 'downstream') return `${lag} (downstream)`;
  const target = isoSeconds(r.targetLag);
  const behind = r.lagSeconds != null && target != null && r.lagSeconds > target;
  return h('span', { class: behind ? 'behind' : 'on-target', dataset: { behind: String(behind) } },
    `${lag} of ${seconds(target)}${behind ? ' – behind' : ''}`);
}

function scheduleText(r) {
  if (!r.schedule) return '';
  return r.schedule.cronExpr + (r.schedule.timezone && r.schedule.timezone !== 'UTC' ? ` (${r.schedule.timezone})` : '')
    + (r.schedule.enabled ? '' : ' – disabled');
}

function viewRow(r) {
  const status = statusOf(r);
  return h('tr', { dataset: { id: r.id, status } },
    h('td', {}, r.schemaName),
    h('td', { class: 'name' }, h('a', { href: `#/views/${r.id}` }, r.viewName)),
    h('td', {}, r.refreshMode),
    h('td', { class: 'status' }, h('span', { class: `badge ${status}` }, status),
      r.suspended && h('span', { class: 'badge suspended', title: r.suspendedReason || '' }, 'suspended')),
    h('td', {}, time(r.lastRefreshAt)),
    h('td', { class: 'num' }, r.lastRefreshDurationMs == null ? '' : `${r.lastRefreshDurationMs} ms`),
    h('td', { class: 'error' }, r.lastRefreshError || ''),
    h('td', {}, staleness(r)),
    h('td', { class: 'freshness' }, freshness(r)),
    h('td', {}, scheduleText(r)),
    h('td', {}, r.schedule && r.schedule.enabled ? time(r.schedule.nextRunAt) : ''),
    isAdmin() && h('td', { class: 'actions' }, actions(r)));
}

function actions(r) {
  return [
    h('button', { type: 'button', dataset: { action: 'refresh' }, title: 'Refresh now and follow it to its end',
      onclick: () => refresh(r.id, false) }, 'Refresh'),
    h('button', { type: 'button', dataset: { action: 'refresh-async' }, title: 'Start a refresh and follow it live',
      onclick: () => refresh(r.id, true) }, 'Async'),
    r.currentRunId && h('button', { type: 'button', dataset: { action: 'cancel' }, class: 'danger',
      onclick: () => cancel(r.id) }, 'Cancel'),
    r.suspended && h('button', { type: 'button', dataset: { action: 'resume' }, class: 'primary',
      title: 'Run scheduled and target-driven refreshes again, for it and the views suspended because of it',
      onclick: () => act(() => resume(r.id)) }, 'Resume'),
    h('button', { type: 'button', dataset: { action: 'edit' }, onclick: () => act(() => openEdit(r.id)) }, 'Edit'),
    h('button', { type: 'button', dataset: { action: 'unregister' }, class: 'danger',
      onclick: () => confirmUnregister(r.id) }, 'Unregister'),
  ];
}

async function resume(id) {
  const r = await api('POST', `/api/admin/matviews/${encodeURIComponent(id)}/resume`);
  upsert(r);
  // the views suspended because of it are resumed too
  const list = await api('GET', '/api/admin/matviews');
  for (const other of list.items) if (state.views.has(other.id)) upsert(other);
  notice(`Resumed ${name(r)}.`);
}

function renderRow(r) {
  const page = state.page;
  if (page && page.body) {
    const old = page.body.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`);
    const row = viewRow(r);
    if (old) {
      row.hidden = old.hidden;
      old.replaceWith(row);
    } else {
      page.body.append(row);
      applyFilter();
    }
  }
  if (page && page.onRegistration && page.id === r.id) page.onRegistration(r);
}

function upsert(r) {
  state.views.set(r.id, r);
  renderRow(r);
}

async function refresh(id, background) {
  const r = state.views.get(id);
  await act(async () => {
    // Always started asynchronously (202 once the run started), then followed: no request stays
    // open for the length of a REFRESH, so no proxy's idle timeout can cut (and so cancel) it.
    const run = await api('POST', `/api/admin/matviews/${id}/refresh?async=true`);
    if (background) {
      notice(`Started a refresh of ${name(r)} (run ${run.id}).`);
      return;
    }
    let ended;
    try {
      ended = await runEnded(run);
    } finally {
      const fresh = await api('GET', `/api/admin/matviews/${id}`).catch(() => null);
      if (fresh) upsert(fresh);
    }
    if (ended.status === 'success') {
      notice(`Refreshed ${name(r)} in ${ended.durationMs} ms.`);
    } else if (ended.status === 'skipped') {
      notice(`Skipped the refresh of ${name(r)}: ${(ended.error || '').replace(/^skipped: /, '')}`);
    } else {
      throw new Problem(0, { title: `Refresh ${ended.status === 'error' ? 'failed' : ended.status}`,
        detail: `${name(r)}: ${ended.error || ended.status}` });
    }
  });
}

/** Runs followed to their end: by run id, what to call with the finished run. */
const followed = new Map();

/**
 * The run once it ended: told by the event stream, or found by asking every few seconds (the
 * stream may be reconnecting), whichever comes first.
 */
function runEnded(run) {
  if (run.status !== 'running') return Promise.resolve(run);
  return new Promise((resolve, reject) => {
    let timer = null;
    const done = ended => {
      followed.delete(run.id);
      clearTimeout(timer);
      resolve(ended);
    };
    const ask = async () => {
      try {
        const now = await api('GET', `/api/admin/matview-runs/${run.id}`);
        if (now.status !== 'running') return done(now);
      } catch (e) {
        if (e instanceof Problem && e.status === 401) {
          followed.delete(run.id);
          return reject(e);
        }
      }
      if (followed.has(run.id)) timer = setTimeout(ask, 3000);
    };
    followed.set(run.id, done);
    timer = setTimeout(ask, 3000);
  });
}

async function cancel(id) {
  const r = state.views.get(id);
  if (!r || !r.currentRunId) return;
  await act(async () => {
    await api('POST', `/api/admin/matview-runs/${r.currentRunId}/cancel`);
    notice(`Cancellation of the refresh of ${name(r)} requested.`);
  });
}

function dialog(id, ...content) {
  const old = document.getElementById(id);
  if (old) old.remove();
  const d = h('dialog', { id }, ...content);
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

/** A refusal inside a dialog: shown there, except a refused token, which leads back to sign-in. */
function dialogError(element, e) {
  if (!tokenRefused(e)) element.textContent = problemText(e);
}

function problemText(e) {
  return e instanceof Problem ? [e.title, e.detail].filter(Boolean).join(': ') : String(e && e.message || e);
}

function confirmUnregister(id) {
  const r = state.views.get(id);
  const error = h('p', { class: 'error', role: 'alert' });
  const d = dialog('confirm',
    h('form', { onsubmit: async e => {
      e.preventDefault();
      try {
        const answer = await api('DELETE', `/api/admin/matviews/${id}`);
        state.views.delete(id);
        const row = state.page && state.page.body && state.page.body.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
        if (row) row.remove();
        applyFilter();
        d.close();
        const removed = answer && answer.removedSchedules && answer.removedSchedules.length;
        notice(`Unregistered ${name(r)}${removed ? ` and deleted its ${removed} schedule(s)` : ''}.`);
        if (state.page && state.page.id === id) location.hash = '#/';
      } catch (err) {
        dialogError(error, err);
      }
    } },
    h('h2', {}, `Unregister ${name(r)}?`),
    h('p', {}, 'The materialized view itself stays in the database; its registration, schedules and change tracking go.'),
    error,
    h('menu', {}, h('button', { type: 'button', onclick: () => d.close() }, 'Keep it'),
      h('button', { type: 'submit', class: 'primary danger', id: 'confirm-unregister' }, 'Unregister'))));
}

// ---- edit -------------------------------------------------------------------------------------

function numberField(label, field, value, min) {
  return h('label', {}, label, h('input', { name: field, type: 'number', min, step: 1, value: value == null ? '' : String(value) }));
}

async function openEdit(id) {
  const r = await api('GET', `/api/admin/matviews/${id}`);
  upsert(r);
  const error = h('p', { class: 'error', role: 'alert' });
  const nextRuns = h('ol', { class: 'next-runs', id: 'next-runs' });
  const cron = h('input', { name: 'cronExpr', id: 'cron', placeholder: '*/15 * * * *   or   @every 10m',
    value: r.schedule ? r.schedule.cronExpr : '' });
  const tz = h('input', { name: 'timezone', id: 'timezone', value: r.schedule ? r.schedule.timezone : 'UTC' });
  let previewTimer;
  let asked = 0;
  const preview = () => {
    clearTimeout(previewTimer);
    const mine = ++asked;
    previewTimer = setTimeout(async () => {
      if (!cron.value.trim()) {
        nextRuns.replaceChildren(h('li', {}, 'No schedule: refreshed only on demand.'));
        return;
      }
      try {
        const q = new URLSearchParams({ cronExpr: cron.value, timezone: tz.value || 'UTC', count: '5' });
        const answer = await api('GET', `/api/admin/schedules/next-runs?${q}`);
        if (mine === asked) nextRuns.replaceChildren(...answer.nextRuns.map(t => h('li', {}, time(t))));
      } catch (e) {
        if (mine === asked) nextRuns.replaceChildren(h('li', { class: 'error' }, problemText(e)));
      }
    }, 250);
  };
  cron.addEventListener('input', preview);
  tz.addEventListener('input', preview);
  const mode = h('select', { name: 'refreshMode' }, ['auto', 'standard', 'concurrent'].map(m =>
    h('option', { value: m, selected: m === r.refreshMode }, m)));
  const form = h('form', { onsubmit: async e => {
    e.preventDefault();
    error.textContent = '';
    try {
      await saveEdit(r, new FormData(form));
      d.close();
      notice(`Saved ${name(r)}.`);
    } catch (err) {
      dialogError(error, err);
    }
  } },
  h('h2', {}, `Edit ${name(r)}`),
  h('label', {}, 'Mode', mode),
  numberField('Statement timeout, ms (empty: the service default, 0: none)', 'statementTimeoutMs', r.statementTimeoutMs, 0),
  numberField('Lock timeout, ms (empty: the service default, 0: none)', 'lockTimeoutMs', r.lockTimeoutMs, 0),
  numberField('Stale after, seconds (empty: never)', 'maxStalenessSeconds', r.maxStalenessSeconds, 1),
  h('label', {}, 'Freshness target: at most this far behind its tables (5m, 90s, PT1H), or downstream (empty: none)',
    h('input', { name: 'targetLag', id: 'target-lag', type: 'text', value: r.targetLag || '', placeholder: '5m' })),
  h('fieldset', {}, h('legend', {}, 'Schedule'),
    h('label', {}, 'Cron (5 or 6 fields, @hourly, @every 10m; empty: none)', cron),
    h('label', {}, 'Time zone', tz),
    h('div', {}, h('span', { class: 'muted' }, 'Next runs:'), nextRuns)),
  error,
  h('menu', {}, h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'),
    h('button', { type: 'submit', class: 'primary', id: 'save' }, 'Save')));
  const d = dialog('edit', form);
  preview();
}

async function saveEdit(r, data) {
  const changes = {};
  if (data.get('refreshMode') !== r.refreshMode) changes.refreshMode = data.get('refreshMode');
  for (const field of ['statementTimeoutMs', 'lockTimeoutMs', 'maxStalenessSeconds']) {
    const text = String(data.get(field)).trim();
    const value = text === '' ? null : Number(text);
    if (value !== r[field]) changes[field] = value;
  }
  const targetLag = String(data.get('targetLag')).trim() || null;
  if (targetLag !== r.targetLag) changes.targetLag = targetLag;
  if (Object.keys(changes).length) {
    upsert(await api('PUT', `/api/admin/matviews/${r.id}`, changes));
  }
  // The settings and the schedule are two requests: say which part did not take.
  const saved = Object.keys(changes).length ? 'The settings were saved; the schedule was not. ' : '';
  const cronExpr = String(data.get('cronExpr')).trim();
  const timezone = String(data.get('timezone')).trim() || 'UTC';
  try {
    if (cronExpr && (!r.schedule || r.schedule.cronExpr !== cronExpr || r.schedule.timezone !== timezone)) {
      await api('PUT', `/api/admin/matviews/${r.id}/schedule`, { cronExpr, timezone });
    } else if (!cronExpr && r.schedule) {
      await api('DELETE', `/api/admin/matviews/${r.id}/schedule`);
    }
  } catch (e) {
    if (saved && e instanceof Problem) e.title = saved + e.title;
    throw e;
  }
  upsert(await api('GET', `/api/admin/matviews/${r.id}`));
}

// ---- register ---------------------------------------------------------------------------------

async function openRegister() {
  const candidates = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ registered: 'false', limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/admin/catalog/matviews?${q}`);
    candidates.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && candidates.length < 10000);
  let chosen = null;
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'do-register', disabled: true }, 'Register');
  const rows = candidates.map(v => {
    const tr = h('tr', { dataset: { name: `${v.schemaName}.${v.viewName}` }, onclick: () => {
      for (const other of tr.parentNode.children) other.classList.remove('chosen');
      tr.classList.add('chosen');
      chosen = v;
      submit.disabled = false;
    } },
    h('td', {}, `${v.schemaName}.${v.viewName}`),
    h('td', { class: 'num' }, v.rowEstimate == null ? '' : String(v.rowEstimate)),
    h('td', {}, v.concurrentEligible ? 'yes' : `no: ${v.concurrentIneligibleReason || ''}`),
    h('td', {}, v.canRefresh ? 'yes' : `no (needs ${v.missingPrivilege || 'ownership'})`));
    return tr;
  });
  const filter = h('input', { type: 'search', placeholder: 'Filter', oninput: () => {
    const term = filter.value.trim().toLowerCase();
    for (const tr of rows) tr.hidden = term && !tr.dataset.name.toLowerCase().includes(term);
  } });
  const mode = h('select', { name: 'refreshMode', id: 'register-mode' }, ['auto', 'standard', 'concurrent'].map(m =>
    h('option', { value: m }, m)));
  const d = dialog('register-dialog', h('form', { onsubmit: async e => {
    e.preventDefault();
    if (!chosen) return;
    error.textContent = '';
    try {
      const r = await api('POST', '/api/admin/matviews',
        { schema: chosen.schemaName, viewName: chosen.viewName, refreshMode: mode.value });
      upsert(r);
      d.close();
      notice(`Registered ${name(r)} (${r.refreshMode}).`);
    } catch (err) {
      dialogError(error, err);
    }
  } },
  h('h2', {}, 'Register a materialized view'),
  candidates.length ? [filter, h('div', { class: 'picker-wrap' }, h('table', { class: 'picker' },
    h('thead', {}, h('tr', {}, h('th', {}, 'View'), h('th', {}, 'Rows (estimate)'), h('th', {}, 'Concurrent refresh'),
      h('th', {}, 'May refresh'))), h('tbody', {}, rows)))]
    : h('p', { class: 'muted' }, 'Every materialized view this role can see is registered already.'),
  h('label', {}, 'Mode (auto: concurrent once populated with a usable unique index, else standard)', mode),
  error,
  h('menu', {}, h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), submit)));
  filter.focus();
}

// ---- one view ---------------------------------------------------------------------------------

async function viewPage(id, generation) {
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
    h('p', {}, h('a', { href: '#/' }, '← All views')),
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
  state.page = {
    id: r.id,
    onRegistration: renderFacts,
    onRun: (event, run) => {
      if (run.registrationId !== r.id) return;
      if (event === 'run-started') {
        const reg = state.views.get(r.id);
        if (reg) renderFacts(reg);
      }
      // live runs go on top, unless the reader has paged back through older ones
      act(() => Promise.all([paged ? null : loadRuns(false), loadChart()]));
    },
  };
  await Promise.all([loadRuns(false), loadChart(), loadGraph(graph, r)]);
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

async function loadGraph(box, r) {
  let graph;
  try {
    graph = await api('GET', `/api/admin/matviews/${r.id}/graph`);
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error' }, `The graph could not be loaded: ${problemText(e)}`));
    return;
  }
  const self = graph.nodes.find(n => n.registrationId === r.id);
  if (!self) {
    box.replaceChildren(h('p', { class: 'muted' }, 'Not in the graph.'));
    return;
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
  box.replaceChildren(
    h('h3', {}, 'Reads (upstream)'), up.length ? h('ul', { id: 'upstream' }, up.map(item)) : h('p', { class: 'muted' }, 'Nothing.'),
    h('h3', {}, 'Read by (downstream)'), down.length ? h('ul', { id: 'downstream' }, down.map(item)) : h('p', { class: 'muted' }, 'Nothing.'));
}

// ---- schedules and jobs -----------------------------------------------------------------------

async function schedulesPage(generation) {
  const body = h('tbody');
  $('#main').replaceChildren(h('section', {}, h('div', { class: 'toolbar' }, h('h1', {}, 'Schedules')),
    h('table', { id: 'schedules' }, h('thead', {}, h('tr', {}, ['Name', 'View', 'Cron', 'Time zone', 'State', 'Next run',
      'Last run', 'Attempts'].map(c => h('th', {}, c)), isAdmin() && h('th', {}, 'Actions'))), body)));
  state.page = { schedules: body };
  const load = async () => {
    const schedules = await api('GET', '/api/admin/schedules');
    if (!current(generation)) return;
    body.replaceChildren(...schedules.map(sc => h('tr', { dataset: { id: sc.id } },
      h('td', {}, sc.name), h('td', {}, sc.payload ? `${sc.payload.schema || 'public'}.${sc.payload.view_name || ''}` : ''),
      h('td', {}, sc.cronExpr), h('td', {}, sc.timezone),
      h('td', {}, h('span', { class: `badge ${sc.enabled ? 'success' : 'never'}` }, sc.enabled ? 'enabled' : 'disabled')),
      h('td', {}, sc.enabled ? time(sc.nextRunAt) : ''), h('td', {}, time(sc.lastRunAt)),
      h('td', { class: 'num' }, `max ${sc.maxAttempts}`),
      isAdmin() && h('td', { class: 'actions' },
        h('button', { type: 'button', dataset: { action: sc.enabled ? 'disable' : 'enable' }, onclick: () => act(async () => {
          await api('POST', `/api/admin/schedules/${sc.id}/${sc.enabled ? 'disable' : 'enable'}`);
          notice(`${sc.enabled ? 'Disabled' : 'Enabled'} schedule ${sc.name}.`);
          await load();
        }) }, sc.enabled ? 'Disable' : 'Enable'),
        h('a', { href: `#/jobs/${sc.id}` }, 'Jobs')))));
    if (!schedules.length) body.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No schedules.')));
  };
  await load();
}

async function jobsPage(generation) {
  const scheduleId = (location.hash.split('/')[2] || '').trim();
  const body = h('tbody');
  const stateFilter = h('select', { id: 'job-state' }, h('option', { value: '' }, 'all'),
    ['queued', 'running', 'completed', 'failed', 'canceled'].map(st => h('option', { value: st }, st)));
  $('#main').replaceChildren(h('section', {}, h('div', { class: 'toolbar' },
    h('h1', {}, scheduleId ? 'Jobs of one schedule' : 'Jobs'), h('label', {}, 'State ', stateFilter),
    scheduleId && h('a', { href: '#/jobs' }, 'all jobs')),
  h('table', { id: 'jobs' }, h('thead', {}, h('tr', {}, ['Created', 'View', 'State', 'Attempts', 'Run at', 'Last error']
    .map(c => h('th', {}, c)), isAdmin() && h('th', {}, 'Actions'))), body)));
  state.page = { jobs: body };
  const load = async () => {
    const q = new URLSearchParams({ limit: '100' });
    if (stateFilter.value) q.set('state', stateFilter.value);
    if (scheduleId) q.set('scheduleId', scheduleId);
    const jobs = await api('GET', `/api/admin/jobs?${q}`);
    if (!current(generation)) return;
    body.replaceChildren(...jobs.map(job => h('tr', { dataset: { id: job.id, state: job.state } },
      h('td', {}, time(job.createdAt)),
      h('td', {}, job.payload ? `${job.payload.schema || 'public'}.${job.payload.view_name || ''}` : job.type),
      h('td', {}, h('span', { class: `badge ${job.state === 'completed' ? 'success' : job.state === 'failed' ? 'error' : job.state}` }, job.state)),
      h('td', { class: 'num' }, `${job.attempts} / ${job.maxAttempts}`), h('td', {}, time(job.runAt)),
      h('td', { class: 'error' }, job.lastError || ''),
      isAdmin() && h('td', { class: 'actions' },
        (job.state === 'failed' || job.state === 'canceled') && h('button', { type: 'button', dataset: { action: 'retry' },
          onclick: () => act(async () => { await api('POST', `/api/admin/jobs/${job.id}/retry`); notice('Job queued again.'); await load(); }) }, 'Retry'),
        (job.state === 'queued' || job.state === 'running') && h('button', { type: 'button', class: 'danger', dataset: { action: 'cancel' },
          onclick: () => act(async () => { await api('POST', `/api/admin/jobs/${job.id}/cancel`); notice('Job cancelled.'); await load(); }) }, 'Cancel')))));
    if (!jobs.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No jobs.')));
  };
  stateFilter.addEventListener('change', () => act(load));
  await load();
}

boot();
