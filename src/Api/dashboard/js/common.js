// Shared by both dashboards. Every string that comes from a job or an operator is put in the page as text
// (textContent, never innerHTML), so a label "<script>…" shows as those characters.

export const session = { name: null, role: null, csrf: null };

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
  return node;
}

export class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, options = {}) {
  const headers = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.method && options.method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 204) return null;
  const isJson = (response.headers.get('content-type') || '').includes('json');
  const payload = isJson ? await response.json() : null;
  if (!response.ok) throw new HttpError(response.status, payload);
  return payload;
}

export function isOperator() { return session.role === 'operator' || session.role === 'admin'; }

// Signs in (if needed) and fills the header; resolves once a session exists.
export async function signedIn() {
  Object.assign(session, await api('/auth/session'));
  if (!session.name) await signInForm();
  const who = document.getElementById('who');
  clear(who, el('span', { text: `${session.name} (${session.role})` }),
    el('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'));
}

function signInForm() {
  return new Promise(resolve => {
    const main = document.querySelector('main');
    const hidden = [...main.children];
    hidden.forEach(child => child.classList.add('hidden'));
    const error = el('p', { class: 'error', id: 'signin-error' });
    const token = el('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'token (see tokensFile in endpoints.json)' });
    const form = el('form', { class: 'card signin', id: 'signin' },
      el('h2', {}, 'Sign in'),
      el('p', { class: 'muted' }, 'Paste an API token. Viewers read; operators also hold, release, pin and force jobs; admins also publish policies.'),
      token, error,
      el('button', { type: 'submit', class: 'primary', id: 'signin-button' }, 'Sign in'));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      try {
        Object.assign(session, await api('/auth/session', { method: 'POST', body: { token: token.value } }));
        form.remove();
        hidden.forEach(child => child.classList.remove('hidden'));
        resolve();
      } catch (e) {
        error.textContent = e.message;
      }
    });
    main.prepend(form);
    token.focus();
  });
}

async function signOut() {
  await api('/auth/session', { method: 'DELETE' });
  location.reload();
}

// Calls refresh() now, on every change the server announces (server-sent events), and every `fallbackMs` in case the
// stream is down; never more than one refresh at a time.
export function live(refresh, fallbackMs = 10000, kinds = null) {
  let running = false, again = false;
  const dot = document.getElementById('live');
  async function run() {
    if (running) { again = true; return; }
    running = true;
    try { await refresh(); } catch (e) { console.warn('refresh failed', e.message); }
    running = false;
    if (again) { again = false; run(); }
  }
  const source = new EventSource('/api/v1/live');
  source.addEventListener('change', event => {
    const change = JSON.parse(event.data);
    if (change.kind !== 'heartbeat' && change.kind !== 'hello' && (!kinds || kinds.includes(change.kind))) run();
  });
  source.onopen = () => dot && dot.classList.add('on');
  source.onerror = () => dot && dot.classList.remove('on');
  setInterval(run, fallbackMs);
  return run();
}

// An operator's write, confirmed in the page's dialog (#confirm) with a required reason: `write(reason)` makes it, and
// `done()` follows once the dialog has closed; a failure of either is shown in the dialog.
export function confirmWrite(title, text, write, done) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-reason').value = '';
  document.getElementById('confirm-error').textContent = '';
  document.getElementById('confirm-form').onsubmit = async event => {
    event.preventDefault();
    try {
      await write(document.getElementById('confirm-reason').value);
      dialog.close();
      await done();
    } catch (error) {
      document.getElementById('confirm-error').textContent = error.message;
    }
  };
  document.getElementById('confirm-cancel').onclick = () => dialog.close();
  dialog.showModal();
}

export function toast(message) {
  const node = el('div', { class: 'toast', role: 'status' }, message);
  document.body.append(node);
  setTimeout(() => node.remove(), 4000);
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });
export const num = value => value === null || value === undefined ? '—' : numberFormat.format(value);
export const int = value => new Intl.NumberFormat('en-US').format(value ?? 0);
export const time = value => value ? new Date(value).toISOString().replace('T', ' ').slice(0, 16) : '—';

// .NET writes TimeSpan as "d.hh:mm:ss.fffffff" or "hh:mm:ss".
export function seconds(span) {
  if (!span) return 0;
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+)(?:\.\d+)?$/.exec(span);
  if (!match) return 0;
  return (+(match[1] || 0)) * 86400 + (+match[2]) * 3600 + (+match[3]) * 60 + (+match[4]);
}

export function duration(secs) {
  if (secs >= 86400) return `${(secs / 86400).toFixed(1)} d`;
  if (secs >= 3600) return `${(secs / 3600).toFixed(1)} h`;
  return `${Math.round(secs / 60)} min`;
}

export const phaseBadge = phase => el('span', { class: `phase p-${phase}` }, phase);
export const flagPill = flag => el('span', { class: `pill flag-${flag.split(':')[0]}` }, flag);

export const phaseColors = { shadow: '#7c8aa0', reverse_shadow: '#2d6cdf', cleanup: '#e39b22', done: '#2e9e5b' };
export const extraColors = ['#8a55d7', '#d6453d', '#1aa3a3', '#9c6b30', '#5f6b7a'];

// A time axis that still spans something when there is a single point.
export const timeScale = { time: true, range: (u, min, max) => (min === max ? [min - 3600, max + 3600] : [min, max]) };
