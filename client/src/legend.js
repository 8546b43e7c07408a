// The legend: each class's range and number of areas, no data, method and k, unit, source, data date, the
// boundary version with its validity dates, notes, interpolation and where each month came from (provenance);
// then the hotspot layers shown.
import { formatNumber, periodLabel, validity } from './format.js';
import { cssColour, html, setHtml } from './html.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { wholeNumbers } from './legend-items.js';
import { METHODS, areaNoun } from './options.js';
import { HALO_COLOR, RING_COLOR, shapePath } from './record-symbols.js';
import { isNarrow } from './viewport.js';

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

const isClass = (item) => item.kind === 'class' || item.kind === 'nodata';

function classRow(item) {
  const swatch = item.kind === 'nodata' ? html`<span class="swatch swatch-no-data"></span>`
    : html`<span class="swatch" data-fill="${cssColour(item.swatch, NO_DATA_COLOR)}"></span>`;
  return html`<tr class="legend-class${item.kind === 'nodata' ? ' no-data' : ''}" data-legend-kind="${item.kind}"
    data-color="${item.colour}" data-count="${item.count}"><td>${swatch}</td>
    <td class="range legend-label">${item.label}</td><td class="count">${item.count}</td></tr>`;
}

function classesTable(data, items) {
  const legend = data.legend;
  const noun = areaNoun(data);
  const caption = !wholeNumbers(data) && legend.classes.length > 1
    ? html`<p class="legend-note">Each class includes its upper bound.</p>` : '';
  return html`<table class="legend-classes"><caption class="visually-hidden">Classes</caption>
    <thead><tr><th scope="col"><span class="visually-hidden">Colour</span></th>
    <th scope="col">${legend.unit}</th><th scope="col">${noun[0].toUpperCase()}${noun.slice(1)}</th>
    </tr></thead><tbody>${items.map(classRow)}</tbody></table>${caption}`;
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

function itemNotes(item) {
  const warning = item.warning ? html` <em>${item.warning}</em>` : '';
  const hint = item.hint ? html` <span class="small">${item.hint}</span>` : '';
  return item.note || warning || hint ? html`<p>${item.note || ''}${warning}${hint}</p>` : '';
}

function lineSample(item) {
  return html`<svg class="legend-line" viewBox="0 0 26 10" width="26" height="10" aria-hidden="true"><line x1="1"
    y1="5" x2="25" y2="5" stroke="${cssColour(item.colour)}" stroke-width="${item.width}"${item.dash
      ? html` stroke-dasharray="${item.dash.join(' ')}"` : ''}></line></svg>`;
}

function rampItem(item) {
  const stops = item.stops.map(([at, colour]) => `${colour} ${Math.round(at * 100)}%`);
  return html`<div class="legend-heat" data-legend-kind="ramp" data-radius="${item.details?.radius}">
    <h3 class="legend-label">${item.label}</h3>
    <div class="heat-bar" data-fill="${`linear-gradient(to right, transparent 0%, ${stops.join(', ')})`}"></div>
    <div class="heat-scale"><span>${item.low}</span><span>${item.high}</span></div>${itemNotes(item)}</div>`;
}

// A record layer's symbol: the shape in the layer's colour inside the white ring and the black halo of the map.
function shapeSample(item) {
  const d = shapePath(item.shape, 0, 0, 5);
  return html`<svg class="legend-symbol" viewBox="-10 -10 20 20" width="18" height="18" aria-hidden="true">
    <path d="${d}" fill="none" stroke="${HALO_COLOR}" stroke-width="4.5" stroke-opacity="0.9"></path>
    <path d="${d}" fill="${cssColour(item.colour)}" stroke="${RING_COLOR}" stroke-width="1.8"></path></svg>`;
}

// A figure of the layer with no locations (e.g. the DCSM's 2023 counts), with where it was printed. The API sends
// these only to those who may read the layer.
function statisticLine(figure) {
  return html`<details class="legend-statistics" data-key="${figure.key}"><summary><strong>${
    formatNumber(figure.value)}</strong> ${figure.unit}, ${figure.period} (${figure.geography})</summary>
    <p>${figure.label}. Strategic Assessment 2024/25, paragraph ${figure.paragraph}, line ${figure.source_line}:
    “${figure.quote}”</p></details>`;
}

function recordLayerItem(item) {
  const d = item.details || {};
  return html`<div class="legend-extra" data-legend-kind="symbol" data-layer="${item.layer}" data-points="${d.points}"
    data-unplaced="${d.unplaced}"><h3>${shapeSample(item)} <span class="legend-label">${item.label}</span>
    ${d.sensitivity ? html`<span class="badge badge-${d.sensitivity}">${d.sensitivity}</span>` : ''}</h3>
    ${itemNotes(item)}${(d.statistics || []).map(statisticLine)}</div>`;
}

const POINT_SAMPLES = { dot: html`<span class="marker-dot"></span>`, cluster: html`<span class="marker-cluster-sample">12</span>` };

function inlineItem(item) {
  const sample = item.kind === 'line' ? lineSample(item) : POINT_SAMPLES[item.shape];
  return html`<span class="legend-item" data-legend-kind="${item.kind}"${item.layer ? html` data-layer="${item.layer}"`
    : ''}>${sample} <span class="legend-label">${item.label}</span></span>`;
}

// Lines and the crime markers: consecutive items of a group under one heading, their notes after them.
function inlineGroup(items) {
  const group = items[0].group;
  const notes = items.map(itemNotes);
  return html`<div class="legend-group${group ? '' : ' legend-outline'}">${group ? html`<h3>${group}</h3>` : ''}
    <p class="legend-items">${items.map(inlineItem)}</p>${notes}</div>`;
}

function itemSections(items) {
  const sections = [];
  let run = [];
  const flush = () => { if (run.length) sections.push(inlineGroup(run)); run = []; };
  for (const item of items) {
    const inline = item.kind === 'line' || POINT_SAMPLES[item.shape];
    if (inline && run.length && run[0].group === item.group && run[0].kind === item.kind) run.push(item);
    else {
      flush();
      if (inline) run = [item];
      else sections.push(item.kind === 'ramp' ? rampItem(item) : recordLayerItem(item));
    }
  }
  flush();
  return sections;
}

// One click to the other measures of the same map: counts, and back to the rate or density.
function measureSwitch(data, choices) {
  const others = (choices || []).filter((c) => c.measure !== data.metadata.measure);
  if (!others.length) return '';
  return html`<p class="legend-measures">Show: ${others.map((c, i) => html`${i ? ' · ' : ''}<button type="button"
    class="link legend-measure" data-measure="${c.measure}">${c.label}</button>`)}</p>`;
}

// The classes' colours in one line: what a collapsed legend on a phone still shows.
function ramp(items) {
  const swatches = items.map((item) => (item.kind === 'nodata' ? html`<span class="swatch-no-data"></span>`
    : html`<span data-fill="${cssColour(item.colour, NO_DATA_COLOR)}"></span>`));
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

  // data: the classified layer (or null); items: every layer's legend items (legend-items.js), the classes first.
  // options: title (an error to show instead), measures ([{measure, label}] offered one click away), outlinesOnly
  // (the heat map is on: the areas are drawn as outlines, their colours are not shown)
  render(data, items, { title, measures = [], outlinesOnly = false } = {}) {
    const about = this.container.querySelector('details.legend-about');
    if (about) this.aboutOpen = about.open;
    const expanded = String(!this.collapsed);
    const classes = items.filter(isClass);
    const others = itemSections(items.filter((item) => !isClass(item)));
    if (!data) {
      setHtml(this.container, html`<button type="button" class="legend-toggle" aria-expanded="${expanded}"
        aria-controls="legend-body">Legend</button><div class="legend-body" id="legend-body">
        <p class="legend-empty">${title || 'No layer'}</p>${others}</div>`);
      return;
    }
    const empty = classes.length ? '' : html`<p class="legend-empty">${title || 'No data for this filter'}</p>`;
    const outlines = outlinesOnly ? html`<p class="legend-note legend-outlines-only">Areas are drawn as outlines while
      the heat map is on; switch it off to see their colours.</p>` : '';
    setHtml(this.container, html`
      <button type="button" class="legend-toggle" aria-expanded="${expanded}" aria-controls="legend-body"><span
        class="legend-toggle-text">Legend<span class="visually-hidden">: ${data.legend.title}</span></span>${
        empty ? '' : ramp(classes)}</button>
      <div class="legend-body" id="legend-body">
      <h2 class="legend-title">${data.legend.title}</h2>
      <p class="legend-sub">${subtitle(data)}</p>
      ${data.legend.estimated ? estimatedLine(data) : ''}
      ${empty || classesTable(data, classes)}
      ${outlines}
      ${measureSwitch(data, measures)}
      <p class="legend-method">${methodLine(data)}</p>
      ${others}
      <details class="legend-about"${this.aboutOpen ? html` open` : ''}><summary>Source, date and boundaries</summary>
      ${aboutList(data)}</details></div>`);
  },
});
