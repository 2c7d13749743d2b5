// The console's shell: sign-in, the live event stream, and the router that hands each page to its
// module (overview, views, view, graph, timeline, jobs).

import { $, Problem, TOKEN, api, clearBanners, current, h, name, notice, problemText, showProblem, sleep, state, tokenRefused } from './core.js';
import { followed, renderRow, upsert, viewsPage } from './views.js';

// The other pages' modules are loaded when first shown: opening one page costs its own script only.
const page = (module, name) => async (...args) => (await import(module))[name](...args);
const overviewPage = page('./overview.js', 'overviewPage');
const viewPage = page('./view.js', 'viewPage');
const graphPage = page('./graph.js', 'graphPage');
const timelinePage = page('./timeline.js', 'timelinePage');
const schedulesPage = page('./jobs.js', 'schedulesPage');
const jobsPage = page('./jobs.js', 'jobsPage');

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

export function signIn(message) {
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
  if (state.page && state.page.onAlert) state.page.onAlert(alert);
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
  const pages = {
    views: () => (id ? viewPage(decodeURIComponent(id), generation) : viewsPage(generation)),
    graph: () => graphPage(generation),
    timeline: () => timelinePage(generation),
    schedules: () => schedulesPage(generation),
    jobs: () => jobsPage(generation),
  };
  const known = Object.hasOwn(pages, section) ? section : 'overview';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', a.dataset.nav === known);
  state.page = null;
  const generation = ++state.generation;
  return show(pages[known] || (() => overviewPage(generation)), generation);
}


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
        h('p', {}, h('button', { type: 'button', onclick: () => route() }, 'Try again'), ' ', h('a', { href: '#/views' }, 'All views'))));
    }
  }
}


boot();
