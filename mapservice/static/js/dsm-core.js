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
