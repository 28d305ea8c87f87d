"""Interface texts, German first, English second. Data values are never translated."""

from __future__ import annotations

LANGS = ("de", "en")

TEXT: dict[str, dict[str, str]] = {
    "de": {
        "districts": "Ortsteile",
        "statistical-districts": "Statistische Bezirke",
        "contact-offices": "Kontaktbereichsbeamte und Sprechstunden",
        "graffiti-zones": "Legale Graffitiflächen",
        "video-surveillance": "Videoüberwachung",
        "camera-fov": "Sichtbereiche der Kameras",
        "prevention-coverage": "Präventionsgremien in den Gemeinden",
        "unknown": "unbekannt",
        "approximate": "ungefähre Lage",
        "no_location": "Ohne bekannte Lage",
        "open_now": "jetzt geöffnet",
        "closed_now": "jetzt geschlossen",
        "hours_unknown": "Sprechzeiten unbekannt",
        "next_opening": "nächste Öffnung",
        "closes_at": "schließt um",
        "appointments": "Termine",
        "no_upcoming": "keine bevorstehenden Termine bekannt",
        "dates_ended": "letzter bekannter Termin {date}, weitere Termine nicht veröffentlicht",
        "calendar": "Kalender",
        "calendar_file": "Sprechzeiten als Kalenderdatei (.ics)",
        # Month abbreviations, space-separated (dates in German are written 30.01.2026).
        "months": "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.",
        # Opening hours in words (mapservice.localize, dsm-map.js): "Mo 10–12 Uhr, Do 15–17 Uhr".
        "weekdays": "Mo Di Mi Do Fr Sa So",
        "hours_closed": "geschlossen",
        "hours_and": "und",
        "hours_suffix": " Uhr",
        "office_hours": "Sprechzeiten",
        "officers": "Ansprechpersonen",
        "address": "Adresse",
        "room": "Raum",
        "registration": "Anmeldung",
        "phone": "Telefon",
        "mobile": "Mobil",
        "email": "E-Mail",
        "note": "Hinweis",
        "source": "Quelle",
        "verified_on": "Stand",
        "households": "Haushalte",
        "population": "Einwohner",
        "area": "Fläche",
        "city": "Stadt",
        "kreis": "Kreis",
        "status": "Status",
        "bodies": "Gremien",
        "survey_status": "Umfrage",
        "none_known": "keins bekannt",
        "large_town": "Stadt ab 10.000 Einwohnern",
        "rules": "Regeln",
        "legal_status": "Rechtsstatus",
        "operator": "Betreiber",
        "camera_type": "Kameratyp",
        "no_entries": "Keine Einträge: es sind keine Standorte veröffentlicht.",
        "legend": "Legende",
        "list": "Liste der gezeigten Objekte",
        "map": "Karte",
        # The name of a wide table's scroll box (templates/map_parts.html): "Tabelle: Ortsteile".
        "table": "Tabelle",
        "maps": "Karten",
        "choose_map": "Karte wählen",
        "show": "Anzeigen",
        "embed": "Karte einbetten",
        "licence": "Lizenz und Quelle",
        "skip_map": "Karte überspringen",
        "kind": "Art",
        "name": "Name",
        "holiday": "Feiertag",
        "yes": "ja",
        "no": "nein",
        "ags": "Gemeindeschlüssel",
        "asskomm": "ASSKomm",
        "layers": "Ebenen",
        "all_maps": "Alle Karten",
        "loading": "Daten werden geladen …",
        "load_error": "Eine Ebene konnte nicht geladen werden.",
        "district": "Ortsteil",
        "whole_city": "ganze Stadt",
        "options": "Optionen",
        "width": "Breite",
        "height": "Höhe",
        "language": "Sprache",
        "snippet": "HTML zum Einfügen",
        "preview": "Vorschau",
        "make_snippet": "HTML erzeugen",
        "tiles_none": "Ohne Hintergrundkarte (keine Anfragen an Dritte).",
        "open_in_page": "Karte in eigener Seite öffnen",
    },
    "en": {
        "districts": "Districts",
        "statistical-districts": "Statistical districts",
        "contact-offices": "Contact officers and office hours",
        "graffiti-zones": "Legal graffiti zones",
        "video-surveillance": "Video surveillance",
        "camera-fov": "Camera fields of view",
        "prevention-coverage": "Prevention bodies in the municipalities",
        "unknown": "unknown",
        "approximate": "approximate location",
        "no_location": "Location unknown",
        "open_now": "open now",
        "closed_now": "closed now",
        "hours_unknown": "office hours unknown",
        "next_opening": "next opening",
        "closes_at": "closes at",
        "appointments": "Appointments",
        "no_upcoming": "no upcoming appointments known",
        "dates_ended": "last known date {date}, no further dates published",
        "calendar": "Calendar",
        "calendar_file": "Office hours as a calendar file (.ics)",
        # Month abbreviations, space-separated, for dates like "30 Jan 2026".
        "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        # Opening hours in words: "Mon 10:00–12:00, Thu 15:00–17:00" (24-hour clock).
        "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
        "hours_closed": "closed",
        "hours_and": "and",
        "hours_suffix": "",
        "office_hours": "Office hours",
        "officers": "Contact persons",
        "address": "Address",
        "room": "Room",
        "registration": "Registration",
        "phone": "Phone",
        "mobile": "Mobile",
        "email": "E-mail",
        "note": "Note",
        "source": "Source",
        "verified_on": "As of",
        "households": "Households",
        "population": "Population",
        "area": "Area",
        "city": "City",
        "kreis": "District (Kreis)",
        "status": "Status",
        "bodies": "Bodies",
        "survey_status": "Survey",
        "none_known": "none known",
        "large_town": "town with 10,000+ inhabitants",
        "rules": "Rules",
        "legal_status": "Legal status",
        "operator": "Operator",
        "camera_type": "Camera type",
        "no_entries": "No entries: no locations have been published.",
        "legend": "Legend",
        "list": "List of the features shown",
        "map": "Map",
        "table": "Table",
        "maps": "Maps",
        "choose_map": "Choose a map",
        "show": "Show",
        "embed": "Embed this map",
        "licence": "Licence and source",
        "skip_map": "Skip the map",
        "kind": "Kind",
        "name": "Name",
        "holiday": "public holiday",
        "yes": "yes",
        "no": "no",
        "ags": "Municipality key",
        "asskomm": "ASSKomm",
        "layers": "Layers",
        "all_maps": "All maps",
        "loading": "Loading data …",
        "load_error": "A layer could not be loaded.",
        "district": "District",
        "whole_city": "whole city",
        "options": "Options",
        "width": "Width",
        "height": "Height",
        "language": "Language",
        "snippet": "HTML to paste",
        "preview": "Preview",
        "make_snippet": "Make HTML",
        "tiles_none": "No background map (no requests to third parties).",
        "open_in_page": "Open the map in its own page",
    },
}

# Values of closed lists, as people read them.
VALUES: dict[str, dict[str, dict[str, str]]] = {
    "de": {
        # A municipality's kind as VG250 stores it (BEZ): the stored value is German.
        "municipality_kind": {"Stadt": "Stadt", "Gemeinde": "Gemeinde"},
        "kind": {
            "contact_officer_office": "Büro der Kontaktbereichsbeamten",
            "contact_officer": "Kontaktbereichsbeamter (ohne Büroadresse)",
            "police_station": "Polizeidienststelle",
            "citizens_consultation": "Bürgersprechstunde",
            "prevention_office": "Kommunale Präventionsstelle",
        },
        # How the finder found the point, and what its coordinate stands for.
        "locate_method": {"coordinates": "Koordinaten", "address": "Adresse"},
        "precision": {
            "point": "Punkt",
            "address": "Hausnummer",
            "street": "Straße",
            "district": "Ortsteil",
            "municipality": "Gemeinde",
            "unknown": "unbekannt",
        },
        "survey_status": {
            "answered": "geantwortet",
            "asked": "gefragt, noch keine Antwort",
            "no_answer": "keine Antwort",
        },
        "prevention_status": {
            "active": "aktiv",
            "planned": "geplant",
            "dormant": "ruhend",
            "unclear": "unklar",
            "dissolved": "aufgelöst",
            "none": "laut Quelle keins",
            "none_known": "keins bekannt",
        },
        "status": {
            "active": "aktiv",
            "planned": "geplant",
            "suspended": "ausgesetzt",
            "closed": "geschlossen",
            "temporary": "vorübergehend",
            "removed": "abgebaut",
            "dormant": "ruhend",
            "unclear": "unklar",
            "dissolved": "aufgelöst",
        },
        "legal_status": {"legal": "frei", "permission_required": "mit Genehmigung", "tolerated": "geduldet"},
        "surveillance": {"public": "öffentlicher Raum", "outdoor": "außen", "indoor": "innen"},
        "camera_type": {
            "fixed": "feste Kamera",
            "dome": "Kuppelkamera (Dome)",
            "panning": "schwenk- und zoombare Kamera",
            "panorama": "Rundumkamera (360°)",
        },
        "programme_stage": {
            "contacted": "Kontakt",
            "participant": "Teilnahme",
            "pre_agreement": "Vorvereinbarung",
            "agreement": "Kooperationsvereinbarung",
        },
    },
    "en": {
        "municipality_kind": {"Stadt": "town", "Gemeinde": "municipality"},
        "kind": {
            "contact_officer_office": "Contact officers' office",
            "contact_officer": "Contact officer (no office address)",
            "police_station": "Police station",
            "citizens_consultation": "Citizens' consultation",
            "prevention_office": "Municipal prevention office",
        },
        "locate_method": {"coordinates": "coordinates", "address": "address"},
        "precision": {
            "point": "point",
            "address": "house number",
            "street": "street",
            "district": "district",
            "municipality": "municipality",
            "unknown": "unknown",
        },
        "survey_status": {
            "answered": "answered",
            "asked": "asked, no answer yet",
            "no_answer": "no answer",
        },
        "prevention_status": {
            "active": "active",
            "planned": "planned",
            "dormant": "dormant",
            "unclear": "unclear",
            "dissolved": "dissolved",
            "none": "none, according to the source",
            "none_known": "none known",
        },
        "status": {
            "active": "active",
            "planned": "planned",
            "suspended": "suspended",
            "closed": "closed",
            "temporary": "temporary",
            "removed": "removed",
            "dormant": "dormant",
            "unclear": "unclear",
            "dissolved": "dissolved",
        },
        "legal_status": {
            "legal": "legal",
            "permission_required": "permission required",
            "tolerated": "tolerated",
        },
        "surveillance": {"public": "public space", "outdoor": "outdoor", "indoor": "indoor"},
        "camera_type": {
            "fixed": "fixed camera",
            "dome": "dome camera",
            "panning": "pan-tilt-zoom camera",
            "panorama": "all-round camera (360°)",
        },
        "programme_stage": {
            "contacted": "contacted",
            "participant": "participant",
            "pre_agreement": "pre-agreement",
            "agreement": "cooperation agreement",
        },
    },
}


# The legend of every map (maps/symbols.py) and the orientation outlines (dsm-context.js).
LEGEND_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "approximate": "Lage ungefähr (gestrichelter Rand und Kreis)",
        "office_unknown_kind": "Art nicht erfasst",
        "spread": (
            "Dicht beieinander liegende Stellen sind auseinandergerückt; eine Linie führt zum genauen Ort"
        ),
        "camera_unknown_type": "Kameratyp nicht erfasst",
        "colour": "Farbe",
        "field_of_view": "Fläche: Sichtbereich der Kamera",
        "cluster": "Zahl im Kreis: so viele Kameras an dieser Stelle (zum Vergrößern anklicken)",
        "graffiti_point": "Fläche als Punkt",
        "graffiti_outline": "Umriss",
        "large_town": "Stadt ab 10.000 Einwohnern",
        "district": "Ortsteil",
        "district_focus": "gewählter Ortsteil",
        "orientation": "Orientierung",
        "municipality_outline": "Gemeindegrenze mit Namen",
        "district_outline": "Ortsteilgrenze mit Namen",
        "municipality_name": "Name der Gemeinde",
        "district_name": "Name des Ortsteils",
        "finder": "Suche",
        "your_point": "Ihr Punkt",
    },
    "en": {
        "approximate": "Approximate location (dashed border and circle)",
        "office_unknown_kind": "Kind not recorded",
        "spread": "Places close together are moved apart; a line leads to the exact spot",
        "camera_unknown_type": "Camera type not recorded",
        "colour": "Colour",
        "field_of_view": "Area: the camera's field of view",
        "cluster": "Number in a circle: that many cameras here (click to zoom in)",
        "graffiti_point": "Zone as a point",
        "graffiti_outline": "Outline",
        "large_town": "Town with 10,000 inhabitants or more",
        "district": "District",
        "district_focus": "Chosen district",
        "orientation": "Orientation",
        "municipality_outline": "Municipal boundary with name",
        "district_outline": "District boundary with name",
        "municipality_name": "Name of the municipality",
        "district_name": "Name of the district",
        "finder": "Search",
        "your_point": "Your point",
    },
}


