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
