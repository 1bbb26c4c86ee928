// Draws the estate map: areas outlined, sites as dots coloured by connectivity. With no
// tile URL configured it draws on a blank background, so it works offline. The page's
// tables carry the same information without JavaScript.
import * as L from '/assets/estate/leaflet-src.esm.js';

const STAGES = ['live', 'installed', 'ordered', 'planned', 'fault'];

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

function siteClass(p) {
  const stage = p.technology === 'full_fibre' && STAGES.includes(p.status) ? p.status : 'other';
  return `weft-map-site weft-bar--${stage}`;
}

function popup(p) {
  const box = document.createElement('div');
  const link = document.createElement('a');
  link.className = 'govuk-link';
  link.href = `/console/estate/sites/${encodeURIComponent(p.id)}`;
  link.textContent = p.name;
  const note = document.createElement('p');
  note.className = 'govuk-body-s govuk-!-margin-0';
  note.textContent = p.technology ? `${p.technology.replace('_', ' ')}, ${p.status}` : 'No connectivity recorded';
  box.append(link, note);
  return box;
}

async function draw(el) {
  const [areas, sites] = await Promise.all([getJson(el.dataset.areasUrl), el.dataset.sitesUrl ? getJson(el.dataset.sitesUrl) : null]);
  el.replaceChildren();
  const map = L.map(el, { zoomSnap: 0.25 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution ? escapeText(el.dataset.attribution) : '' }).addTo(map);
  const bounds = L.latLngBounds([]);
  if (areas.features.length) {
    const layer = L.geoJSON(areas, { style: () => ({ className: 'weft-map-area' }), onEachFeature: (f, l) => l.bindTooltip(escapeText(f.properties.name)) }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (sites?.features.length) {
    const layer = L.geoJSON(sites, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 5, className: siteClass(f.properties) }),
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

const el = document.getElementById('estate-map');
if (el) {
  draw(el).catch(() => {
    el.replaceChildren(Object.assign(document.createElement('p'), { className: 'govuk-body weft-map__fallback', textContent: 'The map could not be drawn. The tables on this page have the same information.' }));
  });
}
