// Print/export: the current view as a PNG drawn on a canvas from the layer GeoJSON (not a screenshot of the DOM),
// with title, period, legend, scale bar, north arrow, data date, boundary version and attribution. Basemap tiles
// are drawn only when the tile server allows cross-origin use (OpenStreetMap does); otherwise they are left out
// and the footer says so. The hotspot heat map is our own canvas and is always included.
import { formatNumber, isoDate, periodLabel, validity } from './format.js';
import { itemSummary } from './legend-items.js';
import { legendNotes, methodLine, subtitle } from './legend.js';
import { areaNoun } from './options.js';
import { base, partnershipName } from './partnership.js';
import { HALO_COLOR, RING_COLOR, shapePath } from './record-symbols.js';

export const SCALE = 2;
export const LEGEND_WIDTH = 280;
const HEADER = 64;
const PAD = 16;
const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
const INK = '#1a1a1a';
const MUTED = '#555';
// As on the server's briefings (server/domain/briefing.py): a picture of the partnership's own records, internal or
// restricted, is marked sensitive at its top and foot, since it leaves the atlas's access control once saved.
export const SENSITIVE_MARKING = 'OFFICIAL-SENSITIVE';

export function protectiveMarking(items) {
  return items.some((item) => item.details?.sensitivity) ? SENSITIVE_MARKING : null;
}

function drawMarking(ctx, marking, width, y) {
  ctx.save();
  ctx.fillStyle = '#b00020';
  ctx.font = font(11, 700);
  ctx.textAlign = 'right';
  ctx.fillText(marking, width - PAD, y);
  ctx.restore();
}

function font(size, weight = 400) {
  return `${weight} ${size}px ${FONT}`;
}

function wrap(ctx, text, width) {
  const lines = [];
  for (const paragraph of String(text).split('\n')) {
    let line = '';
    for (let word of paragraph.split(/\s+/)) {
      while (ctx.measureText(word).width > width && word.length > 1) { // a URL longer than the line
        let cut = word.length - 1;
        while (cut > 1 && ctx.measureText(word.slice(0, cut)).width > width) cut -= 1;
        if (line) lines.push(line);
        lines.push(word.slice(0, cut));
        line = '';
        word = word.slice(cut);
      }
      const tryLine = line ? `${line} ${word}` : word;
      if (ctx.measureText(tryLine).width > width && line) {
        lines.push(line);
        line = word;
      } else {
        line = tryLine;
      }
    }
    lines.push(line);
  }
  return lines;
}

function tracePolygons(ctx, geometry, project) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  for (const polygon of polygons) {
    for (const ring of polygon) {
      ring.forEach(([lon, lat], index) => {
        const p = project(lat, lon);
        if (index === 0) ctx.moveTo(p.x, p.y); else ctx.lineTo(p.x, p.y);
      });
      ctx.closePath();
    }
  }
}

function tilesCanvas(mapElement, width, height) {
  const tiles = mapElement.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded');
  if (!tiles.length) return null;
  const canvas = document.createElement('canvas');
  canvas.width = width * SCALE;
  canvas.height = height * SCALE;
  const ctx = canvas.getContext('2d');
  ctx.scale(SCALE, SCALE);
  const origin = mapElement.getBoundingClientRect();
  for (const tile of tiles) {
    const box = tile.getBoundingClientRect();
    ctx.drawImage(tile, box.left - origin.left, box.top - origin.top, box.width, box.height);
  }
  try {
    ctx.getImageData(0, 0, 1, 1); // throws when a tile came without CORS permission (the canvas is tainted)
    return canvas;
  } catch (error) {
    return null;
  }
}

function niceScale(maxMetres) {
  const steps = [1, 2, 5];
  let best = 1;
  for (let power = 0; power < 7; power += 1) {
    for (const s of steps) {
      const value = s * 10 ** power;
      if (value <= maxMetres) best = value;
    }
  }
  return best;
}

