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
})();
