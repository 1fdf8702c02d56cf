"""The improvement charts' run length, a trust setting (docs/architecture.md#improvement-charts): how many months in
a row make a shift or a trend (services/reports/spc.py)."""

from __future__ import annotations

from tracker.extensions import db
from tracker.models import Settings
from tracker.services.records import audit
from tracker.services.reports.improvement_changes import MAX_RUN_LENGTH, MIN_RUN_LENGTH
from tracker.services.setup import settings_history
from tracker.services.setup.hospital import SetupProblem
from tracker.services.setup.settings import forget_settings


def save_run_length(actor: audit.Actor, value: int) -> None:
    """How many months in a row make a shift or a trend on the improvement charts (services/reports/spc.py): 7, NHS
    England's Making Data Count's, or 6, which its SPC tool allows. Never longer: a longer run is a later alarm."""
    if not MIN_RUN_LENGTH <= value <= MAX_RUN_LENGTH:
        raise SetupProblem(f"The improvement charts' run length is {MIN_RUN_LENGTH} or {MAX_RUN_LENGTH} months")
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise SetupProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    before = settings.spc_run_length
    settings.spc_run_length = value
    db.session.flush()
    forget_settings()
    settings_history.kept(
        "spc_run_length_saved", actor, ["spc_run_length"] if before != value else [], {"from": before, "to": value}
    )
