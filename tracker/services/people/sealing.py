"""Sealing small records at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag) under keys derived
from the app's SECRET_KEY with HKDF, one key per purpose. Keys named in SECRET_KEY_FALLBACKS still
open what they sealed, so rotating SECRET_KEY loses nothing that is still wanted."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_cache: dict[tuple, MultiFernet] = {}


class Unreadable(ValueError):
    """Sealed under a key this app no longer has, or altered."""


def _fernet(secret: str | bytes, purpose: str) -> Fernet:
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"marthas-rule-tracker {purpose} v1".encode()
    ).derive(secret_bytes)
    return Fernet(base64.urlsafe_b64encode(key))


def _box(purpose: str) -> MultiFernet:
    config = current_app.config
    secrets = (config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ()))
    cache_key = (purpose, secrets)
    if cache_key not in _cache:
        _cache.clear()  # keys changed (a rotation, or a test): forget the old boxes
        _cache[cache_key] = MultiFernet([_fernet(secret, purpose) for secret in secrets])
    return _cache[cache_key]


def seal(purpose: str, value: dict) -> str:
    return _box(purpose).encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def unseal(purpose: str, token: str) -> dict:
    """Raises Unreadable when no current or fallback key opens it."""
    try:
        return json.loads(_box(purpose).decrypt(token.encode()))
    except (InvalidToken, ValueError) as problem:
        raise Unreadable(purpose) from problem
