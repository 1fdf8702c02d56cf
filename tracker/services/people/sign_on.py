"""Signing on with the trust's own accounts through OpenID Connect, with Authlib as the client
(docs/architecture.md#sign-on).

The authorisation code flow with PKCE (S256). `begin` discovers the provider's metadata from the issuer, makes
the address to send the browser to, and records the trip (a SignOnRequest holding the nonce and the PKCE
verifier, keyed by a hash of `state`, which the browser's session holds). `claim` takes the provider's answer
once: the state must be the browser's own, and its trip unused and less than ten minutes old, so a replayed
answer is refused. `verify_answer` exchanges the code and verifies the ID token: its signature against the
provider's published keys, and its issuer, audience, expiry (against the tracker's clock), nonce and, for
Entra, tenant. Only then is the person's identity known: (issuer, subject), where for Entra the subject is the
token's `oid`. Nothing here reads an e-mail address."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import delete, select, update

from tracker.clock import utcnow
from tracker.db import begin_write, execute_dml
from tracker.extensions import db
from tracker.models import SignOnRequest
from tracker.problems import Problem

SCOPE = "openid profile"
TRIP_LIFETIME = timedelta(minutes=10)  # from leaving for the provider to coming back
METADATA_SECONDS = 600.0  # the provider's metadata and keys are kept this long
LEEWAY_SECONDS = 60  # clocks a little apart: the ID token's times are allowed this much either way
# Signatures by the provider's own private key only: never "none", never a secret shared with the client.
ASYMMETRIC = ("RS", "PS", "ES", "Ed")


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    tenant_id: str | None
    timeout: float


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the pair a staff account is linked to."""

    issuer: str
    subject: str


@dataclass(frozen=True)
class Trip:
    """A claimed trip through the provider, as plain values (its row is committed before the provider is
    asked anything, so no transaction is open while the tracker waits for it)."""

    purpose: str
    user_id: int | None
    nonce: str
    code_verifier: str
    next_path: str | None


class SignOnFailed(Problem):
    """The provider's answer was refused. `reason` is coded (for the audit); the message is for the person."""

    def __init__(self, reason: str, message: str | None = None):
        super().__init__(message or "Signing in with your trust account did not work. Start again.")
        self.reason = reason


class ProviderUnreachable(SignOnFailed):
    """The provider did not answer (or not sensibly): an outage, not a refusal."""

    def __init__(self, reason: str):
        super().__init__(reason, "The trust's sign-in service cannot be reached just now. Try again in a few minutes.")


def provider() -> Provider | None:
    """The configured provider, or None when sign-on is off (no issuer, client id or secret)."""
    config = current_app.config
    issuer, client_id, secret = (
        config.get("OIDC_ISSUER"),
        config.get("OIDC_CLIENT_ID"),
        config.get("OIDC_CLIENT_SECRET"),
    )
    if not (issuer and client_id and secret):
        return None
    return Provider(
        issuer=issuer,  # exactly as the provider writes it (some end in "/"): tokens must name it so
        client_id=client_id,
        client_secret=secret,
        tenant_id=config.get("OIDC_TENANT_ID"),
        timeout=float(config.get("OIDC_TIMEOUT_SECONDS", 10.0)),
    )


def configured() -> bool:
    return provider() is not None


def _required() -> Provider:
    found = provider()
    if found is None:
        raise SignOnFailed("not_configured", "Signing in with a trust account is not set up here.")
    return found


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


# --- the provider's metadata and keys ------------------------------------------------------------

_metadata: dict[str, tuple[float, dict[str, Any]]] = {}


def forget() -> None:
    """Forget every provider's metadata and keys (tests; a provider that rotated its keys is re-read anyway)."""
    _metadata.clear()


def _client(found: Provider, redirect_uri: str | None = None) -> OAuth2Session:
    return OAuth2Session(
        client_id=found.client_id,
        client_secret=found.client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=found.timeout,
    )


def _get_json(client: OAuth2Session, url: str, what: str) -> dict[str, Any]:
    try:
        response = client.request("GET", url, withhold_token=True)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError, AuthlibBaseError):
        raise ProviderUnreachable(what) from None
    if not isinstance(body, dict):
        raise ProviderUnreachable(what)
    return body


def metadata(found: Provider, *, refresh_keys: bool = False) -> dict[str, Any]:
    """The provider's metadata, discovered from its issuer (OpenID Connect Discovery), with its keys
    (`jwks`). The metadata must name the configured issuer exactly."""
    kept = _metadata.get(found.issuer)
    fresh = kept is not None and time.monotonic() - kept[0] < METADATA_SECONDS
    if kept is not None and fresh and not refresh_keys:
        return kept[1]
    with _client(found) as client:
        if kept is not None and fresh:
            found_metadata = dict(kept[1])
        else:
            found_metadata = _get_json(
                client, f"{found.issuer.rstrip('/')}/.well-known/openid-configuration", "metadata"
            )
            if found_metadata.get("issuer") != found.issuer:
                raise SignOnFailed("metadata_issuer")
            if not all(
                isinstance(found_metadata.get(e), str) for e in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            ):
                raise ProviderUnreachable("metadata")
        found_metadata["jwks"] = _get_json(client, found_metadata["jwks_uri"], "keys")
    _metadata[found.issuer] = (time.monotonic(), found_metadata)
    return found_metadata


