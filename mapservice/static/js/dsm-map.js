/* District Safety Map: loads the map's layers from the service's own /api and draws them.
 *
 * Every value from the data is put into the page with textContent or as a DOM node, never as
 * HTML, so a name like <img src=x onerror=...> stays text. Leaflet treats strings given to
 * bindPopup/bindTooltip/addAttribution as HTML, which is why only nodes are passed there.
 */
(function () {
  "use strict";

  var DSM = (window.DSM = window.DSM || {});

  var el = DSM.el;
  var escapeText = DSM.escapeText;

  // Colours and letters come from the server (cfg.symbols, maps/symbols.py): the legend is
  // made from the same tables.
  var APPROXIMATE = { street: true, district: true, municipality: true };
  // An OpenStreetMap opening_hours value in words, as mapservice/localize.py writes it on the
  // pages ("Mo 10–12 Uhr, Do 15–17 Uhr" / "Mon 10:00–12:00, Thu 15:00–17:00"); a value beyond
  // the simple "days times; days times" grammar keeps its form, with the day names translated.
  var OSM_DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
  var DAY_RE = "(?:Mo|Tu|We|Th|Fr|Sa|Su|PH)";
  var DAYS_RE = new RegExp("^" + DAY_RE + "(?:-" + DAY_RE + ")?(?:," + DAY_RE + "(?:-" + DAY_RE + ")?)*$");
  var SPAN_RE = /^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

  function dayNames(text, t) {
    var names = { PH: t.holiday };
    t.weekdays.split(" ").forEach(function (name, i) { names[OSM_DAYS[i]] = name; });
    return text.replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b/g, function (m) { return names[m]; }).replace(/-/g, "\u2013");
  }

  function clock(h, m, lang) {
    if (lang === "de") return String(h) + (m === 0 ? "" : ":" + (m < 10 ? "0" : "") + m);
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  function hoursRule(rule, t, lang) {
    var parts = rule.split(/\s+/);
    if (parts.length !== 2 || !DAYS_RE.test(parts[0])) return null;
    if (parts[1] === "off") return dayNames(parts[0], t) + " " + t.hours_closed;
    var spans = [];
    var ranges = parts[1].split(",");
    for (var i = 0; i < ranges.length; i++) {
      var m = SPAN_RE.exec(ranges[i]);
      if (!m) return null;
      spans.push(clock(+m[1], +m[2], lang) + "\u2013" + clock(+m[3], +m[4], lang));
    }
    return dayNames(parts[0], t) + " " + spans.join(" " + t.hours_and + " ") + t.hours_suffix;
  }

  function humanHours(expr, cfg) {
    var rules = String(expr).split(";").map(function (r) { return r.trim(); }).filter(Boolean);
    var words = rules.map(function (r) { return hoursRule(r, cfg.t, cfg.lang); });
    if (rules.length && words.every(function (w) { return w !== null; })) return words.join(", ");
    return dayNames(String(expr), cfg.t);
  }

  // A prose field in the page language (note: German, note_en: English), else the other
  // one in a span marked with its language.
  function prose(p, field, cfg) {
    var de = p[field], en = p[field + "_en"];
    if (cfg.lang === "en" ? en : de) return cfg.lang === "en" ? en : de;
    if (!de && !en) return null;
    var span = el("span", de || en);
    span.lang = de ? "de" : "en";
    return span;
  }

  function formatTime(iso, lang) {
    if (!iso) return null;
    var d = new Date(iso);
    return d.toLocaleString(lang === "en" ? "en-GB" : "de-DE", {
      timeZone: "Europe/Berlin", weekday: "short", day: "numeric", month: "numeric",
      year: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  // A date as the Python side writes it (finder.hours.date_text): 30.01.2026 / 30 Jan 2026.
  function formatDate(iso, cfg) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", day: "2-digit", month: "2-digit", year: "numeric" })
      .formatToParts(new Date(iso)).forEach(function (x) { parts[x.type] = x.value; });
    if (cfg.lang === "en") {
      return Number(parts.day) + " " + cfg.t.months.split(" ")[Number(parts.month) - 1] + " " + parts.year;
    }
    return parts.day + "." + parts.month + "." + parts.year;
  }

  function row(dl, label, value, cfg) {
    DSM.row(dl, label, value, cfg.t.unknown);
  }

  var popupBox = DSM.popupBox;

  function phoneLink(number) {
    var digits = String(number).replace(/[^0-9+]/g, "");
    var a = el("a", number);
    a.setAttribute("href", "tel:" + digits);
    return a;
  }

  function mailLink(address) {
    if (!/^[^@\s<>"']+@[^@\s<>"']+\.[^@\s<>"']+$/.test(address)) return el("span", address);
    var a = el("a", address);
    a.setAttribute("href", "mailto:" + address);
    return a;
  }

  // A stored date as the page writes it: a day as formatDate, a month "Aug. 2025" /
  // "Aug 2025", a year as it is (localize.date on the Python side does the same).
  function dataDate(value, cfg) {
    if (!value) return null;
    var s = String(value);
    if (/^\d{4}-\d{2}-\d{2}/.test(s)) return formatDate(s.slice(0, 10) + "T12:00:00Z", cfg);
    var month = /^(\d{4})-(\d{2})$/.exec(s);
    if (month) return cfg.t.months.split(" ")[Number(month[2]) - 1] + " " + month[1];
    return s;
  }

  // Source citations are German as the data cites them: marked as such on other pages.
  function german(text, cfg) {
    if (!text || cfg.lang === "de") return text || null;
    var span = el("span", text);
    span.lang = "de";
    return span;
  }

  function sourceRows(dl, p, cfg) {
    row(dl, cfg.t.source, german(p.source, cfg), cfg);
    row(dl, cfg.t.verified_on, dataDate(p.verified_on, cfg), cfg);
  }

  // ---------------------------------------------------------------------------------------
  // Popups: the same facts as the list beside the map.

  function officePopup(p, hours, cfg) {
    var b = popupBox(p.name, (cfg.v.kind || {})[p.kind] || p.kind);
    if (APPROXIMATE[p.location_precision]) {
      b.box.insertBefore(el("p", cfg.t.approximate, "dsm-approx"), b.dl);
    }
    if (p.officers && p.officers.length) {
      var ul = el("ul");
      p.officers.forEach(function (o) {
        var li = el("li", o.name);
        var role = prose(o, "role", cfg);
        if (role) {
          li.appendChild(document.createTextNode(" ("));
          li.appendChild(typeof role === "string" ? document.createTextNode(role) : role);
          li.appendChild(document.createTextNode(")"));
        }
        ul.appendChild(li);
      });
      row(b.dl, cfg.t.officers, ul, cfg);
    }
    var address = [p.street, p.housenumber].filter(Boolean).join(" ");
    var place = [p.postcode, p.place].filter(Boolean).join(" ");
    row(b.dl, cfg.t.address, [address, place].filter(Boolean).join(", ") || null, cfg);
    if (p.room || p.room_en) row(b.dl, cfg.t.room, prose(p, "room", cfg), cfg);
    row(b.dl, cfg.t.office_hours, p.opening_hours ? humanHours(p.opening_hours, cfg) : null, cfg);
    if (hours) {
      var state;
      if (hours.open_now === true) {
        state = cfg.t.open_now + (hours.closes_at ? ", " + cfg.t.closes_at + " " + formatTime(hours.closes_at, cfg.lang) : "");
      } else if (hours.open_now === false) {
        state = cfg.t.closed_now + (hours.holiday_today ? " (" + cfg.t.holiday + ": " + hours.holiday_today + ")" : "");
      } else if (hours.dates_ended && hours.last_appointment) {
        // What is known (the last date) and that nothing newer is, instead of "unknown".
        state = cfg.t.dates_ended.replace("{date}", formatDate(hours.last_appointment.start, cfg));
      } else {
        state = cfg.t.hours_unknown;
      }
      row(b.dl, cfg.t.status, state, cfg);
      if (!hours.dates_ended) row(b.dl, cfg.t.next_opening, formatTime(hours.next_opening, cfg.lang), cfg);
      var appts = hours.upcoming_appointments || [];
      if (appts.length) {
        var list = el("ul");
        appts.forEach(function (a) {
          var item = el("li", formatTime(a.start, cfg.lang) + (a.note ? " – " : ""));
          var note = a.note ? prose(a, "note", cfg) : null;
          // prose() gives text in the page's language, or a node marked with the other one.
          if (note) item.appendChild(typeof note === "string" ? document.createTextNode(note) : note);
          list.appendChild(item);
        });
        row(b.dl, cfg.t.appointments, list, cfg);
      } else if (p.appointments && p.appointments.length && !hours.dates_ended) {
        row(b.dl, cfg.t.appointments, cfg.t.no_upcoming, cfg);
      }
    }
    if (p.registration || p.registration_en) row(b.dl, cfg.t.registration, prose(p, "registration", cfg), cfg);
    row(b.dl, cfg.t.phone, p.phone ? phoneLink(p.phone) : null, cfg);
    if (p.phone_mobile) row(b.dl, cfg.t.mobile, phoneLink(p.phone_mobile), cfg);
    row(b.dl, cfg.t.email, p.email ? mailLink(p.email) : null, cfg);
    if (p.note || p.note_en) row(b.dl, cfg.t.note, prose(p, "note", cfg), cfg);
    sourceRows(b.dl, p, cfg);
    return b.box;
  }

  function districtPopup(p, cfg) {
    var b = popupBox(p.name, p.city);
    var hh = p.households === null ? null :
      p.households.toLocaleString(cfg.lang === "en" ? "en-GB" : "de-DE") +
      (p.households_date ? " (" + dataDate(p.households_date, cfg) + ")" : "");
    row(b.dl, cfg.t.households, hh, cfg);
    if (p.households_note || p.households_note_en) row(b.dl, cfg.t.note, prose(p, "households_note", cfg), cfg);
    row(b.dl, cfg.t.population, p.population, cfg);
    row(b.dl, cfg.t.area, p.area_km2 === null ? null : p.area_km2 + " km²", cfg);
    sourceRows(b.dl, p, cfg);
    return b.box;
  }

  function coveragePopup(p, cfg) {
    var kind = (cfg.v.municipality_kind || {})[p.kind] || p.kind;
    var b = popupBox(p.name, [kind, p.kreis].filter(Boolean).join(", "));
    row(b.dl, cfg.t.population, p.population === null ? null :
      p.population.toLocaleString(cfg.lang === "en" ? "en-GB" : "de-DE") + (p.population_date ? " (" + dataDate(p.population_date, cfg) + ")" : ""), cfg);
    row(b.dl, cfg.t.large_town, p.large_town === null ? null : (p.large_town ? cfg.t.yes : cfg.t.no), cfg);
    row(b.dl, cfg.t.status, cfg.v.prevention_status[p.prevention_status] || p.prevention_status, cfg);
    // Only where a survey was run: then every municipality asked says how far it got.
    if (p.survey_status !== undefined && p.survey_status !== null) {
      row(b.dl, cfg.t.survey_status, cfg.v.survey_status[p.survey_status] || p.survey_status, cfg);
    }
    if (p.bodies && p.bodies.length) {
      var ul = el("ul");
      p.bodies.forEach(function (body) {
        var stage = body.programme ? ", " + body.programme + (body.programme_stage ? ": " + (cfg.v.programme_stage[body.programme_stage] || body.programme_stage) : "") : "";
        ul.appendChild(el("li", body.name + " (" + (cfg.v.status[body.status] || body.status) + stage + ")"));
      });
      row(b.dl, cfg.t.bodies, ul, cfg);
    }
    return b.box;
  }

  function graffitiPopup(p, cfg) {
    var b = popupBox(p.name, p.city);
    row(b.dl, cfg.t.status, cfg.v.status[p.status] || p.status, cfg);
    row(b.dl, cfg.t.legal_status, cfg.v.legal_status[p.legal_status] || p.legal_status, cfg);
    row(b.dl, cfg.t.rules, p.rules, cfg);
    if (p.content_bans) row(b.dl, cfg.t.rules, p.content_bans, cfg);
    if (p.rules_url && /^https?:\/\//.test(p.rules_url)) {
      var a = el("a", p.rules_url);
      a.setAttribute("href", p.rules_url);
      a.setAttribute("rel", "noopener noreferrer");
      row(b.dl, cfg.t.rules, a, cfg);
    }
    sourceRows(b.dl, p, cfg);
    return b.box;
  }

  function cameraPopup(p, cfg) {
    var b = popupBox(p.name || p.id, cfg.v.surveillance[p.surveillance] || p.surveillance);
    row(b.dl, cfg.t.camera_type, p.camera_type ? (cfg.v.camera_type || {})[p.camera_type] || p.camera_type : null, cfg);
    row(b.dl, cfg.t.status, cfg.v.status[p.status] || p.status, cfg);
    row(b.dl, cfg.t.operator, p.operator, cfg);
    sourceRows(b.dl, p, cfg);
    return b.box;
  }

  // ---------------------------------------------------------------------------------------
  // Drawing

  var divIcon = function (letter, colour, approximate) {
    return DSM.letterIcon(letter, colour, { approximate: approximate });
  };
  var marker = DSM.marker;

  function addOffices(layer, fc, cfg, hours) {
    var n = 0;
    L.geoJSON(fc, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var style = cfg.symbols.office[p.kind] || cfg.symbols.officeUnknown;
        var approx = !!APPROXIMATE[p.location_precision];
        var m = marker(latlng, divIcon(style.letter, style.colour, approx), p.name + (approx ? " (" + cfg.t.approximate + ")" : ""));
        if (approx) {
          L.circle(latlng, { radius: 60, color: style.colour, weight: 2, dashArray: "4 4", fill: false, interactive: false })
            .addTo(layer.group);
        }
        return m;
      },
      onEachFeature: function (feature, lyr) {
        n += 1;
        cfg.spreadable.push(lyr);
        lyr.bindPopup(officePopup(feature.properties, (hours || {})[feature.id], cfg), { maxWidth: 320 });
        lyr.bindTooltip(el("span", feature.properties.name));
      }
    }).eachLayer(function (l) { l.addTo(layer.group); });
    return n;
  }

  function addDistricts(layer, fc, cfg) {
    var n = 0;
    L.geoJSON(fc, {
      style: function (feature) {
        var focus = cfg.highlight && feature.id === cfg.highlight;
        return { color: focus ? cfg.symbols.district.focus : cfg.symbols.district.color, weight: focus ? 4 : 1.5, fillColor: "#90a4ae",
                 fillOpacity: focus ? 0.15 : 0.04 };
      },
      onEachFeature: function (feature, lyr) {
        n += 1;
        lyr.bindPopup(districtPopup(feature.properties, cfg));
        // In the orientation labels' pane, below the markers: a name never covers an office.
        lyr.bindTooltip(el("span", feature.properties.name), { permanent: true, direction: "center", className: "dsm-label",
                                                               pane: cfg.context ? "dsm-context-labels" : "tooltipPane" });
      }
    }).eachLayer(function (l) { l.addTo(layer.group); });
    return n;
  }

  function addCoverage(layer, fc, cfg) {
    var n = 0;
    layer.byId = {};
    L.geoJSON(fc, {
      style: function (feature) {
        var p = feature.properties;
        return { color: p.large_town ? "#111" : "#666", weight: p.large_town ? 2 : 0.6,
                 fillColor: cfg.symbols.prevention[p.prevention_status] || cfg.symbols.prevention.none_known,
                 fillOpacity: 0.55, dashArray: p.prevention_status === "none_known" ? "3 3" : null };
      },
      onEachFeature: function (feature, lyr) {
        n += 1;
        layer.byId[feature.id] = lyr;
        // Made when first opened: a Land's 849 popups built up front held up its first view.
        lyr.bindPopup(function () { return coveragePopup(feature.properties, cfg); });
        lyr.bindTooltip(function () { return el("span", feature.properties.name); }, { sticky: true });
        if (feature.properties.large_town) {
          var centre = lyr.getBounds().getCenter();
          L.circleMarker(centre, { radius: 4, color: "#111", weight: 2, fillColor: "#fff", fillOpacity: 1,
                                   interactive: false }).addTo(layer.group);
        }
      }
    }).eachLayer(function (l) { l.addTo(layer.group); });
    return n;
  }

  function addGraffiti(layer, fc, cfg) {
    var n = 0;
    L.geoJSON(fc, {
      style: function (feature) {
        var p = feature.properties;
        return { color: cfg.symbols.graffitiColour[p.status] || "#555", weight: 4, dashArray: cfg.symbols.graffitiDash[p.legal_status] || null,
                 fillOpacity: 0.3 };
      },
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var m = marker(latlng, divIcon(cfg.symbols.graffitiLetter, cfg.symbols.graffitiColour[p.status] || "#555", false), p.name);
        cfg.spreadable.push(m);
        return m;
      },
      onEachFeature: function (feature, lyr) {
        n += 1;
        lyr.bindPopup(graffitiPopup(feature.properties, cfg));
      }
    }).eachLayer(function (l) { l.addTo(layer.group); });
    return n;
  }

  function addCameras(layer, fc, cfg) {
    var n = 0;
    L.geoJSON(fc, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var sym = cfg.symbols;
        var icon = DSM.letterIcon(sym.cameraLetter[p.camera_type] || sym.cameraUnknownLetter,
                                  sym.cameraColour[p.surveillance] || "#555", { square: true });
        return marker(latlng, icon, p.name || p.id);
      },
      onEachFeature: function (feature, lyr) {
        n += 1;
        lyr.bindPopup(cameraPopup(feature.properties, cfg));
      }
    }).eachLayer(function (l) { l.addTo(layer.group); });
    return n;
  }

  function addFov(layer, fc, cfg) {
    L.geoJSON(fc, {
      style: function (feature) {
        return { color: cfg.symbols.cameraColour[feature.properties.surveillance] || "#555", weight: 1, fillOpacity: 0.2 };
      },
      interactive: false
    }).eachLayer(function (l) { l.addTo(layer.fovGroup); });
  }

  var DRAW = { districts: addDistricts, "prevention-coverage": addCoverage, "graffiti-zones": addGraffiti,
               "video-surveillance": addCameras };

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" }, credentials: "omit" })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      });
  }

  DSM.start = function (cfg) {
    window.dsmCounts = {};
    window.mapReady = false;
    // District labels only where they fit: from zoom 12 on (a whole city is a blur of names).
    var container = cfg.map.getContainer();
    function toggleLabels() {
      container.classList.toggle("dsm-labels-hidden", cfg.map.getZoom() < 12);
    }
    cfg.map.on("zoomend", toggleLabels);
    toggleLabels();
    var status = document.getElementById(cfg.statusId);
    cfg.spreadable = [];
    if (DSM.a11y) DSM.a11y(cfg.map, { attributionLabel: cfg.t.licence });  // static/js/dsm-core.js
    if (DSM.basemap) DSM.basemap(cfg.map, cfg.basemap);  // static/js/dsm-basemap.js
    if (cfg.context) DSM.context(cfg.map, cfg.context);
    // Each source's credit; one in another language than the page's is marked (WCAG 3.1.2).
    cfg.attributions.forEach(function (credit) {
      var html = escapeText(credit.text);
      if (credit.lang !== cfg.lang) html = '<span lang="' + escapeText(credit.lang) + '">' + html + "</span>";
      cfg.map.attributionControl.addAttribution(html);
    });
    var hoursPromise = cfg.hoursUrl ? getJSON(cfg.hoursUrl).then(function (d) { return d.offices; })
      .catch(function () { return null; }) : Promise.resolve(null);
    var jobs = cfg.layers.map(function (layer) {
      // Polygons simplified for the zoom (maps/simplify.py), finer ones as the reader zooms in.
      var data = layer.levels ?
        DSM.levelled(cfg.map, layer.url, "municipalities", function (fc) { DSM.refine(layer.byId, fc); }) :
        getJSON(layer.url);
      return data.then(function (fc) {
        if (layer.id === "contact-offices") {
          return hoursPromise.then(function (hours) {
            window.dsmCounts[layer.id] = addOffices(layer, fc, cfg, hours);
          });
        }
        window.dsmCounts[layer.id] = DRAW[layer.id](layer, fc, cfg);
        if (layer.fovUrl) {
          return getJSON(layer.fovUrl).then(function (fov) { addFov(layer, fov, cfg); });
        }
        return null;
      });
    });
    // For tests and assistive scripts: the layer groups by layer id.
    window.dsmGroups = {};
    cfg.layers.forEach(function (layer) { window.dsmGroups[layer.id] = layer.group; });
    Promise.all(jobs).then(function () {
      // Markers covering each other at the opening zoom are moved apart, so each can be clicked.
      DSM.spread(cfg.map, cfg.spreadable);
      if (status) status.textContent = "";
      window.mapReady = true;
    }).catch(function (err) {
      if (status) status.textContent = cfg.t.load_error;
      window.mapError = String(err);
      window.mapReady = true;
      if (window.console) console.error(err);
    });
  };
})();
