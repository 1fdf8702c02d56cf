"""Rebuild the safety case report's hazard table and its counts from the hazard log.

The hazard log (docs/clinical-safety/hazard-log.md) is the one place a hazard, its ratings, its
controls and its tests are written; the report's section 5 table and section 6's counts are drawn
from it, so they never drift. Run after changing the log:

    python3 scripts/safety_case_report.py

tests/test_hazard_log.py fails when the committed report differs from what this would write."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
REPORT = ROOT / "docs" / "clinical-safety" / "safety-case-report.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py::test_\w+)`")
SUMMARY_ROW = re.compile(r"^\| (HAZ-\d+) \| (.+?) \| (\d) \| (\d) \|", re.M)
TABLE_HEADER = "| Hazard | Title | Initial | Main design control | Tests that prove the controls | Residual |\n|---|---|---|---|---|---|\n"
COUNTS = re.compile(r"Of the \d+ hazards, .*? rated 3\.", re.S)


def _sections(log: str) -> dict[str, str]:
    return {part.split(":", 1)[0]: part for part in re.split(r"^### ", log, flags=re.M)[1:]}


def _field(section: str, name: str) -> str:
    found = re.search(rf"^\| {re.escape(name)} \| (.*) \|$", section, flags=re.M)
    return found.group(1) if found else ""


def _first_sentence(text: str) -> str:
    found = re.match(r"(.+?[.;])(\s|$)", text)
    return (found.group(1) if found else text).strip()


def table(log: str) -> str:
    sections = _sections(log)
    rows = []
    for hazard_id, title, initial, residual in SUMMARY_ROW.findall(log):
        section = sections.get(hazard_id, "")
        tests = list(dict.fromkeys(REFERENCE.findall(section)))
        control = _first_sentence(_field(section, "Added controls: design"))
        named = "<br>".join(f"`{test}`" for test in tests)
        rows.append(f"| {hazard_id} | {title} | {initial} | {control} | {named} | {residual} |\n")
    return TABLE_HEADER + "".join(rows)


def counts(log: str) -> str:
    ratings = SUMMARY_ROW.findall(log)
    initial = Counter(row[2] for row in ratings)
    residual = Counter(row[3] for row in ratings)
    above = max(int(row[3]) for row in ratings)
    return (
        f"Of the {len(ratings)} hazards, {initial['5']} was rated 5 and {initial['4']} rated 4 before controls; "
        f"none is above {above} after them: {residual['1']} are rated 1, {residual['2']} rated 2 and "
        f"{residual['3']} rated 3."
    )


def render(report: str, log: str) -> str:
    start = report.index(TABLE_HEADER)
    end = report.index("\n## ", start)
    rebuilt = report[:start] + table(log) + report[end:]
    return COUNTS.sub(counts(log), rebuilt, count=1)


def main() -> int:
    REPORT.write_text(render(REPORT.read_text(encoding="utf-8"), LOG.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
