"""Concern references such as MR-7QK4-92: six characters from an alphabet without look-alikes
(no 0/O, 1/I/L), so they can be read over the phone. About 887 million possibilities: not
enumerable in practice, and never a credential."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_PATTERN = re.compile(rf"^MR-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}$")


def new_reference() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"MR-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str | None:
    """What someone typed or read out, as a reference, or None if it cannot be one."""
    compact = re.sub(r"[\s\-]", "", (text or "").upper())
    if compact.startswith("MR"):
        compact = compact[2:]
    candidate = f"MR-{compact[:4]}-{compact[4:]}"
    return candidate if _PATTERN.match(candidate) else None
