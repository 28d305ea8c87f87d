"""Project-level promises: reproducible data, documented settings, clean lint and types."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from mapservice.config import ConfigError, load_settings, setting_help

RAW_DATA = Path(os.environ.get("MAPSERVICE_RAW_DATA", REPO.parent / "shared" / "data"))


def test_geodata_is_rebuilt_byte_for_byte_from_the_raw_data() -> None:
    if not RAW_DATA.is_dir():
        pytest.skip(f"raw data folder {RAW_DATA} is not beside the checkout")
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_geodata.py"), "--check", "--source", str(RAW_DATA)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name, _, help_text in setting_help():
        assert help_text
        assert f"MAPSERVICE_{name.upper()}" in readme, name


def test_settings_layers_and_their_errors(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("default_limit = 50\ncache_max_age = 300\n")
    settings = load_settings(environ={"MAPSERVICE_CONFIG": str(config), "MAPSERVICE_CACHE_MAX_AGE": "30"})
    assert settings.default_limit == 50 and settings.cache_max_age == 30  # env beats the file
    config.write_text('colour = "red"\n')
    with pytest.raises(ConfigError, match=re.escape(str(config)) + ".*colour"):
        load_settings(environ={"MAPSERVICE_CONFIG": str(config)})
    with pytest.raises(ConfigError, match="MAPSERVICE_DEFAULT_LIMIT"):
        load_settings(environ={"MAPSERVICE_DEFAULT_LIMIT": "lots"})
    with pytest.raises(ConfigError, match="MAPSERVICE_COLOUR"):
        load_settings(environ={"MAPSERVICE_COLOUR": "red"})
    with pytest.raises(ConfigError, match="default_limit"):
        load_settings({"default_limit": 20000}, environ={})


@pytest.mark.parametrize(
    "command",
    [["ruff", "check"], ["ruff", "format", "--check"], ["mypy"]],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_lint_format_and_types_are_clean(command: list[str]) -> None:
    """ruff, ``ruff format`` and mypy --strict (configured in pyproject.toml) on the tree."""
    target = [] if command == ["mypy"] else [str(REPO)]
    result = subprocess.run(
        [sys.executable, "-m", *command, *target], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert result.returncode == 0, result.stdout
