"""Staff accounts' services (docs/architecture.md#set-up): a new account in the viewer's reach, the invitation used
once and only in time, closing an account only once the rota and its calls are dealt with (or at once, with the
alarm), a move refused while calls or places are held, and the last administrator kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import build_site_with_team, create_staff
from tests.services.test_concerns import raise_one
from tests.services.test_escalation import build_team_on_call
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Concern,
    ConcernStatus,
    Message,
    Role,
    RotaPattern,
    SendState,
    SessionRecord,
    Shift,
    ShiftKind,
    Site,
    StaffInvitation,
    SystemAlarm,
    Team,
    Tier,
    User,
)
from tracker.problems import FieldProblem
from tracker.services.concerns import triage
from tracker.services.paging import held, rota
from tracker.services.people import accounts, invitations, leavers, sessions, throttle
from tracker.services.people.auth import PasswordProblem
from tracker.services.people.passwords import OneTime, hash_password, verify_password
from tracker.services.records import audit

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "marble kettle orchard lantern"


@pytest.fixture
def on_call(ctx, app):
    """The test trust with a primary, secondary and lead on call (a pattern each), and an administrator."""
    built = build_team_on_call(app)
    return {**built, "admin": new_staff(app, "admin", email="admin@test.invalid", totp_secret=SECRET)}


def person(user_id: int) -> User:
    return db.session.get_one(User, user_id)


def new_staff(app, role: str, **scope) -> User:
    """An account made in a session of its own (the test's own transaction is ended first: SQLite has one writer)."""
    db.session.commit()
    return person(create_staff(app, role, **scope)[0])


def one_time() -> OneTime:
    return OneTime("not-shown", hash_password("not-shown"))


def other_site() -> tuple[Site, Team]:
    team = build_site_with_team(
        "north", "North Hospital", team_name="North Team", public_phone="020 7946 0555", duty_phone="07400 900555"
    )
    db.session.commit()
    return team.site, team


def actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "user", AuditEvent.object_id == user_id)
        )
    )


# --- a new account --------------------------------------------------------------------------------


def test_an_administrator_invites_a_clinician_and_only_the_links_hash_is_kept(on_call):
    team = on_call["team"]
    details = accounts.Details(Role.OUTREACH, [team.id], None, None)
    created = accounts.create_account(
        on_call["admin"],
        email=" Nurse@Test.Invalid ",
        name="Nia Nurse",
        details=details,
        mobile="",
        invite=True,
        one_time=one_time(),
    )
    db.session.commit()
    user = person(created.user.id)
    assert (user.email, user.role, user.team_ids, user.site_id) == (
        "nurse@test.invalid",
        Role.OUTREACH,
        {team.id},
        team.site_id,
    )
    assert created.password is None and created.invitation is not None
    row = db.session.scalars(select(StaffInvitation)).one()
    assert row.token_hash == invitations.token_hash(created.invitation.token) != created.invitation.token
    assert row.expires_at == row.created_at + timedelta(days=7)
    assert created.warning == "No mobile number: they cannot be alerted when they are on call until one is added."
    assert actions(user.id) == ["user_created", "user_invited"]


@pytest.mark.parametrize(
    ("number", "warned"),
    [
        ("07400 100077", None),
        ("020 7946 0101", "This number is a landline, which cannot get texts"),
        ("+33 6 12 34 56 78", "This mobile is in a country the trust does not send texts to"),
    ],
)
def test_a_clinicians_mobile_that_cannot_get_texts_is_kept_with_a_warning_saying_why(on_call, number, warned):
    details = accounts.Details(Role.OUTREACH, [on_call["team"].id], None, None)
    created = accounts.create_account(
        on_call["admin"],
        email="n@test.invalid",
        name="N",
        details=details,
        mobile=number,
        invite=False,
        one_time=one_time(),
    )
    assert created.user.mobile is not None and created.password == "not-shown"
    assert (created.warning or "").startswith(warned) if warned else created.warning is None


def test_a_number_that_is_no_phone_number_is_refused_and_nothing_is_saved(on_call):
    details = accounts.Details(Role.OUTREACH, [on_call["team"].id], None, None)
    with pytest.raises(FieldProblem, match="Enter the mobile number") as refused:
        accounts.create_account(
            on_call["admin"],
            email="n@test.invalid",
            name="N",
            details=details,
            mobile="call me",
            invite=True,
            one_time=one_time(),
        )
    assert refused.value.field == "mobile"
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "n@test.invalid")) is None


