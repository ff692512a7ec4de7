from datetime import datetime, timedelta, timezone

import pandas as pd

from corridor.briefing.timeaxis import day_ticks, intervals_where, start_datetime, weekend_spans

HKT = timezone(timedelta(hours=8))


def test_start_keeps_the_runs_own_utc_offset() -> None:
    ts = pd.DataFrame({"t_s": [3600.0], "at": ["2023-03-10T01:00:00+08:00"]})
    start = start_datetime(ts)
    assert start == datetime(2023, 3, 10, 0, 0, tzinfo=HKT)
    assert start_datetime(None, "2023-03-09T00:00:00Z").day == 9
    assert start_datetime(None, "not a date") is None


def test_weekends_of_a_thursday_start() -> None:
    start = datetime(2023, 3, 9, 0, 0, tzinfo=HKT)  # a Thursday
    assert weekend_spans(7.0, start) == [(2.0, 4.0)]
    assert weekend_spans(7.0, None) == []


def test_day_ticks_name_the_days_or_count_them() -> None:
    start = datetime(2023, 3, 9, 6, 0)
    ticks = day_ticks(3.0, start)
    assert [t.label for t in ticks] == ["Fri 10 Mar", "Sat 11 Mar", "Sun 12 Mar"]
    assert ticks[0].value == 0.75
    assert [t.label for t in day_ticks(2.0, None)] == ["day 0", "day 1", "day 2"]


def test_intervals_where_a_condition_holds() -> None:
    xs = [0, 1, 2, 3, 4, 5]
    assert intervals_where(xs, [False, True, True, False, True, True]) == [(1, 3), (4, 5)]
