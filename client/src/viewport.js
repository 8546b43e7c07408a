// Fitting things to the screen: phone-sized windows, and popups that stay inside the map (never under the header,
// the legend or the screen's right edge) with the tapped place left visible beneath their tip.
export const PHONE_QUERY = '(max-width: 760px)';

export function isNarrow() {
  return window.matchMedia(PHONE_QUERY).matches;
}

// Leaflet popup options for the current window: at most `width` px wide, and never wider than the map less margins.
export function popupOptions({ width = 300, minWidth = 0, height = null } = {}) {
  const mapBox = document.getElementById('map')?.getBoundingClientRect();
  const mapWidth = mapBox?.width || window.innerWidth;
  const mapHeight = mapBox?.height || window.innerHeight;
  const fits = Math.max(160, Math.floor(mapWidth - 56)); // 20 px padding each side and the popup's own frame
  const maxWidth = Math.min(width, fits);
  const options = {
    maxWidth, minWidth: Math.min(minWidth, maxWidth), autoPan: true, keepInView: true,
    autoPanPaddingTopLeft: L.point(12, 12),
    autoPanPaddingBottomRight: L.point(12, bottomClearance()),
  };
  // On a small screen the popup takes at most about half the map's height and scrolls inside, so the area tapped
  // (under the popup's tip) and its surroundings stay in view.
  const limit = Math.floor(mapHeight * (isNarrow() ? 0.45 : 0.7));
  options.maxHeight = height ? Math.min(height, limit) : limit;
  return options;
}

// Room to keep free at the bottom of the map: the legend when it sits there (collapsed on a phone).
function bottomClearance() {
  const legend = document.getElementById('legend');
  const height = legend ? legend.getBoundingClientRect().height : 0;
  return Math.round(Math.min(height, 120) + 16);
}