def test_a_manager_creates_ward_staff_and_outreach_of_their_own_site_only(on_call, app):
    manager = new_staff(app, "manager", site_id=on_call["team"].site_id, totp_secret=SECRET)
    _site, north = other_site()
    ward = on_call["ward"]
    made = accounts.create_account(
        manager,
        email="w@test.invalid",
        name="W",
        details=accounts.Details(Role.WARD_STAFF, [], ward.id, None),
        mobile="",
        invite=True,
        one_time=one_time(),
    )
    assert (made.user.ward_id, made.user.site_id) == (ward.id, ward.site_id)
    refusals = [
        (accounts.Details(Role.MANAGER, [], None, ward.site_id), "role"),
        (accounts.Details(Role.ADMIN, [], None, None), "role"),
        (accounts.Details(Role.OUTREACH, [north.id], None, None), "teams"),
        (accounts.Details(Role.OUTREACH, [on_call["team"].id, north.id], None, None), "teams"),
    ]
    for number, (details, field) in enumerate(refusals):
        with pytest.raises(FieldProblem) as refused:
            accounts.create_account(
                manager,
                email=f"x{number}@test.invalid",
                name="X",
                details=details,
                mobile="",
                invite=True,
                one_time=one_time(),
            )
        assert refused.value.field == field


def test_the_same_email_twice_is_refused(on_call):
    details = accounts.Details(Role.ADMIN, [], None, None)
    with pytest.raises(FieldProblem, match="There is already an account for admin@test.invalid"):
        accounts.create_account(
            on_call["admin"],
            email="ADMIN@test.invalid",
            name="A",
            details=details,
            mobile="",
            invite=True,
            one_time=one_time(),
        )


# --- the invitation --------------------------------------------------------------------------------


def invited(on_call) -> tuple[User, str]:
    details = accounts.Details(Role.OUTREACH, [on_call["team"].id], None, None)
    created = accounts.create_account(
        on_call["admin"],
        email="new@test.invalid",
        name="New Nurse",
        details=details,
        mobile="07400 100088",
        invite=True,
        one_time=one_time(),
    )
    db.session.commit()
    assert created.invitation is not None
    return created.user, created.invitation.token


def test_an_invitation_sets_the_password_once_and_is_refused_the_second_time(on_call):
    user, token = invited(on_call)
    invitations.accept(token, invitations.new_password_hash(user, NEW_PASSWORD))
    db.session.commit()
    user = person(user.id)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not user.must_change_password and user.password_changed_at is not None
    with pytest.raises(invitations.InvitationRefused, match="already been used") as refused:
        invitations.usable(token)
    assert refused.value.why == "used"
    with pytest.raises(invitations.InvitationRefused, match="already been used"):
        invitations.accept(token, hash_password("another password entirely"))


def test_an_invitation_used_late_is_refused_and_changes_nothing(on_call):
    user, token = invited(on_call)
    before = user.password_hash
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1), tick=False):
        with pytest.raises(invitations.InvitationRefused, match="has expired") as refused:
            invitations.accept(token, hash_password(NEW_PASSWORD))
    assert refused.value.why == "expired" and person(user.id).password_hash == before
    with time_machine.travel(utcnow() + timedelta(days=6, hours=23), tick=False):
        assert invitations.usable(token)[1].id == user.id


def test_a_new_link_cancels_the_old_one_and_a_made_up_link_is_unknown(on_call):
    user, token = invited(on_call)
    newer = accounts.invite_again(on_call["admin"], user, one_time())
    db.session.commit()
    with pytest.raises(invitations.InvitationRefused, match="cancelled, or replaced") as refused:
        invitations.usable(token)
    assert refused.value.why == "cancelled"
    assert invitations.usable(newer.token)[1].id == user.id
    with pytest.raises(invitations.InvitationRefused) as unknown:
        invitations.usable("made-up")
    assert unknown.value.why == "unknown"


def test_an_invited_password_must_follow_the_password_rules(on_call):
    user, _token = invited(on_call)
    with pytest.raises(PasswordProblem, match="at least 12 characters"):
        invitations.new_password_hash(user, "short")


