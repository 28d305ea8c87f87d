"""Pure parts of the write API: reading a feature from a request body, JSON Merge Patch,
reference checks, and the history entries as the API shows them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..catalog.layers import Layer
from ..catalog.validation import (
    DEFAULT_LIMITS,
    Limits,
    Problem,
    check_references,
    validate_features,
    with_defaults,
)
from ..store.base import HistoryEntry, NewFeature, Query, Store

BODY = "request body"
ALL = 1_000_000


def new_id() -> str:
    """An id for a created feature that did not bring one (lower-case, like every id)."""
    return uuid.uuid4().hex[:12]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge key by key, ``null`` removes, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def read_feature(
    layer: Layer, doc: Any, feature_id: str | None, limits: Limits = DEFAULT_LIMITS
) -> tuple[NewFeature, list[Problem]]:
    """A GeoJSON Feature from a request, checked against the catalog like an import.

    ``feature_id`` is the id the feature must have (from the URL, or a new one on create); a
    different id in the body is a problem, a missing one is filled in.
    """
    problems: list[Problem] = []
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        return ({}, None), [Problem(BODY, None, None, 'is not a GeoJSON Feature ({"type": "Feature", ...})')]
    props = doc.get("properties")
    if not isinstance(props, dict):
        return ({}, None), [Problem(BODY, None, "properties", "is missing or not an object")]
    props = dict(props)
    for given in (doc.get("id"), props.get("id")):
        if given is not None and feature_id is not None and str(given) != feature_id:
            problems.append(
                Problem(
                    BODY, None, "id", f"'{given}' differs from the feature's id '{feature_id}' in the URL"
                )
            )
    if feature_id is not None:
        props["id"] = feature_id
    doc = {**doc, "id": props.get("id"), "properties": with_defaults(layer, props)}
    good, found = validate_features(layer, [doc], BODY, limits)
    problems.extend(Problem(p.file, None, p.field, p.message) for p in found)
    return good[0] if good else ({}, None), problems


def reference_problems(
    store: Store, layers: Mapping[str, Layer], layer: Layer, feature: NewFeature
) -> list[Problem]:
    """Fields naming features of another layer must name stored ones."""
    targets = {
        t for f in layer.fields.values() for t in (f.references, f.items.references if f.items else None) if t
    }
    data: dict[str, list[NewFeature]] = {
        target: [({"id": f.id}, None) for f in store.query(target, Query(limit=ALL)).features]
        for target in targets
        if target != layer.id
    }
    data[layer.id] = [feature]
    return [
        Problem(BODY, None, p.field, p.message) for p in check_references([layer], data, {layer.id: BODY})
    ]


def referrers(store: Store, layers: Mapping[str, Layer], layer_id: str, feature_id: str) -> list[str]:
    """``layer/id`` of the stored features whose reference fields name this feature."""
    out = []
    for other in layers.values():
        for name, fdef in other.fields.items():
            if layer_id not in (fdef.references, fdef.items.references if fdef.items else None):
                continue
            for f in store.query(other.id, Query(limit=ALL)).features:
                value = f.properties.get(name)
                if value == feature_id or (isinstance(value, list) and feature_id in value):
                    out.append(f"{other.id}/{f.id}")
    return sorted(set(out))


def changed_fields(entry: HistoryEntry) -> list[str]:
    before = entry.before or {"properties": {}, "geometry": None}
    after = entry.after or {"properties": {}, "geometry": None}
    names = list(dict.fromkeys([*before["properties"], *after["properties"]]))
    out = [n for n in names if before["properties"].get(n) != after["properties"].get(n)]
    if before["geometry"] != after["geometry"]:
        out.append("geometry")
    return out


def history_doc(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "time": entry.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "action": entry.action,
        "actor": entry.actor,
        "via": entry.via,
        "changed": changed_fields(entry),
        "before": entry.before,
        "after": entry.after,
    }
