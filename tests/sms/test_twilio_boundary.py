"""The Twilio boundary: one module imports the SDK, and webhook signatures are checked against
the exact URL Twilio called: scheme, host, path and query, with no stray "?" (Twilio's webhook security guide)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from tracker.sms.twilio import validate_signature

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "12345678901234567890123456789012"
URL = "https://tracker.example.nhs.uk/webhooks/twilio/status?m=42"
# A status callback as Twilio posts it: ErrorCode is sent empty, and must be signed as such.
FORM = MultiDict(
    [("MessageSid", "SM" + "1" * 32), ("MessageStatus", "delivered"), ("ErrorCode", ""), ("To", "+447400123456")]
)


def twilio_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "twilio"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "twilio":
            found.append(node.module)
    return found


def test_only_the_twilio_backend_imports_the_sdk():
    importers = {str(path.relative_to(ROOT)) for path in (ROOT / "tracker").rglob("*.py") if twilio_imports(path)}
    assert importers == {"tracker/sms/twilio.py"}


def test_nothing_loads_the_sdk_by_name_either():
    """`importlib.import_module("twilio...")` or `__import__` would dodge the check above."""
    for path in (ROOT / "tracker").rglob("*.py"):
        if path.name == "twilio.py" and path.parent.name == "sms":
            continue
        text = path.read_text(encoding="utf-8")
        assert 'import_module("twilio' not in text and '__import__("twilio' not in text, path


def sign(url: str = URL, form=FORM, token: str = TOKEN) -> str:
    from twilio.request_validator import RequestValidator  # the test's own genuine signer

    return RequestValidator(token).compute_signature(url, form)


def test_a_genuine_signature_passes():
    assert validate_signature(TOKEN, URL, FORM, sign())


def test_a_genuine_signature_on_a_url_without_a_query_passes():
    url = "https://tracker.example.nhs.uk/webhooks/twilio/inbound"
    assert validate_signature(TOKEN, url, FORM, sign(url))


def test_repeated_fields_are_all_signed():
    form = MultiDict(
        [*FORM.items(multi=True), ("MediaUrl", "https://a.example/1"), ("MediaUrl", "https://a.example/2")]
    )
    signature = sign(form=form)
    assert validate_signature(TOKEN, URL, form, signature)
    one_dropped = MultiDict([(k, v) for k, v in form.items(multi=True) if v != "https://a.example/2"])
    assert not validate_signature(TOKEN, URL, one_dropped, signature)


@pytest.mark.parametrize(
    "token, url, form, signature",
    [
        pytest.param("another-token-another-token-0000", URL, FORM, None, id="wrong token"),
        pytest.param(TOKEN, URL, MultiDict({**FORM.to_dict(), "MessageStatus": "failed"}), None, id="tampered field"),
        pytest.param(
            TOKEN, URL, MultiDict({k: v for k, v in FORM.items() if k != "ErrorCode"}), None, id="empty field dropped"
        ),
        pytest.param(TOKEN, URL.replace("https://", "http://"), FORM, None, id="http instead of https"),
        pytest.param(TOKEN, URL.replace("m=42", "m=43"), FORM, None, id="another message's URL"),
        pytest.param(
            TOKEN, "https://tracker.example.nhs.uk/webhooks/twilio/inbound?m=42", FORM, None, id="another path"
        ),
        pytest.param(TOKEN, "https://other.example/webhooks/twilio/status?m=42", FORM, None, id="another host"),
        pytest.param(TOKEN, URL, FORM, "", id="empty signature"),
        pytest.param(TOKEN, URL, FORM, "missing", id="missing signature"),
        pytest.param("", URL, FORM, None, id="no token configured"),
    ],
)
def test_anything_but_the_genuine_request_is_refused(token, url, form, signature):
    genuine = sign()
    if signature == "missing":
        signature = None
    elif signature is None:
        signature = genuine
    assert not validate_signature(token, url, form, signature)


def test_a_url_with_a_stray_question_mark_is_refused():
    """Werkzeug's request.full_path ends in "?" even without a query: Twilio never signed that."""
    from twilio.request_validator import RequestValidator

    url = "https://tracker.example.nhs.uk/webhooks/twilio/inbound"
    assert not validate_signature(TOKEN, url + "?", FORM, sign(url))
    # The SDK alone would let it through (urlparse drops the empty query): hence our own check.
    assert RequestValidator(TOKEN).validate(url + "?", FORM, sign(url))


def test_a_malformed_url_is_refused_not_an_error():
    assert not validate_signature(TOKEN, "https://tracker.example.nhs.uk:notaport/x", FORM, sign())
