"""Whose trust account is whose (docs/architecture.md#sign-on), and what a link changes.

A trust account is matched to a staff account only by the pair (issuer, subject) of a link made in advance,
never by e-mail (Entra does not verify e-mail addresses), and nobody enrols themselves: a link is made by the
person while signed in locally with their password and a code from their authenticator ("Link your trust
account" on the account page), or by an administrator (`link_account`, which the staff page and
`flask tracker link-account` call). Once an account is linked its local password stops working, so leaving the
trust ends access, unless it is an administrator's marked break-glass (at least one administrator must be
before anything is linked) or the sign-on outage switch is on."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Role, SignOnLink, User
from tracker.problems import Problem
from tracker.services.people import sign_on, sign_on_outage
from tracker.services.people.sessions import needs_mfa
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings

SUBJECT_MAX = 255


class LinkProblem(Problem):
    pass


class Refused(Problem):
    """A verified trust account that may not sign in here; `reason` is coded (for the audit)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def help_contact() -> str:
    """Whom a refused person should ask: the trust's own words (OIDC_HELP_CONTACT), or its administrators."""
    return current_app.config.get("OIDC_HELP_CONTACT") or (
        f"an administrator of the Martha's Rule Tracker at {current_settings().trust_name}"
    )


def link_of(user: User) -> SignOnLink | None:
    return db.session.scalar(select(SignOnLink).where(SignOnLink.user_id == user.id))


def _link_for(identity: sign_on.Identity) -> SignOnLink | None:
    return db.session.scalar(
        select(SignOnLink).where(SignOnLink.issuer == identity.issuer, SignOnLink.subject == identity.subject)
    )


def account_for(identity: sign_on.Identity) -> User:
    """The staff account linked to this trust account, if it may sign in; else Refused, saying whom to ask."""
    link = _link_for(identity)
    if link is None:
        raise Refused(
            "not_linked",
            "Your trust account is not linked to an account on the Martha's Rule Tracker, so you cannot sign in "
            f"with it. Ask {help_contact()} to give you an account or link your trust account to it.",
        )
    user = db.session.get_one(User, link.user_id)
    if not user.active:
        raise Refused(
            "inactive",
            f"Your account on the Martha's Rule Tracker has been closed. If you still need it, ask {help_contact()}.",
        )
    link.last_used_at = utcnow()
    return user


def needs_code_after_sign_on(user: User) -> bool:
    """Managers and administrators (and everyone, if the trust says so) still give the tracker's own code after
    signing on, unless the provider is known to enforce multi-factor sign-in (OIDC_MFA_ASSURED): Entra's ID
    tokens carry no `amr` claim, so the token's claims alone are never trusted for this."""
    return needs_mfa(user) and not current_app.config.get("OIDC_MFA_ASSURED")


def local_password_allowed(user: User) -> bool:
    """Whether the account's local password may sign it in: not once it is linked, unless it is a break-glass
    administrator's or the sign-on outage switch is on."""
    if link_of(user) is None:
        return True
    if user.break_glass and user.role is Role.ADMIN:
        return True
    return sign_on_outage.current() is not None


def break_glass_admins() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.break_glass.is_(True))
            .order_by(User.id)
        )
    )


def _check_linkable(user: User, identity: sign_on.Identity) -> None:
    if not user.active:
        raise LinkProblem("That account has been closed: it cannot be linked.")
    if not break_glass_admins():
        raise LinkProblem(
            "No trust account can be linked yet: first an administrator must be marked break-glass, so that "
            f"someone can still sign in if the trust's sign-in is down. Ask {help_contact()}."
        )
    if link_of(user) is not None:
        raise LinkProblem("This account is already linked to a trust account.")
    if _link_for(identity) is not None:
        raise LinkProblem(
            f"That trust account is already linked to another account on the tracker. Ask {help_contact()}."
        )


def link(user: User, identity: sign_on.Identity, actor: audit.Actor) -> SignOnLink:
    """Link a staff account to a trust account. The caller has made sure who is asking: the person signed in
    with password and code who has just signed on (`by_self`), or an administrator. The caller commits."""
    _check_linkable(user, identity)
    made = SignOnLink(user_id=user.id, issuer=identity.issuer, subject=identity.subject, linked_at=utcnow())
    db.session.add(made)
    db.session.flush()
    audit.record(
        "sign_on_linked",
        actor,
        object_type="user",
        object_id=user.id,
        changes={"by_self": actor.type == "user" and actor.id == user.id},
    )
    return made


def _user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise LinkProblem(f"No account has the email address {email!r}.")
    return user


def link_account(actor: audit.Actor, email: str, issuer: str, subject: str) -> SignOnLink:
    """An administrator links someone's account to their trust account, by the provider's issuer and the
    person's subject there (for Entra, their object id, `oid`, from the Entra admin centre). The issuer must be
    the one configured. Used by `flask tracker link-account` and the staff page. The caller commits."""
    found = sign_on.provider()
    if found is None:
        raise LinkProblem("Sign-on is not set up (OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET).")
    issuer, subject = (issuer or "").strip(), (subject or "").strip()
    if issuer != found.issuer:
        raise LinkProblem(f"The issuer must be the one this tracker signs on with: {found.issuer}")
    if not subject or len(subject) > SUBJECT_MAX or any(ch.isspace() for ch in subject):
        raise LinkProblem("Enter the person's subject (for Entra, their object id) with no spaces.")
    return link(_user_by_email(email), sign_on.Identity(issuer, subject), actor)


def unlink_account(actor: audit.Actor, email: str) -> User:
    """Remove an account's link (a wrong link, or a new trust account): its local password works again. The
    caller commits."""
    user = _user_by_email(email)
    made = link_of(user)
    if made is None:
        raise LinkProblem(f"{user.email} is not linked to a trust account.")
    db.session.delete(made)
    audit.record("sign_on_unlinked", actor, object_type="user", object_id=user.id)
    return user


def set_break_glass(actor: audit.Actor, email: str, on: bool) -> User:
    """Mark an administrator break-glass (their local password keeps working once linked), or unmark one, never
    the last while sign-on is in use. The caller commits."""
    user = _user_by_email(email)
    if on and (user.role is not Role.ADMIN or not user.active):
        raise LinkProblem("Only an active administrator can be marked break-glass.")
    if not on and user.break_glass and [u.id for u in break_glass_admins()] == [user.id] and _any_links():
        raise LinkProblem(
            "At least one administrator must stay break-glass while accounts are linked: mark another first."
        )
    if user.break_glass != on:
        user.break_glass = on
        audit.record("break_glass_set", actor, object_type="user", object_id=user.id, changes={"on": on})
    return user


def _any_links() -> bool:
    return db.session.scalar(select(SignOnLink.id).limit(1)) is not None


def links_without_break_glass() -> bool:
    """Accounts are linked, yet no active administrator is break-glass (the staff warning for administrators)."""
    return _any_links() and not break_glass_admins()
