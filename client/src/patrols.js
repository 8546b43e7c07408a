// The "Patrol areas" panel for signed-in officers (task forces): draw an area or a route (patrol-draw.js), see what is
// inside it as it is drawn (patrol-summary.js), name and date it and save it for the team (POST /api/patrol-areas);
// list the team's areas (GET), open one, edit it and its vertices (PATCH), archive (DELETE) and restore it
// (PATCH archived=false), read its history, export it (GeoJSON, KML, PDF briefing) and adopt suggested areas
// (patrol-suggest.js). The API decides who sees what: other teams' areas are never listed, and a user without a team
// is told so by the API when saving.
import { getJSON, sendJSON } from './api.js';
import { policePeriodOptions } from './controls.js';
import { formatNumber, isoDate } from './format.js';
import { html, setHtml } from './html.js';
import { periodQuery } from './hotspot-layers.js';
import { apiUrl } from './partnership.js';
import { PatrolDrawing } from './patrol-draw.js';
import { PatrolSummary } from './patrol-summary.js';
import { SUGGEST_DEFAULTS, Suggestions } from './patrol-suggest.js';
import { roleAtLeast } from './session.js';

const API = '/api/patrol-areas';
const areaUrl = (id, rest = '') => `${API}/${encodeURIComponent(id)}${rest}`;
const EXPORTS = [['geojson', 'GeoJSON'], ['kml', 'KML (phones, in-car)'], ['pdf', 'PDF briefing']];
const FIELD_LABELS = { name: 'Name', team: 'Team', date_from: 'From', date_to: 'To', notes: 'Notes',
  geometry: 'Shape', route: 'Route', buffer_m: 'Route buffer (m)' };
const ACTIONS = { create: 'Created', update: 'Edited', archive: 'Archived', restore: 'Restored' };
const HINTS = {
  polygon: 'Click the map to add corners; click the first corner (or Finish) to close the area.',
  route: 'Click the map to add points along the route; click the last point again (or Finish) to end it.',
  editing: 'Drag a corner to move it, drag a middle handle to add one, right-click a corner to remove it.',
};

const PANEL = html`
  <h2 id="patrols-title">Patrol areas</h2>
  <p class="patrol-intro">Draw an area or a route: what is inside it is summarised as you draw. Save it for your
    team, or adopt a suggested area.</p>
  <div class="row wrap patrol-tools">
    <button type="button" id="patrol-draw-polygon">Draw area</button>
    <button type="button" id="patrol-draw-route">Draw route</button>
  </div>
  <label for="patrol-buffer">Route buffer (metres each side of the line)</label>
  <input id="patrol-buffer" type="number" min="5" max="1000" step="5" value="50" inputmode="numeric">
  <label for="patrol-period">Crime period of the summary</label>
  <select id="patrol-period"></select>
  <div id="patrol-summary" class="patrol-summary" data-state="empty"></div>
  <form id="patrol-form" class="patrol-form" novalidate>
    <h3 id="patrol-form-title">New patrol area</h3>
    <label for="patrol-name">Name</label>
    <input id="patrol-name" name="name" maxlength="120" autocomplete="off">
    <div class="pair">
      <span><label for="patrol-from">From</label><input id="patrol-from" name="date_from" type="date"></span>
      <span><label for="patrol-to">To</label><input id="patrol-to" name="date_to" type="date"></span>
    </div>
    <label for="patrol-notes">Notes</label>
    <textarea id="patrol-notes" name="notes" rows="3" maxlength="4000"></textarea>
    <p id="patrol-message" class="patrol-message" role="status" aria-live="polite"></p>
    <button type="submit" class="primary" id="patrol-save">Save area</button>
    <button type="button" id="patrol-new" class="link">Start a new area</button>
  </form>
  <div id="patrol-open" class="patrol-open" hidden>
    <p class="patrol-open-meta"></p>
    <div class="row wrap">
      <button type="button" id="patrol-history-button" aria-expanded="false" aria-controls="patrol-history">History
      </button>
      <button type="button" id="patrol-archive">Archive</button>
    </div>
    <p class="patrol-exports">Export: <span></span></p>
    <ol id="patrol-history" class="patrol-history" hidden></ol>
  </div>
  <h3 class="patrol-list-title">Saved areas<span id="patrol-team"></span></h3>
  <label class="check"><input type="checkbox" id="patrol-archived"> Include archived areas</label>
  <ul id="patrol-list" class="patrol-list"></ul>
  <details id="patrol-suggest" class="patrol-suggest">
    <summary>Suggest areas</summary>
    <p class="small">Clusters (DBSCAN) of the points below, buffered and sized to patrol, most records first.</p>
    <label for="suggest-source">Points</label>
    <select id="suggest-source"></select>
    <div class="pair">
      <span><label for="suggest-eps">Distance (m)</label>
        <input id="suggest-eps" type="number" min="10" max="2000" step="10" inputmode="numeric"></span>
      <span><label for="suggest-min-points">Min. points</label>
        <input id="suggest-min-points" type="number" min="2" max="1000" step="1" inputmode="numeric"></span>
    </div>
    <div class="pair">
      <span><label for="suggest-n">Areas</label>
        <input id="suggest-n" type="number" min="1" max="20" step="1" inputmode="numeric"></span>
      <span><label for="suggest-min-km2">Min. km²</label>
        <input id="suggest-min-km2" type="number" min="0.001" max="10" step="0.01"></span>
      <span><label for="suggest-max-km2">Max. km²</label>
        <input id="suggest-max-km2" type="number" min="0.01" max="60" step="0.1"></span>
    </div>
    <button type="button" id="suggest-run" class="primary">Suggest areas</button>
    <ul id="suggest-list" class="suggest-list" aria-live="polite"></ul>
  </details>`;

