"""A bounded, lock-safe memory of a pure function's answers (docs/architecture.md#improvement-charts): what the
improvement charts work out and draw from their figures, remembered per process under the figures themselves.

Keyed by value, never by where the value came from: an answer is found again only for the very same inputs (every
month's figure, the months, the recorded changes and baselines as positions, the run length, the target and the
words), so nothing can make it stale and nothing has to invalidate it. A call, a rebuilt day, a change recorded or
removed, a baseline fixed, another run length or target, an answer to the daily check: each gives other inputs,
hence another key, and the old answer is simply never asked for again (the least recently used is dropped)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

_ALL: list[Remembered] = []


class Remembered(Generic[T]):
    """At most `size` answers, the least recently used dropped first. The lock guards the dictionary only: an
    answer is worked out outside it (two threads may both work one out; the same inputs give the same answer)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Hashable, work_out: Callable[[], T]) -> T:
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        answer = work_out()  # an exception (a series the arithmetic refuses) is raised, and nothing remembered
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer

    def __len__(self) -> int:
        return len(self._answers)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


def forget() -> None:
    """Drop every remembered answer (tests: to count the work done)."""
    for memory in _ALL:
        memory.clear()
