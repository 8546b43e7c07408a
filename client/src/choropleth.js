// The classified layer: fetches GET /api/layers/{set}[/clusters] and draws each area in the colour the API gave.
import { getJSON } from './api.js';
import { formatNumber } from './format.js';
import { html, htmlText } from './html.js';
import { layerUrl } from './state.js';
import { popupOptions } from './viewport.js';

export const NO_DATA_COLOR = '#d9d9d9';
export const NO_DATA_PATTERN = 'csp-no-data-hatch';
const SVG = 'http://www.w3.org/2000/svg';
// From this many areas the paths are drawn on one canvas (Leaflet's Canvas renderer) rather than one SVG element
// each: the page stays light; larger sets still are drawn from vector tiles (area-layer.js).
export const CANVAS_FROM = 500;
const EDGE = { ward: 0.9, lsoa: 0.5, cluster: 1.4 };

export function codeClass(code) {
  return `code-${String(code).replace(/[^\w-]/g, '_')}`;
}

// The hover label of an area or cluster (HTML text): its name, code and value.
export function areaLabel(p, unit) {
  return htmlText(html`<strong>${p.name}</strong> ${p.number ? '' : p.code}<br>${formatNumber(p.value)} ${unit}`);
}

export function featureKey(feature) {
  return String(feature.properties.code);
}

// The SVG pattern of "No data" areas, defined once in the overlay's SVG (built with the DOM: no markup strings).
function addHatchPattern(map) {
  const svg = map.getRenderer(L.polyline([[0, 0]]))._container;
  if (!svg || svg.querySelector(`#${NO_DATA_PATTERN}`)) return;
  const make = (name, attributes) => {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    return element;
  };
  const defs = svg.querySelector('defs') || svg.insertBefore(make('defs', {}), svg.firstChild);
  const pattern = make('pattern', { id: NO_DATA_PATTERN, patternUnits: 'userSpaceOnUse', width: 7, height: 7,
    patternTransform: 'rotate(45)' });
  pattern.append(make('rect', { width: 7, height: 7, fill: '#ececec' }),
    make('line', { x1: 0, y1: 0, x2: 0, y2: 7, stroke: '#8c8c8c', 'stroke-width': 2.2 }));
  defs.append(pattern);
}

export class Choropleth {
  constructor(map, { popup }) {
    this.map = map;
    this.popup = popup;
    this.layer = null;
    this.data = null;
    this.byCode = new Map();
    this.fillOpacity = 0.85;
    this.hover = !window.matchMedia('(hover: none)').matches;
  }

  async fetch(state) {
    return getJSON(layerUrl(state));
  }

  clear() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
    this.data = null;
    this.byCode.clear();
  }

  show(data, state) {
    this.clear();
    this.data = data;
    const kind = state.clusters ? 'cluster' : (data.metadata.boundary_set.kind === 'lsoa' ? 'lsoa' : 'ward');
    const weight = EDGE[kind];
    const unit = data.legend.unit;
    const renderer = data.features.length >= CANVAS_FROM ? L.canvas({ padding: 0.5 }) : undefined;
    this.layer = L.geoJSON(data, {
      renderer,
      style: (feature) => ({
        // "No data" areas are hatched grey (CSS fills them with the pattern), never a colour of the classes
        className: `area ${codeClass(featureKey(feature))}${feature.properties.color ? '' : ' no-data'}`,
        color: '#3a3a3a', weight, opacity: 0.9,
        fillColor: feature.properties.color || NO_DATA_COLOR, fillOpacity: this.fillOpacity,
      }),
      onEachFeature: (feature, layer) => {
        this.byCode.set(featureKey(feature), layer);
        const p = feature.properties;
        if (this.hover) {
          layer.bindTooltip(areaLabel(p, unit),
            { sticky: true, className: 'area-label', direction: 'top', offset: [0, -8] });
          layer.on('mouseover', () => { layer.setStyle({ weight: weight + 2 }); layer.bringToFront(); });
          layer.on('mouseout', () => layer.setStyle({ weight }));
        }
        layer.bindPopup(() => this.popup(feature, layer), popupOptions({ width: 300, minWidth: 220 }));
        layer.on('popupopen', () => layer.closeTooltip());
      },
    }).addTo(this.map);
    addHatchPattern(this.map);
    return this.layer;
  }

  setFillOpacity(opacity) {
    this.fillOpacity = opacity;
    if (this.layer) this.layer.setStyle({ fillOpacity: opacity });
  }

  bounds() {
    return this.layer ? this.layer.getBounds() : null;
  }

  features() {
    return this.data ? this.data.features : [];
  }

  focus(code) {
    const layer = this.byCode.get(String(code));
    if (!layer) return false;
    this.map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [40, 40] });
    layer.openPopup(layer.getBounds().getCenter());
    return true;
  }
}
