"""Calendar events as Proxmox VE reads them for backup jobs: a documented subset of systemd.time's, checked by
structure and by the range of each value, not by the characters it is written with.

Proxmox parses a schedule with proxmox-time (`CalendarEvent`), a reimplementation of systemd's calendar events:

    [WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:]MINUTE[:SECOND]       at least one of the three parts
    minutely | hourly | daily | weekly | monthly | yearly | annually | quarterly | semiannually | semi-annually

each optionally followed by ` UTC`. WEEKDAYS is a comma-separated list of days (mon or monday, any case) and
ranges (mon..fri; sat..mon wraps). Each date and time value is `*`, `*/STEP`, or a comma-separated list of
`VALUE`, `FIRST..LAST`, `VALUE/STEP` and `FIRST..LAST/STEP`. Values range over the year 1970-2199, month 1-12,
day 1-31, hour 0-23, minute and second 0-59; a step is 1 up to the field's largest value. A missing time is
00:00:00, a missing second is :00.

The subset is stricter than proxmox-time where it reads a value other than as written: `25:00` is an hour that does
not exist here, where proxmox-time takes it for minute 25 of every hour; month and day 0, a step of 0 and years
before 1970 (which never come) are refused; parts are separated by spaces. What systemd has and proxmox-time lacks
(`~` for the last days of a month, fractional seconds, time zone names) is refused too.

An event must come: `*-02-30` parses, and Proxmox would never run it. `next_day` computes the first day on or after
a date that the event names, from its parsed days (years, months, days of the month, weekdays): every day it names
has at least one time, so a day is an occurrence. The search is bounded by the last year an event can name (2199);
February 29 comes in leap years only. Days are judged as dates, not instants: an event for later today comes.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

KEYWORDS = frozenset(
    {
        "minutely",
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "yearly",
        "annually",
        "quarterly",
        "semiannually",
        "semi-annually",
    }
)
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Weekday names, short and long, by their number (Monday is 0, as datetime.date.weekday() counts).
WEEKDAY_NUMBERS = {name: number for number, long in enumerate(_DAY_NAMES) for name in (long, long[:3])}
_COMPONENT = re.compile(r"^(?P<first>[0-9]+)(?:\.\.(?P<last>[0-9]+))?(?:/(?P<step>[0-9]+))?$")


class CalendarEventError(ValueError):
    """Why a text is not a calendar event Proxmox schedules as written."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int

    def check(self, text: str) -> int:
        value = int(text)
        if not self.low <= value <= self.high:
            raise CalendarEventError(f"{self.name} {value} is not {self.low}-{self.high}")
        return value

    def check_step(self, text: str) -> int:
        if not text.isdigit() or not 1 <= int(text) <= self.high:
            raise CalendarEventError(f"a {self.name} step must be 1-{self.high}, got {text!r}")
        return int(text)


YEAR = _Field("year", 1970, 2199)
MONTH = _Field("month", 1, 12)
DAY = _Field("day", 1, 31)
HOUR = _Field("hour", 0, 23)
MINUTE = _Field("minute", 0, 59)
SECOND = _Field("second", 0, 59)


@dataclass(frozen=True)
class Event:
    """The days a calendar event names: a day is one when its year, month, day of the month and weekday are all
    named. `years` is None for every year. (Each day named has times: no value list is ever empty.)"""

    weekdays: frozenset[int]
    years: frozenset[int] | None
    months: frozenset[int]
    days: frozenset[int]

    def days_in(self, years: Iterable[int]) -> Iterator[datetime.date]:
        """The days the event names in `years`, in the order the years are given, each year's in calendar order."""
        for year in years:
            if self.years is not None and year not in self.years:
                continue
            for month in sorted(self.months):
                for day in sorted(self.days):
                    if day > calendar.monthrange(year, month)[1]:
                        break
                    date = datetime.date(year, month, day)
                    if date.weekday() in self.weekdays:
                        yield date


