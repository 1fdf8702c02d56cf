"""The hazard log and the tests stay in step: every control names a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def hazards() -> dict[str, str]:
    sections = re.split(r"^### ", LOG.read_text(), flags=re.M)[1:]
    return {section.split(":", 1)[0]: section for section in sections}


def test_every_hazard_has_the_dcb0129_fields_and_at_least_one_test():
    found = hazards()
    assert found, "no hazards in the log"
    for hazard_id, section in found.items():
        for field in [
            "Hazard description",
            "Potential clinical impact",
            "Possible causes",
            "Initial risk",
            "Added controls: design",
            "Added controls: test",
            "Residual risk",
            "Owner",
            "Status",
        ]:
            assert f"| {field} |" in section, f"{hazard_id} lacks {field}"
        assert REFERENCE.search(section), f"{hazard_id} names no test"


def test_every_test_the_log_names_exists():
    missing = []
    for path, name in REFERENCE.findall(LOG.read_text()):
        source = ROOT / path
        if not source.exists() or not re.search(rf"^\s*def {name}\(", source.read_text(), flags=re.M):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_the_summary_lists_every_hazard():
    summary = LOG.read_text().split("## Summary", 1)[1].split("\n---\n", 1)[0]
    assert set(re.findall(r"\| (HAZ-\d+) \|", summary)) == set(hazards())
