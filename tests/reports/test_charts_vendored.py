"""The vendored Chart.js is the release pinned in package.json, unchanged but for its source-map
comment, with its licence beside it, and nothing in it that the pages' Content Security Policy
would block (no eval, no new Function, no injected style elements)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VENDOR = ROOT / "tracker" / "static" / "vendor"
PINNED = json.loads((ROOT / "package.json").read_text())["devDependencies"]["chart.js"]
NPM_DIST = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"


def test_the_vendored_chart_js_is_the_pinned_version_with_its_licence():
    assert (VENDOR / "CHARTJS_VERSION").read_text().strip() == PINNED
    script = (VENDOR / f"chart-{PINNED}.umd.min.js").read_text()
    assert script.startswith("/*!\n * Chart.js v" + PINNED)
    assert "sourceMappingURL" not in script
    assert "MIT License" in (VENDOR / "chart.js-LICENSE.md").read_text()


def test_chart_js_needs_nothing_the_content_security_policy_forbids():
    script = (VENDOR / f"chart-{PINNED}.umd.min.js").read_text()
    assert not re.search(r"\beval\(|new Function\(|createElement\(\"style\"\)|setAttribute\(\"style\"", script)
    # The only addresses are in the licence comments of Chart.js and of the colour library it bundles.
    assert set(re.findall(r"https://[\w./-]+", script)) <= {
        "https://www.chartjs.org",
        "https://github.com/kurkle/color",
    }


@pytest.mark.skipif(not NPM_DIST.exists(), reason="node_modules/chart.js is absent (run npm ci to compare)")
def test_the_vendored_file_matches_the_npm_package():
    upstream = re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", NPM_DIST.read_text())
    assert upstream == (VENDOR / f"chart-{PINNED}.umd.min.js").read_text()
