// The control panel: metric, period, boundaries, measure, method, k, palette, hotspots and basemap, built from
// GET /api/metrics and GET /api/boundary-sets. It reports changes as patches of the map state.
import { BASEMAPS } from './basemap.js';
import { monthLabel, monthRange, periodLabel } from './format.js';
import { html, setHtml } from './html.js';
import { defaultMeasure } from './state.js';
import { defaultSet, shortTitle as withoutPlace, tablesSet } from './partnership.js';
import { HEAT_RADII, MEASURES, METHODS, PALETTES } from './options.js';

const RANGE = '__range';
const $ = (id) => document.getElementById(id);

function option(value, label, selected = false, disabled = false) {
  return html`<option value="${value}"${selected ? html` selected` : ''}${disabled ? html` disabled` : ''}>${
    label}</option>`;
}

function shortTitle(set) {
  return withoutPlace(set.title);
}

function group(label, items) {
  return items.length ? html`<optgroup label="${label}">${items}</optgroup>` : '';
}

export function loadedMonths(metric) {
  const p = metric?.periods || {};
  return p.first_month && p.last_month ? monthRange(p.first_month, p.last_month) : [];
}

// Which boundary choices a metric can be mapped on ("set" or "set:clusters").
export function boundaryAllowed(metric, set, clusters) {
  if (!metric || metric.source === 'police.uk') return true;
  if (metric.geography === 'cluster-2013') return set.id === tablesSet() && clusters;
  if (metric.geography === 'ward-2013') return set.kind === 'ward';
  return false;
}

export function isMappable(metric) {
  return metric.source === 'police.uk' || ['ward-2013', 'cluster-2013'].includes(metric.geography);
}

// Make a state that the API can answer for this metric; returns the adjusted state and what changed, in words.
export function reconcile(state, meta) {
  const notes = [];
  const next = { ...state };
  const metric = meta.metrics.get(next.metric);
  if (!metric || !isMappable(metric)) {
    if (next.metric === 'all-crime' || !meta.metrics.has('all-crime')) return { state: next, notes };
    const result = reconcile({ ...next, metric: 'all-crime' }, meta);
    return { state: result.state, notes: [`'${next.metric}' cannot be mapped; showing all recorded crime`,
      ...result.notes] };
  }
  const set = meta.sets.find((s) => s.id === next.set);
  if (!set || (next.clusters && set.kind !== 'ward')) {
    const fallback = meta.sets.find((s) => s.id === defaultSet(meta.sets)) || meta.sets.find((s) => s.kind === 'ward');
    if (fallback) {
      if (set || next.set) notes.push(`no boundary set '${next.set}'${next.clusters ? ' with clusters' : ''}`);
      next.set = fallback.id;
      next.clusters = next.clusters && fallback.kind === 'ward';
    }
  }
  const current = meta.sets.find((s) => s.id === next.set);
  if (current && tablesSet() && !boundaryAllowed(metric, current, next.clusters)) {
    if (metric.geography === 'cluster-2013') {
      next.set = tablesSet();
      next.clusters = true;
      notes.push(`${metric.title} is published for the 2013 ward clusters, so the map shows those`);
    } else {
      next.set = tablesSet();
      notes.push(`${metric.title} is published for wards, so the map shows the 2013 wards`);
    }
  }
  if (next.measureAuto) next.measure = defaultMeasure(current, metric);
  if (!metric.measures.includes(next.measure)) next.measure = metric.measures[0];
  if (next.period) {
    const years = metric.periods.years;
    if (years && !years.map(String).includes(next.period)) next.period = '';
    if (!years && !/^\d{4}(-\d{2})?(\/\d{4}-\d{2})?$/.test(next.period)) next.period = '';
  }
  if (next.outlines && (next.clusters || current?.kind !== 'ward')) next.outlines = false;
  return { state: next, notes };
}