# The basemap (maps/basemap.py): its attribution, and the notice before an external tile
# server gets the reader's IP address ({host} is that server's name).
BASEMAP_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "osm_attribution": "© OpenStreetMap-Mitwirkende (ODbL)",
        "heading": "Hintergrundkarte eines anderen Anbieters",
        "notice": (
            "Die Hintergrundkarte kommt vom Server {host}. Wenn Sie sie laden, wird Ihre "
            "IP-Adresse an diesen Server übermittelt. Die Karte mit ihren Einträgen und die "
            "Liste funktionieren auch ohne Hintergrundkarte."
        ),
        "page_only": "Ihre Wahl gilt nur für diese Seite; es wird nichts gespeichert.",
        "load": "Hintergrundkarte laden",
        "close": "Ohne Hintergrundkarte weiter",
    },
    "en": {
        "osm_attribution": "© OpenStreetMap contributors (ODbL)",
        "heading": "Background map from another provider",
        "notice": (
            "The background map comes from the server {host}. If you load it, your IP address "
            "is sent to that server. The map with its entries and the list work without the "
            "background map too."
        ),
        "page_only": "Your choice applies to this page only; nothing is stored.",
        "load": "Load background map",
        "close": "Continue without background map",
    },
}


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else "de"


def texts(lang: str) -> dict[str, str]:
    return TEXT[pick_lang(lang)]


def value_label(lang: str, field: str, value: str | None) -> str | None:
    if value is None:
        return None
    return VALUES[pick_lang(lang)].get(field, {}).get(value, value)


# The programme figures file is written in English; the German page names its figures in
# German. A figure not listed here is shown as it is in the file.
FIGURE_DE = {
    "municipalities advised by the Landespräventionsrat": "vom Landespräventionsrat beratene Kommunen",
    "municipalities in close cooperation": "Kommunen in enger Zusammenarbeit",
    "municipal prevention councils constituted or reactivated": (
        "kommunale Präventionsräte gegründet oder wiederbelebt"
    ),
    "cooperation agreements": "Kooperationsvereinbarungen",
    "coaching processes started": "begonnene Coachingprozesse",
    "security analyses carried out": "durchgeführte Sicherheitsanalysen",
    "state funding for local prevention in 2023 (EUR)": "Landesförderung für kommunale Prävention 2023 (EUR)",
    "municipalities receiving funding": "geförderte Kommunen",
    "cities with at least 10000 inhabitants asked": "befragte Städte ab 10.000 Einwohnern",
    "answers received": "eingegangene Antworten",
    "share of answering cities with one or more active prevention bodies": (
        "Anteil der antwortenden Städte mit mindestens einem aktiven Präventionsgremium"
    ),
    "about one third": "etwa ein Drittel",
    "cities or administrative communities": "Städte oder Verwaltungsgemeinschaften",
    "since the network's founding in early 2019": "seit Gründung des Netzwerks Anfang 2019",
    "49 before Meerane signed as the 50th": "49 vor Meerane, das als 50. unterzeichnete",
}


def figure_text(text: str, lang: str) -> str:
    return FIGURE_DE.get(text, text) if lang == "de" else text


PLANNER_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Planung: Abdeckung und Lücken",
        "area_city": "{name} ({count} Ortsteile)",
        "col_name": "Name",
        "col_kreis": "Kreis",
        "col_gap_rank": "Rang",
        "col_gap_weighted": "Lückenwert × Betroffene",
        "unranked": "ohne Rang",
        "criterion_officer": "zuständiger Kontaktbereichsbeamter",
        "criterion_officer_load": "Einwohner bzw. Haushalte je Beamter",
        "criterion_distance": "Entfernung zum nächsten Büro",
        "criterion_walk_share": "Fläche in Gehentfernung",
        "criterion_prevention_body": "Präventionsgremium",
        "criterion_body_recorded": "Präventionsgremium erfasst",
        "ranking_rule": (
            "Die Rangfolge: zuerst die Gebiete, deren Angaben vollständig sind, dann die mit Lücken in "
            "den Daten (ihr Lückenwert ist eine Untergrenze). Innerhalb davon zählt {basis}. Gleiche "
            "Werte teilen sich den Rang, z. B. „3.–20.“."
        ),
        "basis_people": (
            "der Lückenwert gewichtet mit den betroffenen Menschen: Einwohnern, wo sie bekannt sind, "
            "sonst Haushalten"
        ),
        "basis_none": "der ungewichtete Lückenwert",
        "show_unweighted": "Ungewichtet anzeigen",
        "report_link": "Lagebild zum Drucken",
        "report_pdf": "als PDF",
        "show_weighted": "Gewichtet mit den Betroffenen anzeigen",
        "data_gaps": "Was die Daten sagen und was nicht",
        "gaps_counts": (
            "Von {rows} Gebieten: {complete} mit vollständigen Angaben bewertet, {incomplete} nur zum "
            "Teil (Untergrenze), {unranked} ohne Rang, weil keine ihrer Angaben bekannt ist."
        ),
        "gaps_not_applicable": (
            "{count} weitere ohne Rang, weil kein Kriterium für sie gilt (unter {population} Einwohnern)."
        ),
        "gaps_biggest": (
            "Die größte Lücke sind die Daten selbst: für {unknown} von {applicable} bewertbaren Gebieten "
            "fehlt mindestens eine Angabe."
        ),
        "gaps_unknown_by": "Unbekannt ist",
        "gaps_unknown_item": "{criterion}: bei {count}",
        "area_land": "{name}: Gemeinden",
        "intro": "Wo fehlen Kontaktbereichsbeamte, wie weit ist es zum nächsten Büro, wo gibt "
        "es kein Präventionsgremium? Gebiet und Kennzahl wählen; Karte, Diagramm und "
        "Tabelle zeigen dieselben Zahlen.",
        "area": "Gebiet",
        "metric": "Kennzahl",
        "show": "Anzeigen",
        "rank": "Rang",
        "score": "Lückenwert",
        # A gap score with unknown criteria is a lower bound (planner/gaps.py).
        "at_least": "mindestens",
        "lower_bound_legend": "davon nur Untergrenze, weil Angaben fehlen",
        "misses": "Verfehlte Schwellen",
        "unknown_criteria": "Unbekannt",
        "reasons": "Gründe",
        "show_on_map": "auf der Karte zeigen",
        "chart": "Diagramm",
        "chart_desc": "Ein Balken je Gebiet; dieselben Werte stehen in der Tabelle unten.",
        "table": "Tabelle",
        "legend": "Legende",
        "unknown_legend": "unbekannt (keine Daten, nicht null)",
        "left_out": "weitere in der Tabelle",
        "downloads": "Herunterladen",
        "method": "So wird gerechnet",
        "sources": "Daten, Stand und Lizenzen",
        "layer": "Datensatz",
        "licence": "Lizenz",
        "attribution": "Namensnennung",
        "dates": "Stand der Daten",
        "survey": "Umfrage des Landespräventionsrats Thüringen",
        "survey_data": "Aus den Daten dieses Dienstes",
        "survey_own": "Angaben der Umfrage",
        "asskomm": "ASSKomm-Netzwerk in Sachsen",
        "sorted_by": "sortiert nach",
        "ascending": "aufsteigend",
        "descending": "absteigend",
        "sort_by": "sortieren nach",
        "of": "von",
        "none": "keine",
        "source": "Quelle:",
    },
    "en": {
        "title": "Planner: coverage and gaps",
        "area_city": "{name} ({count} districts)",
        "col_name": "Name",
        "col_kreis": "District (Kreis)",
        "col_gap_rank": "Rank",
        "col_gap_weighted": "Gap score × people affected",
        "unranked": "unranked",
        "criterion_officer": "responsible contact officer",
        "criterion_officer_load": "residents or households per officer",
        "criterion_distance": "distance to the nearest office",
        "criterion_walk_share": "area within walking distance",
        "criterion_prevention_body": "prevention body",
        "criterion_body_recorded": "prevention body on record",
        "ranking_rule": (
            "The order: first the areas whose data is complete, then those with gaps in the data "
            "(their gap score is a lower bound). Within each, what counts is {basis}. Equal values "
            'share their rank, e.g. "3.–20.".'
        ),
        "basis_people": (
            "the gap score weighted by the people affected: residents where known, else households"
        ),
        "basis_none": "the unweighted gap score",
        "show_unweighted": "Show unweighted",
        "report_link": "Printable situation report",
        "report_pdf": "as PDF",
        "show_weighted": "Show weighted by the people affected",
        "data_gaps": "What the data says and what it does not",
        "gaps_counts": (
            "Of {rows} areas: {complete} scored on complete data, {incomplete} only in part (lower "
            "bound), {unranked} unranked because none of their data is known."
        ),
        "gaps_not_applicable": (
            "{count} more unranked because no criterion applies to them (below {population} inhabitants)."
        ),
        "gaps_biggest": (
            "The biggest gap is the data itself: for {unknown} of {applicable} areas that can be "
            "scored, at least one item is missing."
        ),
        "gaps_unknown_by": "Unknown is",
        "gaps_unknown_item": "{criterion}: for {count}",
        "area_land": "{name}: municipalities",
        "intro": "Where are contact officers missing, how far is the nearest office, where is "
        "there no prevention body? Choose an area and a metric; map, chart and table "
        "show the same numbers.",
        "area": "Area",
        "metric": "Metric",
        "show": "Show",
        "rank": "Rank",
        "score": "gap score",
        "at_least": "at least",
        "lower_bound_legend": "of these, lower bounds only, as data is missing",
        "misses": "Thresholds missed",
        "unknown_criteria": "Unknown",
        "reasons": "Reasons",
        "show_on_map": "show on the map",
        "chart": "Chart",
        "chart_desc": "One bar per area; the same values are in the table below.",
        "table": "Table",
        "legend": "Legend",
        "unknown_legend": "unknown (no data, not zero)",
        "left_out": "more in the table",
        "downloads": "Download",
        "method": "How it is computed",
        "sources": "Data, dates and licences",
        "layer": "Dataset",
        "licence": "Licence",
        "attribution": "Attribution",
        "dates": "Data as of",
        "survey": "Survey of the Thuringian prevention council",
        "survey_data": "From the data of this service",
        "survey_own": "Figures of the survey",
        "asskomm": "ASSKomm network in Saxony",
        "sorted_by": "sorted by",
        "ascending": "ascending",
        "descending": "descending",
        "sort_by": "sort by",
        "of": "of",
        "none": "none",
        "source": "source:",
    },
}


