/* District Safety Map: orientation without a basemap.
 *
 * Every map draws the outlines and names of the municipalities and districts around the shown
 * area, read from the service's own OGC API with the view's bbox, so a citizen can see which
 * part of the city they are looking at or clicking. The outlines sit in their own pane below
 * the data and take no clicks, so popups and the finder's "click the map" work through them.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  // From which zoom a level is drawn and named: municipalities from 7 (Thuringia and Saxony
  // together fit at about 7), their names from 10, towns of 10,000 or more ("major") from 7;
  // a city's districts and their names from 11.
  // Names that would cover each other are left out, the larger town's name wins.
  var LEVELS = [
    { collection: "municipalities", style: "municipality", minZoom: 7, labelZoom: 10, majorZoom: 7 },
    { collection: "districts", style: "district", minZoom: 11, labelZoom: 11, majorZoom: 11 }
  ];

  // The bbox asked for is snapped outward to a grid of two tiles of the zoom, so that the
  // same view gives the same URL (browser and server caches hit) and small pans ask nothing.
  function snapped(bounds, zoom) {
    var cell = 720 / Math.pow(2, zoom);
    function down(v) { return Math.floor(v / cell) * cell; }
    function up(v) { return Math.ceil(v / cell) * cell; }
    return L.latLngBounds([Math.max(-90, down(bounds.getSouth())), Math.max(-180, down(bounds.getWest()))],
                          [Math.min(90, up(bounds.getNorth())), Math.min(180, up(bounds.getEast()))]);
  }

  function bboxParam(b) {
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return +v.toFixed(6); }).join(",");
  }

  /* opts: api (e.g. "/api"), styles (symbols.context), and show: per collection "all",
   * "names" (the map draws the outlines as data already) or "none" (it draws and names them). */
  DSM.context = function (map, opts) {
    var pane = map.getPane("dsm-context") || map.createPane("dsm-context");
    pane.style.zIndex = 350; // above tiles (200), below the data's overlay pane (400)
    pane.style.pointerEvents = "none";
    var labelPane = map.getPane("dsm-context-labels") || map.createPane("dsm-context-labels");
    labelPane.style.zIndex = 450;
    labelPane.style.pointerEvents = "none";
    var show = opts.show || {};
    var state = LEVELS.filter(function (level) { return show[level.collection] !== "none"; }).map(function (level) {
      return { level: level, group: L.layerGroup(), labels: L.layerGroup(), major: L.layerGroup(),
               loaded: null, zoom: null, url: null };
    });
    var info = (window.dsmContext = { requests: 0, ready: false });
    // For tests and assistive scripts: the names shown in the view now, and the outlines drawn.
    info.names = function () {
      var names = [];
      var view = map.getBounds();
      state.forEach(function (s) {
        [s.labels, s.major].forEach(function (g) {
          if (!map.hasLayer(g)) return;
          g.eachLayer(function (m) {
            if (!m.dsmHidden && view.contains(m.getLatLng())) names.push(m.options.icon.options.html.textContent);
          });
        });
      });
      return names;
    };
    info.outlines = function () {
      var n = 0;
      state.forEach(function (s) { if (map.hasLayer(s.group)) n += s.group.getLayers().length; });
      return n;
    };

    function draw(s, fc) {
      var style = opts.styles[s.level.style];
      var outline = show[s.level.collection] !== "names";
      s.group.clearLayers();
      s.labels.clearLayers();
      s.major.clearLayers();
      (fc.features || []).forEach(function (f) {
        if (outline && f.geometry) {
          L.geoJSON(f, { pane: "dsm-context", interactive: false,
            style: { color: style.color, weight: style.weight, dashArray: style.dash, fill: false } }).addTo(s.group);
        }
        var p = f.properties || {};
        if (!p.name || !p.label) return;
        var label = DSM.el("span", p.name, "dsm-context-label dsm-context-" + s.level.style);
        var m = L.marker([p.label[1], p.label[0]], {
          pane: "dsm-context-labels", interactive: false, keyboard: false,
          icon: L.divIcon({ html: label, className: "dsm-context-name", iconSize: null })
        });
        m.dsmRank = p.population || 0;
        m.addTo(p.major ? s.major : s.labels);
      });
    }

    // Hide names that would overlap a more important one (larger population first; the
    // municipalities' names before the districts'). Estimated boxes: no layout is forced.
    function declutter() {
      var placed = [];
      state.forEach(function (s, levelIndex) {
        var markers = [];
        [s.major, s.labels].forEach(function (g) { if (map.hasLayer(g)) markers = markers.concat(g.getLayers()); });
        markers.sort(function (a, b) { return b.dsmRank - a.dsmRank; });
        markers.forEach(function (m) {
          var text = m.options.icon.options.html.textContent;
          var half = L.point(text.length * (levelIndex === 0 ? 4 : 3.5) + 4, 9);
          var centre = map.latLngToContainerPoint(m.getLatLng());
          var box = L.bounds(centre.subtract(half), centre.add(half));
          var free = placed.every(function (other) { return !other.intersects(box); });
          m.options.icon.options.html.style.visibility = free ? "" : "hidden";
          m.dsmHidden = !free;
          if (free) placed.push(box);
        });
      });
    }

    function refresh() {
      var zoom = Math.round(map.getZoom());
      var view = map.getBounds();
      var pending = [];
      state.forEach(function (s) {
        var on = zoom >= s.level.minZoom;
        [s.group, s.labels, s.major].forEach(function (g) {
          var from = g === s.labels ? s.level.labelZoom : g === s.major ? s.level.majorZoom : s.level.minZoom;
          var want = zoom >= from;
          if (want && !map.hasLayer(g)) g.addTo(map);
          if (!want && map.hasLayer(g)) map.removeLayer(g);
        });
        if (!on || (s.zoom === zoom && s.loaded && s.loaded.contains(view))) return;
        var wanted = snapped(view.pad(0.25), zoom);
        // A map whose data are these polygons needs their names only; below the zoom of all
        // names, only the large towns' (a Land's 849 names were 137 kB of its first view).
        var namesOnly = show[s.level.collection] === "names";
        var url = opts.api + "/derived/outlines?layer=" + s.level.collection + "&zoom=" + zoom + "&bbox=" + bboxParam(wanted) +
          (namesOnly ? "&outlines=false" + (zoom < s.level.labelZoom ? "&major=true" : "") : "");
        if (url === s.url) return;
        s.url = url;
        info.requests += 1;
        pending.push(fetch(url, { headers: { Accept: "application/geo+json" }, credentials: "omit" })
          .then(function (r) { if (!r.ok) throw new Error(url + ": HTTP " + r.status); return r.json(); })
          .then(function (fc) {
            if (s.url !== url) return; // a newer view was asked for meanwhile
            s.loaded = wanted;
            s.zoom = zoom;
            draw(s, fc);
            declutter();
          })
          .catch(function (err) { if (window.console) console.error(err); }));
      });
      info.ready = false;
      declutter();
      Promise.all(pending).then(function () { info.ready = true; });
    }

    var timer = null;
    map.on("moveend", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
    map.whenReady(refresh);
  };
})();
