// The notices of the status line, one slot per source (adjust, layer, hotspots, extras, basemap), kept in a store:
// whatever sets a slot, the line shows the errors if there are any, else every notice. Info notices can be
// dismissed at once; errors stay until what failed works again.
import { clearStatus, showStatus } from './status.js';
import { createStore } from './store.js';

const NOTICE_SECONDS = 12; // a passing notice (the basemap's) hides itself after this

export function createNotices() {
  const notices = createStore({ adjust: null, layer: null, hotspots: null, extras: null, basemap: null });

  function render() {
    const all = Object.values(notices.get()).filter(Boolean);
    const errors = all.filter((n) => n.kind === 'error');
    const shown = errors.length ? errors : all;
    if (!shown.length) clearStatus();
    else {
      showStatus(shown.map((n) => n.text).join(' '), errors.length ? 'error' : 'info',
        { onDismiss: errors.length ? null : dismiss });
    }
  }

  function dismiss() {
    const info = Object.entries(notices.get()).filter(([, n]) => n?.kind === 'info');
    notices.set(Object.fromEntries(info.map(([key]) => [key, null])));
  }

  // A notice that goes by itself (unless replaced meanwhile).
  function passing(key, text) {
    const notice = { text, kind: 'info' };
    notices.set({ [key]: notice });
    setTimeout(() => { if (notices.get()[key] === notice) notices.set({ [key]: null }); }, NOTICE_SECONDS * 1000);
  }

  notices.subscribe(null, render);
  // render: to show the notices again after a loading message took the line
  return { ...notices, render, passing };
}