# The planner's reasons for a gap score (mapservice.planner.gaps), German and English. The
# placeholders are filled per language: numbers in that language's format, ``{share}`` and
# ``{target}`` as percentages, ``{body}`` with the body's own reason.
FINDING_TEXT: dict[str, tuple[str, str]] = {
    "officer_yes": ("Kontaktbereichsbeamte zuständig: {n}", "Responsible contact officers: {n}"),
    "officer_no": (
        "Kein zuständiger Kontaktbereichsbeamter erfasst",
        "No responsible contact officer recorded",
    ),
    "officer_unknown": (
        "Zuständiger Kontaktbereichsbeamter: unbekannt",
        "Responsible contact officer: unknown",
    ),
    "load_unknown": (
        "Einwohner bzw. Haushalte je Beamter: unbekannt",
        "Residents or households per officer: unknown",
    ),
    "load_residents_over": (
        "{value} Einwohner je Beamter – mehr als {limit}",
        "{value} residents per officer – more than {limit}",
    ),
    "load_residents_within": (
        "{value} Einwohner je Beamter – höchstens {limit}",
        "{value} residents per officer – at most {limit}",
    ),
    "load_households_over": (
        "{value} Haushalte je Beamter – mehr als {limit}",
        "{value} households per officer – more than {limit}",
    ),
    "load_households_within": (
        "{value} Haushalte je Beamter – höchstens {limit}",
        "{value} households per officer – at most {limit}",
    ),
    "distance_unknown": (
        "Entfernung zum nächsten Büro: unbekannt (keine Büros der Stadt erfasst)",
        "Distance to the nearest office: unknown (no offices of the city recorded)",
    ),
    "distance_over": (
        "Mittlere Entfernung zum nächsten Büro {mean} m – über der Gehentfernung von {walk} m",
        "Mean distance to the nearest office {mean} m – above the walking distance of {walk} m",
    ),
    "distance_within": (
        "Mittlere Entfernung zum nächsten Büro {mean} m – innerhalb der Gehentfernung von {walk} m",
        "Mean distance to the nearest office {mean} m – within the walking distance of {walk} m",
    ),
    "walk_unknown": (
        "Fläche in Gehentfernung eines Büros: unbekannt",
        "Area within walking distance of an office: unknown",
    ),
    "walk_below": (
        "{share} der Fläche höchstens {walk} m von einem Büro – unter dem Ziel von {target}",
        "{share} of the area within {walk} m of an office – below the target of {target}",
    ),
    "walk_met": (
        "{share} der Fläche höchstens {walk} m von einem Büro – mindestens dem Ziel von {target}",
        "{share} of the area within {walk} m of an office – at least the target of {target}",
    ),
    "body_active": ("Aktives Präventionsgremium", "Active prevention body"),
    "body_planned": ("Präventionsgremium nur geplant", "Prevention body only planned"),
    "body_dormant": ("Präventionsgremium ruht", "Prevention body dormant"),
    "body_dissolved": ("Präventionsgremium aufgelöst", "Prevention body dissolved"),
    "body_none_known": (
        "Präventionsgremium: unbekannt (keins erfasst)",
        "Prevention body: unknown (none on record)",
    ),
    "body_none": ("Laut Quelle kein Präventionsgremium", "No prevention body, according to the source"),
    "body_recorded": ("Präventionsgremium erfasst", "Prevention body on record"),
    "body_unclear": (
        "Präventionsgremium: ob es arbeitet, ist unbekannt (Status unklar)",
        "Prevention body: whether it works is unknown (status unclear)",
    ),
    "population_unknown": (
        "Einwohnerzahl unbekannt: ob ein Gremium erwartet wird, bleibt offen",
        "Population unknown: whether a body is expected stays open",
    ),
    "body_in_municipality": (
        "{body} (Gemeinde mit {population} Einwohnern)",
        "{body} (municipality of {population} inhabitants)",
    ),
}

# The planner's metrics (mapservice.planner.view): label, unit and column header ("" where the
# label is short enough), German and English.
METRIC_TEXT: dict[str, dict[str, tuple[str, str, str]]] = {
    "gap_score": {
        "de": ("Lückenwert (Summe der Unterschreitungen)", "Punkte", "Lückenwert"),
        "en": ("Gap score (sum of shortfalls)", "points", "Gap score"),
    },
    "distance_mean_m": {
        "de": ("Mittlere Entfernung zum nächsten Büro", "m", "Mittlere Entfernung"),
        "en": ("Mean distance to the nearest office", "m", "Mean distance"),
    },
    "distance_max_m": {
        "de": ("Größte Entfernung zum nächsten Büro", "m", "Größte Entfernung"),
        "en": ("Longest distance to the nearest office", "m", "Longest distance"),
    },
    "walk_share": {
        "de": ("Fläche in Gehentfernung eines Büros", "%", "In Gehentfernung"),
        "en": ("Area within walking distance of an office", "%", "Within walking distance"),
    },
    "households_per_officer": {
        "de": ("Haushalte je Kontaktbereichsbeamter", "Haushalte", "Haushalte je Beamter"),
        "en": ("Households per contact officer", "households", "Households per officer"),
    },
    "officers": {
        "de": ("Zuständige Kontaktbereichsbeamte", "Personen", "Beamte"),
        "en": ("Responsible contact officers", "persons", "Officers"),
    },
    "officer_recorded": {
        "de": ("Kontaktbereichsbeamter zuständig", "", "Beamter zuständig"),
        "en": ("Contact officer responsible", "", "Officer responsible"),
    },
    "households": {
        "de": ("Private Haushalte", "Haushalte", "Haushalte"),
        "en": ("Private households", "households", "Households"),
    },
    "graffiti_zones": {
        "de": ("Legale Graffitiflächen", "Flächen", "Graffitiflächen"),
        "en": ("Legal graffiti zones", "zones", "Graffiti zones"),
    },
    "graffiti_area_m2": {
        "de": ("Fläche legaler Graffitiflächen", "m²", "Graffiti-Fläche"),
        "en": ("Area of legal graffiti zones", "m²", "Graffiti area"),
    },
    "cameras_active": {
        "de": ("Aktive Kameras", "Kameras", "Kameras"),
        "en": ("Active cameras", "cameras", "Cameras"),
    },
    "camera_fov_share": {
        "de": ("Fläche im Sichtbereich von Kameras", "%", "Im Kamerablick"),
        "en": ("Area inside camera fields of view", "%", "In camera view"),
    },
    "prevention_status": {
        "de": ("Präventionsgremium", "", "Gremium"),
        "en": ("Prevention body", "", "Body"),
    },
    "population": {
        "de": ("Einwohner", "Einwohner", ""),
        "en": ("Population", "inhabitants", ""),
    },
    "large_town": {
        "de": ("Stadt ab 10.000 Einwohnern", "", "ab 10.000"),
        "en": ("Town of 10,000 inhabitants or more", "", "10,000+"),
    },
    "asskomm_stage": {
        "de": ("Stand bei ASSKomm (Sachsen)", "", "ASSKomm"),
        "en": ("ASSKomm stage (Saxony)", "", "ASSKomm"),
    },
    "survey_status": {
        "de": ("Stand der Umfrage", "", "Umfrage"),
        "en": ("Survey status", "", "Survey"),
    },
}
# The legend entries of the planner's category metrics, by metric and value.
CATEGORY_TEXT: dict[str, dict[object, tuple[str, str]]] = {
    "prevention_status": {
        "active": ("aktiv", "active"),
        "planned": ("geplant", "planned"),
        "dormant": ("ruhend", "dormant"),
        "unclear": ("unklar", "unclear"),
        "dissolved": ("aufgelöst", "dissolved"),
        "none": ("laut Quelle keins", "none, according to the source"),
        "none_known": ("keins bekannt (unbekannt)", "none known (unknown)"),
    },
    "officer_recorded": {
        "yes": ("ja", "yes"),
        "no": ("nein", "no"),
        "unknown": ("unbekannt", "unknown"),
    },
    "asskomm_stage": {
        "agreement": ("Kooperationsvereinbarung", "cooperation agreement"),
        "pre_agreement": ("Vorvereinbarung", "pre-agreement"),
        "participant": ("Teilnahme", "participant"),
        "contacted": ("Kontakt", "contacted"),
        None: ("keine Teilnahme bekannt", "no participation known"),
    },
    "survey_status": {
        "answered": ("geantwortet", "answered"),
        "asked": ("gefragt, noch keine Antwort", "asked, no answer yet"),
        "no_answer": ("keine Antwort", "no answer"),
        None: ("nicht gefragt", "not asked"),
    },
    "large_town": {
        True: ("ab 10.000 Einwohner", "10,000 inhabitants or more"),
        False: ("unter 10.000 Einwohner", "under 10,000 inhabitants"),
        None: ("Einwohnerzahl unbekannt", "population unknown"),
    },
}
# A numeric legend class: the first one, and every one after it.
LEGEND_RANGE = {
    "de": ("{low} bis {up}", "über {low} bis {up}"),
    "en": ("{low} to {up}", "over {low} to {up}"),
}


# The calendar feeds (mapservice.finder.calendar): a feed is German, like the pages linking it.
CALENDAR_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "cal_phone": "Telefon",
        "cal_mobile": "Mobil",
        "cal_email": "E-Mail",
        "cal_registration": "Anmeldung",
        "cal_note": "Hinweis",
        "cal_appointment": "Termin",
        "cal_office_hours": "Sprechzeit",
        "cal_regular_hours": "Regelmäßige Sprechzeiten",
        "cal_city": "Sprechzeiten {city}",
    },
    "en": {
        "cal_phone": "Phone",
        "cal_mobile": "Mobile",
        "cal_email": "E-mail",
        "cal_registration": "Registration",
        "cal_note": "Note",
        "cal_appointment": "Appointment",
        "cal_office_hours": "Office hours",
        "cal_regular_hours": "Regular office hours",
        "cal_city": "Office hours {city}",
    },
}

# The finder's notes and texts (mapservice.finder.locate, templates/finder/): the notes about
# responsible and nearest offices, distances, and the page's headings for them.
LOCATE_NOTES: dict[str, dict[str, str]] = {
    "de": {
        "no_officer_for_district": "Für diesen Ortsteil ist keine zuständige Kontaktperson erfasst.",
        "no_district_for_place": (
            "Für diesen Ort ist kein Ortsteil und keine zuständige Kontaktperson erfasst."
        ),
        "no_officer_for_district_town": (
            "Für diesen Ortsteil ist keine eigene Kontaktperson erfasst, nur Stellen für die ganze Stadt."
        ),
        "no_district_for_place_town": (
            "Für diesen Ort ist kein Ortsteil erfasst, nur Stellen für die ganze Stadt."
        ),
        "nearest_none_radius": (
            "Im Umkreis von {radius} km ist keine Dienststelle mit bekannter Lage erfasst."
        ),
        "nearest_none_municipality": (
            "In {municipality} ist im Umkreis von {radius} km keine Dienststelle mit bekannter Lage erfasst."
        ),
        "nearest_rule_radius": (
            "Im Umkreis von {radius} km (Luftlinie); Präventionsstellen und Bürgersprechstunden "
            "nur der eigenen Gemeinde."
        ),
        "nearest_rule_municipality": "In {municipality}, im Umkreis von {radius} km (Luftlinie).",
        "walking": "etwa {minutes} min zu Fuß",
        "straight_line": "Luftlinie",
        "under_10_m": "unter 10 m",
        "about": "etwa {distance}",
        "near_approximate": "in der Nähe (die Lage der Dienststelle ist nur ungefähr bekannt)",
        "distance_rule": (
            "Entfernungen in Luftlinie; Gehzeit bis {max} geschätzt mit {speed} km/h, darüber keine Gehzeit."
        ),
        "responsible": "Zuständig",
        "responsible_district": "Zuständig für den Ortsteil {district}",
        "responsible_town": "Für die ganze Stadt {municipality} zuständig",
        "nearest": "Nächste Dienststellen",
        "distance": "Entfernung",
        "route": "Route (OpenStreetMap)",
    },
    "en": {
        "no_officer_for_district": "No responsible contact person is recorded for this district.",
        "no_district_for_place": "No district and no responsible contact person are recorded for this place.",
        "no_officer_for_district_town": (
            "No contact person of its own is recorded for this district, only offices for the whole town."
        ),
        "no_district_for_place_town": (
            "No district is recorded for this place, only offices for the whole town."
        ),
        "nearest_none_radius": "No office with a known location is recorded within {radius} km.",
        "nearest_none_municipality": (
            "No office with a known location is recorded in {municipality} within {radius} km."
        ),
        "nearest_rule_radius": (
            "Within {radius} km (straight line); prevention offices and citizens' consultations "
            "of the own municipality only."
        ),
        "nearest_rule_municipality": "In {municipality}, within {radius} km (straight line).",
        "walking": "about {minutes} min on foot",
        "straight_line": "straight line",
        "under_10_m": "under 10 m",
        "about": "about {distance}",
        "near_approximate": "close by (the office's location is only approximately known)",
        "distance_rule": (
            "Straight-line distances; walking time up to {max} estimated at {speed} km/h, none beyond."
        ),
        "responsible": "Responsible",
        "responsible_district": "Responsible for the district {district}",
        "responsible_town": "Responsible for the whole town of {municipality}",
        "nearest": "Nearest offices",
        "distance": "Distance",
        "route": "Route (OpenStreetMap)",
    },
}

