"""Joiners, movers and leavers in the audit viewer (services/records/audit_log.py): every action recorded about a staff
account has words (services/words.py), the "Staff accounts" filter shows them, and a manager sees only those about
their own site's accounts, with whose account each is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import create_staff
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent
from tracker.services.records import audit
from tracker.services.records.audit_log import ACCOUNT_OBJECT
from tracker.services.words import ACTION_WORDS

TRACKER = Path(__file__).resolve().parents[2] / "tracker"


def _texts(node: ast.expr | None) -> list[str]:
    """The action names an argument can be: a string, or either string of `a if x else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def actions_recorded_about_accounts() -> dict[str, str]:
    """Every audit action the code records about a staff account (object type "user"), with where: `record(...)` and
    `Entry(...)` calls, read from the source."""
    found = {}
    for path in TRACKER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name not in ("record", "Entry") or not node.args:
                continue
            kinds = {k.arg: k.value for k in node.keywords}
            kind = kinds.get("object_type", node.args[2] if name == "Entry" and len(node.args) > 2 else None)
            if _texts(kind) == [ACCOUNT_OBJECT]:
                for action in _texts(node.args[0]):
                    found[action] = f"{path.relative_to(TRACKER)}:{node.lineno}"
    return found


def test_every_action_recorded_about_a_staff_account_has_words():
    found = actions_recorded_about_accounts()
    assert {"user_created", "password_reset", "mfa_reset", "sessions_ended"} <= set(found), "the search found them"
    assert {action: where for action, where in found.items() if action not in ACTION_WORDS} == {}


def record_about(app, action: str, user_id: int, **changes) -> None:
    with app.app_context(), write_intent():
        audit.record(action, audit.Actor.cli(), object_type="user", object_id=user_id, changes=changes)
        db.session.commit()


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>', html, flags=re.S)[1:]


def test_joiners_movers_and_leavers_of_the_managers_site_show_under_staff_accounts(app, client, login_as, staff):
    login_as("manager")
    nurse, other_nurse = staff["nurse@gen.invalid"], staff["nurse@other.invalid"]
    record_about(app, "user_teams_changed", staff["ccot@gen.invalid"], team_ids=[1])
    record_about(app, "user_deactivated", nurse, reason="left")
    record_about(app, "user_deactivated", other_nurse, reason="left")
    record_about(app, "sign_in_failed", nurse, reason="password")
    with app.app_context(), write_intent():
        audit.record("settings_changed", audit.Actor.cli(), object_type="settings", object_id=1)
        db.session.commit()

    page = client.get("/records/audit?show=accounts")
    assert page.status_code == 200
    shown = rows(page.get_data(as_text=True))
    whose = [re.search(r"\(account of ([^)]*\))\)", row).group(1) for row in shown]
    # Newest first: the leaver, the mover, then the joiners of this site (one also works at the other site).
    assert whose[:2] == ["Nia Nurse (nurse@gen.invalid)", "Cai Outreach (ccot@gen.invalid)"]
    assert sorted(whose[2:]) == sorted(
        [
            "Nia Nurse (nurse@gen.invalid)",
            "Cai Outreach (ccot@gen.invalid)",
            "Gwen Lead (lead@gen.invalid)",
            "Bo Both (both@trust.invalid)",
        ]
    )
    words = [re.search(r'aria-hidden="true">What </span><span>([^<(]*)', row).group(1).strip() for row in shown]
    assert words[:2] == ["Staff account deactivated: every session ended", "Staff account moved to other teams"]
    assert set(words[2:]) == {"Staff account created"}

    # Every event: the other site's leavers and joiners are not the manager's to read; failed sign-ins are under
    # their own action.
    every = client.get("/records/audit").get_data(as_text=True)
    every_words = [
        re.search(r'aria-hidden="true">What </span><span>([^<(]*)', row).group(1).strip() for row in rows(every)
    ]
    assert every_words.count("Staff account deactivated: every session ended") == 1
    assert every_words.count("Staff account created") == 4
    assert "Olu Nurse" not in every and "Ola Lead" not in every and "Ada Admin" not in every
    assert "Trust settings changed" in every
    failed = client.get("/records/audit?action=sign_in_failed").get_data(as_text=True)
    assert "Sign-in failed" in failed and "(account of Nia Nurse (nurse@gen.invalid))" in failed


def test_the_audit_export_leaves_out_another_sites_accounts_too(app, client, login_as, staff):
    from tests.records.test_exports import export_audit, read_csv

    login_as("manager")
    ids = {int(row["Object id"]) for row in read_csv(export_audit(client, action="user_created"))}
    mine = {staff[e] for e in ("nurse@gen.invalid", "ccot@gen.invalid", "lead@gen.invalid", "both@trust.invalid")}
    assert ids == mine


def test_an_unknown_choice_of_what_to_show_is_a_plain_problem(client, login_as):
    login_as("manager")
    page = client.get("/records/audit?show=everything-secret")
    assert page.status_code == 400 and "Choose what to show from the list" in page.get_data(as_text=True)


def test_an_accounts_events_show_once_it_belongs_to_the_managers_site(app, client, login_as, trust, read):
    login_as("manager")
    ward_nurse, _ = create_staff(app, "ward_staff", email="new@gen.invalid", ward_id=trust["ward"])
    record_about(app, "user_created", ward_nurse, role="ward_staff")
    assert "new@gen.invalid" in client.get("/records/audit?show=accounts").get_data(as_text=True)
    assert read.count(AuditEvent, AuditEvent.action == "user_created") == 1