def test_someone_who_chose_a_password_gets_a_one_time_password_not_an_invitation(on_call):
    user, token = invited(on_call)
    invitations.accept(token, hash_password(NEW_PASSWORD))
    with pytest.raises(leavers.AccountProblem, match="has already chosen a password"):
        accounts.invite_again(on_call["admin"], user, one_time())


# --- who is on call ----------------------------------------------------------------------------------


def test_who_is_on_call_ignores_anyone_deactivated_or_no_longer_in_the_team(on_call, app):
    team = on_call["team"]
    primary = person(on_call["people"]["primary"])
    assert [p.user_id for p in rota.on_call(team.id)[Tier.PRIMARY]] == [primary.id]
    _site, north = other_site()
    primary.teams = [north]  # moved to another team, behind the rota's back
    db.session.commit()
    assert rota.on_call(team.id)[Tier.PRIMARY] == []
    gaps = rota.gaps(team.id, utcnow(), utcnow() + timedelta(hours=1))
    assert [gap.reason for gap in gaps] == ["nobody"]
    primary.teams = [team]
    primary.active = False
    db.session.commit()
    assert rota.on_call(team.id)[Tier.PRIMARY] == []
    assert [gap.reason for gap in rota.gaps(team.id, utcnow(), utcnow() + timedelta(hours=1))] == ["nobody"]


def test_a_claimant_whose_account_was_closed_is_not_reminded_the_next_tier_is(on_call):
    from tests.services.test_escalation import alerts, deliver_all, tick_at

    concern_id = raise_one(on_call["ward"]).concern.id
    deliver_all()
    primary = person(on_call["people"]["primary"])
    triage.claim(concern_id, primary)
    primary.active = False
    db.session.commit()
    raised = db.session.get_one(Concern, concern_id).raised_at
    tick_at(raised + timedelta(minutes=30, seconds=1))
    reminders = [(n, t) for _s, n, _c, t in alerts(concern_id) if t.startswith("review")]
    assert ("+447400100001", "review_reminder") not in reminders
    assert [t for _n, t in reminders] == ["review_overdue", "review_overdue"]


# --- closing an account ----------------------------------------------------------------------------


def test_deactivating_someone_on_the_rota_is_refused_until_each_place_is_covered_or_removed(on_call, app):
    team = on_call["team"]
    primary = person(on_call["people"]["primary"])
    extra_id = new_staff(app, "outreach", email="cover@test.invalid", team_ids=[team.id]).id
    shift = rota.add_shift(
        audit.Actor.cli(),
        team,
        tier=Tier.SECONDARY,
        user_id=primary.id,
        starts_at=utcnow() + timedelta(hours=2),
        ends_at=utcnow() + timedelta(hours=14),
        kind=ShiftKind.EXTRA,
    )
    db.session.commit()
    places = held.held(primary.id)
    assert [s.id for s in places.shifts] == [shift.id] and [p.name for p in places.patterns] == ["primary days"]
    with pytest.raises(leavers.AccountProblem, match="is still on the rota"):
        leavers.deactivate(on_call["admin"], primary, audit.Actor.user(on_call["admin"].id))
    db.session.rollback()
    assert person(primary.id).active

    leavers.cover_shift(on_call["admin"], primary, shift.id, extra_id)
    pattern = places.patterns[0]
    leavers.cover_pattern(on_call["admin"], primary, pattern.id, extra_id)
    leavers.deactivate(on_call["admin"], primary, audit.Actor.user(on_call["admin"].id))
    db.session.commit()
    assert not person(primary.id).active
    assert db.session.get_one(RotaPattern, pattern.id).people == [extra_id]
    covered = db.session.scalars(select(Shift).where(Shift.user_id == extra_id)).one()
    assert (covered.tier, covered.kind, covered.ends_at) == (Tier.SECONDARY, ShiftKind.EXTRA, shift.ends_at)
    assert [p.user_id for p in rota.on_call(team.id)[Tier.PRIMARY]] == [extra_id]
    assert actions(primary.id)[-2:] == ["user_deactivated", "sessions_ended"]


def test_removing_the_only_person_from_a_pattern_ends_it(on_call):
    lead = person(on_call["people"]["lead"])
    pattern = held.held(lead.id).patterns[0]
    leavers.cover_pattern(on_call["admin"], lead, pattern.id, None)
    db.session.commit()
    assert not db.session.get_one(RotaPattern, pattern.id).active
    assert not held.held(lead.id)