# The finder's answers when the address directory has no (single) answer, and its coverage
# listing (mapservice.finder.routes, templates/finder/finder.html). The English texts are
# also the JSON descriptions of /api/locate.
GEOCODE_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "not_found": "Adresse nicht gefunden",
        "street_unknown": "Die Straße „{street}“ steht nicht im Adressverzeichnis.",
        "street_unknown_in": "Die Straße „{street}“ steht für {place} nicht im Adressverzeichnis.",
        "street_elsewhere": "Die Straße „{street}“ steht im Adressverzeichnis, aber nicht für {place}.",
        "no_street": "In „{address}“ ist keine Straße zu erkennen.",
        "did_you_mean": "Meinten Sie:",
        "elsewhere": "Diese Straße gibt es hier:",
        "click_map": "Sie können stattdessen Ihren Standort auf der Karte unten anklicken.",
        "no_js": (
            "Ohne JavaScript können Sie die Koordinaten Ihres Standorts angeben "
            "(WGS 84 in Dezimalgrad, z. B. aus einer Karten-App):"
        ),
        "lat": "Breite",
        "lon": "Länge",
        "search_point": "Koordinaten suchen",
        "choose": "Bitte genauer angeben",
        "places": "„{address}“ gibt es mehrfach. Bitte wählen Sie:",
        "no_housenumber": (
            "Die Straße „{street}“ hat mehrere Hausnummern. Bitte geben Sie die Hausnummer an "
            "oder wählen Sie:"
        ),
        "housenumber": (
            "Die Hausnummer {housenumber} steht für „{street}“ nicht im Adressverzeichnis. "
            "Die nächsten Hausnummern dieser Straße:"
        ),
        "coverage": "Welche Adressen die Suche kennt",
        "coverage_places": "Orte im Adressverzeichnis",
        "coverage_more": "und {count} weitere Orte",
        "coverage_none": (
            "Es sind keine Adressdaten eingespielt: die Suche kennt nur die Anschriften der Dienststellen."
        ),
        "coverage_sources": "Quellen",
        "coverage_offices": "Anschriften der Dienststellen: {count} ({places})",
        "coverage_responsible": "Zuständigkeiten sind erfasst für",
        "coverage_unassigned": "Ortsteile, aber noch keine Zuständigkeiten sind erfasst für",
        "source_line": "{count} Adressen, Stand {date}",
        "licence": "Lizenz",
        "licence_unknown": "Lizenz nicht angegeben",
        "format_hauskoordinaten": "amtliche Hauskoordinaten",
        "format_osm": "OpenStreetMap",
        "format_csv": "CSV-Datei",
    },
    "en": {
        "not_found": "Address not found",
        "street_unknown": "The street '{street}' is not in the address directory.",
        "street_unknown_in": "The street '{street}' is not in the address directory for {place}.",
        "street_elsewhere": "The street '{street}' is in the address directory, but not for {place}.",
        "no_street": "No street can be made out in '{address}'.",
        "did_you_mean": "Did you mean:",
        "elsewhere": "This street exists here:",
        "click_map": "You can click your location on the map below instead.",
        "no_js": (
            "Without JavaScript you can give the coordinates of your location "
            "(WGS 84 in decimal degrees, e.g. from a map app):"
        ),
        "lat": "Latitude",
        "lon": "Longitude",
        "search_point": "Search coordinates",
        "choose": "Please be more precise",
        "places": "'{address}' exists more than once. Please choose:",
        "no_housenumber": (
            "The street '{street}' has several house numbers. Please give the number or choose:"
        ),
        "housenumber": (
            "House number {housenumber} of '{street}' is not in the address directory. "
            "The nearest numbers of this street:"
        ),
        "coverage": "Which addresses the search knows",
        "coverage_places": "Places in the address directory",
        "coverage_more": "and {count} more places",
        "coverage_none": "No address data is imported: the search knows only the offices' own addresses.",
        "coverage_sources": "Sources",
        "coverage_offices": "Addresses of the offices: {count} ({places})",
        "coverage_responsible": "Responsibilities are recorded for",
        "coverage_unassigned": "Districts, but no responsibilities yet, are recorded for",
        "source_line": "{count} addresses, as of {date}",
        "licence": "licence",
        "licence_unknown": "licence not given",
        "format_hauskoordinaten": "official house coordinates",
        "format_osm": "OpenStreetMap",
        "format_csv": "CSV file",
    },
}

# The planner's counts of bodies, the ASSKomm line and "how it is computed"
# (templates/planner/planner.html). Numbers arrive formatted for the language.
PLANNER_PROSE: dict[str, dict[str, str]] = {
    "de": {
        "live_survey": "Umfrage mit diesem Dienst:",
        "live_survey_figures": (
            "{asked} gefragt, {answered} geantwortet ({answered_share}), {active} mit aktivem Gremium "
            "({active_share} der Gefragten), {planned} mit geplantem, {none} ohne Gremium. Gezählt "
            "sind geprüfte Antworten; {pending} warten auf Prüfung, {rejected} nicht übernommen."
        ),
        "live_survey_dates": "Gestartet am {created}, Einsendeschluss {closes}{closed}.",
        "live_survey_closed": " (beendet)",
        "survey_computed": (
            "{large_towns} Thüringer Gemeinden haben laut Daten mindestens {threshold} Einwohner "
            "(Gebietsstand 2016, Einwohner 2018; {unknown} Gemeinden ohne Einwohnerzahl). Die Umfrage "
            "zählte Städte oder Verwaltungsgemeinschaften, daher weichen die Zahlen ab."
        ),
        "body_active": "Aktives Gremium erfasst",
        "body_not_active": "Gremium erfasst, nicht aktiv",
        "body_unknown": "Unbekannt: kein Gremium erfasst oder Status unklar",
        "asskomm_counts": (
            "In den Daten dieses Dienstes: {agreement} mit Kooperationsvereinbarung, {participant} mit "
            "Teilnahme. Die übrigen Partner des Netzwerks sind nicht erfasst."
        ),
        "method_intro": (
            "Der Lückenwert ist die Summe der Unterschreitungen, je Kriterium zwischen 0 (Schwelle "
            "erreicht) und 1 (weit verfehlt). Unbekannte Kriterien zählen nicht mit und werden als "
            "„unbekannt“ genannt; der Wert ist dann eine Untergrenze."
        ),
        "method_officer": "Kein zuständiger Kontaktbereichsbeamter erfasst: 1.",
        "method_residents": (
            "Einwohner je Beamter über {residents} (wo nur Haushalte bekannt sind: über {households} "
            "Haushalte): Wert ÷ Schwelle − 1."
        ),
        "method_distance": (
            "Mittlere Entfernung zum nächsten Büro über {walk}: Entfernung ÷ {walk} − 1. Gemessen über "
            "ein Raster mit {grid} Abstand, gewichtet mit den Haushalten der statistischen Bezirke, wo "
            "bekannt. Als Büro zählen: {kinds}."
        ),
        "method_share": (
            "Weniger als {share} der Fläche höchstens {walk} von einem Büro: (Ziel − Anteil) ÷ Ziel."
        ),
        "method_body": (
            "Präventionsgremium: laut Quelle keins oder aufgelöst 1, geplant oder ruhend 0,5, aktiv 0; "
            "keins bekannt oder Status unklar: unbekannt. Für Gemeinden nur ab {population} Einwohnern."
        ),
        "method_not_scored": (
            "Videoüberwachung und Graffitiflächen werden gezeigt, aber nicht bewertet: mehr Kameras sind "
            "kein Ziel, und legale Wände folgen dem örtlichen Bedarf. Jede Schwelle ist eine Einstellung "
            "des Dienstes."
        ),
    },
    "en": {
        "live_survey": "Survey run with this service:",
        "live_survey_figures": (
            "{asked} asked, {answered} answered ({answered_share}), {active} with an active body "
            "({active_share} of those asked), {planned} with a planned one, {none} without a body. "
            "Reviewed answers are counted; {pending} are waiting for review, {rejected} not taken over."
        ),
        "live_survey_dates": "Started on {created}, closing date {closes}{closed}.",
        "live_survey_closed": " (ended)",
        "survey_computed": (
            "According to the data, {large_towns} Thuringian municipalities have at least {threshold} "
            "inhabitants (boundaries 2016, population 2018; {unknown} municipalities without a "
            "population figure). The survey counted cities or administrative communities, so the "
            "numbers differ."
        ),
        "body_active": "Active body on record",
        "body_not_active": "Body on record, not active",
        "body_unknown": "Unknown: no body on record or status unclear",
        "asskomm_counts": (
            "In the data of this service: {agreement} with a cooperation agreement, {participant} "
            "participating. The network’s other partners are not on record."
        ),
        "method_intro": (
            "The gap score is the sum of shortfalls, each criterion between 0 (threshold met) and 1 "
            '(far off). Unknown criteria add nothing and are listed as "unknown"; the score is then '
            "a lower bound."
        ),
        "method_officer": "No responsible contact officer recorded: 1.",
        "method_residents": (
            "Residents per officer above {residents} (where only households are known: above "
            "{households} households): value ÷ threshold − 1."
        ),
        "method_distance": (
            "Mean distance to the nearest office above {walk}: distance ÷ {walk} − 1. Measured over a "
            "grid of {grid}, weighted by the households of the statistical districts where known. "
            "Offices are: {kinds}."
        ),
        "method_share": (
            "Less than {share} of the area within {walk} of an office: (target − share) ÷ target."
        ),
        "method_body": (
            "Prevention body: none according to the source, or dissolved 1, planned or dormant 0.5, "
            "active 0; none known or status unclear: unknown. For municipalities only from "
            "{population} inhabitants."
        ),
        "method_not_scored": (
            "Video surveillance and graffiti walls are shown but not scored: more cameras are not a "
            "goal, and legal walls follow local demand. Every threshold is a setting of the service."
        ),
    },
}

