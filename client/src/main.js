// Entry point of / and /embed: builds the map from the state in the URL and keeps the two in step. The state lives
// in stores (store.js): the address, the layers, the legend, the table and the controls subscribe to the keys they
// draw from, so a change made anywhere (controls, legend, a saved record, the map moving) reaches each of them.
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
import { createNotices } from './notices.js';
import { clusterOutlineItems, clusterOutlineLayer, hideClusterOutlines, showClusterOutlines } from './outlines.js';
import { popupContent } from './popup.js';
import { Session, roleAtLeast, setupSignIn } from './session.js';
import { setupShare } from './share.js';
import { showStatus, whileLoading } from './status.js';
import { DEFAULTS, defaultMeasure, layerUrl, readState, writeState } from './state.js';
import { createStore } from './store.js';
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
const EXTRA_KEYS = ['extra', 'restricted', 'hperiod', 'period', 'metric'];
const CHOSEN_KEYS = Object.keys(DEFAULTS).filter((key) => key !== 'view'); // what the controls choose
const $ = (id) => document.getElementById(id);

// The map as the address describes it, plus the restricted record layers switched on (memory only, never in the URL).
const store = createStore({ ...readState(window.location.search), restricted: [] });
// What the page has loaded: the catalogue (metrics and boundary sets), the classified layer drawn, the legend items
// of every layer shown (legend-items.js) and whether the first view has been fitted to the layer.
const page = createStore({ meta: null, layer: null, items: [], fitted: Boolean(store.get().view) });
const notices = createNotices();
const session = new Session();
const ui = {}; // the page's components, made once by start(): map, layers, legend, controls, find, share…
const layerTurn = turns();
const hotspotTurn = turns();
const userTurn = turns();

// Only the latest of overlapping requests of one kind may draw: turn() gives a check that stays true until the next.
function turns() {
  let count = 0;
  return () => {
    const mine = ++count;
    return () => mine === count;
  };
}

// Performance marks for benchmarks/bench_client.py (first paint of the layer, hotspots drawn, ready).
function markOnce(name) {
  if (!performance.getEntriesByName(name).length) performance.mark(name);
}

function afterPaint(callback) {
  requestAnimationFrame(() => requestAnimationFrame(callback));
}

// With the heat map on, the areas are outlines only: one colour ramp at a time.
function fillOpacity() {
  const state = store.get();
  if (state.heat) return 0;
  return state.basemap === 'none' ? 0.85 : 0.7;
}

// The measures offered one click away in the legend: count, density and (where the set has a population) rate.
function measureChoices() {
  const { meta } = page.get();
  const state = store.get();
  const metric = meta?.metrics.get(state.metric);
  const set = meta?.sets.find((s) => s.id === state.set);
  if (!metric) return [];
  return ['rate', 'density', 'count'].filter((m) => metric.measures.includes(m)
    && (m !== 'rate' || set?.population || metric.kind === 'rate'))
    .map((measure) => ({ measure, label: MEASURES[measure] }));
}

// Every layer's legend items, in the order the legend lists them: the on-screen legend and the PNG export draw these.
function legendItems() {
  return [...ui.choropleth.legendItems(), ...clusterOutlineItems(), ...ui.annotations.legendItems(),
    ...ui.hotspots.legendItems(), ...ui.extras.legendItems()];
}

function refreshLegendItems() {
  page.set({ items: legendItems() });
}

function renderLegend() {
  const { layer, items } = page.get();
  const error = notices.get().layer;
  ui.legend.render(layer, items, { title: error?.kind === 'error' ? error.text : null,
    measures: EMBED ? [] : measureChoices(), outlinesOnly: Boolean(store.get().heat && layer) });
}

// Keep the borough clear of the legend when the window is wide enough to put them side by side.
// On a wide map the legend sits beside the borough, on a narrow one below it.
function fitPadding() {
  const legendBox = document.getElementById('legend');
  if (!legendBox) return { padding: [12, 12] };
  const wide = ui.map.getSize().x > 700;
  return { paddingTopLeft: [12, 12],
    paddingBottomRight: wide ? [legendBox.offsetWidth + 16, 12] : [8, legendBox.offsetHeight + 16] };
}

