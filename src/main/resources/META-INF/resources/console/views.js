// The list of registered views, and what can be done to one: refresh, cancel, resume, edit, register,
// unregister.

import { $, Problem, act, api, current, dialog, dialogError, h, isAdmin, isoSeconds, lagText, name, notice, problemText, seconds, state, time } from './core.js';

const VIEW_COLUMNS = ['Schema', 'View', 'Mode', 'Status', 'Last refresh', 'Duration', 'Error', 'Staleness', 'Freshness',
  'Schedule', 'Next run'];

export async function viewsPage(generation) {
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

export function statusOf(r) {
  return r.currentRunId ? 'running' : (r.lastRefreshStatus || 'never');
}

export function staleness(r) {
  if (r.maxStalenessSeconds == null) return '';
  return h('span', { class: r.stale ? 'stale' : '' }, `${r.stale ? 'stale' : 'fresh'} (max ${seconds(r.maxStalenessSeconds)})`);
}

/** An ISO-8601 duration of whole seconds (PT1H30M, PT48H) in seconds; null for anything else. */
export function freshness(r) {
  const lag = r.lagSeconds == null ? 'never refreshed' : `lag ${lagText(r.lagSeconds)}`;
  if (!r.targetLag) return r.lagSeconds == null ? '' : lag;
  if (r.targetLag === 'downstream') return `${lag} (downstream)`;
  const target = isoSeconds(r.targetLag);
  const behind = r.lagSeconds != null && target != null && r.lagSeconds > target;
  return h('span', { class: behind ? 'behind' : 'on-target', dataset: { behind: String(behind) } },
    `${lag} of ${seconds(target)}${behind ? ' – behind' : ''}`);
}

export function scheduleText(r) {
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

export function actions(r) {
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

export function renderRow(r) {
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

export function upsert(r) {
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
export const followed = new Map();

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
        if (state.page && state.page.id === id) location.hash = '#/views';
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
