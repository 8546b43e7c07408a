// The popup of an area: name, ONS code, cluster, value with unit, rank among areas and the change on the
// previous period (from the same layer with measure=change, fetched when the popup opens, and only when the
// previous period has data, so that no request is made that must fail).
import { getJSON } from './api.js';
import { formatNumber, monthRange, ordinal, periodLabel } from './format.js';
import { html, setHtml } from './html.js';
import { layerUrl } from './state.js';
import { layerQuery, leanLayer } from './vector-choropleth.js';

const changeLayers = new Map(); // layer URL -> Promise of {code: properties}

// `lean`: a large set drawn from tiles, whose change figures come without geometry too.
function changeFigures(state, lean) {
  const url = layerUrl(state, { measure: 'change', bare: true });
  if (!changeLayers.has(url)) {
    const request = (lean ? leanLayer(state, layerQuery(url)) : getJSON(url)).then((data) => ({
      base: data.metadata.base_period,
      byCode: new Map(data.features.map((f) => [String(f.properties.code), f.properties])),
    }));
    request.catch(() => changeLayers.delete(url));
    changeLayers.set(url, request);
  }
  return changeLayers.get(url);
}

const monthIndex = (yyyymm) => Number(yyyymm.slice(0, 4)) * 12 + Number(yyyymm.slice(5, 7)) - 1;
const monthText = (index) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;

// The period of the same length just before `period` (as the API computes it), e.g. 2022-06 -> 2022-05.
export function previousPeriod(period) {
  let first;
  let last;
  if (/^\d{4}$/.test(period)) [first, last] = [`${period}-01`, `${period}-12`];
  else if (period.includes('/')) [first, last] = period.split('/');
  else [first, last] = [period, period];
  const length = monthIndex(last) - monthIndex(first) + 1;
  const start = monthIndex(first) - length;
  const end = monthIndex(first) - 1;
  if (length === 12 && first.endsWith('-01')) return String(Math.floor(start / 12));
  return length === 1 ? monthText(start) : `${monthText(start)}/${monthText(end)}`;
}

// Whether the API holds figures for the previous period of this metric (checked before asking).
function previousAvailable(metric, period) {
  if (!metric || !period) return true;
  const previous = previousPeriod(period);
  if (metric.periods.years) return metric.periods.years.map(String).includes(previous);
  const { first_month: first, last_month: last } = metric.periods;
  if (!first) return false;
  const loaded = new Set(monthRange(first, last));
  const [from, to] = /^\d{4}$/.test(previous) ? [`${previous}-01`, `${previous}-12`]
    : previous.includes('/') ? previous.split('/') : [previous, previous];
  return monthRange(from, to).some((m) => loaded.has(m));
}

function row(term, detail) {
  return html`<dt>${term}</dt><dd>${detail}</dd>`;
}

export function describeChange(current, base, baseUnit) {
  if (current === null || current === undefined || base === null || base === undefined) return html`no data`;
  const diff = current - base;
  const pct = base ? ` (${formatNumber((diff / base) * 100, { signed: true })}%)` : '';
  return html`<strong>${formatNumber(diff, { signed: true })}</strong> ${baseUnit}${pct}: ${
    formatNumber(base)} → ${formatNumber(current)}`;
}

// A re-estimated value's interval: ± the held-out error of the method in this area (a change spans both intervals).
export function estimateInterval(p, state) {
  const signed = state.measure.includes('change');
  const error = p.estimate_error_pct !== null && p.estimate_error_pct !== undefined
    ? ` (±${formatNumber(Math.round(p.estimate_error_pct * 10) / 10)}%)` : '';
  return html`<span class="estimate-interval">${formatNumber(p.estimate_low, { signed })} – ${
    formatNumber(p.estimate_high, { signed })}${error}</span>`;
}

// context: { state, data (the layer), metric (from /api/metrics) }
export function popupContent(feature, context) {
  const { state, data, metric } = context;
  const p = feature.properties;
  const element = document.createElement('div');
  element.className = 'area-popup';
  const unit = data.legend.unit;
  const lines = [];
  if (p.number !== undefined && p.members) {
    lines.push(row('Wards', p.member_names.join(', ')));
    if (p.type) lines.push(row('Type', p.type));
  } else {
    lines.push(row('ONS code', html`<code>${p.code}</code>`));
    if (p.cluster) lines.push(row('Cluster', `${p.cluster}${p.cluster_derived ? ' (derived)' : ''}`));
    if (p.imd_decile) lines.push(row('IMD 2019', `decile ${p.imd_decile} (1 = most deprived)`));
  }
  const value = formatNumber(p.value, { signed: state.measure.includes('change') });
  lines.push(row('Value', html`<strong>${value}</strong> ${unit}${data.legend.estimated ? ' (estimated)' : ''}`));
  if (p.estimate_low !== undefined && p.estimate_low !== null) lines.push(row('Interval', estimateInterval(p, state)));
  lines.push(row('Rank', p.rank ? html`<strong>${ordinal(p.rank)}</strong> of ${p.rank_of} (1st = highest)`
    : 'no data'));
  setHtml(element, html`<h2>${p.name}</h2><p class="popup-period">${periodLabel(data.metadata.period)}</p>
    <dl>${lines}</dl><p class="popup-change"></p>`);
  const change = element.querySelector('.popup-change');
  const baseUnit = metric ? metric.unit : '';
  const basePeriod = data.metadata.base_period;
  if ('value_base' in p) {
    setHtml(change, html`Change on ${periodLabel(basePeriod)}: ${
      describeChange(p.value_current, p.value_base, baseUnit)}`);
    return element;
  }
  const period = data.metadata.period;
  const previous = previousPeriod(period);
  if (!previousAvailable(metric, period)) {
    change.textContent = `Change on the previous period (${periodLabel(previous)}): not available, no data `
      + 'loaded for it.';
    return element;
  }
  change.textContent = `Change on ${periodLabel(previous)}: loading…`;
  changeFigures(state, data.drawnAs === 'tiles').then(({ byCode, base }) => {
    const figures = byCode.get(String(p.code));
    setHtml(change, html`Change on ${periodLabel(base || previous)}: ${
      figures ? describeChange(figures.value_current, figures.value_base, baseUnit) : 'no data'}${
      figures?.estimate_low !== undefined && figures.estimate_low !== null ? html` <span class="estimate-interval">
      (estimated; the change lies within ${estimateInterval(figures, { measure: 'change' })})</span>` : ''}`);
  }).catch((error) => {
    change.textContent = `Change on ${periodLabel(previous)}: not available (${error.message}).`;
  });
  return element;
}