const BAR = html`
  <p class="patrol-bar-hint"></p>
  <p class="patrol-bar-summary" aria-live="polite"></p>
  <div class="row wrap" data-mode="drawing">
    <button type="button" data-act="centre">Add point at map centre</button>
    <button type="button" data-act="undo">Undo last point</button>
    <button type="button" data-act="finish">Finish</button>
    <button type="button" data-act="cancel">Cancel</button>
  </div>
  <div class="row wrap" data-mode="shape">
    <button type="button" data-act="edit">Edit vertices</button>
    <button type="button" data-act="clear">Clear</button>
    <button type="button" data-act="details" class="narrow-only">Summary and save</button>
  </div>
  <div class="row wrap" data-mode="editing">
    <button type="button" data-act="done">Done editing</button>
  </div>`;

function dates(p) {
  if (!p.date_from && !p.date_to) return 'no dates';
  return `${p.date_from ? isoDate(p.date_from) : '…'} to ${p.date_to ? isoDate(p.date_to) : '…'}`;
}

function historyValue(key, value) {
  if (['geometry', 'route'].includes(key)) return null;
  if (value === null || value === undefined || value === '') return '(none)';
  return `“${String(value)}”`;
}

function historyItem(entry) {
  const when = new Date(entry.changed_at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  const changes = entry.action === 'update' ? Object.keys(entry.new || {}).map((key) => {
    const label = FIELD_LABELS[key] || key;
    const [before, after] = [historyValue(key, entry.old?.[key]), historyValue(key, entry.new[key])];
    return before === null ? html`<li>${label} changed</li>` : html`<li>${label}: ${before} → ${after}</li>`;
  }) : [];
  return html`<li data-action="${entry.action}"><strong>${ACTIONS[entry.action] || entry.action}
    </strong> by ${entry.changed_by}, <time datetime="${entry.changed_at}">${when}
    </time>${changes.length ? html`<ul>${changes}</ul>` : ''}</li>`;
}

export class PatrolPanel {
  // section: the empty <section> in the panel; source(): the map's hotspot filter {metric, period} and the user's
  // hotspot layers; announce(text, kind); showPanel(): open the drawer on a phone.
  constructor({ map, section, session, announce, source, showPanel }) {
    Object.assign(this, { map, section, session, announce, source, showPanel });
    this.user = null;
    this.built = false;
    this.current = null; // the saved area open in the editor (a Feature) or null for a new one
    this.dirty = false; // the open area's shape was changed since it was opened or saved
    this.quiet = false; // shape changes made by the program, not the user
    this.areas = [];
    this.meta = null;
  }

  setMeta(meta) {
    this.meta = meta;
    if (this.built) this.fillPeriods();
  }

  setUser(user) {
    const officer = roleAtLeast(user, 'officer');
    if (this.user && (!officer || user.username !== this.user.username)) this.reset();
    this.user = officer ? user : null;
    this.section.hidden = !officer;
    if (!officer) return;
    if (!this.built) this.build();
    this.fillSources();
    this.refreshList();
    this.drawing.ready().catch((error) => this.message(`Could not load the drawing tools: ${error.message}`, true));
  }

  // Signed out or another user: no shape, summary, list or suggestion of the previous user stays.
  reset() {
    if (!this.built) return;
    this.quiet = true;
    this.drawing.clear();
    this.quiet = false;
    this.summary.clear();
    this.suggestions.clear();
    this.current = null;
    this.dirty = false;
    this.areas = [];
    this.$('patrol-list').replaceChildren();
    this.$('patrol-team').textContent = '';
    this.$('patrol-form').reset();
    this.renderOpen();
    this.message('');
  }

  $(id) {
    return this.section.querySelector(`#${id}`);
  }

  build() {
    setHtml(this.section, PANEL);
    this.built = true;
    this.bar = this.buildBar();
    this.drawing = new PatrolDrawing(this.map, {
      onChange: (value) => this.shapeChanged(value),
      onMode: (mode, kind) => this.modeChanged(mode, kind),
    });
    this.summary = new PatrolSummary(this.$('patrol-summary'), {
      onError: (error) => this.session.expired(error),
      onShow: (summary) => this.barSummary(summary),
    });
    this.summary.show(null);
    this.suggestions = new Suggestions(this.map, this.$('suggest-list'), { onAdopt: (f) => this.adopt(f) });
    this.fillPeriods();
    for (const [key, value] of Object.entries(SUGGEST_DEFAULTS)) {
      this.$(`suggest-${key.replace('_', '-')}`).value = String(value);
    }
    this.listen();
  }

  buildBar() {
    const control = L.control({ position: 'topleft' });
    control.onAdd = () => {
      const box = L.DomUtil.create('section', 'patrol-bar leaflet-bar');
      box.id = 'patrol-bar';
      box.setAttribute('aria-label', 'Patrol area drawing');
      setHtml(box, BAR);
      box.hidden = true;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      box.addEventListener('click', (event) => {
        const act = event.target.closest('button')?.dataset.act;
        if (act) this.barAction(act);
      });
      return box;
    };
    control.addTo(this.map);
    return control.getContainer();
  }

  barAction(act) {
    const d = this.drawing;
    ({
      centre: () => d.addCentrePoint(),
      undo: () => d.undoPoint(),
      finish: () => d.finish(),
      cancel: () => d.cancel(),
      edit: () => d.edit(),
      clear: () => { d.clear(); if (!this.current) this.summary.clear(); },
      done: () => d.stopEditing(),
      details: () => { this.showPanel(); this.$('patrol-summary').scrollIntoView({ block: 'start' }); },
    })[act]?.();
  }

  fillPeriods() {
    const metric = this.meta?.metrics.get('all-crime');
    const select = this.$('patrol-period');
    if (!metric) return;
    setHtml(select, policePeriodOptions(metric, this.summary.period,
      { followLabel: 'Latest three loaded months', allowRange: false }));
  }

  fillSources() {
    const { layers } = this.source();
    const select = this.$('suggest-source');
    const was = select.value;
    setHtml(select, html`<option value="">Crime (the map's hotspot filter)</option>${
      layers.map((l) => html`<option value="${l.id}">${l.title} (${l.sensitivity})</option>`)}`);
    if ([...select.options].some((o) => o.value === was)) select.value = was;
  }

  listen() {
    this.$('patrol-draw-polygon').addEventListener('click', () => this.startDrawing('polygon'));
    this.$('patrol-draw-route').addEventListener('click', () => this.startDrawing('route'));
    this.$('patrol-buffer').addEventListener('change', (event) => {
      const metres = Number(event.target.value);
      if (metres >= 5 && metres <= 1000) this.drawing.setBuffer(metres);
      else this.message('The route buffer must be from 5 to 1,000 metres.', true);
    });
    this.$('patrol-period').addEventListener('change', (event) => {
      this.summary.period = event.target.value;
      this.renderOpen();
      this.summarise();
    });
    this.$('patrol-form').addEventListener('submit', (event) => { event.preventDefault(); this.save(); });
    this.$('patrol-new').addEventListener('click', () => this.startNew());
    this.$('patrol-archived').addEventListener('change', () => this.refreshList());
    this.$('patrol-list').addEventListener('click', (event) => {
      const button = event.target.closest('button');
      if (!button) return;
      const area = this.areas.find((f) => String(f.id) === (button.dataset.open || button.dataset.restore));
      if (button.dataset.open) this.openArea(area);
      if (button.dataset.restore) this.setArchived(area, false);
    });
    this.$('patrol-history-button').addEventListener('click', () => this.toggleHistory());
    this.$('patrol-archive').addEventListener('click', () => this.setArchived(this.current,
      !this.current.properties.archived_at));
    this.$('suggest-run').addEventListener('click', () => this.suggest());
    this.$('patrol-suggest').addEventListener('toggle', () => this.fillSources());
  }

  message(text, error = false) {
    const element = this.$('patrol-message');
    if (!element) return;
    element.textContent = text;
    element.dataset.kind = error ? 'error' : 'info';
    element.setAttribute('role', error ? 'alert' : 'status');
  }

  async startDrawing(kind) {
    this.message('');
    try {
      this.drawing.bufferM = Number(this.$('patrol-buffer').value) || 50;
      if (this.current) this.startNew({ keepMessage: true });
      await this.drawing.start(kind);
      if (window.matchMedia('(max-width: 760px)').matches) document.body.classList.remove('panel-open');
      this.bar.querySelector('[data-act=centre]').focus({ preventScroll: true });
    } catch (error) {
      this.message(`Could not start drawing: ${error.message}`, true);
    }
  }

  modeChanged(mode, kind) {
    this.bar.hidden = mode === 'idle';
    this.bar.dataset.mode = mode;
    for (const group of this.bar.querySelectorAll('[data-mode]')) group.hidden = group.dataset.mode !== mode;
    this.bar.querySelector('.patrol-bar-hint').textContent = mode === 'drawing' ? HINTS[kind]
      : mode === 'editing' ? HINTS.editing : '';
    this.section.dataset.mode = mode;
  }

  shapeChanged(value) {
    if (this.quiet) return;
    if (this.current) this.dirty = true;
    this.summary.follow(value);
  }

  barSummary(summary) {
    const line = this.bar.querySelector('.patrol-bar-summary');
    line.textContent = summary ? `${formatNumber(summary.area_km2)} km²${summary.crime ? `, ${formatNumber(
      summary.crime.total)} crime and ASB records (${formatNumber(summary.crime.total - summary.crime.previous_total,
      { signed: true })} on the previous period)` : ''}` : '';
  }

  summarise() {
    if (this.current && !this.dirty) this.summary.saved(this.current.id);
    else this.summary.follow(this.drawing.value());
  }

  // --- the team's saved areas -----------------------------------------------------------------------------------

  async refreshList() {
    const list = this.$('patrol-list');
    const archived = this.$('patrol-archived').checked;
    const mine = (this.listSeq = (this.listSeq || 0) + 1); // only the latest answer is shown
    try {
      const answer = await getJSON(`${API}${archived ? '?archived=true' : ''}`);
      if (!this.user || mine !== this.listSeq) return;
      this.areas = answer.features;
      const teams = [...new Set(this.areas.map((f) => f.properties.team))];
      this.$('patrol-team').textContent = teams.length === 1 ? ` of ${teams[0]}` : '';
      setHtml(list, this.areas.length ? html`${this.areas.map((f) => {
        const p = f.properties;
        const archivedNote = p.archived_at ? html` · <span class="badge badge-archived">archived</span>` : '';
        return html`<li data-id="${f.id}"${p.archived_at ? html` class="archived"` : ''}${this.current?.id === f.id
          ? html` aria-current="true"` : ''}><button type="button" class="link" data-open="${f.id}">${p.name}
          </button><span class="small">${dates(p)} · ${formatNumber(p.area_km2)} km²${archivedNote}</span>
          ${p.archived_at ? html`<button type="button" data-restore="${f.id}" aria-label="Restore ${p.name}">
          Restore</button>` : ''}</li>`;
      })}` : html`<li class="empty">No ${archived ? '' : 'current '}patrol areas saved for your team yet.</li>`);
    } catch (error) {
      if (mine !== this.listSeq) return;
      this.session.expired(error);
      setHtml(list, html`<li class="empty">Could not list the saved areas: ${error.message}</li>`);
    }
  }

  async openArea(feature) {
    if (!feature) return;
    try {
      const fresh = await getJSON(areaUrl(feature.id));
      this.current = fresh;
      this.dirty = false;
      const p = fresh.properties;
      this.$('patrol-name').value = p.name;
      this.$('patrol-from').value = p.date_from || '';
      this.$('patrol-to').value = p.date_to || '';
      this.$('patrol-notes').value = p.notes || '';
      if (p.buffer_m) this.$('patrol-buffer').value = String(p.buffer_m);
      this.quiet = true;
      await this.drawing.show(fresh.geometry, { route: p.route, bufferM: p.buffer_m });
      this.quiet = false;
      this.renderOpen();
      this.message('');
      this.summary.saved(fresh.id);
      this.refreshList();
      this.announce(`Opened the patrol area “${p.name}”.`);
    } catch (error) {
      this.quiet = false;
      this.session.expired(error);
      this.message(`Could not open the area: ${error.message}`, true);
    }
  }

  renderOpen() {
    const box = this.$('patrol-open');
    const feature = this.current;
    box.hidden = !feature;
    this.$('patrol-form-title').textContent = feature ? `Edit “${feature.properties.name}”` : 'New patrol area';
    this.$('patrol-save').textContent = feature ? 'Save changes' : 'Save area';
    this.$('patrol-history').hidden = true;
    this.$('patrol-history-button').setAttribute('aria-expanded', 'false');
    if (!feature) return;
    const p = feature.properties;
    setHtml(box.querySelector('.patrol-open-meta'), html`Team ${p.team} · ${formatNumber(p.area_km2)} km²${
      p.route ? ` · route with ${formatNumber(p.buffer_m)} m buffer` : ''} · drawn by ${p.created_by}${
      p.archived_at ? html` · <span class="badge badge-archived">archived</span>` : ''}`);
    this.$('patrol-archive').textContent = p.archived_at ? 'Restore' : 'Archive';
    const period = this.summary.period ? `?${new URLSearchParams({ period: this.summary.period })}` : '';
    const links = EXPORTS.map(([ext, label]) => html`<a href="${apiUrl(areaUrl(feature.id, `/export.${ext}${period}`))}"
      data-format="${ext}" download>${label}</a>`);
    const separated = links.flatMap((link, i) => (i ? [' · ', link] : [link]));
    setHtml(box.querySelector('.patrol-exports span'), html`${separated}`);
  }

  startNew({ keepMessage = false } = {}) {
    this.current = null;
    this.dirty = false;
    this.quiet = true;
    this.drawing.clear();
    this.quiet = false;
    this.summary.clear();
    this.$('patrol-form').reset();
    this.renderOpen();
    if (!keepMessage) this.message('');
    this.refreshList();
  }

  async save() {
    const form = this.$('patrol-form');
    const name = form.name.value.trim();
    if (this.drawing.mode === 'drawing') this.drawing.finish();
    if (this.drawing.mode === 'editing') this.drawing.stopEditing();
    const shape = this.drawing.value();
    if (!name) {
      this.message('Give the area a name.', true);
      form.name.focus();
      return;
    }
    if (!this.current && !shape) {
      this.message('Draw an area or a route on the map first (or adopt a suggested area).', true);
      return;
    }
    const body = { name, date_from: form.date_from.value || null, date_to: form.date_to.value || null,
      notes: form.notes.value };
    if (shape && (!this.current || this.dirty)) Object.assign(body, shape);
    const button = this.$('patrol-save');
    button.disabled = true;
    try {
      const saved = this.current ? await sendJSON('PATCH', areaUrl(this.current.id), body)
        : await sendJSON('POST', API, body);
      const created = !this.current;
      this.current = saved;
      this.dirty = false;
      this.renderOpen();
      await this.refreshList(); // the list is up to date when the message says so
      this.message(`${created ? 'Saved' : 'Saved the changes to'} “${saved.properties.name}” for ${
        saved.properties.team}.`);
    } catch (error) {
      this.session.expired(error);
      this.message(`Not saved: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  async setArchived(feature, archived) {
    if (!feature) return;
    try {
      const answer = archived ? await sendJSON('DELETE', areaUrl(feature.id))
        : await sendJSON('PATCH', areaUrl(feature.id), { archived: false });
      if (this.current?.id === answer.id) {
        this.current = answer;
        this.renderOpen();
      }
      await this.refreshList();
      this.message(archived ? `Archived “${answer.properties.name}”: it is kept, and “Restore” brings it back.`
        : `Restored “${answer.properties.name}”.`);
    } catch (error) {
      this.session.expired(error);
      this.message(`Could not ${archived ? 'archive' : 'restore'} the area: ${error.message}`, true);
    }
  }

  async toggleHistory() {
    const list = this.$('patrol-history');
    const button = this.$('patrol-history-button');
    if (!list.hidden) {
      list.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const answer = await getJSON(areaUrl(this.current.id, '/history'));
      setHtml(list, html`${answer.history.map(historyItem)}`);
      list.hidden = false;
      button.setAttribute('aria-expanded', 'true');
    } catch (error) {
      this.session.expired(error);
      this.message(`Could not load the history: ${error.message}`, true);
    }
  }

  // --- suggestions ----------------------------------------------------------------------------------------------

  async suggest() {
    const settings = {};
    for (const key of Object.keys(SUGGEST_DEFAULTS)) {
      settings[key] = Number(this.$(`suggest-${key.replace('_', '-')}`).value) || SUGGEST_DEFAULTS[key];
    }
    const { metric, period } = this.source();
    const layer = this.$('suggest-source').value;
    const query = new URLSearchParams(periodQuery(period).slice(1));
    const source = layer ? { layer, from: query.get('from'), to: query.get('to') } : { metric, period };
    const button = this.$('suggest-run');
    button.disabled = true;
    setHtml(this.$('suggest-list'), html`<li class="empty">Looking for clusters…</li>`);
    try {
      const answer = await this.suggestions.load(settings, source);
      this.announce(`${answer.features.length} suggested ${answer.features.length === 1 ? 'area' : 'areas'}.`);
    } catch (error) {
      this.session.expired(error);
      setHtml(this.$('suggest-list'), html`<li class="empty error">Could not suggest areas: ${error.message}</li>`);
    } finally {
      button.disabled = false;
    }
  }

  async adopt(feature) {
    this.startNew({ keepMessage: true });
    this.$('patrol-name').value = feature.properties.name;
    await this.drawing.show(feature.geometry, { fit: true });
    this.message(`Adopted “${feature.properties.name}”: edit its vertices, name and dates, then save it.`);
    this.$('patrol-name').focus();
  }
}
