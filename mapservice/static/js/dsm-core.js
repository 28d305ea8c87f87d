/* District Safety Map: the two helpers every map script uses to put data into the page.
 *
 * Data values only ever become text nodes: a name like <img src=x onerror=...> stays text.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  DSM.el = function (tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };

  // Leaflet's attribution control takes HTML: escape the text first.
  DSM.escapeText = function (text) {
    var div = document.createElement("div");
    div.textContent = String(text);
    return div.innerHTML;
  };

  // One fact of a popup as <dt>/<dd>; null or "" is shown as unknown, undefined is left out.
  DSM.row = function (dl, label, value, unknownText) {
    if (value === undefined) return;
    dl.appendChild(DSM.el("dt", label));
    var dd = DSM.el("dd");
    if (value === null || value === "") {
      dd.appendChild(DSM.el("span", unknownText, "dsm-unknown"));
    } else if (value instanceof Node) {
      dd.appendChild(value);
    } else {
      dd.textContent = String(value);
    }
    dl.appendChild(dd);
  };

  // TopoJSON (the simplified polygons of mapservice/maps/simplify.py: quantised, delta-encoded
  // arcs) → a GeoJSON FeatureCollection of the object `name`, for L.geoJSON.
  DSM.topoFeatures = function (topology, name) {
    var t = topology.transform;
    var arcs = topology.arcs.map(function (arc) {
      var x = 0, y = 0;
      return arc.map(function (d) {
        x += d[0];
        y += d[1];
        return [x * t.scale[0] + t.translate[0], y * t.scale[1] + t.translate[1]];
      });
    });
    function ring(ids) {
      var points = [];
      ids.forEach(function (i) {
        var arc = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
        // Each arc starts where the one before ended.
        for (var k = points.length ? 1 : 0; k < arc.length; k++) points.push(arc[k]);
      });
      return points;
    }
    function polygon(rings) { return rings.map(ring); }
    return {
      type: "FeatureCollection",
      features: topology.objects[name].geometries.map(function (g) {
        var geometry = g.type === "Polygon" ? { type: "Polygon", coordinates: polygon(g.arcs) } :
          g.type === "MultiPolygon" ? { type: "MultiPolygon", coordinates: g.arcs.map(polygon) } : null;
        return { type: "Feature", id: g.id, properties: g.properties, geometry: geometry };
      }).filter(function (f) { return f.geometry; })
    };
  };

  // Zoom levels the service simplifies polygons for (maps/simplify.py MIN_LEVEL, MAX_LEVEL).
  var LEVELS = [6, 12];

  /* Polygons from `url` (which takes zoom= and f=topojson): the level of the map's zoom first,
   * then, each time the reader zooms in further, a finer one, which `refine(fc)` puts in
   * place. Returns a promise of the first FeatureCollection. */
  DSM.levelled = function (map, url, name, refine) {
    var asked = 0;
    function level() {
      var zoom = map._loaded ? map.getZoom() : LEVELS[1];
      return Math.max(LEVELS[0], Math.min(LEVELS[1], Math.round(zoom)));
    }
    function get(z) {
      asked = z;
      var wanted = url + (url.indexOf("?") < 0 ? "?" : "&") + "f=topojson&zoom=" + z;
      return fetch(wanted, { headers: { Accept: "application/json" }, credentials: "omit" })
        .then(function (r) {
          if (!r.ok) throw new Error(wanted + ": HTTP " + r.status);
          return r.json();
        })
        .then(function (topology) { return DSM.topoFeatures(topology, name); });
    }
    map.on("zoomend", function () {
      var z = level();
      if (z <= asked) return;  // what is drawn is as fine as this zoom needs
      get(z).then(function (fc) { if (z === asked) refine(fc); })
        .catch(function (err) { if (window.console) console.error(err); });
    });
    return get(level());
  };

  // The finer outlines of `fc` into the polygons already drawn (by feature id in `byId`);
  // their styles, popups and tooltips stay.
  DSM.refine = function (byId, fc) {
    fc.features.forEach(function (f) {
      var lyr = byId[f.id];
      if (!lyr || !lyr.setLatLngs) return;
      lyr.setLatLngs(L.GeoJSON.coordsToLatLngs(f.geometry.coordinates, f.geometry.type === "Polygon" ? 1 : 2));
      lyr.feature.geometry = f.geometry;
    });
    window.dsmLevel = (window.dsmLevel || 0) + 1;  // for tests: how often finer outlines came
  };

  // A popup's frame: heading, optional subtitle, and the list its facts go into.
  DSM.popupBox = function (title, subtitle) {
    var box = DSM.el("div", null, "dsm-popup");
    box.appendChild(DSM.el("h3", title || ""));
    if (subtitle) box.appendChild(DSM.el("p", subtitle, "dsm-sub"));
    var dl = DSM.el("dl");
    box.appendChild(dl);
    return { box: box, dl: dl };
  };
})();

