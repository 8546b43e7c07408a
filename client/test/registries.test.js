// The option lists and downloads come from GET /api/registries: nothing is listed twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEASURES, METHODS, PALETTES, useRegistries } from '../src/options.js';
import { DOWNLOADS, downloadUrl, useDownloadFormats } from '../src/downloads.js';
import { DEFAULTS } from '../src/state.js';

const REGISTRIES = {
  classification_methods: [{ id: 'natural_breaks', title: 'Natural breaks (Jenks)', needs_breaks: false },
    { id: 'user_defined', title: 'User defined', needs_breaks: true }],
  palettes: [{ id: 'YlOrRd', kind: 'sequential' }, { id: 'RdBu', kind: 'diverging' }, { id: 'Blues', kind: 'sequential' }],
  measures: [{ id: 'count', title: 'Count', unit: 'count' }, { id: 'rate', title: 'Rate per 1,000 residents' }],
  export_formats: [{ id: 'geojson', title: 'GeoJSON', offered: true }, { id: 'shp.zip', title: 'Shapefile', offered: true },
    { id: 'metadata.json', title: 'Metadata', offered: false }],
  map_formats: [{ id: 'png', title: 'Map image (PNG)', offered: true }, { id: 'svg', title: 'svg', offered: false }],
};

test('methods, palettes and measures are the registries, user_defined left to the API', () => {
  useRegistries(REGISTRIES);
  assert.deepEqual(METHODS, { natural_breaks: 'Natural breaks (Jenks)' });
  assert.deepEqual(PALETTES, { Sequential: ['YlOrRd', 'Blues'], Diverging: ['RdBu'] });
  assert.deepEqual(MEASURES, { count: 'Count', rate: 'Rate per 1,000 residents' });
});

test('downloads are the offered export and map formats, in the server\'s order', () => {
  useDownloadFormats(REGISTRIES);
  assert.deepEqual(DOWNLOADS.map((d) => `${d.kind}/${d.ext}`), ['exports/geojson', 'exports/shp.zip', 'maps/png']);
  useDownloadFormats(REGISTRIES); // a second answer replaces the list, it does not add to it
  assert.equal(DOWNLOADS.length, 3);
  const state = { ...DEFAULTS, set: 'wards 2024', measure: 'count' };
  assert.equal(downloadUrl(state, DOWNLOADS[1]),
    '/api/exports/wards%202024.shp.zip?metric=all-crime&measure=count&method=natural_breaks&k=5');
});
