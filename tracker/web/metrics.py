"""/metrics in Prometheus's text format (docs/architecture.md#logs-and-metrics), for a signed-in administrator or
the scraper's token. Anyone else gets the 404 of a page that is not there.

Request counts and latencies are kept in each process. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR to an empty directory before the app starts: prometheus-client then keeps each
process's figures in a file there and a scrape adds them up, whichever worker answers it. The database's
figures are read at the scrape, so they are the same from every process."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tracker.clock import utcnow
from tracker.extensions import db, limiter
from tracker.services import monitoring, scope
from tracker.services.scope import Permission
from tracker.web.authorisation import setup_pending

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)
limiter.exempt(bp)

# Seconds: most pages answer in tens of milliseconds; exports and the dashboard's year take seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# In no registry of their own: each scrape builds one (below), from these or from the processes' files.
REQUESTS = Counter(
    "tracker_http_requests",
    "HTTP requests answered, by endpoint and status class",
    ["endpoint", "status"],
    registry=None,
)
LATENCY = Histogram(
    "tracker_http_request_duration_seconds", "Time to answer, by endpoint", ["endpoint"], buckets=BUCKETS, registry=None
)


def observe(endpoint: str | None, status: int, seconds: float) -> None:
    """Counts and times one answered request. Endpoints, not paths, so a made-up URL adds no series."""
    name = endpoint or "unmatched"
    REQUESTS.labels(name, f"{status // 100}xx").inc()
    LATENCY.labels(name).observe(seconds)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def database_families(readings: monitoring.Readings) -> list[Metric]:
    heartbeat = readings.heartbeat_age_seconds
    return [
        GaugeMetricFamily(
            "tracker_outbox_unsent_messages",
            "Texts and calls not yet with the provider (pending, sending or unknown)",
            value=readings.unsent_messages,
        ),
        GaugeMetricFamily(
            "tracker_outbox_oldest_unsent_age_seconds",
            "How long the longest-waiting due message has waited (0 when none waits)",
            value=readings.oldest_unsent_seconds,
        ),
        CounterMetricFamily(
            "tracker_escalation_steps_fired",
            "Escalation steps that alerted someone, each call's first included (from the audit log)",
            value=readings.escalation_steps_fired,
        ),
        GaugeMetricFamily(
            "tracker_worker_heartbeat_age_seconds",
            "Seconds since the newest worker heartbeat (+Inf when no worker has ever beaten)",
            value=float("inf") if heartbeat is None else heartbeat,
        ),
    ]


def exposition(readings: monitoring.Readings) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_Fixed(database_families(readings)))
    return generate_latest(registry)


def token_matches() -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; never when no token is set."""
    expected = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    if hmac.compare_digest(given.strip().encode(), expected.encode()):
        return True
    log.warning("refused a metrics scrape with a wrong token")
    return False


def administrator_signed_in() -> bool:
    return (
        current_user.is_authenticated
        and setup_pending() is None
        and scope.can(current_user.user, Permission.SEE_METRICS)
    )


@bp.get("/metrics")
def metrics():
    """404 for anyone but an administrator or the scraper: the page does not exist for them."""
    if not (token_matches() or administrator_signed_in()):
        abort(404)
    body = exposition(monitoring.readings(utcnow()))
    db.session.rollback()  # only read: end the transaction now rather than at teardown
    return Response(body, content_type=CONTENT_TYPE_LATEST)