# The API documentation page (templates/api/openapi.html): what each operation does, by the
# start of its operationId, and what each common parameter means. The OpenAPI document
# itself stays in English, the language of its readers' tools.
OPENAPI_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "op_getLandingPage": "Startseite der API",
        "op_getConformanceDeclaration": "Konformitätsklassen",
        "op_getOpenAPI": "Dieses Dokument",
        "op_getCollections": "Sammlungen",
        "op_describeCollection": "Beschreibung der Sammlung",
        "op_getItems": "Objekte",
        "op_getItem": "ein Objekt",
        "op_createItem": "Objekt anlegen",
        "op_replaceItem": "Objekt ersetzen",
        "op_updateItem": "Objekt ändern",
        "op_deleteItem": "Objekt löschen",
        "op_getItemHistory": "Änderungen des Objekts",
        "op_getQueryables": "Abfragbare Eigenschaften",
        "op_getSchema": "Schema der Objekte (Teil 5; f=xsd: GML-Anwendungsschema)",
        "p_getSchema_f": "Format: json (Standard, JSON Schema) oder xsd (GML-Anwendungsschema).",
        "p_f": "Format: json (Standard) oder html; ohne Angabe entscheidet der Accept-Header.",
        "p_bbox": (
            "Nur Objekte, deren Geometrie das Rechteck schneidet: minLon,minLat,maxLon,maxLat "
            "in CRS84 (WGS 84 Länge/Breite) oder Minima und Maxima der Achsen von bbox-crs in "
            "deren Reihenfolge (EPSG:4326: minLat,minLon,maxLat,maxLon; EPSG:25832: Rechts-, "
            "dann Hochwert)."
        ),
        "p_bbox-crs": "Koordinatensystem von bbox (ohne Angabe CRS84).",
        "p_crs": (
            "Koordinatensystem der Antwort, in seiner Achsenreihenfolge (EPSG:4326: Breite, "
            "Länge); der Header Content-Crs nennt es. Ohne Angabe CRS84."
        ),
        "p_limit": "Objekte je Seite (1 bis 10000).",
        "p_offset": "Zahl der übersprungenen Objekte (zum Blättern: dem next-Link folgen).",
        "p_datetime": (
            "Zeitpunkt oder Zeitraum (RFC 3339, „..“ für offene Enden). Sammlungen ohne "
            "Gültigkeitsdaten haben keine Zeitangabe, dann passt nichts."
        ),
        "p_sortby": "Eigenschaften durch Kommas getrennt, „-“ davor für absteigend.",
        "p_properties": "Nur diese Eigenschaften (durch Kommas getrennt).",
        "p_skipGeometry": "true: Objekte ohne Geometrie.",
        "p_after": (
            "Markierung, die next-Links mitgeben, damit eine Seite tief in einer großen Sammlung "
            "nicht mehr kostet als die erste; sie gilt nur zusammen mit dem offset, mit dem sie "
            "kam, und offset allein ergibt dieselbe Seite."
        ),
        "p_filter": (
            "CQL2-Filter über die abfragbaren Eigenschaften, z. B. population > 10000 AND "
            "kreis = 'Zwickau'. Vergleiche = <> < <= > >=, LIKE (% und _, Groß- und "
            "Kleinschreibung zählen), IN, BETWEEN, IS NULL, verknüpft mit AND, OR und NOT; "
            "räumlich S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, "
            "S_OVERLAPS und S_EQUALS der Eigenschaft geometry mit einer WKT-, BBOX- oder "
            "GeoJSON-Geometrie; Datumsangaben als DATE('2023-01-01'). Höchstens 200 "
            "Bedingungen, 20 Klammerebenen und 500 Werte in einer IN-Liste."
        ),
        "p_filter-lang": "Sprache von filter: cql2-text (Standard) oder cql2-json.",
        "p_filter-crs": (
            "Koordinatensystem der Geometrien in filter, in seiner Achsenreihenfolge (ohne Angabe CRS84)."
        ),
        "p_featureId": "Kennung des Objekts",
        "p_If-Match": "Das ETag aus dem GET auf das Objekt",
        "filter": "Filter nach Eigenschaft",
        "filter_list": "Filter: die Liste enthält den Wert",
    },
    "en": {
        "op_getLandingPage": "Landing page of the API",
        "op_getConformanceDeclaration": "Conformance classes",
        "op_getOpenAPI": "This document",
        "op_getCollections": "Collections",
        "op_describeCollection": "Description of the collection",
        "op_getItems": "Items",
        "op_getItem": "One item",
        "op_createItem": "Create an item",
        "op_replaceItem": "Replace the item",
        "op_updateItem": "Update the item",
        "op_deleteItem": "Delete the item",
        "op_getItemHistory": "Change history of the item",
        "op_getQueryables": "Queryable properties",
        "op_getSchema": "Schema of the features (Part 5; f=xsd: GML application schema)",
        "p_getSchema_f": "Format: json (default, JSON Schema) or xsd (GML application schema).",
        "p_f": "Format: json (default) or html; without it the Accept header decides.",
        "p_bbox": (
            "Only features whose geometry intersects the box: minLon,minLat,maxLon,maxLat in "
            "CRS84 (WGS 84 lon/lat), or the minima and maxima of the axes of bbox-crs in its "
            "axis order (EPSG:4326: minLat,minLon,maxLat,maxLon; EPSG:25832: easting, then "
            "northing)."
        ),
        "p_bbox-crs": "CRS of bbox (CRS84 when not given).",
        "p_crs": (
            "CRS of the response's coordinates, in its axis order (EPSG:4326: lat, lon); the "
            "Content-Crs header names it. CRS84 when not given."
        ),
        "p_limit": "Features per page (1 to 10000).",
        "p_offset": "Number of features to skip (for paging, follow the next link).",
        "p_datetime": (
            "Instant or interval (RFC 3339, '..' for open ends). Collections without validity "
            "dates have no temporal geometry, so nothing matches."
        ),
        "p_sortby": "Comma-separated properties, '-' before one for descending.",
        "p_properties": "Only these properties (comma-separated).",
        "p_skipGeometry": "true: features without geometry.",
        "p_after": (
            "Cursor that next links carry, so that a page deep in a large collection costs no "
            "more than the first; it only applies together with the offset it came with, and "
            "offset alone gives the same page."
        ),
        "p_filter": (
            "CQL2 filter over the queryable properties, e.g. population > 10000 AND "
            "kreis = 'Zwickau'. Comparisons = <> < <= > >=, LIKE (% and _, case-sensitive), "
            "IN, BETWEEN, IS NULL, joined with AND, OR and NOT; spatial S_INTERSECTS, "
            "S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS and S_EQUALS "
            "of the property geometry with a WKT, BBOX or GeoJSON geometry; dates as "
            "DATE('2023-01-01'). At most 200 conditions, 20 levels of parentheses and 500 "
            "values in an IN list."
        ),
        "p_filter-lang": "Language of filter: cql2-text (default) or cql2-json.",
        "p_filter-crs": "CRS of the geometries in filter, in its axis order (CRS84 when not given).",
        "p_featureId": "Identifier of the item",
        "p_If-Match": "The ETag from GET on the item",
        "filter": "Filter by property",
        "filter_list": "Filter: the list contains the value",
    },
}

# A metric's unit after the number 1, by metric: "1 Punkt", not "1 Punkte"
# (mapservice.planner.view.fmt_value).
UNIT_SINGULAR: dict[str, tuple[str, str]] = {
    "gap_score": ("Punkt", "point"),
    "households": ("Haushalt", "household"),
    "households_per_officer": ("Haushalt", "household"),
    "officers": ("Person", "person"),
    "graffiti_zones": ("Fläche", "zone"),
    "cameras_active": ("Kamera", "camera"),
    "population": ("Einwohner", "inhabitant"),
}

# The names of the Länder the planner covers, by their code (AGS prefix).
LAND_NAMES: dict[str, dict[str, str]] = {
    "de": {"14": "Sachsen", "16": "Thüringen"},
    "en": {"14": "Saxony", "16": "Thuringia"},
}

# The finder page's own words (templates/finder/finder.html); the ``js_`` texts are read by
# static/js/finder.js from a JSON data block.
FINDER_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Kontaktbereichsbeamte finden",
        "heading": "Wer ist für mich zuständig?",
        "intro": (
            "Adresse eingeben – oder Ihren Standort bzw. einen Punkt auf der Karte wählen. Wir zeigen "
            "Ortsteil, zuständige Kontaktbereichsbeamte, die nächsten Dienststellen und ihre Sprechzeiten."
        ),
        "address": "Adresse",
        "search": "Suchen",
        "use_location": "Meinen Standort verwenden",
        "result": "Ergebnis",
        "place": "Ort",
        "precision": "Genauigkeit",
        "match": "Übereinstimmung",
        "municipality": "Gemeinde",
        "pick_map": "Karte: Punkt wählen",
        "pick_hint": "Oder klicken Sie auf die Karte, um einen Punkt zu wählen.",
        "js_locating": "Standort wird ermittelt …",
        "js_no_location": "Kein Standort:",
        # The reasons of the Geolocation API's error codes 1, 2 and 3 (the browser's own
        # message is in the browser's language, not the page's).
        "js_error_1": "Die Standortfreigabe wurde abgelehnt.",
        "js_error_2": "Der Standort ist nicht verfügbar.",
        "js_error_3": "Die Standortbestimmung hat zu lange gedauert.",
        "js_your_point": "Ihr Punkt",
    },
    "en": {
        "title": "Find your contact officer",
        "heading": "Who is my contact officer?",
        "intro": (
            "Enter an address, or use your location or a point on the map. You get your district, "
            "the responsible contact officers, the nearest offices and their office hours."
        ),
        "address": "Address",
        "search": "Search",
        "use_location": "Use my location",
        "result": "Result",
        "place": "Place",
        "precision": "precision",
        "match": "match",
        "municipality": "Municipality",
        "pick_map": "Map: choose a point",
        "pick_hint": "Or click the map to choose a point.",
        "js_locating": "Locating …",
        "js_no_location": "No location:",
        "js_error_1": "Permission to use your location was denied.",
        "js_error_2": "Your location is not available.",
        "js_error_3": "Finding your location took too long.",
        "js_your_point": "Your point",
    },
}

# The page frame (templates/base.html), the home page and the API's HTML pages
# (templates/pages/index.html, templates/api/): one language per page.
PAGE_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "skip_content": "Zum Inhalt springen",
        "main_nav": "Hauptnavigation",
        "nav_home": "Startseite",
        "nav_finder": "Kontaktbeamte finden",
        "nav_planner": "Planung",
        "nav_collections": "Sammlungen",
        "other_lang": "English",
        "other_lang_code": "en",
        "site_subtitle": "kommunale Kriminalprävention auf der Karte",
        "site_intro": (
            "Ortsteile, Kontaktbereichsbeamte und ihre Sprechzeiten, Präventionsgremien, legale "
            "Graffitiflächen und Videoüberwachung im öffentlichen Raum – für Bürgerinnen und Bürger, "
            "Planende und Städte."
        ),
        "data": "Daten",
        "data_caption": "Sammlungen mit Anzahl, Stand, Lizenz und Quelle",
        "collection": "Sammlung",
        "features": "Objekte",
        "updated": "Geändert",
        "licence": "Lizenz",
        "attribution": "Quelle",
        "gis_hint": "OGC API – Features, z. B. in QGIS: Layer › Layer hinzufügen › WFS / OGC API – Features",
        "links": "Links",
        "api_intro": (
            "Ortsteile, Kontaktbereichsbeamte, Sprechzeiten, Präventionsgremien, legale "
            "Graffitiflächen und Videoüberwachung als OGC API – Features."
        ),
        "collections": "Sammlungen",
        "all_collections": "Alle Sammlungen",
        "title": "Titel",
        "description": "Beschreibung",
        "extent": "Ausdehnung (Länge/Breite)",
        "items_count": "{matched} Objekte insgesamt, hier {shown} ab Nr. {first}",
        "items_none": "Keine Objekte gefunden.",
        "filter_label": "Filter (CQL2)",
        "filter_apply": "Filtern",
        "filter_example": "Zum Beispiel:",
        "filter_hint": "Die Eigenschaften sind die Spalten der Tabelle. Alle Vergleiche nennt die",
        "pages": "Seiten",
        "location": "Lage",
        "properties": "Eigenschaften",
        "geometry": "Geometrie",
        "conformance": "Konformitätsklassen",
        "queryables": "Abfragbare Eigenschaften",
        "queryables_caption": "Als Parameter name=wert nutzbar",
        "type": "Typ",
        "values": "Werte",
        "api_doc": "API-Dokumentation",
        "parameters": "Parameter",
        "name": "Name",
        # The links of a JSON document, shown on its HTML page: "self" is the JSON.
        "rel_self": "diese Seite als JSON",
        "rel_self_html": "diese Seite",
        "rel_alternate": "diese Seite als HTML",
        "rel_service-desc": "API-Definition (OpenAPI 3.0)",
        "rel_service-doc": "API-Dokumentation",
        "rel_conformance": "Konformitätsklassen",
        "rel_data": "Sammlungen",
        "rel_collection": "Sammlung",
        "rel_items": "Objekte",
        "rel_items_html": "Objekte als HTML",
        "rel_http://www.opengis.net/def/rel/ogc/1.0/queryables": "Abfragbare Eigenschaften",
        "rel_describedby": "Schema der Objekte (JSON Schema)",
        "rel_http://www.opengis.net/def/rel/ogc/1.0/schema": "Schema der Objekte (OGC)",
        "rel_describedBy": "Schema der Objekte (GML-Anwendungsschema)",
        "rel_next": "nächste Seite",
        "rel_prev": "vorige Seite",
        "yes": "ja",
        "no": "nein",
        "unknown": "unbekannt",
        "opt_zoomControl": "Zoom-Knöpfe",
        "opt_scrollWheelZoom": "Zoomen mit dem Mausrad",
        "opt_locateControl": "Eigenen Standort zeigen",
        "opt_fullscreenControl": "Vollbild",
        "opt_captionBar": "Titelzeile",
    },
    "en": {
        "skip_content": "Skip to content",
        "main_nav": "Main navigation",
        "nav_home": "Home",
        "nav_finder": "Find contact officers",
        "nav_planner": "Planner",
        "nav_collections": "Collections",
        "other_lang": "Deutsch",
        "other_lang_code": "de",
        "site_subtitle": "municipal crime prevention on the map",
        "site_intro": (
            "Districts, police contact officers and their office hours, prevention bodies, legal "
            "graffiti zones and video surveillance of public space – for citizens, planners and towns."
        ),
        "data": "Data",
        "data_caption": "Collections with count, date, licence and attribution",
        "collection": "Collection",
        "features": "Features",
        "updated": "Updated",
        "licence": "Licence",
        "attribution": "Attribution",
        "gis_hint": "OGC API – Features, e.g. in QGIS: Layer › Add Layer › WFS / OGC API – Features",
        "links": "Links",
        "api_intro": (
            "Districts, contact officers, office hours, prevention bodies, legal graffiti zones "
            "and video surveillance as OGC API – Features."
        ),
        "collections": "Collections",
        "all_collections": "All collections",
        "title": "Title",
        "description": "Description",
        "extent": "Extent (lon/lat)",
        "items_count": "{matched} features in all, {shown} shown from no. {first}",
        "items_none": "No features found.",
        "filter_label": "Filter (CQL2)",
        "filter_apply": "Apply filter",
        "filter_example": "For example:",
        "filter_hint": "The properties are the columns of the table. All comparisons are listed in the",
        "pages": "Pages",
        "location": "Location",
        "properties": "Properties",
        "geometry": "Geometry",
        "conformance": "Conformance classes",
        "queryables": "Queryable properties",
        "queryables_caption": "Usable as parameters name=value",
        "type": "Type",
        "values": "Values",
        "api_doc": "API documentation",
        "parameters": "Parameters",
        "name": "Name",
        "rel_self": "this page as JSON",
        "rel_self_html": "this page",
        "rel_alternate": "this page as HTML",
        "rel_service-desc": "API definition (OpenAPI 3.0)",
        "rel_service-doc": "API documentation",
        "rel_conformance": "Conformance classes",
        "rel_data": "Collections",
        "rel_collection": "Collection",
        "rel_items": "Features",
        "rel_items_html": "Features as HTML",
        "rel_http://www.opengis.net/def/rel/ogc/1.0/queryables": "Queryable properties",
        "rel_describedby": "Feature schema (JSON Schema)",
        "rel_http://www.opengis.net/def/rel/ogc/1.0/schema": "Feature schema (OGC)",
        "rel_describedBy": "Feature schema (GML application schema)",
        "rel_next": "next page",
        "rel_prev": "previous page",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "opt_zoomControl": "Zoom buttons",
        "opt_scrollWheelZoom": "Scroll-wheel zoom",
        "opt_locateControl": "Show my location",
        "opt_fullscreenControl": "Full screen",
        "opt_captionBar": "Caption bar",
    },
}


