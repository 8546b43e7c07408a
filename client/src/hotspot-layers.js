// The partnership's hotspot layers (needle finds, DCSM locations) for signed-in users: GET /api/hotspot-layers lists
// only the layers the user may see, and GET /api/hotspot-layers/{id}/points?from=&to= gives each layer's located
// records as GeoJSON with a summary (records at unplaced places, borough-level records). Each layer is its own
// toggleable point overlay with a legend entry and popups.
//
// Restricted layers (DCSM) are shown only from what the API gives the signed-in user; they are never put in the
// URL (their toggles live in memory only), never requested by the embed view, and everything is dropped at sign-out.
import { getJSON } from './api.js';
import { formatNumber, isoDate, periodLabel } from './format.js';
import { html, htmlText } from './html.js';
import { recordSymbol, shapeFor } from './record-symbols.js';
import { popupOptions } from './viewport.js';

const ROUTE = '/api/hotspot-layers';
const COLORS = { 'needle-finds': '#b35806', 'dcsm-locations': '#542788' };
const SPARE_COLORS = ['#1b7837', '#2166ac', '#762a83', '#8c510a'];

export async function listHotspotLayers() {
  const answer = await getJSON(ROUTE);
  return (answer.hotspot_layers || []).map((layer, index) => ({
    ...layer,
    url: `${ROUTE}/${encodeURIComponent(layer.id)}/points`,
    color: COLORS[layer.id] || SPARE_COLORS[index % SPARE_COLORS.length],
    shape: shapeFor(layer.id, index),
  }));
}

// from/to for the points route from a period of the map: 2022-06, 2022 or 2022-01/2022-11.
export function periodQuery(period) {
  if (!period) return '';
  const [from, to] = period.includes('/') ? period.split('/') : [period, period];
  return `?${new URLSearchParams({ from, to })}`;
}

function observed(p) {
  if (!p.observed_from) return '';
  if (!p.observed_to || p.observed_to === p.observed_from) return isoDate(p.observed_from);
  return `${isoDate(p.observed_from)} to ${isoDate(p.observed_to)}`;
}

function badge(sensitivity) {
  return html`<span class="badge badge-${sensitivity}">${sensitivity}</span>`;
}

function recordRows(info, p, withPlace) {
  const rows = [];
  const add = (term, detail) => { if (detail) rows.push(html`<dt>${term}</dt><dd>${detail}</dd>`); };
  if (withPlace) add('Place', p.place);
  add('Observed', observed(p));
  add('Count', p.count !== null && p.count !== undefined ? `${formatNumber(p.count)} ${info.count_unit || ''}` : '');
  add('Category', p.category);
  add('Notes', p.notes);
  add('Recorded by', p.recorded_by);
  return html`<dl>${rows}</dl>`;
}

// One popup for all the records at a location (e.g. yearly counts at a named place), newest first.
function popup(info, features) {
  const records = [...features].sort((a, b) => String(b.properties.observed_from)
    .localeCompare(String(a.properties.observed_from))).map((f) => f.properties);
  const first = records[0];
  const head = html`<h2>${info.title} ${badge(info.sensitivity)}</h2>`;
  const note = first.place_note ? html`<p class="small">${first.place_note}</p>` : '';
  if (records.length === 1) {
    return html`<div class="crime-popup hotspot-popup">${head}${recordRows(info, first, true)}${note}</div>`;
  }
  const total = records.reduce((sum, p) => sum + (Number(p.count) || 0), 0);
  return html`<div class="crime-popup hotspot-popup">${head}<p><strong>${first.place || 'This location'}</strong>: ${
    records.length} records, total ${formatNumber(total)} ${info.count_unit || ''}</p>
    ${note}
    <ol class="hotspot-records">${records.map((p) => html`<li>${recordRows(info, p, false)}</li>`)}</ol></div>`;
}

// Records at the same coordinates become one symbol (sized by their summed count) with one popup.
function byLocation(collection) {
  const groups = new Map();
  for (const feature of collection.features) {
    if (!feature.geometry) continue;
    const [lon, lat] = feature.geometry.coordinates;
    const key = `${lon.toFixed(6)},${lat.toFixed(6)}`;
    if (!groups.has(key)) groups.set(key, { latlng: L.latLng(lat, lon), features: [] });
    groups.get(key).features.push(feature);
  }
  return [...groups.values()];
}

// Circle area grows with the count (proportional symbols): 1 -> 5 px radius, 100 -> 15 px, at most 18 px.
export function symbolRadius(count) {
  return Math.min(18, 4 + Math.sqrt(Math.max(1, count || 1)) * 1.1);
}

