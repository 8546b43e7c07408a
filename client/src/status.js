// The aria-live status line: loading, empty results, errors (with the API's message) and notices.
const element = () => document.getElementById('status');
let loadingCount = 0;

export function showStatus(text, kind = 'info') {
  const status = element();
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = text ? kind : '';
  status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
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