function isEmpty(data) {
  return data.features.every((f) => !f.properties.value);
}

async function loadLayer() {
  const current = layerTurn();
  const wanted = store.get();
  const { choropleth, map } = ui;
  $('map').dataset.layerUrl = layerUrl(wanted);
  $('map').dataset.layerState = 'loading';
  try {
    const data = await whileLoading('Loading the map layer…', () => choropleth.fetch(wanted));
    if (!current()) return;
    choropleth.fillOpacity = fillOpacity();
    choropleth.show(data, wanted);
    page.set({ layer: data, items: legendItems() }); // the legend first: its size decides the padding of the fit
    if (!page.get().fitted && choropleth.bounds()?.isValid()) {
      // No animation: the first view is where an officer looks, and the heat radius and URL state must describe
      // the settled map, not a frame of a zoom transition.
      map.fitBounds(choropleth.bounds(), { ...fitPadding(), animate: false });
      page.set({ fitted: true });
    }
    const police = data.metadata.metric.source === 'police.uk';
    notices.set({ layer: isEmpty(data) && data.metadata.measure !== 'change'
      ? { text: police ? 'No crimes recorded for this filter.' : 'No figures for this filter.', kind: 'info' } : null });
    $('map').dataset.layerState = 'ready';
    afterPaint(() => markOnce('atlas:layer-drawn'));
  } catch (error) {
    if (!current()) return;
    choropleth.clear();
    notices.set({ layer: { text: `Could not load the map layer: ${error.message}`, kind: 'error' } });
    page.set({ layer: null, items: legendItems() });
    $('map').dataset.layerState = 'error';
  }
  notices.render();
}

async function loadOutlines() {
  const state = store.get();
  const set = page.get().meta?.sets.find((s) => s.id === state.set);
  if (!state.outlines || state.clusters || set?.kind !== 'ward') {
    hideClusterOutlines(ui.map);
  } else {
    try {
      await showClusterOutlines(ui.map, state.set);
    } catch (error) {
      showStatus(`Could not load the cluster outlines: ${error.message}`, 'error');
    }
  }
  refreshLegendItems();
}

async function loadAnnotations() {
  try {
    await ui.annotations.sync(store.get().annotations);
  } catch (error) {
    showStatus(`Could not load the assessment's places of concern: ${error.message}`, 'error');
  }
  refreshLegendItems();
}

async function loadHotspots() {
  const current = hotspotTurn();
  const wanted = store.get();
  try {
    $('map').dataset.hotspotState = 'loading';
    const metadata = await whileLoading('Loading crime points…',
      () => ui.hotspots.update(wanted, page.get().meta?.metrics.get(wanted.metric)));
    if (!current()) return;
    $('map').dataset.hotspotState = 'ready';
    afterPaint(() => performance.mark('atlas:hotspots-drawn'));
    notices.set({ hotspots: metadata && metadata.count === 0
      ? { text: 'No crimes recorded for this filter (hotspots).', kind: 'info' } : null });
  } catch (error) {
    if (!current()) return;
    notices.set({ hotspots: { text: `Could not load crime points: ${error.message || error}`, kind: 'error' } });
    $('map').dataset.hotspotState = 'error';
  }
  ui.choropleth.setFillOpacity(fillOpacity());
  refreshLegendItems();
  notices.render();
}

// The hotspot layers of the API follow the hotspot period (or the map's police.uk period).
function extraPeriod() {
  const state = store.get();
  return pointsFilter(state, page.get().meta?.metrics.get(state.metric)).period;
}

// A record was just saved into a layer: show that layer (switching it on if need be) with the new record.
async function showSavedRecord(layerId) {
  const { extras, map } = ui;
  const entry = extras.shown.get(layerId);
  if (entry) map.removeLayer(entry.layer);
  extras.shown.delete(layerId);
  const key = extras.isRestricted(layerId) ? 'restricted' : 'extra';
  const ids = store.get()[key];
  const tasks = ids.includes(layerId) ? [] : store.set({ [key]: [...ids, layerId] });
  if (ui.controls) ui.controls.setExtraLayers(extras.available, (id) => extras.isOn(id, store.get()));
  await (tasks.length ? Promise.all(tasks) : syncExtras());
}

