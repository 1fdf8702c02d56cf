"""What the battery attacks, read from the app itself (docs/architecture.md#testing): every endpoint in the
URL map; for each, the path parameters of its rule, the WTForms forms its view reads and the query
parameters it reads. Forms and query parameters are found by reading the view's source (and the source of
the tracker functions it calls, a few calls deep): a name that resolves to a form class is a form the view
reads; `request.args.get("x")` is a query parameter; `SomeForm.read(request.args)` makes that form's fields
query parameters. A view that hands `request.args` on whole (to a helper that reads it) cannot be followed,
so it must have a row in DECLARED_QUERY; tests/battery/test_coverage.py fails when one has none."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from functools import cache

from wtforms import Form
from wtforms.fields.core import UnboundField

from tracker.records import forms as records_forms
from tracker.records import routes as records_routes
from tracker.reports import filters as report_filters
from tracker.web import languages

# Views that pass `request.args` on whole to a helper: the parameters that helper reads (names, or a form whose
# fields they are).
DECLARED_QUERY: dict[str, tuple] = {
    "reports.dashboard": tuple(report_filters.DASHBOARD_KEYS),
    "reports.monthly_return": ("month", "year"),
    "reports.monthly_return_csv": ("month", "year"),
    "reports.standard_report_json": ("month", "year"),
    "reports.standard_report_csv": ("month", "year"),
    "reports.improvement": tuple(report_filters.IMPROVEMENT_KEYS),
    "records.exports_page": records_routes.CARRIED,
    "records.audit_page": (records_forms.AuditSearchForm, "before", *records_routes.CARRIED),
    "admin.settings_history_page": ("version", "day", "at"),
    "admin.staff_page": ("role", "site", "active"),
}
# Read before every family page (web/languages.py remember_choice), so every GET may carry it.
EVERY_GET_QUERY = (languages.PARAMETER,)
# Posted fields no form class declares: Twilio's own, read by name after the signature check
# (outbox/webhooks.py); the daily check's answer, read from the posted form; a language's words, whose form is
# built per trust (one field per team).
DECLARED_FIELDS = {
    "public.daily_check": ("bed", "who", "patient_name", "feeling", "compared", "text"),
    "admin.save_language_words": ("emergency_instruction", "privacy_contact", "team-1"),
    "webhooks.status": ("MessageStatus", "CallStatus", "ErrorCode", "MessageSid", "CallSid", "CallDuration"),
    "webhooks.inbound_text": ("From", "Body", "MessageSid", "OptOutType"),
    "webhooks.voice": ("Digits", "CallSid"),
}
FOLLOW_DEPTH = 3


@dataclass
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    path_params: dict[str, str]  # name -> converter ("int", "string")
    forms: list[type] = field(default_factory=list)
    form_fields: list[str] = field(default_factory=list)  # posted
    query_params: list[str] = field(default_factory=list)
    opaque_args: bool = False  # hands request.args on whole

    @property
    def family(self) -> str:
        return self.endpoint.split(".")[0]

    @property
    def main_method(self) -> str:
        return "POST" if "POST" in self.methods else "GET"


def _resolve(node: ast.AST, scope: dict):
    """The object a Name or dotted Attribute names in `scope`, or None."""
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, scope)
        # Only modules and classes: an attribute of a proxy (current_app, request) needs a request.
        return getattr(owner, node.attr, None) if inspect.ismodule(owner) or inspect.isclass(owner) else None
    return None


def _is_form(obj) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Form)


def _is_request_args(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "args"
        and isinstance(node.value, ast.Name)
        and node.value.id == "request"
    )


def _tracker_function(obj) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return (
        isinstance(obj, types.FunctionType)
        and module.startswith("tracker.")
        and not module.startswith(("tracker.services", "tracker.models"))
    )


@cache
def _tree(function) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


def _layers(view) -> list:
    """The view and every function it wraps (decorators that use functools.wraps)."""
    found = [view]
    while hasattr(found[-1], "__wrapped__"):
        found.append(found[-1].__wrapped__)
    return found


def _literal(node: ast.AST, scope: dict) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    value = _resolve(node, scope)
    return value if isinstance(value, str) else None


def _read_function(function, route: Route, seen: set, depth: int) -> None:
    if function in seen or depth > FOLLOW_DEPTH:
        return
    seen.add(function)
    tree = _tree(function)
    if tree is None:
        return
    scope = {**function.__globals__, **inspect.getclosurevars(function).nonlocals}
    args_handled: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            _read_call(node, scope, route, args_handled)
            callee = _resolve(node.func, scope)
            if _tracker_function(callee):
                _read_function(callee, route, seen, depth + 1)
        elif isinstance(node, ast.Subscript) and _is_request_args(node.value):
            args_handled.add(id(node.value))
            name = _literal(node.slice, scope)
            if name:
                route.query_params.append(name)
        elif isinstance(node, ast.Name | ast.Attribute):
            _note_forms(_resolve(node, scope), route)
    for node in ast.walk(tree):
        if _is_request_args(node) and id(node) not in args_handled:
            route.opaque_args = True


def _note_forms(obj, route: Route) -> None:
    """A form class, or a table of them (one form per settings group)."""
    found = [obj] if _is_form(obj) else []
    if isinstance(obj, dict) and obj and all(_is_form(value) for value in obj.values()):
        found = list(obj.values())
    route.forms += [form for form in found if form not in route.forms]


def _read_call(node: ast.Call, scope: dict, route: Route, args_handled: set) -> None:
    func = node.func
    if isinstance(func, ast.Attribute) and _is_request_args(func.value) and node.args:
        args_handled.add(id(func.value))
        name = _literal(node.args[0], scope)
        if name:
            route.query_params.append(name)
    if isinstance(func, ast.Attribute) and func.attr == "read" and node.args and _is_request_args(node.args[0]):
        form = _resolve(func.value, scope)
        if _is_form(form):
            args_handled.add(id(node.args[0]))
            route.query_params.extend(fields_of(form))
            route.forms.append(form)  # marked as read from the query: its fields are not posted


def fields_of(form: type) -> list[str]:
    """The form's field names, in the order they are declared (WTForms' own order)."""
    unbound = [(getattr(form, name), name) for name in dir(form) if isinstance(getattr(form, name), UnboundField)]
    ordered = sorted(unbound, key=lambda pair: pair[0].creation_counter)
    return [value.name or name for value, name in ordered]  # the HTML name, as posted


def _names(item) -> list[str]:
    return fields_of(item) if _is_form(item) else [item]


def discover(app) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for rule in app.url_map.iter_rules():
        converters = {name: type(conv).__name__ for name, conv in rule._converters.items()}
        route = Route(
            endpoint=rule.endpoint,
            rule=rule.rule,
            methods=tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
            path_params={n: "int" if c == "IntegerConverter" else "string" for n, c in converters.items()},
        )
        view = app.view_functions[rule.endpoint]
        seen: set = set()
        for layer in _layers(view):
            _read_function(layer, route, seen, 0)
        query_fields = set(route.query_params)
        if route.main_method == "POST":
            for form in route.forms:
                route.form_fields += [
                    n for n in fields_of(form) if n not in query_fields and n not in route.form_fields
                ]
        route.form_fields += [n for n in DECLARED_FIELDS.get(rule.endpoint, ()) if n not in route.form_fields]
        declared = [n for item in DECLARED_QUERY.get(rule.endpoint, ()) for n in _names(item)]
        extra = EVERY_GET_QUERY if "GET" in route.methods else ()
        route.query_params = list(dict.fromkeys([*route.query_params, *declared, *extra]))
        routes[rule.endpoint] = route
    return routes
