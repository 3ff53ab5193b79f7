import { api, clear, el, live, signedIn, time } from './common.js';

// The rules a notification can come from (the API refuses any other name as a filter).
const RULES = ['breaker-opened', 'quarantined', 'stuck', 'drifted', 'poisoned', 'silent', 'dead-letters', 'fold-lag', 'consumer-lag'];
const state = { before: null, page: 1 };

function filters() {
  const query = new URLSearchParams({ limit: '50' });
  for (const [name, id] of [['status', 'f-status'], ['rule', 'f-rule'], ['state', 'f-state']]) {
    const value = document.getElementById(id).value;
    if (value) query.set(name, value);
  }
  if (state.before) query.set('before', state.before);
  return query;
}

// One webhook's delivery as a person reads it: delivered when, retrying when next (and why), or failed and why.
function delivery(d) {
  const what = d.state === 'delivered' ? el('span', { class: 'pill pass' }, 'delivered')
    : d.state === 'failed' ? el('span', { class: 'pill fail' }, 'failed')
      : el('span', { class: 'pill no-data' }, d.attempts > 0 ? 'retrying' : 'pending');
  const when = d.state === 'delivered' ? `at ${time(d.deliveredAt)}`
    : d.state === 'pending' ? `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}, next ${time(d.nextAttemptAt)}`
      : `after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
  return el('li', { class: 'delivery', dataset: { webhook: d.webhook, state: d.state } },
    el('strong', {}, d.webhook), ' ', what, ' ', el('span', { class: 'muted' }, when),
    d.state !== 'delivered' && d.lastError ? el('div', { class: 'error wrap' }, d.lastError) : null);
}

function row(view) {
  const n = view.notification;
  const status = el('span', { class: `pill ${n.status === 'resolved' ? 'closed' : 'open'}` }, n.status);
  return el('tr', { dataset: { id: view.id, status: n.status, rule: n.rule } },
    el('td', { class: 'nowrap' }, time(n.occurredAt), written(n.occurredAt, view.createdAt)),
    el('td', {}, status),
    el('td', { class: 'nowrap' }, el('span', { class: `pill sev-${n.severity}` }, n.severity)),
    el('td', { class: 'nowrap' }, n.rule),
    el('td', { class: 'nowrap subject' }, subject(n)),
    el('td', { class: 'wrap' }, el('div', { class: 'title' }, n.title), el('div', { class: 'muted' }, n.text)),
    el('td', {}, view.deliveries.length === 0 ? el('span', { class: 'empty' }, 'no webhook takes this rule') : el('ul', { class: 'deliveries' }, view.deliveries.map(delivery))));
}

// The list is in the order notifications were written; one about an event of the log happened (event time) earlier.
function written(occurredAt, createdAt) {
  return Math.abs(new Date(createdAt) - new Date(occurredAt)) < 60000 ? null : el('div', { class: 'muted' }, `told ${time(createdAt)}`);
}

// A job's subject links to its page; a breaker's (policy/phase) and a fold's are shown as they are.
function subject(n) {
  if (!n.subject) return el('span', { class: 'muted' }, '—');
  if (n.rule === 'quarantined') return el('a', { href: `/job?id=${encodeURIComponent(n.subject)}` }, n.subject);
  return n.subject;
}

async function refresh() {
  const page = await api(`/api/v1/notifications?${filters()}`);
  const head = el('tr', {}, ['happened (UTC)', 'status', 'severity', 'rule', 'subject', 'what', 'webhooks'].map(h => el('th', {}, h)));
  clear(document.getElementById('notifications'), page.notifications.length === 0
    ? el('p', { class: 'empty' }, 'no notification matches')
    : el('table', { id: 'notification-table' }, el('thead', {}, head), el('tbody', {}, page.notifications.map(row))));
  const next = document.getElementById('page-next');
  next.disabled = !page.next;
  next.dataset.before = page.next ?? '';
  document.getElementById('page-note').textContent = `page ${state.page}`;
  document.body.dataset.refreshed = String(Date.now());
}

async function start() {
  await signedIn();
  const rules = document.getElementById('f-rule');
  for (const rule of RULES) rules.append(el('option', { value: rule }, rule));
  document.getElementById('filters').addEventListener('change', () => { state.before = null; state.page = 1; refresh(); });
  document.getElementById('page-first').addEventListener('click', () => { state.before = null; state.page = 1; refresh(); });
  document.getElementById('page-next').addEventListener('click', event => { state.before = event.target.dataset.before; state.page += 1; refresh(); });
  // Notifications are written by periodic checks and the log's fold: a poll every few seconds keeps the page current.
  await live(refresh, 5000, []);
  document.body.dataset.ready = 'true';
}

start();
