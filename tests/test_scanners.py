"""The scanners' fixtures stay honest (docs/architecture.md#security): every route that signs out,
deactivates, resets, changes settings or purges is kept from the dynamic scanners, and the reviewed list
of findings is read as scan/check_findings.py reads it."""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESTRUCTIVE = re.compile(
    r"sign-out|deactivate|reactivate|reset|revoke|retire|retention|purge|settings|policy|rota/|mfa|password"
    r"|break-glass|trust-account|sign-on-outage|implementation"
)


def _check_findings():
    """scan/ is scripts, not a package: load the checker from its file (dataclasses need it in sys.modules)."""
    if "scan_check_findings" not in sys.modules:
        spec = importlib.util.spec_from_file_location("scan_check_findings", ROOT / "scan" / "check_findings.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["scan_check_findings"] = module
        spec.loader.exec_module(module)
    return sys.modules["scan_check_findings"]


def test_every_route_that_signs_out_deactivates_resets_changes_settings_or_purges_is_excluded(app):
    patterns = [
        line.strip()
        for line in (ROOT / "scan" / "exclude-urls.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # a concrete URL for each rule: every <converter:variable> becomes a plausible value
    paths = {re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule) for rule in app.url_map.iter_rules()}
    destructive = sorted(path for path in paths if DESTRUCTIVE.search(path))
    assert destructive, "the pattern matches no route: it has gone stale"
    reachable = [path for path in destructive if not any(fnmatch.fnmatch(path, p) for p in patterns)]
    assert reachable == []


def test_the_reviewed_findings_each_have_a_reason_and_match_what_they_review():
    checker = _check_findings()
    entries = checker.reviewed()
    assert {e.tool for e in entries} >= {"bandit", "semgrep", "wapiti"}
    assert all(len(e.reason) > 20 for e in entries)
    finding = checker.Finding("semgrep", "jinja-safe-filter", "templates/auth/mfa.html", "{{ qr | safe }}")
    assert any(e.matches(finding) for e in entries)  # `\|` in the table stands for `|`


def test_an_unreviewed_or_high_severity_finding_fails_and_a_stale_entry_fails(capsys):
    checker = _check_findings()
    entry = checker.Entry("bandit", "B101", "tracker/x.py", "assert", "type narrowing, checked above")
    reviewed = checker.Finding("bandit", "B101", "tracker/x.py", "assert x is not None", "LOW")
    assert checker.judge([reviewed], [entry], stale_fails=True) == 0
    assert checker.judge([dataclasses.replace(reviewed, severity="HIGH")], [entry], stale_fails=True) == 1
    assert checker.judge([checker.Finding("bandit", "B602", "tracker/x.py", "shell=True")], [], stale_fails=True) == 1
    assert checker.judge([], [entry], stale_fails=True) == 1
    assert "STALE" in capsys.readouterr().out


def test_sqlmap_hits_are_findings():
    checker = _check_findings()
    log = "[12:00:01] [INFO] POST parameter 'note' is vulnerable. Do you want to keep testing the others?"
    assert len(checker.sqlmap_findings(log)) == 1
    clean = "[12:00:01] [ERROR] all tested parameters do not appear to be injectable."
    assert checker.sqlmap_findings(clean) == []
