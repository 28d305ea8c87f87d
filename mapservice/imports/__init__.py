"""``mapservice import``: a city's own register into one collection, all or nothing.

The file is read (:mod:`.readers`), its cells are converted to the catalog's types
(:mod:`.convert`), every feature is checked with :mod:`mapservice.catalog.validation` (all problems at
once), and the result is compared with what is stored (added / changed / removed by feature
id). :func:`apply` then swaps the layer's content with ``Store.replace`` in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from ..catalog.layers import PUBLICATION_FIELD, PUBLISHED, Catalog, Layer
from ..catalog.validation import (
    DEFAULT_LIMITS,
    HEIGHT_MESSAGE,
    Limits,
    Problem,
    ValidationError,
    check_geometry,
    check_properties,
    check_references,
    drop_heights,
    feature_label,
    geometry_bounds,
    height_position,
    property_bounds,
    shown,
    too_many_features,
    with_defaults,
)
from ..store.base import BBox, NewFeature, Store, StoredFeature
from .convert import Invalid, from_text, from_value
from .readers import ImportOptionError, Options, Record, RowProblem, Source, describe, read

if TYPE_CHECKING:
    from ..finder.geocode.adapters import GazetteerGeocoder as Geocoder

__all__ = ["Diff", "ImportOptionError", "Limits", "Options", "Plan", "RowProblem", "apply", "prepare"]

# How far (degrees) a feature may lie outside the area of the stored data before it is
# taken for swapped lon/lat or a wrong CRS.
AREA_MARGIN = 0.5
SHAPEFILE_NAME_LENGTH = 10

Progress = Callable[[Sequence[Record]], Iterable[Record]]


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> changed fields
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class Plan:
    layer: Layer
    file: str
    features: list[NewFeature]
    diff: Diff
    geocoded: int = 0
    heights_dropped: int = 0  # features whose Z coordinates --drop-z dropped


def column_fields(layer: Layer, columns: Sequence[str], shapefile: bool) -> dict[str, str]:
    """Which column holds which field: the same name, the name in other case, or (shapefiles
    cut names to 10 characters) the one field the cut name stands for."""
    found: dict[str, str] = {}
    lower = {name.lower(): name for name in layer.fields}
    for column in columns:
        if column in layer.fields:
            found[column] = column
        elif column.lower() in lower:
            found[column] = lower[column.lower()]
        elif shapefile and len(column) == SHAPEFILE_NAME_LENGTH:
            cut = [n for n in layer.fields if n[:SHAPEFILE_NAME_LENGTH] == column.lower()]
            if len(cut) == 1:
                found[column] = cut[0]
    return found


def _stored(store: Store, layer_id: str) -> list[StoredFeature]:
    return store.all_features(layer_id)


def service_area(store: Store, catalog: Catalog, skip: str) -> BBox | None:
    """The extent of the other stored layers: where this service's data lies."""
    boxes = [
        s.extent for lid in catalog.ids() if lid != skip for s in (store.state(lid),) if s.extent is not None
    ]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes) - AREA_MARGIN,
        min(b[1] for b in boxes) - AREA_MARGIN,
        max(b[2] for b in boxes) + AREA_MARGIN,
        max(b[3] for b in boxes) + AREA_MARGIN,
    )


def _inside(area: BBox, x: float, y: float) -> bool:
    return area[0] <= x <= area[2] and area[1] <= y <= area[3]


def _area_problem(geom: shapely.Geometry, area: BBox) -> str | None:
    point = geom.representative_point()
    if _inside(area, point.x, point.y):
        return None
    where = f"lon {point.x:.6f}, lat {point.y:.6f}"
    box = f"lon {area[0]:.1f}..{area[2]:.1f}, lat {area[1]:.1f}..{area[3]:.1f}"
    if _inside(area, point.y, point.x):
        return (
            f"{where} lies outside the service's area ({box}) but inside it when swapped: "
            "are longitude and latitude swapped?"
        )
    return (
        f"{where} lies outside the service's area ({box}): is the CRS right "
        "(--crs), or are the coordinates wrong?"
    )


def _geocode(geocoder: Geocoder, record: Record) -> str | None:
    """Sets the record's geometry from its address; the problem text when that fails."""
    assert record.address is not None
    found = geocoder.geocode(record.address, exactly_one=True)
    text = describe(record.address)
    if found is None:
        closest = geocoder.gazetteer.search(
            record.address if isinstance(record.address, str) else text, limit=1, min_score=0
        )
        hint = f" (closest: {closest[0].matched})" if closest else ""
        return f"address '{text}' not found in the offline gazetteer{hint}"
    if found.raw.get("ambiguous"):
        options = "; ".join(c["address"] for c in found.raw.get("candidates", [])[:3])
        return f"address '{text}' is ambiguous (candidates: {options}); make it more precise"
    record.geometry = {"type": "Point", "coordinates": [found.longitude, found.latitude]}
    return None


