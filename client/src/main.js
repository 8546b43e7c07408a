// Entry point of / and /embed: builds the map from the state in the URL and keeps the two in step.
import { Annotations } from './annotations.js';
import { getJSON } from './api.js';
import { basemapLayer, setBasemap } from './basemap.js';
import { AreaLayer } from './area-layer.js';
import { boundarySets } from './catalogue.js';
import { Controls, reconcile } from './controls.js';
import { embedDownloads, useDownloadFormats } from './downloads.js';
import { download, renderPng } from './export.js';
import { setupFind } from './find.js';
import { HotspotCapture } from './hotspot-capture.js';
import { ExtraLayers, listHotspotLayers } from './hotspot-layers.js';
import { Hotspots, pointsFilter } from './hotspots.js';
import { Legend } from './legend.js';
import { clusterOutlineLayer, hideClusterOutlines, showClusterOutlines } from './outlines.js';
import { popupContent } from './popup.js';
import { Session, roleAtLeast, setupSignIn } from './session.js';
import { setupShare } from './share.js';
import { clearStatus, showStatus, whileLoading } from './status.js';
import { defaultMeasure, layerUrl, readState, writeState } from './state.js';
import { renderTable } from './table.js';
import { html, htmlText } from './html.js';
import { MEASURES, useRegistries } from './options.js';
import { isNarrow } from './viewport.js';
import { base, defaultSet, fitToArea, loadPartnership, showPartnership } from './partnership.js';

const EMBED = document.body.dataset.mode === 'embed';
const ATTRIBUTION = html`Contains OS data &copy; Crown copyright and database right; Office for National Statistics
  (OGL v3.0). Crime: data.police.uk (OGL v3.0)`;
const LAYER_KEYS = ['set', 'clusters', 'metric', 'period', 'measure', 'method', 'k', 'palette'];
const HOTSPOT_KEYS = ['heat', 'radius', 'markers', 'hmetric', 'hperiod', 'metric', 'period'];
const $ = (id) => document.getElementById(id);

let state = readState(window.location.search);
let meta = null;
let map;
let choropleth;
let hotspots;
let extras;
let annotations;
let capture = null;
let legend;
let controls = null;
let find = null;
let share = null;
let embedFiles = null;
let patrols = null;
let layerSeq = 0;
let userSeq = 0;
let fitted = Boolean(state.view);
const session = new Session();
const notices = { adjust: null, layer: null, hotspots: null, extras: null, basemap: null, partnership: null };

const NOTICE_SECONDS = 12; // the basemap notice hides itself after this; any notice can be dismissed at once

function basemapUnreachable(text) {
  const notice = { text, kind: 'info' };
  notices.basemap = notice;
  renderStatus();
  setTimeout(() => {
    if (notices.basemap !== notice) return;
    notices.basemap = null;
    renderStatus();
  }, NOTICE_SECONDS * 1000);
}

// Dismissing clears the notices shown (not errors, which stay until what failed works again).
function dismissNotices() {
  for (const [key, notice] of Object.entries(notices)) if (notice?.kind === 'info') notices[key] = null;
  renderStatus();
}

// Performance marks for benchmarks/bench_client.py (first paint of the layer, hotspots drawn, ready).
function markOnce(name) {
  if (!performance.getEntriesByName(name).length) performance.mark(name);
}

function afterPaint(callback) {
  requestAnimationFrame(() => requestAnimationFrame(callback));
}

function renderStatus() {
  const errors = Object.values(notices).filter((n) => n && n.kind === 'error');
  const shown = errors.length ? errors : Object.values(notices).filter(Boolean);
  if (!shown.length) clearStatus();
  else {
    showStatus(shown.map((n) => n.text).join(' '), errors.length ? 'error' : 'info',
      { onDismiss: errors.length ? null : dismissNotices });
  }
}

// With the heat map on, the areas are outlines only: one colour ramp at a time.
function fillOpacity() {
  if (state.heat) return 0;
  return state.basemap === 'none' ? 0.85 : 0.7;
}

// The measures offered one click away in the legend: count, density and (where the set has a population) rate.
function measureChoices() {
  const metric = meta?.metrics.get(state.metric);
  const set = meta?.sets.find((s) => s.id === state.set);
  if (!metric) return [];
  return ['rate', 'density', 'count'].filter((m) => metric.measures.includes(m)
    && (m !== 'rate' || set?.population || metric.kind === 'rate'))
    .map((measure) => ({ measure, label: MEASURES[measure] }));
}

