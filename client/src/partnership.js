// Which Community Safety Partnership this page is for: the /p/{slug}/ prefix of its address, or none for the
// deployment's default partnership. Every API and OGC request of the page goes under the same prefix (apiUrl, used
// by api.js and the few URLs built for links and tiles), and the map opens on the partnership's area and default
// boundary set, with its name in the title (GET /api/partnerships/{slug}).
import { getJSON } from './api.js';
import { html, setHtml } from './html.js';

const PREFIX = /^\/p\/([a-z][a-z0-9-]{1,39})(?=\/|$)/;
// globalThis: the pure modules that import this one also run under node --test, where there is no page address.
export const slug = globalThis.location?.pathname.match(PREFIX)?.[1] || null;
export const base = slug ? `/p/${slug}` : '';

// '/api/…' and '/ogc/…' under this page's partnership; anything else (already prefixed, other paths) unchanged.
export function apiUrl(url) {
  return typeof url === 'string' && /^\/(api|ogc)\//.test(url) ? `${base}${url}` : url;
}

let current = null;

export function partnership() {
  return current;
}

// The partnership with its boundary sets, area and default view, and the list of all (for the picker).
export async function loadPartnership() {
  const { partnerships } = await getJSON('/api/partnerships');
  const mine = partnerships.find((p) => (slug ? p.slug === slug : p.default)) || partnerships[0];
  if (!mine) return null;
  const details = await getJSON(`/api/partnerships/${encodeURIComponent(mine.slug)}`);
  current = { ...details, all: partnerships };
  return current;
}

// The set the map opens on when the address names none.
export function defaultSet(sets) {
  return current?.default_set || sets?.find((s) => s.kind === 'ward')?.id || sets?.[0]?.id || '';
}

// The ward set the partnership's published tables (and their ward clusters) are given for: its first set with
// clusters, in the partnership's order.
export function tablesSet() {
  return current?.boundary_sets.find((s) => s.kind === 'ward' && s.has_clusters)?.id || null;
}

export function hasClusters(setId) {
  return Boolean(current?.boundary_sets.find((s) => s.id === setId)?.has_clusters);
}

// Set titles without the place name they all start with: "Swale electoral wards (from May 2023)" ->
// "Electoral wards (from May 2023)" when every set of the partnership starts with "Swale ", and "Swale Community
// Safety Partnership: electoral wards (2013)" -> "Electoral wards (2013)" when every one starts with that name and a
// colon (the titles `partnership create` gives).
export function shortTitle(title) {
  const titles = (current?.boundary_sets || []).map((s) => s.title);
  const named = titles[0]?.includes(': ') ? titles[0].slice(0, titles[0].indexOf(': ') + 2) : null;
  const first = titles[0]?.split(' ')[0];
  const prefix = [named, first && `${first} `].find((p) => p && titles.length > 1 && titles.every((t) => t.startsWith(p)));
  const short = prefix && title.startsWith(prefix) ? title.slice(prefix.length) : title;
  return short.charAt(0).toUpperCase() + short.slice(1);
}

export function partnershipName() {
  return current?.name || '';
}

// Open on the partnership's area (when the address has no view of its own).
export function fitToArea(map) {
  const bbox = current?.default_view?.bbox || current?.bbox;
  if (!bbox) return false;
  map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { animate: false });
  return true;
}

// The name in the page title and header, and a picker of the other partnerships where there are several.
export function showPartnership({ title, name, picker, map }) {
  if (!current) return;
  document.title = `${title} — ${current.name}`;
  if (name) name.textContent = current.name;
  if (map) map.setAttribute('aria-label', `Map of ${current.name}`);
  if (!picker || current.all.length < 2) return;
  setHtml(picker, html`<label for="partnership-select">Partnership</label>
    <select id="partnership-select">${current.all.map((p) => html`<option value="${p.url}"${
      p.slug === current.slug ? html` selected` : ''}>${p.name}</option>`)}</select>`);
  picker.hidden = false;
  picker.querySelector('select').addEventListener('change', (event) => {
    // another partnership's map opens on its own area and sets; only the choice of basemap carries over
    const basemap = new URLSearchParams(window.location.search).get('basemap');
    const query = basemap ? `?${new URLSearchParams({ basemap })}` : '';
    window.location.assign(`${event.target.value}${query}`);
  });
}
