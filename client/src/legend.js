// The legend: each class's range and number of areas, no data, method and k, unit, source, data date, the
// boundary version with its validity dates, notes, interpolation and where each month came from (provenance);
// then the hotspot layers shown.
import { formatNumber, periodLabel, validity } from './format.js';
import { cssColour, html, setHtml } from './html.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { METHODS, areaNoun } from './options.js';
import { HALO_COLOR, RING_COLOR, shapePath } from './record-symbols.js';
import { isNarrow } from './viewport.js';

const isInteger = (v) => v === null || Number.isInteger(v);
const OUTLINE_ITEM = html`<p class="legend-outline"><span class="outline-sample"></span> Ward cluster boundary</p>`;
const ANNOTATION_ITEMS = html`<p class="legend-outline legend-annotations"><span class="outline-sample annotation-lsoa-sample">
  </span> LSOA of concern <span class="outline-sample annotation-priority-sample"></span> District priority area
  <span class="small">(Strategic Assessment 2024/25; click a badge for the statement)</span></p>`;

// Ranges as printed. Classes include their upper bound, so when every value is a whole number (counts) the next
// class starts one above: "155 – 327", "328 – 518"; otherwise the bounds are printed as they are.
export function wholeNumbers(data) {
  return data.features.every((f) => isInteger(f.properties.value))
    && data.legend.classes.every((c) => isInteger(c.lower) && isInteger(c.upper));
}

export function classRanges(data, signed) {
  const legend = data.legend;
  const integers = wholeNumbers(data);
  return legend.classes.map((c, index) => {
    if (c.label) return c.label; // the API's formatter, shared with the static maps
    const lower = index > 0 && integers ? c.lower + 1 : c.lower;
    if (lower >= c.upper) return formatNumber(c.upper, { signed });
    return `${formatNumber(lower, { signed })} – ${formatNumber(c.upper, { signed })}`;
  });
}

export function legendNotes(data) {
  const meta = data.metadata;
  const notes = [...(data.legend.notes || []), ...(meta.notes || [])];
  const unplaced = meta.records?.unplaced_by_boundary_set?.[meta.boundary_set.id];
  if (unplaced) notes.push(`${formatNumber(unplaced)} records of this filter lie in no area of this boundary set`);
  if (meta.records?.no_location) notes.push(`${formatNumber(meta.records.no_location)} records have no location`);
  return [...new Set(notes)];
}

// Figures published for other boundaries and re-estimated for these: say so, and how far off they may be.
function estimatedLine(data) {
  const estimate = data.metadata.estimate;
  const spread = estimate ? html` · each area ± its held-out error (median ±${formatNumber(estimate.median_error_pct)}%,
    up to ±${formatNumber(estimate.worst_error_pct)}%; the popup and table give the interval)` : '';
  return html`<p class="legend-estimated"><strong>Estimated</strong>${spread}</p>`;
}

export function subtitle(data) {
  const meta = data.metadata;
  const change = meta.base_period ? ` compared with ${periodLabel(meta.base_period)}` : '';
  return `${data.legend.unit} · ${periodLabel(meta.period)}${change}`;
}

export function methodLine(data) {
  const legend = data.legend;
  const method = METHODS[legend.method] || legend.method;
  return `${method}, ${legend.k} classes, ${legend.palette} · ${data.features.length} ${areaNoun(data)}`;
}

