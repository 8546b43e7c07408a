// The classified layer, drawn the way its size needs: up to TILE_THRESHOLD areas as GeoJSON (one SVG path per area:
// crisp outlines, CSS hooks, instant hover), more as vector tiles on canvas (vector-choropleth.js), which keeps the
// page light for England's 32,844 LSOAs. Both offer the same methods to the rest of the map.
import { boundarySets } from './catalogue.js';
import { Choropleth } from './choropleth.js';
import { classItems } from './legend-items.js';
import { layerUrl } from './state.js';
import { VectorChoropleth } from './vector-choropleth.js';

export const TILE_THRESHOLD = 2000;

async function areaCount(set) {
  const { boundary_sets: sets } = await boundarySets();
  return sets.find((s) => s.id === set)?.feature_count ?? 0;
}

export class AreaLayer {
  constructor(map, options) {
    this.svg = new Choropleth(map, options);
    this.tiles = new VectorChoropleth(map, options);
    this.active = this.svg;
    this.fillOpacity = 0.85;
  }

  get data() {
    return this.active.data;
  }

  async fetch(state) {
    const count = await areaCount(state.set);
    const tiled = !state.clusters && count > TILE_THRESHOLD;
    const data = tiled ? await this.tiles.fetch(state, layerUrl(state), count) : await this.svg.fetch(state);
    data.drawnAs = tiled ? 'tiles' : 'geojson';
    return data;
  }

  show(data, state) {
    this.clear();
    this.active = data.drawnAs === 'tiles' ? this.tiles : this.svg;
    this.active.fillOpacity = this.fillOpacity;
    return this.active.show(data, state);
  }

  clear() {
    this.svg.clear();
    this.tiles.clear();
  }

  setFillOpacity(opacity) {
    this.fillOpacity = opacity;
    this.active.setFillOpacity(opacity);
  }

  bounds() {
    return this.active.bounds();
  }

  features() {
    return this.active.features();
  }

  // The legend's entries: the classes as the areas show them at the current fill opacity (legend-items.js).
  legendItems() {
    return classItems(this.data, this.fillOpacity);
  }

  tileElements() {
    return this.active === this.tiles ? this.tiles.tileElements() : [];
  }

  focus(code) {
    return this.active.focus(code);
  }
}
