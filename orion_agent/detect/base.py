"""What every detector offers, and the small running statistics they share.

The windows are durations, not point counts, so a detector behaves the same whether its series is scraped every
15 seconds or every 5 minutes; the long windows keep per-interval sums (buckets) rather than every point, so their
cost and size do not grow with the scrape rate. Every structure can be saved to and rebuilt from plain JSON data
(`snapshot` / `restore`), which is how the agent keeps its detectors across restarts.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol

EPOCH = datetime(1970, 1, 1)


class Detector(Protocol):
    """An online anomaly detector: fed one point at a time, in time order, it answers from past points only."""

    def update(self, timestamp: datetime, value: float) -> float:
        """Learn `value` and return how anomalous it is, in [0, 1]."""
        ...


class Restorable(Protocol):
    """A part of a detector's state that can be rebuilt from its `snapshot()` data."""

    def restore(self, state: Any, what: str) -> None:
        """Replace the state by `state`; StateError names `what` (the field) and what does not fit."""
        ...


class StateError(ValueError):
    """Saved detector state that cannot be restored: what was expected and what was found."""


def seconds_of(timestamp: datetime) -> float:
    """Seconds since 1970 of a naive (taken as UTC) or aware timestamp; never the machine's local time zone."""
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(UTC).replace(tzinfo=None)
    return (timestamp - EPOCH).total_seconds()


