// Links to the report-ready files of the map's current state: the classified layer as GIS files
// (/api/exports/{set}.geojson, .gpkg, .shp.zip, .csv) and as a static map (/api/maps/{set}.png, .pdf), with the same
// metric, period, measure, method, k and palette as the map (the clusters variants when the clusters are shown).
// Only public police.uk and partnership figures go into these files: hotspot layers never do.
import { html, setHtml } from './html.js';
import { apiUrl } from './partnership.js';
import { layerParams } from './state.js';

// Filled from GET /api/registries: the export and map formats the server offers as downloads, in its order.
export const DOWNLOADS = [];

export function useDownloadFormats(registries) {
  DOWNLOADS.length = 0;
  for (const [kind, formats] of [['exports', registries.export_formats], ['maps', registries.map_formats]]) {
    for (const { id, title, offered } of formats) if (offered) DOWNLOADS.push({ kind, ext: id, label: title });
  }
}

export function downloadUrl(state, { kind, ext }) {
  const set = encodeURIComponent(state.set);
  const file = state.clusters ? `${set}/clusters.${ext}` : `${set}.${ext}`;
  return apiUrl(`/api/${kind}/${file}?${layerParams(state)}`);
}

// <li> items for a list of links (opened as downloads, the files carry their own names).
export function downloadItems(state) {
  return html`${DOWNLOADS.map((d) => html`<li><a href="${downloadUrl(state, d)}" data-format="${d.ext}"
    download>${d.label}</a></li>`)}`;
}

export function renderDownloads(list, state) {
  setHtml(list, downloadItems(state));
}

// The embed view's control: a small disclosure with the same links, below the link back to the atlas.
export function embedDownloads(container, state) {
  const details = document.createElement('details');
  details.className = 'embed-downloads';
  setHtml(details, html`<summary>Data and map files</summary><ul class="downloads"></ul>`);
  container.append(details);
  const list = details.querySelector('ul');
  const refresh = (next) => renderDownloads(list, next);
  refresh(state);
  return { refresh };
}
