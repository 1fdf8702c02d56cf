"""The Set-up page: the set-up pages this person may open (tracker/admin/sections.py)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from tracker.admin import bp
from tracker.admin.sections import SECTIONS
from tracker.services import scope
from tracker.services.scope import Permission
from tracker.web.authorisation import requires


@bp.get("/")
@requires(Permission.SEE_SETUP)
def index():
    user = current_user.user
    sections = [section for section in SECTIONS if scope.can(user, section.permission)]
    return render_template("admin/index.html", sections=sections)
