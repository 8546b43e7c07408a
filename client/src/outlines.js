// Ward-cluster outlines over a ward layer (the partnership's eight clusters), drawn as heavy dark lines.
import { getJSON } from './api.js';

const cache = new Map();
let current = null;
let request = 0;
const STYLE = { colour: '#111', width: 2.6 };

export async function showClusterOutlines(map, setId) {
  hideClusterOutlines(map);
  const mine = ++request;
  if (!cache.has(setId)) cache.set(setId, getJSON(`/api/boundary-sets/${encodeURIComponent(setId)}/clusters`));
  let collection;
  try {
    collection = await cache.get(setId);
  } catch (error) {
    cache.delete(setId);
    throw error;
  }
  if (mine !== request) return null;
  current = L.geoJSON(collection, {
    interactive: false,
    style: { className: 'cluster-outline', color: STYLE.colour, weight: STYLE.width, opacity: 0.9, fill: false },
  }).addTo(map);
  return current;
}

export function hideClusterOutlines(map) {
  request += 1;
  if (current) map.removeLayer(current);
  current = null;
}

export function clusterOutlineLayer() {
  return current;
}

// The legend's entry while the outlines are shown (legend-items.js).
export function clusterOutlineItems() {
  return current ? [{ kind: 'line', label: 'Ward cluster boundary', colour: STYLE.colour, width: STYLE.width, dash: null,
    layer: 'cluster-outlines' }] : [];
}
