"""Public HTML pages. The overview lists the collections with their licences."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from ..catalog import Catalog
from ..store.base import Store
from .http import Validators, conditional

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Response:
    catalog: Catalog = current_app.extensions["mapservice.catalog"]
    store: Store = current_app.extensions["mapservice.store"]
    states = {lid: store.state(lid) for lid in catalog.ids()}
    return conditional(
        Validators(states.values(), "html"),
        lambda: Response(render_template("pages/index.html", catalog=catalog, states=states),
                         mimetype="text/html"),
    )