def test_deactivating_someone_with_claimed_calls_is_refused_with_their_references(on_call):
    secondary = person(on_call["people"]["secondary"])
    concern = raise_one(on_call["ward"]).concern
    triage.claim(concern.id, secondary)
    db.session.commit()
    with pytest.raises(leavers.AccountProblem, match=f"claimed calls that are still open: {concern.reference}"):
        leavers.deactivate(on_call["admin"], secondary, audit.Actor.user(on_call["admin"].id))


def test_deactivating_ends_every_session_and_cancels_an_unused_invitation(on_call, app):
    user, token = invited(on_call)
    sessions.start_session(user, user_agent="a", address=None)
    sessions.start_session(user, user_agent="b", address=None)
    db.session.commit()
    leavers.deactivate(on_call["admin"], user, audit.Actor.user(on_call["admin"].id))
    db.session.commit()
    assert all(r.revoked_reason == "account_disabled" for r in db.session.scalars(select(SessionRecord)))
    with pytest.raises(invitations.InvitationRefused):
        invitations.usable(token)


def test_nobody_deactivates_themselves_and_the_last_administrator_stays(on_call, app):
    admin = on_call["admin"]
    with pytest.raises(leavers.AccountProblem, match="cannot deactivate your own account"):
        leavers.deactivate(admin, admin, audit.Actor.user(admin.id))
    with pytest.raises(leavers.AccountProblem, match="is the last active administrator"):
        leavers.deactivate(None, admin, audit.Actor.cli())
    with pytest.raises(leavers.AccountProblem, match="is the last active administrator"):
        leavers.deactivate_at_once(None, admin, "security_incident", audit.Actor.cli())
    other = new_staff(app, "admin", email="second@test.invalid", totp_secret=SECRET)
    with pytest.raises(leavers.AccountProblem, match="cannot change your own role"):
        accounts.move(other, other, accounts.Details(Role.MANAGER, [], None, on_call["team"].site_id))
    leavers.deactivate(other, admin, audit.Actor.user(other.id))  # two administrators: one may go
    db.session.commit()
    # Now `other` is the only active one: nobody may close or demote them (the rule counts the active others).
    with pytest.raises(leavers.AccountProblem, match="is the last active administrator"):
        leavers.deactivate(admin, other, audit.Actor.user(admin.id))
    with pytest.raises(leavers.AccountProblem, match="cannot be given another role"):
        accounts.move(admin, other, accounts.Details(Role.MANAGER, [], None, on_call["team"].site_id))
    db.session.rollback()
    assert person(other.id).active and person(other.id).role is Role.ADMIN


def test_an_administrator_deactivates_at_once_and_the_gap_it_leaves_raises_the_alarm(on_call):
    admin, team = on_call["admin"], on_call["team"]
    primary = person(on_call["people"]["primary"])
    concern = raise_one(on_call["ward"]).concern  # the first step's alert waits for the primary
    waiting = db.session.scalars(
        select(Message).where(Message.recipient_user_id == primary.id, Message.send_state == SendState.PENDING)
    ).one()
    step_due = db.session.get_one(Concern, concern.id).next_escalation_at
    with pytest.raises(FieldProblem, match="Choose why"):
        leavers.deactivate_at_once(admin, primary, "because", audit.Actor.user(admin.id))
    left = leavers.deactivate_at_once(admin, primary, "security_incident", audit.Actor.user(admin.id))
    db.session.commit()
    assert left.gapped_team_ids == [team.id] and left.references == []
    assert not person(primary.id).active
    alarm = db.session.scalars(select(SystemAlarm).where(SystemAlarm.kind == "rota_gap")).one()
    assert alarm.subject == f"team:{team.id}"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user_deactivated_at_once", AuditEvent.object_id == primary.id)
    ).one()
    assert event.changes == {"role": "outreach", "reason": "security_incident", "places_left": 1, "calls": 0}
    # The alert still waiting for them is cancelled, and the call's next step is due now, not in 5 minutes.
    assert db.session.get_one(Message, waiting.id).send_state is SendState.CANCELLED
    assert db.session.get_one(Concern, concern.id).next_escalation_at < step_due


