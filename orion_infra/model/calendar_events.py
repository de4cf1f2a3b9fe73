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
"""

from __future__ import annotations

import re
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
WEEKDAYS = frozenset(
    {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)
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

    def check_step(self, text: str) -> None:
        if not text.isdigit() or not 1 <= int(text) <= self.high:
            raise CalendarEventError(f"a {self.name} step must be 1-{self.high}, got {text!r}")


YEAR = _Field("year", 1970, 2199)
MONTH = _Field("month", 1, 12)
DAY = _Field("day", 1, 31)
HOUR = _Field("hour", 0, 23)
MINUTE = _Field("minute", 0, 59)
SECOND = _Field("second", 0, 59)


def calendar_event_problem(text: str) -> str | None:
    """Why Proxmox would not run a backup at the times `text` says, or None when it would."""
    try:
        _event(text)
    except CalendarEventError as why:
        return str(why)
    return None


def _event(text: str) -> None:
    body = text.removesuffix("UTC").rstrip(" ") if text.endswith("UTC") else text
    if body in KEYWORDS:
        return
    parts = body.split()
    if not parts:
        raise CalendarEventError("it names no weekday, date or time")
    if parts[0][0].isalpha():
        _weekdays(parts.pop(0))
    if parts and "-" in parts[0]:
        _date(parts.pop(0))
    if parts:
        _time(parts.pop(0))
    if parts:
        raise CalendarEventError(f"{' '.join(parts)!r} follows the time; the order is weekdays, date, time")


def _weekdays(text: str) -> None:
    for item in text.split(","):
        for day in item.split("..", 1):
            if day.lower() not in WEEKDAYS:
                hint = f"; {day} stands alone, without a date or time" if day in KEYWORDS else ""
                raise CalendarEventError(f"{day!r} is not a weekday (mon..sun){hint}")


def _date(text: str) -> None:
    fields = text.split("-")
    if len(fields) not in (2, 3):
        raise CalendarEventError(f"{text!r} is not a date ([YEAR-]MONTH-DAY)")
    for value, field in zip(fields, (YEAR, MONTH, DAY)[3 - len(fields) :], strict=True):
        _values(value, field)


def _time(text: str) -> None:
    fields = text.split(":")
    if len(fields) > 3:
        raise CalendarEventError(f"{text!r} is not a time ([HOUR:]MINUTE[:SECOND])")
    for value, field in zip(
        fields, {1: (MINUTE,), 2: (HOUR, MINUTE), 3: (HOUR, MINUTE, SECOND)}[len(fields)], strict=True
    ):
        _values(value, field)


def _values(text: str, field: _Field) -> None:
    if text.startswith("*"):
        rest = text[1:]
        if rest.startswith("/"):
            field.check_step(rest[1:])
        elif rest:
            raise CalendarEventError(f"{text!r} is not a {field.name} (*, */STEP or values)")
        return
    for component in text.split(","):
        found = _COMPONENT.fullmatch(component)
        if found is None:
            raise CalendarEventError(
                f"{component!r} is not a {field.name} (a number, FIRST..LAST, VALUE/STEP, FIRST..LAST/STEP or *)"
            )
        first = field.check(found["first"])
        if found["last"] is not None and field.check(found["last"]) < first:
            raise CalendarEventError(f"the {field.name} range {component} ends before it starts")
        if found["step"] is not None:
            field.check_step(found["step"])
