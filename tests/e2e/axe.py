"""The one accessibility check of the browser tests (docs/architecture.md#testing): axe-core's WCAG
2.2 A and AA rules and its best-practice rules, on the page as it is now, with no exceptions."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

AXE = Axe()  # the axe-core the package bundles (4.12.1); no Node needed

# Without runOnly axe runs every rule, including the experimental ones, so name the tags.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}


def axe_violations(page: Page) -> list[dict]:
    """Every violation axe-core finds on the page. axe.run waits for the page's timers: never call
    it while a test's fake clock is paused, nor with JavaScript off."""
    return AXE.run(page, options=OPTIONS).response["violations"]


def describe(violations: list[dict]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']}: {[node['target'] for node in v['nodes']]}" for v in violations
    )


def assert_accessible(page: Page, where: str) -> None:
    """Fail naming each violation, its rule and the elements it was found on."""
    violations = axe_violations(page)
    assert violations == [], f"{where}: {describe(violations)}"
