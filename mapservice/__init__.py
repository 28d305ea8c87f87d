"""District Safety Map: crime-prevention work of German municipalities on a map.

``create_app`` is the only entry point that builds anything; importing the package is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, catalog, store (created on first start), blueprints.

    ``config`` overrides settings (the same names as in the TOML file / MAPSERVICE_* env).
    A broken catalog or settings file raises CatalogError / ConfigError naming file and key.
    """
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .catalog.layers import load_catalog
    from .catalog.maps import load_maps
    from .config import load_settings
    from .finder import routes as finder
    from .http import caching as http
    from .http import errors
    from .maps import derived_routes as derived
    from .maps import embed_routes as embed
    from .maps import routes as pages
    from .ogcapi import routes as api
    from .ogcapi import writes as edit
    from .planner import coverage_routes as coverage
    from .planner import routes as planner
    from .planner.service import Planning, read_figures, thresholds
    from .resources import resource_dir
    from .store.open import open_store
    from .store.published import PublishedView

    settings = load_settings(config)
    instance = Path(settings.instance_path).resolve() if settings.instance_path else None
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        instance_path=str(instance) if instance else None,
    )
    app.config["SETTINGS"] = settings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # A written feature is at most a municipality's outline; larger bodies get 413 unread.
    app.config["MAX_CONTENT_LENGTH"] = 16 << 20
    layers_path = settings.resolved_layers_path()
    catalog = load_catalog(layers_path)
    app.extensions["mapservice.catalog"] = catalog
    app.extensions["mapservice.maps"] = load_maps(layers_path / "maps.toml", catalog)
    app.extensions["mapservice.fingerprint"] = _fingerprint(layers_path, settings)
    app.extensions["mapservice.catalog_mtime"] = _mtime(layers_path)
    # The store holds everything (CLI, imports, the API with a write token); every public
    # surface reads through the published view, which hides unpublished sensitive features.
    store = open_store(settings, catalog, Path(app.instance_path))
    app.extensions["mapservice.store"] = store
    app.extensions["mapservice.public_store"] = PublishedView(store, catalog)
    app.extensions["mapservice.planning"] = Planning(
        app.extensions["mapservice.public_store"],
        catalog,
        thresholds(settings, catalog),
        read_figures(settings.resolved_geodata_path() / "programme_figures.csv"),
    )
    errors.init_app(app)
    http.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(edit.bp)
    app.register_blueprint(derived.bp)
    app.register_blueprint(coverage.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(finder.bp)
    app.register_blueprint(planner.bp)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
            x_prefix=settings.proxy_hops,
        )
    return app


# Settings that say where this instance keeps things, not what it answers: instances over one
# store with different folders must give the same ETags (a CDN or a client switching between
# them revalidates with either).
_LOCAL_SETTINGS = frozenset({"instance_path", "store", "response_cache_mb"})


def _fingerprint(layers_path: Path, settings: Any) -> str:
    """Changes when the catalog files or the settings that shape responses do: in every ETag."""
    import dataclasses
    import hashlib

    shaping = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(settings)
        if f.name not in _LOCAL_SETTINGS
    }
    digest = hashlib.sha256(repr(sorted(shaping.items())).encode())
    for path in sorted(layers_path.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _mtime(layers_path: Path) -> Any:
    import datetime as dt

    newest = max((p.stat().st_mtime for p in layers_path.glob("*.toml")), default=0.0)
    return dt.datetime.fromtimestamp(int(newest), dt.UTC)
