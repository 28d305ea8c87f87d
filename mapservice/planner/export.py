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

from .metrics import Thresholds

DISTRICT_COLUMNS = (
    "gap_rank",
    "gap_score",
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
    "gap_score",
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
    "bodies",
    "gap_misses",
    "gap_unknown",
)
# Lists of objects in a row and how one item reads in a CSV cell.
_REASONS = ("gap_misses", "gap_unknown")
_BODIES = ("bodies", "prevention_bodies")


def csv_cell(value: Any) -> str:
    """Text for a CSV cell; cells a spreadsheet would run as a formula are defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
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


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str = "de") -> str:
    """CSV with a header row and CRLF line ends, starting with a BOM so Excel reads UTF-8."""
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