def _convert(
    source: Source, columns: Mapping[str, str], layer: Layer, record: Record
) -> tuple[dict[str, Any], list[tuple[str | None, str]]]:
    props: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for column, name in columns.items():
        if column not in record.values:
            continue
        value = record.values[column]
        if source.kind == "geojson":
            props[name] = value
            continue
        fdef = layer.fields[name]
        try:
            props[name] = from_text(fdef, value) if source.kind == "csv" else from_value(fdef, value)
        except Invalid as exc:
            problems.append((name, str(exc)))
    return props, problems


def _same(a: Any, b: Any) -> bool:
    if (
        isinstance(a, float | int)
        and isinstance(b, float | int)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return float(a) == float(b)
    return bool(a == b)


def diff(layer: Layer, stored: Sequence[StoredFeature], features: Sequence[NewFeature]) -> Diff:
    """Added, changed (with the changed fields) and removed feature ids."""
    before = {f.id: f for f in stored}
    out = Diff()
    new_ids = set()
    for props, geom in features:
        fid = str(props.get("id"))
        new_ids.add(fid)
        old = before.get(fid)
        if old is None:
            out.added.append(fid)
            continue
        fields = [n for n in layer.fields if not _same(props.get(n), old.properties.get(n))]
        old_geom = None if old.geometry is None else shapely.from_geojson(old.geometry)
        if (old_geom is None) != (geom is None) or (
            geom is not None
            and not shapely.equals_exact(shapely.force_2d(geom), shapely.force_2d(old_geom), tolerance=1e-9)
        ):
            fields.append("geometry")
        if fields:
            out.changed[fid] = fields
        else:
            out.unchanged += 1
    out.removed = sorted(set(before) - new_ids)
    out.added.sort()
    return out


def _reference_problems(
    catalog: Catalog,
    store: Store,
    layer: Layer,
    source: Source,
    features: Sequence[NewFeature],
    labels: Sequence[str],
) -> list[Problem]:
    """The imported features must name stored features (``references``), and features of
    other layers must not lose the features they name."""
    referencing = [
        other
        for other in catalog
        if other.id != layer.id
        and any(
            layer.id in (f.references, f.items.references if f.items else None) for f in other.fields.values()
        )
    ]
    targets = {
        t for f in layer.fields.values() for t in (f.references, f.items.references if f.items else None) if t
    }
    data: dict[str, Sequence[NewFeature]] = {
        lid: [(f.properties, None) for f in _stored(store, lid)]
        for lid in targets | {o.id for o in referencing}
        if lid != layer.id and lid in catalog
    }
    data[layer.id] = features
    problems = []
    by_label = {feature_label({"properties": props}, i): labels[i] for i, (props, _) in enumerate(features)}
    for p in check_references([layer], data, {layer.id: source.file}):
        problems.append(source.problem(by_label.get(p.feature or "", p.feature), p.field, p.message))
    suffix = f"of layer '{layer.id}'"
    for p in check_references(referencing, data, {o.id: f"stored layer '{o.id}'" for o in referencing}):
        if p.message.endswith(suffix):
            problems.append(
                Problem(
                    p.file,
                    p.feature,
                    p.field,
                    f"{p.message}: the import would remove a feature this stored feature names",
                )
            )
    return problems


def prepare(
    catalog: Catalog,
    store: Store,
    layer_id: str,
    path: Path,
    options: Options,
    ignore_columns: bool = False,
    progress: Progress | None = None,
    geocoder: Callable[[], Geocoder] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Plan:
    """Read, convert and validate the file; ValidationError lists every problem found.

    ``geocoder()`` gives the geocoder for rows with an address instead of coordinates; it is
    only called when the file has such rows (building the gazetteer takes a moment).
    """
    layer = catalog[layer_id]
    source = read(path, options)
    too_many = too_many_features(len(source.records), limits)
    if too_many:
        raise ValidationError([source.problem(None, None, too_many)])
    shapefile = source.file.lower().endswith((".zip", ".shp"))
    columns = column_fields(layer, source.columns, shapefile)
    problems: list[Problem] = []
    unknown = [c for c in source.columns if c not in columns and c not in source.consumed]
    if unknown and not ignore_columns:
        names = ", ".join(f"'{shown(c)}'" for c in unknown)
        message = (
            f"column(s) {names} are not fields of '{layer.id}' (fields: "
            f"{', '.join(layer.fields)}); rename or remove them, or pass --ignore-columns"
        )
        if shapefile and any(len(c) == SHAPEFILE_NAME_LENGTH or "_" in c[-2:] for c in unknown):
            message += (
                "; shapefiles cut column names to 10 characters, so several fields may "
                "share one name: export the register as GeoPackage or GeoJSON instead"
            )
        problems.append(source.problem(None, None, message))
    if not source.records:
        problems.append(
            source.problem(
                None,
                None,
                "contains no features; an import replaces the whole collection, so it needs at least one",
            )
        )
    by_address = geocoder() if geocoder and any(r.address is not None for r in source.records) else None
    area = service_area(store, catalog, layer.id)
    stored = {f.id: f for f in _stored(store, layer.id)}
    # A field with a default that the file does not have (e.g. the publication state of a
    # camera register) keeps its stored value: re-importing a register must not unpublish it.
    kept = [n for n, fdef in layer.fields.items() if fdef.default is not None and n not in columns.values()]
    features: list[NewFeature] = []
    labels: list[str] = []
    seen: dict[str, str] = {}
    geocoded = dropped = 0
    for record in progress(source.records) if progress else source.records:
        found = list(record.problems)
        props, convert_problems = _convert(source, columns, layer, record)
        beyond = property_bounds(props, limits)
        found.extend(beyond.values())
        # Values beyond the limits are not looked at again, nor passed on.
        props = {k: v for k, v in props.items() if k not in beyond}
        old = stored.get(str(props.get("id"))) if "id" not in beyond else None
        if old is not None:
            props.update({name: old.properties.get(name) for name in kept})
        props = with_defaults(layer, props)
        found.extend(convert_problems)
        bad_fields = {f for f, _ in convert_problems} | set(beyond)
        for fpath, message in check_properties(layer.fields, props, skip=beyond):
            if fpath.split(".")[0].split("[")[0] not in bad_fields:
                found.append((fpath, message))
        fid = props.get("id")
        if isinstance(fid, str):
            if fid in seen:
                found.append(("id", f"'{shown(fid)}' is used twice (also by {seen[fid]})"))
            seen.setdefault(fid, record.label)
        if options.drop_z and record.geometry is not None and height_position(record.geometry) is not None:
            record.geometry = drop_heights(record.geometry)
            dropped += 1
        over = geometry_bounds(record.geometry, limits)
        found.extend(
            (f, f"{m}; import with --drop-z to drop the heights" if m == HEIGHT_MESSAGE else m)
            for f, m in over
        )
        if record.geometry is None and record.address is not None and by_address is not None:
            failed = _geocode(by_address, record)
            if failed:
                found.append((source.address_field, failed))
                record.unlocated = True
            else:
                geocoded += 1
        geom = None
        if not record.unlocated and not over and not any(f == "geometry" for f, _ in found):
            geom, messages = check_geometry(layer, record.geometry)
            found.extend(("geometry", m) for m in messages)
            if geom is not None and not messages and area is not None:
                outside = _area_problem(geom, area)
                if outside:
                    found.append(("geometry", outside))
        problems.extend(source.problem(record.label, f, m) for f, m in found)
        features.append((props, geom))
        labels.append(record.label)
    problems.extend(_reference_problems(catalog, store, layer, source, features, labels))
    if problems:
        raise ValidationError(problems)
    return Plan(layer, source.file, features, diff(layer, list(stored.values()), features), geocoded, dropped)


def apply(store: Store, plan: Plan, actor: str) -> None:
    """Swap the layer's content in one transaction: all lands or nothing changes.

    Every feature added, changed or removed is logged with ``actor`` in the same transaction.
    """
    store.replace(plan.layer.id, plan.features, actor=actor, via=f"import {Path(plan.file).name}")


def _unpublished_note(plan: Plan) -> list[str]:
    """A sensitive layer's features stay hidden until published: say so after an import."""
    if not plan.layer.publication:
        return []
    hidden = sum(1 for props, _ in plan.features if props.get(PUBLICATION_FIELD) != PUBLISHED)
    if not hidden:
        return []
    return [
        f"  {hidden} of them not published ({PUBLICATION_FIELD} draft or approved): the "
        "maps and anonymous API readers show them once it is 'published'"
    ]


def _heights_note(plan: Plan, dry_run: bool) -> list[str]:
    if not plan.heights_dropped:
        return []
    verb = "would be" if dry_run else "were"
    return [
        f"  heights (Z coordinates) of {plan.heights_dropped} of them {verb} dropped (--drop-z): "
        "only longitude and latitude are stored"
    ]


def report(plan: Plan, dry_run: bool) -> list[str]:
    d = plan.diff
    counts = f"{len(d.added)} added, {len(d.changed)} changed, {len(d.removed)} removed"
    if not dry_run:
        return [
            f"{plan.layer.id}: {len(plan.features)} features imported ({counts})",
            *_heights_note(plan, dry_run),
            *_unpublished_note(plan),
        ]
    lines = [
        f"{plan.layer.id}: dry run, nothing written; {len(plan.features)} features in "
        f"{plan.file} would give {counts}, {d.unchanged} unchanged",
        *_heights_note(plan, dry_run),
    ]
    if d.added:
        lines.append(f"  added ({len(d.added)}): {', '.join(d.added)}")
    for fid, fields in sorted(d.changed.items()):
        lines.append(f"  changed {fid}: {', '.join(fields)}")
    if d.removed:
        lines.append(f"  removed ({len(d.removed)}): {', '.join(d.removed)}")
    return lines
