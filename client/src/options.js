// The choices the classified layer API offers, with labels for people.
export const MEASURES = {
  count: 'Count',
  density: 'Density (per km²)',
  rate: 'Rate per 1,000 residents',
  change: 'Change on previous period',
  pct_change: '% change on previous period',
};

// GET /api/layers methods (user_defined needs explicit breaks and is left to the API).
export const METHODS = {
  natural_breaks: 'Natural breaks (Jenks)',
  quantiles: 'Quantiles (equal counts)',
  equal_interval: 'Equal intervals',
  std_mean: 'Standard deviations from the mean',
  head_tail: 'Head/tail breaks',
  pretty: 'Rounded (“pretty”) breaks',
  maximum_breaks: 'Maximum breaks',
};

// ColorBrewer schemes the API offers: all marked colour-blind safe by ColorBrewer.
export const PALETTES = {
  Sequential: ['YlOrRd', 'OrRd', 'Reds', 'Blues', 'Greens', 'Purples', 'YlGnBu', 'PuBuGn', 'BuPu', 'Greys'],
  Diverging: ['RdBu', 'PuOr', 'BrBG', 'PiYG', 'RdYlBu'],
};

export const HEAT_RADII = [100, 200, 300, 500, 800, 1200];

export function areaNoun(data, plural = true) {
  const set = data.metadata.boundary_set;
  if (data.metadata.geography === 'clusters') return plural ? 'ward clusters' : 'ward cluster';
  if (set.kind === 'lsoa') return plural ? 'LSOAs' : 'LSOA';
  if (set.kind === 'ward') return plural ? 'wards' : 'ward';
  return plural ? 'areas' : 'area';
}
