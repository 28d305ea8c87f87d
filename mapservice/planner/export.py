"""Coverage rows as CSV, GeoJSON and JSON: one writer for the API and the command line.

CSV cells are flat text in the requested language (lists joined, reasons as sentences) and
defused where a spreadsheet would run them as a formula; JSON and GeoJSON keep lists as lists.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..i18n import CATEGORY_TEXT, CSV_COLUMN_TEXT, SOURCE_TEXT, value_label
from .metrics import Thresholds

DISTRICT_COLUMNS = (
    "gap_rank",
    "gap_rank_to",
    "gap_score",
    "gap_weighted",
    "gap_weight_basis",
    "gap_complete",
    "id",
    "name",
    "city",
    "city_ags",
    "area_km2",
    "households",
    "households_date",
    "population",
    "officer_recorded",
    "officers",
    "responsible_offices",
    "households_per_officer",
    "residents_per_officer",
    "distance_mean_m",
    "distance_max_m",
    "distance_weighting",
    "walk_share",
    "offices_considered",
    "graffiti_zones",
    "graffiti_area_m2",
    "cameras_active",
    "camera_fov_share",
    "prevention_status",
    "prevention_bodies",
    "gap_misses",
    "gap_unknown",
)
MUNICIPALITY_COLUMNS = (
    "gap_rank",
    "gap_rank_to",
    "gap_score",
    "gap_weighted",
    "gap_weight_basis",
    "gap_complete",
    "ags",
    "name",
    "kind",
    "land",
    "kreis",
    "population",
    "population_date",
    "large_town",
    "prevention_status",
    "asskomm_stage",
    "survey_status",
    "bodies",
    "gap_misses",
    "gap_unknown",
)
# Lists of objects in a row and how one item reads in a CSV cell.
_REASONS = ("gap_misses", "gap_unknown")
_BODIES = ("bodies", "prevention_bodies")


# A text cell starting with one of these is a formula to Excel and LibreOffice (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Text for a CSV cell; text a spreadsheet would run as a formula gets a leading ``'``.

    Only text is defused: a negative number stays a number. A line break stays in its cell (the
    csv writer quotes the cell, so it reads back as one); NUL, which spreadsheets cut a cell
    at, is dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value).replace("\x00", "")
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def _flat(column: str, value: Any, lang: str) -> Any:
    if column in _REASONS:
        return "; ".join(item[lang] for item in value or ())
    if column in _BODIES:
        return "; ".join(f"{b.get('name')} ({b.get('status')})" for b in value or ())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return value


def csv_text(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str = "de", dialect: str = "rfc4180"
) -> str:
    """CSV with a header row and CRLF line ends, starting with a BOM so Excel reads UTF-8.

    ``rfc4180`` (the default, for programs): comma-separated, field names as headers, codes and
    decimal points as in the JSON. ``excel-de``: what German Excel opens as columns (see
    :func:`csv_excel_de`)."""
    if dialect == "excel-de":
        return csv_excel_de(rows, columns, lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(_flat(c, row.get(c), lang)) for c in columns])
    return "\ufeff" + out.getvalue()


def properties(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row without its geometry and without the per-criterion detail (JSON keeps that)."""
    return {k: v for k, v in row.items() if k not in ("geometry", "gap_findings")}


def geojson_text(
    rows: Sequence[Mapping[str, Any]], id_field: str, extra: Mapping[str, Any] | None = None
) -> str:
    """A FeatureCollection; each row's ``geometry`` is GeoJSON text spliced in unchanged."""
    parts = []
    for row in rows:
        head = json.dumps(
            {"type": "Feature", "id": row[id_field], "properties": properties(row)},
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
        geometry = row.get("geometry") or "null"
        parts.append(head[:-1] + ',"geometry":' + geometry + "}")
    meta = json.dumps(
        {"numberReturned": len(rows), **(extra or {})},
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]," + meta[1:]


def thresholds_json(th: Thresholds) -> dict[str, Any]:
    return {
        "grid_m": th.grid_m,
        "walk_m": th.walk_m,
        "walk_share_min": th.walk_share_min,
        "residents_per_officer": th.residents_per_officer,
        "households_per_officer": th.households_per_officer,
        "body_min_population": th.body_min_population,
        "office_kinds": list(th.office_kinds),
    }


def json_text(key: str, rows: Sequence[Mapping[str, Any]], extra: Mapping[str, Any]) -> str:
    body = {**extra, key: [{k: v for k, v in row.items() if k != "geometry"} for row in rows]}
    return json.dumps(body, ensure_ascii=False, allow_nan=False)


# -- the German spreadsheet variant ------------------------------------------------------------

CSV_DIALECTS = ("excel-de", "rfc4180")
# Coded columns and the label table of each (i18n CATEGORY_TEXT by metric, else VALUES).
_CATEGORY_COLUMNS = ("officer_recorded", "prevention_status", "asskomm_stage", "large_town", "survey_status")
_VALUE_COLUMNS = {"kind": "municipality_kind"}


def _label(column: str, value: Any, lang: str) -> Any:
    """The label of a code as the page shows it; a code without a label stays as it is."""
    which = 1 if lang == "en" else 0
    if column in _CATEGORY_COLUMNS:
        text = CATEGORY_TEXT[column].get(value)
        if column == "large_town" and value is None:
            return None  # unknown stays an empty cell
        if text is not None:
            return text[which]
        return value_label(lang, column, value) if isinstance(value, str) else value
    if column in _VALUE_COLUMNS:
        return value_label(lang, _VALUE_COLUMNS[column], value)
    if column == "distance_weighting" or column == "gap_weight_basis":
        if value is None:
            return None
        words = SOURCE_TEXT["en" if lang == "en" else "de"]
        return words.get(f"weighting_{value}", str(value))
    return value


def _decimal_comma(value: float | int) -> str:
    """A number as German Excel reads it: decimal comma, no thousands separator."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    text = text.removesuffix(".0")
    return text.replace(".", ",")


def _excel_cell(column: str, value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) and column not in _CATEGORY_COLUMNS:
        return SOURCE_TEXT["en" if lang == "en" else "de"]["yes" if value else "no"]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _decimal_comma(value)
    if column in _BODIES:
        return csv_cell(
            "; ".join(
                f"{b.get('name')} ({_label('prevention_status', b.get('status'), lang)})" for b in value or ()
            )
        )
    labelled = _label(column, value, lang)
    if labelled is None:
        return ""
    return csv_cell(_flat(column, labelled, lang))


def csv_excel_de(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str = "de") -> str:
    """The German spreadsheet CSV: ``;``-separated, decimal comma, headers and codes as labels in
    ``lang``, CRLF, UTF-8 with BOM. Numbers carry no thousands separator, so that they stay
    numbers; unknown stays an empty cell. pandas reads it with ``sep=";", decimal=","``."""
    which = 1 if lang == "en" else 0
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([CSV_COLUMN_TEXT[c][which] if c in CSV_COLUMN_TEXT else c for c in columns])
    for row in rows:
        writer.writerow([_excel_cell(c, row.get(c), lang) for c in columns])
    return "\ufeff" + out.getvalue()
