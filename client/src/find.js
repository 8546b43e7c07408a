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

// A layer of more areas than this offers only the first SUGGESTIONS matches of what is typed, not every area.
const LIST_ALL_UP_TO = 1000;
const SUGGESTIONS = 50;

function fillList(list, shown) {
  list.replaceChildren();
  for (const f of shown) {
    const optionElement = document.createElement('option');
    const p = f.properties;
    optionElement.value = p.number !== undefined && p.members ? p.name : `${p.name} (${p.code})`;
    list.append(optionElement);
  }
}

export function setupFind({ form, input, list, features, focus, announce }) {
  const refresh = () => fillList(list, features().length <= LIST_ALL_UP_TO ? features() : []);
  input.addEventListener('input', () => {
    const all = features();
    if (all.length <= LIST_ALL_UP_TO) return;
    const q = normalise(input.value);
    fillList(list, q.length < 2 ? [] : all.filter((f) => normalise(f.properties.name).includes(q)
      || normalise(String(f.properties.code)).startsWith(q)).slice(0, SUGGESTIONS));
  });
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
