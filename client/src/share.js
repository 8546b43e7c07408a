// Share: the page URL holds the whole state; this copies it, and gives the <iframe> snippet of /embed.
import { escapeHtml } from './format.js';

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

export function embedSnippet(title) {
  const url = `${window.location.origin}/embed${window.location.search}`;
  return `<iframe src="${escapeHtml(url)}" title="${escapeHtml(title)}" width="800" height="600" `
    + 'style="border:0" loading="lazy"></iframe>';
}

export function setupShare({ linkField, embedField, copyLink, copyEmbed, title, announce }) {
  const refresh = () => {
    linkField.value = window.location.href;
    embedField.value = embedSnippet(title());
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