const plural = (n, one, many) => `${formatNumber(n)} ${n === 1 ? one : many}`;

// The legend's entry of a record layer (legend-items.js), from ExtraLayers.legendInfo().
export function recordItem(extra) {
  const off = [];
  if (extra.unplaced) off.push(`${formatNumber(extra.unplaced)} at places not yet placed`);
  if (extra.areaLevel) off.push(`${formatNumber(extra.areaLevel)} borough-level`);
  const unit = extra.unit ? ` ${extra.unit}` : '';
  return { kind: 'symbol', shape: extra.shape || 'circle', colour: extra.color, label: extra.title, layer: extra.id,
    note: `${plural(extra.points, 'record', 'records')} at ${plural(extra.locations, 'place', 'places')} (total `
      + `${formatNumber(extra.total)}${unit}), ${extra.period}; symbol size shows the count.`
      + `${off.length ? ` Not on the map: ${off.join(', ')} records.` : ''}`,
    details: { sensitivity: extra.sensitivity, points: extra.points, unplaced: extra.unplaced,
      statistics: extra.statistics } };
}

export class ExtraLayers {
  constructor(map) {
    this.map = map;
    this.available = [];
    this.shown = new Map(); // id -> { layer, collection, period }
    this.period = '';
    this.seq = 0;
    map.createPane('hotspot-records').style.zIndex = 450; // above areas and patrol shapes, below vertex handles
  }

  isRestricted(id) {
    return this.available.some((l) => l.id === id && l.sensitivity === 'restricted');
  }

  // The ids to show: the URL's internal ids (state.extra) plus the restricted ones switched on in this page
  // (state.restricted, memory only).
  wanted(state) {
    return [...state.extra.filter((id) => !this.isRestricted(id)), ...state.restricted];
  }

  // Split the checked ids of the controls into those for the URL and those kept in memory.
  split(ids) {
    return { extra: ids.filter((id) => !this.isRestricted(id)), restricted: ids.filter((id) => this.isRestricted(id)) };
  }

  isOn(id, state) {
    return this.wanted(state).includes(id);
  }

  async sync(state, period = '') {
    const mine = ++this.seq;
    const ids = this.wanted(state);
    const periodChanged = period !== this.period;
    this.period = period;
    for (const [id, entry] of this.shown) {
      if (!ids.includes(id) || periodChanged || !this.available.some((l) => l.id === id)) {
        this.map.removeLayer(entry.layer);
        this.shown.delete(id);
      }
    }
    const errors = [];
    const wanted = this.available.filter((l) => ids.includes(l.id) && !this.shown.has(l.id));
    await Promise.all(wanted.map(async (info) => {
      try {
        const collection = await getJSON(`${info.url}${periodQuery(period)}`);
        if (mine !== this.seq) return; // signed out, switched off or period changed meanwhile
        const groups = byLocation(collection);
        const layer = L.layerGroup(groups.map((group) => {
          const { group: drawn, symbol } = recordSymbol(group.latlng, {
            pane: 'hotspot-records', className: `hotspot-record hotspot-${info.id}`, shape: info.shape,
            radius: symbolRadius(group.features.reduce((sum, f) => sum + (Number(f.properties.count) || 0), 0)),
            color: info.color });
          symbol.bindPopup(htmlText(popup(info, group.features)), popupOptions({ width: 300, height: 320 }));
          return drawn;
        })).addTo(this.map);
        this.shown.set(info.id, { layer, collection, period, locations: groups.length });
      } catch (error) {
        errors.push(`${info.title}: ${error.message}`);
      }
    }));
    if (errors.length) throw new Error(errors.join('; '));
  }

  // Sign-out or another user: nothing of the previous user's layers stays on the page.
  clear() {
    this.seq += 1;
    for (const entry of this.shown.values()) this.map.removeLayer(entry.layer);
    this.shown.clear();
    this.available = [];
    this.map.closePopup();
  }

  legendItems() {
    return this.legendInfo().map(recordItem);
  }

  legendInfo() {
    return this.available.filter((l) => this.shown.has(l.id)).map((l) => {
      const { collection, period, locations } = this.shown.get(l.id);
      const total = collection.features.reduce((sum, f) => sum + (Number(f.properties.count) || 0), 0);
      return { id: l.id, title: l.title, color: l.color, shape: l.shape, sensitivity: l.sensitivity, unit: l.count_unit,
        period: period ? periodLabel(period) : 'all dates', points: collection.features.length, locations, total,
        unplaced: collection.summary?.unplaced || 0, areaLevel: collection.summary?.area_level || 0,
        statistics: l.statistics || [] };
    });
  }
}
