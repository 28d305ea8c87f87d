"""How the change log keeps each change small and still reads every entry whole.

A logged change has a ``before`` and an ``after`` side, each ``{"properties": …, "geometry": …}``
(see :class:`~mapservice.store.base.HistoryEntry`). Stored in full, every re-import of a large
register wrote both sides of every changed feature again (issue 15: 350,800 rows in 252 MB
after 7 imports of 50,000 cameras). So a row stores, per side:

* ``before``: the whole document, or NULL for an update or delete whose before is exactly the
  ``after`` of the feature's previous entry (its stored ``rev``, a hash of that after, matches
  the feature as it was read; an edit made outside the service, e.g. in QGIS, does not match
  and gets a whole before). ``depth`` counts the rows back to one holding a whole before; at
  :data:`KEYFRAME` a whole before is stored again, so no entry needs more rows than that.
* ``after``: the whole document, or ``{"diff": {"properties": {changed}, "removed": [names],
  "geometry": new}}`` against this row's own before, where that is shorter and rebuilds the
  whole document exactly (the same JSON text: key order, types, numbers). ``removed`` and
  ``geometry`` are there only when a property was removed or the geometry changed.

Rows written before this form (whole before and after, no ``rev``) read as they are. Pruning
removes old rows and gives the first remaining row of each feature its whole before again, so
every remaining entry still reads whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# At most this many rows of one feature are read to rebuild one entry.
KEYFRAME = 16

Doc = dict[str, Any]


def dumps(doc: Any) -> str:
    """A side as the change log stores it (the text its rev is computed from)."""
    return json.dumps(doc, ensure_ascii=False)


def rev(text: str) -> str:
    """A short hash of a stored whole side (collisions are not a security matter here: a
    mismatch only costs a whole before)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def diff(before: Doc, after: Doc, after_text: str, same_geometry: bool) -> str | None:
    """``after`` as the text of a diff against ``before``, if that is shorter and rebuilds
    ``after`` exactly; else None (store it whole). ``same_geometry``: the geometry texts are
    equal (compared as text: a parsed -0.0 equals 0.0)."""
    old, new = before["properties"], after["properties"]
    changed = {k: v for k, v in new.items() if k not in old or not _same(old[k], v)}
    body: Doc = {"properties": changed}
    removed = [k for k in old if k not in new]
    if removed:
        body["removed"] = removed
    if not same_geometry:
        body["geometry"] = after["geometry"]
    # Every value the diff leaves out is the same JSON; the keys must also come in order.
    if list(apply(before, body)["properties"]) != list(new):
        return None
    text = dumps({"diff": body})
    return text if len(text) < len(after_text) else None


def _same(a: Any, b: Any) -> bool:
    """Whether two property values are the same JSON (in Python 1 == 1.0 == True, 0.0 == -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)  # the JSON text of a float
    if isinstance(a, dict | list):
        return dumps(a) == dumps(b)
    return bool(a == b)


def apply(before: Doc, body: Doc) -> Doc:
    """The whole after of a diff ``body`` against ``before``."""
    removed = set(body.get("removed", ()))
    props = {k: v for k, v in before["properties"].items() if k not in removed}
    props.update(body["properties"])
    return {"properties": props, "geometry": body["geometry"] if "geometry" in body else before["geometry"]}


def is_diff(stored: Any) -> bool:
    return isinstance(stored, dict) and "diff" in stored and "properties" not in stored


@dataclass
class Row:
    """One change-log row as stored (sides decoded from JSON, not yet rebuilt)."""

    seq: int
    at: Any
    action: str
    actor: str
    via: str
    before: Any
    after: Any
    feature_id: str
    depth: int


@dataclass
class Whole:
    """A row with both sides rebuilt."""

    row: Row
    before: Doc | None
    after: Doc | None


class Broken(Exception):
    """An entry refers to an earlier one that is not there (rows removed by hand)."""


def implicit_before(row: Row) -> bool:
    """Whether the row's before is the after of the feature's previous entry."""
    return row.action != "create" and row.before is None


def rebuild(rows: Iterable[Row]) -> list[Whole]:
    """Both sides of each row, in seq order. Raises Broken where a row's base is missing."""
    last: dict[str, Doc | None] = {}
    out = []
    for row in sorted(rows, key=lambda r: r.seq):
        if row.action == "create":
            before = None
        elif row.before is not None:
            before = row.before
        elif row.feature_id in last and last[row.feature_id] is not None:
            before = last[row.feature_id]
        else:
            raise Broken(f"change {row.seq} of '{row.feature_id}' needs an earlier entry that is missing")
        after: Doc | None
        if row.after is None:
            after = None
        elif is_diff(row.after):
            if before is None:
                raise Broken(f"change {row.seq} of '{row.feature_id}' is a diff without a before")
            after = apply(before, row.after["diff"])
        else:
            after = row.after
        last[row.feature_id] = after
        out.append(Whole(row, before, after))
    return out


def needs_base(rows: Sequence[Row]) -> set[str]:
    """Features whose first row in ``rows`` (seq order) reads its before from an earlier row."""
    seen: set[str] = set()
    out: set[str] = set()
    for row in sorted(rows, key=lambda r: r.seq):
        if row.feature_id not in seen:
            seen.add(row.feature_id)
            if implicit_before(row):
                out.add(row.feature_id)
    return out
