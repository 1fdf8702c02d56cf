"""Sign-on with the trust's own accounts (docs/architecture.md#sign-on): which trust account is whose, the
sign-ins on their way through the provider, and the sign-on outage switch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base


class SignOnLink(Base):
    """A staff account's trust account: the provider's issuer and the person's subject there (for
    Entra, whose issuer names the tenant, the token's `oid`). Never the e-mail address, which Entra
    does not verify. One trust account per staff account, and one staff account per trust account."""

    __tablename__ = "sign_on_link"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_sign_on_link_issuer_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class SignOnRequest(Base):
    """One trip through the provider, from the tracker's redirect to the provider's answer. The
    browser's session holds the `state`; this row holds its hash, the nonce and the PKCE verifier,
    and is used once: a replayed answer finds it used (services/people/sign_on.py)."""

    __tablename__ = "sign_on_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(12))  # "sign_in", or "link" for a signed-in person's own link
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None]


class SignOnOutage(Base):
    """The "sign-on outage" switch: a break-glass administrator turns local sign-in back on for
    everyone for a set time (at most 12 hours) while the trust's provider is down."""

    __tablename__ = "sign_on_outage"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
