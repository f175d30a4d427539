// EPMPulse dashboard: the status of every app and domain, live.
//
// Data: GET /api/v1/status (the whole state), then the change stream
// GET /api/v1/events (Server-Sent Events; each event is one history entry).
// A server without the stream (404) is polled instead: GET /api/v1/status
// every second while the tab is visible, every 10 s while hidden; the
// browser revalidates with the ETag, so an unchanged state costs a 304.
// The history drawer reads GET /api/v1/history and GET /api/v1/stats.
// Expectation marks (late, missed, overdue, short, held, maintenance, and the
// next run) come with GET /api/v1/status; they change on the server's timer,
// not only with a push, so while the stream is live the status is read again
// every 5 s (30 s while hidden) and shortly after each change, a 304 when
// nothing moved.
//
// Authentication: the browser holds an HttpOnly session cookie (POST
// /api/v1/session with a read key, asked for once); this script never keeps
// the key after that request. On a public dashboard no sign-in is needed.
//
// Every text from the server goes into the page through textContent or SVG
// text nodes, never as markup.
'use strict';

(function () {
  const STATUSES = ['Warning', 'Loading', 'OK', 'Blank'];
  const POLL_VISIBLE_MS = 1000;
  const POLL_HIDDEN_MS = 10000;
  const RECENT_JOBS = 10;
  const MARKS_VISIBLE_MS = 5000;
  const MARKS_HIDDEN_MS = 30000;
  const MARKS_AFTER_CHANGE_MS = 400;
  const MARKS_MIN_GAP_MS = 2000;
  const MARK_LABELS = {
    late: 'late', missed: 'missed', overdue: 'overdue', short: 'short run',
    held: 'held', maintenance: 'maintenance',
  };

  const state = {
    apps: {},            // app -> domain -> {status, job_id, message, updated, duration_sec, source, expectation?}
    lastUpdated: null,
    statusEtag: null,
    changed: new Map(),  // "app\u0000domain" -> time it changed here (row flash)
    live: null,          // 'sse' | 'poll' | null
    events: null,
    pollTimer: null,
    retryTimer: null,
    marksTimer: null,
    marksDue: 0,         // when the pending read of the marks runs
    marksLast: 0,        // when the last one ran
    retryDelay: 2000,
    drawer: null,        // {app, domain, entries}
    filters: { app: '', status: '', search: '' },
  };

  const $ = (id) => document.getElementById(id);

  // -- small DOM helpers ---------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // A job id with a line-break opportunity after each _ - . or /: a long id
  // wraps at its parts instead of pushing the message out of the card.
  function breakable(id) {
    if (!id) return [];
    const nodes = [];
    for (const part of (id || '').split(/(?<=[_\-./])/)) nodes.push(part, el('wbr', {}));
    nodes.pop();
    return nodes;
  }

  const dot = (status) => el('span', { class: 'dot s-' + status, 'aria-hidden': 'true' });
  const pill = (status) => el('span', { class: 'pill s-' + status }, dot(status), status);

  // -- formatting ------------------------------------------------------------------

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return '';
    const s = Math.max(0, Math.round(seconds));
    if (s >= 3600) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    if (s >= 60) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    return s + 's';
  }

  function formatAge(iso) {
    if (!iso) return '';
    const ms = Date.now() - Date.parse(iso);
    if (Number.isNaN(ms)) return '';
    const s = Math.round(ms / 1000);
    if (s < 45) return 'just now';
    const m = Math.round(s / 60);
    if (m < 60) return m + ' min ago';
    const h = Math.round(m / 60);
    if (h < 48) return h + ' h ago';
    return Math.round(h / 24) + ' d ago';
  }

  // "14:05" today, "Dec 4, 14:05" on another day.
  function formatClock(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ', ' + time;
  }

  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }

  // -- connection indicator --------------------------------------------------------

  function setConnection(kind, text) {
    const node = $('connection');
    node.dataset.state = kind;
    $('connection-text').textContent = text;
    node.title = {
      live: 'Changes arrive as they happen (server-sent events).',
      polling: 'This server has no change stream: the page asks for the status every second.',
      reconnecting: 'The connection dropped; reconnecting.',
      offline: 'The server cannot be reached; retrying.',
      connecting: '',
    }[kind] || '';
  }

  // -- requests ------------------------------------------------------------------

  class Unauthorized extends Error {}

  async function getJson(url) {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-cache' });
    if (response.status === 401 || response.status === 403) throw new Unauthorized();
    if (!response.ok) {
      const error = new Error('HTTP ' + response.status);
      error.status = response.status;
      throw error;
    }
    return { body: await response.json(), etag: response.headers.get('ETag') };
  }

  async function loadStatus() {
    const { body, etag } = await getJson('/api/v1/status');
    if (etag && etag === state.statusEtag) return false;
    const before = state.apps;
    state.apps = body.apps || {};
    state.lastUpdated = body.last_updated || null;
    state.statusEtag = etag;
    // Rows whose content changed since the last read flash once.
    if (Object.keys(before).length) {
      for (const [app, domains] of Object.entries(state.apps))
        for (const [domain, d] of Object.entries(domains)) {
          const old = (before[app] || {})[domain];
          if (!old || old.status !== d.status || old.job_id !== d.job_id || old.message !== d.message)
            state.changed.set(app + '\u0000' + domain, Date.now());
        }
    }
    return true;
  }

  // While the stream is live: the marks of GET /api/v1/status merged in. A
  // row the stream has updated since the body was made keeps its status and
  // takes the mark only (the next read brings its own).
  async function refreshMarks() {
    const { body, etag } = await getJson('/api/v1/status');
    if (etag && etag === state.statusEtag) return false;
    state.statusEtag = etag;
    for (const [app, domains] of Object.entries(body.apps || {})) {
      const mine = state.apps[app] || (state.apps[app] = {});
      for (const [domain, d] of Object.entries(domains)) {
        const local = mine[domain];
        if (!local || (d.updated || '') >= (local.updated || '')) mine[domain] = d;
        else local.expectation = d.expectation;
      }
    }
    return true;
  }

  function scheduleMarks(delay) {
    clearTimeout(state.marksTimer);
    state.marksDue = 0;
    if (state.live !== 'sse') return;
    state.marksDue = Date.now() + delay;
    state.marksTimer = setTimeout(async () => {
      state.marksDue = 0;
      state.marksLast = Date.now();
      try {
        if (await refreshMarks()) render();
      } catch (e) {
        if (e instanceof Unauthorized) return showLogin();
      }
      scheduleMarks(document.hidden ? MARKS_HIDDEN_MS : MARKS_VISIBLE_MS);
    }, delay);
  }

  // After a change: soon, but a stream that never pauses still gets its
  // marks, and at most one read every MARKS_MIN_GAP_MS.
  function marksSoon() {
    const at = Math.max(Date.now() + MARKS_AFTER_CHANGE_MS, state.marksLast + MARKS_MIN_GAP_MS);
    if (state.marksDue && state.marksDue <= at) return;
    scheduleMarks(at - Date.now());
  }

  // -- rendering -----------------------------------------------------------------

  // The domain's expectation: a mark when it is not on time (its cause as the
  // tooltip) and the next expected run.
  function expectationNodes(d) {
    const e = d.expectation;
    if (!e) return [];
    const nodes = [];
    if (e.state && e.state !== 'on_time')
      nodes.push(el('span', { class: 'mark m-' + e.state, title: e.cause || '' },
        MARK_LABELS[e.state] || e.state));
    if (e.next_run)
      nodes.push(el('span', { class: 'next-run muted', title: formatTime(e.next_run) },
        'next ' + formatClock(e.next_run)));
    return nodes;
  }

  function matches(app, domain, d) {
    const f = state.filters;
    if (f.app && app !== f.app) return false;
    if (f.status && d.status !== f.status) return false;
    if (f.search) {
      const hay = [app, domain, d.job_id || '', d.message || ''].join('\n').toLowerCase();
      if (!hay.includes(f.search.toLowerCase())) return false;
    }
    return true;
  }

  function worst(domains) {
    for (const s of STATUSES.slice(0, 3)) if (domains.some((d) => d.status === s)) return s;
    return 'Blank';
  }

  function renderSummary() {
    const counts = { Warning: 0, Loading: 0, OK: 0, Blank: 0 };
    for (const domains of Object.values(state.apps))
      for (const d of Object.values(domains)) counts[d.status] = (counts[d.status] || 0) + 1;
    const node = $('summary');
    node.replaceChildren(...STATUSES.map((s) => el('button', {
      type: 'button', class: 'chip', 'aria-pressed': String(state.filters.status === s),
      dataset: { status: s },
      onclick: () => { setFilter('status', state.filters.status === s ? '' : s); },
    }, el('span', { class: 'dot s-' + s, 'aria-hidden': 'true' }),
    el('span', {}, el('div', { class: 'chip-count' }, counts[s]), el('div', { class: 'chip-label' }, s)))));
  }

  function renderAppOptions() {
    const select = $('filter-app');
    const names = Object.keys(state.apps);
    const current = Array.from(select.options).slice(1).map((o) => o.value);
    if (current.join('\u0000') === names.join('\u0000')) return;
    select.replaceChildren(el('option', { value: '' }, 'All apps'),
      ...names.map((n) => el('option', { value: n }, n)));
    select.value = names.includes(state.filters.app) ? state.filters.app : '';
  }

  function domainRow(app, domain, d) {
    const key = app + '\u0000' + domain;
    const changedAt = state.changed.get(key);
    const fresh = changedAt && Date.now() - changedAt < 2500;
    return el('tr', {
      class: 'domain-row' + (fresh ? ' changed' : ''), tabindex: '0',
      dataset: { app, domain, status: d.status },
      onclick: () => openDrawer(app, domain),
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDrawer(app, domain); } },
    },
    el('td', { class: 'c-domain' }, el('span', { class: 'domain-name' }, domain)),
    el('td', { class: 'c-status' }, pill(d.status), ...expectationNodes(d)),
    el('td', { class: 'c-job mono' }, ...breakable(d.job_id)),
    el('td', { class: 'c-age nowrap', title: formatTime(d.updated), 'data-label': d.updated ? 'Updated' : null }, formatAge(d.updated)),
    el('td', { class: 'c-duration nowrap', 'data-label': d.duration_sec !== null && d.duration_sec !== undefined ? 'Took' : null }, formatDuration(d.duration_sec)),
    el('td', { class: 'c-message message' }, d.message || ''));
  }

  function renderApps() {
    const cards = [];
    for (const [app, domains] of Object.entries(state.apps)) {
      const all = Object.entries(domains);
      const shown = all.filter(([name, d]) => matches(app, name, d));
      if (!shown.length) continue;
      const overall = worst(all.map(([, d]) => d));
      const ok = all.filter(([, d]) => d.status === 'OK').length;
      cards.push(el('article', { class: 'card app-card', dataset: { app } },
        el('header', { class: 'app-head' }, dot(overall), el('h2', {}, app),
          el('span', { class: 'app-counts' }, ok + ' of ' + all.length + ' OK')),
        el('table', { class: 'domains' },
          el('thead', {}, el('tr', {}, ['Domain', 'Status', 'Job', 'Updated', 'Duration', 'Message'].map((h) => el('th', {}, h)))),
          el('tbody', {}, shown.map(([name, d]) => domainRow(app, name, d))))));
    }
    $('apps').replaceChildren(...cards);
    $('no-match').hidden = cards.length > 0;
  }

  // The recent jobs, from the domains' current job ids: one line per job,
  // newest first, with the apps and domains it touched and its worst status.
  function renderRecent() {
    const jobs = new Map();
    for (const [app, domains] of Object.entries(state.apps))
      for (const [domain, d] of Object.entries(domains)) {
        if (!d.job_id) continue;
        const job = jobs.get(d.job_id) || { id: d.job_id, parts: [], statuses: [], updated: '' };
        job.parts.push(app + '/' + domain);
        job.statuses.push(d);
        if ((d.updated || '') > job.updated) job.updated = d.updated;
        jobs.set(d.job_id, job);
      }
    const list = Array.from(jobs.values()).sort((a, b) => (a.updated < b.updated ? 1 : -1)).slice(0, RECENT_JOBS);
    if (!list.length) {
      $('recent').replaceChildren(el('p', { class: 'empty' }, 'No job has reported yet.'));
      return;
    }
    $('recent').replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Job', 'Status', 'Domains', 'Updated'].map((h) => el('th', {}, h)))),
      el('tbody', {}, list.map((job) => el('tr', { dataset: { job: job.id } },
        el('td', { class: 'mono' }, job.id),
        el('td', {}, pill(worst(job.statuses))),
        el('td', { class: 'muted' }, job.parts.join(', ')),
        el('td', { class: 'nowrap', title: formatTime(job.updated) }, formatAge(job.updated)))))));
  }

  function render() {
    $('last-updated').textContent = state.lastUpdated
      ? 'Last change ' + formatAge(state.lastUpdated) + ' · ' + formatTime(state.lastUpdated)
      : 'No change yet';
    renderSummary();
    renderAppOptions();
    renderApps();
    renderRecent();
  }

  function setFilter(name, value) {
    state.filters[name] = value;
    if (name === 'status') $('filter-status').value = value;
    if (name === 'app') $('filter-app').value = value;
    render();
  }

  // -- live changes --------------------------------------------------------------

  // One history entry (the SSE event's data) applied to the shown state.
  function applyEntry(entry) {
    const domains = state.apps[entry.app] || (state.apps[entry.app] = {});
    const before = domains[entry.domain];
    domains[entry.domain] = {
      status: entry.status, job_id: entry.job_id, message: entry.message,
      updated: entry.event_time, duration_sec: entry.duration_sec, source: entry.source,
      expectation: before && before.expectation,
    };
    // The change moves the marks on the server too.
    marksSoon();
    if (!state.lastUpdated || entry.event_time > state.lastUpdated) state.lastUpdated = entry.event_time;
    state.statusEtag = null;
    state.changed.set(entry.app + '\u0000' + entry.domain, Date.now());
    const drawer = state.drawer;
    if (drawer && drawer.app === entry.app && drawer.domain === entry.domain && drawer.entries) {
      drawer.entries.unshift(entry);
      renderDrawer();
    }
    render();
  }

  function stopLive() {
    if (state.events) { state.events.close(); state.events = null; }
    clearTimeout(state.pollTimer);
    clearTimeout(state.retryTimer);
    clearTimeout(state.marksTimer);
    state.live = null;
  }

  // What the server answers on the stream's URL (EventSource hides it):
  // only the status line is read, the body is dropped.
  async function probeEvents() {
    const abort = new AbortController();
    try {
      const response = await fetch('/api/v1/events', { credentials: 'same-origin', signal: abort.signal });
      return response.status;
    } catch (e) {
      return 0;
    } finally {
      abort.abort();
    }
  }

  function connectEvents() {
    stopLive();
    state.live = 'sse';
    const source = new EventSource('/api/v1/events');
    state.events = source;
    source.addEventListener('open', () => {
      state.retryDelay = 2000;
      setConnection('live', 'Live');
      scheduleMarks(MARKS_VISIBLE_MS);
    });
    source.addEventListener('change', (event) => {
      try { applyEntry(JSON.parse(event.data)); } catch (e) { /* a malformed event is skipped */ }
    });
    source.addEventListener('error', async () => {
      if (source.readyState === EventSource.CONNECTING) {
        // The browser reconnects on its own and sends Last-Event-ID, so the
        // server replays what was missed.
        setConnection('reconnecting', 'Reconnecting…');
        return;
      }
      source.close();
      if (state.events !== source) return;
      state.events = null;
      const status = await probeEvents();
      if (status === 404) return startPolling();
      if (status === 401 || status === 403) return showLogin();
      setConnection('offline', 'Disconnected');
      scheduleReconnect();
    });
  }

  // A new EventSource cannot send the last id it saw: the status is read
  // again first, so nothing missed while away stays missing.
  function scheduleReconnect() {
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(async () => {
      try {
        state.statusEtag = null;
        await loadStatus();
        render();
        connectEvents();
      } catch (e) {
        if (e instanceof Unauthorized) return showLogin();
        state.retryDelay = Math.min(state.retryDelay * 2, 30000);
        scheduleReconnect();
      }
    }, state.retryDelay);
  }

  function startPolling() {
    stopLive();
    state.live = 'poll';
    setConnection('polling', 'Live (polling)');
    const tick = async () => {
      try {
        if (await loadStatus()) render();
        setConnection('polling', 'Live (polling)');
      } catch (e) {
        if (e instanceof Unauthorized) return showLogin();
        setConnection('offline', 'Disconnected');
      }
      if (state.live === 'poll')
        state.pollTimer = setTimeout(tick, document.hidden ? POLL_HIDDEN_MS : POLL_VISIBLE_MS);
    };
    state.pollTimer = setTimeout(tick, POLL_VISIBLE_MS);
  }

  // -- history drawer --------------------------------------------------------------

  async function openDrawer(app, domain) {
    state.drawer = { app, domain, entries: null, stats: null, error: null };
    $('drawer').hidden = false;
    $('drawer-backdrop').hidden = false;
    renderDrawer();
    $('drawer-close').focus();
    const query = 'app=' + encodeURIComponent(app) + '&domain=' + encodeURIComponent(domain);
    const [history, stats] = await Promise.allSettled([
      getJson('/api/v1/history?' + query + '&limit=100'),
      getJson('/api/v1/stats?' + query + '&days=30'),
    ]);
    const drawer = state.drawer;
    if (!drawer || drawer.app !== app || drawer.domain !== domain) return;
    if (history.status === 'fulfilled') drawer.entries = history.value.body.entries || [];
    else drawer.error = history.reason && history.reason.status === 404
      ? 'This server keeps no history yet.' : 'The history could not be loaded.';
    if (stats.status === 'fulfilled') drawer.stats = (stats.value.body.domains || [])[0] || null;
    renderDrawer();
  }

  function closeDrawer() {
    state.drawer = null;
    $('drawer').hidden = true;
    $('drawer-backdrop').hidden = true;
  }

  function statBox(label, value) {
    return el('div', { class: 'stat' }, el('div', { class: 'stat-value' }, value), el('div', { class: 'stat-label' }, label));
  }

  // Bars of the finished runs' durations, oldest left; the dashed line is
  // the median.
  function durationChart(entries) {
    const runs = entries.filter((e) => (e.status === 'OK' || e.status === 'Warning')
      && e.duration_sec !== null && e.duration_sec !== undefined).slice(0, 40).reverse();
    if (!runs.length) return el('p', { class: 'empty' }, 'No finished run with a duration yet.');
    const width = 520, height = 160, left = 44, bottom = 22, top = 10;
    const max = Math.max(...runs.map((r) => r.duration_sec), 1);
    const sorted = runs.map((r) => r.duration_sec).sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const plotW = width - left - 6, plotH = height - top - bottom;
    const step = plotW / runs.length;
    const barW = Math.max(2, Math.min(28, step * 0.7));
    const y = (v) => top + plotH - (v / max) * plotH;
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': 'Durations of the last ' + runs.length + ' runs' });
    chart.append(svg('line', { class: 'axis', x1: left, y1: top + plotH, x2: width - 6, y2: top + plotH }));
    for (const v of [0, max / 2, max]) {
      chart.append(svg('text', { class: 'grid-label', x: left - 6, y: y(v) + 3, 'text-anchor': 'end' }, formatDuration(v)));
      chart.append(svg('line', { class: 'axis', x1: left, y1: y(v), x2: width - 6, y2: y(v), 'stroke-opacity': 0.5 }));
    }
    runs.forEach((r, i) => {
      const h = Math.max(1, (r.duration_sec / max) * plotH);
      const bar = svg('rect', { class: 'bar-' + r.status, x: left + i * step + (step - barW) / 2, y: top + plotH - h,
        width: barW, height: h, rx: 2 });
      bar.append(svg('title', {}, formatTime(r.event_time) + ' · ' + r.status + ' · ' + formatDuration(r.duration_sec)
        + (r.job_id ? ' · ' + r.job_id : '')));
      chart.append(bar);
    });
    chart.append(svg('line', { class: 'median', x1: left, y1: y(median), x2: width - 6, y2: y(median) }));
    chart.append(svg('text', { class: 'grid-label', x: width - 8, y: y(median) - 4, 'text-anchor': 'end' }, 'median ' + formatDuration(median)));
    return chart;
  }

  function renderDrawer() {
    const drawer = state.drawer;
    if (!drawer) return;
    const d = (state.apps[drawer.app] || {})[drawer.domain] || { status: 'Blank' };
    $('drawer-app').textContent = drawer.app;
    $('drawer-title').textContent = drawer.domain;
    // replaceChildren would show a null as the text "null".
    $('drawer-current').replaceChildren(...[pill(d.status), ...expectationNodes(d),
      d.job_id ? el('span', { class: 'mono' }, d.job_id) : null,
      d.updated ? el('span', { class: 'muted', title: formatTime(d.updated) }, formatAge(d.updated)) : null,
      d.duration_sec !== null && d.duration_sec !== undefined ? el('span', { class: 'muted' }, 'took ' + formatDuration(d.duration_sec)) : null,
      d.message ? el('span', { class: 'message' }, d.message) : null].filter(Boolean));
    const s = drawer.stats;
    $('drawer-stats').replaceChildren(...(s ? [
      statBox('Runs (30 days)', s.runs),
      statBox('Succeeded', s.runs ? Math.round((100 * s.successes) / s.runs) + '%' : '–'),
      statBox('Median', formatDuration(s.median_duration_sec) || '–'),
      statBox('95th percentile', formatDuration(s.p95_duration_sec) || '–'),
    ] : []));
    const history = $('drawer-history');
    if (drawer.error) {
      $('drawer-chart').replaceChildren(el('p', { class: 'empty' }, drawer.error));
      history.replaceChildren();
      return;
    }
    if (!drawer.entries) {
      $('drawer-chart').replaceChildren(el('p', { class: 'empty' }, 'Loading…'));
      history.replaceChildren();
      return;
    }
    $('drawer-chart').replaceChildren(durationChart(drawer.entries));
    if (!drawer.entries.length) {
      history.replaceChildren(el('p', { class: 'empty' }, 'No change recorded yet.'));
      return;
    }
    history.replaceChildren(el('ul', { class: 'history-list' }, drawer.entries.map((e) => el('li', { dataset: { id: e.id, status: e.status } },
      dot(e.status),
      el('div', { class: 'what' }, el('strong', {}, (e.old_status ? e.old_status + ' → ' : '') + e.status),
        e.job_id ? el('span', { class: 'mono' }, ' · ' + e.job_id) : null,
        e.duration_sec !== null && e.duration_sec !== undefined ? ' · ' + formatDuration(e.duration_sec) : null),
      e.message ? el('div', { class: 'what message' }, e.message) : null,
      el('div', { class: 'when' }, formatTime(e.event_time) + ' · ' + e.source + (e.key_name ? ' · ' + e.key_name : ''))))));
  }

  // -- sign in -------------------------------------------------------------------

  function showLogin(message) {
    stopLive();
    closeDrawer();
    $('main').hidden = true;
    $('sign-out').hidden = true;
    $('login').hidden = false;
    setConnection('offline', 'Signed out');
    const error = $('login-error');
    error.hidden = !message;
    error.textContent = message || '';
    $('login-key').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('login-key');
    const key = input.value.trim();
    input.value = '';
    if (!key) return;
    let response;
    try {
      response = await fetch('/api/v1/session', {
        method: 'POST', credentials: 'same-origin', headers: { Authorization: 'Bearer ' + key },
      });
    } catch (e) {
      return showLogin('The server cannot be reached.');
    }
    if (response.status !== 204) {
      return showLogin(response.status === 429 ? 'Too many attempts; wait a minute.'
        : 'This key was not accepted.');
    }
    start();
  }

  async function signOut() {
    await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
    state.apps = {};
    state.statusEtag = null;
    showLogin();
  }

  // -- start ---------------------------------------------------------------------

  async function start() {
    setConnection('connecting', 'Connecting…');
    try {
      state.statusEtag = null;
      await loadStatus();
    } catch (e) {
      if (e instanceof Unauthorized) return showLogin();
      setConnection('offline', 'Disconnected');
      state.retryTimer = setTimeout(start, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 30000);
      return;
    }
    $('login').hidden = true;
    $('main').hidden = false;
    $('sign-out').hidden = false;
    render();
    connectEvents();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('filter-app').addEventListener('change', (e) => setFilter('app', e.target.value));
    $('filter-status').addEventListener('change', (e) => setFilter('status', e.target.value));
    $('filter-search').addEventListener('input', (e) => setFilter('search', e.target.value.trim()));
    $('drawer-close').addEventListener('click', closeDrawer);
    $('drawer-backdrop').addEventListener('click', closeDrawer);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && state.drawer) closeDrawer(); });
    // Ages ("12 min ago") move on without any change.
    setInterval(() => { if (!$('main').hidden) render(); }, 15000);
    start();
  });
})();
