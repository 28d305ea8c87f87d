/* Citizen finder enhancements: "use my location" and a map to click on or to show the result.
 * The page works without this file; everything here only fills and submits the plain forms.
 * Values from the server arrive in data- attributes and are only ever used as text. */
(function () {
  "use strict";
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

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
        status.textContent = document.documentElement.lang === "en" ? "Locating …" : "Standort wird ermittelt …";
        navigator.geolocation.getCurrentPosition(function (pos) {
          submitPoint(pos.coords.latitude, pos.coords.longitude);
        }, function (err) {
          status.textContent = (document.documentElement.lang === "en" ? "No location: " : "Kein Standort: ") + err.message;
        }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  var box = document.getElementById("finder-map");
  if (!box || typeof L === "undefined") return;
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false, maxZoom: 19 });
  if (box.dataset.pick) {
    map.setView([50.927, 11.589], 12);
    map.on("click", function (e) { submitPoint(e.latlng.lat, e.latlng.lng); });
    window.finderReady = true;
    return;
  }
  var point = JSON.parse(box.dataset.point);
  var offices = JSON.parse(box.dataset.offices);
  var bounds = L.latLngBounds([[point.lat, point.lon]]);
  L.circleMarker([point.lat, point.lon], { radius: 8, color: "#c62828", weight: 3 }).addTo(map)
    .bindTooltip(document.createTextNode(document.documentElement.lang === "en" ? "Your point" : "Ihr Punkt"));
  offices.forEach(function (o) {
    if (!o.location) return;
    var ll = [o.location.lat, o.location.lon];
    bounds.extend(ll);
    var label = document.createElement("span");
    label.textContent = o.name;
    L.marker(ll, { title: String(o.name), alt: String(o.name), keyboard: true }).addTo(map).bindTooltip(label);
  });
  map.fitBounds(bounds.pad(0.2));
  map.on("click", function (e) { submitPoint(e.latlng.lat, e.latlng.lng); });
  window.finderReady = true;
})();
