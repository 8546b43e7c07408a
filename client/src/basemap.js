// Optional basemap: OpenStreetMap tiles unless ?basemap=none. The map works without it.
const OSM = {
  url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
};

export function addBasemap(map, choice) {
  if (choice === 'none') return null;
  return L.tileLayer(OSM.url, { maxZoom: 19, attribution: OSM.attribution }).addTo(map);
}
