"""GeoPackage geometry blobs (GeoPackage 1.4, clause 2.1.3): a small header, then WKB.

Written by hand so the embedded store needs nothing but Python's sqlite3 and shapely, and
the file still opens in QGIS and GDAL as an ordinary GeoPackage.
"""

from __future__ import annotations

import struct

import shapely

MAGIC = b"GP"
# Envelope sizes by the header's envelope indicator (bits 1-3 of the flags byte).
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geom: shapely.Geometry, srs_id: int = 4326) -> bytes:
    """Little-endian blob with an [minx, maxx, miny, maxy] envelope (none for points)."""
    wkb: bytes = shapely.to_wkb(geom, output_dimension=2, byte_order=1, flavor="iso")
    if geom.geom_type == "Point":
        flags = 0b0000_0001  # little endian, no envelope: a point is its own envelope
        return MAGIC + struct.pack("<BBi", 0, flags, srs_id) + wkb
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little endian, envelope indicator 1
    return MAGIC + struct.pack("<BBi4d", 0, flags, srs_id, minx, maxx, miny, maxy) + wkb


def wkb_of(blob: bytes) -> bytes:
    """The WKB part of a blob, whatever envelope it carries."""
    if blob[:2] != MAGIC:
        raise ValueError("not a GeoPackage geometry blob")
    return bytes(blob[_wkb_start(blob) :])


def _wkb_start(blob: bytes) -> int:
    """Where the WKB begins: after the 8-byte header and the envelope it announces."""
    return 8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]


# WKB geometry types (ISO; Z, M and ZM add 1000, 2000, 3000) that are one connected piece when
# not empty, and the collections that are one when they hold a single member.
_CONNECTED_KINDS = {1, 2, 3}  # Point, LineString, Polygon
_COLLECTION_KINDS = {4, 5, 6}  # MultiPoint, MultiLineString, MultiPolygon


def is_connected(blob: bytes) -> bool:
    """Whether the geometry is one piece: a point, line or polygon, or a collection of one.
    Read from the WKB header alone; False where that does not say (a collection of several)."""
    start = _wkb_start(blob)
    if len(blob) < start + 9 or blob[start] not in (0, 1):
        return False
    order = "<" if blob[start] == 1 else ">"
    kind, members = struct.unpack_from(f"{order}2I", blob, start + 1)
    kind %= 1000
    return kind in _CONNECTED_KINDS or (kind in _COLLECTION_KINDS and members == 1)


def is_empty(blob: bytes) -> bool:
    return bool(blob[3] & 0b1_0000)


def bounds(blob: bytes) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy), read from the envelope when there is one."""
    indicator = (blob[3] >> 1) & 0b111
    if indicator:
        order = "<" if blob[3] & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(f"{order}4d", blob, 8)
        return minx, miny, maxx, maxy
    # A 2D point without an envelope (what encode writes): its coordinates, read directly, as
    # the R-tree triggers ask four times per row (a million rows on an import).
    if len(blob) == 29 and blob[8] in (0, 1):
        order = "<" if blob[8] == 1 else ">"
        (kind,) = struct.unpack_from(f"{order}I", blob, 9)
        if kind == 1:
            x, y = struct.unpack_from(f"{order}2d", blob, 13)
            return x, y, x, y
    b = shapely.from_wkb(wkb_of(blob)).bounds
    return b[0], b[1], b[2], b[3]
