/* District Safety Map: the basemap under a map, as the server configured it (maps/basemap.py).
 *
 * DSM.basemap(map, cfg):
 *  - cfg.kind "pmtiles": the service's own vector-tile archive, drawn by protomaps-leaflet,
 *    which reads it with HTTP Range requests from the service's own origin;
 *  - cfg.kind "tiles": raster tiles from the service's own origin;
 *  - cfg.kind "external": raster tiles from another host, only after the reader's consent
 *    (two-click): the notice cfg.noticeId names the host and says that the reader's IP address
 *    goes there; nothing is requested from that host before its button is pressed. The choice
 *    lives in a variable of this page only (no cookie, no storage): one click loads the
 *    basemap of every map of the page, and a reload asks again.
 *  - no cfg: no basemap; the map, its data and its list work without one.
 * A failing basemap never stops the map: its data layers do not depend on it.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  var consented = false;
  var waiting = []; // maps whose notice is shown: {map, cfg, notice}

  // For tests and assistive scripts: what each map got ("pmtiles", "tiles", "waiting", "external").
  window.dsmBasemaps = window.dsmBasemaps || [];

  function record(map, state, layer) {
    if (!map._dsmBasemap) {
      map._dsmBasemap = {};
      window.dsmBasemaps.push(map._dsmBasemap);
    }
    map._dsmBasemap.state = state;
    map._dsmBasemap.layer = layer || null;
  }

  function addRaster(map, cfg) {
    return L.tileLayer(cfg.url, { attribution: cfg.attribution, maxZoom: cfg.maxZoom }).addTo(map);
  }

  function addPmtiles(map, cfg) {
    if (typeof protomapsL === "undefined") return null;
    return protomapsL.leafletLayer({
      url: cfg.url,
      flavor: cfg.flavor,
      lang: cfg.lang,
      attribution: cfg.attribution,
      // Beyond the archive's last level the layer over-zooms it instead of asking for tiles
      // the archive does not have.
      maxDataZoom: cfg.maxDataZoom
    }).addTo(map);
  }

  function loadAll() {
    consented = true;
    var pending = waiting;
    waiting = [];
    pending.forEach(function (entry) {
      if (entry.notice.parentNode) entry.notice.parentNode.removeChild(entry.notice);
      var layer = addRaster(entry.map, entry.cfg);
      record(entry.map, "external", layer);
    });
  }

  function showNotice(map, cfg) {
    var notice = cfg.noticeId ? document.getElementById(cfg.noticeId) : null;
    if (!notice) {
      // No notice to ask with: then nothing is loaded from the other host.
      record(map, "waiting");
      return;
    }
    var container = map.getContainer();
    container.appendChild(notice);
    // Clicks, keys and the wheel on the notice are the notice's, not the map's (the finder's
    // map would otherwise take a click on the button for a chosen point).
    L.DomEvent.disableClickPropagation(notice);
    L.DomEvent.disableScrollPropagation(notice);
    L.DomEvent.on(notice, "keydown keypress keyup", L.DomEvent.stopPropagation);
    notice.hidden = false;
    waiting.push({ map: map, cfg: cfg, notice: notice });
    record(map, "waiting");
    var load = notice.querySelector(".dsm-consent-load");
    var close = notice.querySelector(".dsm-consent-close");
    if (load) {
      load.addEventListener("click", function () {
        loadAll();
        container.focus();
      });
    }
    if (close) {
      close.addEventListener("click", function () {
        notice.hidden = true;
        container.focus();
      });
    }
  }

  DSM.basemap = function (map, cfg) {
    if (!cfg) return;
    try {
      if (cfg.maxZoom) map.setMaxZoom(cfg.maxZoom);
      if (cfg.kind === "pmtiles") {
        record(map, "pmtiles", addPmtiles(map, cfg));
      } else if (cfg.kind === "tiles") {
        record(map, "tiles", addRaster(map, cfg));
      } else if (cfg.kind === "external") {
        if (consented) record(map, "external", addRaster(map, cfg));
        else showNotice(map, cfg);
      }
    } catch (err) {
      if (window.console) console.error(err);
    }
  };
})();