function drawScaleBar(ctx, map, x, y) {
  const size = map.getSize();
  const centre = map.containerPointToLatLng([size.x / 2, size.y / 2]);
  const right = map.containerPointToLatLng([size.x / 2 + 100, size.y / 2]);
  const metresPer100 = centre.distanceTo(right);
  const metres = niceScale(metresPer100 * 1.2);
  const width = (metres / metresPer100) * 100;
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(x - 6, y - 22, width + 54, 30);
  ctx.strokeStyle = INK;
  ctx.fillStyle = INK;
  ctx.lineWidth = 1;
  ctx.fillRect(x, y - 4, width / 2, 4);
  ctx.strokeRect(x, y - 4, width, 4);
  ctx.font = font(10);
  ctx.textAlign = 'center';
  ctx.fillText('0', x, y - 8);
  ctx.fillText(metres >= 1000 ? `${metres / 1000} km` : `${metres} m`, x + width, y - 8);
  ctx.textAlign = 'left';
}

function drawNorthArrow(ctx, x, y) {
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(x - 13, y - 4, 26, 40);
  ctx.fillStyle = INK;
  ctx.beginPath();
  ctx.moveTo(x, y + 2);
  ctx.lineTo(x + 7, y + 22);
  ctx.lineTo(x, y + 17);
  ctx.lineTo(x - 7, y + 22);
  ctx.closePath();
  ctx.fill();
  ctx.font = font(10, 700);
  ctx.textAlign = 'center';
  ctx.fillText('N', x, y + 33);
  ctx.textAlign = 'left';
}

function drawMarkers(ctx, map, hotspots) {
  const group = hotspots?.markers;
  if (!group || !map.hasLayer(group)) return;
  const size = map.getSize();
  for (const layer of group._featureGroup.getLayers()) {
    const p = map.latLngToContainerPoint(layer.getLatLng());
    if (p.x < -30 || p.y < -30 || p.x > size.x + 30 || p.y > size.y + 30) continue;
    if (layer.getChildCount) {
      const count = layer.getChildCount();
      const radius = count < 10 ? 14 : count < 100 ? 17 : count < 1000 ? 21 : 25;
      ctx.fillStyle = 'rgba(23, 42, 86, 0.88)';
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(p.x, p.y, radius, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = '#fff';
      ctx.font = font(11, 700);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(count), p.x, p.y);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
    } else {
      ctx.fillStyle = '#172a56';
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 4.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    }
  }
}

// "No data" as on screen: grey hatching (choropleth.js draws the same pattern in the map's SVG).
function noDataPattern(ctx) {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const t = tile.getContext('2d');
  t.fillStyle = '#ececec';
  t.fillRect(0, 0, 8, 8);
  t.strokeStyle = '#8c8c8c';
  t.lineWidth = 2;
  t.beginPath();
  for (const offset of [-8, 0, 8]) { t.moveTo(offset - 1, 9); t.lineTo(offset + 9, -1); }
  t.stroke();
  return ctx.createPattern(tile, 'repeat');
}

function drawSwatch(ctx, item, x, y) {
  ctx.fillStyle = item.kind === 'nodata' ? noDataPattern(ctx) : item.swatch;
  ctx.fillRect(x, y, 26, 16);
  ctx.strokeStyle = '#3a3a3a';
  ctx.lineWidth = 0.8;
  ctx.strokeRect(x, y, 26, 16);
}

function drawLineSample(ctx, item, x, y) {
  ctx.strokeStyle = item.colour;
  ctx.lineWidth = item.width;
  ctx.setLineDash(item.dash || []);
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + 26, y);
  ctx.stroke();
  ctx.setLineDash([]);
}

