"""/livez (the process answers) and /healthz (the database and the worker), for load balancers
and monitoring."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker.clock import utcnow
from tracker.extensions import csrf, db, limiter
from tracker.services.alarms import last_worker_beat, open_alarms, subject_user_id

bp = Blueprint("health", __name__)
csrf.exempt(bp)
limiter.exempt(bp)


@bp.get("/livez")
def livez():
    """No database: says only that this process can answer."""
    return jsonify(status="ok")


@bp.get("/healthz")
def healthz():
    """503 when the database cannot be reached; otherwise 200 with the worker's heartbeat age
    and any open alarms ("degraded" when either needs attention), with the ids of accounts whose
    passwords someone seems to be guessing."""
    try:
        db.session.execute(text("SELECT 1"))
        last_beat = last_worker_beat()
        open_now = open_alarms()
        alarms = sorted({alarm.kind for alarm in open_now})
        # Named by id, not address: /healthz is for monitoring and needs no sign-in.
        under_attack = sorted(
            user_id
            for alarm in open_now
            if alarm.kind == "sign_in_attack" and (user_id := subject_user_id(alarm)) is not None
        )
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    stale_after = current_app.config["WORKER_STALE_SECONDS"]
    age = None if last_beat is None else round((utcnow() - last_beat).total_seconds(), 1)
    worker = "missing" if age is None else ("stale" if age > stale_after else "ok")
    status = "ok" if worker == "ok" and not alarms else "degraded"
    return jsonify(
        status=status,
        database="ok",
        worker=worker,
        worker_heartbeat_age_seconds=age,
        alarms=alarms,
        accounts_under_attack=under_attack,
    )
