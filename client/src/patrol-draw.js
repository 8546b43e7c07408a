// Drawing and editing a patrol area with Leaflet-Geoman (free edition, from npm, served under /vendor/leaflet-geoman/
// and loaded on first use): a polygon, or a route line widened by a buffer in metres. Geoman runs "opt in", so it
// only ever touches the patrol shape (not the areas, crime markers or hotspot records).
//
// The shape in progress is reported as GeoJSON (lon/lat) on every change, while drawing too (from 3 corners of a
// polygon or 2 points of a route), so the summary can follow the pencil. For keyboard users a crosshair marks the
// map centre: arrow keys pan the map and "Add point at map centre" adds a corner there.
import { loadScript, loadStyle } from './vendor.js';
import { metresPerPixel } from './hotspots.js';

export const AREA_STYLE = { color: '#08306b', weight: 3, opacity: 0.95, fillColor: '#2171b5', fillOpacity: 0.14 };
const ROUTE_STYLE = { color: '#08306b', weight: 3, opacity: 0.95 };
const HALO_STYLE = { color: '#2171b5', opacity: 0.22, lineCap: 'round', lineJoin: 'round', interactive: false,
  pane: 'patrol' };
// a white casing under the outline keeps it visible over the darkest and the lightest classes alike
const CASING_STYLE = { color: '#fff', weight: 7, opacity: 0.9, fill: false, interactive: false, pane: 'patrol' };
const SHAPES = { polygon: 'Polygon', route: 'Line' };
export const PANE = 'patrol'; // above the areas (which come to the front on hover), below hotspot records

export async function loadGeoman(map) {
  await Promise.all([loadStyle('/vendor/leaflet-geoman/leaflet-geoman.css'),
    loadScript('/vendor/leaflet-geoman/leaflet-geoman.min.js')]);
  if (!map.pm) {
    L.PM.setOptIn(true); // only layers created with pmIgnore: false are Geoman's business
    map.pm = new L.PM.Map(map); // the map existed before the library: attach it by hand
    map.pm.setGlobalOptions({ snappable: false, allowSelfIntersection: false, exitModeOnEscape: true,
      panes: { layerPane: PANE, vertexPane: 'markerPane', markerPane: 'markerPane' },
      finishOnEnter: false }); // Enter on "Add point at map centre" must add a point, not finish
  }
  return map.pm;
}

// fitBounds options that keep a shape clear of the legend (beside the map when wide, below it when narrow)
export function fitOptions(map, maxZoom = 16) {
  const legend = document.getElementById('legend');
  const wide = map.getSize().x > 700;
  const right = legend && wide ? legend.offsetWidth + 24 : 24;
  const bottom = legend && !wide ? Math.min(legend.offsetHeight, map.getSize().y / 2) + 16 : 24;
  return { paddingTopLeft: [24, 24], paddingBottomRight: [right, bottom], maxZoom };
}

const round6 = (n) => Math.round(n * 1e6) / 1e6;
const lonLat = (latlng) => [round6(latlng.lng), round6(latlng.lat)];

function flat(latlngs) {
  let list = latlngs;
  while (Array.isArray(list[0])) [list] = list;
  return list;
}

export class PatrolDrawing {
  constructor(map, { onChange = () => {}, onMode = () => {} } = {}) {
    this.map = map;
    this.onChange = onChange; // (geometry or null) whenever the shape changes
    this.onMode = onMode; // ('idle' | 'drawing' | 'shape' | 'editing', kind)
    this.mode = 'idle';
    this.kind = 'polygon';
    this.bufferM = 50;
    this.layer = null; // the finished shape
    this.halo = null; // a route's buffer, drawn as a wide round-capped line in metres
    this.casing = null;
    this.working = null; // the line Geoman draws while drawing
    this.pm = null;
    if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = 420;
    map.on('zoomend', () => this.updateHalo());
  }

  async ready() {
    if (!this.pm) {
      this.pm = await loadGeoman(this.map);
      this.map.on('pm:drawstart', (event) => {
        this.working = event.workingLayer;
        this.working.on('pm:change', () => this.changed());
      });
      this.map.on('pm:create', (event) => this.created(event.layer));
      this.map.on('pm:drawend', () => {
        this.working = null;
        if (this.mode === 'drawing') this.setMode(this.layer ? 'shape' : 'idle');
        this.changed();
      });
    }
    return this.pm;
  }

  setMode(mode) {
    this.mode = mode;
    // while drawing or editing, the areas below take no clicks or hovers: every click is for the pencil
    this.map.getContainer().classList.toggle('patrol-drawing', mode === 'drawing');
    this.map.getContainer().classList.toggle('patrol-editing', mode === 'editing');
    this.onMode(mode, this.kind);
  }

  async start(kind) {
    await this.ready();
    this.clear();
    this.kind = kind;
    this.setMode('drawing');
    this.pm.enableDraw(SHAPES[kind], {
      pathOptions: { ...(kind === 'route' ? ROUTE_STYLE : AREA_STYLE), pmIgnore: false, className: 'patrol-shape' },
      templineStyle: { color: AREA_STYLE.color, weight: 2, dashArray: '6 4' },
      hintlineStyle: { color: AREA_STYLE.color, weight: 1.5, dashArray: '3 5' },
      allowSelfIntersection: false, snappable: false, continueDrawing: false,
    });
  }

