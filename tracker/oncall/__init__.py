"""On call: each team's rota and escalation policy, "test the rota", and the failed-messages page
(docs/architecture.md#paging, #messages, #security).

Who may do what: outreach clinicians see their teams' rotas, test them, and deal with failed
messages; managers also change the rota and policy of their site's teams; admins change rotas
and policies anywhere but see no calls (so not the failed-messages page, which names wards and
references)."""

from flask import Blueprint

bp = Blueprint("oncall", __name__, url_prefix="/on-call")

from tracker.oncall import routes  # noqa: E402,F401  (registers the views)