function renderLegend() {
  const info = hotspots.legendInfo() || {};
  info.extra = extras.legendInfo();
  info.outlines = Boolean(clusterOutlineLayer());
  info.annotations = annotations.shown;
  legend.render(choropleth.data, info, { title: notices.layer?.kind === 'error' ? notices.layer.text : null,
    opacity: choropleth.fillOpacity, measures: EMBED ? [] : measureChoices(),
    outlinesOnly: Boolean(state.heat && choropleth.data) });
}

// Keep the borough clear of the legend when the window is wide enough to put them side by side.
// On a wide map the legend sits beside the borough, on a narrow one below it.
function fitPadding() {
  const legendBox = document.getElementById('legend');
  if (!legendBox) return { padding: [12, 12] };
  const wide = map.getSize().x > 700;
  return { paddingTopLeft: [12, 12],
    paddingBottomRight: wide ? [legendBox.offsetWidth + 16, 12] : [8, legendBox.offsetHeight + 16] };
}

function isEmpty(data) {
  return data.features.every((f) => !f.properties.value);
}

async function loadLayer(prefetched = null) {
  const mine = ++layerSeq;
  const wanted = state;
  $('map').dataset.layerUrl = layerUrl(wanted);
  $('map').dataset.layerState = 'loading';
  try {
    const data = await whileLoading('Loading the map layer…', () => prefetched || choropleth.fetch(wanted));
    if (mine !== layerSeq) return;
    choropleth.fillOpacity = fillOpacity();
    choropleth.show(data, wanted);
    renderLegend();
    if (!fitted && choropleth.bounds()?.isValid()) {
      // No animation: the first view is where an officer looks, and the heat radius and URL state must describe
      // the settled map, not a frame of a zoom transition.
      map.fitBounds(choropleth.bounds(), { ...fitPadding(), animate: false });
      fitted = true;
    }
    const police = data.metadata.metric.source === 'police.uk';
    notices.layer = isEmpty(data) && data.metadata.measure !== 'change'
      ? { text: police ? 'No crimes recorded for this filter.' : 'No figures for this filter.', kind: 'info' } : null;
    if (find) find.refresh();
    if (!EMBED) renderTable($('values-table'), data, focusArea);
    $('map').dataset.layerState = 'ready';
    afterPaint(() => markOnce('atlas:layer-drawn'));
  } catch (error) {
    if (mine !== layerSeq) return;
    choropleth.clear();
    if (!EMBED) renderTable($('values-table'), null);
    notices.layer = { text: `Could not load the map layer: ${error.message}`, kind: 'error' };
    $('map').dataset.layerState = 'error';
  }
  renderLegend();
  renderStatus();
}

async function loadOutlines() {
  const set = meta?.sets.find((s) => s.id === state.set);
  if (!state.outlines || state.clusters || set?.kind !== 'ward') {
    hideClusterOutlines(map);
  } else {
    try {
      await showClusterOutlines(map, state.set);
    } catch (error) {
      showStatus(`Could not load the cluster outlines: ${error.message}`, 'error');
    }
  }
  renderLegend();
}

async function loadAnnotations() {
  try {
    await annotations.sync(state.annotations);
  } catch (error) {
    showStatus(`Could not load the assessment's places of concern: ${error.message}`, 'error');
  }
  renderLegend();
}

let hotspotSeq = 0;

async function loadHotspots() {
  const mine = ++hotspotSeq;
  const wanted = state;
  try {
    $('map').dataset.hotspotState = 'loading';
    const metadata = await whileLoading('Loading crime points…',
      () => hotspots.update(wanted, meta?.metrics.get(wanted.metric)));
    if (mine !== hotspotSeq) return;
    $('map').dataset.hotspotState = 'ready';
    afterPaint(() => performance.mark('atlas:hotspots-drawn'));
    notices.hotspots = metadata && metadata.count === 0
      ? { text: 'No crimes recorded for this filter (hotspots).', kind: 'info' } : null;
  } catch (error) {
    if (mine !== hotspotSeq) return;
    notices.hotspots = { text: `Could not load crime points: ${error.message || error}`, kind: 'error' };
    $('map').dataset.hotspotState = 'error';
  }
  choropleth.setFillOpacity(fillOpacity());
  renderLegend();
  renderStatus();
}

