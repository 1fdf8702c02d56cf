"""The live queue: ordering, filters, the cheap "nothing changed" refresh, a constant number of SQL
statements whatever the number of calls, and an index behind its query."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text, update

from tests.conftest import ON_POSTGRES, create_staff, sign_in_directly
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import OPEN_STATUS_SQL, AuditEvent, Concern, ConcernStatus


def refs(html: str) -> list[str]:
    return re.findall(r'data-concern="(MR-[A-Z0-9]{4}-[A-Z0-9]{2})"', html)


@pytest.fixture
def three_calls(family, app):
    """Three calls; returns their references oldest first."""
    references = []
    for n in range(3):
        family.submit(worry_details=f"Worry number {n}", callback_number=f"07400 12345{n}")
    with app.app_context():
        rows = db.session.execute(db.select(Concern.id, Concern.reference).order_by(Concern.id)).all()
        # Age them: the first is oldest.
        for minutes, (concern_id, reference) in zip((50, 30, 10), rows, strict=True):
            db.session.execute(
                update(Concern).where(Concern.id == concern_id).values(raised_at=utcnow() - timedelta(minutes=minutes))
            )
            references.append(reference)
        db.session.commit()
    return references


def test_new_calls_come_first_then_priority_then_age(client, login_as, three_calls, app):
    oldest, middle, newest = three_calls
    with app.app_context():
        db.session.execute(update(Concern).where(Concern.reference == oldest).values(status=ConcernStatus.ACKNOWLEDGED))
        db.session.execute(update(Concern).where(Concern.reference == newest).values(priority=1))
        db.session.commit()
    login_as("outreach")
    assert refs(client.get("/triage/").get_data(as_text=True)) == [newest, middle, oldest]


def test_each_row_shows_where_who_what_how_long_and_the_text_state(client, login_as, three_calls):
    login_as("outreach")
    html = client.get("/triage/").get_data(as_text=True)
    assert "Ward 7" in html and "Family or carer" in html
    assert "Breathing, sleepy or confused: Worry number 0" in html
    assert "nhsuk-tag--red" in html  # 50 and 30 minutes against a 5-minute target
    assert "— past target" in html  # urgency in words, not colour alone
    assert "Nobody yet" in html and "Waiting to send" in html
    assert "data-raised-at=" in html and 'data-target-minutes="5"' in html


def test_filters_show_mine_unclaimed_and_by_site(client, login_as, three_calls, app):
    user_id = login_as("outreach")
    with app.app_context():
        db.session.execute(
            update(Concern)
            .where(Concern.reference == three_calls[0])
            .values(status=ConcernStatus.ACKNOWLEDGED, claimed_by_id=user_id)
        )
        db.session.commit()
    assert refs(client.get("/triage/?view=mine").get_data(as_text=True)) == [three_calls[0]]
    assert set(refs(client.get("/triage/?view=unclaimed").get_data(as_text=True))) == set(three_calls[1:])
    assert len(refs(client.get("/triage/?site=gen").get_data(as_text=True))) == 3
    assert refs(client.get("/triage/?site=elsewhere").get_data(as_text=True)) == []
    assert client.get("/triage/?view=<script>").status_code == 200


def test_closed_calls_are_listed_below_for_a_day(client, login_as, three_calls, app):
    with app.app_context():
        db.session.execute(
            update(Concern)
            .where(Concern.reference == three_calls[0])
            .values(status=ConcernStatus.CLOSED, updated_at=utcnow())
        )
        db.session.execute(
            update(Concern)
            .where(Concern.reference == three_calls[1])
            .values(status=ConcernStatus.CLOSED, updated_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
    login_as("outreach")
    html = client.get("/triage/").get_data(as_text=True)
    closed = html.split("Closed in the last 24 hours", 1)[1]
    assert three_calls[0] in closed and three_calls[1] not in html


def test_the_refresh_answers_304_when_nothing_changed_and_200_when_something_did(client, login_as, three_calls, family):
    login_as("outreach")
    first = client.get("/triage/queue/rows")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"  # patient data: never kept
    assert client.get("/triage/queue/rows", headers={"If-None-Match": etag}).status_code == 304
    family.submit(worry_details="A brand new worry", callback_number="07400 999888")
    changed = client.get("/triage/queue/rows", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(refs(changed.get_data(as_text=True))) == 4


def test_a_text_being_sent_changes_the_queue(client, login_as, three_calls, app, sms):
    from tracker.worker import Worker

    login_as("outreach")
    etag = client.get("/triage/queue/rows").headers["ETag"]
    Worker(app, sender=sms).run_once()
    response = client.get("/triage/queue/rows", headers={"If-None-Match": etag})
    assert response.status_code == 200 and "Sent" in response.get_data(as_text=True)


def test_the_queue_and_its_refresh_are_not_audited_but_opening_a_call_is(client, login_as, three_calls, read):
    login_as("outreach")
    before = read.count(AuditEvent)
    client.get("/triage/")
    client.get("/triage/queue/rows")
    assert read.count(AuditEvent) == before
    client.get(f"/triage/c/{three_calls[0]}")
    viewed = read.all(AuditEvent, AuditEvent.action == "viewed")
    assert len(viewed) == 1 and viewed[0].actor_type == "user"


@contextmanager
def counting_statements(app):
    counter = {"n": 0}
    with app.app_context():
        engine = db.engine

    def count(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def capturing_statements(app):
    """The statements the app sends, with their parameters (not SQLite's BEGIN: PostgreSQL has none to count)."""
    seen: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if statement.strip().upper() != "BEGIN":
            seen.append((" ".join(statement.split()), parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def statements_for(client, app, path) -> int:
    client.get(path)  # warm the caches
    with counting_statements(app) as counter:
        assert client.get(path).status_code in (200, 304)
    return counter["n"]


def test_the_number_of_statements_does_not_grow_with_the_number_of_calls(client, login_as, family, app, sms):
    from tracker.worker import Worker

    login_as("outreach")
    for n in range(2):
        family.submit(worry_details=f"Early {n}", callback_number=f"07400 11111{n}")
    Worker(app, sender=sms).run_once()
    few = {path: statements_for(client, app, path) for path in ("/triage/", "/triage/queue/rows")}
    for n in range(12):
        family.submit(worry_details=f"Later {n}", callback_number=f"07400 2222{n:02d}")
    Worker(app, sender=sms).run_once()
    many = {path: statements_for(client, app, path) for path in ("/triage/", "/triage/queue/rows")}
    assert few == many, (few, many)


def test_the_unchanged_refresh_reads_the_session_and_the_version_and_nothing_else(client, login_as, three_calls, app):
    """Every open queue asks every few seconds: the 304 costs two statements, the session (with its person and their
    teams, for the access checks) and the latest change of the team's calls. bench/queue_page.py measures it."""
    login_as("outreach")
    etag = client.get("/triage/queue/rows").headers["ETag"]
    client.get("/triage/queue/rows", headers={"If-None-Match": etag})  # the warnings are then kept a few seconds
    with capturing_statements(app) as seen:
        assert client.get("/triage/queue/rows", headers={"If-None-Match": etag}).status_code == 304
    assert len(seen) == 2, seen
    assert "FROM session_record" in seen[0][0] and "user_team" in seen[0][0], seen[0][0]
    assert seen[1][0].startswith("SELECT max(concern.updated_at)"), seen[1][0]


def test_the_queue_page_reads_in_a_fixed_number_of_statements(client, login_as, three_calls, app, sms):
    """The session, the person's sites, the open calls, the follow-ups, the recently closed, the texts' states,
    the opt-outs, the failed alerts, the version: nine, whatever the number of calls (no N+1)."""
    login_as("outreach")
    client.get("/triage/")
    with capturing_statements(app) as seen:
        assert client.get("/triage/").status_code == 200
    assert len(seen) == 9, "\n".join(statement[:120] for statement, _ in seen)


@pytest.mark.postgres
@pytest.mark.parametrize("conditional", [False, True], ids=["page", "304"])
def test_on_postgresql_the_queue_reads_outside_a_transaction(client, login_as, three_calls, app, conditional):
    """Each statement sees its own snapshot at READ COMMITTED anyway; a transaction around them added a BEGIN and a
    ROLLBACK, and the ROLLBACK made psycopg forget the prepared statements, so every statement was planned afresh on
    every refresh of every screen (db.py: reads_only)."""
    login_as("outreach")
    etag = client.get("/triage/queue/rows").headers["ETag"]
    path, headers = ("/triage/queue/rows", {"If-None-Match": etag}) if conditional else ("/triage/", {})
    seen: list[tuple[bool, str]] = []

    def note(conn, _cursor, _statement, _parameters, _context, _many):
        driver = conn.connection.driver_connection
        seen.append((driver.autocommit, driver.info.transaction_status.name))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path, headers=headers).status_code == (304 if conditional else 200)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(seen) == (2 if conditional else 9)
    assert set(seen) == {(True, "IDLE")}, seen


@pytest.mark.postgres
def test_on_postgresql_the_queue_sends_the_same_statements_whatever_the_number_of_calls(client, login_as, family, app):
    """The same text each time, so each stays prepared on the connection: the lists of calls and numbers are one
    array parameter (queue.py: _among), not a placeholder per call, which SQLAlchemy expanded on every request."""
    login_as("outreach")

    def texts() -> list[str]:
        client.get("/triage/")
        with capturing_statements(app) as seen:
            assert client.get("/triage/").status_code == 200
        return [statement for statement, _ in seen]

    family.submit(worry_details="First", callback_number="07400 333001")
    few = texts()
    for n in range(3):
        family.submit(worry_details=f"Later {n}", callback_number=f"07400 33301{n}")
    assert texts() == few


def _plan(sql: str, params: dict) -> str:
    if ON_POSTGRES:
        rows = db.session.execute(text("EXPLAIN " + sql), params).all()
    else:
        rows = db.session.execute(text("EXPLAIN QUERY PLAN " + sql), params).all()
    return "\n".join(" ".join(str(col) for col in row) for row in rows)


def insert_history(trust, count: int = 5000, unread: int = 0) -> None:
    """`count` calls of the test team, all closed but the 20 newest; the `unread` oldest closed ones with a
    caller's text nobody has read (follow-ups). Then ANALYZE, as a live database would have been."""
    with write_intent():
        now = utcnow()
        rows = [
            {
                "reference": f"MR-{n:04d}-{n % 97:02d}"[:10],
                "submission_id": f"hist-{n}",
                "ward_id": trust["ward"],
                "site_id": trust["site"],
                "team_id": trust["team"],
                "caller_route": "family_carer_advocate",
                "callback_textable": False,
                "sms_consent": False,
                "locale": "en",
                "interpreter_needed": False,
                "worry_categories": [],
                "channel": "tablet",
                "status": "closed" if n > 20 else "new",
                "version": 1,
                "repeat_count": 0,
                "flagged_burst": False,
                "flagged_automated": False,
                "raised_at": now - timedelta(minutes=n),
                "updated_at": now - timedelta(minutes=n),
                "change_in_care": [],
            }
            for n in range(count)
        ]
        for row in rows:
            row["reference"] = f"MR-{row['submission_id'][-4:].rjust(4, 'A')}-AA"
        for n, row in enumerate(rows):
            row["unread_reply"] = n >= count - unread
        db.session.execute(Concern.__table__.insert(), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def test_the_queue_query_uses_an_index_on_a_large_table(app, trust):
    """5,000 historic calls and a few open ones: the planner must use the (team, status) or
    (status, raised_at) index rather than scan the table."""
    with app.app_context():
        insert_history(trust)
        plan = _plan(
            f"SELECT id FROM concern WHERE team_id = :team AND concern.{OPEN_STATUS_SQL} ORDER BY raised_at",
            {"team": trust["team"]},
        )
        assert "ix_concern_open_team" in plan, plan
        version_plan = _plan("SELECT max(updated_at) FROM concern WHERE team_id = :team", {"team": trust["team"]})
        assert "ix_concern_team_updated_at" in version_plan, version_plan
        db.session.rollback()


@pytest.mark.parametrize(
    "role, index", [("outreach", "ix_concern_unread_reply_team"), ("manager", "ix_concern_unread_reply_site")]
)
def test_the_follow_up_texts_come_from_their_own_index_not_every_closed_call(client, login_as, app, trust, role, index):
    """The follow-ups (a caller's text after the call ended) as the page asks for them: from the small partial
    index of unread texts, by team or by site, not by reading every closed call of the team (a team's history
    is hundreds of thousands of calls)."""
    with app.app_context():
        insert_history(trust, unread=2)
    login_as(role)
    with capturing_statements(app) as seen:
        html = client.get("/triage/").get_data(as_text=True)
    assert html.count("Follow-up text: call ended") == 2
    (statement, parameters), *others = [(s, p) for s, p in seen if s.endswith("ORDER BY concern.updated_at")]
    assert not others, others
    with app.app_context():
        explain = "EXPLAIN " if ON_POSTGRES else "EXPLAIN QUERY PLAN "
        plan = " ".join(str(row) for row in db.session.connection().exec_driver_sql(explain + statement, parameters))
        db.session.rollback()
    assert index in plan, plan


def test_a_manager_sees_the_queue_read_only(client, app, trust, three_calls):
    user_id, _ = create_staff(app, "manager", site_id=trust["site"], totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    sign_in_directly(app, client, user_id)
    html = client.get("/triage/").get_data(as_text=True)
    assert "(read only)" in html and len(refs(html)) == 3
    page = client.get(f"/triage/c/{three_calls[0]}").get_data(as_text=True)
    assert "Claim this call" not in page and "Add a note" not in page
