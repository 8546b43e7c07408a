// The aria-live status line: loading, empty results, errors (with the API's message) and notices. A notice can be
// dismissible: a close button beside the text (the text itself stays the element's whole textContent).
const element = () => document.getElementById('status');
let loadingCount = 0;
let onDismiss = null;

function parts(status) {
  let text = status.querySelector('.status-text');
  if (!text) {
    text = document.createElement('span');
    text.className = 'status-text';
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'status-close';
    close.setAttribute('aria-label', 'Dismiss this notice');
    close.title = 'Dismiss';
    close.hidden = true;
    close.addEventListener('click', () => { if (onDismiss) onDismiss(); });
    status.replaceChildren(text, close);
  }
  return { text, close: status.querySelector('.status-close') };
}

export function showStatus(text, kind = 'info', { onDismiss: dismiss = null } = {}) {
  const status = element();
  if (!status) return;
  const { text: textElement, close } = parts(status);
  textElement.textContent = text;
  status.dataset.kind = text ? kind : '';
  status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  onDismiss = text ? (dismiss || (kind === 'info' ? clearStatus : null)) : null;
  close.hidden = !onDismiss;
}

export function clearStatus() {
  showStatus('', '');
}

// Run task while "Loading …" is shown; the caller shows the outcome.
export async function whileLoading(text, task) {
  loadingCount += 1;
  showStatus(text, 'loading');
  document.body.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } finally {
    loadingCount -= 1;
    if (loadingCount === 0) document.body.removeAttribute('aria-busy');
  }
}
