// The classified layer of a large boundary set (England's 32,844 LSOAs) drawn from vector tiles that PostGIS builds
// (GET /ogc/collections/{set}.classified/tiles/…), each area filled in the colour the tile carries. The values for
// the legend, the table, find and the popups come without geometry (…/items?skipGeometry=true), so the page never
// holds the polygons of the whole set: only the tiles in view, drawn on canvas.
//
// Renderer: protomaps-leaflet (npm, maintained by Protomaps): a Leaflet GridLayer that decodes Mapbox Vector Tiles
// and paints them on canvas, with per-feature style functions and point-in-polygon picking; no WebGL, no workers, no
// eval, so it runs under the app's Content-Security-Policy. Leaflet.VectorGrid has had no release since 2017, and
// MapLibre GL (through maplibre-gl-leaflet) would bring a second map engine with WebGL and blob workers.
import { getJSON } from './api.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { apiUrl } from './partnership.js';
import { loadScript } from './vendor.js';

const PAGE = 10000;
const EDGE = 0.4;

export function classifiedCollection(state) {
  return apiUrl(`/ogc/collections/${encodeURIComponent(state.set)}.classified`);
}

// The layer's query parameters (metric, period, measure, method, k, palette) as the OGC routes take them.
export function layerQuery(layerUrl) {
  return new URL(layerUrl, window.location.origin).search.slice(1);
}

// Every feature of the classified collection without geometry, with the legend and metadata: the first page says
// how many there are, and the other pages are asked for at once.
export async function leanLayer(state, query) {
  const url = (offset) => `${classifiedCollection(state)}/items?${query}&skipGeometry=true&limit=${PAGE}`
    + `&offset=${offset}`;
  const head = await getJSON(url(0));
  const offsets = [];
  for (let offset = PAGE; offset < head.numberMatched; offset += PAGE) offsets.push(offset);
  const rest = await Promise.all(offsets.map((offset) => getJSON(url(offset))));
  const features = [head, ...rest].flatMap((page) => page.features);
  if (!head.metadata.measure.includes('change')) { // as /api/layers: change figures only for a change measure
    for (const feature of features) {
      delete feature.properties.value_current;
      delete feature.properties.value_base;
    }
  }
  return { type: 'FeatureCollection', features, legend: head.legend, metadata: head.metadata };
}

export class VectorChoropleth {
  constructor(map, { popup }) {
    this.map = map;
    this.popup = popup;
    this.layer = null;
    this.data = null;
    this.byCode = new Map();
    this.extent = null;
    this.fillOpacity = 0.85;
    this.onClick = (event) => this.pick(event.latlng);
  }

  async fetch(state, layerUrl) {
    const query = layerQuery(layerUrl);
    const [data, collection] = await Promise.all([
      leanLayer(state, query), getJSON(classifiedCollection(state)),
      loadScript('/vendor/protomaps-leaflet/protomaps-leaflet.js')]);
    data.tiles = `${classifiedCollection(state)}/tiles/WebMercatorQuad/{z}/{y}/{x}?${query}`;
    data.extent = collection.extent?.spatial?.bbox?.[0] || null;
    return data;
  }

  clear() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.map.off('click', this.onClick);
    this.layer = null;
    this.data = null;
    this.byCode.clear();
  }

  show(data) {
    this.clear();
    this.data = data;
    for (const feature of data.features) this.byCode.set(String(feature.properties.code), feature);
    const { leafletLayer, PolygonSymbolizer, LineSymbolizer } = window.protomapsL;
    const dataLayer = data.metadata.boundary_set.id ? `${data.metadata.boundary_set.id}.classified` : '';
    this.layer = leafletLayer({
      url: data.tiles, maxDataZoom: 16, attribution: '', className: 'vector-areas',
      paintRules: [
        { dataLayer, symbolizer: new PolygonSymbolizer({
          fill: (_z, f) => f?.props.color || NO_DATA_COLOR, opacity: () => this.fillOpacity }) },
        { dataLayer, symbolizer: new LineSymbolizer({ color: '#3a3a3a', width: EDGE, opacity: 0.8 }) },
      ],
    });
    this.layer.on('load', () => { // every tile in view drawn (a mark for benchmarks/bench_map_england.py)
      if (!performance.getEntriesByName('atlas:tiles-drawn').length) performance.mark('atlas:tiles-drawn');
    });
    this.layer.addTo(this.map);
    this.map.on('click', this.onClick);
    return this.layer;
  }

  // The area under a click, from the tiles already drawn (no request), and its popup from the values.
  pick(latlng) {
    if (!this.layer) return;
    const picked = [...this.layer.queryTileFeaturesDebug(latlng.lng, latlng.lat).values()].flat();
    const code = picked.map((p) => p.feature.props.code).find((c) => this.byCode.has(String(c)));
    if (code === undefined) return;
    this.openPopup(this.byCode.get(String(code)), latlng);
  }

  openPopup(feature, latlng) {
    L.popup({ maxWidth: 300, minWidth: 220, autoPanPadding: [20, 20] })
      .setLatLng(latlng).setContent(this.popup(feature)).openOn(this.map);
  }

  setFillOpacity(opacity) {
    this.fillOpacity = opacity;
    if (this.layer) this.layer.rerenderTiles();
  }

  bounds() {
    const box = this.data?.extent;
    return box ? L.latLngBounds([box[1], box[0]], [box[3], box[2]]) : null;
  }

  features() {
    return this.data ? this.data.features : [];
  }

  tileElements() {
    return this.layer ? [...this.layer.getContainer().querySelectorAll('canvas.leaflet-tile')] : [];
  }

  // Zoom to an area: its outline is fetched on its own (one feature), then its popup opens at its centre.
  focus(code) {
    const feature = this.byCode.get(String(code));
    if (!feature || !this.data) return false;
    const set = this.data.metadata.boundary_set.id;
    getJSON(`/ogc/collections/${encodeURIComponent(set)}/items/${encodeURIComponent(code)}`).then((outline) => {
      const bounds = L.geoJSON(outline).getBounds();
      this.map.fitBounds(bounds, { maxZoom: 15, padding: [40, 40] });
      this.openPopup(feature, bounds.getCenter());
    }).catch(() => {});
    return true;
  }
}
