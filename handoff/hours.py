"""Operators' working hours in a time zone.

    Schedule.parse("пн-пт 09:00-18:00; сб 10:00-14:00", "Europe/Moscow", "2027-01-01,2027-01-02")
    Schedule.parse("24/7")

Days are Russian («пн», «вт», …) or English («mon», «tue», …) abbreviations,
single or as a range («пн-пт», «сб-вс»); a window ending at or before it
starts runs past midnight («пт 20:00-02:00»). Holidays are closed all day.
Times given to the functions are aware datetimes or naive UTC (the database
convention); answers are in the schedule's time zone.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple
from zoneinfo import ZoneInfo

DAY_NAMES = {
    "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}
SHORT_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
WEEKDAY_ACCUSATIVE = ("в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
                      "в воскресенье")
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря")
ALWAYS = {"24/7", "always", "круглосуточно", "круглосуточно без выходных"}

Window = Tuple[dt.time, dt.time]
_PART = re.compile(r"^\s*([a-zа-я]{2,3})(?:\s*[-–]\s*([a-zа-я]{2,3}))?\s+(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class ScheduleError(ValueError):
    pass


def _aware(at: Optional[dt.datetime]) -> dt.datetime:
    if at is None:
        return dt.datetime.now(dt.timezone.utc)
    if at.tzinfo is None:
        return at.replace(tzinfo=dt.timezone.utc)
    return at


def _time(hours: str, minutes: str) -> dt.time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return dt.time(0, 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ScheduleError(f"no such time: {hours}:{minutes}")
    return dt.time(h, m)


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    windows: Dict[int, Tuple[Window, ...]] = field(default_factory=dict)
    holidays: FrozenSet[dt.date] = frozenset()
    always: bool = False
    spec: str = ""

    @classmethod
    def parse(cls, spec: str, timezone: str = "Europe/Moscow", holidays: str = "") -> "Schedule":
        try:
            tz = ZoneInfo(timezone)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise ScheduleError(f"unknown time zone {timezone!r}") from exc
        days = frozenset(dt.date.fromisoformat(d.strip()) for d in re.split(r"[,;\s]+", holidays or "") if d.strip())
        text = (spec or "").strip().lower()
        if text in ALWAYS:
            return cls(tz, {}, days, True, spec)
        windows: Dict[int, List[Window]] = {}
        for part in re.split(r"[;\n]+", text):
            if not part.strip():
                continue
            match = _PART.match(part)
            if not match:
                raise ScheduleError(f"cannot read {part.strip()!r}: expected «пн-пт 09:00-18:00»")
            first, last = match.group(1), match.group(2) or match.group(1)
            if first not in DAY_NAMES or last not in DAY_NAMES:
                raise ScheduleError(f"unknown day in {part.strip()!r}")
            start, end = _time(match.group(3), match.group(4)), _time(match.group(5), match.group(6))
            day, stop = DAY_NAMES[first], DAY_NAMES[last]
            while True:
                windows.setdefault(day, []).append((start, end))
                if day == stop:
                    break
                day = (day + 1) % 7
        if not windows:
            raise ScheduleError("the schedule has no working hours")
        return cls(tz, {d: tuple(sorted(w)) for d, w in windows.items()}, days, False, spec)

    # --- questions ---------------------------------------------------------

    def _intervals(self, day: dt.date) -> List[Tuple[dt.datetime, dt.datetime]]:
        """Working intervals that start on `day` (local), as aware datetimes."""
        if day in self.holidays:
            return []
        result = []
        for start, end in self.windows.get(day.weekday(), ()):
            begin = dt.datetime.combine(day, start, self.tz)
            finish_day = day if end > start else day + dt.timedelta(days=1)
            result.append((begin, dt.datetime.combine(finish_day, end, self.tz)))
        return result

    def is_open(self, at: Optional[dt.datetime] = None) -> bool:
        if self.always:
            return True
        local = _aware(at).astimezone(self.tz)
        for offset in (-1, 0):
            for begin, finish in self._intervals(local.date() + dt.timedelta(days=offset)):
                if begin <= local < finish:
                    return True
        return False

    def next_open(self, at: Optional[dt.datetime] = None) -> dt.datetime:
        """The moment operators are next at work (`at` itself when open), local time."""
        local = _aware(at).astimezone(self.tz)
        if self.is_open(local):
            return local
        for offset in range(0, 370):
            for begin, _ in self._intervals(local.date() + dt.timedelta(days=offset)):
                if begin > local:
                    return begin
        raise ScheduleError("operators never work under this schedule")

    # --- words -------------------------------------------------------------

    def zone_words(self) -> str:
        if self.tz.key == "Europe/Moscow":
            return "по московскому времени"
        return f"по времени {self.tz.key}"

    def describe(self) -> str:
        """«пн–пт 09:00–18:00, сб 10:00–14:00 по московскому времени»."""
        if self.always:
            return "круглосуточно"
        groups: List[Tuple[List[int], Tuple[Window, ...]]] = []
        for day in range(7):
            windows = self.windows.get(day)
            if not windows:
                continue
            if groups and groups[-1][1] == windows and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], windows))
        parts = []
        for days, windows in groups:
            name = SHORT_RU[days[0]] if len(days) == 1 else f"{SHORT_RU[days[0]]}–{SHORT_RU[days[-1]]}"
            spans = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in windows)
            parts.append(f"{name} {spans}")
        return ", ".join(parts) + " " + self.zone_words()

    def when_words(self, moment: dt.datetime, now: Optional[dt.datetime] = None) -> str:
        """«сегодня в 09:00», «завтра в 09:00», «в понедельник, 7 декабря, в 09:00» (+ zone)."""
        local = _aware(moment).astimezone(self.tz)
        today = _aware(now).astimezone(self.tz).date()
        clock = f"{local:%H:%M}"
        if local.date() == today:
            day = "сегодня"
        elif local.date() == today + dt.timedelta(days=1):
            day = "завтра"
        else:
            day = f"{WEEKDAY_ACCUSATIVE[local.weekday()]}, {local.day} {MONTHS_GENITIVE[local.month - 1]},"
        return f"{day} в {clock} {self.zone_words()}"


def schedule_from_settings(settings) -> Optional[Schedule]:
    """The configured schedule; None when the deployment set no hours."""
    if not (settings.hours or "").strip():
        return None
    return Schedule.parse(settings.hours, settings.timezone, settings.holidays)