# Errors as a page shows them (the JSON API keeps its English ``description``): by the key an
# ApiError carries, filled from its params; an error without a key gets the generic text.
ERROR_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title_404": "Nicht gefunden",
        "title_422": "Außerhalb des Gebiets",
        "title_400": "Eingabe prüfen",
        "generic": "Die Angabe „{parameter}“ ist ungültig.",
        "generic_status": "Die Anfrage konnte nicht beantwortet werden (Fehler {status}).",
        "both_coords": "Bitte geben Sie Breite und Länge an (WGS 84, Dezimalgrad).",
        "not_numbers": "Breite und Länge müssen Zahlen sein, angegeben: „{lat}“, „{lon}“.",
        "not_coords": (
            "Breite {lat} / Länge {lon} sind keine Koordinaten (Breite −90 bis 90, Länge −180 bis 180)."
        ),
        "not_both": "Bitte geben Sie entweder Koordinaten oder eine Adresse an, nicht beides.",
        "no_input": "Bitte geben Sie eine Adresse an (z. B. „Anna-Siemsen-Str. 27, Jena“) oder Koordinaten.",
        "address_empty": "Bitte geben Sie eine Adresse ein.",
        "address_long": "Die Adresse ist länger als {max} Zeichen.",
        "outside": "Dieser Punkt liegt außerhalb der erfassten Gemeinden: {names}.",
        "title_405": "Nicht möglich",
        "title_500": "Fehler im Dienst",
        "title_503": "Vorübergehend nicht verfügbar",
        "no_page": "Diese Seite gibt es nicht.",
        "title_410": "Nicht mehr möglich",
        "title_429": "Zu viele Versuche",
        "survey_unknown": (
            "Diesen Umfrage-Link gibt es nicht. Bitte prüfen Sie, ob Sie ihn vollständig übernommen haben."
        ),
        "survey_closed": (
            "Diese Umfrage ist beendet; Antworten werden nicht mehr angenommen. Einsendeschluss war "
            "der {closes}."
        ),
        "survey_rate_limited": (
            "Zu viele ungültige Links von diesem Anschluss. Bitte versuchen Sie es in {minutes} "
            "Minuten wieder."
        ),
        "unknown_map": "Eine Karte „{map}“ gibt es nicht. Diese Karten gibt es:",
        "unknown_area": "Für „{area}“ sind keine Daten gespeichert. Diese Gebiete gibt es:",
        "unknown_collection": "Eine Sammlung „{collection}“ gibt es nicht. Diese Sammlungen gibt es:",
        "unknown_params": "Diese Angabe kennt die Seite nicht: {names}. Möglich sind: {allowed}.",
        "no_feature": "Dieses Objekt gibt es nicht oder nicht mehr.",
        # CQL2 filters (ogcapi/cql2.py FilterError keys); the API's own message is English.
        "filter_invalid": (
            "Der Filter lässt sich so nicht verwenden. Wie Filter aussehen, beschreibt die API-Dokumentation."
        ),
        "filter_syntax": (
            "Der Filter ist an Stelle {position} nicht lesbar („{excerpt}“). Erwartet wird dort eine "
            "Eigenschaft, ein Vergleich wie = < LIKE IN BETWEEN IS NULL, ein Text in einfachen "
            "Anführungszeichen, eine Zahl oder eine Geometrie."
        ),
        "filter_end": "Der Filter endet zu früh: Es fehlt ein Wert oder eine schließende Klammer.",
        "filter_json": "Der Filter ist an Stelle {position} kein gültiges JSON.",
        "filter_nul": "Der Filter enthält an Stelle {position} ein Nullzeichen.",
        "filter_too_long": "Der Filter hat {chars} Zeichen; höchstens {most} sind möglich.",
        "filter_too_deep": "Der Filter ist tiefer als {most} Ebenen verschachtelt.",
        "filter_too_many": "Der Filter hat mehr als {most} Bedingungen.",
        "filter_list_too_long": "Die Liste im Filter hat {count} Werte; höchstens {most} sind möglich.",
        "filter_unknown_property": (
            "„{name}“ ist keine abfragbare Eigenschaft dieser Sammlung. Abfragbar sind: {names}."
        ),
        "filter_list_property": (
            "„{name}“ ist eine Liste. Listen lassen sich nicht im Filter vergleichen; die Angabe "
            "{name}=… findet die Objekte, deren Liste einen Wert enthält."
        ),
        "filter_geometry_property": "Die Geometrie wird mit S_INTERSECTS, S_WITHIN usw. verglichen.",
        "filter_number": "„{name}“ ist eine Zahl und lässt sich nur mit einer Zahl vergleichen.",
        "filter_text": (
            "„{name}“ ist ein Text und lässt sich nur mit einem Text in einfachen "
            "Anführungszeichen vergleichen."
        ),
        "filter_boolean": "„{name}“ ist ja oder nein und lässt sich nur mit TRUE oder FALSE vergleichen.",
        "filter_no_order": "„{name}“ ist ja oder nein und hat keine Reihenfolge: nur = oder <> sind möglich.",
        "filter_date": "„{name}“ ist ein Datum; verglichen wird mit DATE('JJJJ-MM-TT').",
        "filter_like_text": "LIKE vergleicht Texte; „{name}“ ist keiner.",
        "filter_geometry": (
            "Die Geometrie im Filter ist ungültig oder liegt außerhalb des Koordinatensystems."
        ),
        "filter_geometry_points": (
            "Die Geometrie im Filter hat {count} Punkte; höchstens {most} sind möglich."
        ),
        "filter_function": "Die Funktion {name} kennt dieser Dienst nicht.",
        "filter_operator": "Den Operator „{name}“ kennt dieser Dienst nicht.",
        "filter_unsupported": (
            "Diese Art Ausdruck kennt der Dienst nicht. Möglich sind die Vergleiche = <> < <= > >=, "
            "LIKE, IN, BETWEEN und IS NULL, verknüpft mit AND, OR und NOT, und die räumlichen "
            "Vergleiche S_INTERSECTS, S_WITHIN und ihre Verwandten."
        ),
        "unsupported_crs": (
            "Das Koordinatensystem „{crs}“ ({parameter}) wird nicht unterstützt. Möglich sind: {supported}."
        ),
        "unavailable": (
            "Die Daten können gerade nicht gelesen werden. Bitte versuchen Sie es später noch einmal."
        ),
        "server_error": "Der Dienst konnte diese Anfrage nicht beantworten. Der Fehler ist protokolliert.",
        "home": "Zur Startseite",
        "pdf_unavailable": (
            "Dieser Server kann keine PDF-Dateien erzeugen (es fehlt die Bibliothek Pango). Der "
            "Bericht als Webseite geht und lässt sich ebenso drucken."
        ),
        "over_budget": (
            "Die Auswertung für „{area}“ würde länger dauern als die erlaubten {seconds} Sekunden "
            "und wurde abgebrochen, meist wegen einer sehr detaillierten Fläche in den Daten. Sie "
            "wird erst nach einer Änderung der Daten wieder versucht."
        ),
    },
    "en": {
        "title_404": "Not found",
        "title_422": "Outside the covered area",
        "title_400": "Please check your input",
        "generic": "The value given for '{parameter}' is not valid.",
        "generic_status": "The request could not be answered (error {status}).",
        "both_coords": "Please give both latitude and longitude (WGS 84, decimal degrees).",
        "not_numbers": "Latitude and longitude must be numbers, given: '{lat}', '{lon}'.",
        "not_coords": (
            "Latitude {lat} / longitude {lon} are not coordinates "
            "(latitude −90 to 90, longitude −180 to 180)."
        ),
        "not_both": "Please give either coordinates or an address, not both.",
        "no_input": "Please give an address (e.g. 'Anna-Siemsen-Str. 27, Jena') or coordinates.",
        "address_empty": "Please enter an address.",
        "address_long": "The address is longer than {max} characters.",
        "outside": "This point lies outside the covered municipalities: {names}.",
        "title_405": "Not possible",
        "title_500": "Service error",
        "title_503": "Temporarily unavailable",
        "no_page": "This page does not exist.",
        "title_410": "No longer possible",
        "title_429": "Too many attempts",
        "survey_unknown": "This survey link does not exist. Please check that you copied all of it.",
        "survey_closed": "This survey has ended; answers are no longer taken. The closing date was {closes}.",
        "survey_rate_limited": (
            "Too many invalid links from this connection. Please try again in {minutes} minutes."
        ),
        "unknown_map": "There is no map '{map}'. These maps exist:",
        "unknown_area": "No data is stored for '{area}'. These areas exist:",
        "unknown_collection": "There is no collection '{collection}'. These collections exist:",
        "unknown_params": "This page does not know: {names}. Possible are: {allowed}.",
        "no_feature": "This item does not exist, or no longer exists.",
        # CQL2 filters (ogcapi/cql2.py FilterError keys).
        "filter_invalid": "This filter cannot be used. The API documentation describes filters.",
        "filter_syntax": (
            "The filter cannot be read at position {position} ('{excerpt}'). Expected there: a "
            "property, a comparison such as = < LIKE IN BETWEEN IS NULL, a text in single quotes, "
            "a number or a geometry."
        ),
        "filter_end": "The filter ends too early: a value or a closing parenthesis is missing.",
        "filter_json": "The filter is not valid JSON at position {position}.",
        "filter_nul": "The filter contains a NUL character at position {position}.",
        "filter_too_long": "The filter has {chars} characters; at most {most} are possible.",
        "filter_too_deep": "The filter nests deeper than {most} levels.",
        "filter_too_many": "The filter has more than {most} conditions.",
        "filter_list_too_long": "The list in the filter has {count} values; at most {most} are possible.",
        "filter_unknown_property": (
            "'{name}' is not a queryable property of this collection. Queryable are: {names}."
        ),
        "filter_list_property": (
            "'{name}' is a list. Lists cannot be compared in a filter; the parameter {name}=… "
            "finds the features whose list holds a value."
        ),
        "filter_geometry_property": "The geometry is compared with S_INTERSECTS, S_WITHIN and the like.",
        "filter_number": "'{name}' is a number and can only be compared with a number.",
        "filter_text": "'{name}' is a text and can only be compared with a text in single quotes.",
        "filter_boolean": "'{name}' is yes or no and can only be compared with TRUE or FALSE.",
        "filter_no_order": "'{name}' is yes or no and has no order: only = or <> are possible.",
        "filter_date": "'{name}' is a date; compare it with DATE('YYYY-MM-DD').",
        "filter_like_text": "LIKE compares texts; '{name}' is not one.",
        "filter_geometry": ("The geometry in the filter is not valid or lies outside the coordinate system."),
        "filter_geometry_points": (
            "The geometry in the filter has {count} points; at most {most} are possible."
        ),
        "filter_function": "This service does not know the function {name}.",
        "filter_operator": "This service does not know the operator '{name}'.",
        "filter_unsupported": (
            "This service does not know this kind of expression. Possible are the comparisons "
            "= <> < <= > >=, LIKE, IN, BETWEEN and IS NULL, joined with AND, OR and NOT, and the "
            "spatial comparisons S_INTERSECTS, S_WITHIN and their relatives."
        ),
        "unsupported_crs": (
            "The coordinate reference system '{crs}' ({parameter}) is not supported. Possible: {supported}."
        ),
        "unavailable": "The data cannot be read right now. Please try again later.",
        "server_error": "The service could not answer this request. The error has been logged.",
        "home": "To the home page",
        "pdf_unavailable": (
            "This server cannot make PDF files (the Pango library is missing). The report as a web "
            "page works and prints as well."
        ),
        "over_budget": (
            "The analysis for '{area}' would take longer than the allowed {seconds} seconds and was "
            "stopped, usually because of a very detailed area in the data. It is tried again only "
            "after the data changes."
        ),
    },
}