// The colour an area shows at this fill opacity over the plain map background: what the swatch should show.
export function blended(hex, opacity, background = [0xf5, 0xf5, 0xf3]) {
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const mixed = rgb.map((c, i) => Math.round(opacity * c + (1 - opacity) * background[i]));
  return `#${mixed.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function classesTable(data, signed, opacity) {
  const legend = data.legend;
  const ranges = classRanges(data, signed);
  const rows = legend.classes.map((c, index) => html`
    <tr class="legend-class" data-color="${c.color}" data-count="${c.count}">
      <td><span class="swatch" data-fill="${blended(cssColour(c.color, NO_DATA_COLOR), opacity)}"></span></td>
      <td class="range">${ranges[index]}</td><td class="count">${c.count}</td></tr>`);
  if (legend.no_data_count) {
    rows.push(html`<tr class="legend-class no-data" data-color="${NO_DATA_COLOR}" data-count="${legend.no_data_count}">
      <td><span class="swatch swatch-no-data"></span></td>
      <td class="range">No data</td><td class="count">${legend.no_data_count}</td></tr>`);
  }
  const noun = areaNoun(data);
  const caption = !wholeNumbers(data) && legend.classes.length > 1
    ? html`<p class="legend-note">Each class includes its upper bound.</p>` : '';
  return html`<table class="legend-classes"><caption class="visually-hidden">Classes</caption>
    <thead><tr><th scope="col"><span class="visually-hidden">Colour</span></th>
    <th scope="col">${legend.unit}</th><th scope="col">${noun[0].toUpperCase()}${noun.slice(1)}</th>
    </tr></thead><tbody>${rows}</tbody></table>${caption}`;
}

function aboutList(data) {
  const meta = data.metadata;
  const set = meta.boundary_set;
  const items = [
    ['Source', meta.source],
    ['Data date', /^\d{4}-\d{2}$/.test(meta.data_date) ? `to ${periodLabel(meta.data_date)}` : meta.data_date],
    ['Boundaries', `${set.title}${validity(set) ? ` (${validity(set)})` : ''}`],
  ];
  if (meta.interpolation) items.push(['Interpolation', meta.interpolation]);
  if (meta.provenance?.length) {
    const lines = meta.provenance.map((line) => html`<li>${line}</li>`);
    items.push(['Provenance', html`<ul class="legend-provenance">${lines}</ul>`]);
  }
  const notes = legendNotes(data);
  if (notes.length) items.push(['Notes', html`<ul>${notes.map((n) => html`<li>${n}</li>`)}</ul>`]);
  return html`<dl class="legend-about-list">${items.map(([t, d]) => html`<dt>${t}</dt><dd>${d}</dd>`)}</dl>`;
}

function heatSection(h) {
  const hidden = h.shown ? '' : html` <em>Hidden at this zoom: the radius would be wider than ${h.maxPixels} px; zoom
    out or choose a smaller radius.</em>`;
  return html`<div class="legend-heat" data-radius="${h.radius}">
    <h3>Crime density (heat map)</h3>
    <div class="heat-bar" data-fill="${`linear-gradient(to right, ${h.gradientCss})`}"></div>
    <div class="heat-scale"><span>fewer</span><span>≥ ${formatNumber(h.max)} within ${formatNumber(h.radius)} m</span>
    </div>
    <p>Quartic kernel, radius <strong>${formatNumber(h.radius)} m</strong> (${formatNumber(h.pixels)} px at this
    zoom). ${formatNumber(h.count)} records: ${h.title}, ${periodLabel(h.period)}.${hidden}</p>
    </div>`;
}

function markersSection(m) {
  return html`<div class="legend-markers"><h3>Crime locations</h3>
    <p><span class="marker-dot"></span> one record <span class="marker-cluster-sample">12</span> a cluster of
    records${m.visible ? '' : html` — <em>zoom in to level ${m.minZoom} to see them</em>`}.
    Police.uk locations are anonymised snap points.</p></div>`;
}

function symbolSample(extra) {
  const d = shapePath(extra.shape || 'circle', 0, 0, 5);
  return html`<svg class="legend-symbol" viewBox="-10 -10 20 20" width="18" height="18" aria-hidden="true">
    <path d="${d}" fill="none" stroke="${HALO_COLOR}" stroke-width="4.5" stroke-opacity="0.9"></path>
    <path d="${d}" fill="${cssColour(extra.color)}" stroke="${RING_COLOR}" stroke-width="1.8"></path></svg>`;
}

function extraSection(extra) {
  const off = [];
  if (extra.unplaced) off.push(`${formatNumber(extra.unplaced)} at places not yet placed`);
  if (extra.areaLevel) off.push(`${formatNumber(extra.areaLevel)} borough-level`);
  return html`<div class="legend-extra" data-layer="${extra.id}" data-points="${extra.points}"
    data-unplaced="${extra.unplaced}"><h3>${symbolSample(extra)}
    ${extra.title} <span class="badge badge-${extra.sensitivity}">${extra.sensitivity}</span></h3>
    <p>${formatNumber(extra.points)} ${extra.points === 1 ? 'record' : 'records'} at ${formatNumber(extra.locations)}
    ${extra.locations === 1 ? 'place' : 'places'} (total ${formatNumber(extra.total)} ${extra.unit || ''}),
    ${extra.period}; symbol size shows the count.${off.length ? ` Not on the map: ${off.join(', ')}
    records.` : ''}</p>${(extra.statistics || []).map(statisticLine)}</div>`;
}

// A figure of the layer with no locations (e.g. the DCSM's 2023 counts), with where it was printed. The API sends
// these only to those who may read the layer.
function statisticLine(figure) {
  return html`<details class="legend-statistics" data-key="${figure.key}"><summary><strong>${
    formatNumber(figure.value)}</strong> ${figure.unit}, ${figure.period} (${figure.geography})</summary>
    <p>${figure.label}. Strategic Assessment 2024/25, paragraph ${figure.paragraph}, line ${figure.source_line}:
    “${figure.quote}”</p></details>`;
}

function hotspotSection(hotspots) {
  if (!hotspots) return '';
  return html`${hotspots.heat ? heatSection(hotspots.heat) : ''}${hotspots.markers ? markersSection(hotspots.markers)
    : ''}${(hotspots.extra || []).map(extraSection)}`;
}

// One click to the other measures of the same map: counts, and back to the rate or density.
function measureSwitch(data, choices) {
  const others = (choices || []).filter((c) => c.measure !== data.metadata.measure);
  if (!others.length) return '';
  return html`<p class="legend-measures">Show: ${others.map((c, i) => html`${i ? ' · ' : ''}<button type="button"
    class="link legend-measure" data-measure="${c.measure}">${c.label}</button>`)}</p>`;
}

// The classes' colours in one line: what a collapsed legend on a phone still shows.
function ramp(data) {
  const swatches = data.legend.classes.map((c) => html`<span data-fill="${cssColour(c.color, NO_DATA_COLOR)}"></span>`);
  if (data.legend.no_data_count) swatches.push(html`<span class="swatch-no-data"></span>`);
  return html`<span class="legend-ramp" aria-hidden="true">${swatches}</span>`;
}

export const Legend = L.Control.extend({
  options: { position: 'bottomright' },

  onAdd() {
    const container = L.DomUtil.create('section', 'legend leaflet-bar');
    container.id = 'legend';
    container.setAttribute('aria-label', 'Legend');
    L.DomEvent.disableClickPropagation(container);
    L.DomEvent.disableScrollPropagation(container);
    this.container = container;
    this.aboutOpen = window.innerWidth > 700;
    this.collapsed = isNarrow(); // on a phone the legend starts as one line; a tap opens it
    container.classList.toggle('collapsed', this.collapsed);
    container.addEventListener('click', (event) => {
      const toggle = event.target.closest('.legend-toggle');
      if (toggle) this.setCollapsed(!this.collapsed);
      const measure = event.target.closest('.legend-measure');
      if (measure && this.onMeasure) this.onMeasure(measure.dataset.measure);
    });
    setHtml(container, html`<p class="legend-empty">Loading…</p>`);
    return container;
  },

  setCollapsed(collapsed) {
    this.collapsed = collapsed;
    this.container.classList.toggle('collapsed', collapsed);
    const toggle = this.container.querySelector('.legend-toggle');
    if (toggle) toggle.setAttribute('aria-expanded', String(!collapsed));
  },

  // options: title (an error to show instead), opacity (of the areas' fill), measures ([{measure, label}] offered
  // one click away), outlinesOnly (the heat map is on: the areas are drawn as outlines, their colours are not shown)
  render(data, hotspots, { title, opacity = 1, measures = [], outlinesOnly = false } = {}) {
    const about = this.container.querySelector('details.legend-about');
    if (about) this.aboutOpen = about.open;
    const expanded = String(!this.collapsed);
    if (!data) {
      setHtml(this.container, html`<button type="button" class="legend-toggle" aria-expanded="${expanded}"
        aria-controls="legend-body">Legend</button><div class="legend-body" id="legend-body">
        <p class="legend-empty">${title || 'No layer'}</p>${hotspotSection(hotspots)}</div>`);
      return;
    }
    const signed = data.metadata.measure.includes('change');
    const empty = data.legend.k === 0 ? html`<p class="legend-empty">${title || 'No data for this filter'}</p>` : '';
    const outlines = outlinesOnly ? html`<p class="legend-note legend-outlines-only">Areas are drawn as outlines while
      the heat map is on; switch it off to see their colours.</p>` : '';
    setHtml(this.container, html`
      <button type="button" class="legend-toggle" aria-expanded="${expanded}" aria-controls="legend-body"><span
        class="legend-toggle-text">Legend<span class="visually-hidden">: ${data.legend.title}</span></span>${
        empty ? '' : ramp(data)}</button>
      <div class="legend-body" id="legend-body">
      <h2 class="legend-title">${data.legend.title}</h2>
      <p class="legend-sub">${subtitle(data)}</p>
      ${data.legend.estimated ? estimatedLine(data) : ''}
      ${empty || classesTable(data, signed, outlinesOnly ? 1 : opacity)}
      ${outlines}
      ${measureSwitch(data, measures)}
      <p class="legend-method">${methodLine(data)}</p>
      ${hotspots?.outlines ? OUTLINE_ITEM : ''}
      ${hotspots?.annotations ? ANNOTATION_ITEMS : ''}
      ${hotspotSection(hotspots)}
      <details class="legend-about"${this.aboutOpen ? html` open` : ''}><summary>Source, date and boundaries</summary>
      ${aboutList(data)}</details></div>`);
  },
});
