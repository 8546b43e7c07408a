// Suggested patrol areas: GET /api/patrol-areas/suggest (DBSCAN clusters of the crime the map's hotspot filter shows,
// or of a hotspot layer the user may read, buffered and sized between min and max km²). Candidates are drawn as
// dashed outlines and listed; "Adopt" hands one to the editor.
import { getJSON } from './api.js';
import { formatNumber } from './format.js';
import { html, htmlText, setHtml } from './html.js';
import { fitOptions } from './patrol-draw.js';

const STYLE = { color: '#54278f', weight: 3, dashArray: '7 5', fillColor: '#807dba', fillOpacity: 0.1 };
export const SUGGEST_DEFAULTS = { n: 5, min_km2: 0.05, max_km2: 2, eps: 100, min_points: 10 };

export function suggestUrl(settings, source) {
  const params = new URLSearchParams();
  for (const key of Object.keys(SUGGEST_DEFAULTS)) params.set(key, String(settings[key]));
  if (source.layer) {
    params.set('source', source.layer);
    if (source.from) params.set('from', source.from);
    if (source.to) params.set('to', source.to);
  } else {
    params.set('metric', source.metric);
    if (source.period) params.set('period', source.period);
  }
  return `/api/patrol-areas/suggest?${params}`;
}

export class Suggestions {
  constructor(map, list, { onAdopt }) {
    this.map = map;
    this.list = list;
    this.onAdopt = onAdopt;
    this.layer = null;
    this.features = [];
  }

  async load(settings, source) {
    const answer = await getJSON(suggestUrl(settings, source));
    this.show(answer);
    return answer;
  }

  show(answer) {
    this.clearLayer();
    this.features = answer.features;
    const left = answer.metadata?.left_out?.length || 0;
    if (!this.features.length) {
      setHtml(this.list, html`<li class="empty">No clusters found${left ? ` within the size limits (${left} larger
        left out)` : ''}: try a larger distance or fewer points.</li>`);
      return;
    }
    this.layer = L.geoJSON(answer, {
      pane: 'patrol',
      style: () => ({ ...STYLE, className: 'patrol-suggestion' }),
      onEachFeature: (feature, layer) => layer.bindTooltip(htmlText(html`${feature.properties.rank}`),
        { permanent: true, direction: 'center', className: 'suggestion-label' }),
    }).addTo(this.map);
    setHtml(this.list, html`${this.features.map((f, index) => {
      const p = f.properties;
      return html`<li data-rank="${p.rank}"><span><strong>${p.rank}.</strong> ${formatNumber(p.records)} records,
        ${formatNumber(p.area_km2)} km²</span><span class="row">
        <button type="button" data-show="${index}" aria-label="Show suggestion ${p.rank}">Show</button>
        <button type="button" data-adopt="${index}" aria-label="Adopt suggestion ${p.rank}">Adopt</button></span></li>`;
    })}${left ? html`<li class="small">${left} larger ${left === 1 ? 'cluster was' : 'clusters were'} left
      out (over ${formatNumber(answer.metadata.max_km2)} km²).</li>` : ''}`);
    this.list.querySelectorAll('button[data-show]').forEach((button) => button.addEventListener('click', () => {
      this.map.fitBounds(L.geoJSON(this.features[Number(button.dataset.show)]).getBounds(), fitOptions(this.map));
    }));
    this.list.querySelectorAll('button[data-adopt]').forEach((button) => button.addEventListener('click', () => {
      const feature = this.features[Number(button.dataset.adopt)];
      this.clearLayer();
      this.onAdopt(feature);
    }));
    this.map.fitBounds(this.layer.getBounds(), fitOptions(this.map));
  }

  clearLayer() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
  }

  clear() {
    this.clearLayer();
    this.features = [];
    this.list.replaceChildren();
  }
}
