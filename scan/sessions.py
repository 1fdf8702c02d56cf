"""Signed-in sessions for the dynamic scanners, one per role (scan/run-dynamic).

`prepare` (inside the app, on the scan's own demo database): gives the four demo accounts a known
password and, for all four, an authenticator secret, as if each had finished setting up their account.
`sign-in ROLE BASE_URL OUT_DIR`: signs in through the real sign-in form (password, then the six-digit
code computed with pyotp), then writes the session cookie as wapiti's cookie file and as a `Cookie:`
header for sqlmap. Runs with the app's own virtual environment. See docs/architecture.md#security.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROLES = {
    "ward_staff": "ward7b@demo-hospitals.invalid",
    "outreach": "outreach@demo-hospitals.invalid",
    "manager": "manager@demo-hospitals.invalid",
    "admin": "admin@demo-hospitals.invalid",
}
# Throwaway: the scan's database lives in a temporary directory and is deleted afterwards.
PASSWORD = "scan-only correct horse battery staple"  # noqa: S105
SECRETS_FILE = "totp-secrets.json"


def prepare(out_dir: Path) -> None:
    import pyotp

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import User
    from tracker.services.people.passwords import hash_password

    app = create_app()
    secrets = {}
    with app.app_context():
        for role, email in ROLES.items():
            user = db.session.query(User).filter_by(email=email).one()
            user.password_hash = hash_password(PASSWORD)
            user.must_change_password = False
            user.totp_secret = secrets[role] = pyotp.random_base32()
            user.totp_last_step = None
            user.must_enrol_mfa = False
        db.session.commit()
        _raise_calls()
    (out_dir / SECRETS_FILE).write_text(json.dumps(secrets))


def _raise_calls() -> None:
    """Three open calls on Ward 7B, so the staff scans find a call's page and its forms."""
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import CallerRoute, Channel, Ward
    from tracker.services.concerns.intake import Intake, Source, raise_concern
    from tracker.services.records import audit

    for n in range(3):
        with write_intent():
            ward = db.session.query(Ward).filter_by(code="ngh-7b").one()
            intake = Intake(
                ward_id=ward.id,
                submission_id=f"scan-call-{n:014d}",
                caller_route=CallerRoute.FAMILY,
                channel=Channel.OWN_DEVICE,
                worry_categories=("breathing",),
                worry_details=f"Breathing fast (scan call {n})",
                patient_name="Pat Scan",
            )
            raise_concern(intake, Source(device_id=f"scan-{n}", address="127.0.0.1"), audit.Actor.public())
            db.session.commit()


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not found:
        raise SystemExit("no CSRF token on the sign-in page")
    return found.group(1)


def sign_in(role: str, base: str, out_dir: Path) -> None:
    import pyotp

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, fields: dict[str, str]) -> str:
        page = opener.open(base + path, timeout=30).read().decode()
        body = urllib.parse.urlencode({"csrf_token": _token(page), **fields}).encode()
        with opener.open(base + path, data=body, timeout=30) as response:
            return response.geturl()

    landed = post("/auth/sign-in", {"email": ROLES[role], "password": PASSWORD})
    if landed.endswith("/auth/sign-in/code"):
        secret = json.loads((out_dir / SECRETS_FILE).read_text())[role]
        landed = post("/auth/sign-in/code", {"code": pyotp.TOTP(secret).now()})
    if "/auth/" in landed:
        raise SystemExit(f"{role}: signing in ended at {landed}, not the role's home page")
    cookies = {c.name: c.value for c in jar}
    host = urllib.parse.urlsplit(base).hostname or "127.0.0.1"
    # wapiti's cookie file: {domain: {path: {name: {"value": ..., "version": 0, ...}}}}
    wapiti = {
        host: {
            "/": {
                n: {"value": v, "version": 0, "secure": False, "expires": None, "port": None}
                for n, v in cookies.items()
            }
        }
    }
    (out_dir / f"cookies-{role}.json").write_text(json.dumps(wapiti))
    (out_dir / f"cookie-header-{role}.txt").write_text("; ".join(f"{n}={v}" for n, v in cookies.items()))
    print(f"{role}: signed in, landed on {urllib.parse.urlsplit(landed).path}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "prepare":
        prepare(Path(args[0]))
    elif command == "sign-in":
        sign_in(args[0], args[1].rstrip("/"), Path(args[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")
