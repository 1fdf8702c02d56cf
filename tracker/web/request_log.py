"""Each request's id and its one log line (docs/architecture.md#logs-and-metrics): method, path without the
query string, status and duration, and the request counted and timed for /metrics."""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, Response, g, request

from tracker import logs
from tracker.web import metrics

log = logging.getLogger("tracker.requests")

HEADER = "X-Request-ID"
# What a proxy's id may look like to be kept: nginx's $request_id (32 hex digits), a UUID, or the like.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
# Polled every few seconds by load balancers and the scraper: their lines are for debugging only.
QUIET_ENDPOINTS = frozenset({"health.livez", "health.healthz", "metrics.metrics"})


def request_id(app: Flask) -> str:
    """The proxy's id when a proxy we trust stands in front (PROXY_HOPS) and its id is a short safe token;
    otherwise our own. Without a proxy, the header is whatever the browser sent, so it is never believed."""
    offered = request.headers.get(HEADER, "")
    if app.config["PROXY_HOPS"] and SAFE_ID.fullmatch(offered):
        return offered
    return secrets.token_hex(16)


def register(app: Flask) -> None:
    @app.before_request
    def start():
        g.request_started = time.perf_counter()
        g.request_id = request_id(app)
        g.request_log_token = logs.start_request(g.request_id, request.method, request.path)

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is None:  # before_request never ran (an error before it): nothing to time
            return response
        seconds = time.perf_counter() - started
        response.headers[HEADER] = g.request_id
        metrics.observe(request.endpoint, response.status_code, seconds)
        level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
        if response.status_code >= 500:
            level = logging.WARNING
        duration_ms = round(seconds * 1000, 1)
        log.log(
            level,
            "%s %s %s in %s ms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={"status": response.status_code, "duration_ms": duration_ms, "endpoint": request.endpoint},
        )
        return response

    @app.teardown_request
    def forget(_exc):
        token = g.pop("request_log_token", None)
        if token is not None:
            logs.end_request(token)
