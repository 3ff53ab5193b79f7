import { timeScale, api, clear, confirmWrite, duration, el, flagPill, int, isOperator, live, num, phaseBadge, seconds, session, signedIn, time, toast } from './common.js';

const jobId = new URLSearchParams(location.search).get('id') || '';
const charts = [];

const ACTIONS = [
  { kind: 'hold', label: 'Hold', text: 'Keep the policy from moving this job (up or down) until released or for a while.' },
  { kind: 'release', label: 'Release', text: 'End the hold or pin in force and lift a quarantine: the policy moves the job again.' },
  { kind: 'pin', label: 'Pin…', text: 'Move the job to a phase now and keep it there.' },
  { kind: 'force-promote', label: 'Force promote', text: 'Move the job one phase forward now; the policy takes over from there.' },
  { kind: 'force-demote', label: 'Force demote', text: 'Move the job one phase back now; the policy takes over from there.' },
];

// What holds the job besides its criteria, as the API names it, and how its badge reads.
const HOLDS = { silent: 'silent', 'awaiting-approval': 'awaiting approval', approved: 'approved', paused: 'paused', 'outside-window': 'outside window' };

const holdBadge = h => el('span', { class: `state-badge state-${h.kind}`, dataset: { hold: h.kind }, title: h.text }, HOLDS[h.kind] || h.kind);

function renderHolds(d) {
  clear(document.getElementById('holds'), d.holds.map(h => el('div', { class: `hold hold-${h.kind}`, dataset: { hold: h.kind } },
    holdBadge(h), el('span', { class: 'hold-text' }, h.text))));
}

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(p => p).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function renderSummary(d) {
  document.getElementById('heading').textContent = d.jobId;
  document.getElementById('job-title').textContent = d.jobId;
  document.title = `${d.jobId} · Streaming`;
  const soak = d.soak;
  const soakShare = seconds(soak.required) === 0 ? 1 : Math.min(1, seconds(soak.elapsed) / seconds(soak.required));
  const bar = el('div', { class: 'progress' }, el('div', {}));
  bar.firstChild.style.width = `${(soakShare * 100).toFixed(1)}%`;
  clear(document.getElementById('summary'), kv([
    ['policy', d.policy],
    ['assigned phase', el('span', { id: 'phase-line' }, phaseBadge(d.assignedPhase), d.holds.map(holdBadge), ` since ${time(d.phaseSince)} (assigned ${time(d.assignedAt)})`)],
    ['reported phase', d.reportedPhase ? phaseBadge(d.reportedPhase) : '—'],
    ['next phase', d.nextPhase ? phaseBadge(d.nextPhase) : 'none: last phase'],
    ['verdict', el('span', { class: `pill ${d.verdict}`, id: 'verdict' }, d.verdict)],
    d.blocking ? ['blocking', el('strong', { id: 'blocking' }, d.blocking)] : null,
    ['streak', `${d.promotionStreak} of ${d.promoteAfter} passing evaluations to promote` + (d.demoteAfter ? `; ${d.demotionStreak} of ${d.demoteAfter} failing to demote` : '')],
    ['soak', el('div', {}, `${duration(seconds(soak.elapsed))} of ${duration(seconds(soak.required))}${soak.met ? ' (met)' : ` (until ${time(soak.endsAt)})`}`, bar)],
    ['earliest move', el('span', { id: 'earliest-move' }, `${d.earliestMove ? time(d.earliestMove) + ': ' : ''}${d.earliestMoveNote}`)],
    ['flags', el('span', { id: 'flags' }, d.flags.length ? d.flags.map(flagPill) : '—')],
    ['labels', el('span', { id: 'labels' }, Object.entries(d.labels).map(([k, v]) => el('span', { class: 'pill' }, `${k}=${v}`)))],
    d.overrideInForce ? ['override in force', `${d.overrideInForce.kind}${d.overrideInForce.phase ? ' to ' + d.overrideInForce.phase : ''} by ${d.overrideInForce.actor}: ${d.overrideInForce.reason}${d.overrideInForce.expiresAt ? ' (until ' + time(d.overrideInForce.expiresAt) + ')' : ''}`] : null,
    d.waitingFor ? ['waiting for', d.waitingFor] : null,
    ['last signal', `${time(d.lastSignalAt)} (seq ${d.lastSeq ?? '—'})`],
  ]));
}

