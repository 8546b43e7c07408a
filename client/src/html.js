// Markup from templates, with every server string inserted as text. html`<b>${name}</b>` escapes each interpolated
// value (for element text and for quoted attribute values alike) unless the value is itself made by html`…`, so
// fragments nest; arrays are joined; null, undefined and false give nothing. Markup only reaches the page through
// setHtml() or htmlText(), which refuse plain strings: a string from the API can never be parsed as HTML by mistake.
//
// Attributes must be quoted in templates (class="${x}", never class=${x}). URLs built from server data are
// encodeURIComponent'ed where they are built. Inline style attributes are refused by the Content-Security-Policy
// (style-src 'self'), so a colour travels as data-fill="…" and setHtml() applies it through the CSSOM.

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };
const HEX_COLOUR = /^#[0-9a-f]{3,8}$/i;

class Markup {
  constructor(text) {
    this.text = text;
    Object.freeze(this);
  }

  toString() {
    return this.text;
  }
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

function piece(value) {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export function html(strings, ...values) {
  if (!Array.isArray(strings?.raw)) throw new TypeError('html is a template tag: html`<p>${text}</p>`');
  let text = strings[0];
  values.forEach((value, index) => { text += piece(value) + strings[index + 1]; });
  return new Markup(text);
}

// The HTML text of a fragment, for the Leaflet calls that take HTML strings (bindTooltip, bindPopup, divIcon).
export function htmlText(markup) {
  if (!(markup instanceof Markup)) throw new TypeError('expected markup made with html`…`, not a plain string');
  return markup.text;
}

// A colour for data-fill: a hex colour as the API sends them, else the fallback (never arbitrary CSS).
export function cssColour(value, fallback = 'transparent') {
  return HEX_COLOUR.test(String(value)) ? value : fallback;
}

function applyFills(root) {
  for (const element of root.querySelectorAll('[data-fill]')) element.style.background = element.dataset.fill;
}

export function setHtml(element, markup) {
  element.innerHTML = htmlText(markup);
  applyFills(element);
  return element;
}
