"""The battery's running count, printed at the end of the session (tests/battery/conftest.py): per route family
(blueprint) the cases sent and how many were answered acceptably, and the requests and time in all."""

from __future__ import annotations

import time
from collections import defaultdict

cases: dict[str, int] = defaultdict(int)
passed: dict[str, int] = defaultdict(int)
requests = 0
started: float | None = None
elapsed = 0.0


def start() -> float:
    global started
    if started is None:
        started = time.perf_counter()
    return time.perf_counter()


def add(family: str, ok: bool) -> None:
    global requests
    requests += 1
    cases[family] += 1
    passed[family] += ok


def spent(since: float) -> None:
    global elapsed
    elapsed += time.perf_counter() - since


def lines() -> list[str]:
    rows = [f"{'route family':<14} {'cases':>7} {'passed':>7}"]
    for family in sorted(cases):
        rows.append(f"{family:<14} {cases[family]:>7} {passed[family]:>7}")
    rows.append(f"{'total':<14} {sum(cases.values()):>7} {sum(passed.values()):>7}")
    rows.append(f"{requests} requests (each case is one request; setup not counted) in {elapsed:.1f} s")
    return rows
