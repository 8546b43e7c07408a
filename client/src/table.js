// The layer's values as a ranked table: the map's figures for screen readers and for copying into a report.
import { formatNumber } from './format.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { cssColour, html, setHtml } from './html.js';
import { estimateInterval } from './popup.js';

export function renderTable(table, data, onPick) {
  if (!data) {
    table.replaceChildren();
    return;
  }
  const signed = data.metadata.measure.includes('change');
  const estimated = Boolean(data.legend.estimated);
  const rows = [...data.features].sort((a, b) => (a.properties.rank ?? 1e9) - (b.properties.rank ?? 1e9)
    || a.properties.name.localeCompare(b.properties.name));
  setHtml(table, html`<caption>${data.legend.title}: ${data.legend.unit}</caption>
    <thead><tr><th scope="col">Rank</th><th scope="col">Area</th><th scope="col">Value${estimated ? ' (estimated)'
    : ''}</th>${estimated ? html`<th scope="col">Interval</th>` : ''}</tr></thead>
    <tbody>${rows.map((f) => {
    const p = f.properties;
    const interval = estimated ? html`<td class="num">${p.estimate_low !== null && p.estimate_low !== undefined
      ? estimateInterval(p, data.metadata) : '–'}</td>` : '';
    return html`<tr><td>${p.rank ?? '–'}</td><td><span class="area-cell"><span class="swatch" data-fill="${
      cssColour(p.color, NO_DATA_COLOR)}"></span><button type="button" class="link" data-code="${p.code}">${
      p.name}</button></span></td><td class="num">${formatNumber(p.value, { signed })}</td>${interval}</tr>`;
  })}</tbody>`);
  table.querySelectorAll('button[data-code]').forEach((button) => {
    button.addEventListener('click', () => onPick(button.dataset.code));
  });
}
