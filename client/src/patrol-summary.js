// What is inside a patrol area, from POST /api/patrol-areas/summary (a drawn, unsaved shape) or
// GET /api/patrol-areas/{id}/summary (a saved one): area, wards of both boundary sets and LSOAs with their shares,
// clusters, crimes by type with the change on the previous period, density against the borough, hotspot records
// inside (only layers the user may see: the API decides) and the significant Gi* hot spots covered.
// Requests while drawing are debounced (400 ms) and a newer shape cancels the older request.
import { getJSON, sendJSON } from './api.js';
import { formatNumber, periodLabel } from './format.js';
import { html, setHtml } from './html.js';
import { shortTitle } from './partnership.js';

export const DEBOUNCE_MS = 400;
const pct = (share) => `${formatNumber(Math.round(share * 1000) / 10)}%`;

function signed(value) {
  return formatNumber(value, { signed: true });
}

function crimeBlock(crime) {
  const change = crime.total - crime.previous_total;
  const changePct = crime.previous_total ? ` (${signed(Math.round((change / crime.previous_total) * 1000) / 10)}%)`
    : '';
  const ratio = crime.density_ratio_to_borough;
  const rows = crime.by_type.map((row) => html`<tr data-type="${row.slug}" data-count="${row.count}"
    data-change="${row.change}"><th scope="row">${row.type}</th><td>${formatNumber(row.count)}</td>
    <td class="${row.change > 0 ? 'up' : row.change < 0 ? 'down' : ''}">${signed(row.change)}</td></tr>`);
  const borough = crime.borough_density_per_km2 !== null ? html`; borough
    ${formatNumber(crime.borough_density_per_km2)} per km²${ratio !== null ? html` (<strong>${formatNumber(ratio)} ×
    </strong> the borough's)` : ''}` : '';
  return html`<p class="ps-crime" data-total="${crime.total}" data-previous="${crime.previous_total}">Crime and ASB
    records, ${periodLabel(crime.period)}: <strong>${formatNumber(crime.total)}</strong>; ${signed(change)}${changePct}
    on ${periodLabel(crime.previous_period)} (${formatNumber(crime.previous_total)}).</p>
    <p class="ps-density" data-density="${crime.density_per_km2}">Density <strong>${formatNumber(
  crime.density_per_km2)}</strong> per km²${borough}.</p>
    ${rows.length ? html`<table class="ps-types"><caption>By type</caption><thead><tr><th scope="col">Type</th>
    <th scope="col">Count</th><th scope="col">Change</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
    <p class="small">${crime.note}</p>`;
}

function areaTable(set) {
  const noun = set.kind === 'lsoa' ? 'LSOA' : 'ward';
  const rows = set.areas.map((a) => html`<tr data-code="${a.code}"><th scope="row">${a.name}
    ${set.kind === 'lsoa' ? html`<span class="small">${a.code}</span>` : ''}</th>
    <td>${pct(a.share_of_patrol)}</td><td>${pct(a.share_of_area)}</td></tr>`);
  return html`<table class="ps-areas" data-set="${set.set}"><thead><tr><th scope="col">${
    set.kind === 'lsoa' ? 'LSOA' : 'Ward'}</th><th scope="col" title="share of the patrol area in it">of patrol</th>
    <th scope="col" title="share of it inside the patrol area">of ${noun}</th>
    </tr></thead><tbody>${rows}</tbody></table>`;
}

function areasBlock(sets) {
  const order = (s) => (s.kind === 'ward' ? 0 : 1);
  return [...sets].sort((a, b) => order(a) - order(b) || b.set.localeCompare(a.set)).map((set) => {
    const clusters = set.clusters.length ? html`<p class="ps-clusters">Clusters: ${
      set.clusters.map((c) => `${c.cluster} ${pct(c.share_of_patrol)}`).join(', ')}</p>` : '';
    const label = `${shortTitle(set.title)} (${set.areas.length})`;
    return html`<details class="ps-set"${set.kind === 'ward' ? html` open` : ''}><summary>${label}</summary>${clusters}
      ${areaTable(set)}</details>`;
  });
}

function hotspotBlock(layers) {
  if (!layers.length) return '';
  return html`<h4>Partnership records inside</h4><ul class="ps-hotspots">${layers.map((l) => html`<li data-layer="${
    l.layer}" data-records="${l.records}">${l.title}: ${formatNumber(l.records)} ${
    l.records === 1 ? 'record' : 'records'}${l.records ? ` (count ${formatNumber(l.count)})` : ''}</li>`)}</ul>`;
}

function giBlock(spots) {
  return html`<h4>Significant Gi* hot spots covered (all crime, 95 % or more)</h4>${spots.length
    ? html`<ul class="ps-gi">${spots.map((s) => html`<li>${s}</li>`)}</ul>` : html`<p>None.</p>`}`;
}

function annotationsBlock(items) {
  if (!items.length) return '';
  return html`<h4>The assessment's statements about places it covers</h4><ul class="ps-annotations">${items.map(
    (a) => html`<li data-annotation="${a.id}">${a.title}${a.figure ? html`: <strong>${a.figure}</strong>` : ''}
    <span class="small">(paragraph ${a.paragraph}, line ${a.source_line})</span></li>`)}</ul>`;
}

export function renderSummary(summary) {
  return html`<p class="ps-area" data-area-km2="${summary.area_km2}">Area <strong>${formatNumber(summary.area_km2)}
    km²</strong></p>${summary.crime ? crimeBlock(summary.crime) : ''}${hotspotBlock(summary.hotspot_points || [])}
    ${annotationsBlock(summary.annotations || [])}${giBlock(summary.gi_hot_spots || [])}<h4>Boundaries it touches</h4>${areasBlock(summary.areas || [])}`;
}

export class PatrolSummary {
  constructor(element, { onError = () => {}, onShow = () => {} } = {}) {
    this.element = element;
    this.onError = onError;
    this.onShow = onShow; // (summary or null): e.g. a one-line announcement
    this.timer = null;
    this.controller = null;
    this.last = null; // the last summary shown, for the tests and the console
    this.lastRequest = null;
    this.period = '';
  }

  url(path) {
    return this.period ? `${path}?${new URLSearchParams({ period: this.period })}` : path;
  }

  // A drawn shape (or null): debounced POST of its geometry.
  follow(value) {
    clearTimeout(this.timer);
    this.abort(); // an answer for an older shape must not be shown
    if (!value) {
      this.show(null);
      return;
    }
    this.element.dataset.state = 'pending';
    this.timer = setTimeout(() => this.fetch(() => sendJSON('POST', this.url('/api/patrol-areas/summary'), value,
      { signal: this.controller.signal }), value), DEBOUNCE_MS);
  }

  // A saved area as it is stored.
  saved(id) {
    clearTimeout(this.timer);
    this.abort();
    this.element.dataset.state = 'pending';
    const url = this.url(`/api/patrol-areas/${encodeURIComponent(id)}/summary`);
    return this.fetch(() => getJSON(url, { signal: this.controller.signal }), { id });
  }

  abort() {
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  async fetch(request, input) {
    this.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.element.dataset.state = 'loading';
    this.element.setAttribute('aria-busy', 'true');
    try {
      const summary = await request();
      if (controller !== this.controller) return;
      this.lastRequest = { ...input, period: this.period };
      this.show(summary);
    } catch (error) {
      if (controller !== this.controller || error.name === 'AbortError') return;
      this.last = null;
      setHtml(this.element, html`<p class="ps-error">Could not summarise this area: ${error.message}</p>`);
      this.element.dataset.state = 'error';
      this.onError(error);
    } finally {
      if (controller === this.controller) this.element.removeAttribute('aria-busy');
    }
  }

  show(summary) {
    this.last = summary;
    setHtml(this.element, summary ? renderSummary(summary)
      : html`<p class="ps-empty">Draw an area or a route, or open a saved one, to see what is inside it.</p>`);
    this.element.dataset.state = summary ? 'ready' : 'empty';
    this.onShow(summary);
  }

  clear() {
    clearTimeout(this.timer);
    this.abort();
    this.show(null);
  }
}
