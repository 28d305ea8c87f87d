/* District Safety Map: letter markers and spreading of markers that cover each other.
 *
 * The symbols (letters, colours) come from the server (maps/symbols.py), the same tables the
 * legend is made from, so a marker and its legend entry cannot disagree.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  // Icons are 26 px wide: centres closer than this cover part of each other's letter.
  var SPREAD_PX = 30;

  DSM.letterIcon = function (letter, colour, opts) {
    opts = opts || {};
    var cls = "dsm-icon" + (opts.approximate ? " dsm-icon-approx" : "") + (opts.square ? " dsm-icon-camera" : "");
    var span = DSM.el("span", letter, cls);
    span.style.background = colour;
    span.setAttribute("aria-hidden", "true");
    return L.divIcon({ html: span, className: "dsm-marker", iconSize: [26, 26], iconAnchor: [13, 13],
                       popupAnchor: [0, -12], tooltipAnchor: [12, 0] });
  };

  DSM.marker = function (latlng, icon, title) {
    // keyboard: true makes the marker focusable; Enter opens its popup.
    return L.marker(latlng, { icon: icon, keyboard: true, title: String(title || ""), alt: String(title || ""),
                              riseOnHover: true });
  };

  // Groups of markers whose icons overlap at the current zoom (connected: A near B near C is one group).
  function overlapping(points) {
    var parent = points.map(function (_, i) { return i; });
    function root(i) { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; }
    for (var i = 0; i < points.length; i++) {
      for (var j = i + 1; j < points.length; j++) {
        if (points[i].distanceTo(points[j]) < SPREAD_PX) parent[root(i)] = root(j);
      }
    }
    var groups = {};
    points.forEach(function (_, k) { (groups[root(k)] = groups[root(k)] || []).push(k); });
    return Object.keys(groups).map(function (key) { return groups[key]; });
  }

  /* Spread markers that would cover each other on a ring around their common centre, with a thin
   * line and a dot at each marker's true place, so every one can be seen and clicked. Laid out
   * again after every zoom, so markers sit at their true place once they no longer overlap. */
  DSM.spread = function (map, markers) {
    var lines = L.layerGroup().addTo(map);
    markers.forEach(function (m) { m.dsmHome = m.dsmHome || m.getLatLng(); });
    function layout() {
      lines.clearLayers();
      var shown = markers.filter(function (m) { return map.hasLayer(m); });
      var points = shown.map(function (m) { return map.latLngToLayerPoint(m.dsmHome); });
      overlapping(points).forEach(function (group) {
        if (group.length === 1) {
          shown[group[0]].setLatLng(shown[group[0]].dsmHome);
          return;
        }
        var centre = L.point(0, 0);
        group.forEach(function (k) { centre = centre.add(points[k]); });
        centre = centre.divideBy(group.length);
        // Neighbours on the ring are SPREAD_PX apart: chord 2 r sin(pi / n) = SPREAD_PX.
        var radius = SPREAD_PX / (2 * Math.sin(Math.PI / group.length));
        group.forEach(function (k, n) {
          var angle = -Math.PI / 2 + (2 * Math.PI * n) / group.length;
          var spot = map.layerPointToLatLng(centre.add(L.point(Math.cos(angle) * radius, Math.sin(angle) * radius)));
          var m = shown[k];
          m.setLatLng(spot);
          L.polyline([m.dsmHome, spot], { color: "#333", weight: 1, interactive: false }).addTo(lines);
          L.circleMarker(m.dsmHome, { radius: 2, color: "#333", weight: 1, fillOpacity: 1, interactive: false })
            .addTo(lines);
        });
      });
    }
    map.on("zoomend overlayadd overlayremove", layout);
    layout();
    return layout;
  };
})();
