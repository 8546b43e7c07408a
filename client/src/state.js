// The whole map state lives in the URL query, so a copied link reopens the same map.
//   set, clusters, outlines, annotations (the assessment's statements about places), metric, period, measure, method, k, palette, view (zoom/lat/lon), basemap,
//   heat, radius (metres), markers, hmetric, hperiod (hotspot filters; empty = follow the map), extra
//   (ids of extra hotspot layers, comma-separated).
// Without a measure in the URL the map picks one (measureAuto): the rate per 1,000 residents where the boundary set
// has a population, else density per km² (counts favour large areas). A link that names a measure keeps it.

export const DEFAULTS = Object.freeze({
  set: '', // the partnership's default set (partnership.js)
  clusters: false,
  outlines: false,
  annotations: false,
  metric: 'all-crime',
  period: '',
  measure: '',
  measureAuto: true,
  method: 'natural_breaks',
  k: 5,
  palette: '',
  view: null,
  basemap: 'osm',
  heat: false,
  radius: 300,
  markers: false,
  hmetric: '',
  hperiod: '',
  extra: [],
});

const BOOLEANS = ['clusters', 'outlines', 'annotations', 'heat', 'markers'];
const ORDER = ['set', 'clusters', 'outlines', 'annotations', 'metric', 'period', 'measure', 'method', 'k', 'palette', 'basemap',
  'heat', 'radius', 'markers', 'hmetric', 'hperiod', 'extra', 'view'];

function parseView(text) {
  const parts = (text || '').split('/').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) return null;
  const [zoom, lat, lon] = parts;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || zoom < 0 || zoom > 22) return null;
  return { zoom, lat, lon };
}

export function readState(search) {
  const params = new URLSearchParams(search);
  const state = { ...DEFAULTS, extra: [] };
  for (const key of ['set', 'metric', 'period', 'measure', 'method', 'palette', 'basemap', 'hmetric', 'hperiod']) {
    if (params.get(key)) state[key] = params.get(key).trim();
  }
  state.measureAuto = !state.measure;
  if (!params.get('set') && params.get('wards')) state.set = params.get('wards'); // links from before the client
  for (const key of BOOLEANS) {
    if (params.has(key)) state[key] = ['1', 'true', 'yes', 'on'].includes(params.get(key).toLowerCase());
  }
  const k = parseInt(params.get('k'), 10);
  if (k >= 2 && k <= 9) state.k = k;
  const radius = parseInt(params.get('radius'), 10);
  if (radius >= 25 && radius <= 5000) state.radius = radius;
  if (params.get('extra')) state.extra = params.get('extra').split(',').filter(Boolean);
  state.view = parseView(params.get('view'));
  return state;
}

export function stateQuery(state) {
  const params = new URLSearchParams();
  for (const key of ORDER) {
    const value = state[key];
    if (key === 'measure' && state.measureAuto) continue; // chosen by the map: a shared link chooses again
    if (key === 'view') {
      if (value) params.set('view', `${value.zoom}/${value.lat.toFixed(5)}/${value.lon.toFixed(5)}`);
    } else if (BOOLEANS.includes(key)) {
      if (value) params.set(key, '1');
    } else if (key === 'extra') {
      if (value.length) params.set(key, value.join(','));
    } else if (value !== '' && value !== null && value !== undefined) {
      params.set(key, String(value));
    }
  }
  return params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',');
}

// The measure the map picks for a boundary set (from /api/boundary-sets) and metric (from /api/metrics; null before
// the catalogue has arrived, when every measure is assumed possible).
export function defaultMeasure(set, metric = null) {
  const measures = metric?.measures || ['count', 'density', 'rate'];
  if (measures.includes('rate') && (set?.population || metric?.kind === 'rate')) return 'rate';
  return measures.includes('density') ? 'density' : measures[0];
}

export function writeState(state) {
  const query = stateQuery(state);
  const url = `${window.location.pathname}?${query}${window.location.hash}`;
  if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) {
    window.history.replaceState(null, '', url);
  }
}

// The query of the classified layer for a state: the same for /api/layers, /api/maps and /api/exports.
export function layerParams(state) {
  const params = new URLSearchParams({ metric: state.metric, measure: state.measure, method: state.method,
    k: String(state.k) });
  if (state.period) params.set('period', state.period);
  if (state.palette) params.set('palette', state.palette);
  return params;
}

// The layer API's URL for a state (measure overridable for the popup's change figures).
export function layerUrl(state, overrides = {}) {
  const s = { ...state, ...overrides };
  const path = `/api/layers/${encodeURIComponent(s.set)}${s.clusters ? '/clusters' : ''}`;
  const params = layerParams(s);
  if (overrides.bare) { params.delete('method'); params.delete('k'); params.delete('palette'); }
  return `${path}?${params}`;
}
