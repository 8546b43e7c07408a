// The legend items each layer supplies (legend-items.js): class ranges as printed, swatches as the map shows them,
// and the entries of the heat map, the crime markers, the record layers and the assessment's annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blended, classItems, classRanges, itemSummary, wholeNumbers } from '../src/legend-items.js';
import { NO_DATA_COLOR } from '../src/choropleth.js';
import { HEAT_GRADIENT, MARKER_COLOUR, heatItem, markerItems, saturationAt, saturationQuantile,
  kernelDensities } from '../src/hotspots.js';
import { recordItem } from '../src/hotspot-layers.js';
import { annotationItems } from '../src/annotations.js';

function layer({ values, classes, measure = 'count', noData = 0 }) {
  return { features: values.map((value) => ({ properties: { value } })),
    legend: { k: classes.length, classes, no_data_count: noData }, metadata: { measure } };
}

const COUNTS = layer({ values: [155, 200, 327, 328, 518, null], noData: 1, classes: [
  { lower: 155, upper: 327, color: '#fee5d9', count: 3 },
  { lower: 327, upper: 518, color: '#a50f15', count: 2 }] });

test('whole-number classes start one above the previous upper bound', () => {
  assert.ok(wholeNumbers(COUNTS));
  assert.deepEqual(classRanges(COUNTS), ['155 – 327', '328 – 518']);
});

test('rates keep their bounds; a change is signed with a true minus; the API label wins', () => {
  const rates = layer({ values: [1.5, 2.25], classes: [{ lower: 1.5, upper: 2, color: '#fff', count: 1 },
    { lower: 2, upper: 2.25, color: '#000', count: 1 }] });
  assert.ok(!wholeNumbers(rates));
  assert.deepEqual(classRanges(rates), ['1.5 – 2', '2 – 2.25']);
  const change = layer({ values: [-3, 4], measure: 'change', classes: [{ lower: -3, upper: 0, color: '#00f', count: 1 },
    { lower: 0, upper: 4, color: '#f00', count: 1 }] });
  assert.deepEqual(classRanges(change), ['−3 – 0', '+1 – +4']);
  const labelled = layer({ values: [1], classes: [{ lower: 1, upper: 1, color: '#fff', count: 1, label: '1 only' }] });
  assert.deepEqual(classRanges(labelled), ['1 only']);
});

test('a swatch is the class colour blended over the map background at the fill opacity', () => {
  assert.equal(blended('#000000', 1), '#000000');
  assert.equal(blended('#000000', 0), '#f5f5f3');
  assert.equal(blended('#ffffff', 0.5), '#fafaf9');
});

test('class items: range, API colour, swatch as seen and count, then "No data"', () => {
  const items = classItems(COUNTS, 0.7);
  assert.deepEqual(items.map(itemSummary), [
    { kind: 'class', label: '155 – 327', colour: '#fee5d9' },
    { kind: 'class', label: '328 – 518', colour: '#a50f15' },
    { kind: 'nodata', label: 'No data', colour: NO_DATA_COLOR }]);
  assert.equal(items[1].swatch, blended('#a50f15', 0.7));
  assert.deepEqual(items.map((item) => item.count), [3, 2, 1]);
  // outlines only (heat map on, opacity 0): the swatches keep the classes' full colours
  assert.equal(classItems(COUNTS, 0)[1].swatch, '#a50f15');
  assert.deepEqual(classItems({ ...COUNTS, legend: { ...COUNTS.legend, k: 0, classes: [] } }), []);
  assert.deepEqual(classItems(null), []);
});

test('a class colour that is not a hex colour never reaches the swatch', () => {
  const hostile = layer({ values: [1], classes: [{ lower: 1, upper: 2, color: 'red;background:url(x)', count: 1 }] });
  assert.equal(classItems(hostile)[0].swatch, blended(NO_DATA_COLOR, 1));
});

