// Entry point: builds the map and its layer switcher from the boundary sets the API offers.
import { getJSON } from './api.js';
import { addBasemap } from './basemap.js';
import { boundaryLayer } from './boundaries.js';

const ATTRIBUTION = 'Contains OS data &copy; Crown copyright and database right. Source: Office for National '
  + 'Statistics licensed under the Open Government Licence v3.0.';
const status = document.getElementById('status');

function showStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function start() {
  const params = new URLSearchParams(window.location.search);
  const map = L.map('map', { zoomSnap: 0.25 }).setView([51.24, 0.58], 11);
  addBasemap(map, params.get('basemap'));
  map.attributionControl.addAttribution(ATTRIBUTION);
  showStatus('Loading boundaries…');
  const { boundary_sets: sets } = await getJSON('/api/boundary-sets');
  const bases = {};
  const overlays = {};
  for (const set of sets) {
    const layer = await boundaryLayer(`/api/boundary-sets/${set.id}/features`, set.kind === 'lsoa' ? 'lsoa' : 'ward');
    if (set.kind === 'ward') {
      bases[set.title] = layer;
      overlays[`Ward clusters (${set.id})`] = await boundaryLayer(`/api/boundary-sets/${set.id}/clusters`, 'cluster');
    } else {
      overlays[set.title] = layer;
    }
  }
  const wanted = params.get('wards') || 'wards-2024';
  const initial = sets.find((s) => s.id === wanted && s.kind === 'ward') || sets.find((s) => s.kind === 'ward');
  if (initial) {
    bases[initial.title].addTo(map);
    map.fitBounds(bases[initial.title].getBounds());
  }
  L.control.layers(bases, overlays, { collapsed: window.innerWidth < 600 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  showStatus(sets.length ? '' : 'No boundary sets are loaded yet.');
}

start().catch((error) => showStatus(`Could not load the map: ${error.message}`, true));