function criteriaTable(rows, side, blocking) {
  return rows.map(c => el('tr', { class: blocking && c.verdict !== 'pass' && c.verdict !== 'ignored' ? 'blocking' : null },
    el('td', {}, side), el('td', {}, c.metric), el('td', {}, `${c.aggregation} over ${duration(seconds(c.window))}`),
    el('td', { class: 'num' }, num(c.value)), el('td', {}, `${c.comparison} ${num(c.threshold)}`), el('td', { class: 'num' }, c.samples),
    el('td', {}, el('span', { class: `pill ${c.verdict}` }, c.verdict))));
}

function renderCriteria(d) {
  document.getElementById('criteria-sub').textContent = d.nextPhase ? `to promote ${d.assignedPhase} → ${d.nextPhase}` + (d.previousPhase ? `; to demote → ${d.previousPhase}` : '') : '';
  const rows = [...criteriaTable(d.promote, 'promote', true), ...criteriaTable(d.demote, 'demote', false)];
  clear(document.getElementById('criteria'), rows.length === 0 ? el('p', { class: 'empty' }, 'no gate out of this phase')
    : el('table', { id: 'criteria-table' }, el('thead', {}, el('tr', {}, ['rule', 'metric', 'aggregation', 'value', 'threshold', 'samples', 'verdict'].map(h => el('th', {}, h)))),
      el('tbody', {}, rows)));
}

function renderTimeline(d, series) {
  const target = document.getElementById('timeline');
  const changes = [...d.decisions].reverse();
  const start = series.historyFrom ? Date.parse(series.historyFrom) : Date.parse(d.phaseSince || d.lastSignalAt);
  const end = Date.parse(d.lastSignalAt || d.phaseSince);
  if (!start || !end || end <= start) { clear(target, el('p', { class: 'empty' }, 'not enough history yet')); return; }
  const segments = [];
  let phase = changes.find(c => Date.parse(c.decidedAt) >= start)?.from || d.assignedPhase, from = start;
  for (const change of changes) {
    const at = Date.parse(change.decidedAt);
    if (at < start) { phase = change.to; continue; }
    segments.push({ phase, from, to: at }); phase = change.to; from = at;
  }
  segments.push({ phase, from, to: end });
  const strip = el('div', { class: 'timeline', id: 'phase-timeline' }, segments.map(s => {
    const node = el('div', { class: `p-${s.phase}`, title: `${s.phase}: ${time(s.from)} → ${time(s.to)}` }, s.phase);
    node.style.flexGrow = String(Math.max(0.0001, s.to - s.from));
    node.style.flexBasis = '0';
    return node;
  }));
  clear(target, strip, el('div', { class: 'timeline-axis' }, el('span', {}, time(start)), el('span', {}, time(end))));
}

