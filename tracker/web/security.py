"""Per-request security: the CSP nonce, response headers (docs/architecture.md#security), and the SQLite write intent
of requests that change things."""

from __future__ import annotations

import secrets

from flask import Flask, g, request

from tracker.db import defers_write, set_write_intent
from tracker.services.setup.settings import start_pinning, stop_pinning
from tracker.web.request_checks import SAFE_METHODS


def csp(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def register(app: Flask) -> None:
    @app.before_request
    def start_request():
        g.csp_nonce = secrets.token_urlsafe(16)
        g.settings_pin = start_pinning()
        # A request that changes things declares it before its first query, unless its view defers that
        # until it has checked its input (db.deferred_write: the family's form, passwords, webhooks).
        view = app.view_functions.get(request.endpoint or "")
        set_write_intent(request.method not in SAFE_METHODS and not defers_write(view))

    @app.teardown_request
    def end_request(_exc):
        set_write_intent(False)
        if "settings_pin" in g:
            stop_pinning(g.pop("settings_pin"))

    @app.context_processor
    def nonce():
        return {"cspNonce": g.get("csp_nonce", "")}

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", csp(g.get("csp_nonce", "")))
        h["X-Content-Type-Options"] = "nosniff"
        # same-origin, not no-referrer: Flask-WTF's HTTPS CSRF check needs a same-origin Referer.
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if app.config["HSTS"]:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            # Pages may carry what a family typed or a patient's details: never keep them.
            h["Cache-Control"] = "no-store"
            h.setdefault("Pragma", "no-cache")
        return response
