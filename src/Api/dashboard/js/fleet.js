import { timeScale, api, clear, confirmWrite, el, flagPill, int, isOperator, live, num, phaseBadge, phaseColors, extraColors, signedIn, time, toast } from './common.js';
import { renderGates } from './gates.js';

const FLAG_TITLES = {
  stuck: 'Stuck', drifted: 'Drifted', regressed: 'Regressed', quarantined: 'Quarantined', held: 'Held', pinned: 'Pinned',
  poisoned: 'Poisoned', 'known-issue': 'Known issue', 'waiting-for-slot': 'Waiting for a slot', 'awaiting-approval': 'Awaiting approval', silent: 'Silent',
};
const charts = {};
let feedDirection = '';
const jobsState = { cursor: null, page: 1 };

function withFlags(count) {
  const cells = [
    ['awaiting ack', count.awaitingAck], ['stuck', count.stuck], ['drifted', count.drifted], ['regressed', count.regressed],
    ['quarantined', count.quarantined], ['known issue', count.knownIssue], ['held/pinned', count.heldOrPinned],
    ['waiting', count.waitingForSlot], ['poisoned', count.poisoned],
  ];
  return cells.map(([, value]) => el('td', { class: 'num' }, value ? int(value) : ''));
}

function renderPhases(summary) {
  const head = el('tr', {}, ['policy', 'phase', 'jobs', 'awaiting ack', 'stuck', 'drifted', 'regressed', 'quarantined', 'known issue',
    'held/pinned', 'waiting', 'poisoned'].map((h, i) => el('th', { class: i > 1 ? 'num' : null }, h)));
  const rows = summary.phases.map(p => el('tr', { dataset: { phase: p.phase, policy: p.policy } },
    el('td', { class: 'nowrap' }, p.policy), el('td', {}, phaseBadge(p.phase)), el('td', { class: 'num jobs' }, int(p.jobs)), withFlags(p)));
  const total = el('tr', { class: 'total' }, el('td', {}, 'all'), el('td', {}), el('td', { class: 'num', id: 'total-jobs' }, int(summary.totals.jobs)), withFlags(summary.totals));
  clear(document.getElementById('phases'), el('table', { id: 'phase-table' }, el('thead', {}, head), el('tbody', {}, rows, total)));
  document.getElementById('generated').textContent = `as of ${time(summary.generatedAt)} UTC`;
  const phaseSelect = document.getElementById('f-phase');
  const known = new Set([...phaseSelect.options].map(o => o.value));
  for (const p of summary.phases) if (!known.has(p.phase)) { phaseSelect.append(el('option', { value: p.phase }, p.phase)); known.add(p.phase); }
}

function renderAttention(summary) {
  const lists = Object.entries(FLAG_TITLES).map(([flag, title]) => {
    const jobs = summary.attention[flag] || [];
    const count = flag === 'held' || flag === 'pinned' ? null
      : flag === 'awaiting-approval' ? (summary.approvals || []).reduce((sum, g) => sum + g.waiting + g.approved, 0) : countFor(summary.totals, flag);
    return el('div', { class: 'list', dataset: { flag } },
      el('h3', {}, flagPill(flag), ' ', title, count !== null ? el('span', { class: 'muted' }, ` ${int(count)}`) : null),
      jobs.length === 0 ? el('p', { class: 'empty' }, 'none')
        : el('ul', {}, jobs.map(j => el('li', {}, el('a', { href: `/job?id=${encodeURIComponent(j.jobId)}` }, j.jobId), ' ', phaseBadge(j.phase), ' ',
          el('span', { class: 'muted' }, j.reason)))));
  });
  clear(document.getElementById('attention'), lists);
}

function countFor(totals, flag) {
  return { stuck: totals.stuck, drifted: totals.drifted, regressed: totals.regressed, quarantined: totals.quarantined, poisoned: totals.poisoned,
    'known-issue': totals.knownIssue, 'waiting-for-slot': totals.waitingForSlot }[flag] ?? null;
}

