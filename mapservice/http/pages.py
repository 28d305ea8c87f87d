"""HTML pages of the public surfaces: a template rendered in one language, with its texts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request

from ..i18n import LEAFLET_TEXT, PAGE_TEXT, error_text, error_title, pick_lang, texts
from ..localize import Formats


def render(template: str, lang: str, **context: Any) -> str:
    """``template`` in ``lang``, with the texts of the page frame.

    ``ql`` is the ``lang`` query value that internal links carry: none for German, the
    default, so that German links stay as they were.
    """
    lang = pick_lang(lang)
    other = "en" if lang == "de" else "de"
    # The language link leads to the same page, with the same query, in the other language.
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    lang_switch = urlencode(query + ([("lang", other)] if other != "de" else []))
    return render_template(
        template,
        lang=lang,
        ui=PAGE_TEXT[lang],
        ql=None if lang == "de" else lang,
        lang_switch=lang_switch,
        lf=Formats(lang),
        error_text=error_text,
        leaflet_texts=LEAFLET_TEXT[lang],
        error_title=error_title,
        **context,
    )


def page(template: str, lang: str, status: int = 200, **context: Any) -> Response:
    """``template`` in ``lang``: it gets ``lang`` and the interface texts ``t`` of that language."""
    html = render(template, lang, t=texts(lang), **context)
    return Response(html, status=status, mimetype="text/html")