// Draws vertical lines at decision times (and the soak's end) over the plot.
function markers(decisions, soakEndsAt) {
  return {
    hooks: {
      draw: [u => {
        const ctx = u.ctx;
        const marks = decisions.map(d => ({ at: Date.parse(d.at) / 1000, color: d.direction === 'demote' ? '#d6453d' : d.direction === 'override' ? '#8a55d7' : '#2e9e5b', dash: [] }));
        if (soakEndsAt) marks.push({ at: Date.parse(soakEndsAt) / 1000, color: '#2d6cdf', dash: [2, 4] });
        ctx.save();
        for (const mark of marks) {
          if (mark.at < u.scales.x.min || mark.at > u.scales.x.max) continue;
          const x = Math.round(u.valToPos(mark.at, 'x', true));
          ctx.strokeStyle = mark.color; ctx.lineWidth = 2 * devicePixelRatio; ctx.setLineDash(mark.dash.map(v => v * devicePixelRatio));
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

function renderCharts(series) {
  charts.splice(0).forEach(c => c.destroy());
  const target = document.getElementById('charts');
  document.getElementById('charts-basis').textContent = series.basis || '';
  if (series.lines.length === 0) { clear(target, el('p', { class: 'empty span-12' }, 'no policy criteria govern this job')); return; }
  if (series.times.length === 0) { clear(target, el('p', { class: 'empty span-12' }, `no signals in ${series.chartedPhase || series.phase} yet`)); return; }
  const xs = series.times.map(t => Date.parse(t) / 1000);
  const byMetric = new Map();
  for (const line of series.lines) byMetric.set(line.metric, [...(byMetric.get(line.metric) || []), line]);
  clear(target);
  for (const [metric, lines] of byMetric) {
    const box = el('div', { class: 'span-6 chart-box', dataset: { metric } }, el('h3', { class: 'muted' }, metric));
    target.append(box);
    const data = [xs];
    const uSeries = [{}];
    lines.forEach((line, i) => {
      data.push(line.values);
      uSeries.push({ label: `${line.aggregation} (${line.promoteThreshold !== null ? 'promote' : 'demote'} rule)`, stroke: i === 0 ? '#1c2430' : '#8a55d7', width: 1.5, spanGaps: false });
    });
    for (const line of lines) {
      if (line.promoteThreshold !== null) { data.push(xs.map(() => line.promoteThreshold)); uSeries.push({ label: `promote ${line.comparison} ${num(line.promoteThreshold)}`, stroke: '#2e9e5b', dash: [6, 4], width: 1.5 }); }
      if (line.demoteThreshold !== null) { data.push(xs.map(() => line.demoteThreshold)); uSeries.push({ label: `demote when not ${line.comparison} ${num(line.demoteThreshold)}`, stroke: '#d6453d', dash: [6, 4], width: 1.5 }); }
    }
    const width = Math.max(320, box.clientWidth);
    charts.push(new uPlot({ width, height: 230, series: uSeries, scales: { x: timeScale }, axes: [{}, { size: 70, values: (u, ticks) => ticks.map(v => num(v)) }], plugins: [markers(series.decisions, series.soakEndsAt)] }, data, box));
  }
}

function renderDecisions(d) {
  clear(document.getElementById('decisions'), d.decisions.length === 0 ? el('p', { class: 'empty' }, 'no phase changes yet')
    : d.decisions.map(c => el('details', { class: 'decision' },
      el('summary', {}, time(c.decidedAt), ' ', el('span', { class: `pill ${c.direction}` }, c.direction), ' ', phaseBadge(c.from), ' → ', phaseBadge(c.to),
        ' ', el('span', { class: 'muted' }, `${c.policy}${c.quarantined ? ' · quarantined' : ''}`)),
      el('p', { class: 'wrap' }, c.reason),
      el('p', { class: 'muted' }, `event ${c.eventId} at version ${c.version}; decided at version ${c.decidingVersion} from versions ${c.firstVersion}–${c.lastVersion}`),
      c.criteria.length === 0 ? null : el('table', {}, el('thead', {}, el('tr', {}, ['metric', 'aggregation', 'value', 'threshold', 'samples', 'verdict'].map(h => el('th', {}, h)))),
        el('tbody', {}, c.criteria.map(k => el('tr', {}, el('td', {}, k.metric), el('td', {}, k.aggregation), el('td', { class: 'num' }, num(k.value)),
          el('td', {}, `${k.comparison} ${num(k.threshold)}`), el('td', { class: 'num' }, k.samples), el('td', {}, el('span', { class: `pill ${k.verdict}` }, k.verdict)))))))));
}

function renderOverrides(d) {
  clear(document.getElementById('overrides'), d.overrides.length === 0 ? el('p', { class: 'empty' }, 'no overrides')
    : el('table', { id: 'overrides-table' }, el('thead', {}, el('tr', {}, ['when', 'what', 'who', 'why'].map(h => el('th', {}, h)))),
      el('tbody', {}, d.overrides.map(o => el('tr', {}, el('td', { class: 'nowrap' }, time(o.at)),
        el('td', {}, o.type === 'set' ? `${o.kind}${o.phase ? ' to ' + o.phase : ''}${o.expiresAt ? ' until ' + time(o.expiresAt) : ''}` : `${o.kind} ended`),
        el('td', { class: 'actor' }, o.actor || '—'), el('td', { class: 'wrap' }, o.reason))))));
  const metrics = [...new Set(d.recentSignals.flatMap(s => Object.keys(s.metrics)))].sort();
  clear(document.getElementById('signals'), d.recentSignals.length === 0 ? el('p', { class: 'empty' }, 'no signals')
    : el('table', {}, el('thead', {}, el('tr', {}, ['emitted', 'seq', 'phase', ...metrics].map(h => el('th', {}, h)))),
      el('tbody', {}, d.recentSignals.map(s => el('tr', {}, el('td', { class: 'nowrap' }, time(s.emittedAt)), el('td', { class: 'num' }, s.seq), el('td', {}, s.phase),
        metrics.map(m => el('td', { class: 'num' }, num(s.metrics[m]))))))));
}

function renderApproval(d, approvals) {
  const card = document.getElementById('approval-card');
  const wait = approvals.waiting;
  card.classList.toggle('hidden', !wait);
  if (!wait) { clear(document.getElementById('approval')); return; }
  document.getElementById('approval-sub').textContent = `${wait.from} → ${wait.to} by ${wait.policy}, since ${time(wait.requestedAt)}`;
  const evidence = el('table', { id: 'approval-evidence' }, el('thead', {}, el('tr', {}, ['metric', 'aggregation', 'value', 'threshold', 'samples', 'verdict'].map(h => el('th', {}, h)))),
    el('tbody', {}, wait.criteria.map(k => el('tr', {}, el('td', {}, k.metric), el('td', {}, k.aggregation), el('td', { class: 'num' }, num(k.value)),
      el('td', {}, `${k.comparison} ${num(k.threshold)}`), el('td', { class: 'num' }, k.samples), el('td', {}, el('span', { class: `pill ${k.verdict}` }, k.verdict))))));
  const granted = wait.granted
    ? el('p', { id: 'approval-granted' }, el('span', { class: 'pill pass' }, 'approved'), ` by ${wait.granted.actor} at ${time(wait.granted.grantedAt)} (${wait.granted.scope}): ${wait.granted.reason}. `,
      'The move is made at the job\'s next signal while the criteria hold; it lapses if they stop holding first.')
    : el('p', { class: 'muted' }, 'The criteria passed; the gate needs an operator\'s approval. An approval permits this one move, and lapses if the criteria stop holding before it.');
  const button = isOperator() && !wait.granted
    ? el('button', { type: 'button', id: 'action-approve', class: 'primary', onclick: () => approve(d, wait) }, `Approve ${wait.from} → ${wait.to}…`)
    : null;
  clear(document.getElementById('approval'), el('p', { class: 'wrap' }, wait.reason), evidence, granted, button);
}

function approve(d, wait) {
  document.getElementById('pin-field').classList.add('hidden');
  document.getElementById('for-field').classList.add('hidden');
  confirmWrite(`Approve ${d.jobId}: ${wait.from} → ${wait.to}`, 'Permit this job\'s promotion. It is made at its next signal if the criteria still hold, within the gate\'s wave and breaker.',
    reason => api(`/api/v1/jobs/${encodeURIComponent(d.jobId)}/approve`, { method: 'POST', body: { reason } }),
    async () => {
      toast(`approval of ${d.jobId} recorded`);
      await refresh();
    });
}

function renderActions(d) {
  const card = document.getElementById('actions-card');
  const summary = document.getElementById('summary').parentElement;
  summary.classList.toggle('span-12', !isOperator());
  summary.classList.toggle('span-8', isOperator());
  if (!isOperator()) { card.classList.add('hidden'); return; }
  card.classList.remove('hidden');
  clear(document.getElementById('actions'), el('div', { class: 'actions' },
    ACTIONS.map(a => el('button', { type: 'button', id: `action-${a.kind}`, class: a.kind.startsWith('force') ? 'danger' : null, onclick: () => ask(a, d) }, a.label))),
    el('p', { class: 'muted' }, `Recorded with you (${session.name}) as the actor.`));
}

function ask(action, d) {
  document.getElementById('pin-field').classList.toggle('hidden', action.kind !== 'pin');
  document.getElementById('for-field').classList.toggle('hidden', action.kind !== 'hold' && action.kind !== 'pin');
  clear(document.getElementById('confirm-phase'), d.phases.map(p => el('option', { value: p }, p)));
  document.getElementById('confirm-for').value = '';
  confirmWrite(`${action.label.replace('…', '')} ${d.jobId}`, action.text, reason => {
    const body = { kind: action.kind, reason };
    if (action.kind === 'pin') body.phase = document.getElementById('confirm-phase').value;
    const lasting = document.getElementById('confirm-for').value.trim();
    if (lasting && (action.kind === 'hold' || action.kind === 'pin')) body.for = lasting;
    return api(`/api/v1/jobs/${encodeURIComponent(d.jobId)}/overrides`, { method: 'POST', body });
  }, async () => {
    toast(`${action.kind} of ${d.jobId} recorded`);
    await refresh();
  });
}

async function refresh() {
  const [d, series, approvals] = await Promise.all([api(`/api/v1/jobs/${encodeURIComponent(jobId)}`), api(`/api/v1/jobs/${encodeURIComponent(jobId)}/series`),
    api(`/api/v1/jobs/${encodeURIComponent(jobId)}/approvals`)]);
  renderSummary(d);
  renderHolds(d);
  renderApproval(d, approvals);
  renderCriteria(d);
  renderTimeline(d, series);
  renderCharts(series);
  renderDecisions(d);
  renderOverrides(d);
  renderActions(d);
  document.body.dataset.refreshed = String(Date.now());
}

async function start() {
  await signedIn();
  try {
    await live(refresh, 5000, ['decisions']);
  } catch (error) {
    clear(document.querySelector('main'), el('p', { class: 'error' }, error.message));
  }
  document.body.dataset.ready = 'true';
}

start();
