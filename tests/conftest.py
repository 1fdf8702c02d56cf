"""Shared fixtures. The schema is built by running the migrations once per session; tables are
emptied before each test. Set TEST_DATABASE_URL to run everything on PostgreSQL."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from config import TestingConfig
from tracker import create_app
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Base, Population, User
from tracker.services.concerns import abuse
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import sessions
from tracker.services.phone import parse_phone
from tracker.services.records import audit
from tracker.services.reports import improvement_data, remembered
from tracker.services.setup import hospital
from tracker.services.setup.settings import forget_settings
from tracker.services.setup.trust_words import forget_words
from tracker.services.setup.wards import forget_wards

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists() or bool(shutil.which(CHROMIUM))
# CI's browser step sets this, so a missing Chromium fails there instead of skipping.
REQUIRE_BROWSER = os.environ.get("TRACKER_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Valid UK mobiles for fixtures (Ofcom's 07700 900xxx drama range is not valid to phonenumbers).
FAMILY_MOBILE = "+447400123456"
DUTY_MOBILE = "+447400900101"
TEAM_LANDLINE = "+442079460101"
# `flask tracker setup-trust` with the test trust's required settings: tests add the options they are about.
SETUP_TRUST = [
    "tracker",
    "setup-trust",
    "--name",
    "Test Hospitals NHS Trust",
    "--emergency-instruction",
    "Press the red buzzer or ask any nurse now. Call 2222.",
    "--outreach-phone",
    "020 7946 0100",
]

SKIP_POSTGRES = (
    "PostgreSQL-only test skipped: TEST_DATABASE_URL is not set (point it at a PostgreSQL database to run it)"
)
SKIP_BROWSER = f"browser test skipped: Chromium not found at {CHROMIUM} (apt-get install chromium fonts-liberation)"


def pytest_report_header(config):
    database = (
        "PostgreSQL (TEST_DATABASE_URL)"
        if ON_POSTGRES
        else "SQLite (TEST_DATABASE_URL not set: PostgreSQL-only tests will be skipped)"
    )
    browser = (
        f"Chromium at {CHROMIUM}" if HAVE_CHROMIUM else f"no Chromium at {CHROMIUM}: browser tests will be skipped"
    )
    return [f"database: {database}", f"browser: {browser}"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason=SKIP_POSTGRES))
        if "browser" in item.keywords and not HAVE_CHROMIUM and not REQUIRE_BROWSER:
            item.add_marker(pytest.mark.skip(reason=SKIP_BROWSER))


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("tests skipped, and why")
        for reason, count in sorted(reasons.items()):
            terminalreporter.line(f"{count:4d} skipped: {reason}")


# --- no network -----------------------------------------------------------------------------

_real_connect = socket.socket.connect


def _guarded_connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Any test that reaches beyond loopback fails (docs/architecture.md#style)."""
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


# --- the app and its database -----------------------------------------------------------------


