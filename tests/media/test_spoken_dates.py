"""The date before each voicemail message: every file mod_say_en / mod_say_ja would play for any
moment of a year exists among the prompts of that language, and the macros ask for those say types.

`en_files` and `ja_files` restate which files the two say modules play for a time (read from
en_say_time / play_group in src/mod/say/mod_say_en/mod_say_en.c and ja_say_time /
ja_say_general_count in src/mod/say/mod_say_ja/mod_say_ja.c, FreeSWITCH 1.11), so the prompt set can
be checked without a switch.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from lxml import etree

from fsctl.media import phrase_macros
from fsctl.media.prompts import load_prompts
from fsctl.media.settings import MediaSettings
from fsctl.media.vm_config import profile_params

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def _wday(moment: dt.datetime) -> int:
    return (moment.weekday() + 1) % 7  # struct tm: Sunday = 0


def en_number(n: int, counted: bool = False) -> list[str]:
    """mod_say_en's pronounced (or counted) number below a million."""
    files: list[str] = []
    thousands, rest = divmod(n, 1000)
    if thousands:
        files += en_number(thousands) + ["digits/thousand"]
    hundreds, below = divmod(rest, 100)
    if hundreds:
        files += [f"digits/{hundreds}", "digits/hundred"]
    tens, units = divmod(below, 10)
    if tens > 1:
        files.append(f"digits/h-{tens}0" if counted and not units else f"digits/{tens}0")
    elif tens == 1:
        files.append(f"digits/{below}")  # ten to nineteen: one file, cardinal even when counted
        units = 0
    if units:
        files.append(f"digits/h-{units}" if counted else f"digits/{units}")
    return files or ["digits/0"]


def en_files(moment: dt.datetime, now: dt.datetime) -> list[str]:
    """short_date_time, pronounced: relative day words, else weekday/month/day(/year), then the time."""
    files: list[str] = []
    future = moment.date() > now.date()
    other_year = moment.year != now.year
    yday, now_yday = moment.timetuple().tm_yday, now.timetuple().tm_yday
    if future or other_year:
        files += [f"time/day-{_wday(moment)}", f"time/mon-{moment.month - 1}", *en_number(moment.day, True)]
        century, year = divmod(moment.year, 100)
        files += (
            en_number(moment.year) if not year or not century % 10 else en_number(century) + en_number(year)
        )
    elif yday == now_yday:
        files.append("time/today")
    elif yday == now_yday - 1:
        files.append("time/yesterday")
    elif yday >= now_yday - 5:
        files.append(f"time/day-{_wday(moment)}")
    else:
        files += [f"time/day-{_wday(moment)}", f"time/mon-{moment.month - 1}", *en_number(moment.day, True)]
    files.append("time/at")
    hour = moment.hour % 12 or 12
    files += en_number(hour)
    if moment.minute > 9:
        files += en_number(moment.minute)
    elif moment.minute:
        files += ["time/oh", *en_number(moment.minute)]
    else:
        files.append("time/oclock")
    files.append("time/p-m" if moment.hour >= 12 else "time/a-m")
    return files


