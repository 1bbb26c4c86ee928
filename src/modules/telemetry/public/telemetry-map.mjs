// The live map on /console/telemetry/map: devices as circle markers coloured by value band,
// from the JSON the page embeds, then kept up to date from the live stream (Server-Sent
// Events). With no tile URL it draws on a blank background, so it works offline. The
// page's table carries the same devices and values without JavaScript.
import * as L from '/assets/estate/leaflet-src.esm.js';

const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'medium' });

const el = document.getElementById('telemetry-map');
const dataEl = document.getElementById('telemetry-map-data');
if (el && dataEl) {
  try {
    start(el, JSON.parse(dataEl.textContent));
  } catch {
    el.replaceChildren(Object.assign(document.createElement('p'), { className: 'govuk-body weft-telemetry-map__fallback', textContent: 'The map could not be drawn. The table on this page has the same information.' }));
  }
}

/** The CSS class of a device's band: by the colouring metric's latest value. */
function bandOf(data, device) {
  if (!data.metric) return Object.keys(device.values).length ? 'reading' : 'none';
  const v = device.values[data.metric];
  if (!v) return 'none';
  for (const b of data.bands) if (b.max === null || v.value <= b.max) return b.key;
  return 'none';
}

function markerClass(data, device) {
  return `weft-tm-marker weft-tm--${bandOf(data, device)}`;
}

function popup(data, device) {
  const box = document.createElement('div');
  const link = document.createElement('a');
  link.className = 'govuk-link';
  link.href = `/console/telemetry/devices/${encodeURIComponent(device.id)}`;
  link.textContent = device.name;
  box.append(link);
  if (device.siteName) {
    const site = document.createElement('p');
    site.className = 'govuk-body-s govuk-!-margin-0';
    site.textContent = device.siteName;
    box.append(site);
  }
  const names = [...data.metrics.filter((m) => device.values[m]), ...Object.keys(device.values).filter((m) => !data.metrics.includes(m))];
  if (!names.length) {
    box.append(Object.assign(document.createElement('p'), { className: 'govuk-body-s govuk-!-margin-0', textContent: 'No readings yet.' }));
    return box;
  }
  const list = document.createElement('dl');
  list.className = 'govuk-body-s govuk-!-margin-0';
  let newest = 0;
  for (const m of names) {
    const v = device.values[m];
    newest = Math.max(newest, Date.parse(v.at));
    const dt = document.createElement('dt');
    dt.textContent = m;
    const dd = document.createElement('dd');
    dd.className = 'govuk-!-margin-0';
    const unit = data.units[m];
    dd.textContent = `${v.value}${unit ? ` ${unit}` : ''}`;
    list.append(dt, dd);
  }
  const when = document.createElement('p');
  when.className = 'govuk-body-s govuk-!-margin-0';
  when.textContent = `Latest reading ${london.format(new Date(newest))}`;
  box.append(list, when);
  return box;
}

function setClass(marker, cls) {
  const path = marker.getElement();
  if (path) path.setAttribute('class', `${cls} leaflet-interactive`);
  marker.options.className = cls;
}

function start(mapEl, data) {
  mapEl.replaceChildren();
  // No fading: a popup that fades in is briefly unreadable, and values change under it.
  const map = L.map(mapEl, { zoomSnap: 0.25, fadeAnimation: false });
  if (data.tileUrl) L.tileLayer(data.tileUrl, { maxZoom: 19, attribution: data.attribution ? escapeText(data.attribution) : '' }).addTo(map);
  const markers = new Map();
  const bounds = L.latLngBounds([]);
  for (const device of data.devices) {
    const marker = L.circleMarker([device.lat, device.lon], { radius: 7, className: markerClass(data, device) }).addTo(map);
    marker.bindPopup(() => popup(data, device));
    marker.bindTooltip(escapeText(device.name));
    markers.set(device.id, { marker, device });
    bounds.extend([device.lat, device.lon]);
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  else map.setView([54.0, -2.0], 5);

  const status = document.getElementById('telemetry-map-status');
  const stream = new EventSource(data.streamUrl);
  stream.addEventListener('readings', (event) => {
    const changed = new Set();
    for (const r of JSON.parse(event.data)) {
      const shown = markers.get(r.deviceId);
      if (!shown) continue;
      const before = shown.device.values[r.metric];
      // A late reading does not replace a newer value.
      if (before && Date.parse(before.at) > Date.parse(r.at)) continue;
      shown.device.values[r.metric] = { value: r.value, at: r.at };
      changed.add(shown);
    }
    for (const { marker, device } of changed) {
      setClass(marker, markerClass(data, device));
      // The popup's content is a function of the device, so updating an open one redraws it.
      if (marker.isPopupOpen()) marker.getPopup().update();
    }
    if (changed.size && status) status.textContent = `Updated ${changed.size} device${changed.size === 1 ? '' : 's'} at ${london.format(new Date())}.`;
  });
  window.addEventListener('pagehide', () => stream.close());
}

function escapeText(s) {
  const d = document.createElement('div');
  d.textContent = s;
  return d.innerHTML;
}
