// The choices the classified layer API offers, with labels for people: filled from GET /api/registries (the server's
// registries are the one place a method, palette, measure or format is added), before the map draws.
export const MEASURES = {};

// GET /api/layers methods (user_defined needs explicit breaks and is left to the API).
export const METHODS = {};

// ColorBrewer schemes the API offers, by kind: all marked colour-blind safe by ColorBrewer.
export const PALETTES = { Sequential: [], Diverging: [] };

const KIND_LABELS = { sequential: 'Sequential', diverging: 'Diverging' };

// Fill the option lists from a GET /api/registries answer (in place: the modules that import them see the entries).
export function useRegistries(registries) {
  for (const { id, title } of registries.measures) MEASURES[id] = title;
  for (const { id, title, needs_breaks: needsBreaks } of registries.classification_methods) {
    if (!needsBreaks) METHODS[id] = title;
  }
  for (const { id, kind } of registries.palettes) {
    const label = KIND_LABELS[kind] || kind;
    PALETTES[label] = [...(PALETTES[label] || []), id];
  }
}

export const HEAT_RADII = [100, 200, 300, 500, 800, 1200];

export function areaNoun(data, plural = true) {
  const set = data.metadata.boundary_set;
  if (data.metadata.geography === 'clusters') return plural ? 'ward clusters' : 'ward cluster';
  if (set.kind === 'lsoa') return plural ? 'LSOAs' : 'LSOA';
  if (set.kind === 'ward') return plural ? 'wards' : 'ward';
  return plural ? 'areas' : 'area';
}
