"""Turns one case of the corpus (a category, a payload, a target field) into one request on one route, as one
principal, and judges the answer (docs/architecture.md#testing): a 4xx, a form error or an ordinary page,
never a 5xx, an exception, or a marker reflected raw."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from tests.battery import corpus
from tests.battery.discover import Route

WEBHOOK_BASE = "http://127.0.0.1:5000"  # the testing configuration's PUBLIC_BASE_URL
PARAM = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


@dataclass
class Target:
    kind: str  # "form", "query" or "path"
    name: str


@dataclass
class Principal:
    role: str
    client: object
    token: str = ""
    signer: RequestValidator | None = None  # Twilio's, for signed webhooks


@dataclass
class Outcome:
    status: int | None
    problem: str | None  # None when the answer was acceptable


def targets(route: Route) -> list[Target]:
    """Every field the route reads; a route that reads none is still sent a stray field."""
    found = [Target("form", n) for n in route.form_fields]
    found += [Target("query", n) for n in route.query_params]
    found += [Target("path", n) for n in route.path_params]
    return found or [Target("form" if route.main_method == "POST" else "query", "unexpected")]


def path_with(route: Route, sample: dict[str, str], target: Target | None, value: str) -> str:
    """The rule's path with the sample's values, and `value` in place of the targeted path parameter."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        chosen = value if target is not None and target.kind == "path" and target.name == name else sample[name]
        return quote(str(chosen), safe="")

    return PARAM.sub(fill, route.rule)


def send(principal: Principal, route: Route, path: str, query: MultiDict, category: str, payload, target: Target):
    """One request; returns the response (the caller closes it)."""
    query = MultiDict(query)
    fields = MultiDict()
    if category not in corpus.SHAPES:
        if target.kind == "form":
            fields.add(target.name, payload)
        elif target.kind == "query":
            query.setlist(target.name, [payload])
    full = path + (f"?{urlencode(list(query.items(multi=True)))}" if query else "")
    if category in corpus.SHAPES:
        return _shape(principal, route, full, category, payload, target)
    return _post_or_get(principal, _method_for(route, target), full, fields)


def _method_for(route: Route, target: Target) -> str:
    if target.kind == "query" and "GET" in route.methods:
        return "GET"
    return route.main_method


def _post_or_get(principal: Principal, method: str, full: str, fields: MultiDict, **extra):
    client = principal.client
    if method == "GET":
        if fields:
            full += ("&" if "?" in full else "?") + urlencode(list(fields.items(multi=True)))
        return client.get(full, **extra)
    data = MultiDict(fields)
    if principal.token:
        data.add("csrf_token", principal.token)
    headers = extra.pop("headers", {})
    if principal.signer is not None:
        params = {k: data.getlist(k)[0] for k in data}
        headers["X-Twilio-Signature"] = principal.signer.compute_signature(WEBHOOK_BASE + full, params)
    return client.open(full, method=method, data=data, headers=headers, **extra)


def _raw_body(principal: Principal, target: Target, raw: bytes) -> bytes:
    prefix = f"csrf_token={principal.token}&".encode() if principal.token else b""
    return prefix + target.name.encode() + b"=" + raw


URLENCODED = "application/x-www-form-urlencoded"


def _csrf_header(principal: Principal) -> dict:
    return {"X-CSRFToken": principal.token} if principal.token else {}


def _invalid_utf8(principal: Principal, method: str, full: str, payload: str, target: Target):
    kind, value = payload.split(":", 1)
    raw = corpus.BAD_UTF8_RAW[int(value)] if kind == "raw" else value.encode()
    client = principal.client
    if target.kind == "query" or method == "GET":
        name = target.name if target.kind == "query" else "q"
        full += ("&" if "?" in full else "?") + f"{name}=" + (value if kind == "encoded" else quote(raw))
        if method == "GET":
            return client.get(full)
        return client.open(full, method=method, data=_raw_body(principal, target, b"1"), content_type=URLENCODED)
    return client.open(full, method=method, data=_raw_body(principal, target, raw), content_type=URLENCODED)


