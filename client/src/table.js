// The layer's values as a ranked table: the map's figures for screen readers and for copying into a report. A layer of
// more than VIRTUAL_FROM areas (England's LSOAs) scrolls inside the table, which draws only the rows in view.
import { formatNumber } from './format.js';
import { NO_DATA_COLOR } from './choropleth.js';
import { cssColour, html, setHtml } from './html.js';
import { estimateInterval } from './popup.js';

export const VIRTUAL_FROM = 500;
const ROW_PX = 24; // every row of a virtual table is this high (style.css: #values-table.virtual td)
const OVERSCAN = 15;

// estimateMetadata: the layer's metadata when its values are re-estimates (an interval column), else null.
function rowMarkup(f, signed, estimateMetadata) {
  const p = f.properties;
  const interval = estimateMetadata ? html`<td class="num">${p.estimate_low !== null && p.estimate_low !== undefined
    ? estimateInterval(p, estimateMetadata) : '–'}</td>` : '';
  return html`<tr><td>${p.rank ?? '–'}</td><td><span class="area-cell"><span class="swatch" data-fill="${
    cssColour(p.color, NO_DATA_COLOR)}"></span><button type="button" class="link" data-code="${p.code}">${
    p.name}</button></span></td><td class="num">${formatNumber(p.value, { signed })}</td>${interval}</tr>`;
}

function wire(root, onPick) {
  root.querySelectorAll('button[data-code]').forEach((button) => {
    button.addEventListener('click', () => onPick(button.dataset.code));
  });
}

function spacer(height) {
  const row = document.createElement('tr');
  row.className = 'spacer';
  row.setAttribute('aria-hidden', 'true');
  row.style.height = `${height}px`;
  return row;
}

// Rows first..first+count of `rows`, between two empty rows as high as the rows left out, so the scroll bar is true.
function drawWindow(table, rows, row, onPick) {
  const body = table.tBodies[0];
  const visible = Math.ceil(table.clientHeight / ROW_PX) + 2 * OVERSCAN;
  const first = Math.max(0, Math.floor(table.scrollTop / ROW_PX) - OVERSCAN);
  const last = Math.min(rows.length, first + visible);
  setHtml(body, html`${rows.slice(first, last).map(row)}`);
  body.prepend(spacer(first * ROW_PX));
  body.append(spacer((rows.length - last) * ROW_PX));
  wire(body, onPick);
}

export function renderTable(table, data, onPick) {
  table.onscroll = null;
  table.classList.remove('virtual');
  if (!data) {
    table.replaceChildren();
    return;
  }
  const signed = data.metadata.measure.includes('change');
  const estimated = Boolean(data.legend.estimated);
  const rows = [...data.features].sort((a, b) => (a.properties.rank ?? 1e9) - (b.properties.rank ?? 1e9)
    || a.properties.name.localeCompare(b.properties.name));
  const head = html`<caption>${data.legend.title}: ${data.legend.unit}</caption>
    <thead><tr><th scope="col">Rank</th><th scope="col">Area</th><th scope="col">Value${estimated ? ' (estimated)'
    : ''}</th>${estimated ? html`<th scope="col">Interval</th>` : ''}</tr></thead>`;
  const row = (f) => rowMarkup(f, signed, estimated ? data.metadata : null);
  if (rows.length <= VIRTUAL_FROM) {
    setHtml(table, html`${head}<tbody>${rows.map(row)}</tbody>`);
    wire(table, onPick);
    return;
  }
  table.classList.add('virtual');
  table.setAttribute('aria-rowcount', String(rows.length + 1));
  setHtml(table, html`${head}<tbody></tbody>`);
  let pending = false;
  table.onscroll = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawWindow(table, rows, row, onPick);
    });
  };
  table.scrollTop = 0;
  drawWindow(table, rows, row, onPick);
}
