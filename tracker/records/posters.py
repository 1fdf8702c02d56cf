"""The ward posters page, beside the exports (docs/architecture.md#posters): each ward a manager (their site) or an
administrator (every site) may print, a PDF link per enabled language, and every ward's poster in one PDF for a
language. Printing is audited. A language whose fonts are not installed says which Debian package to install, and
its PDF is refused (503) rather than printed in empty boxes."""

from __future__ import annotations

from flask import Response, render_template
from flask_login import current_user

from tracker.db import begin_write
from tracker.extensions import db
from tracker.models import Site, Ward
from tracker.records import bp
from tracker.services.languages import Language
from tracker.services.posters import printing
from tracker.services.posters.content import public_link
from tracker.services.posters.drawing import FontsMissing
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.services.setup.settings import current_settings
from tracker.web.authorisation import requires


def _user():
    return current_user.user


@bp.get("/posters")
@requires(Permission.PRINT_POSTERS)
def posters_page():
    """Every ward the person may print a poster for, with a link per language."""
    wards = printing.wards_to_print(_user())
    sites: dict[Site, list[Ward]] = {}
    for ward in wards:
        sites.setdefault(ward.site, []).append(ward)
    return render_template(
        "records/posters.html",
        sites=sites,
        links={ward.code: public_link(ward.code) for ward in wards},
        choices=printing.language_choices(current_settings()),
    )


@bp.get("/posters/<language>/<code>.pdf")
@requires(Permission.PRINT_POSTERS)
def ward_poster(language: str, code: str):
    """One ward's poster in one language. An unknown, closed or out-of-reach ward is not found (and the attempt
    audited); so is a language the trust has not enabled."""
    chosen = printing.enabled_language(current_settings(), language)
    if chosen is None:
        return _not_enabled()
    ward = printing.ward_to_print(_user(), code)
    if ward is None:
        begin_write()  # as web/access.py does: this GET has been reading
        audit.record("access_denied", audit.Actor.user(_user().id), changes={"what": "ward poster"})
        db.session.commit()
        return _refused(404, "Ward not found", "There is no open ward with that code among the wards you print for.")
    return _pdf([ward], chosen, printing.file_name(chosen, ward))


@bp.get("/posters/<language>.pdf")
@requires(Permission.PRINT_POSTERS)
def all_posters(language: str):
    """Every ward's poster the person may print, in one language, one page each."""
    chosen = printing.enabled_language(current_settings(), language)
    if chosen is None:
        return _not_enabled()
    wards = printing.wards_to_print(_user())
    if not wards:
        return _refused(404, "No wards", "You have no open wards to print posters for.")
    return _pdf(wards, chosen, printing.file_name(chosen))


def _not_enabled():
    return _refused(
        404,
        "Language not available",
        "Posters are printed only in the languages the trust has turned on for families.",
    )


def _pdf(wards: list[Ward], language: Language, name: str):
    try:
        body = printing.posters(wards, current_settings(), language)
    except FontsMissing as missing:
        packages = " and ".join(missing.packages)
        return _refused(
            503,
            "Fonts not installed",
            f"The fonts for {language.english} are not installed on the server, so the poster would print as empty "
            f"boxes. Ask whoever runs the tracker to install the Debian package {packages}, then try again.",
        )
    # Reading is done: now a short write, the audit row (SQLite's write lock is taken only here).
    begin_write()
    printing.record_printed(_user(), language, wards)
    db.session.commit()
    response = Response(body, mimetype="application/pdf")
    # Opened in the browser to print; the name is made from codes we hold, never from the request.
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _refused(status: int, title: str, message: str):
    return render_template("records/poster_refused.html", title=title, message=message), status
