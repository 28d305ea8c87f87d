"""Filter expressions a store evaluates in SQL (the CQL2 filters of the API, checked already).

The API parses ``filter`` (ogcapi/cql2.py) into these nodes after checking every property,
type and limit against the layer; a store only translates them (SqlStore._expression), with
every value a bound parameter. Nodes are frozen and hashable: a page's cursor names its query,
expression included, by their ``repr``.

Semantics are SQL's, the same on both stores: a comparison with an unknown (null) value is
unknown, ``NOT`` of unknown is unknown, and a feature is selected only where the whole
expression is true. A feature without a location is unknown to every spatial predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# A literal as the store compares it: dates and date-times as their ISO text (which is how
# both stores keep them), booleans as bool.
Scalar = str | int | float | bool

COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
Comparison = Literal["=", "<>", "<", "<=", ">", ">="]
# The spatial relations of CQL2 (S_INTERSECTS …), with the feature's geometry first.
SPATIAL = ("intersects", "disjoint", "contains", "within", "touches", "crosses", "overlaps", "equals")
Relation = Literal["intersects", "disjoint", "contains", "within", "touches", "crosses", "overlaps", "equals"]


@dataclass(frozen=True)
class Property:
    """A queryable property; ``kind`` is its catalog type (string, integer, date, …)."""

    name: str
    kind: str


@dataclass(frozen=True)
class Compare:
    op: Comparison
    left: Property
    right: Scalar | Property


@dataclass(frozen=True)
class Like:
    """CQL2 LIKE: ``%`` any text, ``_`` one character, ``\\`` takes the next one literally;
    case-sensitive."""

    prop: Property
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class In:
    prop: Property
    values: tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between:
    prop: Property
    low: Scalar
    high: Scalar
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    prop: Property
    negated: bool = False


@dataclass(frozen=True)
class Spatial:
    """``relation(feature geometry, literal)``; the literal as WKB in CRS84 lon/lat."""

    relation: Relation
    wkb: bytes
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class And:
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Not:
    item: Expression


Expression = Compare | Like | In | Between | IsNull | Spatial | And | Or | Not


LikePart = tuple[Literal["text", "any", "one"], str]


def like_parts(pattern: str) -> list[LikePart]:
    """A LIKE pattern as runs of literal text, ``any`` (``%``) and ``one`` (``_``): each
    store writes its own syntax from these, so escaping is decided once."""
    parts: list[LikePart] = []
    text: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            text.append(next(chars, "\\"))  # a trailing backslash stands for itself
        elif char in "%_":
            if text:
                parts.append(("text", "".join(text)))
                text = []
            parts.append(("any" if char == "%" else "one", char))
        else:
            text.append(char)
    if text:
        parts.append(("text", "".join(text)))
    return parts


def like_pattern(pattern: str, any_text: str, one_char: str, literal: Callable[[str], str]) -> str:
    """A CQL2 LIKE pattern in a database's syntax: its wildcards, and ``literal`` writing a
    character of the text so that the database takes it as that character."""
    wildcards = {"any": any_text, "one": one_char}
    return "".join(
        "".join(literal(c) for c in text) if kind == "text" else wildcards[kind]
        for kind, text in like_parts(pattern)
    )


def index_bounds(node: Expression) -> tuple[float, float, float, float] | None:
    """The box every selected feature must meet, where the filter itself requires one: a
    spatial test (other than disjoint) that the whole filter depends on. A store reads its
    spatial index with it first."""
    if isinstance(node, Spatial) and node.relation != "disjoint":
        return node.bounds
    if isinstance(node, And):
        for item in node.items:
            bounds = index_bounds(item)
            if bounds is not None:
                return bounds
    return None
