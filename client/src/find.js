// Find an area of the current layer by name or ONS code (or cluster number) and zoom to it.
const normalise = (text) => text.trim().toLowerCase().replace(/\s+/g, ' ');

export function matchArea(features, query) {
  const q = normalise(query).replace(/\s*\((.*)\)$/, ''); // "Name (E05…)" as offered by the list
  if (!q) return null;
  const code = (f) => normalise(String(f.properties.code));
  const name = (f) => normalise(f.properties.name);
  const tests = [
    (f) => code(f) === q, (f) => name(f) === q, (f) => name(f).startsWith(q), (f) => name(f).includes(q),
    (f) => code(f).startsWith(q),
  ];
  for (const test of tests) {
    const found = features.find(test);
    if (found) return found;
  }
  return null;
}

export function setupFind({ form, input, list, features, focus, announce }) {
  const refresh = () => {
    list.replaceChildren();
    for (const f of features()) {
      const optionElement = document.createElement('option');
      const p = f.properties;
      optionElement.value = p.number !== undefined && p.members ? p.name : `${p.name} (${p.code})`;
      list.append(optionElement);
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const found = matchArea(features(), input.value);
    if (!found) {
      announce(`No area of this layer matches “${input.value.trim()}”. Try a ward name or an ONS code.`, 'error');
      return;
    }
    focus(found.properties.code);
    announce(`Zoomed to ${found.properties.name}.`, 'info');
  });
  return { refresh };
}