def end_session_url(post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session address (RP-initiated logout), if it has one and can be reached."""
    found = provider()
    if found is None:
        return None
    try:
        endpoint = metadata(found).get("end_session_endpoint")
    except SignOnFailed:
        return None
    if not isinstance(endpoint, str):
        return None
    query = urlencode({"client_id": found.client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# --- there and back ------------------------------------------------------------------------------


def begin(
    purpose: str,
    redirect_uri: str,
    *,
    user_id: int | None = None,
    next_path: str | None = None,
    prompt: str | None = None,
) -> tuple[str, str]:
    """Record a trip through the provider; returns the provider's address and the state for the browser's
    session. Raises ProviderUnreachable when its metadata cannot be read. The caller commits."""
    found = _required()
    endpoint = metadata(found)["authorization_endpoint"]
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    extra = {"prompt": prompt} if prompt else {}
    with _client(found, redirect_uri) as client:
        url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier, nonce=nonce, **extra)
    begin_write()
    db.session.add(
        SignOnRequest(
            state_hash=state_hash(state),
            purpose=purpose,
            user_id=user_id,
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path,
            created_at=utcnow(),
        )
    )
    return url, state


def claim(state: str | None, expected: str | None) -> Trip:
    """Use up the trip this answer belongs to: the state must be this browser's own, and the trip unused
    and young. Raises SignOnFailed otherwise (a replayed or forged answer). The caller commits at once."""
    if not state or not expected or not secrets.compare_digest(state.encode(), expected.encode()):
        raise SignOnFailed("state_mismatch")
    begin_write()
    now = utcnow()
    row = db.session.scalar(select(SignOnRequest).where(SignOnRequest.state_hash == state_hash(state)))
    if row is None or now - row.created_at > TRIP_LIFETIME:
        raise SignOnFailed("state_expired", "That sign-in took too long or was already used. Start again.")
    used = execute_dml(
        update(SignOnRequest).where(SignOnRequest.id == row.id, SignOnRequest.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if not used:
        raise SignOnFailed("state_replayed", "That sign-in took too long or was already used. Start again.")
    return Trip(row.purpose, row.user_id, row.nonce, row.code_verifier, row.next_path)


def verify_answer(trip: Trip, code: str | None, error: str | None, redirect_uri: str) -> Identity:
    """Exchange the provider's code and verify its ID token; the person's identity, or SignOnFailed."""
    found = _required()
    if error or not code:
        raise SignOnFailed("provider_refused", "Signing in with your trust account was cancelled or refused.")
    known = metadata(found)
    with _client(found, redirect_uri) as client:
        try:
            token = client.fetch_token(known["token_endpoint"], code=code, code_verifier=trip.code_verifier)
        except requests.RequestException:
            raise ProviderUnreachable("token_endpoint") from None
        except (AuthlibBaseError, ValueError):
            raise SignOnFailed("token_refused") from None
    claims = _verified_claims(found, known, dict(token), trip.nonce)
    return _identity(found, claims)


def _verified_claims(found: Provider, known: dict[str, Any], token: dict[str, Any], nonce: str) -> CodeIDToken:
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignOnFailed("no_id_token")
    offered = known.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[a for a in offered if a.startswith(ASYMMETRIC)], strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(known["jwks"]), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys: read them once more
            known = metadata(found, refresh_keys=True)
            decoded = jwt.decode(id_token, KeySet.import_key_set(known["jwks"]), registry=registry)
        options = {
            "iss": {"essential": True, "value": found.issuer},
            "aud": {"essential": True, "value": found.client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        params = {"nonce": nonce, "client_id": found.client_id, "access_token": token.get("access_token")}
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(now=int(utcnow().timestamp()), leeway=LEEWAY_SECONDS)
    except JoseError as refused:
        claim_name = getattr(refused, "claim", None)
        raise SignOnFailed(f"{refused.error}:{claim_name}" if claim_name else refused.error) from None
    except ValueError:
        raise SignOnFailed("malformed_token") from None
    return claims


def _identity(found: Provider, claims: CodeIDToken) -> Identity:
    """(issuer, subject): for Entra the tenant must be the trust's and the subject is `oid`, the person's id
    in the tenant, the same in every application (its `sub` differs per application)."""
    if found.tenant_id:
        if claims.get("tid") != found.tenant_id:
            raise SignOnFailed("tenant", "That account is not one of this trust's accounts.")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise SignOnFailed("no_oid")
        return Identity(found.issuer, oid)
    return Identity(found.issuer, str(claims["sub"]))


def purge_expired(now: datetime) -> int:
    """Trips older than a day (used or not): the worker's housekeeping."""
    return execute_dml(delete(SignOnRequest).where(SignOnRequest.created_at < now - timedelta(days=1))).rowcount
