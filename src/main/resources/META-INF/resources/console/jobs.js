// Schedules and the jobs they queue.

import { $, act, api, current, h, isAdmin, notice, state, time } from './core.js';

// ---- schedules and jobs -----------------------------------------------------------------------

export async function schedulesPage(generation) {
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

export async function jobsPage(generation) {
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
