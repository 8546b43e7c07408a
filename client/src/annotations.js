// The partnership's annotations (GET /api/annotations): what the strategic assessment says about particular places
// (the LSOAs of concern, solid; the district priority areas, dashed), outlined with a numbered badge. Outline and
// badge open a popup with the statement's title, figure (or "No figure printed"), quote, paragraph and line.
// The outlines are not filled, so the areas underneath keep their own popups.
import { getJSON } from './api.js';
import { html, htmlText, setHtml } from './html.js';

const PANE = 'annotations';
const KINDS = {
  'lsoa-of-concern': { label: 'LSOA of concern', colour: '#7a0177', dash: null },
  'district-priority': { label: 'District priority area', colour: '#08519c', dash: [8, 6] },
};
const WIDTH = 3;
let request = null;

function fetchAnnotations() {
  if (!request) {
    request = getJSON('/api/annotations');
    request.catch(() => { request = null; });
  }
  return request;
}

export function annotationPopup(properties) {
  const p = properties;
  const element = document.createElement('div');
  element.className = 'annotation-popup';
  element.dataset.annotation = p.id;
  setHtml(element, html`<p class="annotation-kind">${p.kind_title}</p><h2>${p.title}</h2>
    <p class="annotation-figure">${p.figure ? html`<strong>${p.figure}</strong>` : html`<em>No figure printed</em>`}</p>
    <blockquote>“${p.quote}”</blockquote>
    <p class="annotation-source">Strategic Assessment 2024/25, paragraph ${p.paragraph}, line ${p.source_line}
    · ${p.boundary_set}: ${p.area_codes.join(', ')}</p>${p.note ? html`<p class="small">${p.note}</p>` : ''}`);
  return element;
}

function badge(number, kind) {
  return L.divIcon({ className: `annotation-badge annotation-${kind === 'district-priority' ? 'priority' : 'lsoa'}`,
    html: htmlText(html`<span>${number}</span>`), iconSize: [20, 20] });
}

// The legend's entries: one outline per kind of statement (legend-items.js).
export function annotationItems() {
  const kinds = Object.entries(KINDS);
  return kinds.map(([id, { label, colour, dash }], index) => ({ kind: 'line', label, colour, width: WIDTH, dash,
    layer: id, group: 'Strategic Assessment 2024/25',
    ...(index === kinds.length - 1 ? { hint: 'Click a badge for the statement.' } : {}) }));
}

export class Annotations {
  constructor(map) {
    this.map = map;
    this.layer = null;
    this.seq = 0;
  }

  async sync(on) {
    const mine = ++this.seq;
    if (!on) {
      this.hide();
      return;
    }
    if (this.layer) return;
    const collection = await fetchAnnotations();
    if (mine !== this.seq || this.layer) return;
    if (!this.map.getPane(PANE)) this.map.createPane(PANE).style.zIndex = 440; // above areas, below hotspot records
    const group = L.featureGroup();
    collection.features.forEach((feature, index) => {
      const kind = feature.properties.kind;
      const popup = () => annotationPopup(feature.properties);
      L.geoJSON(feature, { pane: PANE, style: { className: `annotation-outline annotation-${kind}`,
        color: KINDS[kind]?.colour || '#333', weight: WIDTH, dashArray: KINDS[kind]?.dash?.join(' ') || null,
        fill: false } }).bindPopup(popup, { maxWidth: 360 }).addTo(group);
      L.marker(L.latLng(feature.properties.label_point), { pane: PANE, icon: badge(index + 1, kind), keyboard: true,
        title: feature.properties.title }).bindPopup(popup, { maxWidth: 360 }).addTo(group);
    });
    this.layer = group.addTo(this.map);
  }

  legendItems() {
    return this.layer ? annotationItems() : [];
  }

  hide() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
  }
}
