"""Small address files of each input kind, written by the tests themselves.

TEST DATA, INVENTED: the street names are streets of Jena and Zwickau, but which house numbers
exist and every coordinate are made up (offsets around a point near each town centre). Each
file says so where its format allows: the object ids of the house-coordinate files read
``…TESTDAT…``, the CSV has a column ``hinweis`` = "Testdaten, erfunden", the OSM file's
header names its generator "mapservice tests: invented test data".
"""

from __future__ import annotations

from pathlib import Path

from pyproj import Transformer

# Near the town centres (lon, lat), inside the municipalities the shipped data covers.
JENA = (11.5890, 50.9275)
ZWICKAU = (12.4960, 50.7180)

# (street, number, suffix, postcode, place, east offset m, north offset m)
JENA_ADDRESSES = [
    ("Am Anger", "26", "", "07743", "Jena", 0, 0),
    ("Am Anger", "28", "", "07743", "Jena", 10, 15),
    ("Am Anger", "30", "", "07743", "Jena", 20, 30),
    ("Holzmarkt", "1", "", "07743", "Jena", -150, 60),
    ("Löbdergraben", "12", "", "07743", "Jena", -80, -200),
    ("Löbdergraben", "12", "a", "07743", "Jena", -75, -190),
]
ZWICKAU_ADDRESSES = [
    ("Hauptmarkt", "1", "", "08056", "Zwickau", 0, 0),
    ("Hauptmarkt", "2", "", "08056", "Zwickau", 15, 5),
]


def _utm(centre: tuple[float, float], epsg: int, dx: float, dy: float) -> tuple[float, float]:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(*centre)
    return x + dx, y + dy


def _hk_line(
    i: int, land: str, krs: str, row: tuple[str, str, str, str, str, int, int], east: str, north: str
) -> str:
    street, number, suffix, postcode, place, _, _ = row
    oi = f"DE{'TH' if land == '16' else 'SN'}TESTDAT{i:05d}"  # 16 characters, as the spec has it
    return ";".join(
        [
            "N",
            oi,
            "A",
            land,
            "0",
            krs,
            "000",
            "0000",
            f"{i:05d}",
            number,
            suffix,
            east,
            north,
            street,
            postcode,
            place,
            "",
            "",
        ]
    )


def _decimal(value: float) -> str:
    return f"{value:.3f}".replace(".", ",")


def write_hauskoordinaten(
    path: Path, header: bool = True, encoding: str = "utf-8-sig", zone_prefix: bool = True
) -> Path:
    """HK-DE lines for Jena (Thüringen, UTM 32) and Zwickau (Sachsen, UTM 33).

    With ``zone_prefix`` the east value carries its zone ("32681856,300"), as the deliveries
    do; without, the zone follows from the Land key.
    """
    lines = []
    if header:
        lines.append(
            "NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EEEEEEEE,EEE;NNNNNNN,NNN;STN;PLZ;ONM;ZON;POT"
        )
    i = 1
    for land, krs, centre, epsg, zone, rows in (
        ("16", "53", JENA, 25832, "32", JENA_ADDRESSES),
        ("14", "24", ZWICKAU, 25833, "33", ZWICKAU_ADDRESSES),
    ):
        for row in rows:
            x, y = _utm(centre, epsg, row[5], row[6])
            east = (zone if zone_prefix else "") + _decimal(x)
            lines.append(_hk_line(i, land, krs, row, east, _decimal(y)))
            i += 1
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)
    return path


def expected_lonlat(street: str, number: str, suffix: str = "") -> tuple[float, float]:
    """Where the generated files put an address (lon, lat)."""
    for centre, epsg, rows in ((JENA, 25832, JENA_ADDRESSES), (ZWICKAU, 25833, ZWICKAU_ADDRESSES)):
        for row in rows:
            if (row[0], row[1], row[2]) == (street, number, suffix):
                x, y = _utm(centre, epsg, row[5], row[6])
                lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(x, y)
                return float(lon), float(lat)
    raise KeyError((street, number, suffix))


def write_csv(path: Path) -> Path:
    """German column names, lon/lat with decimal commas, semicolons; Jena only."""
    lines = ["strasse;hausnummer;plz;ort;laenge;breite;hinweis"]
    for street, number, suffix, postcode, place, dx, dy in JENA_ADDRESSES:
        lon = JENA[0] + dx / 70_000
        lat = JENA[1] + dy / 111_000
        lon_text = f"{lon:.6f}".replace(".", ",")
        lat_text = f"{lat:.6f}".replace(".", ",")
        lines.append(
            f"{street};{number}{suffix};{postcode};{place};{lon_text};{lat_text};Testdaten, erfunden"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CSV_COLUMNS = "street=strasse,housenumber=hausnummer,postcode=plz,place=ort,x=laenge,y=breite"


def write_osm(path: Path) -> Path:
    """An .osm.pbf with an address node, a building way with an address, a way without
    ``building`` (not an address point), and a building way whose nodes are missing."""
    import osmium
    from osmium.osm.mutable import Node, Way

    header = osmium.io.Header()
    header.set("generator", "mapservice tests: invented test data")
    writer = osmium.SimpleWriter(str(path), 4096, header)
    try:
        lon, lat = JENA
        writer.add_node(
            Node(
                id=1,
                location=(lon, lat),
                tags={
                    "addr:street": "Holzmarkt",
                    "addr:housenumber": "1",
                    "addr:postcode": "07743",
                    "addr:city": "Jena",
                    "note": "invented test data",
                },
            )
        )
        square = [
            (lon + 0.001, lat),
            (lon + 0.002, lat),
            (lon + 0.002, lat + 0.001),
            (lon + 0.001, lat + 0.001),
        ]
        for i, (x, y) in enumerate(square, start=10):
            writer.add_node(Node(id=i, location=(x, y)))
        writer.add_node(Node(id=2, location=(lon, lat + 0.002), tags={"addr:housenumber": "5"}))  # no street
        building = {
            "building": "yes",
            "addr:street": "Am Anger",
            "addr:housenumber": "26",
            "addr:city": "Jena",
        }
        writer.add_way(Way(id=100, nodes=[10, 11, 12, 13, 10], tags=building))
        writer.add_way(
            Way(id=101, nodes=[10, 11, 12, 10], tags={"addr:street": "Am Anger", "addr:housenumber": "99"})
        )
        writer.add_way(Way(id=102, nodes=[900, 901, 902, 900], tags={**building, "addr:housenumber": "30"}))
    finally:
        writer.close()
    return path
