"""Signed copies of the standard monthly report (services/reports/report_signing.py) and their commands: the key
made once with mode 0600, never overwritten; a signed report verifies with its key, and is refused in plain words
when changed, signed with another key, not a report at all, or checked against a damaged key file."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from tracker.services.reports import report_signing as signing

REPORT = {
    "resourceType": "MeasureReport",
    "status": "complete",
    "subject": {"type": "Location", "identifier": {"system": "urn:x", "value": "gen"}, "display": "Général Hôpital"},
    "period": {"start": "2025-10-01", "end": "2025-10-31"},
    "group": [{"population": [{"count": 12}]}],
}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


@pytest.fixture
def keys(app, tmp_path):
    private = tmp_path / "report-key.pem"
    result = run(app, "create-report-key", str(private))
    assert result.exit_code == 0, result.output
    public = tmp_path / "public.pem"
    public.write_text(result.output[result.output.index("-----BEGIN PUBLIC KEY") :])
    return private, public


def test_the_key_is_made_readable_by_its_owner_only_and_never_overwritten(app, keys):
    private, _public = keys
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    before = private.read_bytes()
    again = run(app, "create-report-key", str(private))
    assert again.exit_code != 0 and "never overwritten" in again.output
    assert private.read_bytes() == before


def test_the_canonical_form_is_sorted_compact_utf8():
    assert (
        signing.canonical({"b": 1, "a": ["é", {"d": True, "c": None}]})
        == '{"a":["é",{"c":null,"d":true}],"b":1}'.encode()
    )


def _signed(private, tmp_path, report=REPORT, name="signed.json"):
    envelope = signing.sign(report, signing.load_private_key(str(private)))
    path = tmp_path / name
    path.write_text(json.dumps(envelope, indent=2, ensure_ascii=False), encoding="utf-8")
    return path, envelope


def test_a_signed_report_verifies_with_its_public_key(app, keys, tmp_path):
    private, public = keys
    path, envelope = _signed(private, tmp_path)
    result = run(app, "verify-report", str(path), str(public))
    assert result.exit_code == 0, result.output
    assert "Verified: the monthly report for site gen, 2025-10" in result.output
    assert envelope["algorithm"] == "Ed25519" and len(base64.b64decode(envelope["signature"])) == 64


def _tamper(path, change):
    envelope = json.loads(path.read_text(encoding="utf-8"))
    change(envelope)
    path.write_text(json.dumps(envelope), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda e: e["report"]["group"][0]["population"][0].update(count=13), "changed since it was signed"),
        (lambda e: e["report"].update(status="pending"), "changed since it was signed"),
        (lambda e: e.update(signature="not base64!"), "signature is damaged"),
        (lambda e: e.update(signature=base64.b64encode(b"x" * 64).decode()), "changed since it was signed"),
        (lambda e: e.update(key="0000"), "different key"),
        (lambda e: e.pop("report"), "not a signed report"),
    ],
)
def test_a_changed_report_is_not_verified(app, keys, tmp_path, change, words):
    private, public = keys
    path, _ = _signed(private, tmp_path)
    _tamper(path, change)
    result = run(app, "verify-report", str(path), str(public))
    assert result.exit_code == 1 and "NOT VERIFIED" in result.output and words in result.output
    assert "Traceback" not in result.output


def test_another_keys_report_is_not_verified(app, keys, tmp_path):
    _private, public = keys
    other = tmp_path / "other.pem"
    assert run(app, "create-report-key", str(other)).exit_code == 0
    path, _ = _signed(other, tmp_path)
    result = run(app, "verify-report", str(path), str(public))
    assert result.exit_code == 1 and "different key" in result.output


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"this is not json", "not JSON"),
        (b'{"resourceType": "MeasureReport"}', "not a signed report"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_file_that_is_not_a_signed_report_is_refused_plainly(app, keys, tmp_path, content, words):
    _private, public = keys
    path = tmp_path / "report.json"
    path.write_bytes(content)
    result = run(app, "verify-report", str(path), str(public))
    assert result.exit_code == 1 and words in result.output


def test_a_damaged_or_missing_public_key_is_refused_plainly(app, keys, tmp_path):
    private, public = keys
    path, _ = _signed(private, tmp_path)
    damaged = tmp_path / "damaged.pem"
    damaged.write_text(public.read_text().replace("A", "B", 3)[:60])
    for key_path, words in ((damaged, "public key file is damaged"), (tmp_path / "nowhere.pem", "Could not read")):
        result = run(app, "verify-report", str(path), str(key_path))
        assert result.exit_code == 1 and words in result.output and "Traceback" not in result.output
    # A private key given where the public one belongs is refused too.
    result = run(app, "verify-report", str(path), str(private))
    assert result.exit_code == 1 and "NOT VERIFIED" in result.output


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "not set up"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "damaged"),
        (b"", "damaged"),
    ],
)
def test_a_missing_or_corrupted_signing_key_is_a_plain_problem(tmp_path, content, words):
    path = None
    if content is not None:
        path = tmp_path / "key.pem"
        path.write_bytes(content)
    with pytest.raises(signing.SigningProblem, match=words):
        signing.load_private_key(None if path is None else str(path))
    with pytest.raises(signing.SigningProblem, match="cannot be read"):
        signing.load_private_key(str(tmp_path / "absent.pem"))