function renderBreakers(summary) {
  clear(document.getElementById('breakers'), summary.breakers.length === 0 ? el('p', { class: 'empty' }, 'no breaker has opened')
    : el('table', {}, el('thead', {}, el('tr', {}, ['breaker', 'state', 'since', 'why', isOperator() ? '' : null].filter(h => h !== null).map(h => el('th', {}, h)))),
      el('tbody', {}, summary.breakers.map(b => el('tr', {}, el('td', {}, `${b.policy} / ${b.phase}`), el('td', {}, el('span', { class: `pill ${b.state}` }, b.state)),
        el('td', { class: 'nowrap' }, time(b.at)), el('td', { class: 'wrap' }, b.reason),
        isOperator() ? el('td', {}, b.state === 'open' ? el('button', { type: 'button', class: 'small', 'data-breaker': `${b.policy}/${b.phase}`, onclick: () => ask({
          title: `Reset the breaker of ${b.policy} / ${b.phase}`,
          text: 'Close this breaker: promotions into the phase resume, in waves. It opens again if demotions out of the phase stay too many.',
          path: `/api/v1/breakers/${encodeURIComponent(b.policy)}/${encodeURIComponent(b.phase)}/reset`,
          done: `reset of the ${b.policy} / ${b.phase} breaker recorded`,
        }) }, 'Reset…') : null) : null)))));
  clear(document.getElementById('waves'), summary.waves.length === 0 ? el('p', { class: 'empty' }, 'no wave in flight or queued')
    : el('table', {}, el('thead', {}, el('tr', {}, ['into', 'in flight', 'queued', 'last hour'].map((h, i) => el('th', { class: i ? 'num' : null }, h)))),
      el('tbody', {}, summary.waves.map(w => el('tr', {}, el('td', {}, `${w.policy} / ${w.phase}`, w.breakerOpen ? el('span', { class: 'pill open' }, 'breaker open') : null),
        el('td', { class: 'num' }, `${int(w.inFlight)}${w.maxInFlight ? ' / ' + int(w.maxInFlight) : ''}`), el('td', { class: 'num' }, int(w.queued)),
        el('td', { class: 'num' }, `${int(w.promotedLastHour)}${w.maxPerHour ? ' / ' + int(w.maxPerHour) : ''}`))))));
}

function renderApprovals(summary) {
  const gates = summary.approvals || [];
  clear(document.getElementById('approvals'), gates.length === 0 ? el('p', { class: 'empty' }, 'no job waits for approval')
    : el('table', { id: 'approvals-table' }, el('thead', {}, el('tr', {}, ['policy', 'gate', 'waiting', 'approved, not moved yet', isOperator() ? '' : null].filter(h => h !== null)
      .map((h, i) => el('th', { class: i === 2 || i === 3 ? 'num' : null }, h)))),
      el('tbody', {}, gates.map(g => el('tr', { dataset: { gate: `${g.policy}/${g.from}` } }, el('td', {}, g.policy), el('td', {}, phaseBadge(g.from), ' → ', g.to ? phaseBadge(g.to) : '—'),
        el('td', { class: 'num' }, el('a', { href: '#jobs', onclick: () => showFlag('awaiting-approval', g.from) }, int(g.waiting))), el('td', { class: 'num' }, int(g.approved)),
        isOperator() ? el('td', {}, g.waiting > 0 ? el('button', { type: 'button', class: 'small', 'data-approve': `${g.policy}/${g.from}`, onclick: () => approveGate(g) }, 'Approve all…') : null) : null)))));
}

function showFlag(flag, phase) {
  document.getElementById('f-state').value = '';
  document.getElementById('f-flag').value = flag;
  document.getElementById('f-phase').value = phase;
  jobsState.cursor = null; jobsState.page = 1;
  renderJobs();
}

// A batch approval by gate: counted first (a dry run), then confirmed with that count as its cap.
async function approveGate(gate) {
  const selector = { policy: gate.policy, phase: gate.from };
  const count = await api('/api/v1/approvals', { method: 'POST', body: { ...selector, max: 10000, dryRun: true } });
  confirmWrite(`Approve ${int(count.matched)} job${count.matched === 1 ? '' : 's'}: ${gate.policy} ${gate.from} → ${gate.to}`,
    `Permit the promotion of every job waiting at this gate now (${int(count.matched)}; first: ${count.jobs.slice(0, 5).join(', ')}). Each moves at its next signal if its criteria still hold, within the gate's wave and breaker. Refused if more wait by then.`,
    reason => api('/api/v1/approvals', { method: 'POST', body: { ...selector, max: Math.max(1, count.matched), reason } }),
    async () => {
      toast(`approval of ${int(count.matched)} jobs at ${gate.policy} / ${gate.from} recorded`);
      await refresh();
    });
}

