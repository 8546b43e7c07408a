// Recording a hotspot point (e.g. a needle find) by clicking the map: offered only for the layers the signed-in
// user may write (the API's `access: "write"`). POST /api/hotspot-layers/{id}/points with lon/lat, observed date,
// count, category and notes; the API's message is shown when it refuses.
import { sendJSON } from './api.js';
import { html, htmlText } from './html.js';
import { popupOptions } from './viewport.js';

const ROUTE = '/api/hotspot-layers';

function today() {
  return new Date().toISOString().slice(0, 10);
}

function formHtml(layers, latlng) {
  const options = layers.map((l) => html`<option value="${l.id}">${l.title}</option>`);
  return html`<form class="capture-form" novalidate>
    <h2>New record</h2>
    <p class="small">at ${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)}</p>
    <label>Layer <select name="layer">${options}</select></label>
    <label>Observed <input name="observed" type="date" value="${today()}" required></label>
    <label>Count <input name="count" type="number" min="1" max="1000000" step="1" value="1" required></label>
    <label>Category <input name="category" maxlength="120"></label>
    <label>Notes <textarea name="notes" rows="2" maxlength="2000"></textarea></label>
    <p class="capture-error" role="alert"></p>
    <div class="capture-buttons"><button type="submit">Save record</button>
    <button type="button" name="cancel">Cancel</button></div></form>`;
}

export class HotspotCapture {
  // onSaved(layerId) is called after a record is stored, so the layer can be reloaded.
  constructor(map, announce, onSaved) {
    this.map = map;
    this.announce = announce;
    this.onSaved = onSaved;
    this.layers = [];
    this.armed = false;
    this.control = L.control({ position: 'topleft' });
    this.control.onAdd = () => this.button();
    this.onClick = (event) => this.openForm(event.latlng);
    this.onKey = (event) => { if (event.key === 'Escape' && this.armed) this.disarm(); };
  }

  button() {
    const box = L.DomUtil.create('div', 'leaflet-bar capture-control');
    const button = L.DomUtil.create('button', 'capture-button', box);
    button.type = 'button';
    button.textContent = 'Add record';
    button.setAttribute('aria-pressed', 'false');
    button.title = 'Record a find: then click the map where it was';
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.on(button, 'click', () => (this.armed ? this.disarm() : this.arm()));
    this.buttonElement = button;
    return box;
  }

  // Layers the user may write; none means the control goes away.
  setLayers(layers) {
    this.layers = layers.filter((l) => l.access === 'write');
    this.disarm();
    if (this.layers.length) this.control.addTo(this.map);
    else this.control.remove();
  }

  arm() {
    this.armed = true;
    this.buttonElement.setAttribute('aria-pressed', 'true');
    this.map.getContainer().classList.add('capturing');
    this.map.on('click', this.onClick);
    document.addEventListener('keydown', this.onKey);
    this.announce('Click the map where the record was found (Escape or the button again to stop).');
  }

  disarm() {
    this.armed = false;
    if (this.buttonElement) this.buttonElement.setAttribute('aria-pressed', 'false');
    this.map.getContainer().classList.remove('capturing');
    this.map.off('click', this.onClick);
    document.removeEventListener('keydown', this.onKey);
  }

  openForm(latlng) {
    this.disarm();
    const popup = L.popup({ ...popupOptions({ width: 280 }), className: 'capture-popup' }).setLatLng(latlng)
      .setContent(htmlText(formHtml(this.layers, latlng))).openOn(this.map);
    const form = popup.getElement().querySelector('form');
    form.querySelector('select').focus();
    form.elements.cancel.addEventListener('click', () => this.map.closePopup(popup));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(form, latlng, popup);
    });
  }

  async save(form, latlng, popup) {
    const count = form.elements.count;
    if (!count.checkValidity()) { // the API refuses it too; say so before sending
      form.querySelector('.capture-error').textContent = 'Count must be a whole number of at least 1.';
      count.setAttribute('aria-invalid', 'true');
      count.focus();
      return;
    }
    count.removeAttribute('aria-invalid');
    const layer = form.elements.layer.value;
    const body = { lon: Number(latlng.lng.toFixed(6)), lat: Number(latlng.lat.toFixed(6)),
      observed: form.elements.observed.value, count: Number(count.value),
      category: form.elements.category.value, notes: form.elements.notes.value };
    form.querySelector('button[type=submit]').disabled = true;
    try {
      await sendJSON('POST', `${ROUTE}/${encodeURIComponent(layer)}/points`, body);
    } catch (error) {
      form.querySelector('.capture-error').textContent = error.message;
      form.querySelector('button[type=submit]').disabled = false;
      return;
    }
    this.map.closePopup(popup);
    this.announce('Record saved.');
    this.onSaved(layer);
  }
}
