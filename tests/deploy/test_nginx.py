"""The app behind deploy/nginx/tracker.conf, as production runs it (deploy/README.md#nginx; HAZ-095).

nginx runs on loopback without root, from the site template rendered with this test's ports and a throwaway
certificate (deploy/nginx_site.py), in front of the app (PROXY_HOPS=1) served by Werkzeug in a thread: a signed
Twilio webhook validates through it, the app knows it was reached over HTTPS, a staff member signs in, client-made
forwarding headers are ignored, plain HTTP redirects, and nginx serves the static files with their types."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import jsonify, request, url_for
from twilio.request_validator import RequestValidator

from tests.conftest import create_staff, hidden_fields, live_server, make_config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
from nginx_site import render, standalone  # noqa: E402  (deploy/ is scripts, not a package)

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(
    not (NGINX and OPENSSL),
    reason="nginx (or openssl) not found: the tests through nginx are skipped (apt-get install nginx; CI installs it)",
)
HOST = "localhost"


@dataclass
class Proxied:
    public: str  # PUBLIC_BASE_URL: https through nginx
    plain: str  # nginx's plain-HTTP port
    upstream: str  # the app itself, behind nginx
    certificate: Path
    app: object

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(
            self.public + path, verify=str(self.certificate), allow_redirects=False, timeout=10, **kwargs
        )

    def post(self, path: str, session: requests.Session | None = None, **kwargs) -> requests.Response:
        sender = session or requests
        return sender.post(
            self.public + path, verify=str(self.certificate), allow_redirects=False, timeout=10, **kwargs
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx stopped (exit {process.returncode}):\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}:\n{log.read_text(errors='replace')}")


def self_signed(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
        ]
        + ["-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key


def with_probe(app):
    """A page that says what the app sees of a request: only this test's app has it."""

    @app.get("/_proxy_probe")
    def proxy_probe():
        return jsonify(
            scheme=request.scheme,
            secure=request.is_secure,
            host=request.host,
            address=request.remote_addr,
            link=url_for("auth.sign_in", _external=True),
        )

    return app


@pytest.fixture
def proxied(build_app, database_url, tmp_path) -> Iterator[Proxied]:
    https_port, http_port = free_port(), free_port()
    public = f"https://{HOST}:{https_port}"
    app = with_probe(
        build_app(
            make_config(
                database_url,
                PROXY_HOPS=1,
                PUBLIC_BASE_URL=public,
                TRUSTED_HOSTS=[HOST],
                SESSION_COOKIE_NAME="__Host-session",
                SESSION_COOKIE_SECURE=True,
                HSTS=True,
            )
        )
    )
    certificate, key = self_signed(tmp_path)
    with live_server(app) as upstream:
        site = tmp_path / "site.conf"
        site.write_text(
            render(
                server_name=HOST,
                certificate=str(certificate),
                certificate_key=str(key),
                upstream=upstream.removeprefix("http://"),
                static_root=str(ROOT / "tracker" / "static"),
                https_listen=f"127.0.0.1:{https_port}",
                http_listen=f"127.0.0.1:{http_port}",
            )
        )
        (tmp_path / "nginx.conf").write_text(standalone(site, tmp_path))
        log = tmp_path / "error.log"
        arguments = [NGINX, "-p", str(tmp_path), "-e", str(log), "-c", str(tmp_path / "nginx.conf")]
        nginx = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(https_port, nginx, log)
            wait_until_listening(http_port, nginx, log)
            yield Proxied(public, f"http://127.0.0.1:{http_port}", upstream, certificate, app)
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)


def signed(url: str, params: dict, token: str) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def test_a_signed_twilio_webhook_validates_through_nginx(proxied):
    token = proxied.app.config["TWILIO_AUTH_TOKEN"]
    path = "/webhooks/twilio/status?m=424242"
    report = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered", "To": "+447400123456"}

    # Twilio signs the public https address it called, query and all; nginx passes it on unchanged.
    accepted = proxied.post(path, data=report, headers=signed(proxied.public + path, report, token))
    assert accepted.status_code == 204, accepted.text

    # The signature is really checked behind nginx: signed over another address, it is refused.
    wrong = signed(proxied.upstream + path, report, token)
    assert proxied.post(path, data=report, headers=wrong).status_code == 403
    assert proxied.post(path, data=report).status_code == 403


def test_the_app_knows_it_was_reached_over_https_and_ignores_forwarding_headers_a_client_made_up(proxied):
    seen = proxied.get(
        "/_proxy_probe",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"},
    ).json()
    assert seen == {
        "scheme": "https",
        "secure": True,
        "host": f"{HOST}:{proxied.public.rsplit(':', 1)[1]}",
        "address": "127.0.0.1",
        "link": proxied.public + "/auth/sign-in",
    }
    # The same app reached directly, without nginx, is plain HTTP: the scheme came from nginx.
    direct = requests.get(proxied.upstream + "/_proxy_probe", headers={"Host": HOST}, timeout=10)
    assert direct.json()["scheme"] == "http"


def test_a_clinician_signs_in_through_nginx_with_https_only_cookies(app, proxied):
    _user_id, password = create_staff(app, "outreach", email="nurse@test.invalid")
    browser = requests.Session()
    page = browser.get(proxied.public + "/auth/sign-in", verify=str(proxied.certificate), timeout=10)
    assert page.status_code == 200
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    form = {**hidden_fields(page.text), "email": "nurse@test.invalid", "password": password}

    # On HTTPS the CSRF check also wants the form's own page as the Referer: the app applies HTTPS's rules.
    assert proxied.post("/auth/sign-in", browser, data=form).status_code == 400
    signed_in = proxied.post("/auth/sign-in", browser, data=form, headers={"Referer": page.url})
    assert signed_in.status_code == 302, signed_in.text
    session = next(c for c in signed_in.raw.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    assert "Secure" in session and "HttpOnly" in session


def test_plain_http_only_redirects_to_the_public_address(proxied):
    moved = requests.get(proxied.plain + "/w/ngh-7b?lang=cy", headers={"Host": HOST}, allow_redirects=False, timeout=10)
    assert moved.status_code == 301
    assert moved.headers["Location"] == proxied.public + "/w/ngh-7b?lang=cy"
    form = requests.post(proxied.plain + "/w/ngh-7b", data={"worry": "x"}, allow_redirects=False, timeout=10)
    assert form.status_code == 301  # never proxied: nothing is sent on unencrypted


def test_nginx_serves_the_static_files_with_their_types_and_refuses_what_the_app_would(proxied):
    script = proxied.get("/assets/app/tracker.mjs")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")  # a module script needs it
    assert script.headers["Cache-Control"] == "no-cache"
    assert "Server" not in script.headers or "nginx/" not in script.headers["Server"]
    version = (ROOT / "tracker" / "static" / "NHSUK_FRONTEND_VERSION").read_text().strip()
    frozen = proxied.get(f"/assets/nhsuk-frontend-{version}.min.css")
    assert frozen.status_code == 200 and frozen.headers["Content-Type"].startswith("text/css")
    assert "immutable" in frozen.headers["Cache-Control"]
    assert proxied.get("/assets/../config.py").status_code in (400, 404)
    assert proxied.get("/assets/app/").status_code in (403, 404)  # no folder listing

    too_big = proxied.post("/w/ngh-7b", data={"worry": "x" * (proxied.app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert too_big.status_code == 413