def error_text(key: str | None, params: dict[str, object], status: int, lang: str) -> str:
    """The page text of an error in ``lang``."""
    words = ERROR_TEXT[pick_lang(lang)]
    if key in words:
        return words[str(key)].format(**params)
    if "parameter" in params:
        return words["generic"].format(**params)
    return words["generic_status"].format(status=status)


def error_title(status: int, lang: str) -> str:
    words = ERROR_TEXT[pick_lang(lang)]
    return words.get(f"title_{status}", words["title_400"])


# Leaflet's own control texts (static/js/dsm-leaflet-text.js puts them in place of its
# English defaults). The locate and full-screen buttons get theirs in maps/render.py.
LEAFLET_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "zoom_in": "Hineinzoomen",
        "zoom_out": "Herauszoomen",
        "close_popup": "Popup schließen",
        "layers": "Ebenen",
        "metres": "Meter",
        "locate_popup": "Sie sind im Umkreis von {distance} {unit} um diesen Punkt",
        "outside_map": "Ihr Standort scheint außerhalb der Karte zu liegen",
    },
    "en": {
        "zoom_in": "Zoom in",
        "zoom_out": "Zoom out",
        "close_popup": "Close popup",
        "layers": "Layers",
        "metres": "metres",
        "locate_popup": "You are within {distance} {unit} of this point",
        "outside_map": "Your location seems to be outside the map",
    },
}


# The printable situation report (mapservice/planner/report.py, templates/planner/report.html).
# Numbers and dates arrive formatted for the language.
REPORT_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "kind": "Lagebild und Präventionsbericht",
        "title": "Lagebild Prävention: {area}",
        "created": "Erstellt am {date}",
        "intro": (
            "Abdeckung durch Kontaktbereichsbeamte, Büros und Präventionsgremien, die Lücken in "
            "der Rangfolge der Planung, die fehlenden Daten und was sich seit dem {since} "
            "geändert hat. Alle Zahlen aus den Daten dieses Dienstes zum Zeitpunkt der Erstellung."
        ),
        "sources": "Daten und Quellen",
        "dataset": "Datensatz",
        "data_dates": "Stand der Daten",
        "licence": "Lizenz",
        "attribution": "Namensnennung",
        "contents": "Inhalt",
        "maps": "Karten",
        "map_of": "Karte: {metric}",
        "map_note": (
            "Kartengrundlage: die Umrisse der Gebiete aus den Daten dieses Dienstes, ohne "
            "Hintergrundkarte. Schraffiert: unbekannt (keine Daten, nicht null)."
        ),
        "legend": "Legende",
        "unknown_legend": "unbekannt (keine Daten, nicht null)",
        "ranking": "Rangfolge der Lücken",
        "rank": "Rang",
        "name": "Name",
        "kreis": "Kreis",
        "score": "Lückenwert",
        "reasons": "Gründe",
        "unranked": "ohne Rang",
        "complete_no": "unvollständig",
        "unknowns": "Fehlende Daten: als Nächstes zu erheben",
        "unknowns_intro": (
            "Diese Angaben fehlen; solange sie fehlen, zählen sie im Lückenwert nicht mit. "
            "Je Angabe die Gebiete, für die sie fehlt."
        ),
        "unknowns_count": "{count} Gebiete",
        "unknowns_none": "Keine: für jedes Gebiet ist jedes Kriterium bekannt.",
        "survey": "Umfrage des Landespräventionsrats Thüringen",
        "survey_own": "Angaben der Umfrage",
        "survey_data": "Aus den Daten dieses Dienstes",
        "asskomm": "ASSKomm-Netzwerk in Sachsen",
        "changes": "Was sich seit dem {since} geändert hat",
        "changes_intro": (
            "Aus dem Änderungsprotokoll dieses Dienstes: Büros, Kameras, Graffitiflächen und "
            "Gremien, die seit dem {since} hinzugekommen, geändert oder entfernt worden sind."
        ),
        "changes_none": "Keine Änderungen.",
        "change_create": "hinzugefügt",
        "change_update": "geändert",
        "change_delete": "entfernt",
        "when": "Datum",
        "what": "Objekt",
        "change": "Änderung",
        "via_api": "Schnittstelle",
        "via_import": "Datenimport",
        "layer_contact-offices": "Büros und Sprechstunden",
        "layer_video-surveillance": "Videoüberwachung",
        "layer_graffiti-zones": "Graffitiflächen",
        "layer_prevention-bodies": "Präventionsgremien",
        "source": "Quelle:",
        "none": "keine",
        "page": "Seite",
        "unnamed": "ohne Namen",
    },
    "en": {
        "kind": "Situation and prevention report",
        "title": "Prevention situation report: {area}",
        "created": "Created on {date}",
        "intro": (
            "Coverage by contact officers, offices and prevention bodies, the gaps in the "
            "planner's ranking, the missing data and what has changed since {since}. All "
            "figures from the data of this service at the time of writing."
        ),
        "sources": "Data and sources",
        "dataset": "Dataset",
        "data_dates": "Data as of",
        "licence": "Licence",
        "attribution": "Attribution",
        "contents": "Contents",
        "maps": "Maps",
        "map_of": "Map: {metric}",
        "map_note": (
            "Map base: the outlines of the areas from the data of this service, with no "
            "background map. Hatched: unknown (no data, not zero)."
        ),
        "legend": "Legend",
        "unknown_legend": "unknown (no data, not zero)",
        "ranking": "Ranking of the gaps",
        "rank": "Rank",
        "name": "Name",
        "kreis": "District (Kreis)",
        "score": "Gap score",
        "reasons": "Reasons",
        "unranked": "no rank",
        "complete_no": "incomplete",
        "unknowns": "Missing data: what to collect next",
        "unknowns_intro": (
            "These facts are missing; while they are, they do not count in the gap score. "
            "For each fact, the areas it is missing for."
        ),
        "unknowns_count": "{count} areas",
        "unknowns_none": "None: every criterion is known for every area.",
        "survey": "Survey of the Thuringian prevention council",
        "survey_own": "Figures of the survey",
        "survey_data": "From the data of this service",
        "asskomm": "ASSKomm network in Saxony",
        "changes": "What has changed since {since}",
        "changes_intro": (
            "From the change log of this service: offices, cameras, graffiti walls and bodies "
            "added, changed or removed since {since}."
        ),
        "changes_none": "No changes.",
        "change_create": "added",
        "change_update": "changed",
        "change_delete": "removed",
        "when": "Date",
        "what": "Item",
        "change": "Change",
        "via_api": "interface",
        "via_import": "import",
        "layer_contact-offices": "Offices and consultation hours",
        "layer_video-surveillance": "Video surveillance",
        "layer_graffiti-zones": "Graffiti walls",
        "layer_prevention-bodies": "Prevention bodies",
        "source": "source:",
        "none": "none",
        "page": "Page",
        "unnamed": "unnamed",
    },
}


# The source catalog (geodata/sources.csv) on the planner, figures in words, the German CSV.
SOURCE_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "about": "etwa",
        "refs": "Quellen der Angaben",
        "refs_intro": (
            "Woher die Angaben zu Büros, Gremien und Kennzahlen dieser Ansicht stammen. Die Adressen "
            "sind Verweise; der Dienst ruft sie nicht ab."
        ),
        "ref_title": "Titel",
        "ref_publisher": "Herausgeber",
        "ref_date": "Datum",
        "ref_url": "Adresse",
        "ref_note": "Hinweis",
        "no_source": "nicht im Quellenverzeichnis",
        "yes": "ja",
        "no": "nein",
        "weighting_households": "Haushalte",
        "weighting_area": "Fläche",
        "weighting_population": "Einwohner",
    },
    "en": {
        "about": "about",
        "refs": "Sources of the entries",
        "refs_intro": (
            "Where this view's entries on offices, bodies and figures come from. The addresses are "
            "references; the service does not fetch them."
        ),
        "ref_title": "Title",
        "ref_publisher": "Publisher",
        "ref_date": "Date",
        "ref_url": "Address",
        "ref_note": "Note",
        "no_source": "not in the source catalog",
        "yes": "yes",
        "no": "no",
        "weighting_households": "households",
        "weighting_area": "area",
        "weighting_population": "residents",
    },
}

