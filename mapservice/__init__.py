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
    """Build the Flask app: settings → services (catalog, store, caches) → blueprints.

    ``config`` overrides settings (the same names as in the TOML file / MAPSERVICE_* env).
    A broken catalog or settings file raises CatalogError / ConfigError naming file and key.
    """
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .config import load_settings
    from .finder import routes as finder
    from .http import caching, errors, security, static_gzip
    from .maps import basemap_routes, derived_routes, embed_routes
    from .maps import routes as pages
    from .ogcapi import routes as api
    from .ogcapi import writes
    from .planner import coverage_routes
    from .planner import routes as planner
    from .resources import resource_dir
    from .services import build_services
    from .survey import routes as survey

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
    app.extensions["mapservice"] = build_services(settings, Path(app.instance_path))
    errors.init_app(app)
    caching.init_app(app)
    static_gzip.init_app(app)
    security.init_app(app)
    basemap_routes.init_app(app)
    for blueprint in (
        api.bp,
        writes.bp,
        derived_routes.bp,
        coverage_routes.bp,
        pages.bp,
        embed_routes.bp,
        basemap_routes.bp,
        finder.bp,
        planner.bp,
        survey.bp,
    ):
        app.register_blueprint(blueprint)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
            x_prefix=settings.proxy_hops,
        )
    return app
