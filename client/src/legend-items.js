// The legend's entries, one shape for every map layer: each layer module says what it shows as a list of items, and
// the on-screen legend (legend.js, HTML) and the PNG export (export.js, canvas) both draw that same list.
//
//   { kind: 'class',  label, colour, swatch, count }  a class of the areas: its range, API colour, the colour as
//                                                      seen at the layer's fill opacity, and how many areas it holds
//   { kind: 'nodata', label, colour, count }           areas without a figure (hatched grey)
//   { kind: 'line',   label, colour, width, dash }     an outline (dash: [on, off] px, or null for solid)
//   { kind: 'ramp',   label, stops, low, high }        a continuous scale (stops: [[0..1, colour], …])
//   { kind: 'symbol', label, colour, shape }           a point symbol (shape: dot, cluster, circle, diamond, square,
//                                                      triangle)
// Any item may add: group (a heading shared by consecutive items), note (a sentence shown under it), warning
// (a sentence on what is not drawn), hint (for the screen only, e.g. "click a badge"), layer (the id of the layer
// it stands for), details (facts the HTML legend shows as attributes: badge, statistics, counts).
import { formatNumber } from './format.js';
import { NO_DATA_COLOR } from './choropleth.js';

const isInteger = (v) => v === null || Number.isInteger(v);

// Ranges as printed. Classes include their upper bound, so when every value is a whole number (counts) the next
// class starts one above: "155 – 327", "328 – 518"; otherwise the bounds are printed as they are.
export function wholeNumbers(data) {
  return data.features.every((f) => isInteger(f.properties.value))
    && data.legend.classes.every((c) => isInteger(c.lower) && isInteger(c.upper));
}

export function classRanges(data, signed = data.metadata.measure.includes('change')) {
  const integers = wholeNumbers(data);
  return data.legend.classes.map((c, index) => {
    if (c.label) return c.label; // the API's formatter, shared with the static maps
    const lower = index > 0 && integers ? c.lower + 1 : c.lower;
    if (lower >= c.upper) return formatNumber(c.upper, { signed });
    return `${formatNumber(lower, { signed })} – ${formatNumber(c.upper, { signed })}`;
  });
}

// The colour an area shows at this fill opacity over the plain map background: what the swatch should show.
export function blended(hex, opacity, background = [0xf5, 0xf5, 0xf3]) {
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const mixed = rgb.map((c, i) => Math.round(opacity * c + (1 - opacity) * background[i]));
  return `#${mixed.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

const HEX = /^#[0-9a-f]{6}$/i;

// The classes of a classified layer (GET /api/layers) and its "No data" areas. At fill opacity 0 (outlines only,
// while the heat map is on) the swatches keep the classes' full colours: the legend still says what they mean.
export function classItems(data, opacity = 1) {
  if (!data || !data.legend.k) return [];
  const ranges = classRanges(data);
  const seen = opacity || 1;
  const items = data.legend.classes.map((c, index) => {
    const colour = HEX.test(String(c.color)) ? c.color : NO_DATA_COLOR;
    return { kind: 'class', label: ranges[index], colour: c.color, swatch: blended(colour, seen), count: c.count };
  });
  if (data.legend.no_data_count) {
    items.push({ kind: 'nodata', label: 'No data', colour: NO_DATA_COLOR, count: data.legend.no_data_count });
  }
  return items;
}

// What an item says, in one line (the legend's accessible text, and what the export reports it drew).
export function itemSummary(item) {
  return { kind: item.kind, label: item.label, colour: item.colour ?? null };
}
