"""Reading address files for `mapservice gazetteer import`: house coordinates (HK-DE), OSM, CSV.

The files are written by the tests (tests/gazetteer_files.py): invented test data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gazetteer_files import CSV_COLUMNS, expected_lonlat, write_csv, write_hauskoordinaten, write_osm

from mapservice.finder.geocode.importer import (
    AddressImport,
    ImportOptionError,
    detect_format,
    parse_columns,
)
from mapservice.finder.geocode.readers import GazetteerError


def read(path: Path, fmt: str, **options: object) -> tuple[list[tuple[object, ...]], AddressImport]:
    job = AddressImport(path=path, format=fmt, source="test", **options)  # type: ignore[arg-type]
    rows = [row for batch in job.batches() for row in batch]
    return rows, job


def test_hauskoordinaten_with_header_and_zone_prefix(tmp_path: Path) -> None:
    path = write_hauskoordinaten(tmp_path / "hk.csv")
    assert detect_format(path) == "hauskoordinaten"
    rows, job = read(path, "hauskoordinaten")
    assert len(rows) == 8
    by_address = {(r[0], r[1]): r for r in rows}
    loebder = by_address[("Löbdergraben", "12a")]  # HNR 12 + ADZ a
    assert (loebder[2], loebder[3], loebder[6]) == ("07743", "Jena", "address")
    assert loebder[7:10] == ("loebdergraben", "jena", "12a")  # street, place, number keys
    assert str(loebder[10]).startswith("DETHTESTDAT")  # the object id is kept as ref
    # Jena in zone 32, Zwickau in zone 33: both come back where they were put.
    for street, number, suffix in (("Am Anger", "28", ""), ("Hauptmarkt", "1", "")):
        row = by_address[(street, number + suffix)]
        assert (row[4], row[5]) == pytest.approx(expected_lonlat(street, number, suffix), abs=1e-6)
    summary = job.summary()
    assert summary.row_count == 8 and dict(summary.places) == {"Jena": 6, "Zwickau": 2}
    assert summary.attribution == "Hauskoordinaten Thüringen, Sachsen"
    assert {(s.key, s.place_key, s.count) for s in summary.streets} >= {("amanger", "jena", 3)}
    assert job.described().licence == "dl-de/by-2-0"


def test_a_house_coordinate_of_lower_quality_is_marked_approximate(tmp_path: Path) -> None:
    path = write_hauskoordinaten(tmp_path / "hk.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    holzmarkt = next(i for i, line in enumerate(lines) if ";Holzmarkt;" in line)
    fields = lines[holzmarkt].split(";")
    fields[2] = "R"  # QUA: not "surely inside the building"
    lines[holzmarkt] = ";".join(fields)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    rows, _ = read(path, "hauskoordinaten")
    precision = {(r[0], r[1]): r[6] for r in rows}
    assert precision[("Holzmarkt", "1")] == "street"  # shown as an approximate location
    assert precision[("Am Anger", "28")] == "address"


def test_hauskoordinaten_without_header_in_latin1_zone_from_the_land(tmp_path: Path) -> None:
    path = write_hauskoordinaten(tmp_path / "hk.txt", header=False, encoding="latin-1", zone_prefix=False)
    assert detect_format(path) == "hauskoordinaten"
    rows, _ = read(path, "hauskoordinaten")
    streets = {r[0] for r in rows}
    assert "Löbdergraben" in streets  # decoded from Latin-1
    hauptmarkt = next(r for r in rows if r[0] == "Hauptmarkt" and r[1] == "1")
    assert (hauptmarkt[4], hauptmarkt[5]) == pytest.approx(expected_lonlat("Hauptmarkt", "1"), abs=1e-6)


def test_hauskoordinaten_bad_rows_name_file_row_and_field(tmp_path: Path) -> None:
    path = write_hauskoordinaten(tmp_path / "hk.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    fields = lines[2].split(";")
    fields[11] = "32abc"  # east value not a number
    lines[2] = ";".join(fields)
    fields = lines[3].split(";")
    fields[13] = ""  # no street name
    lines[3] = ";".join(fields)
    fields = lines[4].split(";")
    fields[11] = "31500000,000"  # zone 31: not a zone of German house coordinates
    lines[4] = ";".join(fields)
    fields = lines[5].split(";")
    fields[11], fields[12] = fields[12], fields[11]  # swapped: lands far outside Germany
    lines[5] = ";".join(fields)
    lines.append("L;DETHTESTDAT99999;A;16")  # a deletion record: skipped, not a problem
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GazetteerError) as info:
        read(path, "hauskoordinaten")
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(3, "EEEEEEEE,EEE"), (4, "STN"), (5, "EAST"), (6, "EAST")}
    message = str(info.value)
    assert f"{path}, row 3, column 'EEEEEEEE,EEE': not a number: '32abc'" in message
    assert message.startswith("4 problem(s)")


def test_a_control_character_is_a_problem_of_its_row_and_column(tmp_path: Path) -> None:
    path = write_hauskoordinaten(tmp_path / "hk.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    fields = lines[2].split(";")
    fields[13] = "Am\x00Anger"  # a NUL: PostgreSQL would refuse the whole import
    lines[2] = ";".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GazetteerError) as info:
        read(path, "hauskoordinaten")
    assert [(p.row, p.column) for p in info.value.problems] == [(3, "STN")]
    assert "control character" in str(info.value)


def test_osm_nodes_and_building_ways(tmp_path: Path) -> None:
    path = write_osm(tmp_path / "jena.osm.pbf")
    assert detect_format(path) == "osm"
    rows, job = read(path, "osm")
    assert sorted((r[0], r[1], r[3]) for r in rows) == [
        ("Am Anger", "26", "Jena"),
        ("Holzmarkt", "1", "Jena"),
    ]
    way = next(r for r in rows if r[0] == "Am Anger")
    assert way[10] == "way/100"
    assert (way[4], way[5]) == pytest.approx((11.5905, 50.9280))  # centroid of the square
    assert job.skipped == 1  # way 102: its nodes are not in the extract
    described = job.described()
    assert (described.licence, described.attribution) == ("ODbL 1.0", "© OpenStreetMap contributors")


def test_not_an_osm_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"this is no protobuf")
    with pytest.raises(GazetteerError, match="cannot read as OpenStreetMap data"):
        read(path, "osm")


def test_csv_with_configured_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "adressen.csv")
    assert detect_format(path) == "csv"
    rows, _ = read(path, "csv", columns=parse_columns(CSV_COLUMNS), crs="EPSG:4326")
    assert len(rows) == 6 and {r[0] for r in rows} == {"Am Anger", "Holzmarkt", "Löbdergraben"}
    with pytest.raises(GazetteerError, match="column 'lon': not in the header"):
        read(path, "csv", columns={**parse_columns(CSV_COLUMNS), "x": "lon"}, crs="EPSG:4326")


def test_the_existing_fixture_csv_in_utm(tmp_path: Path) -> None:
    fixture = Path(__file__).parent.parent / "data" / "gazetteer" / "jena_hauskoordinaten.csv"
    columns = parse_columns(
        "street=strasse,housenumber=hausnummer,postcode=plz,place=ort,x=ostwert,y=nordwert"
    )
    rows, _ = read(fixture, "csv", columns=columns, crs="EPSG:25832")
    assert len(rows) == 14
    broken = fixture.with_name("broken.csv")
    with pytest.raises(GazetteerError) as info:
        read(broken, "csv", columns=columns, crs="EPSG:25832")
    assert (4, "nordwert") in {(p.row, p.column) for p in info.value.problems}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "shapefile"}, "--format"),
        ({"format": "csv", "columns": {"street": "s"}}, "no column given for x, y"),
        ({"format": "csv", "columns": {"street": "s", "x": "a", "y": "b", "colour": "c"}}, "unknown role"),
        ({"format": "osm", "columns": {"street": "s"}}, "csv only"),
        ({"format": "hauskoordinaten", "crs": "EPSG:999999"}, "unknown CRS"),
        ({"format": "hauskoordinaten", "source": " "}, "--source"),
    ],
)
def test_wrong_options_are_named(tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ImportOptionError, match=message):
        AddressImport(path=tmp_path / "x", **{"source": "s", **options})  # type: ignore[arg-type]
    with pytest.raises(ImportOptionError, match="role=column"):
        parse_columns("street=strasse,ostwert")
