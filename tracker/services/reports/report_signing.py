"""Signed copies of the standard monthly report (docs/architecture.md#the-standard-monthly-report): the exact figures,
for sharing under a data-sharing agreement, signed with Ed25519 (`cryptography`).

The private key is a PEM (PKCS #8, unencrypted) file outside the database, named by the environment variable
`REPORT_SIGNING_KEY_FILE`, made by `flask tracker create-report-key PATH` (never over an existing file; mode
0600). The signed copy is an envelope, JSON:

    {"format": "marthas-rule-signed-report/1", "algorithm": "Ed25519", "key": <public key fingerprint>,
     "report": <the MeasureReport>, "signature": <base64 of the 64-byte signature>}

The signature is over the report's canonical form: JSON with object keys sorted, no whitespace
(separators "," and ":"), non-ASCII characters as themselves, encoded in UTF-8. The report holds only
strings, whole numbers, booleans and nested objects and arrays (clock scores are whole seconds), so every JSON
library that sorts keys writes the same bytes (JCS, RFC 8785, agrees for such values).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tracker.problems import Problem

FORMAT = "marthas-rule-signed-report/1"
KEY_VARIABLE = "REPORT_SIGNING_KEY_FILE"


class SigningProblem(Problem):
    """A key or a signed report that cannot be used; the message says why in plain English."""


def canonical(report: Any) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def create_key(path: str | Path) -> Ed25519PublicKey:
    """Write a new private key to `path` (mode 0600), refusing to replace any file there."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningProblem(
            f"{path} already exists: a signing key is never overwritten. Choose another path."
        ) from None
    except OSError as error:
        raise SigningProblem(f"Could not create {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)  # whatever the umask
    return key.public_key()


def load_private_key(path: str | None) -> Ed25519PrivateKey:
    """The signing key from the file `path` names; SigningProblem, in words, when it is not set, missing,
    unreadable or not an Ed25519 private key."""
    if not path:
        raise SigningProblem(
            f"Signed reports are not set up: {KEY_VARIABLE} names no key file. "
            "Ask IT to create one with the command: flask tracker create-report-key."
        )
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise SigningProblem("The report signing key file cannot be read. Ask IT to check it.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningProblem("The report signing key file is damaged or is not a key. Ask IT to replace it.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningProblem("The report signing key file holds a key of the wrong kind. Ask IT to replace it.")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex groups: what a recipient compares by eye."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def sign(report: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed envelope for `report`."""
    return {
        "format": FORMAT,
        "algorithm": "Ed25519",
        "key": fingerprint(key.public_key()),
        "report": report,
        "signature": base64.b64encode(key.sign(canonical(report))).decode("ascii"),
    }


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM text; SigningProblem when it is not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SigningProblem("The public key file is damaged or is not a public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningProblem("The public key is not an Ed25519 key.")
    return key


def verify(envelope_bytes: bytes, key: Ed25519PublicKey) -> dict[str, Any]:
    """The report inside a signed envelope, once its signature is checked; SigningProblem saying what is
    wrong otherwise (not a signed report, signed with another key, changed since it was signed)."""
    try:
        envelope = json.loads(envelope_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SigningProblem("This file is not a signed report: it is not JSON.") from None
    if (
        not isinstance(envelope, dict)
        or envelope.get("format") != FORMAT
        or not isinstance(envelope.get("report"), dict)
    ):
        raise SigningProblem("This file is not a signed report from the tracker.")
    try:
        signature = base64.b64decode(str(envelope.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise SigningProblem("The report's signature is damaged.") from None
    if envelope.get("key") != fingerprint(key):
        raise SigningProblem(
            "This report was signed with a different key (or its key field was changed): it is not verified."
        )
    try:
        key.verify(signature, canonical(envelope["report"]))
    except InvalidSignature:
        raise SigningProblem("The report has been changed since it was signed, or its signature is damaged.") from None
    return envelope["report"]
