// The hover label of an area drawn from vector tiles (name, code, value), as the GeoJSON layer's tooltips show it.
// The area under the pointer is picked from the tiles already drawn (no request), at most once an animation frame,
// and not at all while the map pans or zooms: a pan or zoom frame does no extra work. Once the map settles, the area
// now under the resting pointer is labelled.
export class TileHover {
  // `pick(latlng)`: the label (HTML text) of the area there, or null.
  constructor(map, pick) {
    this.map = map;
    this.pick = pick;
    this.tooltip = L.tooltip({ className: 'area-label', direction: 'top', offset: [0, -8], opacity: 0.95 });
    this.point = null; // the pointer, in the map's container pixels
    this.shown = null;
    this.frame = 0;
    this.moving = false;
    const settled = () => {
      this.moving = false;
      if (this.point) this.schedule();
    };
    this.handlers = {
      mousemove: (event) => { this.point = event.containerPoint; this.schedule(); },
      mouseout: () => { this.point = null; this.hide(); },
      movestart: () => { this.moving = true; this.hide(); },
      zoomstart: () => { this.moving = true; this.hide(); },
      moveend: settled,
      popupopen: () => this.hide(),
    };
  }

  attach() {
    this.map.on(this.handlers);
  }

  detach() {
    this.map.off(this.handlers);
    this.point = null;
    this.hide();
  }

  schedule() {
    if (this.moving || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!this.moving && this.point) this.update(this.map.containerPointToLatLng(this.point));
    });
  }

  update(latlng) {
    const label = this.pick(latlng);
    if (label === null) {
      this.hide();
      return;
    }
    if (label !== this.shown) {
      this.tooltip.setContent(label);
      this.shown = label;
    }
    this.tooltip.setLatLng(latlng);
    if (!this.map.hasLayer(this.tooltip)) this.map.openTooltip(this.tooltip);
    this.map.getContainer().classList.add('area-hover');
  }

  hide() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.shown = null;
    if (this.map.hasLayer(this.tooltip)) this.map.closeTooltip(this.tooltip);
    this.map.getContainer().classList.remove('area-hover');
  }
}
