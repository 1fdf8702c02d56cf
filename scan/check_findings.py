"""Compare the scanners' reports with the reviewed list (scan/reviewed-findings.md).

Every finding must match a reviewed entry (tool, rule, file or URL path with `*` as a wildcard, and a
piece of the flagged code or of the scanner's detail); a finding that matches none fails the run, and so
does a static entry that no longer matches anything, so the list never outgrows the code. A bandit
finding of high severity can never be reviewed away. Standard library only: it runs with any Python 3.11.

    check_findings.py static BANDIT_JSON SEMGREP_JSON
    check_findings.py wapiti ROLE WAPITI_JSON
    check_findings.py sqlmap ROLE SQLMAP_LOG

See docs/architecture.md#security.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
REVIEWED = ROOT / "scan" / "reviewed-findings.md"
CELL = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    where: str
    text: str
    severity: str = ""

    def __str__(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"{self.tool} {self.rule} {self.where}: {first[:160]}"


@dataclass(frozen=True)
class Entry:
    tool: str
    rule: str
    where: str
    contains: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (
            self.tool == finding.tool
            and self.rule == finding.rule
            and fnmatch.fnmatchcase(finding.where, self.where)
            and self.contains in finding.text
        )


def _cells(line: str) -> list[str]:
    cells = [cell.strip() for cell in CELL.split(line.strip().strip("|"))]
    return [cell.replace("\\|", "|").strip("`") for cell in cells]


def reviewed(path: Path = REVIEWED) -> list[Entry]:
    """The rows of every table whose header starts `| Tool | Rule |`."""
    entries, in_table = [], False
    for line in path.read_text().splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if cells[:2] == ["Tool", "Rule"]:
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            if len(cells) != 5 or not cells[4]:
                raise SystemExit(f"{path.name}: a reviewed finding needs five cells and a reason: {line}")
            entries.append(Entry(*cells))
    return entries


def _source(path: str, start: int, end: int) -> str:
    lines = (ROOT / path).read_text().splitlines()
    return "\n".join(lines[start - 1 : end])


def bandit_findings(report: dict) -> list[Finding]:
    return [
        Finding(
            "bandit",
            result["test_id"],
            result["filename"].removeprefix("./"),
            _source(result["filename"], result["line_range"][0], result["line_range"][-1]),
            result["issue_severity"],
        )
        for result in report["results"]
    ]


def semgrep_findings(report: dict) -> list[Finding]:
    if report.get("errors"):
        raise SystemExit(f"semgrep reported errors: {report['errors']}")
    return [
        Finding(
            "semgrep",
            result["check_id"].rsplit(".", 1)[-1],
            result["path"],
            _source(result["path"], result["start"]["line"], result["end"]["line"]),
        )
        for result in report["results"]
    ]


def wapiti_findings(report: dict) -> list[Finding]:
    """Vulnerabilities and anomalies (500s, timeouts); the informational 'additionals' are printed only."""
    found = []
    for section in ("vulnerabilities", "anomalies"):
        for category, items in report.get(section, {}).items():
            for item in items:
                detail = f"{item.get('parameter', '')} {item.get('info', '')}"
                found.append(Finding("wapiti", category, urlsplit(item.get("path", "")).path or "/", detail))
    return found


def sqlmap_findings(log: str) -> list[Finding]:
    """sqlmap says 'is vulnerable' or 'sqlmap identified the following injection point' on a hit."""
    hits = re.findall(r"^.*(?:identified the following injection point|parameter '[^']+' is vulnerable).*$", log, re.M)
    return [Finding("sqlmap", "sql-injection", "-", hit) for hit in hits]


def judge(findings: list[Finding], entries: list[Entry], *, stale_fails: bool) -> int:
    unreviewed = [f for f in findings if f.severity == "HIGH" or not any(e.matches(f) for e in entries)]
    stale = [e for e in entries if not any(e.matches(f) for f in findings)] if stale_fails else []
    print(f"{len(findings)} finding(s), {len(findings) - len(unreviewed)} reviewed")
    for finding in unreviewed:
        print(f"  UNREVIEWED{' (high severity: fix it)' if finding.severity == 'HIGH' else ''}: {finding}")
    for entry in stale:
        print(f"  STALE (no longer found; remove it from {REVIEWED.name}): {entry.tool} {entry.rule} {entry.where}")
    return 1 if unreviewed or stale else 0


def main(argv: list[str]) -> int:
    kind, *args = argv
    entries = reviewed()
    if kind == "static":
        bandit, semgrep = (json.loads(Path(a).read_text()) for a in args)
        mine = [e for e in entries if e.tool in ("bandit", "semgrep")]
        return judge(bandit_findings(bandit) + semgrep_findings(semgrep), mine, stale_fails=True)
    role, report = args
    print(f"{kind} as {role}: ", end="")
    if kind == "wapiti":
        return judge(wapiti_findings(json.loads(Path(report).read_text())), entries, stale_fails=False)
    if kind == "sqlmap":
        return judge(sqlmap_findings(Path(report).read_text()), entries, stale_fails=False)
    raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
