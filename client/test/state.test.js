// The map state in the URL: read, written back and turned into the layer API's query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, defaultMeasure, layerUrl, readState, stateQuery } from '../src/state.js';

test('a copied link reopens the same state', () => {
  const state = readState('?set=wards-2013&clusters=1&metric=burglary&period=2022-01/2022-06&measure=density'
    + '&method=quantiles&k=7&palette=Blues&view=12/51.27/0.52');
  assert.equal(state.set, 'wards-2013');
  assert.equal(state.clusters, true);
  assert.equal(state.k, 7);
  assert.equal(state.measureAuto, false);
  assert.deepEqual(state.view, { zoom: 12, lat: 51.27, lon: 0.52 });
  assert.deepEqual(readState(`?${stateQuery(state)}`), state);
});

test('out-of-range values fall back to the defaults', () => {
  const state = readState('?k=42&radius=1&view=99/500/0');
  assert.equal(state.k, DEFAULTS.k);
  assert.equal(state.radius, DEFAULTS.radius);
  assert.equal(state.view, null);
  assert.equal(state.measureAuto, true);
});

test('the layer URL carries the classification, and bare drops it', () => {
  const state = { ...DEFAULTS, set: 'wards-2024', clusters: true, metric: 'asb', measure: 'rate', period: '2022' };
  assert.equal(layerUrl(state), '/api/layers/wards-2024/clusters?metric=asb&measure=rate&method=natural_breaks&k=5'
    + '&period=2022');
  assert.equal(layerUrl(state, { measure: 'change', bare: true }),
    '/api/layers/wards-2024/clusters?metric=asb&measure=change&period=2022');
});

test('the map picks a rate where the set has a population, else density', () => {
  assert.equal(defaultMeasure({ population: { areas: 10 } }), 'rate');
  assert.equal(defaultMeasure({ population: null }), 'density');
  assert.equal(defaultMeasure({ population: null }, { measures: ['rate', 'change'], kind: 'rate' }), 'rate');
  assert.equal(defaultMeasure(null, { measures: ['count', 'change'] }), 'count');
});
