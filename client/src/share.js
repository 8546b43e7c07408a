// Share: the page URL holds the whole state; this copies it, gives the <iframe> snippet of /embed, and lists the
// downloads (GIS files and static map) of the same state. Hotspot layers are left out of the embed address: the
// embed view never shows them.
import { renderDownloads } from './downloads.js';
import { html, htmlText } from './html.js';
import { base } from './partnership.js';

async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    field.focus();
    field.select(); // clipboard needs https or localhost; the selected text can be copied by hand
    return false;
  }
}

export function embedUrl() {
  const query = new URLSearchParams(window.location.search);
  query.delete('extra');
  return `${window.location.origin}${base}/embed?${query.toString().replace(/%2F/g, '/').replace(/%2C/g, ',')}`;
}

// HTML for the report's page, shown as text in the panel: the title and address are attribute-encoded.
export function embedSnippet(title) {
  const frame = html`width="800" height="600" style="border:0" loading="lazy"`;
  return htmlText(html`<iframe src="${embedUrl()}" title="${title}" ${frame}></iframe>`);
}

export function setupShare({ linkField, embedField, copyLink, copyEmbed, downloads, state, title, announce }) {
  const refresh = () => {
    linkField.value = window.location.href;
    embedField.value = embedSnippet(title());
    renderDownloads(downloads, state());
  };
  copyLink.addEventListener('click', async () => {
    refresh();
    announce(await copy(linkField.value, linkField) ? 'Link copied.' : 'Link selected: press Ctrl+C to copy.');
  });
  copyEmbed.addEventListener('click', async () => {
    refresh();
    announce(await copy(embedField.value, embedField) ? 'Embed code copied.'
      : 'Embed code selected: press Ctrl+C to copy.');
  });
  return { refresh };
}
