"""Small-number suppression for a report marked for publication (docs/architecture.md#the-standard-monthly-report).
Pure functions over named counts; nothing here reads the database.

The rule, in two steps:

1. **Primary**: every count from 1 to 7 is withheld (shown as "*"). Zero is shown: a withheld cell is
   therefore known to be at least 1, and the arithmetic below assumes a reader knows that.
2. **Secondary**: a report's figures are tied by published identities (`Relation`: a total is the sum
   of its parts, e.g. the three routes and "route not known yet" add up to all calls). A reader who
   knows the identities can subtract. We play that reader: starting from what is shown, each
   identity narrows every withheld cell to an interval (the parts' sum equals the total, each
   withheld cell lies in 1..7 if it was withheld for being small, else 1..∞, which is more than a
   real reader knows), repeated across all identities until nothing narrows further. Whenever a withheld
   cell is narrowed to a single value, one more cell of the identity that pinned it is withheld: its
   smallest non-zero shown part (the first in the report's order on a tie), or else its total. This
   repeats until no withheld cell can be worked out. Zeros are never withheld.

An identity that the figures do not satisfy (e.g. an acute call closed before its outcome rule
existed) tells a reader nothing true, so it is left out of the reasoning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SMALL_MAX = 7  # counts from 1 to this are withheld
UNBOUNDED = 10**12


@dataclass(frozen=True)
class Relation:
    """`total` = the sum of `parts` (each a figure's key)."""

    total: str
    parts: tuple[str, ...]

    def cells(self) -> tuple[str, ...]:
        return (self.total, *self.parts)

    def holds(self, values: Mapping[str, int]) -> bool:
        return all(key in values for key in self.cells()) and values[self.total] == sum(values[p] for p in self.parts)


def primary(values: Mapping[str, int]) -> set[str]:
    return {key for key, value in values.items() if 1 <= value <= SMALL_MAX}


def reader_bounds(
    values: Mapping[str, int], withheld: set[str], relations: Sequence[Relation]
) -> dict[str, tuple[int, int]]:
    """What a reader can work out of each figure: an interval (shown figures are exact), narrowed
    through every identity that holds until nothing changes."""
    bounds = {
        key: (value, value) if key not in withheld else (1, SMALL_MAX if value <= SMALL_MAX else UNBOUNDED)
        for key, value in values.items()
    }
    usable = [relation for relation in relations if relation.holds(values)]
    changed = True
    while changed:
        changed = False
        for relation in usable:
            # sum(parts) - total = 0: each term's range from the others' ranges.
            terms = [(relation.total, -1), *((part, 1) for part in relation.parts)]
            for key, sign in terms:
                low_rest = high_rest = 0
                for other, other_sign in terms:
                    if other == key:
                        continue
                    lo, hi = bounds[other]
                    low_rest += other_sign * (lo if other_sign > 0 else hi)
                    high_rest += other_sign * (hi if other_sign > 0 else lo)
                # sign * x = -(rest), so x lies in [-high_rest, -low_rest] * sign
                lo_x, hi_x = (-high_rest, -low_rest) if sign > 0 else (low_rest, high_rest)
                lo, hi = bounds[key]
                new = (max(lo, lo_x), min(hi, hi_x))
                if new != (lo, hi) and new[0] <= new[1]:
                    bounds[key] = new
                    changed = True
    return bounds


def recoverable(values: Mapping[str, int], withheld: set[str], relations: Sequence[Relation]) -> list[str]:
    """Withheld figures a reader could work out exactly from the shown ones and the identities."""
    bounds = reader_bounds(values, withheld, relations)
    return sorted(key for key in withheld if bounds[key][0] == bounds[key][1])


def suppress(values: Mapping[str, int], relations: Sequence[Relation]) -> set[str]:
    """The keys to withhold: primary, then secondary until nothing withheld can be worked out."""
    withheld = primary(values)
    order = {key: index for index, key in enumerate(values)}
    usable = [relation for relation in relations if relation.holds(values)]
    while pinned := recoverable(values, withheld, usable):
        added = False
        for key in pinned:
            for relation in (r for r in usable if key in r.cells()):
                candidate = _next_to_withhold(values, withheld, relation, order)
                if candidate is not None:
                    withheld.add(candidate)
                    added = True
                    break
            if added:
                break
        if not added:  # nothing left to withhold beside it: withhold every non-zero figure of the report
            everything = {key for key, value in values.items() if value}
            if everything <= withheld:
                break
            withheld |= everything
    return withheld


def _next_to_withhold(
    values: Mapping[str, int], withheld: set[str], relation: Relation, order: Mapping[str, int]
) -> str | None:
    shown_parts = [part for part in relation.parts if part not in withheld and values[part] > 0]
    if shown_parts:
        return min(shown_parts, key=lambda part: (values[part], order[part]))
    if relation.total not in withheld and values[relation.total] > 0:
        return relation.total
    return None
