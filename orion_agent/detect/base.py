"""What every detector offers, and the small running statistics they share."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Protocol


class Detector(Protocol):
    """An online anomaly detector: fed one point at a time, in time order, it answers from past points only."""

    def update(self, timestamp: datetime, value: float) -> float:
        """Learn `value` and return how anomalous it is, in [0, 1]."""
        ...


def two_sided_tail(z: float) -> float:
    """Probability that a normal variable lies at least |z| standard deviations from its mean."""
    return math.erfc(abs(z) / math.sqrt(2.0))


class RollingStats:
    """Mean and standard deviation of the last `size` values, O(1) per value."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: deque[float] = deque()
        self._pushes_since_resum = 0
        # Sums are kept relative to the first value seen so large, nearly constant series (bytes) keep their precision.
        self._origin: float | None = None
        self._sum = 0.0
        self._sum_squares = 0.0

    def __len__(self) -> int:
        return len(self._values)

    def push(self, value: float) -> None:
        if self._origin is None:
            self._origin = value
        shifted = value - self._origin
        self._values.append(shifted)
        self._sum += shifted
        self._sum_squares += shifted * shifted
        if len(self._values) > self.size:
            dropped = self._values.popleft()
            self._sum -= dropped
            self._sum_squares -= dropped * dropped
        self._pushes_since_resum += 1
        if self._pushes_since_resum >= self.size:
            # Adding and removing for months drifts the sums; summing afresh once a window keeps O(1) amortised cost.
            self._pushes_since_resum = 0
            self._sum = math.fsum(self._values)
            self._sum_squares = math.fsum(v * v for v in self._values)

    @property
    def mean(self) -> float:
        if not self._values or self._origin is None:
            return 0.0
        return self._origin + self._sum / len(self._values)

    @property
    def std(self) -> float:
        count = len(self._values)
        if count < 2:
            return 0.0
        centred = self._sum / count
        return math.sqrt(max(self._sum_squares / count - centred * centred, 0.0))


class RollingMax:
    """Maximum of the last `size` values, amortised O(1) per value (a monotonic queue)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._count = 0
        self._candidates: deque[tuple[int, float]] = deque()

    def push(self, value: float) -> None:
        while self._candidates and self._candidates[-1][1] <= value:
            self._candidates.pop()
        self._candidates.append((self._count, value))
        self._count += 1
        if self._candidates[0][0] <= self._count - 1 - self.size:
            self._candidates.popleft()

    @property
    def value(self) -> float:
        return self._candidates[0][1] if self._candidates else 0.0
