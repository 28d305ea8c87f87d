// Leaflet's built-in control texts ("Zoom in", "Close popup", "Layers") in the page language.
// Loaded right after leaflet.js, before any map exists; the texts come from i18n.LEAFLET_TEXT
// through the JSON block #dsm-leaflet-text, read when the first control is built.
(function () {
  "use strict";
  if (!window.L) return;
  var cache = null;
  function text() {
    if (cache === null) {
      var el = document.getElementById("dsm-leaflet-text");
      try { cache = el ? JSON.parse(el.textContent) : {}; } catch (e) { cache = {}; }
    }
    return cache;
  }

  var zoomAdd = L.Control.Zoom.prototype.onAdd;
  L.Control.Zoom.prototype.onAdd = function (map) {
    var t = text();
    if (t.zoom_in && this.options.zoomInTitle === "Zoom in") this.options.zoomInTitle = t.zoom_in;
    if (t.zoom_out && this.options.zoomOutTitle === "Zoom out") this.options.zoomOutTitle = t.zoom_out;
    return zoomAdd.call(this, map);
  };

  var popupLayout = L.Popup.prototype._initLayout;
  L.Popup.prototype._initLayout = function () {
    popupLayout.call(this);
    var t = text();
    if (this._closeButton && t.close_popup) {
      this._closeButton.setAttribute("aria-label", t.close_popup);
      this._closeButton.title = t.close_popup;
    }
  };

  var layersLayout = L.Control.Layers.prototype._initLayout;
  L.Control.Layers.prototype._initLayout = function () {
    layersLayout.call(this);
    var t = text();
    if (this._layersLink && t.layers) {
      this._layersLink.title = t.layers;
      this._layersLink.setAttribute("aria-label", t.layers);
    }
  };

  if (L.Control.Locate) {
    var locateInit = L.Control.Locate.prototype.initialize;
    L.Control.Locate.prototype.initialize = function (options) {
      var t = text();
      var strings = { metersUnit: t.metres, popup: t.locate_popup, outsideMapBoundsMsg: t.outside_map };
      options = L.extend({}, options || {});
      options.strings = L.extend(strings, options.strings || {});
      return locateInit.call(this, options);
    };
  }
})();