const HEAT = { radius: 300, pixels: 42, max: 1234, shown: true, maxPixels: 320, count: 14181,
  title: 'All recorded crime', period: '2022-01/2022-11', gradient: HEAT_GRADIENT };

test('the heat map item: stops in order, the saturated density and what was counted', () => {
  const item = heatItem(HEAT);
  assert.equal(item.kind, 'ramp');
  assert.deepEqual(item.stops.map(([at]) => at), [0.15, 0.35, 0.55, 0.75, 0.9, 1]);
  assert.equal(item.stops.at(-1)[1], '#440154');
  assert.equal(item.high, '≥ 1,234 within 300 m');
  assert.match(item.note, /radius 300 m \(42 px at this zoom\)\. 14,181 records: All recorded crime, Jan to Nov 2022\./);
  assert.equal(item.warning, null);
  assert.match(heatItem({ ...HEAT, shown: false }).warning, /wider than 320 px/);
});

test('the crime markers: a dot and a cluster, and when they are drawn', () => {
  const items = markerItems({ visible: false, minZoom: 14 });
  assert.deepEqual(items.map((i) => [i.shape, i.colour, i.group]), [['dot', MARKER_COLOUR, 'Crime locations'],
    ['cluster', MARKER_COLOUR, 'Crime locations']]);
  assert.match(items[1].warning, /zoom level 14/);
  assert.equal(markerItems({ visible: true, minZoom: 14 })[1].warning, null);
});

test('a record layer: its shape and colour, counts with their units, and what is not on the map', () => {
  const item = recordItem({ id: 'needle-finds', title: 'Needle finds', color: '#b35806', shape: 'diamond',
    sensitivity: 'internal', unit: 'needles', period: 'all dates', points: 1, locations: 1, total: 12, unplaced: 3,
    areaLevel: 0, statistics: [] });
  assert.deepEqual(itemSummary(item), { kind: 'symbol', label: 'Needle finds', colour: '#b35806' });
  assert.equal(item.shape, 'diamond');
  assert.equal(item.note, '1 record at 1 place (total 12 needles), all dates; symbol size shows the count. '
    + 'Not on the map: 3 at places not yet placed records.');
  assert.deepEqual([item.details.points, item.details.unplaced, item.details.sensitivity], [1, 3, 'internal']);
  const many = recordItem({ id: 'x', title: 'X', color: '#111111', points: 2, locations: 2, total: 2, period: '2022' });
  assert.match(many.note, /^2 records at 2 places \(total 2\), 2022;/);
  assert.equal(many.shape, 'circle');
});

test('the annotations: a solid and a dashed outline under the assessment\'s name', () => {
  const items = annotationItems();
  assert.deepEqual(items.map((i) => [i.kind, i.label, i.dash]), [['line', 'LSOA of concern', null],
    ['line', 'District priority area', [8, 6]]]);
  assert.ok(items.every((i) => i.group === 'Strategic Assessment 2024/25' && /^#[0-9a-f]{6}$/.test(i.colour)));
});

test('heat saturation: the top 5 % at the borough\'s zoom, the densest place zoomed in, never below 2', () => {
  assert.equal(saturationQuantile(11), 0.95);
  assert.equal(saturationQuantile(15), 1);
  assert.ok(saturationQuantile(13.5) > 0.95 && saturationQuantile(13.5) < 1);
  const densities = Array.from({ length: 101 }, (_, i) => i);
  assert.equal(saturationAt(densities, 12), 95);
  assert.equal(saturationAt(densities, 16), 100);
  assert.equal(saturationAt([0.2, 0.5], 12), 2);
  assert.equal(saturationAt([], 12), 1);
});

test('kernel densities: crimes on one spot add up, a far crime stays alone', () => {
  const spot = [51.27, 0.52];
  const far = [51.3, 0.6];
  const densities = kernelDensities([spot, spot, spot, far], 300);
  assert.deepEqual(densities, [1, 3]);
});
