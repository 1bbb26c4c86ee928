// The air quality map: areas coloured by today's DAQI band, monitors as dots in their own band's
// colour, each with its name and index. With no tile URL it draws on a blank background, so it
// works offline. The page's tables carry the same information without JavaScript.
import * as L from '/assets/estate/leaflet-src.esm.js';

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

function escapeText(s) {
  const d = document.createElement('div');
  d.textContent = s;
  return d.innerHTML;
}

const words = (p) => `${p.name}: ${p.index === null ? 'no readings today' : `index ${p.index}, ${p.band}`}`;

async function draw(el) {
  const data = await getJson(el.dataset.url);
  el.replaceChildren();
  const map = L.map(el, { zoomSnap: 0.25 });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution ? escapeText(el.dataset.attribution) : '' }).addTo(map);
  const bounds = L.latLngBounds([]);
  if (data.areas.features.length) {
    const layer = L.geoJSON(data.areas, {
      style: (f) => ({ className: `weft-daqi-area weft-daqi--${f.properties.bandKey}` }),
      onEachFeature: (f, l) => l.bindTooltip(escapeText(words(f.properties))),
    }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (data.monitors.features.length) {
    const layer = L.geoJSON(data.monitors, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 7, className: `weft-daqi-monitor weft-daqi--${f.properties.bandKey}` }),
      onEachFeature: (f, l) => l.bindTooltip(escapeText(words(f.properties))),
    }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([54.0, -2.0], 5);
}

const el = document.getElementById('air-quality-map');
if (el) {
  draw(el).catch(() => {
    el.replaceChildren(Object.assign(document.createElement('p'), { className: 'govuk-body weft-map__fallback', textContent: 'The map could not be drawn. The tables on this page have the same information.' }));
  });
}
