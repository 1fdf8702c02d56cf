"""A real OpenID provider for the sign-on tests: PyPI's oidc-provider-mock, run as its own process on loopback
(docs/architecture.md#sign-on). Its own process, so that moving the tracker's clock in a test (time-machine)
leaves the provider's clock alone: the provider signs tokens at the real time, as a real one would. The tracker
under test is an app of its own on the session's database, with the provider configured."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.conftest import close_pools, create_staff, make_config
from tracker import create_app
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Role, User
from tracker.services.people import sign_on, sign_on_accounts
from tracker.services.records import audit

CLIENT_ID = "marthas-rule-tracker"
CLIENT_SECRET = "a-client-secret-for-tests-only"
PASSWORD = "correct horse battery staple"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Provider:
    """The provider's issuer, and what a person does at its sign-in page."""

    issuer: str

    def person(self, subject: str, **claims) -> None:
        """The provider's account `subject`, with these claims in its ID tokens (Entra's `tid` and `oid`)."""
        response = requests.put(f"{self.issuer}/users/{quote(subject, safe='')}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def sign_in_at(self, authorize_url: str, subject: str) -> str:
        """Sign in as `subject` on the provider's page; the address it sends the browser back to."""
        response = requests.post(authorize_url, data={"sub": subject}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def token_for(self, client_id: str, nonce: str, subject: str) -> dict:
        """A token response the provider issued to another client (another application of the trust)."""
        back = "http://127.0.0.1:9/elsewhere"
        query = {"client_id": client_id, "redirect_uri": back, "response_type": "code", "scope": sign_on.SCOPE}
        authorize = requests.Request("GET", f"{self.issuer}/oauth2/authorize", params={**query, "nonce": nonce})
        location = self.sign_in_at(authorize.prepare().url, subject)
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = requests.post(
            f"{self.issuer}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": back},
            auth=(client_id, "its-own-secret"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def provider(tmp_path_factory) -> Provider:
    port = _free_port()
    log = open(tmp_path_factory.mktemp("provider") / "provider.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), "--require-nonce"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with suppress(requests.ConnectionError):
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                    break
            assert process.poll() is None and time.monotonic() < deadline, "the OpenID provider did not start"
            time.sleep(0.1)
        yield Provider(issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def sso_app_session(app, database_url, provider):
    """The tracker with sign-on configured, on the session's database (the session's `app` built its schema)."""
    built = create_app(
        make_config(
            database_url,
            OIDC_ISSUER=provider.issuer,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_HELP_CONTACT="the outreach team's lead nurse",
        )
    )
    yield built
    close_pools(built)


@pytest.fixture
def sso_app(sso_app_session, app, trust, monkeypatch):
    """The configured tracker for one test (tables emptied by the session's `clean`, the test trust made); a
    test may change its configuration with monkeypatch."""
    monkeypatch.setitem(sso_app_session.config, "OIDC_MFA_ASSURED", False)
    monkeypatch.setitem(sso_app_session.config, "OIDC_TENANT_ID", None)
    with sso_app_session.app_context():
        sign_on.forget()
    return sso_app_session


@pytest.fixture
def sso_client(sso_app):
    return sso_app.test_client()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client, path: str = "/auth/sign-on") -> str:
    """Press "Sign in with your trust account": the provider's address the browser is sent to."""
    response = client.get(path)
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:500])
    return response.headers["Location"]


def sign_on_as(client, provider: Provider, subject: str, path: str = "/auth/sign-on"):
    """The whole trip: the tracker, the provider's page, and the tracker's answer to the provider's code."""
    back = provider.sign_in_at(start(client, path), subject)
    return client.get(path_of(back))


def nonce_of(authorize_url: str) -> str:
    return parse_qs(urlsplit(authorize_url).query)["nonce"][0]


def staff(app, role: str, *, email: str | None = None, link: str | None = None, **kwargs) -> int:
    """A staff account (with an authenticator for managers and admins), linked to the provider's `link` subject."""
    if role in ("manager", "admin"):
        kwargs.setdefault("totp_secret", SECRET)
    user_id, _ = create_staff(app, role, email=email, **kwargs)
    if link is not None:
        link_to(app, user_id, link)
    return user_id


def link_to(app, user_id: int, subject: str, *, break_glass_admin: bool = True) -> None:
    """Link an account as an administrator would (with a break-glass administrator made first if none)."""
    with app.app_context(), write_intent():
        if break_glass_admin and not sign_on_accounts.break_glass_admins():
            admin = User(
                email=f"glass-{os.urandom(3).hex()}@test.invalid",
                display_name="Break-glass admin",
                role=Role.ADMIN,
                password_hash="x",
                must_change_password=False,
                break_glass=True,
            )
            db.session.add(admin)
            db.session.flush()
        user = db.session.get_one(User, user_id)
        found = sign_on.provider()
        assert found is not None
        sign_on_accounts.link(user, sign_on.Identity(found.issuer, subject), audit.Actor.cli())
        db.session.commit()


@dataclass
class ProviderTraffic:
    """The tracker's HTTP traffic with the provider, as the test's own HTTP layer: a test rewrites the token
    endpoint's answer (a forged signature, another application's token) before the tracker reads it."""

    rewrites: list[Callable[[dict], dict]] = field(default_factory=list)

    def rewrite_token(self, change: Callable[[dict], dict]) -> None:
        self.rewrites.append(change)


@pytest.fixture
def provider_traffic(monkeypatch) -> ProviderTraffic:
    traffic = ProviderTraffic()
    real_send = HTTPAdapter.send

    def send(adapter, request, *args, **kwargs):
        response = real_send(adapter, request, *args, **kwargs)
        if urlsplit(request.url).path == "/oauth2/token" and traffic.rewrites and response.status_code == 200:
            body = response.json()
            for change in traffic.rewrites:
                body = change(body)
            response._content = json.dumps(body).encode()
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return traffic