def test_a_manager_may_not_deactivate_at_once(on_call, app):
    manager = new_staff(app, "manager", site_id=on_call["team"].site_id, totp_secret=SECRET)
    with pytest.raises(leavers.AccountProblem, match="Only an administrator"):
        leavers.deactivate_at_once(
            manager, person(on_call["people"]["lead"]), "security_incident", audit.Actor.user(manager.id)
        )


def test_a_text_queued_for_someone_who_has_left_is_not_sent(on_call, app, sms):
    from tracker.worker import Worker

    raise_one(on_call["ward"])
    primary = person(on_call["people"]["primary"])
    primary.active = False  # closed behind the service's back: the worker still checks
    db.session.commit()
    Worker(app, sender=sms).run_once()
    assert "+447400100001" not in [text.to for text in sms.sent]
    reasons = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.action == "message_cancelled")).all()
    assert {"reason": "recipient_left"} in reasons


def test_a_move_is_refused_while_they_hold_claimed_calls_or_places_of_the_team_they_leave(on_call):
    admin, team = on_call["admin"], on_call["team"]
    site, north = other_site()
    secondary = person(on_call["people"]["secondary"])
    concern = raise_one(on_call["ward"]).concern
    triage.claim(concern.id, secondary)
    db.session.commit()
    to_north = accounts.Details(Role.OUTREACH, [north.id], None, None)
    with pytest.raises(leavers.AccountProblem, match=f"claimed calls of a team they would leave: {concern.reference}"):
        accounts.move(admin, secondary, to_north)
    db.session.rollback()
    # Joining a second team keeps the first: the claimed call is no reason to refuse.
    accounts.move(admin, secondary, accounts.Details(Role.OUTREACH, [team.id, north.id], None, None))
    db.session.commit()
    assert person(secondary.id).team_ids == {team.id, north.id}
    db.session.execute(Concern.__table__.update().values(status="closed"))  # dealt with
    db.session.commit()
    with pytest.raises(leavers.AccountProblem, match="is on the rota of a team they would leave"):
        accounts.move(admin, secondary, to_north)
    db.session.rollback()
    pattern = held.held(secondary.id).patterns[0]
    leavers.cover_pattern(admin, secondary, pattern.id, on_call["people"]["lead"])
    sessions.start_session(secondary, user_agent="x", address=None)
    accounts.move(admin, secondary, to_north)
    db.session.commit()
    moved = person(secondary.id)
    assert (moved.team_ids, moved.site_id) == ({north.id}, site.id)
    assert db.session.scalars(select(SessionRecord.revoked_reason)).all() == ["account_changed"]
    assert [p.user_id for p in rota.on_call(team.id)[Tier.SECONDARY]] == [on_call["people"]["lead"]]


def test_one_time_password_authenticator_and_sign_in_counts(on_call):
    admin = on_call["admin"]
    lead = person(on_call["people"]["lead"])
    lead.totp_secret = SECRET
    sessions.start_session(lead, user_agent="x", address=None)
    keys = [throttle.account_key(lead.email), throttle.code_key(lead.id)]
    db.session.commit()
    throttle.admit(keys)
    db.session.commit()
    password = accounts.reset_password(admin, lead, OneTime("one-time-words", hash_password("one-time-words")))
    accounts.reset_authenticator(admin, lead)
    accounts.clear_sign_in_counts(admin, lead)
    db.session.commit()
    lead = person(lead.id)
    assert password == "one-time-words" and lead.must_change_password and verify_password(lead.password_hash, password)
    assert lead.totp_secret is None and lead.must_enrol_mfa
    assert all(throttle.attempts_this_hour(key) == 0 for key in keys)
    assert db.session.scalars(select(SessionRecord.revoked_reason)).all() == ["password_reset"]
    assert actions(lead.id)[-5:] == [
        "password_reset",
        "sessions_ended",
        "mfa_reset",
        "sessions_ended",
        "sign_in_counts_cleared",
    ]
    with pytest.raises(leavers.AccountProblem, match="Change your own password"):
        accounts.reset_password(admin, admin, one_time())