function renderIssues(summary) {
  clear(document.getElementById('issues'), summary.knownIssues.length === 0 ? el('p', { class: 'empty' }, 'no known issues')
    : el('table', {}, el('thead', {}, el('tr', {}, ['issue', 'title', 'jobs', 'state', 'opened', isOperator() ? '' : null].filter(h => h !== null).map(h => el('th', {}, h)))),
      el('tbody', {}, summary.knownIssues.map(i => el('tr', {}, el('td', {}, i.id), el('td', { class: 'wrap' }, i.title), el('td', { class: 'num' }, int(i.jobs)),
        el('td', {}, el('span', { class: `pill ${i.open ? 'open' : 'closed'}` }, i.open ? 'open' : 'resolved')), el('td', {}, `${time(i.openedAt)} by ${i.openedBy}`),
        isOperator() ? el('td', {}, i.open ? el('button', { type: 'button', class: 'small', 'data-issue': i.id, onclick: () => ask({
          title: `Resolve known issue ${i.id}`,
          text: `Its ${int(i.jobs)} job${i.jobs === 1 ? '' : 's'} will no longer be held by it: the policy moves them again, within their waves.`,
          path: `/api/v1/known-issues/${encodeURIComponent(i.id)}/resolve`,
          done: `resolution of ${i.id} recorded`,
        }) }, 'Resolve…') : null) : null)))));
  clear(document.getElementById('shadow'), summary.shadow.length === 0 ? el('p', { class: 'empty' }, 'no shadow policy published')
    : el('table', {}, el('thead', {}, el('tr', {}, ['policy', 'agreement', 'agreed', 'real only', 'shadow only', 'open', 'mean lead'].map(h => el('th', {}, h)))),
      el('tbody', {}, summary.shadow.map(s => el('tr', {}, el('td', {}, s.policy), el('td', { class: 'num' }, `${(s.agreementRate * 100).toFixed(1)} %`),
        el('td', { class: 'num' }, int(s.agreed)), el('td', { class: 'num' }, int(s.liveOnly)), el('td', { class: 'num' }, int(s.shadowOnly)),
        el('td', { class: 'num' }, int(s.open)), el('td', { class: 'num' }, s.meanLeadMinutes === null ? '—' : `${s.meanLeadMinutes.toFixed(1)} min`))))));
}

