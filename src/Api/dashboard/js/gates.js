// The fleet page's gates card: silent jobs, the fleet's event time, operators' pauses (with resume), the policies'
// promotion windows, and the forms to pause promotions or trip a breaker by hand (operators only).
import { api, clear, confirmWrite, el, int, isOperator, time, toast } from './common.js';

function write(title, text, path, body, done, refresh) {
  confirmWrite(title, text, reason => api(path, { method: 'POST', body: { ...body, reason } }), async () => {
    toast(done);
    await refresh();
  });
}

function scopeOf(form) {
  const value = name => form.querySelector(`[name=${name}]`).value.trim();
  return { policy: value('policy') || null, phase: value('phase') || null, for: value('for') || null };
}

function describe(scope) {
  return !scope.policy ? 'the whole fleet' : !scope.phase ? `policy ${scope.policy}` : `${scope.policy} into ${scope.phase}`;
}

export async function renderGates(refresh) {
  const gates = await api('/api/v1/gates');
  const stat = (label, value, cls) => el('div', { class: `stat ${cls || ''}` }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  const pauses = gates.pauses.length === 0 ? el('p', { class: 'empty', id: 'no-pauses' }, 'nothing is paused')
    : el('table', { id: 'pauses-table' }, el('thead', {}, el('tr', {}, ['paused', 'by', 'why', 'since', 'until (event time)', isOperator() ? '' : null]
      .filter(h => h !== null).map(h => el('th', {}, h)))),
      el('tbody', {}, gates.pauses.map(p => el('tr', { dataset: { scope: p.scope } },
        el('td', {}, el('span', { class: 'pill open' }, 'paused'), ' ', p.scope), el('td', {}, p.actor), el('td', { class: 'wrap' }, p.reason),
        el('td', { class: 'nowrap' }, time(p.at)), el('td', { class: 'nowrap' }, p.until ? time(p.until) : 'until resumed'),
        isOperator() ? el('td', {}, el('button', { type: 'button', class: 'small', 'data-resume': p.scope, onclick: () => write(
          `Resume ${p.scope}`, 'Promotions there go on at the jobs\' next signals, within their waves and windows.', '/api/v1/pauses/resume',
          { policy: p.policy, phase: p.phase }, `resume of ${p.scope} recorded`, refresh) }, 'Resume…')) : null))));
  const windows = gates.windows.length === 0 ? el('p', { class: 'empty' }, 'no policy restricts promotions to windows')
    : el('table', { id: 'windows-table' }, el('thead', {}, el('tr', {}, ['policy', 'promotes', 'now', 'demotes outside'].map(h => el('th', {}, h)))),
      el('tbody', {}, gates.windows.map(w => el('tr', {}, el('td', {}, w.policy), el('td', { class: 'wrap' }, w.windows.join('; ')),
        el('td', {}, w.open === null ? '—' : el('span', { class: `pill ${w.open ? 'closed' : 'open'}` }, w.open ? 'window open' : 'window closed')),
        el('td', {}, w.demotionsOutside ? 'yes' : 'no')))));
  const forms = !isOperator() ? null : el('div', { class: 'filters gate-forms' },
    el('form', { id: 'pause-form', onsubmit: event => {
      event.preventDefault();
      const scope = scopeOf(event.target);
      write(`Pause promotions of ${describe(scope)}`, `Promotions wait, each job told why; demotions go on unless the policy pauses them too.${scope.for ? ` Ends by itself after ${scope.for} of the fleet's event time.` : ''}`,
        '/api/v1/pauses', scope, `pause of ${describe(scope)} recorded`, refresh);
    } },
    el('input', { name: 'policy', placeholder: 'policy (empty: fleet)', size: 16 }), el('input', { name: 'phase', placeholder: 'into phase (empty: all)', size: 16 }),
    el('input', { name: 'for', placeholder: 'for (e.g. 2h; empty: until resumed)', size: 24 }), el('button', { type: 'submit', id: 'pause-button' }, 'Pause…')),
    el('form', { id: 'trip-form', onsubmit: event => {
      event.preventDefault();
      const { policy, phase } = scopeOf(event.target);
      write(`Trip the breaker of ${policy} / ${phase}`, 'Open this breaker by hand: promotions into the phase wait until someone resets it.',
        `/api/v1/breakers/${encodeURIComponent(policy || '')}/${encodeURIComponent(phase || '')}/trip`, {}, `trip of the ${policy} / ${phase} breaker recorded`, refresh);
    } },
    el('input', { name: 'policy', placeholder: 'policy', size: 16, required: true }), el('input', { name: 'phase', placeholder: 'phase', size: 16, required: true }),
    el('input', { name: 'for', type: 'hidden' }), el('button', { type: 'submit', id: 'trip-button' }, 'Trip breaker…')));
  const root = document.getElementById('gates');
  if (!root.querySelector('#gates-shown')) {
    // The forms are made once: a live refresh redraws what is shown, never what an operator is typing.
    clear(root, el('div', { id: 'gates-shown' }), forms);
  }
  clear(root.querySelector('#gates-shown'),
    el('div', { class: 'strip' }, stat('silent jobs', int(gates.silent), gates.silent > 0 ? 'bad' : 'ok'),
      stat('paused scopes', int(gates.pauses.length), gates.pauses.length > 0 ? 'bad' : 'ok'),
      stat('fleet event time', gates.watermark ? time(gates.watermark) : '—')),
    pauses, windows);
}
