"""/livez and /healthz for monitoring, and the security headers every response carries."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy.exc import OperationalError

from tracker.clock import utcnow


def test_livez_answers_without_the_database(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("/livez must not touch the database")

    monkeypatch.setattr("sqlalchemy.orm.Session.execute", no_database)
    response = client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_healthz_reports_a_missing_worker_as_degraded(client, trust):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok" and body["worker"] == "missing" and body["status"] == "degraded"


def test_healthz_is_ok_with_a_fresh_heartbeat_and_degraded_when_it_goes_stale(client, app, sms, trust):
    from tracker.worker import Worker

    Worker(app, sender=sms).run_once()
    body = client.get("/healthz").get_json()
    assert (body["status"], body["worker"]) == ("ok", "ok") and body["worker_heartbeat_age_seconds"] < 5
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        assert client.get("/healthz").get_json()["worker"] == "stale"


def test_healthz_lists_open_alarms(client, app, sms, trust):
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.services.alarms import raise_alarm
    from tracker.worker import Worker

    Worker(app, sender=sms).run_once()
    with app.app_context(), write_intent():
        raise_alarm("sms_budget_exhausted")
        raise_alarm("sms_budget_exhausted")  # one alarm, counted twice
        db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["alarms"] == ["sms_budget_exhausted"] and body["status"] == "degraded"


def test_healthz_says_503_when_the_database_is_unreachable(client, monkeypatch):
    from tracker.web import health

    def unreachable():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health, "open_alarms", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_pages_carry_the_security_headers(client, trust):
    response = client.get("/w/w7")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]:
        assert directive in csp
    assert "unsafe-inline" not in csp and "https:" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # production only


def test_the_only_inline_script_carries_the_pages_nonce(client, trust):
    response = client.get("/w/w7")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert client.get("/w/w7").headers["Content-Security-Policy"] != response.headers["Content-Security-Policy"]


def test_pages_make_no_third_party_requests(client, trust):
    html = client.get("/w/w7").get_data(as_text=True)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


def test_static_assets_may_be_cached_but_pages_may_not(client, trust):
    with client.get("/assets/app/tracker.css") as asset:  # a file: closed when done with
        assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", "")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def production_app(tmp_path):
    """Production's settings on a local SQLite file and the fake SMS backend."""
    from tests.test_config import production
    from tracker import create_app

    return create_app(
        production(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}",
            SMS_BACKEND="fake",
            _allows_sqlite=classmethod(lambda cls: True),
            _sms_problems=classmethod(lambda cls: []),
        )
    )


def test_production_sends_hsts_and_host_only_cookies(tmp_path):
    app = production_app(tmp_path)
    response = app.test_client().get("/livez", base_url="https://tracker.example.nhs.uk")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"


def test_production_refuses_unknown_host_headers(tmp_path):
    app = production_app(tmp_path)
    assert app.test_client().get("/livez", base_url="https://evil.example").status_code == 400
