"""A plain (non-editable) install carries layers/, geodata/ and templates/ inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, StoreConfig


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        timeout=300,
    )
    (path,) = out.glob("mapservice-*.whl")
    return path


def test_wheel_contains_the_shipped_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "mapservice/layers/districts.toml",
        "mapservice/layers/contact-offices.toml",
        "mapservice/geodata/municipalities.geojson",
        "mapservice/geodata/SOURCES.md",
        "mapservice/templates/base.html",
        "mapservice/templates/api/items.html",
    ):
        assert required in names, required
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_package_checks_and_serves_its_own_data(
    wheel: Path, tmp_path: Path, fresh_store: StoreConfig
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    # Run from a folder far from the checkout, with the installed copy first on the path.
    env = {**os.environ, "PYTHONPATH": str(target), **fresh_store.env}
    script = (
        "import mapservice, json; from mapservice import create_app;"
        "app = create_app(); c = app.test_client();"
        "print(mapservice.__file__);"
        "print(json.loads(c.get('/api/collections/districts/items?city=Jena').data)"
        "['numberMatched'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    location, matched = result.stdout.split()
    assert Path(location).is_relative_to(target)
    assert matched == "30"
    check = subprocess.run(
        [sys.executable, "-m", "mapservice", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert str(target) in check.stdout  # the catalog and data inside the installed package