export function policePeriodOptions(metric, value, { followLabel = null, allowRange = true } = {}) {
  const months = loadedMonths(metric);
  const items = [];
  if (followLabel) items.push(option('', followLabel, value === ''));
  const all = months.length ? `All loaded: ${periodLabel(`${months[0]}/${months.at(-1)}`)}` : 'All loaded months';
  items.push(option(followLabel ? `${months[0]}/${months.at(-1)}` : '', all, !followLabel && value === ''));
  const years = [...new Set(months.map((m) => m.slice(0, 4)))];
  items.push(group('Years', years.map((y) => {
    const inYear = months.filter((m) => m.startsWith(y));
    const partial = inYear.length < 12 ? ` (${monthLabel(inYear[0], true).slice(0, 3)} to `
      + `${monthLabel(inYear.at(-1), true).slice(0, 3)} loaded)` : '';
    return option(y, `${y}${partial}`, value === y);
  })));
  items.push(group('Months', [...months].reverse().map((m) => option(m, monthLabel(m), value === m))));
  const known = value === '' || years.includes(value) || months.includes(value)
    || (followLabel && value === `${months[0]}/${months.at(-1)}`);
  if (allowRange) items.push(group('Range', [option(RANGE, 'Custom range of months…', !known)]));
  else if (!known) items.push(option(value, periodLabel(value), true));
  return html`${items}`;
}

export class Controls {
  constructor(meta, onChange) {
    this.meta = meta;
    this.onChange = onChange;
    this.state = null;
    this.build();
    this.listen();
  }

  build() {
    const metrics = [...this.meta.metrics.values()].filter(isMappable);
    const police = metrics.filter((m) => m.source === 'police.uk');
    const groups = police.filter((m) => ['all-crime', 'asb', 'vbc', 'cas'].includes(m.id));
    const types = police.filter((m) => !groups.includes(m)).sort((a, b) => a.title.localeCompare(b.title));
    const tables = metrics.filter((m) => m.source !== 'police.uk');
    const metricOption = (m) => option(m.id, m.title);
    setHtml($('metric'), html`${group('Police.uk crime groups', groups.map(metricOption))}${
      group('Police.uk crime types', types.map(metricOption))}${
      group('Partnership tables (Strategic Assessment 2024/25)', tables.map(metricOption))}`);
    setHtml($('hmetric'), html`${option('', 'Same as the map (police.uk)')}${
      option('all-crime,asb', 'Every record (crime and ASB)')}${
      group('Police.uk crime groups', groups.map(metricOption))}${
      group('Police.uk crime types', types.map(metricOption))}`);
    setHtml($('method'), html`${Object.entries(METHODS).map(([v, l]) => option(v, l))}`);
    setHtml($('k'), html`${[2, 3, 4, 5, 6, 7, 8, 9].map((k) => option(String(k), String(k)))}`);
    setHtml($('palette'), html`${option('', 'Default')}${
      Object.entries(PALETTES).map(([kind, names]) => group(kind, names.map((n) => option(n, n))))}`);
    setHtml($('radius'), html`${HEAT_RADII.map((r) => option(String(r), `${r} m`))}`);
    setHtml($('basemap'), html`${Object.entries(BASEMAPS).map(([id, b]) => option(id, b.title))}`);
  }

  listen() {
    const emit = (patch) => this.onChange(patch);
    $('metric').addEventListener('change', (e) => emit({ metric: e.target.value }));
    $('period').addEventListener('change', (e) => {
      if (e.target.value === RANGE) {
        $('range').hidden = false;
        this.fillRange(this.state.period);
        emit({ period: `${$('period-from').value}/${$('period-to').value}` });
      } else {
        emit({ period: e.target.value });
      }
    });
    const rangeChanged = () => {
      let [first, last] = [$('period-from').value, $('period-to').value];
      if (last < first) [first, last] = [last, first];
      emit({ period: first === last ? first : `${first}/${last}` });
    };
    $('period-from').addEventListener('change', rangeChanged);
    $('period-to').addEventListener('change', rangeChanged);
    $('boundaries').addEventListener('change', (e) => {
      const [set, clusters] = e.target.value.split(':');
      emit({ set, clusters: clusters === 'clusters' });
    });
    $('outlines').addEventListener('change', (e) => emit({ outlines: e.target.checked }));
    $('annotations').addEventListener('change', (e) => emit({ annotations: e.target.checked }));
    $('measure').addEventListener('change', (e) => emit({ measure: e.target.value, measureAuto: false }));
    $('method').addEventListener('change', (e) => emit({ method: e.target.value }));
    $('k').addEventListener('change', (e) => emit({ k: Number(e.target.value) }));
    $('palette').addEventListener('change', (e) => emit({ palette: e.target.value }));
    $('heat').addEventListener('change', (e) => emit({ heat: e.target.checked }));
    $('radius').addEventListener('change', (e) => emit({ radius: Number(e.target.value) }));
    $('markers').addEventListener('change', (e) => emit({ markers: e.target.checked }));
    $('hmetric').addEventListener('change', (e) => emit({ hmetric: e.target.value }));
    $('hperiod').addEventListener('change', (e) => emit({ hperiod: e.target.value }));
    $('basemap').addEventListener('change', (e) => emit({ basemap: e.target.value }));
    $('extra-layers').addEventListener('change', () => emit({
      extra: [...$('extra-layers').querySelectorAll('input:checked')].map((i) => i.value),
    }));
  }

