// The list of boundary sets, asked for once per page (index.html preloads it): the map's controls, its default
// measure and the choice between GeoJSON and vector tiles all read the same answer.
import { getJSON } from './api.js';

let sets = null;

export function boundarySets() {
  if (!sets) {
    sets = getJSON('/api/boundary-sets');
    sets.catch(() => { sets = null; });
  }
  return sets;
}