// The hotspot layers of the API follow the hotspot period (or the map's police.uk period).
function extraPeriod() {
  return pointsFilter(state, meta?.metrics.get(state.metric)).period;
}

// Show the hotspot layers switched on (internal ones from the URL, restricted ones from this page only).
// A record was just saved into a layer: show that layer (switching it on if need be) with the new record.
async function showSavedRecord(layerId) {
  if (extras.isRestricted(layerId)) extras.privateIds.add(layerId);
  else if (!state.extra.includes(layerId)) {
    state = { ...state, extra: [...state.extra, layerId] };
    writeState(state);
  }
  const entry = extras.shown.get(layerId);
  if (entry) map.removeLayer(entry.layer);
  extras.shown.delete(layerId);
  if (controls) controls.setExtraLayers(extras.available, (id) => extras.isOn(id, state.extra));
  await syncExtras();
}

async function syncExtras() {
  $('map').dataset.extraState = 'loading';
  try {
    await extras.sync(state.extra, extraPeriod());
    notices.extras = null;
  } catch (error) {
    session.expired(error);
    notices.extras = { text: `Could not load hotspot records: ${error.message}`, kind: 'error' };
  }
  $('map').dataset.extraState = 'ready';
  renderLegend();
  renderStatus();
}

// The patrol-area modules (and Leaflet-Geoman after them) are only loaded for officers.
async function setupPatrols(user, mine) {
  if (!patrols && roleAtLeast(user, 'officer')) {
    try {
      const { PatrolPanel } = await import('./patrols.js');
      patrols = patrols || new PatrolPanel({ map, section: $('patrols'), session,
        announce: (text) => showStatus(text, 'info'), showPanel: openPanel,
        source: () => ({ ...pointsFilter(state, meta?.metrics.get(state.metric)), layers: extras.available }) });
      if (meta) patrols.setMeta(meta);
      window.cspAtlas.patrols = patrols;
    } catch (error) {
      showStatus(`Could not load the patrol areas: ${error.message}`, 'error');
      return;
    }
  }
  if (patrols && mine === userSeq) patrols.setUser(user);
}

// Signed in, out, or as someone else: drop everything of the previous user, then offer what this one may see.
async function userChanged(user) {
  const mine = ++userSeq;
  extras.clear();
  notices.extras = null;
  if (capture) capture.setLayers([]);
  if (controls) controls.setExtraLayers([], () => false);
  setupPatrols(user, mine);
  $('map').dataset.user = user ? user.username : '';
  renderLegend();
  renderStatus();
  if (!user) return;
  $('map').dataset.extraState = 'loading';
  let layers;
  try {
    layers = await listHotspotLayers();
  } catch (error) {
    if (mine !== userSeq) return;
    session.expired(error);
    notices.extras = { text: `Could not list the hotspot layers: ${error.message}`, kind: 'error' };
    $('map').dataset.extraState = 'error';
    renderStatus();
    return;
  }
  if (mine !== userSeq) return;
  extras.available = layers;
  if (state.extra.some((id) => extras.isRestricted(id))) { // restricted layers never stay in the address
    state = { ...state, extra: state.extra.filter((id) => !extras.isRestricted(id)) };
    writeState(state);
    if (share) share.refresh();
  }
  if (controls) controls.setExtraLayers(layers, (id) => extras.isOn(id, state.extra));
  if (capture) capture.setLayers(layers);
  if (patrols) patrols.fillSources();
  await syncExtras();
}

function focusArea(code) {
  if (choropleth.focus(code)) document.body.classList.remove('panel-open');
}

