// Extension point for the hotspot layers of the API (needle finds, DCSM locations, …): GET /api/hotspot-layers
// lists the layers the signed-in user may see, as {"hotspot_layers": [{"id", "title", "description", …}]}, and
// GET /api/hotspot-layers/{id}/points?from=&to= gives each layer's points as GeoJSON. Each layer becomes a checkbox
// in the Hotspots section and a point overlay; the state keeps the ids shown in `extra`.
// Nothing is requested that must fail: the route is looked up in /api/openapi.json first and the layers are only
// asked for when someone is signed in (GET /api/session). Any error skips the layers silently; no data is made up.
import { getJSON } from './api.js';
import { escapeHtml, periodLabel } from './format.js';

const ROUTE = '/api/hotspot-layers';
const COLORS = ['#6a3d9a', '#b15928', '#1f78b4', '#33a02c'];
const SHOWN_PROPERTIES = [['place', 'Place'], ['category', 'Category'], ['count', 'Count'], ['notes', 'Notes']];

export async function listHotspotLayers() {
  try {
    const spec = await getJSON('/api/openapi.json');
    if (!spec.paths || !spec.paths[ROUTE]) return [];
    const session = await getJSON('/api/session');
    if (!session.user) return [];
    const answer = await getJSON(ROUTE);
    const layers = answer.hotspot_layers || answer.layers || [];
    return layers.filter((layer) => layer.id && layer.title).map((layer, index) => ({
      ...layer,
      url: layer.url || `${ROUTE}/${encodeURIComponent(layer.id)}/points`,
      color: layer.color || COLORS[index % COLORS.length],
    }));
  } catch (error) {
    return []; // absent, not allowed or failing: the map works without these layers
  }
}

// from/to for the points route from a period of the map: 2022-06, 2022 or 2022-01/2022-11.
export function periodQuery(period) {
  if (!period) return '';
  const [from, to] = period.includes('/') ? period.split('/') : [period, period];
  return `?${new URLSearchParams({ from, to })}`;
}

function observed(p) {
  if (!p.observed_from) return '';
  return p.observed_to && p.observed_to !== p.observed_from ? `${p.observed_from} to ${p.observed_to}` : p.observed_from;
}

function popup(info, properties) {
  const p = properties || {};
  const known = SHOWN_PROPERTIES.filter(([key]) => p[key] !== null && p[key] !== undefined && p[key] !== '');
  const rows = known.map(([key, label]) => `<p><strong>${label}</strong>: ${escapeHtml(p[key])}</p>`);
  if (observed(p)) rows.unshift(`<p>${escapeHtml(observed(p))}</p>`);
  return `<div class="crime-popup"><h2>${escapeHtml(info.title)}</h2>${rows.join('')}</div>`;
}

export class ExtraLayers {
  constructor(map) {
    this.map = map;
    this.available = [];
    this.shown = new Map(); // id -> L.GeoJSON
    this.period = '';
  }

  async sync(ids, period = '') {
    const periodChanged = period !== this.period;
    this.period = period;
    for (const [id, layer] of this.shown) {
      if (!ids.includes(id) || periodChanged) {
        this.map.removeLayer(layer);
        this.shown.delete(id);
      }
    }
    for (const info of this.available.filter((l) => ids.includes(l.id) && !this.shown.has(l.id))) {
      try {
        const collection = await getJSON(`${info.url}${periodQuery(period)}`);
        const layer = L.geoJSON(collection, {
          pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
            radius: 6, color: '#fff', weight: 1.5, fillColor: info.color, fillOpacity: 0.95 }),
          onEachFeature: (feature, marker) => marker.bindPopup(popup(info, feature.properties)),
        }).addTo(this.map);
        this.shown.set(info.id, layer);
      } catch (error) {
        // skipped silently, as above
      }
    }
  }

  legendInfo() {
    return this.available.filter((l) => this.shown.has(l.id))
      .map((l) => ({ title: this.period ? `${l.title}, ${periodLabel(this.period)}` : l.title, color: l.color }));
  }
}