async function syncExtras() {
  $('map').dataset.extraState = 'loading';
  try {
    await ui.extras.sync(store.get(), extraPeriod());
    notices.set({ extras: null });
  } catch (error) {
    session.expired(error);
    notices.set({ extras: { text: `Could not load hotspot records: ${error.message}`, kind: 'error' } });
  }
  $('map').dataset.extraState = 'ready';
  refreshLegendItems();
  notices.render();
}

// The patrol-area modules (and Leaflet-Geoman after them) are only loaded for officers.
async function setupPatrols(user, current) {
  if (!ui.patrols && roleAtLeast(user, 'officer')) {
    try {
      const { PatrolPanel } = await import('./patrols.js');
      ui.patrols = ui.patrols || new PatrolPanel({ map: ui.map, section: $('patrols'), session,
        announce: (text) => showStatus(text, 'info'), showPanel: openPanel,
        source: () => ({ ...pointsFilter(store.get(), page.get().meta?.metrics.get(store.get().metric)),
          layers: ui.extras.available }) });
      if (page.get().meta) ui.patrols.setMeta(page.get().meta);
      page.subscribe(['meta'], ({ meta }) => ui.patrols.setMeta(meta));
      window.cspAtlas.patrols = ui.patrols;
    } catch (error) {
      showStatus(`Could not load the patrol areas: ${error.message}`, 'error');
      return;
    }
  }
  if (ui.patrols && current()) ui.patrols.setUser(user);
}

// Signed in, out, or as someone else: drop everything of the previous user, then offer what this one may see.
async function userChanged(user) {
  const current = userTurn();
  const { extras, capture, controls } = ui;
  extras.clear();
  store.set({ restricted: [] });
  notices.set({ extras: null });
  if (capture) capture.setLayers([]);
  if (controls) controls.setExtraLayers([], () => false);
  setupPatrols(user, current);
  $('map').dataset.user = user ? user.username : '';
  refreshLegendItems();
  notices.render();
  if (!user) return;
  $('map').dataset.extraState = 'loading';
  let layers;
  try {
    layers = await listHotspotLayers();
  } catch (error) {
    if (!current()) return;
    session.expired(error);
    notices.set({ extras: { text: `Could not list the hotspot layers: ${error.message}`, kind: 'error' } });
    $('map').dataset.extraState = 'error';
    return;
  }
  if (!current()) return;
  extras.available = layers;
  // a restricted layer is never switched on from the address, and never stays in it (the change syncs the layers)
  const tasks = store.set({ extra: extras.split(store.get().extra).extra });
  if (controls) controls.setExtraLayers(layers, (id) => extras.isOn(id, store.get()));
  if (capture) capture.setLayers(layers);
  if (ui.patrols) ui.patrols.fillSources();
  await (tasks.length ? Promise.all(tasks) : syncExtras());
}

function focusArea(code) {
  if (ui.choropleth.focus(code)) document.body.classList.remove('panel-open');
}

// A change asked for by the controls or the legend: corrected against the catalogue, then put in the store, whose
// subscribers reload what depends on the keys that changed. Resolves when they are done.
async function change(patch) {
  const { meta } = page.get();
  let next = { ...store.get(), ...patch };
  if ('extra' in patch) next = { ...next, ...ui.extras.split(patch.extra) }; // restricted ones: memory only
  if (meta) {
    const result = reconcile(next, meta);
    next = result.state;
    notices.set({ adjust: result.notes.length ? { text: `${result.notes.join('; ')}.`, kind: 'info' } : null });
  }
  const tasks = store.set(next);
  if (!tasks.length && ui.controls) ui.controls.sync(store.get()); // corrected back to the state shown before
  await Promise.all(tasks);
  notices.render();
}

