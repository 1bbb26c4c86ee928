// The live chart on /console/telemetry/devices/{id}: the last hour of one metric from the
// readings API, then new readings from the live stream (Server-Sent Events). The page's
// table of recent readings works without this script; the script keeps it up to date.
import uPlot from '/assets/uplot/uPlot.esm.js';

const WINDOW_S = 3600;
const TABLE_ROWS = 30;
const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'medium' });

const chart = document.getElementById('live-chart');
if (chart) start(chart);

async function start(el) {
  const { deviceId, metric, unit } = el.dataset;
  const from = new Date(Date.now() - WINDOW_S * 1000).toISOString();
  const url = `/api/v1/devices/${encodeURIComponent(deviceId)}/readings?metric=${encodeURIComponent(metric)}&from=${encodeURIComponent(from)}&limit=100000`;
  let readings = [];
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (res.ok) readings = (await res.json()).readings;
  } catch {
    // The table still shows the recent readings; the chart starts empty.
  }
  const xs = readings.map((r) => Date.parse(r.at) / 1000);
  const ys = readings.map((r) => r.value);
  const plot = new uPlot(
    {
      width: el.clientWidth || 600,
      height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Europe/London'),
      legend: { show: false },
      series: [{}, { label: unit ? `${metric} (${unit})` : metric, stroke: '#1d70b8', width: 2, points: { show: xs.length < 120 } }],
      axes: [{}, { label: unit || undefined }],
    },
    [xs, ys],
    el,
  );
  window.addEventListener('resize', () => plot.setSize({ width: el.clientWidth || 600, height: 300 }));

  const status = document.getElementById('live-status');
  const tbody = document.querySelector('#recent-readings tbody');
  const stream = new EventSource(`/api/v1/telemetry/stream?deviceId=${encodeURIComponent(deviceId)}`);
  stream.addEventListener('readings', (event) => {
    const mine = JSON.parse(event.data).filter((r) => r.metric === metric);
    if (!mine.length) return;
    for (const r of mine) {
      const x = Date.parse(r.at) / 1000;
      // Readings usually arrive in order; a late one is put in its place.
      let i = xs.length;
      while (i > 0 && xs[i - 1] > x) i--;
      xs.splice(i, 0, x);
      ys.splice(i, 0, r.value);
    }
    const cutoff = Date.now() / 1000 - WINDOW_S;
    while (xs.length && xs[0] < cutoff) {
      xs.shift();
      ys.shift();
    }
    plot.setData([xs, ys]);
    const newest = mine.reduce((a, b) => (Date.parse(b.at) > Date.parse(a.at) ? b : a));
    if (status) status.textContent = `Latest ${metric}: ${newest.value}${unit ? ` ${unit}` : ''} at ${london.format(new Date(newest.at))}.`;
    if (tbody) {
      document.getElementById('no-readings')?.remove();
      for (const r of mine.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) tbody.prepend(row(r));
      while (tbody.rows.length > TABLE_ROWS) tbody.deleteRow(-1);
    }
  });
  window.addEventListener('pagehide', () => stream.close());
}

function row(r) {
  const tr = document.createElement('tr');
  tr.className = 'govuk-table__row';
  const time = document.createElement('td');
  time.className = 'govuk-table__cell';
  time.textContent = london.format(new Date(r.at));
  const value = document.createElement('td');
  value.className = 'govuk-table__cell govuk-table__cell--numeric';
  value.textContent = String(r.value);
  tr.append(time, value);
  return tr;
}