_EVERY_DAY = Event(frozenset(range(7)), None, frozenset(range(1, 13)), frozenset(range(1, 32)))
_KEYWORD_EVENTS = {
    "minutely": _EVERY_DAY,
    "hourly": _EVERY_DAY,
    "daily": _EVERY_DAY,
    "weekly": Event(frozenset({0}), None, _EVERY_DAY.months, _EVERY_DAY.days),
    "monthly": Event(_EVERY_DAY.weekdays, None, _EVERY_DAY.months, frozenset({1})),
    "yearly": Event(_EVERY_DAY.weekdays, None, frozenset({1}), frozenset({1})),
    "annually": Event(_EVERY_DAY.weekdays, None, frozenset({1}), frozenset({1})),
    "quarterly": Event(_EVERY_DAY.weekdays, None, frozenset({1, 4, 7, 10}), frozenset({1})),
    "semiannually": Event(_EVERY_DAY.weekdays, None, frozenset({1, 7}), frozenset({1})),
    "semi-annually": Event(_EVERY_DAY.weekdays, None, frozenset({1, 7}), frozenset({1})),
}
# The most days each month has (February's 29 in a leap year), and its name (not the locale's).
_LONGEST_MONTHS = {month: calendar.monthrange(2000, month)[1] for month in range(1, 13)}
_MONTH_NAMES = (
    *("", "January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def parse(text: str) -> Event:
    """The days `text` names; CalendarEventError says why it is not an event of the subset, that is why Proxmox
    would not run a job at the times `text` says (a day it names that never comes is `never_comes`'s)."""
    body = text.removesuffix("UTC").rstrip(" ") if text.endswith("UTC") else text
    if body in KEYWORDS:
        return _KEYWORD_EVENTS[body]
    parts = body.split()
    if not parts:
        raise CalendarEventError("it names no weekday, date or time")
    weekdays = _EVERY_DAY.weekdays
    years, months, days = None, _EVERY_DAY.months, _EVERY_DAY.days
    if parts[0][0].isalpha():
        weekdays = _weekdays(parts.pop(0))
    if parts and "-" in parts[0]:
        years, months, days = _date(parts.pop(0))
    if parts:
        _time(parts.pop(0))
    if parts:
        raise CalendarEventError(f"{' '.join(parts)!r} follows the time; the order is weekdays, date, time")
    return Event(weekdays, years, months, days)


def next_day(event: Event, since: datetime.date) -> datetime.date | None:
    """The first day on or after `since` that `event` names, or None if none comes by the end of YEAR's range."""
    return next((day for day in event.days_in(range(since.year, YEAR.high + 1)) if day >= since), None)


def never_comes(event: Event, today: datetime.date) -> str | None:
    """Why `event` names no day from `today` on, or None when a day comes."""
    if next_day(event, today) is not None:
        return None
    if not any(day <= _LONGEST_MONTHS[month] for month in event.months for day in event.days):
        months = [_MONTH_NAMES[month] for month in sorted(event.months)]
        named = months[0] if len(months) == 1 else f"{', '.join(months[:-1])} and {months[-1]}"
        return f"{named} {'has' if len(months) == 1 else 'have'} no day {min(event.days)}"
    for year in range(today.year, YEAR.low - 1, -1):
        past = [day for day in event.days_in([year]) if day < today]
        if past:
            return f"its last day, {past[-1]}, is before today ({today})"
    every_weekday = Event(_EVERY_DAY.weekdays, event.years, event.months, event.days)
    if next_day(every_weekday, today) is not None:
        return "none of the days it names falls on one of its weekdays"
    leap = " (February 29 comes in leap years only)" if 2 in event.months and 29 in event.days else ""
    return f"none of the dates it names exists{leap}"


def _weekdays(text: str) -> frozenset[int]:
    named: set[int] = set()
    for item in text.split(","):
        ends = item.split("..", 1)
        for day in ends:
            if day.lower() not in WEEKDAY_NUMBERS:
                hint = f"; {day} stands alone, without a date or time" if day in KEYWORDS else ""
                raise CalendarEventError(f"{day!r} is not a weekday (mon..sun){hint}")
        first, last = WEEKDAY_NUMBERS[ends[0].lower()], WEEKDAY_NUMBERS[ends[-1].lower()]
        # A range runs forward through the week: sat..mon is Saturday, Sunday and Monday.
        named.update((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    return frozenset(named)


def _date(text: str) -> tuple[frozenset[int] | None, frozenset[int], frozenset[int]]:
    fields = text.split("-")
    if len(fields) not in (2, 3):
        raise CalendarEventError(f"{text!r} is not a date ([YEAR-]MONTH-DAY)")
    values = [_values(value, field) for value, field in zip(fields, (YEAR, MONTH, DAY)[3 - len(fields) :], strict=True)]
    years = values[0] if len(fields) == 3 and fields[0] != "*" else None
    return years, values[-2], values[-1]


def _time(text: str) -> None:
    fields = text.split(":")
    if len(fields) > 3:
        raise CalendarEventError(f"{text!r} is not a time ([HOUR:]MINUTE[:SECOND])")
    for value, field in zip(
        fields, {1: (MINUTE,), 2: (HOUR, MINUTE), 3: (HOUR, MINUTE, SECOND)}[len(fields)], strict=True
    ):
        _values(value, field)


def _values(text: str, field: _Field) -> frozenset[int]:
    """The values `text` names of `field` (never none: a list, a range or a step names its first value at least)."""
    if text.startswith("*"):
        rest = text[1:]
        if rest.startswith("/"):
            return frozenset(range(field.low, field.high + 1, field.check_step(rest[1:])))
        if rest:
            raise CalendarEventError(f"{text!r} is not a {field.name} (*, */STEP or values)")
        return frozenset(range(field.low, field.high + 1))
    named: set[int] = set()
    for component in text.split(","):
        found = _COMPONENT.fullmatch(component)
        if found is None:
            raise CalendarEventError(
                f"{component!r} is not a {field.name} (a number, FIRST..LAST, VALUE/STEP, FIRST..LAST/STEP or *)"
            )
        first = field.check(found["first"])
        last = first
        if found["last"] is not None:
            last = field.check(found["last"])
            if last < first:
                raise CalendarEventError(f"the {field.name} range {component} ends before it starts")
        step = 1
        if found["step"] is not None:
            step = field.check_step(found["step"])
            if found["last"] is None:
                last = field.high  # VALUE/STEP repeats to the field's end
        named.update(range(first, last + 1, step))
    return frozenset(named)
