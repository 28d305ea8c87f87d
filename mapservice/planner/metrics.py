"""Planner metrics: how well districts and municipalities are covered by prevention work.

Pure functions over GeoDataFrames in lon/lat (EPSG:4326) and plain feature properties, so the
API, the planner page and the command line compute the same numbers. Distances and areas are
computed in a metric CRS: ETRS89 / UTM 32N for Thuringia, UTM 33N for Saxony, otherwise the UTM
zone of the data.

Unknown stays unknown: a metric is ``None`` when the data that would decide it is missing,
never 0. Which register counts as "recorded" for a city is decided from the data itself
(see :func:`district_metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from .. import lazy
from ..maps.fov import field_of_view, utm_epsg
from .budget import NO_DEADLINE, Deadline

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
else:

    class _OnFirstUse:
        """A module imported when first used. geopandas and pandas take about a second to
        import; only the planner's computations need them, not a map page or the finder, so
        the service starts (and a worker answers) that much sooner."""

        def __init__(self, name: str) -> None:
            self._name = name
            self._module: ModuleType | None = None

        def __getattr__(self, attr: str) -> Any:
            if self._module is None:
                # Under the import lock, whole: never a module another thread is still importing.
                self._module = lazy.load(self._name)
            return getattr(self._module, attr)

    gpd = _OnFirstUse("geopandas")
    pd = _OnFirstUse("pandas")


def preload() -> None:
    """Import geopandas and pandas now (``mapservice serve`` does it in each new worker)."""
    lazy.load("pandas")
    lazy.load("geopandas")


LARGE_TOWN = 10_000  # the Thuringian survey asked the cities with at least 10,000 inhabitants
# When several bodies cover an area, the most alive status describes it.
# "none" is a recorded statement that there is no body (e.g. a survey answer): the least alive.
STATUS_ORDER = ("active", "planned", "dormant", "unclear", "dissolved", "none")
NONE_KNOWN = "none_known"
STAGE_ORDER = ("agreement", "pre_agreement", "participant", "contacted")
OFFICER_KINDS = ("contact_officer_office", "contact_officer")
LAND_EPSG = {"16": 25832, "14": 25833}  # Thuringia, Saxony
SURVEY_PROGRAMME = "Landespräventionsrat Thüringen survey"


@dataclass(frozen=True)
class Thresholds:
    """What the planner counts as covered; every value is a setting (``planner_*``)."""

    grid_m: float = 100.0
    walk_m: float = 1000.0
    walk_share_min: float = 0.5
    residents_per_officer: float = 10_000.0
    households_per_officer: float = 5_000.0
    body_min_population: int = LARGE_TOWN
    office_kinds: tuple[str, ...] = ("contact_officer_office", "contact_officer", "police_station")


def features_frame(
    features: Iterable[tuple[str, Mapping[str, Any], str | shapely.Geometry | None]],
    columns: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """(id, properties, geometry: GeoJSON text, shapely or None) → GeoDataFrame in EPSG:4326,
    indexed by id.

    ``columns`` are added (all null) when no feature has them, so an empty layer still has the
    columns the metrics read.
    """
    rows = list(features)
    props = pd.DataFrame([dict(p) for _, p, _ in rows], index=pd.Index([i for i, _, _ in rows], name="fid"))
    for column in columns:
        if column not in props.columns:
            props[column] = pd.Series([None] * len(rows), index=props.index, dtype=object)
    geoms = [(shapely.from_geojson(g) if g else None) if isinstance(g, str) else g for _, _, g in rows]
    props = props.drop(columns=[c for c in ("geometry",) if c in props.columns])
    return gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms, index=props.index, crs=4326), crs=4326)


def metric_epsg(land_code: str | None, lon: float, lat: float) -> int:
    """The metric CRS for an area: by Land where known, else the UTM zone of the point."""
    return LAND_EPSG.get(land_code or "", utm_epsg(lon, lat))


def _best(values: Iterable[str | None], order: tuple[str, ...]) -> str | None:
    present = {v for v in values if v}
    return next((v for v in order if v in present), None)


def _value(value: Any) -> Any:
    """pandas' missing markers (NaN, NA, None) → None; numpy scalars → Python scalars."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return value
    if pd.isna(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _body_summary(body: Mapping[str, Any], via: str) -> dict[str, Any]:
    return {
        "id": body["id"],
        "name": body.get("name"),
        "type": body.get("type"),
        "status": body.get("status"),
        "programme": body.get("programme"),
        "programme_stage": body.get("programme_stage"),
        "via": via,
    }


def prevention_coverage(
    municipality: Mapping[str, Any], bodies: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Prevention status of one municipality from the bodies whose ``covers_ags`` name it."""
    ags = municipality["ags"]
    covering = [b for b in bodies if ags in (b.get("covers_ags") or ())]
    population = municipality.get("population")
    asskomm = [b for b in covering if b.get("programme") == "ASSKomm"]
    return {
        "ags": ags,
        "name": municipality.get("name"),
        "kind": municipality.get("kind"),
        "land": municipality.get("land"),
        "kreis": municipality.get("kreis"),
        "population": population,
        "population_date": municipality.get("population_date"),
        "large_town": None if population is None else population >= LARGE_TOWN,
        "prevention_status": _best((b.get("status") for b in covering), STATUS_ORDER) or NONE_KNOWN,
        # A statement that there is no body (status none) gives the status, not a body to list.
        "bodies": [
            {k: v for k, v in _body_summary(b, "municipality").items() if k != "via"}
            for b in covering
            if b.get("status") != "none"
        ],
        "asskomm_stage": _best((b.get("programme_stage") for b in asskomm), STAGE_ORDER),
    }


# ---------------------------------------------------------------------------------------------
# Per district


def _officers_of(offices: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(o["name"]) for office in offices for o in (office.get("officers") or ()) if o.get("name")}


def _officer_metrics(districts: gpd.GeoDataFrame, offices: gpd.GeoDataFrame) -> dict[str, dict[str, Any]]:
    """Responsible officer per district: recorded yes / no / unknown, and the load per officer.

    "yes": a contact-officer entry lists the district in ``serves_districts``; the number of
    officers is that of the named officers, unknown when an entry names none.
    "no": not listed although every contact-officer entry of the city says which districts it
    serves (the city's register is complete as far as the data can tell).
    "unknown": not listed, and the city has no contact-officer entries or one whose districts
    are unknown. The load is the households (population) of all districts the responsible
    entries serve, divided by their officers, so two districts sharing one officer share him.
    """
    # Cells through _value: a pandas row of strings turns a missing list into NaN.
    entries = [
        {**{k: _value(v) for k, v in row.items()}, "id": fid}
        for fid, row in offices.drop(columns="geometry").iterrows()
        if row.get("kind") in OFFICER_KINDS
    ]
    by_city: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_city.setdefault(str(entry.get("city_ags")), []).append(entry)
    households = {fid: _value(v) for fid, v in districts["households"].items()}
    population = {fid: _value(v) for fid, v in districts["population"].items()}
    out: dict[str, dict[str, Any]] = {}
    for fid, city_ags in districts["city_ags"].items():
        responsible = [e for e in entries if fid in (e.get("serves_districts") or ())]
        if responsible:
            served = {d for e in responsible for d in e.get("serves_districts") or ()}
            named = all(e.get("officers") for e in responsible)
            officers = len(_officers_of(responsible)) if named else None

            def load(
                values: Mapping[str, Any], served: set[str] = served, officers: int | None = officers
            ) -> float | None:
                parts = [values.get(d) for d in served]
                known = [float(p) for p in parts if p is not None]
                if not officers or len(known) < len(parts):
                    return None
                return round(sum(known) / officers, 1)

            out[str(fid)] = {
                "officer_recorded": "yes",
                "officers": officers,
                "responsible_offices": sorted(e["id"] for e in responsible),
                "households_per_officer": load(households),
                "residents_per_officer": load(population),
            }
            continue
        city_entries = by_city.get(str(city_ags), [])
        complete = bool(city_entries) and all(e.get("serves_districts") is not None for e in city_entries)
        out[str(fid)] = {
            "officer_recorded": "no" if complete else "unknown",
            "officers": 0 if complete else None,
            "responsible_offices": [],
            "households_per_officer": None,
            "residents_per_officer": None,
        }
    return out


def _grid(geom: shapely.Geometry, cell: float) -> np.ndarray:
    """Cell centres of a regular grid (aligned to multiples of ``cell``) inside ``geom``."""
    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(np.floor(minx / cell) * cell + cell / 2, maxx, cell)
    ys = np.arange(np.floor(miny / cell) * cell + cell / 2, maxy, cell)
    mesh_x, mesh_y = np.meshgrid(xs, ys)
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, gx, gy)
    if not inside.any():  # smaller than one cell: its representative point stands for it
        rp = geom.representative_point()
        return np.array([[rp.x, rp.y]])
    return np.column_stack([gx[inside], gy[inside]])


def _nearest_distance(points: np.ndarray, sites: np.ndarray) -> np.ndarray:
    out = np.full(len(points), np.inf)
    for start in range(0, len(points), 20_000):  # bounded memory for large cities
        chunk = points[start : start + 20_000]
        d = np.hypot(chunk[:, None, 0] - sites[None, :, 0], chunk[:, None, 1] - sites[None, :, 1])
        out[start : start + 20_000] = d.min(axis=1)
    return out


def _distance_metrics(
    districts: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame,
    statistical: gpd.GeoDataFrame,
    th: Thresholds,
    deadline: Deadline = NO_DEADLINE,
) -> dict[str, dict[str, Any]]:
    """Mean/max distance over a grid of points and the share within walking distance.

    Only offices of the district's own city count: another city's office is no answer to
    "where is my nearest office", and a city without recorded offices gets unknown, not the
    distance to a town 60 km away. Grid points are weighted by the households of the
    statistical district they fall in (its households spread evenly over its grid points);
    without such figures every point weighs the same (area weighting).
    """
    out: dict[str, dict[str, Any]] = {}
    unknown = {
        "distance_mean_m": None,
        "distance_max_m": None,
        "distance_weighting": None,
        "walk_share": None,
        "offices_considered": 0,
    }
    sites_all = offices[offices.geometry.notna() & offices["kind"].isin(th.office_kinds)]
    for city_ags, group in districts.groupby("city_ags", sort=False):
        # The districts' own outlines: each is bounded by max_vertices, and they do not
        # interleave like a comb, so only the budget spent so far is checked here.
        deadline.check(f"the districts of {city_ags}")
        centre = group.geometry.union_all().representative_point()
        epsg = metric_epsg(str(city_ags)[:2], centre.x, centre.y)
        sites = sites_all[sites_all["city_ags"] == city_ags]
        if sites.empty:
            for fid in group.index:
                out[str(fid)] = dict(unknown)
            continue
        metric = group.to_crs(epsg)
        site_xy = shapely.get_coordinates(sites.to_crs(epsg).geometry.values)
        reach = shapely.union_all(shapely.buffer(shapely.points(site_xy), th.walk_m, quad_segs=32))
        grids = {fid: _grid(geom, th.grid_m) for fid, geom in metric.geometry.items()}
        weights = _household_weights(grids, statistical, city_ags, epsg)
        reach_vertices = shapely.get_num_coordinates(reach)
        for fid, geom in metric.geometry.items():
            deadline.overlay(
                shapely.get_num_coordinates(geom) + reach_vertices,
                f"district {fid} with the walking reach of the offices",
            )
            points = grids[fid]
            dist = _nearest_distance(points, site_xy)
            w = weights.get(fid) if weights is not None else None
            if w is not None and w.sum() > 0:
                mean = float((dist * w).sum() / w.sum())
                worst = float(dist[w > 0].max())
                weighting = "households"
            else:
                mean, worst, weighting = float(dist.mean()), float(dist.max()), "area"
            area = geom.area
            out[str(fid)] = {
                "distance_mean_m": round(mean),
                "distance_max_m": round(worst),
                "distance_weighting": weighting,
                # shapely's array function releases the GIL (the method does not)
                "walk_share": round(shapely.intersection(geom, reach).area / area, 3) if area else None,
                "offices_considered": len(site_xy),
            }
    return out


def _household_weights(
    grids: Mapping[Any, np.ndarray], statistical: gpd.GeoDataFrame, city_ags: Any, epsg: int
) -> dict[Any, np.ndarray] | None:
    """Weight per grid point: households of its statistical district / that district's points.

    None when the city has no statistical districts or one of them lacks a household count
    (a partial weighting would silently favour the districts whose figures are known).
    """
    stat = statistical[statistical["city_ags"] == city_ags]
    if stat.empty or stat["households"].isna().any():
        return None
    polys = stat.to_crs(epsg).geometry.values
    households = stat["households"].to_numpy(dtype=float)
    tree = shapely.STRtree(polys)
    ids = list(grids)
    all_points = np.vstack([grids[fid] for fid in ids])
    owner = np.full(len(all_points), -1)
    pairs = tree.query(shapely.points(all_points), predicate="within")
    owner[pairs[0]] = pairs[1]  # statistical districts do not overlap; the last one wins
    counts = np.bincount(owner[owner >= 0], minlength=len(polys))
    per_point = np.where(counts > 0, households / np.maximum(counts, 1), 0.0)
    point_weights = np.where(owner >= 0, per_point[np.maximum(owner, 0)], 0.0)
    out = {}
    start = 0
    for fid in ids:
        n = len(grids[fid])
        out[fid] = point_weights[start : start + n]
        start += n
    return out


def _register_cities(frame: gpd.GeoDataFrame) -> set[str]:
    """Cities with at least one entry in a register: there, an empty district means none."""
    if frame.empty or "city" not in frame:
        return set()
    return {str(c) for c in frame["city"].dropna()}


def _graffiti_metrics(
    districts: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, deadline: Deadline = NO_DEADLINE
) -> dict[str, dict[str, Any]]:
    """Active legal graffiti zones per district: count and area in m².

    A polygon's area is measured (the part inside the district); a wall (point or line) counts
    with its recorded ``area_m2``. One zone without a known area makes the sum unknown.
    """
    recorded = _register_cities(zones)
    active = zones[(zones["status"] == "active") & zones.geometry.notna()] if not zones.empty else zones
    out: dict[str, dict[str, Any]] = {}
    for fid, row in districts.iterrows():
        deadline.check(f"the graffiti zones of district {fid}")
        if row["city"] not in recorded:
            out[str(fid)] = {"graffiti_zones": None, "graffiti_area_m2": None}
            continue
        centre = row.geometry.representative_point()
        epsg = metric_epsg(str(row["city_ags"])[:2], centre.x, centre.y)
        hits = active[active.intersects(row.geometry)] if not active.empty else active
        area: float | None = 0.0
        district_m = gpd.GeoSeries([row.geometry], crs=4326).to_crs(epsg).iloc[0]
        district_vertices = shapely.get_num_coordinates(district_m)
        for zone_id, zone in hits.iterrows():
            if zone.geometry.geom_type in ("Polygon", "MultiPolygon"):
                deadline.overlay(
                    shapely.get_num_coordinates(zone.geometry) + district_vertices,
                    f"graffiti-zones feature '{zone_id}' with district {fid}",
                )
                zone_m = gpd.GeoSeries([zone.geometry], crs=4326).to_crs(epsg).iloc[0]
                part = shapely.intersection(zone_m, district_m).area
            else:
                part = _value(zone.get("area_m2"))
            if part is None or area is None:
                area = None
            else:
                area += float(part)
        out[str(fid)] = {
            "graffiti_zones": len(hits),
            "graffiti_area_m2": None if area is None else round(area, 1),
        }
    return out


def _camera_metrics(
    districts: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, deadline: Deadline = NO_DEADLINE
) -> dict[str, dict[str, Any]]:
    """Active cameras per district and the share of its area inside their fields of view.

    A camera outside the district whose view reaches into it counts for the share. An active
    camera in the district whose field of view is unknown (no range, no direction) makes the
    share unknown rather than too small.
    """
    recorded = _register_cities(cameras)
    active = (
        cameras[(cameras["status"] == "active") & cameras.geometry.notna()] if not cameras.empty else cameras
    )
    views: list[tuple[shapely.Geometry, shapely.Geometry | None]] = []
    for n, (_, cam) in enumerate(active.iterrows()):
        if n % 100 == 0:
            deadline.check("the cameras' fields of view")
        p = cam.geometry
        hfov, rng = _value(cam.get("hfov_deg")), _value(cam.get("range_m"))
        views.append(
            (
                p,
                field_of_view(
                    p.x, p.y, _value(cam.get("direction")), hfov, rng, _value(cam.get("camera_type"))
                ),
            )
        )
    out: dict[str, dict[str, Any]] = {}
    for fid, row in districts.iterrows():
        deadline.check(f"the cameras of district {fid}")
        if row["city"] not in recorded:
            out[str(fid)] = {"cameras_active": None, "camera_fov_share": None}
            continue
        geom = row.geometry
        inside = [(p, v) for p, v in views if geom.intersects(p)]
        share: float | None
        if any(v is None for _, v in inside):
            share = None
        else:
            centre = geom.representative_point()
            epsg = metric_epsg(str(row["city_ags"])[:2], centre.x, centre.y)
            seen = [v for _, v in views if v is not None and v.intersects(geom)]
            if seen:
                # Fields of view are made here from a camera's point (a few dozen vertices
                # each): only the budget spent so far is checked.
                deadline.check(f"district {fid} with the cameras' fields of view")
                series = gpd.GeoSeries([geom, shapely.union_all(seen)], crs=4326).to_crs(epsg)
                seen_part = shapely.intersection(series.iloc[0], series.iloc[1])
                share = round(seen_part.area / series.iloc[0].area, 3)
            else:
                share = 0.0
        out[str(fid)] = {"cameras_active": len(inside), "camera_fov_share": share}
    return out


def _district_bodies(district_id: str, city_ags: str, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    covering = []
    for body in bodies:
        if district_id in (body.get("covers_districts") or ()):
            covering.append(_body_summary(body, "district"))
        elif city_ags in (body.get("covers_ags") or ()):
            covering.append(_body_summary(body, "municipality"))
    return {
        "prevention_status": _best((b["status"] for b in covering), STATUS_ORDER) or NONE_KNOWN,
        "prevention_bodies": [b for b in covering if b["status"] != "none"],  # as for municipalities
    }


DISTRICT_INPUT_COLUMNS = (
    "name",
    "city",
    "city_ags",
    "households",
    "households_date",
    "population",
    "area_km2",
)
OFFICE_COLUMNS = ("kind", "city", "city_ags", "officers", "serves_districts")
STATISTICAL_COLUMNS = ("city_ags", "households")
GRAFFITI_COLUMNS = ("city", "status", "area_m2")
CAMERA_COLUMNS = ("city", "status", "direction", "hfov_deg", "range_m", "camera_type")


def district_metrics(
    districts: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame,
    bodies: Sequence[Mapping[str, Any]],
    graffiti: gpd.GeoDataFrame,
    cameras: gpd.GeoDataFrame,
    statistical: gpd.GeoDataFrame,
    thresholds: Thresholds,
    deadline: Deadline = NO_DEADLINE,
) -> list[dict[str, Any]]:
    """Every planner metric per district, one dict per district in the order given.

    Parameters
    ----------
    districts, offices, graffiti, cameras, statistical
        GeoDataFrames in EPSG:4326 indexed by feature id, with at least the columns named in
        ``DISTRICT_INPUT_COLUMNS``, ``OFFICE_COLUMNS``, ``GRAFFITI_COLUMNS``,
        ``CAMERA_COLUMNS`` and ``STATISTICAL_COLUMNS`` (see :func:`features_frame`).
    bodies
        Properties of the prevention bodies.
    thresholds
        Grid cell size, walking distance and which office kinds count as an office.
    deadline
        The time budget (:mod:`.budget`): raises OverBudget when it is spent, or before an
        overlay estimated not to fit in what is left of it.

    Returns
    -------
    list of dict
        Plain values (``None`` for unknown) and the district's geometry under ``geometry``.
    """
    officer = _officer_metrics(districts, offices)
    distance = _distance_metrics(districts, offices, statistical, thresholds, deadline)
    graffiti_m = _graffiti_metrics(districts, graffiti, deadline)
    camera_m = _camera_metrics(districts, cameras, deadline)
    rows = []
    for fid, row in districts.iterrows():
        key = str(fid)
        base = {"id": key, **{c: _value(row.get(c)) for c in DISTRICT_INPUT_COLUMNS}}
        rows.append(
            {
                **base,
                **officer[key],
                **distance[key],
                **graffiti_m[key],
                **camera_m[key],
                **_district_bodies(key, str(row["city_ags"]), bodies),
                "geometry": row.geometry,
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Per municipality


def municipality_metrics(
    municipalities: Iterable[Mapping[str, Any]], bodies: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Population, covering bodies and their status, ASSKomm stage, per municipality."""
    return [{**prevention_coverage(m, bodies), "land_code": m.get("land_code")} for m in municipalities]


def survey_comparison(
    rows: Sequence[Mapping[str, Any]], figures: Sequence[Mapping[str, str]]
) -> dict[str, Any]:
    """The Thuringian survey population computed from the data, beside the survey's figures.

    The Landespräventionsrat asked the cities (or administrative communities) with at least
    10,000 inhabitants. From the data: the Thuringian municipalities with a population of at
    least 10,000, which of them have an active body on record, which are known to have none
    active, and for which it is unknown. A municipality without a population figure cannot be
    placed and is counted separately.
    """
    thuringia = [r for r in rows if r.get("land_code") == "16"]
    large = sorted(
        (r for r in thuringia if r.get("population") is not None and r["population"] >= LARGE_TOWN),
        key=lambda r: -int(r["population"]),
    )

    def names(status: Iterable[str]) -> list[dict[str, Any]]:
        wanted = set(status)
        return [
            {
                "ags": r["ags"],
                "name": r["name"],
                "population": r["population"],
                "prevention_status": r["prevention_status"],
            }
            for r in large
            if r["prevention_status"] in wanted
        ]

    return {
        "threshold": LARGE_TOWN,
        "computed": {
            "large_towns": len(large),
            "population_unknown": sum(1 for r in thuringia if r.get("population") is None),
            "active": names(["active"]),
            "not_active": names(["planned", "dormant", "dissolved"]),
            "unknown": names([NONE_KNOWN, "unclear"]),
        },
        "survey": [dict(f) for f in figures if f.get("programme") == SURVEY_PROGRAMME],
    }
