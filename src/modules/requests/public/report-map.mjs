// The map on the portal's "Report a problem" form: selecting a place (a click, or Enter for the
// map's centre after moving it with the arrow keys) fills the form's hidden lat and lon fields
// and chooses "Somewhere else". Without JavaScript the map stays hidden and the form asks for
// the home or a description instead. With no tile URL it draws the council's areas on a blank
// background, so it works offline.
import * as L from '/assets/estate/leaflet-src.esm.js';

async function areasOf(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  return res.ok ? res.json() : null;
}

function escapeText(s) {
  const d = document.createElement('div');
  d.textContent = s;
  return d.innerHTML;
}

function pointOf(latInput, lonInput) {
  const lat = Number.parseFloat(latInput.value);
  const lon = Number.parseFloat(lonInput.value);
  return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
}

async function start(block) {
  const form = block.closest('form');
  const latInput = form.querySelector('input[name="lat"]');
  const lonInput = form.querySelector('input[name="lon"]');
  const status = block.querySelector('.weft-report-map__status');
  const clear = block.querySelector('.weft-report-map__clear');
  const elsewhere = form.querySelector('input[name="where"][value="elsewhere"]');
  const el = block.querySelector('.weft-map');
  const data = block.dataset;
  block.hidden = false;

  const map = L.map(el, { zoomSnap: 0.25, zoomControl: false });
  L.control.zoom({ zoomInTitle: data.zoomIn, zoomOutTitle: data.zoomOut }).addTo(map);
  if (data.tileUrl) L.tileLayer(data.tileUrl, { maxZoom: 19, attribution: data.attribution ? escapeText(data.attribution) : '' }).addTo(map);
  let marker = null;

  const show = (point) => {
    if (marker) marker.remove();
    marker = point ? L.circleMarker(point, { radius: 8, className: 'weft-map-report' }).addTo(map) : null;
    status.textContent = point ? data.chosen : '';
    clear.hidden = !point;
  };
  const choose = (latlng) => {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    if (elsewhere) elsewhere.checked = true;
    show([latlng.lat, latlng.lng]);
  };

  map.on('click', (e) => choose(e.latlng));
  el.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.target !== el) return;
    e.preventDefault();
    choose(map.getCenter());
  });
  clear.addEventListener('click', () => {
    latInput.value = '';
    lonInput.value = '';
    show(null);
  });

  const areas = await areasOf(data.areasUrl).catch(() => null);
  const bounds = L.latLngBounds([]);
  if (areas?.features?.length) {
    const layer = L.geoJSON(areas, { style: () => ({ className: 'weft-map-area', interactive: false }) }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  const chosen = pointOf(latInput, lonInput);
  show(chosen);
  // Near home is worth showing only with tiles: on a blank background the areas say more.
  const home = data.homeLat && data.tileUrl ? [Number(data.homeLat), Number(data.homeLon)] : null;
  if (chosen || home) map.setView(chosen ?? home, 16);
  else if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([54.0, -2.0], 5);
}

const block = document.querySelector('.weft-report-map');
if (block) {
  start(block).catch(() => {
    block.hidden = true;
  });
}
