"""HTML pages of the public surfaces: a template rendered in one language, with its texts."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from ..i18n import texts


def page(template: str, lang: str, status: int = 200, **context: Any) -> Response:
    """``template`` in ``lang``: it gets ``lang`` and the interface texts ``t`` of that language."""
    html = render_template(template, lang=lang, t=texts(lang), **context)
    return Response(html, status=status, mimetype="text/html")