  fillRange(period) {
    const months = loadedMonths(this.meta.metrics.get('all-crime'));
    let [first, last] = [months[0], months.at(-1)];
    if (period && period.includes('/')) [first, last] = period.split('/');
    else if (/^\d{4}-\d{2}$/.test(period || '')) [first, last] = [period, period];
    const list = (selected) => html`${months.map((m) => option(m, monthLabel(m, true), m === selected))}`;
    setHtml($('period-from'), list(first));
    setHtml($('period-to'), list(last));
  }

  // Show a state in the controls (after a change, a reconcile or on start from a URL).
  sync(state) {
    this.state = state;
    const metric = this.meta.metrics.get(state.metric);
    $('metric').value = state.metric;
    const police = metric?.source === 'police.uk';
    if (police) {
      setHtml($('period'), policePeriodOptions(metric, state.period));
      const range = $('period').value === RANGE;
      $('range').hidden = !range;
      if (range) this.fillRange(state.period);
    } else {
      const years = metric?.periods.years || [];
      setHtml($('period'), html`${option('', `Latest year (${years.at(-1)})`, state.period === '')}${
        years.slice().reverse().map((y) => option(String(y), String(y), String(y) === state.period))}`);
      $('range').hidden = true;
    }
    setHtml($('boundaries'), html`${this.meta.sets.flatMap((set) => {
      const items = [option(set.id, shortTitle(set), set.id === state.set && !state.clusters,
        !boundaryAllowed(metric, set, false))];
      if (set.kind === 'ward') {
        items.push(option(`${set.id}:clusters`, `Clusters of ${shortTitle(set).replace(/^Electoral w/, 'w')}`,
          set.id === state.set && state.clusters, !boundaryAllowed(metric, set, true)));
      }
      return items;
    })}`);
    const set = this.meta.sets.find((s) => s.id === state.set);
    $('outlines').checked = state.outlines;
    $('outlines').disabled = state.clusters || set?.kind !== 'ward';
    $('annotations').checked = state.annotations;
    setHtml($('measure'), html`${(metric?.measures || Object.keys(MEASURES))
      .map((m) => option(m, MEASURES[m] || m, m === state.measure))}`);
    $('method').value = state.method;
    $('k').value = String(state.k);
    $('palette').value = state.palette;
    $('heat').checked = state.heat;
    if (![...$('radius').options].some((o) => Number(o.value) === state.radius)) {
      $('radius').append(new Option(`${state.radius} m`, String(state.radius)));
    }
    $('radius').value = String(state.radius);
    $('radius').disabled = !state.heat;
    $('markers').checked = state.markers;
    $('hmetric').value = state.hmetric;
    setHtml($('hperiod'), policePeriodOptions(this.meta.metrics.get('all-crime'), state.hperiod,
      { followLabel: police ? 'Same as the map' : 'Same as the map (all loaded months)', allowRange: false }));
    const hotspotsOn = state.heat || state.markers;
    $('hmetric').disabled = !hotspotsOn;
    $('hperiod').disabled = !hotspotsOn;
    $('basemap').value = BASEMAPS[state.basemap] ? state.basemap : 'osm';
    const on = (id) => (this.extraOn ? this.extraOn(id) : state.extra.includes(id));
    for (const input of $('extra-layers').querySelectorAll('input')) input.checked = on(input.value);
  }

  // The signed-in user's hotspot layers (none when signed out); isOn(id) says which are shown.
  setExtraLayers(layers, isOn) {
    this.extraOn = isOn;
    const box = $('extra-layers');
    const items = layers.map((l) => html`
      <label class="check"><input type="checkbox" value="${l.id}"${isOn(l.id) ? html` checked` : ''}>
      <span>${l.title} <span class="badge badge-${l.sensitivity}">${l.sensitivity}</span></span></label>`);
    setHtml(box, layers.length ? html`<p class="extra-title">Partnership records (signed in)</p>${items}` : html``);
    box.hidden = layers.length === 0;
  }
}