def two_sided_tail(z: float) -> float:
    """Probability that a normal variable lies at least |z| standard deviations from its mean."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def require(condition: bool, what: str) -> None:
    if not condition:
        raise StateError(what)


# Integers a state file may hold: JSON's exact ones. A count beyond them is no count a detector reached, and
# arithmetic on it overflows floats later, in the middle of an update.
LARGEST_INTEGER = 2**53


def as_float(value: Any, what: str) -> float:
    require(isinstance(value, int | float) and not isinstance(value, bool), f"{what}: expected a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise StateError(f"{what}: expected a finite number, got an integer of {len(str(value))} digits") from None
    require(math.isfinite(number), f"{what}: expected a finite number, got {number}")
    return number


def as_int(value: Any, what: str) -> int:
    require(isinstance(value, int) and not isinstance(value, bool), f"{what}: expected an integer")
    require(abs(value) <= LARGEST_INTEGER, f"{what}: expected an integer of at most 2**53, got {value}")
    return int(value)


class WindowStats:
    """Mean and standard deviation of the values of the last `duration` seconds, kept as sums per `resolution`
    seconds: O(1) amortised per value, memory `duration / resolution` buckets whatever the scrape rate."""

    def __init__(self, duration: float, resolution: float) -> None:
        self.duration = duration
        self.resolution = resolution
        self._slots = max(1, math.ceil(duration / resolution))
        # [bucket index, count, sum, sum of squares], oldest first.
        self._buckets: deque[list[float]] = deque()
        # Sums are kept relative to the first value seen so large, nearly constant series (bytes) keep their precision.
        self._origin: float | None = None
        self._count = 0
        self._sum = 0.0
        self._sum_squares = 0.0
        self._pushes_since_resum = 0

    def __len__(self) -> int:
        return self._count

    def expire(self, seconds: float) -> None:
        """Forget the buckets that lie wholly `duration` or more before `seconds`."""
        oldest_kept = math.floor(seconds / self.resolution) - self._slots + 1
        while self._buckets and self._buckets[0][0] < oldest_kept:
            _, count, total, squares = self._buckets.popleft()
            self._count -= int(count)
            self._sum -= total
            self._sum_squares -= squares
        if not self._buckets:
            self._count, self._sum, self._sum_squares = 0, 0.0, 0.0

    def forget_before(self, seconds: float) -> tuple[float, float] | None:
        """Forget the buckets that begin before `seconds` (a change that lasted makes the older values another
        regime); the mean and standard deviation of what was forgotten, None when it was fewer than 2 values."""
        first_kept = math.floor(seconds / self.resolution)
        forgotten = [0, 0.0, 0.0]
        while self._buckets and self._buckets[0][0] < first_kept:
            _, count, total, squares = self._buckets.popleft()
            self._count -= int(count)
            self._sum -= total
            self._sum_squares -= squares
            forgotten[0] += int(count)
            forgotten[1] += total
            forgotten[2] += squares
        if not self._buckets:
            self._count, self._sum, self._sum_squares = 0, 0.0, 0.0
        count, total, squares = forgotten
        if count < 2 or self._origin is None:
            return None
        centred = total / count
        return self._origin + centred, math.sqrt(max(squares / count - centred * centred, 0.0))

    def push(self, seconds: float, value: float) -> None:
        if self._origin is None:
            self._origin = value
        shifted = value - self._origin
        index = math.floor(seconds / self.resolution)
        if self._buckets and self._buckets[-1][0] == index:
            bucket = self._buckets[-1]
            bucket[1] += 1
            bucket[2] += shifted
            bucket[3] += shifted * shifted
        else:
            self._buckets.append([index, 1, shifted, shifted * shifted])
        self._count += 1
        self._sum += shifted
        self._sum_squares += shifted * shifted
        self.expire(seconds)
        self._pushes_since_resum += 1
        if self._pushes_since_resum >= self._slots:
            # Adding and removing for months drifts the sums; summing afresh once a window keeps O(1) amortised cost.
            self._pushes_since_resum = 0
            self._sum = math.fsum(bucket[2] for bucket in self._buckets)
            self._sum_squares = math.fsum(bucket[3] for bucket in self._buckets)

    @property
    def mean(self) -> float:
        if not self._count or self._origin is None:
            return 0.0
        return self._origin + self._sum / self._count

    @property
    def std(self) -> float:
        if self._count < 2:
            return 0.0
        centred = self._sum / self._count
        return math.sqrt(max(self._sum_squares / self._count - centred * centred, 0.0))

    def snapshot(self) -> dict[str, Any]:
        # The running sums too, not only the buckets: a restored window then continues bit for bit.
        return {
            "origin": self._origin,
            "buckets": [list(bucket) for bucket in self._buckets],
            "sums": [self._sum, self._sum_squares, self._pushes_since_resum],
        }

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, dict), f"{what}: expected a table")
        origin = state.get("origin")
        self._origin = None if origin is None else as_float(origin, f"{what}.origin")
        buckets = state.get("buckets")
        require(isinstance(buckets, list), f"{what}.buckets: expected a list")
        self._buckets.clear()
        for position, bucket in enumerate(buckets):
            where = f"{what}.buckets[{position}]"
            require(isinstance(bucket, list) and len(bucket) == 4, f"{where}: expected [index, count, sum, squares]")
            index, count = as_int(bucket[0], where), as_int(bucket[1], where)
            require(count >= 1, f"{where}: expected a count of at least 1")
            self._buckets.append([index, count, as_float(bucket[2], where), as_float(bucket[3], where)])
        require(not self._buckets or self._origin is not None, f"{what}: buckets without an origin")
        self._count = sum(int(bucket[1]) for bucket in self._buckets)
        sums = state.get("sums")
        require(isinstance(sums, list) and len(sums) == 3, f"{what}.sums: expected [sum, squares, pushes]")
        self._sum = as_float(sums[0], f"{what}.sums")
        self._sum_squares = as_float(sums[1], f"{what}.sums")
        self._pushes_since_resum = as_int(sums[2], f"{what}.sums")


class RecentMean:
    """Mean of the values of the last `duration` seconds, every value kept (the window is short)."""

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self._values: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._pushes_since_resum = 0

    def __len__(self) -> int:
        return len(self._values)

    def push(self, seconds: float, value: float) -> None:
        self._values.append((seconds, value))
        self._sum += value
        while self._values and self._values[0][0] <= seconds - self.duration:
            self._sum -= self._values.popleft()[1]
        self._pushes_since_resum += 1
        if self._pushes_since_resum >= 256:
            self._pushes_since_resum = 0
            self._sum = math.fsum(value for _, value in self._values)

    @property
    def mean(self) -> float:
        return self._sum / len(self._values) if self._values else 0.0

    def snapshot(self) -> dict[str, Any]:
        return {
            "values": [[seconds, value] for seconds, value in self._values],
            "sum": [self._sum, self._pushes_since_resum],
        }

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, dict), f"{what}: expected a table")
        values = state.get("values")
        require(isinstance(values, list), f"{what}.values: expected a list")
        self._values.clear()
        for position, pair in enumerate(values):
            where = f"{what}.values[{position}]"
            require(isinstance(pair, list) and len(pair) == 2, f"{where}: expected [seconds, value]")
            self._values.append((as_float(pair[0], where), as_float(pair[1], where)))
        running = state.get("sum")
        require(isinstance(running, list) and len(running) == 2, f"{what}.sum: expected [sum, pushes]")
        self._sum = as_float(running[0], f"{what}.sum")
        self._pushes_since_resum = as_int(running[1], f"{what}.sum")


class WindowMax:
    """Maximum of the values of the last `duration` seconds, to `resolution` seconds (a monotonic queue of at most
    `duration / resolution` entries), amortised O(1) per value."""

    def __init__(self, duration: float, resolution: float) -> None:
        self.duration = duration
        self.resolution = resolution
        self._slots = max(1, math.ceil(duration / resolution))
        # (bucket index, value), values strictly decreasing from the front.
        self._candidates: deque[tuple[int, float]] = deque()

    def expire(self, seconds: float) -> None:
        oldest_kept = math.floor(seconds / self.resolution) - self._slots + 1
        while self._candidates and self._candidates[0][0] < oldest_kept:
            self._candidates.popleft()

    def push(self, seconds: float, value: float) -> None:
        index = math.floor(seconds / self.resolution)
        while self._candidates and self._candidates[-1][1] <= value:
            self._candidates.pop()
        # A larger value of the same bucket is already queued, and it lives exactly as long as this one would.
        if not self._candidates or self._candidates[-1][0] != index:
            self._candidates.append((index, value))
        self.expire(seconds)

    @property
    def value(self) -> float:
        return self._candidates[0][1] if self._candidates else 0.0

    def snapshot(self) -> list[list[float]]:
        return [[index, value] for index, value in self._candidates]

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, list), f"{what}: expected a list")
        self._candidates.clear()
        for position, pair in enumerate(state):
            where = f"{what}[{position}]"
            require(isinstance(pair, list) and len(pair) == 2, f"{where}: expected [index, value]")
            self._candidates.append((as_int(pair[0], where), as_float(pair[1], where)))
