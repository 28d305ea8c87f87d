/* Citizen finder enhancements: "use my location" and a map to click on or to show the result.
 * The page works without this file; everything here only fills and submits the plain forms.
 * Values from the server arrive in data- attributes and are only ever used as text. */
(function () {
  "use strict";
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
  // The page's words for what this file writes (i18n.FINDER_TEXT, a data block, never run).
  var textsNode = document.getElementById("finder-texts");
  var words = textsNode ? JSON.parse(textsNode.textContent) : {};

  function submitPoint(lat, lon) {
    document.getElementById("lat").value = lat.toFixed(6);
    document.getElementById("lon").value = lon.toFixed(6);
    document.getElementById("point-form").submit();
  }

  var locate = document.getElementById("use-location");
  if (locate) {
    if (!navigator.geolocation) {
      locate.disabled = true;
    } else {
      locate.addEventListener("click", function () {
        var status = document.getElementById("location-status");
        status.textContent = words.locating || "";
        navigator.geolocation.getCurrentPosition(function (pos) {
          submitPoint(pos.coords.latitude, pos.coords.longitude);
        }, function (err) {
          status.textContent = (words.no_location || "") + " " + (words["error_" + err.code] || "");
        }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  var box = document.getElementById("finder-map");
  if (!box || typeof L === "undefined") return;
  var configNode = document.getElementById("finder-map-config");
  var cfg = configNode ? JSON.parse(configNode.textContent) : {};
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false, maxZoom: 19 });
  // Role, name, popup focus and Escape as on every map (static/js/dsm-core.js).
  if (DSM.a11y) DSM.a11y(map, {});
  // The basemap as configured (static/js/dsm-basemap.js; a data block, never run).
  var basemapNode = document.getElementById("finder-basemap");
  if (basemapNode && DSM.basemap) DSM.basemap(map, JSON.parse(basemapNode.textContent));
  // Outlines and names of municipalities and districts: orientation with or without a basemap.
  if (cfg.context) DSM.context(map, cfg.context);
  if (box.dataset.pick) {
    if (cfg.bounds) map.fitBounds(cfg.bounds);
    else map.setView([51.0, 11.5], 8);
    map.on("click", function (e) { submitPoint(e.latlng.lat, e.latlng.lng); });
    window.finderReady = true;
    return;
  }
  var point = JSON.parse(box.dataset.point);
  var offices = JSON.parse(box.dataset.offices);
  var bounds = L.latLngBounds([[point.lat, point.lon]]);
  var colour = (cfg.symbols && cfg.symbols.finderPoint) || "#c62828";
  L.circleMarker([point.lat, point.lon], { radius: 8, color: colour, weight: 3 }).addTo(map)
    .bindTooltip(document.createTextNode(words.your_point || ""));
  var markers = [];
  offices.forEach(function (o) {
    if (!o.location) return;
    var ll = [o.location.lat, o.location.lon];
    bounds.extend(ll);
    var sym = (cfg.symbols && (cfg.symbols.office[o.kind] || cfg.symbols.officeUnknown)) || { letter: "?", colour: "#555" };
    var approximate = ["street", "district", "municipality"].indexOf(o.location_precision) >= 0;
    var m = DSM.marker(ll, DSM.letterIcon(sym.letter, sym.colour, { approximate: approximate }), o.name).addTo(map);
    m.bindTooltip(DSM.el("span", o.name));
    markers.push(m);
  });
  // With offices: all of them in view. Without (nothing within the radius): the point at a
  // zoom that shows the district and town around it, not a blank close-up of one street.
  if (markers.length) map.fitBounds(bounds.pad(0.2), { maxZoom: 16 });
  else map.setView([point.lat, point.lon], 13);
  // Two offices in one building (Jena-Lobeda) must both stay visible and clickable.
  DSM.spread(map, markers);
  map.on("click", function (e) { submitPoint(e.latlng.lat, e.latlng.lng); });
  window.finderReady = true;
})();
