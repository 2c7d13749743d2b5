// The console's common parts: its state, the API client, the DOM helpers and the formats every page
// uses. The console is a client of the admin REST API, as the CLI is. No framework and no build
// step; every text from the API goes into the page through textContent, never as HTML.

import { signIn } from './console.js';

export const TOKEN = 'matviews.token';
export const RUN_STATUSES = ['success', 'error', 'skipped', 'cancelled', 'timeout', 'abandoned', 'running'];
export const FAILED = new Set(['error', 'timeout', 'cancelled', 'abandoned']);
// generation: bumped at every navigation, so that an answer for a page left meanwhile is dropped
export const state = { session: null, views: new Map(), stream: null, lastEventId: null, page: null, generation: 0 };

export const $ = (selector, root = document) => root.querySelector(selector);

/** A problem+json answer (or a network failure), shown as its title and detail. */
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.title = body.title || `HTTP ${status}`;
    this.detail = body.detail || '';
  }
}

export async function api(method, path, body) {
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
export function tokenRefused(e) {
  if (!(e instanceof Problem && e.status === 401 && state.session)) return false;
  signIn('Your session has ended or its token was refused: sign in again.');
  return true;
}

/** Runs an action; a refusal is shown, a refused token leads back to sign-in. */
export async function act(fn) {
  try {
    return await fn();
  } catch (e) {
    if (!tokenRefused(e)) showProblem(e);
    return undefined;
  }
}

export function h(tag, props, ...children) {
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
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function showProblem(e) {
  const box = $('#problem');
  const title = e instanceof Problem ? e.title : 'Unexpected error';
  const detail = e instanceof Problem ? e.detail : String(e && e.message || e);
  box.replaceChildren(h('strong', { class: 'title' }, title), detail && h('span', { class: 'detail' }, detail),
    h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => { box.hidden = true; } }, '×'));
  box.hidden = false;
}

let noticeTimer;
export function notice(text) {
  const box = $('#notice');
  box.replaceChildren(h('span', {}, text));
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

export function clearBanners() {
  $('#problem').hidden = true;
  $('#notice').hidden = true;
}

export const isAdmin = () => state.session && state.session.role === 'admin';
export const name = r => `${r.schemaName}.${r.viewName}`;
export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function seconds(n) {
  if (n % 86400 === 0) return `${n / 86400} d`;
  if (n % 3600 === 0) return `${n / 3600} h`;
  if (n % 60 === 0) return `${n / 60} min`;
  return `${n} s`;
}

export const current = generation => state.session && generation === state.generation;

export function isoSeconds(text) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text || '');
  return m ? (Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0)) : null;
}

export function lagText(s) {
  if (s < 90) return `${Math.max(0, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The lag against the target: behind when over it. */
export function dialog(id, ...content) {
  const old = document.getElementById(id);
  if (old) old.remove();
  const d = h('dialog', { id }, ...content);
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

/** A refusal inside a dialog: shown there, except a refused token, which leads back to sign-in. */
export function dialogError(element, e) {
  if (!tokenRefused(e)) element.textContent = problemText(e);
}

export function problemText(e) {
  return e instanceof Problem ? [e.title, e.detail].filter(Boolean).join(': ') : String(e && e.message || e);
}

/**
 * A registration's state as the overview counts it (the first that applies): suspended, behind its
 * target or stale, failing, never refreshed, fresh.
 */
export function viewState(r) {
  if (r.suspended) return 'suspended';
  const target = r.targetLag && r.targetLag !== 'downstream' ? isoSeconds(r.targetLag) : null;
  if ((target != null && r.lagSeconds != null && r.lagSeconds > target) || r.stale) return 'behind-target';
  if (r.lastRefreshStatus === 'error' || r.lastRefreshStatus === 'timeout' || r.lastRefreshStatus === 'abandoned') {
    return 'failing';
  }
  return r.lastRefreshAt ? 'fresh' : 'never-refreshed';
}
