/* District Safety Map, planner page: colours districts or municipalities by one metric.
 *
 * The classes and colours come from the server (the table and the bar chart use the same), so
 * this file only looks a value up. Unknown values get the hatch pattern defined in the page,
 * never the colour of zero. Data values reach the page only through textContent.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  var el = DSM.el;
  var escapeText = DSM.escapeText;

  function fillOf(cfg, value) {
    var classes = cfg.classes;
    if (cfg.metric.kind === "category") {
      for (var i = 0; i < classes.length; i++) {
        if (classes[i].value === (value === undefined ? null : value)) return classes[i].colour;
      }
      return cfg.hatch;
    }
    if (value === null || value === undefined) return cfg.hatch;
    for (var j = 0; j < classes.length; j++) {
      if (value <= classes[j].upper) return classes[j].colour;
    }
    return classes.length ? classes[classes.length - 1].colour : cfg.hatch;
  }

  function formatValue(cfg, value) {
    if (value === null || value === undefined) {
      if (cfg.metric.kind !== "category") return null;
    }
    if (cfg.metric.kind === "category") {
      var label = cfg.labels[String(value)];
      return label === undefined ? String(value) : label;
    }
    var number = value * (cfg.metric.scale || 1);
    var locale = cfg.lang === "en" ? "en-GB" : "de-DE";
    if (cfg.metric.kind === "share") return Math.round(number) + " %";
    var text = number.toLocaleString(locale, { maximumFractionDigits: Math.abs(number) < 100 ? 2 : 0 });
    return cfg.metric.unit ? text + " " + cfg.metric.unit : text;
  }

  // A gap score with unknown criteria is a lower bound (planner/gaps.py): "at least 0".
  function shownValue(cfg, p) {
    var text = formatValue(cfg, p[cfg.metric.id]);
    if (text !== null && cfg.metric.id === "gap_score" && p.gap_complete === false) {
      text = cfg.t.at_least + " " + text;
    }
    return text;
  }

  function popup(cfg, p) {
    var b = DSM.popupBox(p.name, null);
    function row(label, value) {
      DSM.row(b.dl, label, value === undefined ? null : value, cfg.t.unknown);
    }
    row(cfg.metric.label, shownValue(cfg, p));
    var locale = cfg.lang === "en" ? "en-GB" : "de-DE";
    var score = (p.gap_complete === false ? cfg.t.at_least + " " : "") +
      (p.gap_score === null ? "" : p.gap_score.toLocaleString(locale, { maximumFractionDigits: 2 }));
    row(cfg.t.rank, p.gap_rank === null ? null : p.gap_rank + " (" + cfg.t.score + " " + score + ")");
    function reasons(items) {
      if (!items || !items.length) return "–";
      var ul = el("ul");
      items.forEach(function (item) { ul.appendChild(el("li", item[cfg.lang] || item.de)); });
      return ul;
    }
    row(cfg.t.misses, reasons(p.gap_misses));
    if (p.gap_unknown && p.gap_unknown.length) row(cfg.t.unknown_criteria, reasons(p.gap_unknown));
    return b.box;
  }

  DSM.planner = function (map, cfg) {
    window.mapReady = false;
    window.dsmCounts = {};
    window.dsmFills = {};
    var status = document.getElementById(cfg.statusId);
    // static/js/dsm-core.js; the planner credits many sources: folded behind "©" at any width.
    if (DSM.a11y) DSM.a11y(map, { attributionLabel: cfg.t.sources, foldAttribution: true });
    if (DSM.basemap) DSM.basemap(map, cfg.basemap);  // static/js/dsm-basemap.js
    if (cfg.context) DSM.context(map, cfg.context);
    // Each source's credit; one in another language than the page's is marked (WCAG 3.1.2).
    cfg.attributions.forEach(function (credit) {
      var html = escapeText(credit.text);
      if (credit.lang !== cfg.lang) html = '<span lang="' + escapeText(credit.lang) + '">' + html + "</span>";
      map.attributionControl.addAttribution(html);
    });
    var byId = {};
    // A Land's municipalities come simplified for the zoom (maps/simplify.py), finer ones as
    // the reader zooms in; a city's districts as they are.
    var data = cfg.levels ?
      DSM.levelled(map, cfg.url, "municipalities", function (fc) { DSM.refine(byId, fc); }) :
      fetch(cfg.url, { headers: { Accept: "application/geo+json" }, credentials: "omit" })
        .then(function (r) {
          if (!r.ok) throw new Error(cfg.url + ": HTTP " + r.status);
          return r.json();
        });
    data
      .then(function (fc) {
        var n = 0;
        var layer = L.geoJSON(fc, {
          style: function (feature) {
            var value = feature.properties[cfg.metric.id];
            var fill = fillOf(cfg, value);
            window.dsmFills[feature.id] = fill;
            var unknown = fill === cfg.hatch;
            return { color: unknown ? "#616161" : "#37474f", weight: unknown ? 1 : 0.8,
                     dashArray: unknown ? "4 3" : null, fillColor: fill, fillOpacity: unknown ? 1 : 0.75 };
          },
          onEachFeature: function (feature, lyr) {
            n += 1;
            byId[feature.id] = lyr;
            var p = feature.properties;
            // Made when first opened: a Land's 849 popups built up front held up its first view.
            lyr.bindTooltip(function () {
              var shown = shownValue(cfg, p);
              return el("span", (p.name || "") + ": " + (shown === null ? cfg.t.unknown : shown));
            }, { sticky: true });
            lyr.bindPopup(function () { return popup(cfg, p); }, { maxWidth: 340 });
          }
        }).addTo(map);
        window.dsmCounts.choropleth = n;
        window.dsmLayer = layer;  // for tests and assistive scripts
        // The table's "show on map" buttons: keyboard users reach every area this way. The
        // page runs this script before the table, which may still be being read.
        function wireButtons() {
          Array.prototype.forEach.call(document.querySelectorAll("button[data-fid]"), function (button) {
            var lyr = byId[button.getAttribute("data-fid")];
            if (!lyr) return;
            button.hidden = false;
            button.addEventListener("click", function () {
              // Without animation: a popup opened during the zoom was panned into view for
              // the old view and ended up cut off at the map's top edge.
              map.fitBounds(lyr.getBounds(), { maxZoom: 14, animate: false });
              lyr.openPopup(lyr.getBounds().getCenter());
              document.getElementById(cfg.mapId).scrollIntoView({ block: "nearest" });
            });
          });
        }
        if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireButtons);
        else wireButtons();
        if (!cfg.fitted && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
        if (status) status.textContent = "";
        window.mapReady = true;
      })
      .catch(function (err) {
        if (status) status.textContent = cfg.t.load_error;
        window.mapError = String(err);
        window.mapReady = true;
        if (window.console) console.error(err);
      });
  };
})();