// The point symbols as the export draws them on the map (drawMarkers) and as the map draws the record layers.
function drawPointSample(ctx, item, x, y) {
  if (item.shape === 'dot' || item.shape === 'cluster') {
    const cluster = item.shape === 'cluster';
    ctx.fillStyle = cluster ? 'rgba(23, 42, 86, 0.88)' : item.colour;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = cluster ? 2 : 1.5;
    ctx.beginPath();
    ctx.arc(x, y, cluster ? 9 : 4.5, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
    if (cluster) {
      ctx.fillStyle = '#fff';
      ctx.font = font(8, 700);
      ctx.textAlign = 'center';
      ctx.fillText('12', x, y + 3);
      ctx.textAlign = 'left';
    }
    return;
  }
  const path = new Path2D(shapePath(item.shape, x, y, 6));
  ctx.strokeStyle = HALO_COLOR;
  ctx.lineWidth = 4.5;
  ctx.stroke(path);
  ctx.fillStyle = item.colour;
  ctx.fill(path);
  ctx.strokeStyle = RING_COLOR;
  ctx.lineWidth = 1.8;
  ctx.stroke(path);
}

function drawRamp(ctx, item, x, y, width) {
  const gradient = ctx.createLinearGradient(x, 0, x + width, 0);
  gradient.addColorStop(0, 'rgba(253,231,37,0)');
  for (const [at, colour] of item.stops) gradient.addColorStop(at, colour);
  ctx.fillStyle = gradient;
  ctx.fillRect(x, y, width, 12);
  ctx.strokeStyle = '#999';
  ctx.lineWidth = 1;
  ctx.strokeRect(x, y, width, 12);
  ctx.font = font(9);
  ctx.fillStyle = MUTED;
  ctx.fillText(item.low, x, y + 23);
  ctx.textAlign = 'right';
  ctx.fillText(item.high, x + width, y + 23);
  ctx.textAlign = 'left';
}

// Draw the legend column from the layers' legend items (the same list the on-screen legend shows); returns the
// height used and the items drawn. With the heat map on, the areas are outlines (fill opacity 0): the legend
// still shows the classes' colours, and says so.
function drawLegend(ctx, data, items, x, y, width, outlinesOnly) {
  let cy = y;
  const drawn = [];
  const line = (text, size = 11, weight = 400, color = INK, gap = 4) => {
    ctx.font = font(size, weight);
    ctx.fillStyle = color;
    for (const l of wrap(ctx, text, width)) {
      cy += size + 2;
      ctx.fillText(l, x, cy);
    }
    cy += gap;
  };
  const label = (item, indent) => {
    ctx.fillStyle = INK;
    ctx.font = font(11);
    const lines = wrap(ctx, item.label, width - indent);
    lines.forEach((l, i) => ctx.fillText(l, x + indent, cy + 12 + i * 13));
    drawn.push(itemSummary(item));
    return lines.length * 13;
  };
  const notes = (item) => {
    const text = [item.note, item.warning].filter(Boolean).join(' ');
    if (text) line(text, 10, 400, MUTED, 8);
  };
  const classes = items.filter((item) => item.kind === 'class' || item.kind === 'nodata');
  if (data) {
    line('Legend', 13, 700, INK, 6);
    line(data.legend.unit, 11, 700);
    if (classes.length) {
      ctx.font = font(10);
      ctx.fillStyle = MUTED;
      ctx.textAlign = 'right';
      const noun = areaNoun(data);
      ctx.fillText(noun[0].toUpperCase() + noun.slice(1), x + width, cy + 10);
      ctx.textAlign = 'left';
      cy += 14;
    }
    for (const item of classes) {
      drawSwatch(ctx, item, x, cy);
      label(item, 34);
      ctx.textAlign = 'right';
      ctx.fillText(String(item.count), x + width, cy + 12);
      ctx.textAlign = 'left';
      cy += 20;
    }
    cy += 4;
    line(methodLine(data), 10, 400, MUTED, 10);
    if (outlinesOnly) line('Areas are drawn as outlines while the heat map is on.', 10, 400, MUTED, 10);
  }
  let group = null;
  for (const item of items.filter((each) => !classes.includes(each))) {
    if (item.group && item.group !== group) line(item.group, 11, 700);
    group = item.group || null;
    if (item.kind === 'ramp') {
      line(item.label, 11, 700);
      drawn.push(itemSummary(item));
      drawRamp(ctx, item, x, cy, width);
      cy += 28;
    } else {
      if (item.kind === 'line') drawLineSample(ctx, item, x, cy + 8);
      else drawPointSample(ctx, item, x + 13, cy + 8);
      cy += Math.max(18, label(item, 34)) + 4;
    }
    notes(item);
  }
  if (data) {
    const set = data.metadata.boundary_set;
    line('Boundaries', 11, 700, INK, 2);
    line(`${set.title}${validity(set) ? `, ${validity(set)}` : ''}`, 10, 400, MUTED, 10);
    if (data.metadata.interpolation) {
      line('Interpolation', 11, 700, INK, 2);
      line(data.metadata.interpolation, 10, 400, MUTED, 10);
    }
  }
  return { height: cy - y, drawn };
}

function footerLines(ctx, data, hotspotInfo, basemapNote, width) {
  const texts = [];
  if (data) {
    const meta = data.metadata;
    const date = /^\d{4}-\d{2}$/.test(meta.data_date) ? `data to ${periodLabel(meta.data_date)}` : meta.data_date;
    texts.push(`Source: ${meta.source} (${date}).`);
    if (meta.provenance?.length) texts.push(`Provenance: ${meta.provenance.join('; ')}.`);
    const notes = legendNotes(data);
    if (notes.length) texts.push(`Notes: ${notes.join('; ')}.`);
    texts.push(meta.boundary_set.licence || '');
  } else if (hotspotInfo?.metadata) {
    texts.push(`Source: ${hotspotInfo.metadata.source}`);
  }
  texts.push(basemapNote);
  texts.push(`Exported from CSP Atlas (${partnershipName()}) on ${isoDate(new Date().toISOString().slice(0, 10))}: `
    + `${window.location.origin}${base}/${window.location.search}`);
  ctx.font = font(10);
  return texts.filter(Boolean).flatMap((t) => wrap(ctx, t, width));
}

// The part of the map not covered by the on-screen legend (on a wide map the legend sits over its right edge and
// the borough was fitted beside it); the export redraws the legend in its own column.
function visibleFrame(map) {
  const size = map.getSize();
  const legendBox = document.getElementById('legend');
  if (!legendBox || size.x <= 700) return size;
  return L.point(size.x - legendBox.offsetWidth - 10, size.y);
}

// The layers drawn over the areas, in the order of their panes: cluster and annotation outlines (Leaflet paths with
// geometry) and record symbols (the shape markers of record-symbols.js: halo, then the ring around the fill).
function drawOverlays(ctx, map, overlays, project) {
  for (const group of overlays) {
    group.eachLayer(function draw(layer) {
      if (layer.eachLayer) { layer.eachLayer(draw); return; }
      const o = layer.options;
      if (layer.feature?.geometry) {
        ctx.beginPath();
        tracePolygons(ctx, layer.feature.geometry, project);
        ctx.strokeStyle = o.color;
        ctx.lineWidth = o.weight;
        ctx.setLineDash(o.dashArray ? o.dashArray.split(' ').map(Number) : []);
        ctx.globalAlpha = o.opacity ?? 1;
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
      } else if (o.shape && layer.getLatLng) {
        const p = map.latLngToContainerPoint(layer.getLatLng());
        const path = new Path2D(shapePath(o.shape, p.x, p.y, o.radius));
        if (o.fill !== false) { ctx.fillStyle = o.fillColor; ctx.fill(path); }
        ctx.strokeStyle = o.color;
        ctx.lineWidth = o.weight;
        ctx.globalAlpha = o.opacity;
        ctx.stroke(path);
        ctx.globalAlpha = 1;
      }
    });
  }
}

// legendItems: what the on-screen legend shows (legend-items.js); overlays: the Leaflet groups of cluster outlines,
// annotation outlines and record symbols shown over the areas.
export async function renderPng({ map, choropleth, hotspots, legendItems, overlays = [], basemapOn, title }) {
  const size = visibleFrame(map);
  const data = choropleth.data;
  const hotspotInfo = hotspots?.legendInfo() || {};
  const outlinesOnly = choropleth.fillOpacity === 0;
  const width = size.x + LEGEND_WIDTH;
  const scratch = document.createElement('canvas').getContext('2d');
  const mapElement = map.getContainer();
  const tiles = basemapOn ? tilesCanvas(mapElement, size.x, size.y) : null;
  const basemapNote = !basemapOn ? 'Basemap: none.'
    : tiles ? 'Basemap © OpenStreetMap contributors (openstreetmap.org/copyright).'
      : 'Basemap not included in this export: its tiles could not be copied (cross-origin).';
  const marking = protectiveMarking(legendItems);
  const footer = footerLines(scratch, data, hotspotInfo, basemapNote, width - 2 * PAD);
  const footerHeight = PAD + (footer.length + (marking ? 1 : 0)) * 13 + PAD / 2;
  // The legend may be taller than the map: measure it first on the scratch context.
  const { height: legendHeight } = drawLegend(scratch, data, legendItems, 0, 0, LEGEND_WIDTH - 2 * PAD, outlinesOnly);
  const bodyHeight = Math.max(size.y, legendHeight + PAD);
  const height = HEADER + bodyHeight + footerHeight;

  const canvas = document.createElement('canvas');
  canvas.width = width * SCALE;
  canvas.height = height * SCALE;
  const ctx = canvas.getContext('2d');
  ctx.scale(SCALE, SCALE);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);

  // header: title and subtitle
  ctx.fillStyle = INK;
  ctx.font = font(19, 700);
  ctx.fillText(title, PAD, 28);
  ctx.font = font(12);
  ctx.fillStyle = MUTED;
  const sub = data ? `${subtitle(data)} · ${data.metadata.boundary_set.title}${data.metadata.geography === 'clusters'
    ? ' (ward clusters)' : ''}` : (hotspotInfo?.metadata ? periodLabel(hotspotInfo.metadata.period) : '');
  ctx.fillText(sub, PAD, 48);
  if (marking) drawMarking(ctx, marking, width, 16);

  // the map frame
  ctx.save();
  ctx.translate(0, HEADER);
  ctx.beginPath();
  ctx.rect(0, 0, size.x, size.y);
  ctx.clip();
  ctx.fillStyle = getComputedStyle(mapElement).backgroundColor || '#f5f5f3';
  ctx.fillRect(0, 0, size.x, size.y);
  if (tiles) ctx.drawImage(tiles, 0, 0, size.x, size.y);
  const project = (lat, lon) => map.latLngToContainerPoint([lat, lon]);
  if (data) {
    const weight = data.metadata.geography === 'clusters' ? 1.4 : data.metadata.boundary_set.kind === 'lsoa' ? 0.5 : 0.9;
    const hatch = noDataPattern(ctx);
    for (const tile of choropleth.tileElements?.() || []) { // a large set, drawn from vector tiles on canvas
      const box = tile.getBoundingClientRect();
      const origin = mapElement.getBoundingClientRect();
      ctx.drawImage(tile, box.left - origin.left, box.top - origin.top, box.width, box.height);
    }
    for (const feature of data.features) {
      if (!feature.geometry) continue;
      ctx.beginPath();
      tracePolygons(ctx, feature.geometry, project);
      ctx.globalAlpha = choropleth.fillOpacity;
      ctx.fillStyle = feature.properties.color || hatch;
      ctx.fill('evenodd');
      ctx.globalAlpha = 0.9;
      ctx.strokeStyle = '#3a3a3a';
      ctx.lineWidth = weight;
      ctx.lineJoin = 'round';
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
  }
  const heatCanvas = hotspots?.heat && map.hasLayer(hotspots.heat) ? hotspots.heat._canvas : null;
  if (heatCanvas) ctx.drawImage(heatCanvas, 0, 0, heatCanvas.width, heatCanvas.height); // aligned with the map's corner
  drawMarkers(ctx, map, hotspots);
  drawOverlays(ctx, map, overlays, project);
  drawScaleBar(ctx, map, 14, size.y - 12);
  drawNorthArrow(ctx, size.x - 24, 12);
  ctx.restore();
  ctx.strokeStyle = '#777';
  ctx.lineWidth = 1;
  ctx.strokeRect(0.5, HEADER + 0.5, size.x - 1, size.y - 1);

  const { drawn } = drawLegend(ctx, data, legendItems, size.x + PAD, HEADER, LEGEND_WIDTH - 2 * PAD, outlinesOnly);

  // footer
  ctx.fillStyle = MUTED;
  ctx.font = font(10);
  footer.forEach((l, i) => ctx.fillText(l, PAD, HEADER + bodyHeight + PAD + 10 + i * 13));
  if (marking) drawMarking(ctx, marking, width, HEADER + bodyHeight + PAD + 10 + footer.length * 13);

  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  return { blob, width: canvas.width, height: canvas.height, frame: { width: size.x, height: size.y }, legend: drawn,
    marking };
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