function renderHealth(health) {
  const lag = health.folds.reduce((most, f) => f.seconds > most.seconds ? f : most, { name: '—', seconds: 0, events: 0 });
  const stat = (label, value, cls) => el('div', { class: `stat ${cls || ''}` }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  clear(document.getElementById('health'),
    stat('ingest', `${int(Math.round(health.eventsPerSecond))}/s`),
    stat('dead-lettered', `${num(Math.round(health.deadLettersPerSecond * 10) / 10)}/s`, health.deadLettersPerSecond > 0 ? 'bad' : null),
    stat('consumer lag', int(health.consumerLag), health.consumerLag > 10000 ? 'bad' : null),
    stat('slowest fold', `${lag.seconds.toFixed(1)} s`, lag.seconds > 60 ? 'bad' : 'ok'),
    stat('database', health.databaseReachable ? 'up' : 'down', health.databaseReachable ? 'ok' : 'bad'),
    stat('brokers', health.brokerReachable ? 'up' : 'down', health.brokerReachable ? 'ok' : 'bad'));
}

// Jobs held by silence, an approval gate or a pause, each counted the way the jobs list filtered by it counts them.
const HELD = [
  { state: 'silent', label: 'silent jobs' },
  { state: 'awaiting-approval', label: 'awaiting approval' },
  { state: 'paused', label: 'held by a pause' },
];

async function renderHeld() {
  const pages = await Promise.all(HELD.map(h => api(`/api/v1/jobs?state=${h.state}&count=true&limit=1`)));
  clear(document.getElementById('held'), HELD.map((h, i) => {
    const count = pages[i].total ?? 0;
    return el('a', { class: `stat ${count > 0 ? (h.state === 'silent' ? 'bad' : 'warn') : 'ok'}`, href: '#jobs', id: `held-${h.state}`, dataset: { state: h.state },
      onclick: () => showState(h.state) },
      el('div', { class: 'label' }, h.label), el('div', { class: 'value' }, `${int(count)}${pages[i].moreThanTotal ? '+' : ''}`));
  }));
}

function showState(state) {
  for (const id of ['f-prefix', 'f-phase', 'f-flag', 'f-label']) document.getElementById(id).value = '';
  document.getElementById('f-state').value = state;
  jobsState.cursor = null; jobsState.page = 1;
  renderJobs();
}

function chart(id, options, data) {
  const target = document.getElementById(id);
  const width = Math.max(300, target.clientWidth);
  if (charts[id] && charts[id].series.length === options.series.length) {
    charts[id].setData(data);
    if (Math.abs(charts[id].width - width) > 4) charts[id].setSize({ width, height: 220 });
    return;
  }
  charts[id]?.destroy();
  clear(target);
  charts[id] = new uPlot({ width, height: 220, ...options }, data, target);
}

function renderHistory(history) {
  const xs = history.hours.map(h => Date.parse(h) / 1000);
  const order = ['shadow', 'reverse_shadow', 'cleanup', 'done'];
  const phases = [...history.phases].sort((a, b) => (order.indexOf(a.phase) + 99) % 99 - (order.indexOf(b.phase) + 99) % 99);
  const stacked = [];
  let running = xs.map(() => 0);
  for (const p of phases) { running = running.map((v, i) => v + p.jobs[i]); stacked.push(running); }
  const series = [{}];
  const bands = [];
  phases.forEach((p, i) => {
    const color = phaseColors[p.phase] || extraColors[i % extraColors.length];
    series.push({ label: p.phase, stroke: color, fill: color + 'cc', width: 1, value: (u, v, si, idx) => idx === null ? '—' : int(phases[si - 1].jobs[idx]) });
    if (i > 0) bands.push({ series: [i + 1, i], fill: color + 'cc' });
  });
  // Top series first so each band fills down to the one below it.
  chart('phase-chart', { series, bands, scales: { x: timeScale }, axes: [{}, { size: 60, values: (u, ticks) => ticks.map(v => int(v)) }] }, [xs, ...stacked]);
  const moves = Object.fromEntries(history.moves.map(m => [m.direction, m.moves]));
  const zero = xs.map(() => 0);
  chart('moves-chart', {
    series: [{},
      { label: 'promotions', stroke: '#2e9e5b', fill: '#2e9e5b99', paths: uPlot.paths.bars({ size: [0.35, 24], align: -1 }) },
      { label: 'demotions', stroke: '#d6453d', fill: '#d6453d99', paths: uPlot.paths.bars({ size: [0.35, 24], align: 1 }) },
      { label: 'overrides', stroke: '#8a55d7', fill: '#8a55d799', paths: uPlot.paths.bars({ size: [0.2, 12], align: 0 }) }],
    scales: { x: timeScale }, axes: [{}, { size: 50, values: (u, ticks) => ticks.map(v => int(v)) }],
  }, [xs, moves.promote || zero, moves.demote || zero, moves.override || zero]);
}

async function renderFeed() {
  const query = feedDirection ? `?limit=60&direction=${feedDirection}` : '?limit=60';
  const page = await api(`/api/v1/decisions${query}`);
  clear(document.getElementById('feed'), page.decisions.length === 0 ? el('p', { class: 'empty' }, 'no decisions yet')
    : el('table', { id: 'feed-table' }, el('thead', {}, el('tr', {}, ['decided (event time)', 'job', 'move', 'policy', 'why'].map(h => el('th', {}, h)))),
      el('tbody', {}, page.decisions.map(d => el('tr', { dataset: { eventId: d.eventId } },
        el('td', { class: 'nowrap' }, time(d.decidedAt)),
        el('td', { class: 'nowrap' }, el('a', { href: `/job?id=${encodeURIComponent(d.jobId)}` }, d.jobId)),
        el('td', {}, el('span', { class: `pill ${d.direction}` }, d.direction), ' ', phaseBadge(d.from), ' → ', phaseBadge(d.to)),
        el('td', { class: 'nowrap' }, d.policy),
        el('td', { class: 'reason muted' }, d.reason))))));
}

async function renderJobs() {
  const params = new URLSearchParams({ limit: '25' });
  if (!jobsState.cursor) params.set('count', 'true');
  const value = id => document.getElementById(id).value.trim();
  if (value('f-prefix')) params.set('prefix', value('f-prefix'));
  if (value('f-phase')) params.set('phase', value('f-phase'));
  if (value('f-flag')) params.set('flag', value('f-flag'));
  if (value('f-label')) params.set('label', value('f-label'));
  if (value('f-state')) params.set('state', value('f-state'));
  params.set('sort', value('f-sort'));
  params.set('order', value('f-order'));
  if (jobsState.cursor) params.set('cursor', jobsState.cursor);
  let page;
  try {
    page = await api(`/api/v1/jobs?${params}`);
  } catch (error) {
    clear(document.getElementById('jobs'), el('p', { class: 'error' }, error.message));
    return;
  }
  if (page.total !== null && page.total !== undefined) document.getElementById('jobs-total').textContent = `${int(page.total)}${page.moreThanTotal ? '+' : ''} match`;
  clear(document.getElementById('jobs'), page.jobs.length === 0 ? el('p', { class: 'empty' }, 'no jobs match')
    : el('table', { id: 'jobs-table' }, el('thead', {}, el('tr', {}, ['job', 'phase', 'since', 'reports', 'last signal', 'changes', 'flags', 'labels'].map(h => el('th', {}, h)))),
      el('tbody', {}, page.jobs.map(j => el('tr', {},
        el('td', {}, el('a', { href: `/job?id=${encodeURIComponent(j.jobId)}` }, j.jobId)),
        el('td', {}, phaseBadge(j.phase)), el('td', { class: 'nowrap' }, time(j.phaseSince)), el('td', {}, j.lastReportedPhase || '—'),
        el('td', { class: 'nowrap' }, time(j.lastSignalAt)), el('td', { class: 'num' }, j.phaseChanges),
        el('td', {}, j.flags.map(flagPill)),
        el('td', { class: 'wrap muted' }, Object.entries(j.labels).map(([k, v]) => `${k}=${v}`).join(' ')))))));
  document.getElementById('jobs-page').textContent = `page ${jobsState.page}`;
  const next = document.getElementById('jobs-next');
  next.disabled = !page.next;
  next.onclick = () => { jobsState.cursor = page.next; jobsState.page++; renderJobs(); };
}

function ask(action) {
  confirmWrite(action.title, action.text, reason => api(action.path, { method: 'POST', body: { reason } }), async () => {
    toast(action.done);
    await refresh();
  });
}

async function refresh() {
  const [summary, history, health] = await Promise.all([api('/api/v1/fleet/summary'), api('/api/v1/fleet/history?hours=72'), api('/api/v1/fleet/health')]);
  renderHealth(health);
  await renderHeld();
  renderPhases(summary);
  renderBreakers(summary);
  renderAttention(summary);
  renderApprovals(summary);
  renderIssues(summary);
  renderHistory(history);
  await renderGates(refresh);
  await renderFeed();
  document.body.dataset.refreshed = String(Date.now());
}

async function start() {
  await signedIn();
  const flagSelect = document.getElementById('f-flag');
  for (const flag of ['awaiting-ack', ...Object.keys(FLAG_TITLES), 'approved', 'no-policy']) flagSelect.append(el('option', { value: flag }, flag));
  document.getElementById('feed-direction').addEventListener('change', event => { feedDirection = event.target.value; renderFeed(); });
  document.getElementById('job-filters').addEventListener('submit', event => { event.preventDefault(); jobsState.cursor = null; jobsState.page = 1; renderJobs(); });
  document.getElementById('jobs-first').addEventListener('click', () => { jobsState.cursor = null; jobsState.page = 1; renderJobs(); });
  await live(refresh);
  await renderJobs();
  document.body.dataset.ready = 'true';
}

start();