// Apply a change of state (from the controls): reload what depends on the keys that changed.
async function update(patch) {
  const before = state;
  const extraToggled = 'extra' in patch;
  if (extraToggled) patch = { ...patch, extra: extras.split(patch.extra) }; // restricted ones: memory only
  let next = { ...state, ...patch };
  if (meta) {
    const result = reconcile(next, meta);
    next = result.state;
    notices.adjust = result.notes.length ? { text: `${result.notes.join('; ')}.`, kind: 'info' } : null;
  }
  state = next;
  writeState(state);
  if (controls) controls.sync(state);
  if (share) share.refresh();
  if (embedFiles) embedFiles.refresh(state);
  const changed = (keys) => keys.some((k) => JSON.stringify(before[k]) !== JSON.stringify(state[k]));
  const tasks = [];
  if (changed(['basemap'])) {
    notices.basemap = null;
    setBasemap(map, state.basemap, basemapUnreachable);
    choropleth.setFillOpacity(fillOpacity());
    renderLegend();
  }
  if (changed(LAYER_KEYS)) tasks.push(loadLayer());
  if (changed(['set', 'clusters', 'outlines'])) tasks.push(loadOutlines());
  if (changed(['annotations'])) tasks.push(loadAnnotations());
  if (changed(HOTSPOT_KEYS) && (state.heat || state.markers || before.heat || before.markers)) {
    tasks.push(loadHotspots());
  }
  if (extras.available.length && (extraToggled || changed(['extra', 'hperiod', 'period', 'metric']))) {
    tasks.push(syncExtras());
  }
  await Promise.all(tasks);
  renderStatus();
}

function openPanel() {
  document.body.classList.add('panel-open');
  $('panel-toggle').setAttribute('aria-expanded', 'true');
}

function setupPanel() {
  const toggle = $('panel-toggle');
  const close = () => {
    document.body.classList.remove('panel-open');
    toggle.setAttribute('aria-expanded', 'false');
  };
  toggle.addEventListener('click', () => {
    const open = !document.body.classList.contains('panel-open');
    document.body.classList.toggle('panel-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open) $('metric').focus();
  });
  $('panel-close').addEventListener('click', () => { close(); toggle.focus(); });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.classList.contains('panel-open')) { close(); toggle.focus(); }
  });
}

function exportTitle() {
  return choropleth.data ? choropleth.data.legend.title : 'CSP Atlas';
}

function setupExport() {
  $('export-png').addEventListener('click', async () => {
    try {
      const result = await whileLoading('Preparing the PNG…', () => renderPng({
        map, choropleth, outlines: clusterOutlineLayer, hotspots, basemapOn: Boolean(basemapLayer()),
        title: exportTitle(),
      }));
      const filename = `csp-atlas_${state.metric}_${(state.period || 'latest').replace('/', '_to_')}_${state.set}`
        + `${state.clusters ? '-clusters' : ''}.png`;
      download(result.blob, filename);
      window.cspAtlas.lastExport = { width: result.width, height: result.height, frame: result.frame,
        bytes: result.blob.size, filename };
      showStatus(`Exported ${filename} (${result.width} × ${result.height} px).`, 'info');
    } catch (error) {
      showStatus(`Could not export the map: ${error.message}`, 'error');
    }
  });
}

// The embed view: a link back to the atlas and the downloads of the same state (no hotspot layers, ever).
function embedLink() {
  const control = L.control({ position: 'topright' });
  control.onAdd = () => {
    const box = L.DomUtil.create('div', 'embed-title leaflet-bar');
    const link = document.createElement('a');
    const query = new URLSearchParams(window.location.search);
    query.delete('extra');
    link.href = `${base}/?${query.toString().replace(/%2F/g, '/').replace(/%2C/g, ',')}`;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = 'CSP Atlas ↗';
    link.title = 'Open this map in CSP Atlas';
    box.append(link);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    embedFiles = embedDownloads(box, state);
    return box;
  };
  control.addTo(map);
}

// The partnership of the page's /p/{slug}/ prefix: its name, its picker, and its default set for a link without one.
async function openPartnership() {
  try {
    await loadPartnership();
  } catch (error) {
    notices.partnership = { text: `Could not load the partnership: ${error.message}`, kind: 'error' };
    return;
  }
  showPartnership({ title: EMBED ? 'CSP Atlas map' : 'CSP Atlas', name: $('partnership-name'),
    picker: $('partnership-picker'), map: $('map') });
  if (!state.set) state = { ...state, set: defaultSet() };
}

