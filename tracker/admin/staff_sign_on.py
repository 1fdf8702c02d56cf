"""A person's trust account on their page (docs/architecture.md#sign-on): an administrator links the account to
the person's subject at the trust's sign-on provider (for Entra, their object id, from the Entra admin centre),
removes a wrong link, and marks administrators break-glass. The same service functions as `flask tracker
link-account`, `unlink-account` and `break-glass`; each needs a recent sign-in, like every change on the page."""

from __future__ import annotations

from tracker.admin import bp
from tracker.admin.staff_actions import act
from tracker.admin.staff_forms import BreakGlassForm, TrustAccountForm
from tracker.models import User
from tracker.problems import FieldProblem
from tracker.services.people import sign_on, sign_on_accounts
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.web.authorisation import requires


def trust_account(person: User) -> dict:
    """What the page shows: whether sign-on is set up, the person's link, and whether they are break-glass."""
    found = sign_on.provider()
    return {
        "issuer": found.issuer if found else None,
        "link": sign_on_accounts.link_of(person) if found else None,
    }


def _actor(viewer_id: int) -> audit.Actor:
    return audit.Actor.user(viewer_id)


@bp.post("/staff/<int:user_id>/trust-account")
@requires(Permission.ADMINISTER_STAFF)
def link_trust_account(user_id: int):
    from tracker.admin.staff import viewer

    def change(person: User) -> str:
        found = sign_on.provider()
        if found is None:
            raise FieldProblem("subject", "Sign-on with the trust's accounts is not set up.")
        form = TrustAccountForm.read().checked()
        sign_on_accounts.link_account(_actor(viewer().id), person.email, found.issuer, form.subject.data)
        return (
            f"{person.display_name}'s account is linked to their trust account. Their local password no longer "
            "works" + (", except that they are break-glass." if person.break_glass else ".")
        )

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/trust-account/remove")
@requires(Permission.ADMINISTER_STAFF)
def unlink_trust_account(user_id: int):
    from tracker.admin.staff import viewer

    def change(person: User) -> str:
        sign_on_accounts.unlink_account(_actor(viewer().id), person.email)
        return f"{person.display_name}'s trust account link was removed: their local password works again."

    return act(user_id, change)


@bp.post("/staff/<int:user_id>/break-glass")
@requires(Permission.ADMINISTER_STAFF)
def set_break_glass(user_id: int):
    from tracker.admin.staff import viewer

    def change(person: User) -> str:
        on = BreakGlassForm.read().checked().on.data == "yes"
        sign_on_accounts.set_break_glass(_actor(viewer().id), person.email, on)
        if on:
            return f"{person.display_name} is break-glass: their password keeps working when sign-on is down."
        return f"{person.display_name} is no longer break-glass."

    return act(user_id, change)