def _one_mb(principal: Principal, method: str, full: str, payload: str, target: Target):
    big = "a" * 1_000_000
    client = principal.client
    if payload == "form":
        return _post_or_get(principal, "POST", full, MultiDict({target.name: big}))
    if payload == "multipart":  # built by hand: the test client would spool it to a file it never closes
        boundary = "battery-boundary"
        parts = [("csrf_token", principal.token), (target.name, big)]
        body = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in parts
        )
        return client.post(
            full, data=f"{body}--{boundary}--\r\n".encode(), content_type=f"multipart/form-data; boundary={boundary}"
        )
    if payload == "json":
        body = json.dumps({target.name: big})
        return client.post(full, data=body, content_type="application/json", headers=_csrf_header(principal))
    return client.post(full, data=_raw_body(principal, target, b"\xff" * 1_000_000), content_type=URLENCODED)


def _wrong_method(principal: Principal, method: str, full: str, payload: str, target: Target):
    wrong = {"GET-on-POST": "GET", "POST-on-GET": "POST"}.get(payload, payload)
    return principal.client.open(
        full, method=wrong, data={"csrf_token": principal.token}, headers=_csrf_header(principal)
    )


def _head_with_body(principal: Principal, method: str, full: str, payload: str, target: Target):
    client = principal.client
    if payload == "json":
        return client.open(full, method="HEAD", json={target.name: "x"}, headers=_csrf_header(principal))
    if payload == "raw":
        body = _raw_body(principal, target, b"\xff\x00")
        return client.open(full, method="HEAD", data=body, content_type=URLENCODED)
    return client.open(full, method="HEAD", data={target.name: "x{{7*7}}x", "csrf_token": principal.token})


def _duplicated(principal: Principal, method: str, full: str, payload: str, target: Target):
    hostile = "<script>alert('dup')</script>"
    times = {"twice": 2, "ten-times": 10, "hundred": 100}.get(payload, 2)
    values = ["", hostile] if payload == "empty-then-hostile" else [hostile if i % 2 else "1" for i in range(times)]
    fields = MultiDict([(target.name, v) for v in values])
    if target.kind == "query" or method == "GET":
        return principal.client.get(full + ("&" if "?" in full else "?") + urlencode(list(fields.items(multi=True))))
    return _post_or_get(principal, method, full, fields)


def _json_body(principal: Principal, method: str, full: str, payload: str, target: Target):
    bodies = {
        "object": json.dumps({target.name: "<script>alert(1)</script>", "csrf_token": principal.token}),
        "array": json.dumps([1, 2, 3]),
        "string": json.dumps("x{{7*7}}x"),
        "broken": '{"a": ',
        "nested": "[" * 5000 + "]" * 5000,
        "number": "1e999",
        "null": "null",
        "huge": json.dumps({target.name: "9" * 5000}),
    }
    return principal.client.open(
        full, method=method, data=bodies[payload], content_type="application/json", headers=_csrf_header(principal)
    )


def _whole_form(principal: Principal, method: str, full: str, payload, target: Target):
    """A whole, valid form with its submission id changed (tests/battery/submissions.py)."""
    return principal.client.post(full, data={**payload, "csrf_token": principal.token})


SHAPERS = {
    "invalid_utf8": _invalid_utf8,
    "one_mb_body": _one_mb,
    "wrong_method": _wrong_method,
    "head_with_body": _head_with_body,
    "duplicated_fields": _duplicated,
    "json_body": _json_body,
    "submission_id": _whole_form,
}


def _shape(principal: Principal, route: Route, full: str, category: str, payload, target: Target):
    return SHAPERS[category](principal, route.main_method, full, payload, target)


def judge(response) -> str | None:
    """None when the answer is acceptable; otherwise what is wrong with it."""
    if response.status_code >= 500:
        return f"status {response.status_code}"
    if (response.mimetype or "").startswith("text/html") and response.status_code != 304:
        page = response.get_data(as_text=True)
        for marker in corpus.MARKERS:
            if marker in page:
                return f"reflected raw: {marker!r}"
    return None