/* Keyboard and screen-reader use of every map (map pages, embeds, planner, finder).
 *
 * Chromium makes an SVG path a tab stop as soon as it has focus listeners, and Leaflet's
 * tooltips add them: 849 municipality polygons were 849 unnamed stops. Their facts are in the
 * table beside the map, so paths leave the tab order (tabindex -1); markers stay focusable.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});
  if (typeof L === "undefined") return;

  L.Path.addInitHook(function () {
    this.on("add", function () {
      var node = this.getElement && this.getElement();
      if (node) node.setAttribute("tabindex", "-1");
    });
  });
  // Room for the controls around the edge (zoom and fullscreen top left, layer switcher top
  // right, attribution bottom right): an opened popup is panned clear of them.
  L.Popup.mergeOptions({ autoPanPaddingTopLeft: L.point(52, 60), autoPanPaddingBottomRight: L.point(52, 40) });

  // Below this width the attribution hides behind a button and popups get narrower.
  var NARROW = 560;

  /* Give `map` a role and a short name, a live region that announces opened popups, focus
   * into an opened popup and back to what opened it, Escape to close, and on narrow maps an
   * attribution behind a button. opts: label (the map's short name), attributionLabel,
   * foldAttribution (behind its button at any width: the planner's many sources fill lines). */
  DSM.a11y = function (map, opts) {
    opts = opts || {};
    var container = map.getContainer();
    // The name goes on the focusable Leaflet container; a wrapper that carried it lets go of
    // it, so the map is one named region and not two.
    var wrapper = container.parentNode && container.parentNode.closest ? container.parentNode.closest("[role=region][aria-label]") : null;
    var label = opts.label || (wrapper && wrapper.getAttribute("aria-label")) || container.getAttribute("aria-label");
    if (wrapper && wrapper !== container) {
      wrapper.removeAttribute("role");
      wrapper.removeAttribute("aria-label");
    }
    container.setAttribute("role", "region");
    if (label) container.setAttribute("aria-label", label);

    var live = DSM.el("p", null, "dsm-live dsm-visually-hidden");
    live.setAttribute("aria-live", "polite");
    live.setAttribute("role", "status");
    container.parentNode.insertBefore(live, container.nextSibling);

    var openedFrom = null;
    map.on("popupopen", function (e) {
      var active = document.activeElement;
      var source = e.popup._source;
      var icon = source && source._icon;
      openedFrom = active && active !== document.body && !container.querySelector(".leaflet-popup-pane").contains(active) ? active : icon || null;
      // A popup fits between the controls: narrower on narrow maps, and never taller than the
      // map (it scrolls, and being focused it scrolls with the arrow keys).
      var size = map.getSize();
      var changed = false;
      if (size.x < NARROW && e.popup.options.maxWidth > size.x - 120) {
        e.popup.options.maxWidth = Math.max(140, size.x - 120);
        e.popup.options.minWidth = Math.min(e.popup.options.minWidth || 50, e.popup.options.maxWidth);
        changed = true;
      }
      var tallest = Math.max(120, size.y - 130);
      if (!e.popup.options.maxHeight || e.popup.options.maxHeight > tallest) {
        e.popup.options.maxHeight = tallest;
        changed = true;
      }
      if (changed) e.popup.update();
      var node = e.popup.getElement();
      var content = node && node.querySelector(".leaflet-popup-content");
      if (!content) return;
      content.setAttribute("tabindex", "-1");
      var heading = content.querySelector("h3");
      live.textContent = (heading || content).textContent;
      content.focus({ preventScroll: true });
    });
    map.on("popupclose", function (e) {
      var node = e.popup.getElement();
      var active = document.activeElement;
      var back = openedFrom;
      openedFrom = null;
      live.textContent = "";
      if (back && document.body.contains(back) &&
          (!active || active === document.body || (node && node.contains(active)))) {
        back.focus({ preventScroll: true });
      }
    });
    container.addEventListener("keydown", function (e) {
      if ((e.key === "Escape" || e.key === "Esc") && map._popup && map.hasLayer(map._popup)) {
        e.preventDefault();
        e.stopPropagation();
        map.closePopup();
      }
    });

    // Narrow maps: the attribution folds behind a button in its corner.
    var attribution = container.querySelector(".leaflet-control-attribution");
    if (attribution && opts.attributionLabel) {
      attribution.id = attribution.id || (container.id || "dsm-map") + "-attribution";
      var Toggle = L.Control.extend({
        options: { position: "bottomright" },
        onAdd: function () {
          var button = DSM.el("button", "©", "dsm-attr-toggle");
          button.type = "button";
          button.setAttribute("aria-label", opts.attributionLabel);
          button.title = opts.attributionLabel;
          button.setAttribute("aria-controls", attribution.id);
          button.setAttribute("aria-expanded", "false");
          L.DomEvent.disableClickPropagation(button);
          button.addEventListener("click", function () {
            var open = container.classList.toggle("dsm-attr-open");
            button.setAttribute("aria-expanded", open ? "true" : "false");
          });
          return button;
        }
      });
      new Toggle().addTo(map);
      if (opts.foldAttribution) container.classList.add("dsm-attr-folded");
      var measure = function () {
        container.classList.toggle("dsm-narrow", map.getSize().x < NARROW);
      };
      map.on("resize", measure);
      measure();
    }
  };
})();
