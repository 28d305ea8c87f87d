"""The walk of issue 6, on each store, against `mapservice serve` on 127.0.0.1.

A planner imports a CSV camera register in EPSG:25832 with two bad rows and gets both rows
named; fixes them and imports; edits one camera through the API with a token; sees the change
and its history. The register is invented test data (tests/data/import/cameras*.csv).
"""

from __future__ import annotations

from pathlib import Path

import requests
from click.testing import CliRunner, Result

from conftest import StoreConfig, start_server, stop_server
from mapservice.cli import main

DATA = Path(__file__).parent.parent / "data" / "import"
ITEMS = "/api/collections/video-surveillance/items"
CAMERA = "jena-holzmarkt-sued"
PLANNER = "Planungsamt Jena (Test)"


def cli(store: StoreConfig, *args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=store.env, catch_exceptions=False)


def import_cameras(store: StoreConfig, path: Path) -> Result:
    return cli(
        store,
        "import",
        "video-surveillance",
        path,
        "--crs",
        "EPSG:25832",
        "--x-column",
        "x",
        "--y-column",
        "y",
        "--by",
        PLANNER,
    )


def test_import_fix_import_edit_with_a_token_and_read_the_history(fresh_store: StoreConfig) -> None:
    # 1. The register with two bad rows: both named, nothing written.
    bad = import_cameras(fresh_store, DATA / "cameras-bad.csv")
    assert bad.exit_code == 1
    assert "cameras-bad.csv, row 3" in bad.output and "cameras-bad.csv, row 5" in bad.output
    # 2. Fixed, it lands; the cameras are drafts until published.
    good = import_cameras(fresh_store, DATA / "cameras.csv")
    assert good.exit_code == 0, good.output
    assert "5 features imported" in good.output and "5 of them not published" in good.output
    token = cli(
        fresh_store, "token", "create", "--name", PLANNER, "--collection", "video-surveillance"
    ).stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}

    fresh_store.instance.mkdir(parents=True, exist_ok=True)  # PostGIS: only runtime files
    server, log = start_server(fresh_store.instance, fresh_store.env)
    try:
        url = f"{server.url}{ITEMS}/{CAMERA}"
        assert requests.get(url, timeout=10).status_code == 404  # a draft: not public
        got = requests.get(url, headers=bearer, timeout=10)
        assert got.status_code == 200
        assert got.json()["properties"]["range_m"] == 45.5
        # 3. One camera edited through the API: a longer range, and published.
        patch = requests.patch(
            url,
            json={"properties": {"range_m": 60, "publication": "published"}},
            headers={
                **bearer,
                "If-Match": got.headers["ETag"],
                "Content-Type": "application/merge-patch+json",
            },
            timeout=10,
        )
        assert patch.status_code == 200, patch.text
        # 4. The change is there, for everybody now, and on the map page's list.
        public = requests.get(url, timeout=10)
        assert public.status_code == 200 and public.json()["properties"]["range_m"] == 60
        assert "Holzmarkt Süd" in requests.get(f"{server.url}/map/jena", timeout=30).text
        assert requests.get(f"{server.url}{ITEMS}", timeout=10).json()["numberMatched"] == 1
        # 5. The history: the import by the planner, then the edit with the token.
        history = requests.get(f"{url}/history", headers=bearer, timeout=10).json()
        imported, edited = history["changes"]
        assert (imported["action"], imported["actor"], imported["via"]) == (
            "create",
            PLANNER,
            "import cameras.csv",
        )
        assert edited["action"] == "update" and edited["via"] == "api"
        assert edited["actor"].startswith(f"{PLANNER} (token ")
        assert edited["changed"] == ["range_m", "publication"]
        assert edited["before"]["properties"]["range_m"] == 45.5
        assert edited["after"]["properties"]["range_m"] == 60
        assert edited["after"]["properties"]["publication"] == "published"
        # 6. Importing the register again resets the range from the file but keeps the camera
        # published (the file has no publication column); the log has that too.
        again = import_cameras(fresh_store, DATA / "cameras.csv")
        assert again.exit_code == 0 and "4 of them not published" in again.output
        public = requests.get(url, timeout=10).json()
        assert public["properties"]["range_m"] == 45.5
        assert public["properties"]["publication"] == "published"
        last = requests.get(f"{url}/history", headers=bearer, timeout=10).json()["changes"][-1]
        assert (last["action"], last["actor"], last["changed"]) == ("update", PLANNER, ["range_m"])
    finally:
        stop_server(server, log)
