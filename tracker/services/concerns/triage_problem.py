"""A refusal of a clinician's action on a call (docs/architecture.md#one-web-idiom): shared by the triage actions and
the outcome coding they check."""

from __future__ import annotations

from tracker.problems import Problem


class TriageProblem(Problem):
    """The request cannot be carried out as given; the message says why in plain English."""
