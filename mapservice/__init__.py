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

    from .catalog import load_catalog
    from .config import load_settings
    from .resources import resource_dir
    from .store.factory import open_store
    from .web import api, errors, http, pages

    settings = load_settings(config)
    instance = Path(settings.instance_path).resolve() if settings.instance_path else None
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        instance_path=str(instance) if instance else None,
    )
    app.config["SETTINGS"] = settings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    catalog = load_catalog(settings.resolved_layers_path())
    app.extensions["mapservice.catalog"] = catalog
    app.extensions["mapservice.store"] = open_store(settings, catalog, Path(app.instance_path))
    errors.init_app(app)
    http.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops, x_prefix=settings.proxy_hops,
        )
    return app
