// Optional basemap. Presets are listed here (add one to offer it); "none" gives a plain background and the map
// stays fully usable, as it does when tiles cannot be reached. Tiles are the client's only network use; a new tile
// host must also be added to img-src in server/api/security_headers.py (tests/test_security_headers.py checks it).
import { html, htmlText } from './html.js';

export const BASEMAPS = {
  osm: {
    title: 'OpenStreetMap',
    url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
    attribution: html`&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`,
    maxZoom: 19,
  },
  none: { title: 'None (plain background)' },
};

let current = null;

// onUnreachable(message) is called once when the first tiles all fail (offline, blocked, server down).
export function setBasemap(map, choice, onUnreachable = () => {}) {
  if (current) {
    map.removeLayer(current);
    current = null;
  }
  const preset = BASEMAPS[choice] || BASEMAPS.osm;
  document.getElementById('map').classList.toggle('no-basemap', !preset.url);
  if (!preset.url) return null;
  // crossOrigin lets the PNG export draw the tiles when the tile server allows it (OpenStreetMap does).
  current = L.tileLayer(preset.url, {
    maxZoom: preset.maxZoom, attribution: htmlText(preset.attribution), crossOrigin: 'anonymous',
  });
  let failures = 0;
  let loads = 0;
  current.on('tileload', () => { loads += 1; });
  current.on('tileerror', () => {
    failures += 1;
    if (failures === 4 && loads === 0) {
      onUnreachable('Basemap tiles cannot be reached; the map works without them (Basemap: none hides them).');
    }
  });
  current.addTo(map);
  return current;
}

export function basemapLayer() {
  return current;
}
