// A small state store: one frozen object, changed by patches, with subscribers told only about the keys that
// changed. The page's parts (the address, the layers, the legend, the table, the controls…) each subscribe to what
// they draw from, so none of them has to be told by hand when something else changes the state.
//
//   const store = createStore({ a: 1, b: [] });
//   const stop = store.subscribe(['a'], (state, previous, changed) => …);   // or subscribe(null, …): any key
//   store.set({ a: 2 });            // calls the listener; returns what the listeners returned (await the promises)
//   store.update((s) => ({ a: s.a + 1 }));
//   stop();

const isPlain = (value) => value !== null && typeof value === 'object'
  && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype);

// Arrays and plain objects compare by content (a new list of the same ids is no change); anything else (Maps,
// Leaflet layers, class instances) by identity.
export function equal(a, b) {
  if (Object.is(a, b)) return true;
  if (!isPlain(a) || !isPlain(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]));
}

export function createStore(initial = {}) {
  let state = Object.freeze({ ...initial });
  const listeners = new Set();

  function set(patch) {
    const changed = Object.keys(patch).filter((key) => !equal(state[key], patch[key]));
    if (!changed.length) return [];
    const previous = state;
    state = Object.freeze({ ...state, ...Object.fromEntries(changed.map((key) => [key, patch[key]])) });
    const results = [];
    let failure = null;
    for (const entry of [...listeners]) {
      if (!listeners.has(entry) || (entry.keys && !changed.some((key) => entry.keys.includes(key)))) continue;
      try {
        results.push(entry.listener(state, previous, changed));
      } catch (error) {
        failure = failure || error; // the other listeners still hear of the change
      }
    }
    if (failure) throw failure;
    return results;
  }

  return {
    get: () => state,
    set,
    update: (change) => set(change(state)),
    // keys: the keys to hear about (null: all); returns the function that unsubscribes.
    subscribe(keys, listener) {
      const entry = { keys: keys ? [...keys] : null, listener };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
  };
}
