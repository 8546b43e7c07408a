// Hotspots: police.uk crime points (GET /api/crime/points) as a heat map whose radius is set in metres (the
// pixel radius is recomputed from metres per pixel at every zoom) and as clustered markers at high zoom.
// leaflet.heat and leaflet.markercluster are loaded on first use, so the first paint does not wait for them.
import { getJSON } from './api.js';
import { formatNumber, periodLabel } from './format.js';
import { html, htmlText } from './html.js';
import { loadScript, loadStyle } from './vendor.js';
import { popupOptions } from './viewport.js';

export const MARKER_MIN_ZOOM = 14;
// viridis (reversed: dark = dense), perceptually uniform and colour-blind safe
export const HEAT_GRADIENT = { 0.15: '#fde725', 0.35: '#7ad151', 0.55: '#22a884', 0.75: '#2a788e', 0.9: '#414487',
  1.0: '#440154' };
export const MARKER_COLOUR = '#172a56'; // --navy of style.css
const EARTH_CIRCUMFERENCE = 40075016.686;
const pointSets = new Map(); // URL -> Promise of the FeatureCollection

export function metresPerPixel(map) {
  const lat = map.getCenter().lat * Math.PI / 180;
  return (EARTH_CIRCUMFERENCE * Math.cos(lat)) / (256 * 2 ** map.getZoom());
}

export const MAX_PIXEL_RADIUS = 320; // beyond this the kernel is larger than the screen can usefully show

const quartic = (u) => (u < 1 ? (1 - u * u) ** 2 : 0);

