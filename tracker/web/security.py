"""Per-request security: the CSP nonce, response headers (docs/architecture.md#security), and the SQLite write intent
of requests that change things."""

from __future__ import annotations

import secrets

from flask import Flask, abort, g, request

from tracker.db import set_write_intent

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Views that validate first and call begin_write() themselves, so SQLite's write lock is held
# only while they write: the family form, where a burst of submissions queues on that lock, and
# the views that check a password or code, which is never hashed while the lock is held (and
# whose sign-in counts are kept in a short transaction of their own first).
DEFERRED_WRITE_ENDPOINTS = frozenset(
    {
        "public.concern_form",
        "webhooks.status",
        "webhooks.inbound_text",
        "webhooks.voice",
        "auth.sign_in",
        "auth.sign_in_code",
        "auth.confirm",
        "auth.change_password",
    }
)


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
        set_write_intent(request.method not in SAFE_METHODS and request.endpoint not in DEFERRED_WRITE_ENDPOINTS)
        # Werkzeug limits the parts of multipart bodies only; hold urlencoded bodies to the same.
        if (
            request.mimetype == "application/x-www-form-urlencoded"
            and request.method not in SAFE_METHODS
            and sum(1 for _ in request.form.items(multi=True)) > app.config["MAX_FORM_PARTS"]
        ):
            abort(413)

    @app.teardown_request
    def end_request(_exc):
        set_write_intent(False)

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