// What redraws when the state changes: the address, the layers, the legend, the values table.
function subscribe() {
  store.subscribe(null, writeState);
  store.subscribe(['basemap'], ({ basemap }) => {
    notices.set({ basemap: null });
    setBasemap(ui.map, basemap, (text) => notices.passing('basemap', text));
    ui.choropleth.setFillOpacity(fillOpacity());
    refreshLegendItems();
  });
  store.subscribe(LAYER_KEYS, () => loadLayer());
  store.subscribe(['set', 'clusters', 'outlines'], loadOutlines);
  store.subscribe(['annotations'], loadAnnotations);
  store.subscribe(HOTSPOT_KEYS, (state, before) => (state.heat || state.markers || before.heat || before.markers
    ? loadHotspots() : null));
  store.subscribe(EXTRA_KEYS, () => (ui.extras.available.length ? syncExtras() : null));
  page.subscribe(['layer', 'items', 'meta'], renderLegend);
  notices.subscribe(['layer'], renderLegend);
  if (!EMBED) page.subscribe(['layer'], ({ layer }) => renderTable($('values-table'), layer, focusArea));
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
  const { layer } = page.get();
  return layer ? layer.legend.title : 'CSP Atlas';
}

function setupExport() {
  $('export-png').addEventListener('click', async () => {
    const { map, choropleth, hotspots, annotations, extras } = ui;
    try {
      const overlays = [clusterOutlineLayer(), annotations.layer, ...[...extras.shown.values()].map((e) => e.layer)];
      const result = await whileLoading('Preparing the PNG…', () => renderPng({
        map, choropleth, hotspots, legendItems: page.get().items, overlays: overlays.filter(Boolean),
        basemapOn: Boolean(basemapLayer()), title: exportTitle(),
      }));
      const state = store.get();
      const filename = `csp-atlas_${state.metric}_${(state.period || 'latest').replace('/', '_to_')}_${state.set}`
        + `${state.clusters ? '-clusters' : ''}.png`;
      download(result.blob, filename);
      window.cspAtlas.lastExport = { width: result.width, height: result.height, frame: result.frame,
        bytes: result.blob.size, filename, legend: result.legend, marking: result.marking };
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
    ui.embedFiles = embedDownloads(box, store.get());
    store.subscribe(CHOSEN_KEYS, (state) => ui.embedFiles.refresh(state));
    return box;
  };
  control.addTo(ui.map);
}

// The partnership of the page's /p/{slug}/ prefix: its name, its picker, and its default set for a link without one.
async function openPartnership() {
  try {
    await loadPartnership();
  } catch (error) {
    notices.set({ partnership: { text: `Could not load the partnership: ${error.message}`, kind: 'error' } });
    return;
  }
  showPartnership({ title: EMBED ? 'CSP Atlas map' : 'CSP Atlas', name: $('partnership-name'),
    picker: $('partnership-picker'), map: $('map') });
  if (!store.get().set) store.set({ set: defaultSet() });
}

// The map, its layers and the legend: everything that draws before the catalogue has arrived.
function buildMap() {
  const state = store.get();
  const map = L.map('map', { zoomSnap: 0.25, minZoom: 8, maxZoom: 19, scrollWheelZoom: !EMBED });
  ui.map = map;
  if (state.view) map.setView([state.view.lat, state.view.lon], state.view.zoom);
  else if (!fitToArea(map)) map.setView([52.5, -1.5], 8); // England, until the partnership's area is loaded
  map.attributionControl.addAttribution(htmlText(ATTRIBUTION));
  setBasemap(map, state.basemap, (text) => notices.passing('basemap', text));
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  ui.legend = new Legend().addTo(map);
  ui.legend.onMeasure = (measure) => change({ measure, measureAuto: false });
  map.on('popupopen', () => { if (isNarrow()) ui.legend.setCollapsed(true); }); // the popup needs the room
  if (EMBED) embedLink();
  ui.choropleth = new AreaLayer(map, {
    popup: (feature) => popupContent(feature, { state: store.get(), data: ui.choropleth.data,
      metric: page.get().meta?.metrics.get(ui.choropleth.data.metadata.metric.id) }),
  });
  ui.hotspots = new Hotspots(map);
  ui.hotspots.onChange = refreshLegendItems;
  ui.extras = new ExtraLayers(map);
  ui.annotations = new Annotations(map);
  if (!EMBED) {
    ui.capture = new HotspotCapture(map, (text) => showStatus(text, 'info'), showSavedRecord);
    setupSignIn($('account'), session);
    session.subscribe(userChanged);
  }
  // for the browser tests and for anyone poking at the map from the console
  window.cspAtlas = { map, hotspots: ui.hotspots, extras: ui.extras, annotations: ui.annotations, patrols: null,
    session, state: () => store.get(), layer: () => ui.choropleth.data, legendItems: () => page.get().items,
    lastExport: null };
  map.on('moveend', () => {
    const c = map.getCenter();
    store.set({ view: { zoom: Math.round(map.getZoom() * 100) / 100, lat: c.lat, lon: c.lng } });
  });
}

// The panel's controls, find, share and sign-in: once the catalogue has arrived (not in the embed view).
function buildPanel(meta) {
  ui.controls = new Controls(meta, change);
  ui.controls.sync(store.get());
  store.subscribe(CHOSEN_KEYS, (state) => ui.controls.sync(state));
  ui.find = setupFind({ form: $('find'), input: $('find-input'), list: $('find-list'),
    features: () => ui.choropleth.features(), focus: focusArea, announce: showStatus });
  page.subscribe(['layer'], () => ui.find.refresh());
  ui.share = setupShare({ linkField: $('share-link'), embedField: $('share-embed'), copyLink: $('copy-link'),
    copyEmbed: $('copy-embed'), downloads: $('downloads'), state: () => store.get(), title: exportTitle,
    announce: (t) => showStatus(t, 'info') });
  store.subscribe(null, () => ui.share.refresh());
  page.subscribe(['layer'], () => ui.share.refresh());
  session.check().catch((error) => {
    notices.set({ extras: { text: `Could not find out who is signed in: ${error.message}`, kind: 'error' } });
  });
  ui.find.refresh();
  setupPanel();
  setupExport();
}

async function start() {
  await openPartnership(); // before the map: it opens on the partnership's area
  buildMap();
  subscribe();
  // The layer is requested and drawn at once; the catalogue (metrics, boundary sets) arrives alongside and builds the
  // controls. A state the catalogue corrects (e.g. a table mapped on the wrong boundaries) is drawn again.
  const setsRequest = boundarySets();
  // The option lists (methods, palettes, measures, formats) come from the server's registries, before anything draws
  // (both lists are preloaded by the page).
  try {
    const registries = await getJSON('/api/registries');
    useRegistries(registries);
    useDownloadFormats(registries);
    if (ui.embedFiles) ui.embedFiles.refresh(store.get()); // the formats offered are known now
  } catch (error) {
    showStatus(`Could not load the map: ${error.message}`, 'error');
    return;
  }
  // A measure the map picks depends on the set's population: the first draw waits for the (small) list of sets.
  const firstDraw = store.get().measureAuto ? setsRequest.then((answer) => Promise.all(store.set({
    measure: defaultMeasure(answer.boundary_sets.find((s) => s.id === store.get().set)) })), () => null) : loadLayer();
  let metrics;
  let sets;
  try {
    [metrics, sets] = await whileLoading('Loading the map…', () => Promise.all([
      getJSON('/api/metrics'), setsRequest]));
  } catch (error) {
    showStatus(`Could not load the map: ${error.message}`, 'error');
    return;
  }
  const meta = { metrics: new Map(metrics.metrics.map((m) => [m.id, m])), sets: sets.boundary_sets };
  page.set({ meta });
  if (!meta.sets.length) {
    showStatus('No boundary sets are loaded yet: load them with scripts/atlas boundaries load.', 'error');
    return;
  }
  if (!EMBED) buildPanel(meta);
  const state = store.get();
  const result = reconcile(state, meta);
  const corrected = JSON.stringify(result.state) !== JSON.stringify(state);
  writeState(state); // the address names the whole state from the start
  await change(result.state);
  notices.set({ adjust: result.notes.length ? { text: `${result.notes.join('; ')}.`, kind: 'info' } : null });
  await Promise.all([corrected ? null : firstDraw, loadOutlines(),
    store.get().heat || store.get().markers ? loadHotspots() : null,
    store.get().annotations ? loadAnnotations() : null]);
  notices.render();
  document.body.dataset.ready = 'true'; // the controls are live (for the browser tests)
  afterPaint(() => markOnce('atlas:ready'));
}

start().catch((error) => showStatus(`Could not start the map: ${error.message}`, 'error'))
  .finally(() => { document.body.dataset.started = 'true'; });
