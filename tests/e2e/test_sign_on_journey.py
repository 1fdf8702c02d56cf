def cookie_for(app, user_id: int) -> str:
    """A signed-in session's cookie for the browser (as a sign-in just now would give)."""
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import User
    from tracker.services.people import sessions

    with app.app_context(), write_intent():
        token, _record = sessions.start_session(
            db.session.get(User, user_id), user_agent="chromium", address="127.0.0.1"
        )
        db.session.commit()
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})


@at(OUTREACH_NURSE, only="desktop")
def test_a_break_glass_admin_turns_on_local_sign_in_and_the_queue_says_so(tab, sso_app, sso_url, trust, read):
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import SignOnOutage, User

    nurse = staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-object-id")
    admin = staff(sso_app, "admin", email="glass@test.invalid", link="admin-object-id")
    with sso_app.app_context(), write_intent():
        db.session.get_one(User, admin).break_glass = True
        db.session.commit()
    page = tab.page
    name = sso_app.config["SESSION_COOKIE_NAME"]
    tab.context.add_cookies([{"name": name, "value": cookie_for(sso_app, admin), "url": sso_url}])
    page.goto(f"{sso_url}/auth/account")
    expect(page.get_by_role("heading", name="Trust account")).to_be_visible()
    tab.check("sign-on-account-linked-admin", emergency=False)
    page.get_by_role("link", name="Sign-on outage").click()
    expect(page.get_by_role("heading", name="Sign-on outage")).to_be_visible()
    tab.check("sign-on-outage-off", emergency=False)
    page.get_by_label("For how many hours, from now").fill("13")
    page.get_by_role("button", name="Turn local sign-in on").click()
    expect(page.get_by_text("The number of hours must be a whole number from 1 to 12").first).to_be_visible()
    tab.check("sign-on-outage-refused", emergency=False)
    page.get_by_label("For how many hours, from now").fill("6")
    page.get_by_role("button", name="Turn local sign-in on").click()
    expect(page.get_by_role("heading", name="Local sign-in is on")).to_be_visible()
    tab.check("sign-on-outage-on", emergency=False)
    assert read.one(SignOnOutage).ended_at is None

    tab.context.clear_cookies()
    page.goto(f"{sso_url}/auth/sign-in")
    expect(page.get_by_text("Until", exact=False).first).to_be_visible()
    tab.check("sign-on-sign-in-during-outage", emergency=False)
    tab.context.add_cookies([{"name": name, "value": cookie_for(sso_app, nurse), "url": sso_url}])
    page.goto(f"{sso_url}/triage/")
    expect(page.get_by_text("Sign-on outage: the trust's sign-in is down")).to_be_visible()
    tab.check("sign-on-outage-queue-banner", emergency=False)
    assert_tracker_pages_clean(tab, sso_url)