def make_config(url: str, **overrides) -> type[TestingConfig]:
    return type("TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if ON_POSTGRES:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tracker-test.db'}"


def close_pools(app) -> None:
    """Closes an app's pooled connections. One left for the garbage collector is a ResourceWarning (an
    error here) that fails whichever test happens to be running when it is collected."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade()
    yield app
    close_pools(app)


@pytest.fixture
def build_app():
    """Builds apps beside the session's shared one (another configuration, a database of their own) and
    closes their connections when the test ends."""
    built = []

    def build(config):
        built.append(create_app(config))
        return built[-1]

    yield build
    for other in built:
        close_pools(other)


def empty_tables(app) -> None:
    with app.app_context(), write_intent():
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                db.session.execute(text(f"DELETE FROM {name}"))
        db.session.execute(
            text("INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64}
        )
        db.session.commit()


@pytest.fixture(autouse=True)
def clean(request):
    """Empty every table and forget rate-limit counts before each test that uses the app."""
    if "app" not in request.fixturenames and "database_url" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    empty_tables(app)
    with app.app_context():
        abuse.reset_counts()
        forget_settings()
        forget_words()
        forget_wards()
        staff_warnings.forget()
        improvement_data.forget()  # months remembered from another test's database
        remembered.forget()  # the improvement charts worked out and drawn (to count the work done)
    sms = app.extensions["tracker_sms"]
    sms.__init__()
    yield


@pytest.fixture
def ctx(app):
    """An app context whose session may write (as the worker and CLI do)."""
    with app.app_context(), write_intent():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sms(app):
    """The fake SMS backend: what the worker sent, and failures to inject."""
    return app.extensions["tracker_sms"]


class Reader:
    """Reads the database in a fresh session each time, as a separate request would."""

    def __init__(self, app):
        self.app = app

    @contextmanager
    def session(self):
        with self.app.app_context():
            yield db.session
            db.session.rollback()

    def count(self, model, *where) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))

    def all(self, model, *where, order_by=None) -> list:
        with self.session() as session:
            rows = session.scalars(
                select(model)
                .where(*where)
                .order_by(order_by if order_by is not None else model.__mapper__.primary_key[0])
            ).all()
            session.expunge_all()
            return rows

    def one(self, model, *where):
        rows = self.all(model, *where)
        assert len(rows) == 1, f"expected one {model.__name__}, found {len(rows)}"
        return rows[0]


@pytest.fixture
def read(app) -> Reader:
    return Reader(app)


# --- a small trust -----------------------------------------------------------------------------


def build_trust(*, text_relatives_allowed: bool = True, duty_phone: str | None = DUTY_MOBILE) -> dict:
    """Settings, one site, an adult team, two wards (one with beds) and a retired ward.
    Call inside an app context with write intent; commits."""
    actor = audit.Actor.cli()
    settings = hospital.save_settings(
        actor,
        trust_name="Test Hospitals NHS Trust",
        emergency_instruction="Press the red buzzer or ask any nurse now. Call 2222.",
        outreach_phone="020 7946 0100",
        pals_phone="020 7946 0199",
        text_relatives_allowed=text_relatives_allowed,
    )
    site = hospital.add_site(actor, code="gen", name="General Hospital")
    team = hospital.add_team(
        actor,
        code="gen-ccot",
        site=site,
        name="Outreach Team",
        population=Population.ADULT,
        public_phone=TEAM_LANDLINE,
        duty_phone=duty_phone,
    )
    ward = hospital.add_ward(actor, code="w7", name="Ward 7", site=site, team=team, population=Population.ADULT)
    beds = hospital.add_ward(
        actor, code="w8", name="Ward 8", site=site, team=team, population=Population.ADULT, beds=["Bay 1", "Bay 2"]
    )
    old = hospital.add_ward(actor, code="w-old", name="Old Ward", site=site, team=team, population=Population.ADULT)
    hospital.retire_ward(actor, old, successor=ward)
    db.session.commit()
    return {"settings": settings, "site": site, "team": team, "ward": ward, "beds_ward": beds, "retired": old}


def build_site_with_team(code: str, name: str, *, team_name: str, public_phone: str, duty_phone: str | None):
    """A site with an adult outreach team ("<code>-ccot"). Call inside an app context with write intent; returns
    the team (not committed)."""
    actor = audit.Actor.cli()
    site = hospital.add_site(actor, code=code, name=name)
    return hospital.add_team(
        actor,
        code=f"{code}-ccot",
        site=site,
        name=team_name,
        population=Population.ADULT,
        public_phone=public_phone,
        duty_phone=duty_phone,
    )


def build_other_site(duty_phone: str | None = None):
    """A second site ("other") with an adult team ("other-ccot") and a ward ("ow1"): what a person of the test
    trust's site must not reach. Call inside an app context with write intent; returns the ward (not committed)."""
    team = build_site_with_team(
        "other", "Other Hospital", team_name="Other Team", public_phone="020 7946 0555", duty_phone=duty_phone
    )
    return hospital.add_ward(
        audit.Actor.cli(), code="ow1", name="Other Ward", site=team.site, team=team, population=Population.ADULT
    )


@pytest.fixture
def trust(app):
    """Ids of a small trust (see build_trust)."""
    with app.app_context(), write_intent():
        built = build_trust()
        return {name: obj.id for name, obj in built.items()}


# --- the family's form ---------------------------------------------------------------------------

HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|submission_id)" value="([^"]*)"')


def hidden_fields(html: str) -> dict:
    return dict(HIDDEN.findall(html))


def valid_answers(**overrides) -> dict:
    answers = {
        "caller_route": "family_carer_advocate",
        "caller_name": "Sam Jones",
        "caller_relationship": "daughter",
        "patient_name": "Pat Jones",
        "worry_categories": ["breathing", "sleepy_or_confused"],
        "worry_details": "Mum is breathing fast and is not making sense.",
        "spoke_to_ward": "yes",
        "ward_response": "They said the doctor would come later.",
        "callback_number": "07400 123456",
        "sms_consent": "y",
        "preferred_language": "",
        "interpreter_needed": "no",
        "communication_needs": "",
    }
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}


class FamilyForm:
    """Drives the public form through the test client like a browser would."""

    def __init__(self, client, code: str = "w7"):
        self.client = client
        self.code = code

    def open(self, query: str = ""):
        response = self.client.get(f"/w/{self.code}{query}")
        assert response.status_code == 200, response.status_code
        return hidden_fields(response.get_data(as_text=True))

    def submit(self, hidden: dict | None = None, **answers):
        hidden = hidden if hidden is not None else self.open()
        return self.client.post(f"/w/{self.code}", data={**hidden, **valid_answers(**answers)})


@pytest.fixture
def family(client, trust) -> FamilyForm:
    return FamilyForm(client)


def mobile(number: str = FAMILY_MOBILE):
    return parse_phone(number)


# --- a live server for browser and concurrency tests ---------------------------------------------


class ClosedWhenSent:
    """Closes each response as soon as its body has been sent. Werkzeug's development server closes it
    only after draining the request's socket, and a browser that resets the connection (leaving a page
    while its icon loads) makes that drain raise first: a static file's handle was left for the garbage
    collector, a ResourceWarning that failed whichever test was running when it was collected."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()


@contextmanager
def live_server(app):
    server = make_server("127.0.0.1", 0, ClosedWhenSent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


# --- staff -------------------------------------------------------------------------------------


def create_staff(
    app,
    role: str,
    *,
    email: str | None = None,
    team_ids=(),
    ward_id=None,
    site_id=None,
    must_change_password: bool = False,
    totp_secret: str | None = None,
    active: bool = True,
):
    """A staff account; returns (user id, password)."""
    from tracker.models import Role, Team, User
    from tracker.services.people.passwords import hash_password

    password = "correct horse battery staple"
    with app.app_context(), write_intent():
        user = User(
            email=email or f"{role}-{os.urandom(3).hex()}@test.invalid",
            display_name=f"Test {role}",
            role=Role(role),
            password_hash=hash_password(password),
            must_change_password=must_change_password,
            ward_id=ward_id,
            site_id=site_id,
            totp_secret=totp_secret,
            active=active,
            teams=[db.session.get(Team, t) for t in team_ids],
        )
        db.session.add(user)
        db.session.commit()
        return user.id, password


def sign_in_directly(app, client, user_id: int) -> str:
    """Start a server-side session for the user and give the client its cookie (no password)."""
    from tracker.models import User

    with app.app_context(), write_intent():
        token, _record = sessions.start_session(db.session.get(User, user_id), user_agent="pytest", address="127.0.0.1")
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return token


@pytest.fixture
def login_as(app, client, trust):
    """login_as("outreach") signs the test client in as a new user of that role in the test trust's
    team, ward or site, and returns the user's id."""

    def login(role: str = "outreach", **kwargs) -> int:
        if role == "display":
            return enrol_display(app, client, trust)
        if role == "tablet":
            return enrol_tablet(app, client, trust)
        scope = {
            "outreach": {"team_ids": [trust["team"]]},
            "ward_staff": {"ward_id": trust["ward"]},
            "manager": {"site_id": trust["site"]},
            "admin": {},
        }[role]
        if role in ("manager", "admin"):
            scope["totp_secret"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        user_id, _password = create_staff(app, role, **{**scope, **kwargs})
        sign_in_directly(app, client, user_id)
        return user_id

    return login


def enrol_display(app, client, trust, label: str = "Outreach office screen") -> int:
    """Make the test client the test team's enrolled queue display (as a manager's one-time link would) and
    return the device's id."""
    from tracker.services.setup import devices

    manager_id, _ = create_staff(app, "manager", site_id=trust["site"], totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    with app.app_context(), write_intent():
        manager = db.session.get_one(User, manager_id)
        link = devices.create_display(manager, trust["team"], label)
        device, secret = devices.enrol(link.token, "127.0.0.1")
        db.session.commit()
    client.set_cookie(app.config["ENROLMENT_COOKIE_NAME"], secret)
    return device.id


def enrol_tablet(app, client, trust, ward: str = "ward", label: str = "Bay 2 tablet") -> int:
    """Make the test client an enrolled tablet of the test trust's ward 7 (as a manager's one-time link would)
    and return the device's id."""
    from tracker.services.records import audit
    from tracker.services.setup import devices, tablets

    with app.app_context(), write_intent():
        link = tablets.create_tablet(None, trust[ward], label, audit.Actor.cli())
        device, secret = devices.enrol(link.token, "127.0.0.1")
        db.session.commit()
    client.set_cookie(app.config["ENROLMENT_COOKIE_NAME"], secret)
    return device.id


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new, empty database of the kind under test (for tests that run the migrations themselves)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = make_url(TEST_DATABASE_URL)
    name = f"tracker_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
