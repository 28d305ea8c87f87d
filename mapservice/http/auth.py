"""Bearer tokens on a request: who sends it, and whether they may see unpublished features.

The token logic itself (format, hashing, scope) is :mod:`mapservice.store.tokens`; this module
only reads the ``Authorization`` header and answers 401 the way RFC 6750 asks.
"""

from __future__ import annotations

from flask import request

from ..store import tokens
from ..store.base import Token
from .context import full_store
from .errors import ApiError

REALM = 'Bearer realm="mapservice"'


def bearer(required: bool = False) -> Token | None:
    """The request's token: None without one, 401 for a bad one.

    A header of another scheme (a proxy's ``Basic`` login in front of the service) is not
    this service's business: reads ignore it and go on as anonymous. Only where a token is
    ``required`` (writes) does it get the 401 that names the expected scheme.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" and not required:
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401,
            "Unauthorized",
            "The Authorization header must be 'Bearer <token>'",
            headers={"WWW-Authenticate": REALM},
        )
    token = tokens.authenticate(full_store(), value)
    if token is None:
        raise ApiError(
            401,
            "Unauthorized",
            "The token is unknown, revoked or mistyped",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return token


def writer(layer_id: str) -> Token:
    """The request's token, which must exist and may write ``layer_id``: 401 or 403 if not."""
    token = bearer(required=True)
    if token is None:
        raise ApiError(
            401,
            "Unauthorized",
            "Changing data needs a write token: send "
            "'Authorization: Bearer <token>' (an administrator creates one with "
            "'mapservice token create')",
            headers={"WWW-Authenticate": REALM},
        )
    if not tokens.may_write(token, layer_id):
        raise ApiError(
            403,
            "Forbidden",
            f"Token {token.id} ({token.name}) may not write "
            f"'{layer_id}'; it may write: {', '.join(token.collections)}",
        )
    return token


def may_read_all(layer_id: str) -> bool:
    """A token for this collection also shows its unpublished features."""
    token = bearer()
    return token is not None and tokens.may_write(token, layer_id)
