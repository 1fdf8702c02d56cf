"""The set-up pages, in the order the Set-up page lists them: each page adds itself here, with the permission
that lets a person open it (services/scope.py), so the list never offers a page someone cannot use."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.services.scope import Permission


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: str
    about: str
    permission: Permission


SECTIONS: list[Section] = []


def add(section: Section) -> None:
    SECTIONS.append(section)
