"""deploy/ stays in step with the app (deploy/README.md): the nginx site's limits and types match what the app
accepts and serves, the systemd units run the commands that exist with the hardening they promise, and the
site template refuses a value that would change its meaning. No nginx or systemd needed."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

import pytest

from config import Config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = (DEPLOY / "nginx" / "tracker.conf").read_text()
sys.path.insert(0, str(DEPLOY))
from nginx_site import render  # noqa: E402  (deploy/ is scripts, not a package)

UNITS = ("tracker-web.service", "tracker-worker.service")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  (systemd's keys are case-sensitive)
    parser.read_string((DEPLOY / "systemd" / name).read_text().replace("\\\n", " "))
    return parser


def seconds(directive: str) -> int:
    return int(re.search(rf"^\s*{directive} (\d+)s;", SITE, flags=re.M).group(1))


def test_nginx_refuses_exactly_what_the_app_would_refuse_as_too_big():
    size = re.search(r"client_max_body_size (\d+)k;", SITE).group(1)
    assert int(size) * 1024 == Config.MAX_CONTENT_LENGTH


def test_nginx_waits_longer_for_an_answer_than_gunicorn_lets_a_request_run():
    gunicorn = unit("tracker-web.service")["Service"]["ExecStart"]
    timeout = int(re.search(r"--timeout (\d+)", gunicorn).group(1))
    assert seconds("proxy_read_timeout") > timeout
    serve = (ROOT / "tracker" / "cli" / "processes.py").read_text()  # `flask tracker serve` runs gunicorn too
    assert re.search(rf'"--timeout",\s*"{timeout}"', serve)


def test_nginx_serves_every_kind_of_static_file_with_a_type():
    assets = SITE.split("location /assets/ {", 1)[1].split("}", 2)[0]
    typed = set(
        re.findall(r"\b([a-z0-9]+)\b", " ".join(line.split(None, 1)[1] for line in assets.strip().splitlines()))
    )
    kinds = {path.suffix.lstrip(".") for path in (ROOT / "tracker" / "static").rglob("*.*")}
    assert kinds - typed == set()


@pytest.mark.parametrize("name", UNITS)
def test_each_service_restarts_runs_as_its_own_user_and_is_confined(name):
    service = unit(name)["Service"]
    assert service["Restart"] == "always"
    assert service["User"] == service["Group"] == "tracker"
    assert service["EnvironmentFile"] == "/etc/tracker/tracker.env"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/tracker"
    assert service["CapabilityBoundingSet"] == ""


def test_the_services_run_the_app_and_the_worker_as_the_readme_says():
    web = unit("tracker-web.service")["Service"]["ExecStart"]
    assert "--bind 127.0.0.1:8000" in web and web.endswith("wsgi:app")
    assert "server 127.0.0.1:8000;" in render(server_name="t.example", certificate="/c", certificate_key="/k")
    assert unit("tracker-worker.service")["Service"]["ExecStart"].endswith("flask --app wsgi tracker worker")


@pytest.mark.parametrize("value", ["tracker.example; include /etc/passwd", "a b", "x{", "$host", "/path#"])
def test_the_site_template_refuses_a_value_that_would_change_its_meaning(value):
    with pytest.raises(ValueError):
        render(server_name=value, certificate="/c", certificate_key="/k")


def test_plain_http_redirects_to_the_public_address_with_its_port():
    site = render(server_name="t.example", certificate="/c", certificate_key="/k", https_listen="127.0.0.1:8443")
    assert "return 301 https://t.example:8443$request_uri;" in site
    assert "return 301 https://t.example$request_uri;" in render(
        server_name="t.example", certificate="/c", certificate_key="/k"
    )