def ja_number(n: int) -> list[str]:
    """mod_say_ja's pronounced number below ten thousand (its counters for 100s and 1000s)."""
    files: list[str] = []
    thousands, hundreds, tens, units = (n // 1000) % 10, (n // 100) % 10, (n // 10) % 10, n % 10
    if thousands:
        files += {1: ["digits/1000"], 3: ["digits/3000"]}.get(
            thousands, [f"digits/{thousands}", "digits/1000"]
        )
    if hundreds:
        files += {1: ["digits/100"], 3: ["digits/300"], 6: ["digits/600"], 8: ["digits/800"]}.get(
            hundreds, [f"digits/{hundreds}", "digits/100"]
        )
    if tens:
        files += ([f"digits/{tens}"] if tens != 1 else []) + ["digits/10"]
    if units:
        files.append(f"digits/{units}")
    return files or ["digits/0"]


def ja_files(moment: dt.datetime) -> list[str]:
    """current_date_time: year, month, day, 午前/午後, hour, then minutes with their own counters."""
    files = [*ja_number(moment.year), "time/year", f"time/month-{moment.month - 1}", f"time/day-{moment.day}"]
    files += ["time/am" if moment.hour < 12 else "time/pm", f"time/hour-{moment.hour}"]
    minute = moment.minute
    if 10 < minute < 60:
        tens, minute = divmod(minute, 10)
        if tens > 1:
            files += ja_number(tens)
        if minute:
            files.append("digits/10")
        else:
            minute = 10
    if minute == 0:
        files.append("time/oclock")
    elif minute in (1, 3, 4, 6, 8, 10):
        files.append(f"time/min-{minute}")
    else:
        files += [*ja_number(minute), "time/minute"]
    return files


def moments(now: dt.datetime):
    """Every minute of one day, and 10:07 on every day of the year before `now` and a week after."""
    midnight = now.replace(hour=0, minute=0)
    yield from (midnight + dt.timedelta(minutes=m) for m in range(24 * 60))
    for day in range(-400, 8):
        yield (now + dt.timedelta(days=day)).replace(hour=10, minute=7)


@pytest.fixture(scope="module")
def prompt_paths() -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {"en": set(), "ja": set()}
    for prompt in load_prompts():
        paths[prompt.lang].add(prompt.path)
    return paths


def test_every_file_english_dates_play_is_a_prompt(prompt_paths):
    now = dt.datetime(2026, 11, 25, 15, 30, tzinfo=TOKYO)
    needed = {f for moment in moments(now) for f in en_files(moment, now)}
    assert needed - prompt_paths["en"] == set()
    assert en_files(now - dt.timedelta(days=1, minutes=15), now) == [
        "time/yesterday",
        "time/at",
        "digits/3",
        "digits/15",
        "time/p-m",
    ]
    assert en_files(dt.datetime(2025, 12, 31, 9, 5, tzinfo=TOKYO), now) == [
        "time/day-3",
        "time/mon-11",
        "digits/30",
        "digits/h-1",
        "digits/2",
        "digits/thousand",
        "digits/20",
        "digits/5",
        "time/at",
        "digits/9",
        "time/oh",
        "digits/5",
        "time/a-m",
    ]


def test_every_file_japanese_dates_play_is_a_prompt(prompt_paths):
    now = dt.datetime(2026, 11, 25, 15, 30, tzinfo=TOKYO)
    needed = {f for moment in moments(now) for f in ja_files(moment)}
    assert needed - prompt_paths["ja"] == set()
    # 2026年11月25日 午後3時15分
    assert ja_files(dt.datetime(2026, 11, 25, 15, 15, tzinfo=TOKYO)) == [
        "digits/2",
        "digits/1000",
        "digits/2",
        "digits/10",
        "digits/6",
        "time/year",
        "time/month-10",
        "time/day-25",
        "time/pm",
        "time/hour-15",
        "digits/10",
        "digits/5",
        "time/minute",
    ]
    # 午前0時ちょうど, 午後8時20分 (に じゅっぷん)
    assert ja_files(dt.datetime(2026, 1, 1, 0, 0, tzinfo=TOKYO))[-3:] == [
        "time/am",
        "time/hour-0",
        "time/oclock",
    ]
    assert ja_files(dt.datetime(2026, 1, 1, 20, 20, tzinfo=TOKYO))[-2:] == ["digits/2", "time/min-10"]


def test_japanese_day_and_hour_prompts_say_what_a_japanese_caller_expects():
    texts = {p.path: p.text for p in load_prompts() if p.lang == "ja"}
    assert [texts[f"time/day-{d}"] for d in (1, 2, 10, 14, 20, 24)] == [
        "ついたち",
        "ふつか",
        "とおか",
        "じゅうよっか",
        "はつか",
        "にじゅうよっか",
    ]
    # mod_say_ja says 午前/午後 first and then hour-<0..23>: the hour files count from 0 again at noon
    assert texts["time/hour-15"] == texts["time/hour-3"] == "さんじ"
    assert texts["time/hour-12"] == texts["time/hour-0"]


@pytest.mark.parametrize(
    ("lang", "module", "say_type"), [("en", "en", "short_date_time"), ("ja", "ja", "current_date_time")]
)
def test_each_language_says_the_date_with_its_own_say_module(lang, module, say_type):
    language = etree.fromstring(phrase_macros.render_language(lang)).find("language")
    assert language.get("say-module") == module
    (action,) = language.findall("phrases/macros/macro[@name='voicemail_say_date']//action")
    assert (action.get("function"), action.get("data"), action.get("method"), action.get("type")) == (
        "say",
        "$1",
        "pronounced",
        say_type,
    )


def test_mailboxes_say_the_date_before_each_message():
    params = dict(profile_params(MediaSettings()))
    assert params["play-date-announcement"] == "first"
