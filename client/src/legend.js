// The legend: each class's range and number of areas, no data, method and k, unit, source, data date, the
// boundary version with its validity dates, notes and interpolation; then the hotspot layers shown.
import { escapeHtml, formatNumber, periodLabel, validity } from './format.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { METHODS, areaNoun } from './options.js';

const isInteger = (v) => v === null || Number.isInteger(v);

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
  const rows = legend.classes.map((c, index) => `
    <tr class="legend-class" data-color="${c.color}" data-count="${c.count}">
      <td><span class="swatch" style="background:${blended(c.color, opacity)}"></span></td>
      <td class="range">${ranges[index]}</td><td class="count">${c.count}</td></tr>`);
  if (legend.no_data_count) {
    rows.push(`<tr class="legend-class no-data" data-color="${NO_DATA_COLOR}" data-count="${legend.no_data_count}">
      <td><span class="swatch" style="background:${blended(NO_DATA_COLOR, opacity)}"></span></td>
      <td class="range">No data</td><td class="count">${legend.no_data_count}</td></tr>`);
  }
  const noun = areaNoun(data);
  const caption = !wholeNumbers(data) && legend.classes.length > 1 ? '<p class="legend-note">Each class includes its upper bound.</p>' : '';
  return `<table class="legend-classes"><caption class="visually-hidden">Classes</caption>
    <thead><tr><th scope="col"><span class="visually-hidden">Colour</span></th>
    <th scope="col">${escapeHtml(legend.unit)}</th><th scope="col">${noun[0].toUpperCase()}${noun.slice(1)}</th>
    </tr></thead><tbody>${rows.join('')}</tbody></table>${caption}`;
}

function aboutList(data) {
  const meta = data.metadata;
  const set = meta.boundary_set;
  const items = [
    ['Source', escapeHtml(meta.source)],
    ['Data date', escapeHtml(/^\d{4}-\d{2}$/.test(meta.data_date) ? `to ${periodLabel(meta.data_date)}`
      : meta.data_date)],
    ['Boundaries', `${escapeHtml(set.title)}${validity(set) ? ` (${validity(set)})` : ''}`],
  ];
  if (meta.interpolation) items.push(['Interpolation', escapeHtml(meta.interpolation)]);
  const notes = legendNotes(data);
  if (notes.length) items.push(['Notes', `<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`]);
  return `<dl class="legend-about-list">${items.map(([t, d]) => `<dt>${t}</dt><dd>${d}</dd>`).join('')}</dl>`;
}

function hotspotSection(hotspots) {
  if (!hotspots) return '';
  const parts = [];
  if (hotspots.heat) {
    const h = hotspots.heat;
    const hidden = h.shown ? '' : ` <em>Hidden at this zoom: the radius would be wider than ${h.maxPixels} px; zoom out
      or choose a smaller radius.</em>`;
    parts.push(`<div class="legend-heat" data-radius="${h.radius}">
      <h3>Crime density (heat map)</h3>
      <div class="heat-bar" style="background:linear-gradient(to right, ${h.gradientCss})"></div>
      <div class="heat-scale"><span>fewer</span><span>≥ ${formatNumber(h.max)} within ${formatNumber(h.radius)} m</span></div>
      <p>Quartic kernel, radius <strong>${formatNumber(h.radius)} m</strong> (${formatNumber(h.pixels)} px at this
      zoom). ${formatNumber(h.count)} records: ${escapeHtml(h.title)}, ${escapeHtml(periodLabel(h.period))}.${hidden}</p>
      </div>`);
  }
  if (hotspots.markers) {
    const m = hotspots.markers;
    parts.push(`<div class="legend-markers"><h3>Crime locations</h3>
      <p><span class="marker-dot"></span> one record <span class="marker-cluster-sample">12</span> a cluster of
      records${m.visible ? '' : ` — <em>zoom in to level ${m.minZoom} to see them</em>`}.
      Police.uk locations are anonymised snap points.</p></div>`);
  }
  for (const extra of hotspots.extra || []) {
    const off = [];
    if (extra.unplaced) off.push(`${formatNumber(extra.unplaced)} at places not yet placed`);
    if (extra.areaLevel) off.push(`${formatNumber(extra.areaLevel)} borough-level`);
    parts.push(`<div class="legend-extra" data-layer="${escapeHtml(extra.id)}" data-points="${extra.points}"
      data-unplaced="${extra.unplaced}"><h3><span class="marker-dot" style="background:${extra.color}"></span>
      ${escapeHtml(extra.title)} <span class="badge badge-${escapeHtml(extra.sensitivity)}">${escapeHtml(
  extra.sensitivity)}</span></h3>
      <p>${formatNumber(extra.points)} ${extra.points === 1 ? 'record' : 'records'} at ${formatNumber(extra.locations)}
      ${extra.locations === 1 ? 'place' : 'places'} (total ${formatNumber(extra.total)} ${escapeHtml(extra.unit || '')}),
      ${escapeHtml(extra.period)}; circle size shows the count.${off.length ? ` Not on the map: ${off.join(', ')}
      records.` : ''}</p></div>`);
  }
  return parts.join('');
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
    container.innerHTML = '<p class="legend-empty">Loading…</p>';
    return container;
  },

  render(data, hotspots, { title, opacity = 1 } = {}) {
    const about = this.container.querySelector('details.legend-about');
    if (about) this.aboutOpen = about.open;
    if (!data) {
      this.container.innerHTML = `<p class="legend-empty">${escapeHtml(title || 'No layer')}</p>${hotspotSection(hotspots)}`;
      return;
    }
    const signed = data.metadata.measure.includes('change');
    const empty = data.legend.k === 0 ? `<p class="legend-empty">${escapeHtml(title || 'No data for this filter')}</p>` : '';
    this.container.innerHTML = `
      <h2 class="legend-title">${escapeHtml(data.legend.title)}</h2>
      <p class="legend-sub">${escapeHtml(subtitle(data))}</p>
      ${empty || classesTable(data, signed, opacity)}
      <p class="legend-method">${escapeHtml(methodLine(data))}</p>
      ${hotspots?.outlines ? '<p class="legend-outline"><span class="outline-sample"></span> Ward cluster boundary</p>' : ''}
      ${hotspotSection(hotspots)}
      <details class="legend-about"${this.aboutOpen ? ' open' : ''}><summary>Source, date and boundaries</summary>
      ${aboutList(data)}</details>`;
  },
});
