"""Password hashing: argon2id with p=1 and 19–46 MiB (docs/architecture.md#security). The library's defaults cost
about a second per check on two cores, which would turn a sign-in flood into a denial of service."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A random first password, shown once; the user must change it at first sign-in."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class OneTime:
    """A one-time password and its hash. Made before a view declares its write (db.deferred_write), so SQLite's
    write lock is never held while hashing; the text is shown once and never stored."""

    text: str
    hash: str


def new_one_time() -> OneTime:
    text = one_time_password()
    return OneTime(text, hash_password(text))
