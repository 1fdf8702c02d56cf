"""/metrics (docs/architecture.md#logs-and-metrics): Prometheus's text format for an administrator or the scraper's
token, nobody else; request counts and latencies, and the outbox, escalations and worker read from the database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest

from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Message, WorkerHeartbeat
from tracker.models.outbox import Audience, RecipientKind, SendState
from tracker.services.records import audit

TOKEN = "scrape-token-" + "s" * 32
NAMES = [
    "tracker_http_requests_total",
    "tracker_http_request_duration_seconds_bucket",
    "tracker_outbox_unsent_messages",
    "tracker_outbox_oldest_unsent_age_seconds",
    "tracker_escalation_steps_fired_total",
    "tracker_worker_heartbeat_age_seconds",
]


@pytest.fixture
def scraper(app, client, monkeypatch):
    """Scrapes with the token; returns the page's text."""
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def scrape() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain; version=")
        return response.get_data(as_text=True)

    return scrape


def value(page: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{val}"' for key, val in labels.items())
    series = f"{name}{{{wanted}}}" if labels else name
    found = re.search(rf"^{re.escape(series)} (\S+)$", page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def queue(app, *, state: SendState, key: str, created_ago: timedelta, due_in: timedelta = timedelta(0)) -> None:
    now = utcnow()
    with app.app_context(), write_intent():
        db.session.add(
            Message(
                audience=Audience.CLINICIAN,
                recipient_kind=RecipientKind.CONTACT,
                to_number="+447400100002",
                template_id="rota_test",
                idempotency_key=key,
                send_state=state,
                created_at=now - created_ago,
                next_attempt_at=now - created_ago + due_in,
            )
        )
        db.session.commit()


def test_an_administrator_sees_every_metric(client, trust, login_as):
    login_as("admin")
    client.get("/privacy")
    response = client.get("/metrics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in NAMES:
        assert re.search(rf"^{name}[{{ ]", page, re.MULTILINE), name
    assert response.headers["Cache-Control"] == "no-store"


def test_the_scrapers_token_is_let_in_and_a_wrong_or_missing_one_is_not(app, client, trust, scraper, caplog):
    scraper()
    for header in (f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, ""):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 404, header
    assert "refused a metrics scrape with a wrong token" in caplog.text
    assert TOKEN not in caplog.text


def test_without_a_token_configured_no_bearer_is_let_in(app, client, trust, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 404


def test_other_staff_are_refused_even_with_a_session(client, trust, login_as):
    login_as("manager")
    assert client.get("/metrics").status_code == 404


def test_requests_are_counted_by_endpoint_and_status_class_and_timed(client, trust, scraper):
    before = scraper()
    client.get("/privacy")
    client.get("/privacy")
    client.get("/no-such-page")
    after = scraper()
    assert value(after, "tracker_http_requests_total", endpoint="public.privacy", status="2xx") == (
        value(before, "tracker_http_requests_total", endpoint="public.privacy", status="2xx") + 2
    )
    assert value(after, "tracker_http_requests_total", endpoint="unmatched", status="4xx") == (
        value(before, "tracker_http_requests_total", endpoint="unmatched", status="4xx") + 1
    )
    assert value(after, "tracker_http_request_duration_seconds_count", endpoint="public.privacy") == (
        value(before, "tracker_http_request_duration_seconds_count", endpoint="public.privacy") + 2
    )


def test_the_outbox_escalations_and_heartbeat_are_read_from_the_database(app, trust, scraper):
    page = scraper()
    assert value(page, "tracker_outbox_unsent_messages") == 0
    assert value(page, "tracker_outbox_oldest_unsent_age_seconds") == 0
    assert value(page, "tracker_worker_heartbeat_age_seconds") == float("inf")

    queue(app, state=SendState.PENDING, key="waiting", created_ago=timedelta(seconds=90))
    queue(app, state=SendState.PENDING, key="tomorrow", created_ago=timedelta(hours=5), due_in=timedelta(days=1))
    queue(app, state=SendState.ACCEPTED, key="sent", created_ago=timedelta(hours=1))
    with app.app_context(), write_intent():
        for _ in range(3):
            audit.record("escalation_step_fired", audit.Actor.system(), object_type="concern", object_id=1)
        audit.record("escalation_step_skipped", audit.Actor.system(), object_type="concern", object_id=1)
        beat = utcnow() - timedelta(seconds=30)
        db.session.add(WorkerHeartbeat(worker_id="w", hostname="h", pid=1, started_at=beat, beat_at=beat))
        db.session.commit()

    page = scraper()
    assert value(page, "tracker_outbox_unsent_messages") == 2  # the one sent is not waiting
    # The one due 90 seconds ago, not the one queued five hours ago for tomorrow.
    assert 90 <= value(page, "tracker_outbox_oldest_unsent_age_seconds") < 120
    assert value(page, "tracker_escalation_steps_fired_total") == 3
    assert 30 <= value(page, "tracker_worker_heartbeat_age_seconds") < 60


def test_several_processes_counts_are_added_up_in_multiprocess_mode(app, trust, scraper, tmp_path, monkeypatch):
    """gunicorn's workers each count their own requests; with PROMETHEUS_MULTIPROC_DIR a scrape adds them up."""
    # One process imports the app's metrics and forks, as gunicorn's master does its workers; each counts one.
    two_workers = (
        "import os; from tracker.web import metrics; child = os.fork(); "
        "metrics.observe('public.privacy', 200, 0.02); os._exit(0) if child == 0 else os.waitpid(child, 0)"
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", two_workers], env=environment, check=True, timeout=60)  # noqa: S603
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    page = scraper()
    assert value(page, "tracker_http_requests_total", endpoint="public.privacy", status="2xx") == 2
    assert value(page, "tracker_http_request_duration_seconds_count", endpoint="public.privacy") == 2
    assert value(page, "tracker_outbox_unsent_messages") == 0  # the database's figures come along