def test_every_action_on_an_account_has_words_for_the_audit_viewer(on_call):
    from tracker.services.words import ACTION_WORDS

    user, token = invited(on_call)
    invitations.accept(token, hash_password(NEW_PASSWORD))
    accounts.set_mobile(on_call["admin"], user, "")
    accounts.move(on_call["admin"], user, accounts.Details(Role.WARD_STAFF, [], on_call["ward"].id, None))
    leavers.deactivate(on_call["admin"], user, audit.Actor.user(on_call["admin"].id))
    leavers.reactivate(on_call["admin"], user, audit.Actor.user(on_call["admin"].id))
    lead = person(on_call["people"]["lead"])
    leavers.cover_pattern(on_call["admin"], lead, held.held(lead.id).patterns[0].id, on_call["people"]["primary"])
    leavers.deactivate_at_once(
        on_call["admin"], person(on_call["people"]["primary"]), "other_urgent", audit.Actor.cli()
    )
    done = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user_invited", "invitation_used", "user_moved", "user_deactivated_at_once", "rota_pattern_changed"} <= done
    ours = {a for a in done if a.startswith(("user_", "invitation")) or a in ("rota_pattern_changed", "mfa_reset")}
    assert ours <= set(ACTION_WORDS)


def test_a_closed_account_is_reactivated_by_an_administrator(on_call, app):
    lead = person(on_call["people"]["lead"])
    leavers.deactivate_at_once(on_call["admin"], lead, "other_urgent", audit.Actor.user(on_call["admin"].id))
    db.session.commit()
    manager = new_staff(app, "manager", site_id=on_call["team"].site_id, totp_secret=SECRET)
    with pytest.raises(leavers.AccountProblem, match="Only an administrator"):
        leavers.reactivate(manager, person(lead.id), audit.Actor.user(manager.id))
    leavers.reactivate(on_call["admin"], person(lead.id), audit.Actor.user(on_call["admin"].id))
    db.session.commit()
    assert person(lead.id).active
    with pytest.raises(leavers.AccountProblem, match="already active"):
        leavers.reactivate(on_call["admin"], person(lead.id), audit.Actor.user(on_call["admin"].id))


def test_a_manager_changes_only_ward_staff_and_outreach_wholly_of_their_site(on_call, app):
    team = on_call["team"]
    manager = new_staff(app, "manager", site_id=team.site_id, totp_secret=SECRET)
    colleague = new_staff(app, "manager", site_id=team.site_id, totp_secret=SECRET)
    _site, north = other_site()
    both = new_staff(app, "outreach", team_ids=[team.id, north.id])
    northern = new_staff(app, "outreach", team_ids=[north.id])
    for someone in (colleague, on_call["admin"], both, northern):
        with pytest.raises(leavers.AccountProblem, match="Only an administrator can change"):
            leavers.deactivate(manager, someone, audit.Actor.user(manager.id))
    from tracker.services.people import staff

    seen = {row.id for row in staff.listing(manager, staff.Filters(active=None))}
    assert {colleague.id, both.id, manager.id, *on_call["people"].values()} <= seen
    assert northern.id not in seen and on_call["admin"].id not in seen
    assert staff.person(manager, northern.id) is None and staff.person(manager, on_call["admin"].id) is None


def test_a_call_claimed_by_someone_deactivated_at_once_goes_back_on_the_queue_and_pages_again(on_call):
    """Nobody else can act on a claimed call: left with a closed account, it would wait unseen."""
    admin = on_call["admin"]
    primary = person(on_call["people"]["primary"])
    claimed = raise_one(on_call["ward"]).concern
    triage.claim(claimed.id, primary)
    reviewed = raise_one(on_call["ward"], submission="reviewed-call-00001", patient_name="Robin Other").concern
    triage.claim(reviewed.id, primary)
    db.session.get_one(Concern, reviewed.id).status = ConcernStatus.REVIEWED
    db.session.commit()
    left = leavers.deactivate_at_once(admin, primary, "security_incident", audit.Actor.user(admin.id))
    db.session.commit()
    back = db.session.get_one(Concern, claimed.id)
    assert back.status is ConcernStatus.NEW and back.claimed_by_id is None
    assert back.next_escalation_at is not None and back.next_escalation_at <= utcnow() + timedelta(minutes=1)
    released = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "released", AuditEvent.concern_id == claimed.id)
    ).one()
    assert released.changes["reason"] == "claimant_account_closed" and released.actor_id == admin.id
    # A call already reviewed waits to be closed: it stays, and the page lists it.
    assert left.references == [db.session.get_one(Concern, reviewed.id).reference]
