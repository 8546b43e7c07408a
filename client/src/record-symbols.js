// Symbols of the partnership's records (needle finds, DCSM locations…): a shape per layer, filled in the layer's
// colour, inside a white ring and a near-black halo. Whatever the palette under them (pale yellow to dark purple),
// one of the two rings contrasts with it, and the shape tells the layers apart without relying on colour.
export const SHAPES = { 'needle-finds': 'diamond', 'dcsm-locations': 'square' };
const SPARE_SHAPES = ['triangle', 'circle'];
export const HALO_COLOR = '#000000';
export const RING_COLOR = '#ffffff';

export function shapeFor(layerId, index = 0) {
  return SHAPES[layerId] || SPARE_SHAPES[index % SPARE_SHAPES.length];
}

// The SVG path of a shape of "radius" r around (x, y), with about the area of a circle of that radius.
export function shapePath(shape, x, y, r) {
  if (shape === 'diamond') {
    const d = r * 1.25;
    return `M${x} ${y - d}L${x + d} ${y}L${x} ${y + d}L${x - d} ${y}z`;
  }
  if (shape === 'square') {
    const h = r * 0.89;
    return `M${x - h} ${y - h}h${2 * h}v${2 * h}h${-2 * h}z`;
  }
  if (shape === 'triangle') {
    const h = r * 1.35;
    return `M${x} ${y - h}L${x + h * 0.87} ${y + h * 0.5}L${x - h * 0.87} ${y + h * 0.5}z`;
  }
  return `M${x - r} ${y}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0z`;
}

// A CircleMarker (same radius option, same events and popups) drawn as a shape by the SVG renderer; made on first
// use, so the module's pure functions load without Leaflet (node --test).
let ShapeMarker = null;

function shapeMarker(latlng, options) {
  ShapeMarker = ShapeMarker || L.CircleMarker.extend({
    options: { shape: 'circle' },
    _updatePath() {
      const p = this._point;
      this._renderer._setPath(this, shapePath(this.options.shape, p.x, p.y, this._radius));
    },
  });
  return new ShapeMarker(latlng, options);
}

// One record symbol: the halo (not interactive) and the shape on top, as one layer group.
export function recordSymbol(latlng, { shape, color, radius, pane, className }) {
  const halo = shapeMarker(latlng, { pane, shape, radius, interactive: false, className: 'hotspot-halo',
    color: HALO_COLOR, weight: 5.5, opacity: 0.9, fill: false });
  const symbol = shapeMarker(latlng, { pane, shape, radius, className, color: RING_COLOR, weight: 2,
    opacity: 1, fillColor: color, fillOpacity: 1 });
  return { group: L.layerGroup([halo, symbol]), symbol };
}
