// The state store: patches, subscribers told only about the keys that changed, unsubscribing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, equal } from '../src/store.js';

test('a subscriber hears the new and previous state and the keys that changed', () => {
  const store = createStore({ metric: 'all-crime', k: 5, extra: [] });
  const heard = [];
  store.subscribe(null, (state, previous, changed) => heard.push([state.k, previous.k, changed]));
  store.set({ k: 7, metric: 'all-crime' });
  assert.deepEqual(heard, [[7, 5, ['k']]]);
  assert.equal(store.get().k, 7);
  assert.equal(store.get().metric, 'all-crime');
});

test('no notification when nothing changed, lists and objects compared by content', () => {
  const store = createStore({ k: 5, extra: ['needle-finds'], view: { zoom: 11, lat: 51.2, lon: 0.5 } });
  let calls = 0;
  store.subscribe(null, () => { calls += 1; });
  assert.deepEqual(store.set({ k: 5, extra: ['needle-finds'], view: { zoom: 11, lat: 51.2, lon: 0.5 } }), []);
  assert.equal(calls, 0);
  store.set({ extra: ['needle-finds', 'dcsm-locations'] });
  assert.equal(calls, 1);
  store.update((state) => ({ view: { ...state.view, zoom: 12 } }));
  assert.equal(calls, 2);
});

test('a subscriber to some keys hears only of those', () => {
  const store = createStore({ set: 'wards-2024', view: null, heat: false });
  const layer = [];
  const hotspots = [];
  store.subscribe(['set', 'clusters'], (state) => layer.push(state.set));
  store.subscribe(['heat'], (state, previous) => hotspots.push([previous.heat, state.heat]));
  store.set({ view: { zoom: 12, lat: 51, lon: 0.5 } });
  store.set({ set: 'wards-2013' });
  store.set({ heat: true, set: 'lsoa-2011' });
  assert.deepEqual(layer, ['wards-2013', 'lsoa-2011']);
  assert.deepEqual(hotspots, [[false, true]]);
});

test('set returns what the listeners return, so a caller can await their work', async () => {
  const store = createStore({ k: 5 });
  store.subscribe(['k'], (state) => Promise.resolve(`drawn with ${state.k} classes`));
  store.subscribe(['metric'], () => 'not called');
  assert.deepEqual(await Promise.all(store.set({ k: 6 })), ['drawn with 6 classes']);
});

test('unsubscribing stops the notifications, also for a listener removed by an earlier one', () => {
  const store = createStore({ k: 5 });
  const heard = [];
  let stopSecond = null;
  const stopFirst = store.subscribe(null, (state) => { heard.push(`first ${state.k}`); stopSecond(); });
  stopSecond = store.subscribe(null, (state) => heard.push(`second ${state.k}`));
  store.set({ k: 6 });
  stopFirst();
  store.set({ k: 7 });
  assert.deepEqual(heard, ['first 6']);
});

test('the state is frozen: it only changes through set', () => {
  const store = createStore({ k: 5 });
  assert.throws(() => { 'use strict'; store.get().k = 9; }, TypeError);
  assert.equal(store.get().k, 5);
});

test('a failing listener does not keep the others from hearing of the change', () => {
  const store = createStore({ k: 5 });
  const heard = [];
  store.subscribe(null, () => { throw new Error('broken listener'); });
  store.subscribe(null, (state) => heard.push(state.k));
  assert.throws(() => store.set({ k: 6 }), /broken listener/);
  assert.deepEqual(heard, [6]);
  assert.equal(store.get().k, 6);
});

test('equal: content for arrays and plain objects, identity for anything else', () => {
  assert.ok(equal([1, { a: [2] }], [1, { a: [2] }]));
  assert.ok(!equal([1, 2], [2, 1]));
  assert.ok(!equal({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!equal([], {}));
  assert.ok(!equal(new Map([[1, 2]]), new Map([[1, 2]])));
  const catalogue = new Map();
  assert.ok(equal(catalogue, catalogue));
  assert.ok(equal(Number.NaN, Number.NaN));
  assert.ok(!equal(null, {}));
});
