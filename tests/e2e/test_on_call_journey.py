"""The on-call pages in Chromium, on a ward tablet and on a phone: an outreach clinician
opens "On call" from the header, opens the team's rota and presses "Test the rota"; the worker
sends the test texts through the fake provider, Twilio's signed delivery report comes back
through the live server, and the results page says who got it. A family's receipt the provider
refused for good (21614, not a mobile) waits on the failed-messages page with its plain reason;
a wrong number is refused with the NHS error summary, the right one is sent again. A manager adds
cover on the rota (a bad time first) and reads the escalation policy, which outreach may only
read. Every page passes axe-core's WCAG 2.2 AA rules and is saved as a screenshot for review;
nothing leaves 127.0.0.1, no page is stored and nothing breaks the Content Security Policy."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from twilio.request_validator import RequestValidator

from tests.conftest import FAMILY_MOBILE, FamilyForm, create_staff
from tests.e2e.journeys import OUTREACH_NURSE, SERVICE_MANAGER, at
from tests.services.test_escalation import build_team_on_call
from tracker.clock import local, utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Audience, Concern, Message, SendState, User, WorkerHeartbeat
from tracker.services.paging import warnings as staff_warnings
from tracker.services.setup.settings import current_settings
from tracker.sms import PermanentFailure
from tracker.sms.twilio_codes import PERMANENT_REASONS
from tracker.worker import Worker

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # tests.conftest.create_staff's
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MANAGER = "manager@test.invalid"
TEAM = "Outreach Team"
# The people build_team_on_call puts on call, given names so each row can be told apart.
NAMES = {"primary": "Asha Patel", "secondary": "Ben Okafor", "lead": "Chris Doyle"}
MOBILES = {"primary": "+447400100001", "secondary": "+447400100002"}
NOT_A_MOBILE = PERMANENT_REASONS[21614]


@pytest.fixture
def on_call(app):
    """The test trust with a primary, a secondary and a lead on call and the default policy, a
    manager of its site and a worker that has just beaten its heartbeat."""
    with app.app_context(), write_intent():
        built = build_team_on_call(app)
        for tier, user_id in built["people"].items():
            db.session.get(User, user_id).display_name = NAMES[tier]
        db.session.add(WorkerHeartbeat(worker_id="w", hostname="h", pid=1, started_at=utcnow(), beat_at=utcnow()))
        db.session.commit()
        site_id = built["team"].site_id
        people = dict(built["people"])
    create_staff(app, "manager", email=MANAGER, site_id=site_id, totp_secret=SECRET)
    staff_warnings.forget()  # the banner's few seconds of memory belong to the last test's data
    return people


@pytest.fixture
def tab(open_tab, on_call):
    """A watched page with the on-call trust in the database (not the plain test trust)."""
    return open_tab()


def sign_in(page: Page, email: str, *, totp: bool = False) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp:
        page.get_by_label("Security code").fill(pyotp.TOTP(SECRET).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/triage/")


def open_from_header(page: Page, name: str) -> None:
    """Follow a link of the header's navigation. On a narrow screen NHS.UK's header moves the links
    that do not fit into its "More" menu, and it lays itself out again whenever the bar's size changes
    while the page settles: a link seen in the bar can be in the closed menu a moment later (a click
    then waited for it in vain on a loaded CI machine). So open the menu when the link is not in view,
    and try again until the click lands."""
    page.locator("[data-nhsuk-header-init]").wait_for(state="attached")
    navigation = page.locator(".nhsuk-header__navigation")
    link = navigation.get_by_role("link", name=name, exact=True).locator("visible=true")
    more = navigation.get_by_role("button", name=re.compile("More"))
    for _ in range(10):
        if not link.count() and more.is_visible() and more.get_attribute("aria-expanded") != "true":
            more.click()
        try:
            link.first.click(timeout=3000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the header's {name!r} link could not be clicked")


def signed_delivery_report(app, base_url: str, callback: str, sid: str, status: str) -> int:
    """POST Twilio's status callback to the live server, signed as Twilio signs it: over the public
    URL it called (the testing PUBLIC_BASE_URL, the address a proxy would stand at), which the app
    rebuilds from its configuration, not from the port the test server happens to have."""
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01"}
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(callback, params)
    public = urlsplit(callback)
    assert base_url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 (the live server)
        f"{base_url}{public.path}?{public.query}",
        data=urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the live server)
        return response.status


def result_row(page: Page, name: str):
    return page.locator("[data-result]").filter(has_text=name)


@at(OUTREACH_NURSE)
def test_a_clinician_tests_the_rota_and_sees_who_got_the_text(tab, app, on_call, base_url, read):
    page = tab.page
    sms = app.extensions["tracker_sms"]
    with app.app_context(), write_intent():
        db.session.get(User, on_call["lead"]).mobile = None  # on call, but cannot be texted
        db.session.commit()
    staff_warnings.forget()

    sign_in(page, "primary@test.invalid")
    open_from_header(page, "On call")
    page.wait_for_url("**/on-call/")
    expect(page.get_by_role("heading", name="On call", exact=True)).to_be_visible()
    team = page.get_by_role("region", name=TEAM)
    expect(team).to_contain_text(NAMES["primary"])
    expect(team.get_by_text("No mobile")).to_be_visible()
    # The red banner names the problem and links to the rota that fixes it.
    banner = page.locator("[data-alarm]")
    expect(banner).to_contain_text(f"{NAMES['lead']} is on call for {TEAM} (lead) but has no mobile number")
    expect(banner.get_by_role("link", name="Open the rota")).to_have_attribute("href", "/on-call/gen-ccot/rota")
    tab.check("oncall-teams", emergency=False)

    team.get_by_role("link", name=f"Rota for {TEAM}").click()
    page.wait_for_url("**/on-call/gen-ccot/rota")
    expect(page.get_by_role("heading", name="Rota", exact=True)).to_be_visible()
    now = page.locator("[data-on-call]")
    expect(now).to_contain_text(NAMES["primary"])
    expect(now).to_contain_text("07400 100001")
    expect(now.get_by_text("No mobile that can get texts")).to_be_visible()
    expect(page.get_by_text("Add cover, a swap or an extra person")).to_have_count(0)  # outreach only reads it
    tab.check("oncall-rota", emergency=False)

    page.get_by_role("button", name="Test the rota").click()
    page.wait_for_url(re.compile(r"/on-call/gen-ccot/test/[0-9a-f]{8}$"))
    results_url = page.url
    expect(page.get_by_role("heading", name="Rota test")).to_be_visible()
    expect(page.locator("[data-result]")).to_have_count(3)
    for tier in ("primary", "secondary"):
        expect(result_row(page, NAMES[tier]).locator(".nhsuk-tag")).to_have_text("Sending")
    expect(result_row(page, NAMES["lead"]).locator(".nhsuk-tag")).to_have_text("Not sent")
    expect(result_row(page, NAMES["lead"])).to_contain_text(
        "Not sent No mobile that can get texts: add one to their account."
    )
    tab.check("oncall-test-sending", emergency=False)

    # The worker sends both texts; the network reports the primary's as delivered.
    Worker(app, sender=sms).run_once()
    assert sorted(text.to for text in sms.sent) == sorted(MOBILES.values())
    assert all("No action needed" in text.body for text in sms.sent)
    primary_text = next(text for text in sms.sent if text.to == MOBILES["primary"])
    sid = read.one(Message, Message.id == primary_text.message_id).provider_sid
    assert signed_delivery_report(app, base_url, primary_text.status_callback, sid, "delivered") == 204
    assert read.one(Message, Message.id == primary_text.message_id).delivery_status == "delivered"

    page.reload()
    assert page.url == results_url
    expect(result_row(page, NAMES["primary"]).locator(".nhsuk-tag")).to_have_text("Received")
    expect(result_row(page, NAMES["secondary"]).locator(".nhsuk-tag")).to_have_text("Sent")
    expect(result_row(page, NAMES["secondary"])).to_contain_text(
        "The network has not confirmed it reached the phone yet."
    )
    expect(result_row(page, NAMES["lead"]).locator(".nhsuk-tag")).to_have_text("Not sent")
    tab.check("oncall-test-results", emergency=False)

    # The policy, read only: every control is in a disabled fieldset and there is no Save.
    page.get_by_role("link", name="Back to the rota").click()
    page.wait_for_url("**/on-call/gen-ccot/rota")
    open_from_header(page, "On call")
    page.get_by_role("region", name=TEAM).get_by_role("link", name=f"Escalation policy for {TEAM}").click()
    page.wait_for_url("**/on-call/gen-ccot/policy")
    expect(page.get_by_role("heading", name="Escalation policy", exact=True)).to_be_visible()
    expect(page.locator("form > fieldset")).to_have_attribute("disabled", "")
    expect(page.get_by_role("checkbox").first).to_be_disabled()
    expect(page.get_by_label("Fallback", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Save the policy")).to_have_count(0)
    expect(page.get_by_text("Only managers and administrators can change the policy.")).to_be_visible()
    tab.check("oncall-policy-read-only", emergency=False)
    tab.assert_clean()


def test_the_rota_test_texts_a_shared_phone_once_and_updates_itself(tab, app, on_call, base_url, read):
    page = tab.page
    sms = app.extensions["tracker_sms"]
    with app.app_context(), write_intent():
        db.session.get(User, on_call["lead"]).mobile = MOBILES["primary"]  # the duty phone, shared
        db.session.commit()
    staff_warnings.forget()

    sign_in(page, "primary@test.invalid")
    page.goto("/on-call/gen-ccot/rota")
    page.get_by_role("button", name="Test the rota").click()
    page.wait_for_url(re.compile(r"/on-call/gen-ccot/test/[0-9a-f]{8}$"))
    results_url, pages_loaded = page.url, len(tab.documents)
    rows = page.locator("[data-result]")
    expect(rows).to_have_count(2)  # one row, and one text, for each number
    shared = result_row(page, NAMES["lead"])
    expect(shared).to_contain_text(NAMES["primary"])
    expect(shared.locator("[data-shared]")).to_have_text(
        f"Texted once: this number is on the rota for {NAMES['primary']} (primary) and {NAMES['lead']} (lead)."
    )
    expect(rows.locator(".nhsuk-tag")).to_have_text(["Sending", "Sending"])
    status = page.get_by_role("status").filter(has_text="updates itself")
    expect(status).to_have_text("This page updates itself as the network reports each text.")
    expect(page.get_by_role("link", name="Refresh this page")).to_be_hidden()  # the script does it
    tab.check("oncall-test-live-sending", emergency=False)

    # The worker sends one text to each number; the page shows it without being reloaded.
    Worker(app, sender=sms).run_once()
    assert sorted(text.to for text in sms.sent) == sorted(MOBILES.values())
    expect(rows.locator(".nhsuk-tag")).to_have_text(["Sent", "Sent"])
    # The network's reports arrive: the shared phone got it, the secondary's did not.
    for tier, outcome in (("primary", "delivered"), ("secondary", "undelivered")):
        text = next(text for text in sms.sent if text.to == MOBILES[tier])
        sid = read.one(Message, Message.id == text.message_id).provider_sid
        assert signed_delivery_report(app, base_url, text.status_callback, sid, outcome) == 204
    expect(shared.locator(".nhsuk-tag")).to_have_text("Received")
    expect(result_row(page, NAMES["secondary"]).locator(".nhsuk-tag")).to_have_text("Failed")
    expect(result_row(page, NAMES["secondary"])).to_contain_text("Correct the number and resend")
    expect(page.get_by_role("status").filter(has_text="Every text")).to_have_text(
        "Every text has its result: 1 received, 1 failed."
    )
    assert page.url == results_url and len(tab.documents) == pages_loaded  # never reloaded
    tab.check("oncall-test-live-settled", emergency=False)

    # Every text has its result: the page stops asking.
    asked = sum(url.endswith("/rows") for url in tab.requests)
    page.wait_for_timeout(4000)
    assert sum(url.endswith("/rows") for url in tab.requests) == asked
    tab.assert_clean()


class RefusesTheFamilysNumber:
    """The fake provider, except that it refuses texts to the family's number for good, as Twilio
    does for a number that is not a mobile (21614)."""

    def __init__(self, sender):
        self.sender = sender
        self.name = sender.name

    def send(self, sms):
        if sms.to == FAMILY_MOBILE:
            raise PermanentFailure(NOT_A_MOBILE, code="21614")
        return self.sender.send(sms)

    def find_sent(self, sms):
        return self.sender.find_sent(sms)


@at(OUTREACH_NURSE)
def test_a_failed_text_to_a_family_is_corrected_and_sent_again(tab, app, on_call, read):
    page = tab.page
    sms = app.extensions["tracker_sms"]
    assert FamilyForm(app.test_client()).submit().status_code == 303
    Worker(app, sender=RefusesTheFamilysNumber(sms)).run_once()
    concern = read.one(Concern)
    receipt = read.one(Message, Message.concern_id == concern.id, Message.audience == Audience.FAMILY)
    assert (receipt.send_state, receipt.error_code) == (SendState.DEAD, "21614")
    staff_warnings.forget()

    # The banner on the queue says a text did not get through and links to the list.
    sign_in(page, "primary@test.invalid")
    banner = page.locator("[data-alarm]")
    expect(banner).to_contain_text("1 alert or text did not get through and nobody has dealt with them yet.")
    banner.get_by_role("link", name="See the failed messages").click()
    page.wait_for_url("**/on-call/failed-messages")
    expect(page.get_by_role("heading", name="Failed messages", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="To deal with (1)")).to_be_visible()
    card = page.locator(f'[data-failed-message="{receipt.id}"]')
    expect(card.get_by_role("heading", level=3)).to_have_text("Receipt to the caller")
    expect(card).to_contain_text(NOT_A_MOBILE)
    expect(card.get_by_role("link", name=concern.reference)).to_have_attribute("href", f"/triage/c/{concern.reference}")
    number = card.get_by_label("Number to send it to")
    expect(number).to_have_value("07400 123456")
    tab.check("oncall-failed-messages", emergency=False)

    # Not a phone number: the summary takes focus and its link takes the clinician to the box.
    number.fill("hello")
    card.get_by_role("button", name=re.compile("^Send again")).click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    link = summary.get_by_role("link")
    expect(link).to_have_text(["Enter a valid phone number, like 07700 900123"])
    card = page.locator(f'[data-failed-message="{receipt.id}"]')
    number = card.get_by_label("Number to send it to")
    expect(card.locator(".nhsuk-error-message")).to_have_text("Error: Enter a valid phone number, like 07700 900123")
    expect(number).to_have_value("hello")  # what was typed is kept
    expect(number).to_have_attribute("aria-describedby", f"number-{receipt.id}-hint number-{receipt.id}-error")
    tab.check("oncall-failed-messages-error", emergency=False)
    link.click()
    expect(number).to_be_focused()
    assert read.count(Message, Message.resend_of_id == receipt.id) == 0

    # The right number: sent again, the list is empty and so is the banner.
    number.fill("07400 123999")
    card.get_by_role("button", name=re.compile("^Send again")).click()
    page.wait_for_url("**/on-call/failed-messages")
    expect(page.get_by_role("alert").filter(has_text="Sent again.")).to_be_visible()
    expect(page.get_by_role("heading", name="To deal with (0)")).to_be_visible()
    expect(page.get_by_text("Nothing to deal with.")).to_be_visible()
    expect(page.locator("[data-failed-message]")).to_have_count(0)
    expect(page.locator("[data-alarm]")).to_have_count(0)
    expect(page.get_by_role("table")).to_contain_text(concern.reference)  # under Dealt with
    tab.check("oncall-failed-messages-resent", emergency=False)

    Worker(app, sender=sms).run_once()
    assert sms.texts_to("+447400123999")
    assert read.one(Concern).callback_number == "+447400123999"

    # The call it belongs to opens from the list.
    page.get_by_role("table").get_by_role("link", name=concern.reference).click()
    page.wait_for_url(f"**/triage/c/{concern.reference}")
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_a_manager_adds_cover_and_reads_the_policy(tab, app, on_call, read):
    page = tab.page
    sign_in(page, MANAGER, totp=True)
    open_from_header(page, "On call")
    page.wait_for_url("**/on-call/")
    page.get_by_role("link", name=f"Rota for {TEAM}").click()
    page.wait_for_url("**/on-call/gen-ccot/rota")
    # The forms are below the week's rota: a link at the top goes straight to them.
    page.get_by_role("link", name="Add cover, a swap or an extra person").click()
    form = page.get_by_role("region", name="Add cover, a swap or an extra person")
    expect(form.get_by_role("heading")).to_be_in_viewport()

    with app.app_context():
        tomorrow = local(utcnow(), current_settings().timezone).date() + timedelta(days=1)
    form.get_by_role("group", name="Tier").get_by_label("Secondary").check()
    form.get_by_label("Extra: on call alongside them").check()
    form.get_by_label("Person").select_option(label=NAMES["lead"])
    form.get_by_label("Start date").fill(tomorrow.isoformat())
    form.get_by_label("Start time").fill("25:00")
    form.get_by_label("End date").fill((tomorrow + timedelta(days=1)).isoformat())
    form.get_by_label("End time").fill("08:00")
    form.get_by_role("button", name="Add shift").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(summary.get_by_role("link")).to_have_text(["Enter the start time as a 24-hour time, like 08:00 or 20:00"])
    form = page.get_by_role("region", name="Add cover, a swap or an extra person")
    start = form.get_by_label("Start time")
    expect(start).to_have_value("25:00")
    expect(start).to_have_class(re.compile("nhsuk-input--error"))
    expect(form.get_by_label("Extra: on call alongside them")).to_be_checked()  # the rest is kept
    expect(form.get_by_role("group", name="Tier").get_by_label("Secondary")).to_be_checked()
    expect(form.get_by_label("Person").locator("option:checked")).to_have_text(NAMES["lead"])
    tab.check("oncall-rota-error", emergency=False)
    summary.get_by_role("link").click()
    expect(start).to_be_focused()

    start.fill("20:00")
    form.get_by_role("button", name="Add shift").click()
    page.wait_for_url("**/on-call/gen-ccot/rota")
    expect(page.get_by_role("alert").filter(has_text="Shift added to the rota.")).to_be_visible()
    cover = page.get_by_role("table", name="One-off shifts, soonest first")
    expect(cover.get_by_role("row").filter(has_text=NAMES["lead"])).to_contain_text("Extra person")
    expect(cover).to_contain_text("Secondary")
    day = page.get_by_role("table", name=f"On call on {tomorrow:%A %-d %B}")
    expect(day.get_by_role("row").filter(has_text="extra person")).to_contain_text(NAMES["lead"])
    tab.check("oncall-rota-manager", emergency=False)

    # The policy, which the manager may change.
    page.goto("/on-call/gen-ccot/policy")
    expect(page.get_by_role("heading", name="Escalation policy", exact=True)).to_be_visible()
    expect(page.locator("form > fieldset")).not_to_have_attribute("disabled", "")
    expect(page.get_by_role("checkbox").first).to_be_enabled()
    expect(page.get_by_label("Fallback", exact=True)).to_have_value("Site manager")
    tab.check("oncall-policy", emergency=False)
    page.get_by_label("Fallback", exact=True).fill("Hospital at night")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("alert").filter(has_text="Escalation policy saved.")).to_be_visible()
    expect(page.get_by_label("Fallback", exact=True)).to_have_value("Hospital at night")
    tab.assert_clean()
