"""The dashboard's percentiles over a period's runs of durations (services/reports/percentiles.py:
`order_statistics`), found without merging them, equal those of the runs merged and sorted: over runs of every
length (short ones give the sample nothing), skewed runs, ties, and the ends."""

from __future__ import annotations

import random
from array import array

import pytest

from tracker.services.reports.percentiles import _percentile, order_statistics, percentile_of_runs


def runs_of(seed: int) -> list[array]:
    rng = random.Random(seed)
    count = rng.choice([1, 2, 5, 60, 700])
    spread = rng.choice([3, 1000, 10**10])
    runs = []
    for n in range(count):
        length = rng.randrange(rng.choice([2, 6, 90, 400]))
        skew = 1000 if n % 7 == 0 else 1  # some days far slower than the rest
        runs.append(array("q", sorted(rng.randrange(spread) * skew for _ in range(length))))
    return runs


@pytest.mark.parametrize("seed", range(120))
def test_order_statistics_equal_those_of_the_merged_runs(seed):
    runs = runs_of(seed)
    merged = sorted(value for run in runs for value in run)
    if not merged:
        assert order_statistics(runs, [0]) == {}
        assert percentile_of_runs(runs, 0.5) is None
        return
    rng = random.Random(seed)
    positions = sorted({0, len(merged) - 1, *(rng.randrange(len(merged)) for _ in range(4))})
    assert order_statistics(runs, positions) == {position: merged[position] for position in positions}
    for p in (0.5, 0.9):
        assert percentile_of_runs(runs, p) == _percentile(merged, p)


def test_a_window_that_misses_is_widened_until_it_holds_the_position():
    # Half the values in runs too short to be sampled: the sample's guess is far off.
    runs = [array("q", [n]) for n in range(5000)] + [array("q", range(10**6, 10**6 + 5000))]
    merged = sorted(value for run in runs for value in run)
    assert order_statistics(runs, [2500, 4999, 5000, 9999]) == {p: merged[p] for p in (2500, 4999, 5000, 9999)}
