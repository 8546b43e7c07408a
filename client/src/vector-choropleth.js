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
import { areaLabel, NO_DATA_COLOR } from './choropleth.js';
import { apiUrl } from './partnership.js';
import { TileHover } from './tile-hover.js';
import { loadScript } from './vendor.js';

const PAGE = 10000;
const EDGE = 0.4;
const EDGES_FROM_ZOOM = 10; // below, most areas are a few pixels across: outlines would grey the map, not show it
// What the map reads from the values (popups, table, find, legend) and from the tiles (the fill, the picked area).
const VALUE_PROPERTIES = ['code', 'name', 'value', 'class', 'color', 'rank', 'rank_of', 'cluster', 'cluster_derived',
  'imd_decile'];
const CHANGE_PROPERTIES = ['value_current', 'value_base'];
const TILE_PROPERTIES = 'code,color';

export function classifiedCollection(state) {
  return apiUrl(`/ogc/collections/${encodeURIComponent(state.set)}.classified`);
}

// The layer's query parameters (metric, period, measure, method, k, palette) as the OGC routes take them.
export function layerQuery(layerUrl) {
  return new URL(layerUrl, window.location.origin).search.slice(1);
}

// Every feature of the classified collection without geometry, with the legend and metadata. The catalogue's count
// of areas says how many pages there are, so they are all asked for at once (and any the count missed after).
export async function leanLayer(state, query, expected = 1) {
  const change = (new URLSearchParams(query).get('measure') || '').includes('change');
  const properties = change ? [...VALUE_PROPERTIES, ...CHANGE_PROPERTIES] : VALUE_PROPERTIES;
  const url = (offset) => `${classifiedCollection(state)}/items?${query}&skipGeometry=true`
    + `&properties=${properties.join(',')}&limit=${PAGE}&offset=${offset}`;
  const offsets = (count, from) => {
    const found = [];
    for (let offset = from; offset < count; offset += PAGE) found.push(offset);
    return found;
  };
  const pages = await Promise.all(offsets(Math.max(expected, 1), 0).map((offset) => getJSON(url(offset))));
  const head = pages[0];
  const more = offsets(head.numberMatched, pages.length * PAGE);
  pages.push(...await Promise.all(more.map((offset) => getJSON(url(offset)))));
  const features = pages.flatMap((page) => page.features);
  return { type: 'FeatureCollection', features, legend: head.legend, metadata: head.metadata };
}

// The tile layer of a classified layer, not yet on the map.
function tileLayer(url, dataLayer, fillOpacity) {
  const { leafletLayer, PolygonSymbolizer, LineSymbolizer } = window.protomapsL;
  const layer = leafletLayer({
    url, maxDataZoom: 16, attribution: '', className: 'vector-areas',
    paintRules: [
      { dataLayer, symbolizer: new PolygonSymbolizer({
        fill: (_z, f) => f?.props.color || NO_DATA_COLOR, opacity: fillOpacity }) },
      { dataLayer, minzoom: EDGES_FROM_ZOOM,
        symbolizer: new LineSymbolizer({ color: '#3a3a3a', width: EDGE, opacity: 0.8 }) },
    ],
  });
  layer.on('load', () => { // every tile in view drawn (a mark for benchmarks/bench_map_england.py)
    if (!performance.getEntriesByName('atlas:tiles-drawn').length) performance.mark('atlas:tiles-drawn');
  });
  return layer;
}

// Fetch (and decode) the data tiles the map's view will draw, while the values are still on their way: show() then
// paints from protomaps-leaflet's tile cache. Leaflet's tile zoom is the map's zoom rounded.
function warm(layer, map) {
  const zoom = Math.round(map.getZoom());
  const pixels = map.getPixelBounds(map.getCenter(), zoom);
  const [view] = layer.views.values();
  return view.getBbox(zoom, { minX: pixels.min.x, minY: pixels.min.y, maxX: pixels.max.x, maxY: pixels.max.y })
    .catch(() => null); // show() asks again, and reports
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
    this.hover = window.matchMedia('(hover: none)').matches ? null : new TileHover(map, (latlng) => {
      const feature = this.featureAt(latlng);
      return feature ? areaLabel(feature.properties, this.data.legend.unit) : null;
    });
  }

  // `expected`: how many areas the set has (the catalogue's count). When the map keeps its view (`state.view`, as
  // from a shared link), the tiles in view are fetched alongside the values.
  async fetch(state, layerUrl, expected) {
    const query = layerQuery(layerUrl);
    const dataLayer = `${state.set}.classified`;
    const tiles = `${classifiedCollection(state)}/tiles/WebMercatorQuad/{z}/{y}/{x}?${query}`
      + `&properties=${TILE_PROPERTIES}`;
    const layerReady = loadScript('/vendor/protomaps-leaflet/protomaps-leaflet.js').then(() => {
      const layer = tileLayer(tiles, dataLayer, () => this.fillOpacity);
      if (state.view) warm(layer, this.map);
      return layer;
    });
    // the set's extent, for a map that fits its view to the layer (a map that keeps its view does not wait for it)
    const extent = state.view ? null : getJSON(classifiedCollection(state));
    const [data, collection, layer] = await Promise.all([leanLayer(state, query, expected), extent, layerReady]);
    data.tiles = tiles;
    data.tileLayer = layer;
    data.extent = collection?.extent?.spatial?.bbox?.[0] || null;
    return data;
  }

  clear() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.map.off('click', this.onClick);
    if (this.hover) this.hover.detach();
    this.layer = null;
    this.data = null;
    this.byCode.clear();
  }

  show(data) {
    this.clear();
    this.data = data;
    for (const feature of data.features) this.byCode.set(String(feature.properties.code), feature);
    this.layer = data.tileLayer.addTo(this.map);
    this.map.on('click', this.onClick);
    if (this.hover) this.hover.attach();
    return this.layer;
  }

  // The area at a point, from the tiles already drawn (no request), with its values; or null.
  featureAt(latlng) {
    if (!this.layer) return null;
    const picked = [...this.layer.queryTileFeaturesDebug(latlng.lng, latlng.lat).values()].flat();
    const code = picked.map((p) => p.feature.props.code).find((c) => this.byCode.has(String(c)));
    return code === undefined ? null : this.byCode.get(String(code));
  }

  // The popup of the area under a click.
  pick(latlng) {
    const feature = this.featureAt(latlng);
    if (feature) this.openPopup(feature, latlng);
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
