// Boundary layers (wards before/after May 2024, clusters, LSOAs) with names on hover.
import { getJSON } from './api.js';

const STYLES = {
  ward: { color: '#1d3557', weight: 1.5, fillColor: '#a8dadc', fillOpacity: 0.25 },
  cluster: { color: '#e63946', weight: 3, fill: false, dashArray: '6 4' },
  lsoa: { color: '#457b9d', weight: 0.8, fillOpacity: 0.05 },
};

function describe(properties) {
  const lines = [`<strong>${properties.name}</strong>`, properties.code];
  if (properties.cluster) lines.push(`${properties.cluster}${properties.cluster_derived ? ' (derived)' : ''}`);
  if (properties.imd_decile) lines.push(`IMD 2019 decile ${properties.imd_decile}`);
  if (properties.members) lines.push(properties.member_names.join(', '));
  return lines.join('<br>');
}

export async function boundaryLayer(url, style) {
  const collection = await getJSON(url);
  return L.geoJSON(collection, {
    style: STYLES[style],
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(describe(feature.properties), { sticky: true, className: 'area-label' });
      layer.on('mouseover', () => layer.setStyle({ weight: STYLES[style].weight + 2 }));
      layer.on('mouseout', () => layer.setStyle({ weight: STYLES[style].weight }));
    },
  });
}