  draw() {
    return this.pm?.Draw[SHAPES[this.kind]];
  }

  // Keyboard alternatives to clicking the map (Geoman's own handlers, as its toolbar buttons use them).
  addCentrePoint() {
    const draw = this.draw();
    if (this.mode !== 'drawing' || !draw) return;
    const latlng = this.map.getCenter();
    draw._hintMarker.setLatLng(latlng);
    draw._createVertex({ latlng, target: this.map });
  }

  undoPoint() {
    if (this.mode === 'drawing') this.draw()?._removeLastVertex();
  }

  finish() {
    if (this.mode === 'drawing') this.draw()?._finishShape();
  }

  cancel() {
    if (this.mode === 'drawing') this.pm.disableDraw();
    else if (this.mode === 'editing') this.stopEditing();
  }

  created(layer) {
    this.layer = layer;
    this.layer.on('pm:change pm:edit pm:vertexremoved pm:markerdrag', () => { this.updateHalo(); this.changed(); });
    this.updateHalo();
    this.setMode('shape');
    this.changed();
  }

  async edit() {
    if (!this.layer) return;
    await this.ready();
    this.layer.pm.enable({ allowSelfIntersection: false, snappable: false });
    this.setMode('editing');
  }

  stopEditing() {
    if (this.layer?.pm?.enabled()) this.layer.pm.disable();
    if (this.mode === 'editing') this.setMode('shape');
  }

  // Put a geometry into the editor: a saved area (with its route and buffer) or an adopted suggestion.
  async show(geometry, { route = null, bufferM = null, fit = true } = {}) {
    await this.ready();
    this.clear();
    if (route && bufferM) {
      this.kind = 'route';
      this.bufferM = bufferM;
      this.layer = L.polyline(L.GeoJSON.coordsToLatLngs(route.coordinates, 0),
        { ...ROUTE_STYLE, pmIgnore: false, className: 'patrol-shape', pane: PANE });
    } else {
      this.kind = 'polygon';
      const levels = geometry.type === 'MultiPolygon' ? 2 : 1;
      this.layer = L.polygon(L.GeoJSON.coordsToLatLngs(geometry.coordinates, levels),
        { ...AREA_STYLE, pmIgnore: false, className: 'patrol-shape', pane: PANE });
    }
    this.layer.addTo(this.map);
    this.created(this.layer);
    if (fit) this.map.fitBounds(this.layer.getBounds(), fitOptions(this.map));
  }

  setBuffer(metres) {
    this.bufferM = metres;
    if (this.kind === 'route') {
      this.updateHalo();
      this.changed();
    }
  }

  updateCasing() {
    if (!this.layer) {
      if (this.casing) this.map.removeLayer(this.casing);
      this.casing = null;
      return;
    }
    if (!this.casing) {
      this.casing = (this.kind === 'route' ? L.polyline([], CASING_STYLE) : L.polygon([], CASING_STYLE))
        .addTo(this.map);
      this.layer.bringToFront();
    }
    this.casing.setLatLngs(this.layer.getLatLngs());
  }

  updateHalo() {
    this.updateCasing();
    const line = this.kind === 'route' ? (this.layer || this.working) : null;
    if (!line || !this.bufferM) {
      if (this.halo) this.map.removeLayer(this.halo);
      this.halo = null;
      return;
    }
    const weight = Math.max(2, (2 * this.bufferM) / metresPerPixel(this.map));
    if (!this.halo) this.halo = L.polyline([], HALO_STYLE).addTo(this.map);
    this.halo.setLatLngs(line.getLatLngs());
    this.halo.setStyle({ weight });
    this.halo.bringToBack();
  }

  clear() {
    if (this.mode === 'drawing') this.pm?.disableDraw();
    this.stopEditing();
    if (this.layer) this.map.removeLayer(this.layer);
    if (this.halo) this.map.removeLayer(this.halo);
    if (this.casing) this.map.removeLayer(this.casing);
    this.layer = null;
    this.halo = null;
    this.casing = null;
    this.working = null;
    this.setMode('idle');
    this.changed();
  }

  // The shape as the patrol API takes it: { geometry, buffer_m } (a route), { geometry } (an area), or null.
  value() {
    const source = this.layer || this.working;
    if (!source) return null;
    const latlngs = source.getLatLngs();
    if (this.kind === 'route') {
      const points = flat(latlngs);
      if (points.length < 2) return null;
      return { geometry: { type: 'LineString', coordinates: points.map(lonLat) }, buffer_m: this.bufferM };
    }
    if (source === this.working) { // the open line of a polygon being drawn, closed here
      const points = flat(latlngs);
      if (points.length < 3) return null;
      const ring = points.map(lonLat);
      return { geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] } };
    }
    const geometry = source.toGeoJSON(6).geometry;
    return { geometry };
  }

  changed() {
    if (this.kind === 'route' && this.working) this.updateHalo();
    this.onChange(this.value());
  }
}
