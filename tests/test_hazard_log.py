"""The hazard log and the tests stay in step: every control names a test that exists."""

from __future__ import annotations

import importlib.util
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


SAFETY_FILE = LOG.parent
DRAFT_MARK = "Draft: not approved until a Clinical Safety Officer signs it."


def test_every_hazard_is_in_the_safety_case_report():
    report = (SAFETY_FILE / "safety-case-report.md").read_text()
    rows = set(re.findall(r"^\| (HAZ-\d+) \|", report, flags=re.M))
    assert sorted(set(hazards()) - rows) == [], "hazards in the log but not in the safety case report"
    assert sorted(rows - set(hazards())) == [], "hazards in the safety case report but not in the log"


def test_every_test_the_safety_case_names_exists():
    report = (SAFETY_FILE / "safety-case-report.md").read_text()
    named = REFERENCE.findall(report)
    assert named, "the safety case report names no test"
    missing = []
    for path, name in named:
        source = ROOT / path
        if not source.exists() or not re.search(rf"^\s*def {name}\(", source.read_text(), flags=re.M):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_the_safety_case_names_each_hazards_tests_from_the_log():
    """Each hazard's row names the tests its section of the log names: no control loses its proof."""
    report = (SAFETY_FILE / "safety-case-report.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (HAZ-\d+) \|.*$", report, flags=re.M)}
    for hazard_id, section in hazards().items():
        assert set(REFERENCE.findall(section)) <= set(REFERENCE.findall(rows.get(hazard_id, ""))), hazard_id


def test_the_plan_and_the_safety_case_are_marked_as_drafts_until_a_cso_signs():
    for name in ("clinical-risk-management-plan.md", "safety-case-report.md"):
        head = (SAFETY_FILE / name).read_text()[:600]
        assert DRAFT_MARK in head, f"{name} lacks the draft mark at the top"


def test_the_safety_case_table_and_counts_are_drawn_from_the_log():
    """The report's table and counts are generated (scripts/safety_case_report.py): run it after editing the log."""
    spec = importlib.util.spec_from_file_location("safety_case_report", ROOT / "scripts" / "safety_case_report.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    report = (SAFETY_FILE / "safety-case-report.md").read_text()
    assert generator.render(report, LOG.read_text()) == report, "run: python3 scripts/safety_case_report.py"