async function start() {
  map = L.map('map', { zoomSnap: 0.25, minZoom: 8, maxZoom: 19, scrollWheelZoom: !EMBED });
  await openPartnership();
  if (state.view) map.setView([state.view.lat, state.view.lon], state.view.zoom);
  else if (!fitToArea(map)) map.setView([52.5, -1.5], 8); // England, until the partnership's area is loaded
  map.attributionControl.addAttribution(htmlText(ATTRIBUTION));
  setBasemap(map, state.basemap, basemapUnreachable);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  legend = new Legend().addTo(map);
  legend.onMeasure = (measure) => update({ measure, measureAuto: false });
  map.on('popupopen', () => { if (isNarrow()) legend.setCollapsed(true); }); // the popup needs the room
  if (EMBED) embedLink();
  choropleth = new AreaLayer(map, {
    popup: (feature) => popupContent(feature, {
      state, data: choropleth.data, metric: meta?.metrics.get(choropleth.data.metadata.metric.id),
    }),
  });
  hotspots = new Hotspots(map);
  hotspots.onChange = renderLegend;
  extras = new ExtraLayers(map);
  annotations = new Annotations(map);
  if (!EMBED) {
    capture = new HotspotCapture(map, (text) => showStatus(text, 'info'), showSavedRecord);
    setupSignIn($('account'), session);
    session.subscribe(userChanged);
  }
  // for the browser tests and for anyone poking at the map from the console
  window.cspAtlas = { map, hotspots, extras, annotations, patrols, session, state: () => state, layer: () => choropleth.data,
    lastExport: null };
  map.on('moveend', () => {
    const c = map.getCenter();
    state = { ...state, view: { zoom: Math.round(map.getZoom() * 100) / 100, lat: c.lat, lon: c.lng } };
    writeState(state);
    if (share) share.refresh();
  });

  // The layer is requested and drawn at once; the catalogue (metrics, boundary sets) arrives alongside and builds the
  // controls. A state the catalogue corrects (e.g. a table mapped on the wrong boundaries) is drawn again.
  const setsRequest = boundarySets();
  // The option lists (methods, palettes, measures, formats) come from the server's registries, before anything draws
  // (both lists are preloaded by the page).
  try {
    const registries = await getJSON('/api/registries');
    useRegistries(registries);
    useDownloadFormats(registries);
  } catch (error) {
    showStatus(`Could not load the map: ${error.message}`, 'error');
    return;
  }
  // A measure the map picks depends on the set's population: the first draw waits for the (small) list of sets.
  const firstDraw = state.measureAuto ? setsRequest.then((answer) => {
    state = { ...state, measure: defaultMeasure(answer.boundary_sets.find((s) => s.id === state.set)) };
    return loadLayer();
  }, () => null) : loadLayer();
  let metrics;
  let sets;
  try {
    [metrics, sets] = await whileLoading('Loading the map…', () => Promise.all([
      getJSON('/api/metrics'), setsRequest]));
  } catch (error) {
    showStatus(`Could not load the map: ${error.message}`, 'error');
    return;
  }
  meta = { metrics: new Map(metrics.metrics.map((m) => [m.id, m])), sets: sets.boundary_sets };
  if (!meta.sets.length) {
    showStatus('No boundary sets are loaded yet: load them with scripts/atlas boundaries load.', 'error');
    return;
  }
  if (!EMBED) {
    controls = new Controls(meta, update);
    controls.sync(state);
    find = setupFind({ form: $('find'), input: $('find-input'), list: $('find-list'),
      features: () => choropleth.features(), focus: focusArea, announce: showStatus });
    share = setupShare({ linkField: $('share-link'), embedField: $('share-embed'), copyLink: $('copy-link'),
      copyEmbed: $('copy-embed'), downloads: $('downloads'), state: () => state, title: exportTitle,
      announce: (t) => showStatus(t, 'info') });
    if (patrols) patrols.setMeta(meta);
    session.check().catch((error) => {
      notices.extras = { text: `Could not find out who is signed in: ${error.message}`, kind: 'error' };
      renderStatus();
    });
    setupPanel();
    setupExport();
  }
  const result = reconcile(state, meta);
  const corrected = JSON.stringify(result.state) !== JSON.stringify(state);
  await update(result.state);
  notices.adjust = result.notes.length ? { text: `${result.notes.join('; ')}.`, kind: 'info' } : null;
  await Promise.all([corrected ? null : firstDraw, loadOutlines(),
    state.heat || state.markers ? loadHotspots() : null, state.annotations ? loadAnnotations() : null]);
  if (find) find.refresh();
  if (share) share.refresh();
  if (!EMBED && choropleth.data) renderTable($('values-table'), choropleth.data, focusArea);
  renderStatus();
  document.body.dataset.ready = 'true'; // the controls are live (for the browser tests)
  afterPaint(() => markOnce('atlas:ready'));
}

start().catch((error) => showStatus(`Could not start the map: ${error.message}`, 'error'))
  .finally(() => { document.body.dataset.started = 'true'; });