// The kernel-weighted number of crimes within `radius` metres (quartic kernel, 1 at the centre) at each occupied cell
// of radius/2 metres, sorted: the heat map's darkest colour is a quantile of these (saturationAt).
export function kernelDensities(latlngs, radius) {
  if (!latlngs.length) return [];
  const cell = radius / 2;
  const lat0 = latlngs[0][0] * Math.PI / 180;
  const cells = new Map();
  for (const [lat, lon] of latlngs) {
    const x = lon * 111320 * Math.cos(lat0);
    const y = lat * 110540;
    const key = `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
    const c = cells.get(key) || { n: 0, x: 0, y: 0 };
    c.n += 1; c.x += x; c.y += y;
    cells.set(key, c);
  }
  const densities = [];
  for (const [key, c] of cells) {
    const [i, j] = key.split(',').map(Number);
    const cx = c.x / c.n;
    const cy = c.y / c.n;
    let density = 0;
    for (let di = -3; di <= 3; di += 1) {
      for (let dj = -3; dj <= 3; dj += 1) {
        const other = cells.get(`${i + di},${j + dj}`);
        if (other) density += other.n * quartic(Math.hypot(other.x / other.n - cx, other.y / other.n - cy) / radius);
      }
    }
    densities.push(density);
  }
  return densities.sort((a, b) => a - b);
}

// Which share of the places is drawn in the darkest colour, by zoom: at the borough's zoom the top 5 % stand out;
// zoomed into a town centre, where the densest places lie together, the ramp stretches to the densest place (the
// view would otherwise be one saturated blob).
export function saturationQuantile(zoom) {
  const low = 12;
  const high = 15;
  const t = Math.min(1, Math.max(0, (zoom - low) / (high - low)));
  return 0.95 + 0.05 * t;
}

// The kernel density that gets the darkest colour at this zoom (at least 2 crimes, so one crime is never "hot").
export function saturationAt(densities, zoom) {
  if (!densities.length) return 1;
  const index = Math.round((densities.length - 1) * saturationQuantile(zoom));
  return Math.max(2, Math.round(densities[index]));
}

// simpleheat (inside leaflet.heat) blurs a disc with a canvas shadow offset by a fixed 200 px, which breaks for
// radii near that size, and stacks points by alpha blending, which saturates early. Here each point is a quartic
// kernel of the full radius and kernels add up ('lighter'), so the colour follows the kernel density.
function useQuarticKernel(heat) {
  const simple = heat._heat;
  simple.radius = function radius(r, blur) {
    const total = Math.max(1, r + (blur || 0));
    const size = Math.ceil(total) * 2;
    const circle = document.createElement('canvas');
    circle.width = size;
    circle.height = size;
    const ctx = circle.getContext('2d');
    const gradient = ctx.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, total);
    for (let i = 0; i <= 16; i += 1) gradient.addColorStop(i / 16, `rgba(0,0,0,${quartic(i / 16).toFixed(4)})`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, size, size);
    this._circle = circle;
    this._r = size / 2;
    return this;
  };
  simple._ctx.globalCompositeOperation = 'lighter';
  heat._updateOptions();
  heat.redraw();
}

export function pointsFilter(state, mapMetric) {
  const follows = mapMetric && mapMetric.source === 'police.uk';
  return {
    metric: state.hmetric || (follows ? state.metric : 'all-crime'),
    period: state.hperiod || (follows ? state.period : ''),
  };
}

function pointsUrl(filter) {
  const params = new URLSearchParams({ metric: filter.metric });
  if (filter.period) params.set('period', filter.period);
  return `/api/crime/points?${params}`;
}

function loadPoints(filter) {
  const url = pointsUrl(filter);
  if (!pointSets.has(url)) {
    const request = getJSON(url);
    request.catch(() => pointSets.delete(url));
    pointSets.set(url, request);
  }
  return pointSets.get(url);
}

function clusterIcon(cluster) {
  const count = cluster.getChildCount();
  const size = count < 10 ? 28 : count < 100 ? 34 : count < 1000 ? 42 : 50;
  return L.divIcon({ html: htmlText(html`<span>${count}</span>`), className: 'crime-cluster', iconSize: [size, size] });
}

// The legend's entry of the heat map (legend-items.js), from Hotspots.legendInfo().heat. Object keys like "1.0"
// become "1" and come first: the stops are sorted by position.
export function heatItem(heat) {
  const stops = Object.entries(heat.gradient).map(([at, colour]) => [Number(at), colour]).sort((a, b) => a[0] - b[0]);
  return { kind: 'ramp', label: 'Crime density (heat map)', stops, low: 'fewer', layer: 'heat',
    high: `≥ ${formatNumber(heat.max)} within ${formatNumber(heat.radius)} m`,
    note: `Quartic kernel, radius ${formatNumber(heat.radius)} m (${formatNumber(heat.pixels)} px at this zoom). `
      + `${formatNumber(heat.count)} records: ${heat.title}, ${periodLabel(heat.period)}.`,
    warning: heat.shown ? null : `Hidden at this zoom: the radius would be wider than ${heat.maxPixels} px; zoom out `
      + 'or choose a smaller radius.',
    details: { radius: heat.radius } };
}

// The legend's entries of the crime markers, from Hotspots.legendInfo().markers.
export function markerItems(markers) {
  const group = 'Crime locations';
  return [
    { kind: 'symbol', shape: 'dot', colour: MARKER_COLOUR, label: 'one record', group, layer: 'crime-points' },
    { kind: 'symbol', shape: 'cluster', colour: MARKER_COLOUR, label: 'a cluster of records', group,
      layer: 'crime-points', note: 'Police.uk locations are anonymised snap points.',
      warning: markers.visible ? null : `Drawn from zoom level ${markers.minZoom}: zoom in to see them.` },
  ];
}

export class Hotspots {
  constructor(map) {
    this.map = map;
    this.heat = null;
    this.markers = null;
    this.data = null;
    this.state = null;
    this.radius = 300;
    this.max = 1;
    this.latlngs = [];
    map.on('zoomend moveend', () => this.onZoom()); // metres per pixel change with zoom and latitude
  }

  active() {
    return Boolean(this.heat || this.markers);
  }

  // Show what state asks for; resolves with the points' metadata (or null when hotspots are off).
  async update(state, mapMetric) {
    if (!state.heat && !state.markers) {
      this.seq = (this.seq || 0) + 1;
      this.removeHeat();
      this.removeMarkers();
      this.data = null;
      return null;
    }
    const filter = pointsFilter(state, mapMetric);
    const seq = (this.seq = (this.seq || 0) + 1);
    const [data] = await Promise.all([loadPoints(filter), this.loadLibraries(state)]);
    if (seq !== this.seq) return data.metadata; // a newer update is under way
    if (this.data !== data) {
      this.data = data;
      this.latlngs = data.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
      this.removeHeat();
      this.removeMarkers(); // built again from the new points
    }
    if (state.heat) this.showHeat(state.radius); else this.removeHeat();
    if (state.markers) this.showMarkers(); else this.removeMarkers();
    return data.metadata;
  }

  async loadLibraries(state) {
    const wanted = [];
    if (state.heat) wanted.push(loadScript('/vendor/leaflet.heat/leaflet-heat.js'));
    if (state.markers) {
      loadStyle('/vendor/leaflet.markercluster/MarkerCluster.css');
      wanted.push(loadScript('/vendor/leaflet.markercluster/leaflet.markercluster.js'));
    }
    await Promise.all(wanted);
  }

  pixelRadius() {
    return Math.max(1, this.radius / metresPerPixel(this.map));
  }

  showHeat(radius) {
    if (this.heat && this.radius === radius) return;
    this.radius = radius;
    this.densities = kernelDensities(this.latlngs, radius);
    this.max = saturationAt(this.densities, this.map.getZoom());
    const px = this.pixelRadius();
    // maxZoom 0 keeps leaflet.heat's own zoom scaling off: a crime weighs the same at every zoom, and `max` (the
    // darkest colour) follows the zoom through saturationAt instead.
    const options = { radius: px * 0.6, blur: px * 0.4, max: this.max, maxZoom: 0, minOpacity: 0.001,
      gradient: HEAT_GRADIENT };
    if (this.heat) {
      this.heat.setOptions(options);
    } else {
      this.heat = L.heatLayer(this.latlngs, options);
      this.heat.on('add', () => useQuarticKernel(this.heat));
      this.heat.addTo(this.map);
    }
    this.syncHeat();
  }

  // Hidden (and said so in the legend) when the radius is wider than MAX_PIXEL_RADIUS at this zoom.
  syncHeat() {
    if (!this.heat) return;
    const fits = this.pixelRadius() <= MAX_PIXEL_RADIUS;
    if (fits && !this.map.hasLayer(this.heat)) this.heat.addTo(this.map);
    if (!fits && this.map.hasLayer(this.heat)) this.map.removeLayer(this.heat);
  }

  removeHeat() {
    if (this.heat) this.map.removeLayer(this.heat);
    this.heat = null;
  }

  // The markers are built on the first zoom to MARKER_MIN_ZOOM or closer, not before: most views never need them.
  showMarkers() {
    this.wantMarkers = true;
    this.syncMarkers();
  }

  buildMarkers() {
    const names = this.data.metadata.crime_types;
    // chunkedLoading clusters the markers over several animation frames; #map[data-markers-state] says when all
    // of them are in, so a reader (or a test) never counts a half-built layer.
    this.map.getContainer().dataset.markersState = 'loading';
    this.markers = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true,
      disableClusteringAtZoom: 19, iconCreateFunction: clusterIcon,
      chunkProgress: (processed, total) => {
        if (processed === total) this.map.getContainer().dataset.markersState = 'ready';
      },
    });
    const icon = L.divIcon({ className: 'crime-dot', iconSize: [10, 10] });
    const markers = this.data.features.map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const marker = L.marker([lat, lon], { icon, keyboard: false, title: names[p.crime_type] || p.crime_type });
      marker.bindPopup(() => htmlText(html`<div class="crime-popup"><h2>${names[p.crime_type] || p.crime_type}</h2>
        <p>${periodLabel(p.month)}<br>${p.location}</p>
        <p class="small">police.uk anonymised location</p></div>`), popupOptions({ width: 260 }));
      return marker;
    });
    this.markers.addLayers(markers);
  }

  syncMarkers() {
    if (!this.wantMarkers || !this.data) return;
    const visible = this.map.getZoom() >= MARKER_MIN_ZOOM;
    if (visible && !this.markers) this.buildMarkers();
    if (!this.markers) return;
    if (visible && !this.map.hasLayer(this.markers)) this.markers.addTo(this.map);
    if (!visible && this.map.hasLayer(this.markers)) this.map.removeLayer(this.markers);
  }

  removeMarkers() {
    this.wantMarkers = false;
    if (this.markers) this.map.removeLayer(this.markers);
    this.markers = null;
    delete this.map.getContainer().dataset.markersState;
  }

  onZoom() {
    if (this.heat) {
      const px = this.pixelRadius();
      const max = saturationAt(this.densities, this.map.getZoom());
      if (Math.abs(this.heat.options.radius + this.heat.options.blur - px) > 1e-9 || max !== this.max) {
        this.max = max;
        this.heat.setOptions({ radius: px * 0.6, blur: px * 0.4, max });
      }
      this.syncHeat();
    }
    this.syncMarkers();
    if (this.onChange) this.onChange();
  }

  legendItems() {
    const info = this.legendInfo();
    return [...(info?.heat ? [heatItem(info.heat)] : []), ...(info?.markers ? markerItems(info.markers) : [])];
  }

  // What the legend (and the PNG export) says about the hotspot layers.
  legendInfo() {
    if (!this.data) return null;
    const meta = this.data.metadata;
    return {
      heat: this.heat ? {
        radius: this.radius, pixels: Math.round(this.pixelRadius()), max: this.max,
        shown: this.map.hasLayer(this.heat), maxPixels: MAX_PIXEL_RADIUS,
        count: meta.count, title: meta.metric.title, period: meta.period,
        gradient: HEAT_GRADIENT,
      } : null,
      markers: this.wantMarkers ? { visible: this.map.getZoom() >= MARKER_MIN_ZOOM, minZoom: MARKER_MIN_ZOOM } : null,
      metadata: meta,
    };
  }
}