# Column headers of the German CSV variant (planner/export.py, dialect excel-de), German and
# English; a column not listed keeps its field name.
CSV_COLUMN_TEXT: dict[str, tuple[str, str]] = {
    "gap_rank": ("Rang", "Rank"),
    "gap_rank_to": ("Rang bis", "Rank to"),
    "gap_score": ("Lückenwert (Punkte)", "Gap score (points)"),
    "gap_weighted": ("Lückenwert × Betroffene", "Gap score × people affected"),
    "gap_weight_basis": ("Gewichtet mit", "Weighted by"),
    "gap_complete": ("Angaben vollständig", "Data complete"),
    "id": ("Kennung", "Id"),
    "ags": ("Gemeindeschlüssel", "Municipality key"),
    "name": ("Name", "Name"),
    "city": ("Stadt", "City"),
    "city_ags": ("Gemeindeschlüssel der Stadt", "Municipality key of the city"),
    "kind": ("Art", "Kind"),
    "land": ("Land", "Land"),
    "kreis": ("Kreis", "District (Kreis)"),
    "area_km2": ("Fläche (km²)", "Area (km²)"),
    "households": ("Haushalte", "Households"),
    "households_date": ("Stand der Haushalte", "Households as of"),
    "population": ("Einwohner", "Residents"),
    "population_date": ("Stand der Einwohner", "Residents as of"),
    "large_town": ("Ab 10.000 Einwohner", "10,000 inhabitants or more"),
    "officer_recorded": ("Kontaktbereichsbeamter erfasst", "Contact officer recorded"),
    "officers": ("Kontaktbereichsbeamte", "Contact officers"),
    "responsible_offices": ("Zuständige Büros", "Responsible offices"),
    "households_per_officer": ("Haushalte je Beamter", "Households per officer"),
    "residents_per_officer": ("Einwohner je Beamter", "Residents per officer"),
    "distance_mean_m": (
        "Mittlere Entfernung zum nächsten Büro (m)",
        "Mean distance to the nearest office (m)",
    ),
    "distance_max_m": (
        "Größte Entfernung zum nächsten Büro (m)",
        "Largest distance to the nearest office (m)",
    ),
    "distance_weighting": ("Entfernung gewichtet nach", "Distance weighted by"),
    "walk_share": (
        "Anteil der Fläche in Gehentfernung (0–1)",
        "Share of the area within walking distance (0–1)",
    ),
    "offices_considered": ("Berücksichtigte Büros", "Offices considered"),
    "graffiti_zones": ("Graffiti-Flächen", "Graffiti walls"),
    "graffiti_area_m2": ("Graffiti-Fläche (m²)", "Graffiti area (m²)"),
    "cameras_active": ("Aktive Kameras", "Active cameras"),
    "camera_fov_share": ("Anteil im Kamerablick (0–1)", "Share in camera view (0–1)"),
    "prevention_status": ("Präventionsgremium", "Prevention body"),
    "prevention_bodies": ("Präventionsgremien", "Prevention bodies"),
    "asskomm_stage": ("Stand bei ASSKomm", "ASSKomm stage"),
    "survey_status": ("Stand der Umfrage", "Survey status"),
    "bodies": ("Präventionsgremien", "Prevention bodies"),
    "gap_misses": ("Verfehlte Schwellen", "Thresholds missed"),
    "gap_unknown": ("Unbekannt", "Unknown"),
}


# The survey form (/survey/<link>, templates/survey/form.html) and its messages; the keys of
# the messages are those of mapservice/survey/answers.py and survey/service.py.
SURVEY_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Umfrage zu Präventionsgremien",
        "for": "für {name} (Amtlicher Gemeindeschlüssel {ags})",
        "intro": (
            "Bitte geben Sie an, welche Gremien der Kriminalprävention es in Ihrer Gemeinde gibt. "
            "Was bei uns schon verzeichnet ist, ist eingetragen: Bitte prüfen und ergänzen Sie es. "
            "Sie können speichern und mit demselben Link bis zum {closes} wiederkommen."
        ),
        "published_note": (
            "Ihre Angaben werden nach Prüfung durch die Landesstelle auf der öffentlichen Karte "
            "veröffentlicht – auch die Kontaktangaben. Angaben zu Personen sind freiwillig."
        ),
        "required_note": "Mit * markierte Felder sind Pflichtfelder.",
        "closes": "Einsendeschluss",
        "errors_heading": "Bitte prüfen Sie Ihre Angaben",
        "errors_count": "{count} Angaben sind noch nicht richtig:",
        "no_body_legend": "Kein Gremium",
        "no_body": "Wir haben kein Präventionsgremium.",
        "no_body_hint": (
            "Das ist auch eine Antwort: Sie wird als Aussage der Gemeinde verzeichnet. Gremien, die "
            "es nicht mehr gibt, bitte unten als „aufgelöst“ angeben."
        ),
        "body": "Gremium {number}",
        "body_on_record": "Gremium {number} (bei uns verzeichnet)",
        "new_body": "Weiteres Gremium (neu)",
        "new_body_hint": "Leer lassen, wenn es kein weiteres gibt.",
        "field_name": "Bezeichnung",
        "field_type": "Art",
        "field_status": "Status",
        "field_level": "Ebene",
        "field_founded": "Gegründet",
        "hint_founded": "Jahr, Monat oder Tag, z. B. 2019, 2019-05 oder 2019-05-14",
        "field_programme": "Programm",
        "hint_programme": "z. B. ein Landesprogramm oder Netzwerk, an dem das Gremium teilnimmt",
        "field_programme_stage": "Stand im Programm",
        "field_working_groups": "Arbeitsgruppen",
        "field_partners": "Beteiligte Partner",
        "contact_legend": "Öffentlicher Kontakt (wird veröffentlicht)",
        "field_contact_office": "Kontaktstelle",
        "hint_contact_office": "Dienststelle oder Büro, z. B. „Ordnungsamt, Sachgebiet Prävention“",
        "field_email": "E-Mail",
        "field_phone": "Telefon",
        "field_contact": "Ansprechperson (freiwillig, wird veröffentlicht)",
        "choose": "– bitte wählen –",
        "not_given": "– keine Angabe –",
        "add_body": "Weiteres Gremium hinzufügen",
        "save": "Antwort speichern",
        "sent_heading": "Ihre Antwort ist gespeichert",
        "sent_text": (
            "Vielen Dank. Sie wurde am {date} gespeichert und wird geprüft, bevor sie veröffentlicht "
            "wird. Bis zum {closes} können Sie sie mit demselben Link ändern."
        ),
        "last_answer": "Ihre letzte Antwort vom {date}",
        "review_pending": "wird geprüft",
        "review_approved": "geprüft und veröffentlicht",
        "review_rejected": "nicht übernommen",
        "review_state": "Stand der Prüfung",
        "what_you_sent": "Was Sie gesendet haben",
        "answer_no_body": "Kein Präventionsgremium",
        "unknown": "keine Angabe",
        "answer_empty": (
            "Bitte geben Sie mindestens ein Gremium an oder kreuzen Sie „Wir haben kein "
            "Präventionsgremium“ an."
        ),
        "contradicts_no_body": (
            "Ein aktives oder geplantes Gremium passt nicht zu „Wir haben kein Präventionsgremium“."
        ),
        "required": "Bitte ausfüllen.",
        "bad_text": "Dieser Text enthält Zeichen, die nicht gespeichert werden können.",
        "too_long": "Höchstens {most} Zeichen (jetzt {length}).",
        "not_a_choice": "Bitte einen der angebotenen Werte wählen.",
        "not_a_date": "Bitte als Jahr, Jahr-Monat oder Datum angeben, z. B. 2019-05-14.",
        "date_in_future": "Das Datum liegt in der Zukunft.",
        "not_an_email": "Bitte eine E-Mail-Adresse angeben, z. B. praevention@stadt.example.",
        "not_a_phone": "Bitte eine Telefonnummer aus Ziffern angeben, z. B. 03641 49-0.",
        "nonce_bad": "Das Formular ist ungültig. Bitte laden Sie die Seite neu und senden Sie noch einmal.",
        "nonce_expired": (
            "Das Formular ist älter als einen Tag. Bitte prüfen Sie die Angaben und senden Sie noch einmal."
        ),
        "nonce_stale": (
            "Mit diesem Link wurde inzwischen eine andere Antwort gespeichert. Hier steht jetzt "
            "diese; bitte prüfen Sie sie und senden Sie Ihre Änderungen noch einmal."
        ),
        "type_kpr": "Kommunaler Präventionsrat (KPR)",
        "type_asskomm_partner": "Partner der Allianz Sichere Sächsische Kommunen (ASSKomm)",
        "type_ordnungspartnerschaft": "Ordnungspartnerschaft",
        "type_sicherheitspartnerschaft": "Sicherheitspartnerschaft",
        "type_runder_tisch": "Runder Tisch",
        "type_stadtteilgremium": "Stadtteilgremium",
        "type_kreisgremium": "Gremium des Landkreises",
        "status_active": "aktiv",
        "status_planned": "geplant",
        "status_dormant": "ruhend",
        "status_dissolved": "aufgelöst",
        "level_kreis": "Landkreis",
        "level_verband": "Verwaltungsgemeinschaft oder Verband",
        "level_gemeinde": "Gemeinde",
        "level_stadtteil": "Stadtteil",
        "programme_stage_contacted": "Kontakt",
        "programme_stage_participant": "Teilnahme",
        "programme_stage_pre_agreement": "Vorvereinbarung",
        "programme_stage_agreement": "Kooperationsvereinbarung",
    },
    "en": {
        "title": "Survey of prevention bodies",
        "for": "for {name} (official municipality key {ags})",
        "intro": (
            "Please tell us which crime-prevention bodies your municipality has. What we have on "
            "record is filled in: please check and complete it. You can save and come back with "
            "the same link until {closes}."
        ),
        "published_note": (
            "After review by the Land office, your answer is published on the public map, the "
            "contact details included. Details of persons are optional."
        ),
        "required_note": "Fields marked * are required.",
        "closes": "Closing date",
        "errors_heading": "Please check your answer",
        "errors_count": "{count} entries are not right yet:",
        "no_body_legend": "No body",
        "no_body": "We have no prevention body.",
        "no_body_hint": (
            "That is an answer too: it is recorded as the municipality's statement. Please give "
            "bodies that no longer exist below as “dissolved”."
        ),
        "body": "Body {number}",
        "body_on_record": "Body {number} (on our record)",
        "new_body": "Another body (new)",
        "new_body_hint": "Leave empty if there is no other.",
        "field_name": "Name",
        "field_type": "Type",
        "field_status": "Status",
        "field_level": "Level",
        "field_founded": "Founded",
        "hint_founded": "Year, month or day, e.g. 2019, 2019-05 or 2019-05-14",
        "field_programme": "Programme",
        "hint_programme": "e.g. a programme or network of the Land that the body takes part in",
        "field_programme_stage": "Stage in the programme",
        "field_working_groups": "Working groups",
        "field_partners": "Partners",
        "contact_legend": "Public contact (will be published)",
        "field_contact_office": "Contact point",
        "hint_contact_office": "Department or office, e.g. “public order office, prevention unit”",
        "field_email": "E-mail",
        "field_phone": "Phone",
        "field_contact": "Contact person (optional, will be published)",
        "choose": "– please choose –",
        "not_given": "– not given –",
        "add_body": "Add another body",
        "save": "Save answer",
        "sent_heading": "Your answer is saved",
        "sent_text": (
            "Thank you. It was saved on {date} and is reviewed before it is published. Until "
            "{closes} you can change it with the same link."
        ),
        "last_answer": "Your last answer of {date}",
        "review_pending": "being reviewed",
        "review_approved": "reviewed and published",
        "review_rejected": "not taken over",
        "review_state": "Review",
        "what_you_sent": "What you sent",
        "answer_no_body": "No prevention body",
        "unknown": "not given",
        "answer_empty": "Please give at least one body, or tick “We have no prevention body”.",
        "contradicts_no_body": "An active or planned body does not fit “We have no prevention body”.",
        "required": "Please fill in.",
        "bad_text": "This text holds characters that cannot be stored.",
        "too_long": "At most {most} characters (now {length}).",
        "not_a_choice": "Please choose one of the values offered.",
        "not_a_date": "Please give a year, year-month or date, e.g. 2019-05-14.",
        "date_in_future": "The date is in the future.",
        "not_an_email": "Please give an e-mail address, e.g. prevention@town.example.",
        "not_a_phone": "Please give a phone number of digits, e.g. +49 3641 49-0.",
        "nonce_bad": "The form is not valid. Please reload the page and send again.",
        "nonce_expired": "The form is older than a day. Please check the entries and send again.",
        "nonce_stale": (
            "Another answer was saved with this link meanwhile. It is shown here now; please check "
            "it and send your changes again."
        ),
        "type_kpr": "Municipal prevention council",
        "type_asskomm_partner": "Partner of the Saxon ASSKomm network",
        "type_ordnungspartnerschaft": "Public-order partnership",
        "type_sicherheitspartnerschaft": "Security partnership",
        "type_runder_tisch": "Round table",
        "type_stadtteilgremium": "Neighbourhood body",
        "type_kreisgremium": "Body of the district (Landkreis)",
        "status_active": "active",
        "status_planned": "planned",
        "status_dormant": "dormant",
        "status_dissolved": "dissolved",
        "level_kreis": "district (Landkreis)",
        "level_verband": "association of municipalities",
        "level_gemeinde": "municipality",
        "level_stadtteil": "neighbourhood",
        "programme_stage_contacted": "contacted",
        "programme_stage_participant": "participant",
        "programme_stage_pre_agreement": "pre-agreement",
        "programme_stage_agreement": "cooperation agreement",
    },
}
