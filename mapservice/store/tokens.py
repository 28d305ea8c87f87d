"""Write tokens: created and revoked with the CLI, kept only as hashes, scoped to collections.

A token reads ``dsm_<id>_<secret>``: the id finds the stored record without a scan, the secret
(256 random bits) is checked against its SHA-256. A slow password hash is not needed: the
secret is random and long, so a stolen hash cannot be reversed by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from ..catalog.layers import Catalog
from .base import Store, Token, utc_now

PREFIX = "dsm"
ALL = "*"  # scope: every collection
_TOKEN_RE = re.compile(r"^dsm_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


class TokenError(ValueError):
    """A token cannot be created as asked (the message says which option is wrong)."""


def hash_secret(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_token(store: Store, catalog: Catalog, name: str, collections: Iterable[str]) -> tuple[Token, str]:
    """Store a new token; returns it and the plain text, which is shown once and never kept."""
    name = name.strip()
    if not name:
        raise TokenError("--name: say who the token is for (a person or an office)")
    scope = tuple(dict.fromkeys(collections))
    if not scope:
        raise TokenError("--collection: name at least one collection (or --all)")
    unknown = [c for c in scope if c != ALL and c not in catalog]
    if unknown:
        raise TokenError(
            f"--collection: unknown collection(s) {', '.join(unknown)}; "
            f"collections: {', '.join(catalog.ids())}"
        )
    token_id = secrets.token_hex(4)
    plain = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    token = Token(
        id=token_id,
        name=name,
        secret_hash=hash_secret(plain),
        collections=scope,
        created_at=utc_now().replace(microsecond=0),
    )
    store.add_token(token)
    return token, plain


def authenticate(store: Store, plain: str) -> Token | None:
    """The active token this text is, or None (unknown, revoked, malformed or wrong secret)."""
    match = _TOKEN_RE.match(plain.strip())
    if match is None:
        return None
    token = store.token(match.group(1))
    if token is None or token.revoked_at is not None:
        return None
    # Constant time: the comparison must not tell how much of a guessed secret was right.
    if not hmac.compare_digest(token.secret_hash, hash_secret(plain.strip())):
        return None
    return token


def may_write(token: Token, collection_id: str) -> bool:
    return ALL in token.collections or collection_id in token.collections
