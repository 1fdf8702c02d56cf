"""What every request is held to before any view runs (docs/architecture.md#security): a HEAD is the GET it stands
for, NUL is refused wherever it may come in, and a body that changes things is a form of a bounded size.

**HEAD.** Flask answers HEAD with a route's GET view, and views that branch on the method take "not GET" as
"posted": a HEAD with a form body raised a family's concern. Here a HEAD becomes a GET for the view; Werkzeug still
sends no body, as it reads the method from the WSGI environ.

**NUL.** PostgreSQL refuses NUL (\\x00) in text, so one that reached a query was a 500, and no person types one. A
request with NUL in its path, its query string, a posted field's name or value, a cookie or the browser's name is
refused with a 400 here, in one place, so no view, form or service needs to think of it. The views in `OWN_FIELDS`
read every posted field themselves and keep their own rule for them: the family's form shows a control character
back beside its field with everything they typed (nothing a family sends is lost to a plain error page), and Twilio's
webhooks drop it from a received text, which is never refused (their signature covers the exact bytes sent).

**Bodies.** Every form is posted urlencoded or multipart. Flask-WTF would read a JSON body as a form's data, and one
that is not a single object (an array, a number, nesting thousands deep) raised a 500: a JSON body is a 415.
Werkzeug limits the parts of multipart bodies only; urlencoded ones are held to the same count (413)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, abort, request

NUL = "\x00"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

OWN_FIELDS = frozenset({"public.concern_form", "webhooks.status", "webhooks.inbound_text", "webhooks.voice"})


def _any_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)


def _pairs(multidict) -> Iterable[str]:
    for name, value in multidict.items(multi=True):
        yield name
        yield value


def _parts(multidict) -> int:
    return sum(1 for _ in multidict.items(multi=True))


def carries_nul() -> bool:
    """Whether NUL is anywhere this request's views may read it from."""
    if NUL in request.path or _any_nul(_pairs(request.args)) or _any_nul(_pairs(request.cookies)):
        return True
    if NUL in request.headers.get("User-Agent", ""):
        return True
    return request.endpoint not in OWN_FIELDS and _any_nul(_pairs(request.form))


def register(app: Flask) -> None:
    """Runs before the other request hooks (tracker/__init__.py registers it first)."""

    @app.before_request
    def check_request():
        if request.method == "HEAD":
            request.method = "GET"
        if carries_nul():
            abort(400, description="The request has a NUL character.")
        if request.method in SAFE_METHODS:
            return
        if request.is_json:
            abort(415)
        if (
            request.mimetype == "application/x-www-form-urlencoded"
            and _parts(request.form) > app.config["MAX_FORM_PARTS"]
        ):
            abort(413)
