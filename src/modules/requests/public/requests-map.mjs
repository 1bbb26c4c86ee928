// Draws the requests on the queue's map: areas outlined (when the person may see them), each
// request a dot (red when overdue, grey when closed) linking to its page. With no tile URL it
// draws on a blank background, so it works offline; the table has the same requests.
import * as L from '/assets/estate/leaflet-src.esm.js';

const CLOSED = ['fixed', 'closed', 'not_ours', 'duplicate'];

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

function markerClass(p) {
  if (p.overdue) return 'weft-map-request weft-map-request--overdue';
  return CLOSED.includes(p.status) ? 'weft-map-request weft-map-request--closed' : 'weft-map-request';
}

function popup(p) {
  const box = document.createElement('div');
  const link = document.createElement('a');
  link.className = 'govuk-link';
  link.href = `/console/requests/${encodeURIComponent(p.id)}`;
  link.textContent = `${p.reference}: ${p.category}`;
  const note = document.createElement('p');
  note.className = 'govuk-body-s govuk-!-margin-0';
  note.textContent = `${p.status.replace('_', ' ')}${p.overdue ? ', overdue' : ''}`;
  box.append(link, note);
  return box;
}

async function draw(el) {
  const [areas, requests] = await Promise.all([getJson(el.dataset.areasUrl).catch(() => null), getJson(el.dataset.requestsUrl)]);
  el.replaceChildren();
  const map = L.map(el, { zoomSnap: 0.25 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution ? escapeText(el.dataset.attribution) : '' }).addTo(map);
  const bounds = L.latLngBounds([]);
  if (areas?.features.length) {
    const layer = L.geoJSON(areas, { style: () => ({ className: 'weft-map-area' }), onEachFeature: (f, l) => l.bindTooltip(escapeText(f.properties.name)) }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (requests.features.length) {
    const layer = L.geoJSON(requests, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, className: markerClass(f.properties) }),
      onEachFeature: (f, l) => l.bindPopup(() => popup(f.properties)),
    }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([54.0, -2.0], 5);
}

function escapeText(s) {
  const d = document.createElement('div');
  d.textContent = s;
  return d.innerHTML;
}

const el = document.getElementById('requests-map');
if (el) {
  draw(el).catch(() => {
    el.replaceChildren(Object.assign(document.createElement('p'), { className: 'govuk-body weft-map__fallback', textContent: 'The map could not be drawn. The table on this page has the same requests.' }));
  });
}
