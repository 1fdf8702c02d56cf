"""The README stays true: every environment variable the app reads is documented, and the Quick
start holds exactly the two commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_environment_variable_is_documented():
    sources = (ROOT / "config.py").read_text() + (ROOT / "tests" / "conftest.py").read_text()
    names = set(re.findall(r'env(?:_int|_float|_bool|_list)?\(\s*"([A-Z_]+)"', sources))
    names |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', sources))
    assert names, "no variables found"
    undocumented = sorted(name for name in names if f"`{name}`" not in README)
    assert undocumented == []


def test_the_quick_start_has_exactly_two_shell_blocks():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick_start, flags=re.S)
    assert len(blocks) == 2
    assert "tracker serve" in blocks[0]
    assert "pytest" in blocks[1] and "requirements-dev.txt" in blocks[1] and "npm ci" in blocks[1]
