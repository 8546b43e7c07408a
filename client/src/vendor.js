// Libraries that are only needed later (heat map, marker clusters) are loaded on first use.
const loaded = new Map();

export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(script);
    }));
  }
  return loaded.get(src);
}

export function loadStyle(href) {
  if (!loaded.has(href)) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    document.head.append(link);
    loaded.set(href, Promise.resolve());
  }
  return loaded.get(href);
}
