"""The vendored NHS.UK frontend is the pinned npm release, minus only its third-party font."""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "tracker" / "static"
PINNED = json.loads((ROOT / "package.json").read_text())["devDependencies"]["nhsuk-frontend"]
NPM_DIST = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"


def test_the_vendored_version_is_the_pinned_one():
    assert (STATIC / "NHSUK_FRONTEND_VERSION").read_text().strip() == PINNED
    assert (STATIC / f"nhsuk-frontend-{PINNED}.min.css").exists()
    assert (STATIC / f"nhsuk-frontend-{PINNED}.min.js").exists()


def test_the_stylesheet_loads_nothing_from_another_host():
    css = (STATIC / f"nhsuk-frontend-{PINNED}.min.css").read_text()
    assert "@font-face" not in css
    assert not re.search(r"url\((?!/assets/)", css), "every url() must be one of our own /assets/ files"


def test_every_image_the_stylesheet_uses_is_vendored():
    css = (STATIC / f"nhsuk-frontend-{PINNED}.min.css").read_text()
    for path in set(re.findall(r"url\(/assets/([^)]+)\)", css)):
        assert (STATIC / path).exists(), path


@pytest.mark.skipif(not NPM_DIST.exists(), reason="node_modules/nhsuk-frontend is absent (run npm ci to compare)")
def test_the_vendored_files_match_the_npm_package():
    js = (NPM_DIST / f"nhsuk-frontend-{PINNED}.min.js").read_text()
    ours = (STATIC / f"nhsuk-frontend-{PINNED}.min.js").read_text()
    assert re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js) == ours
    css = (NPM_DIST / f"nhsuk-frontend-{PINNED}.min.css").read_text()
    upstream = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", re.sub(r"@font-face\{[^}]*\}", "", css))
    assert upstream == (STATIC / f"nhsuk-frontend-{PINNED}.min.css").read_text()
    comparison = filecmp.dircmp(NPM_DIST / "assets" / "images", STATIC / "images")
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files
