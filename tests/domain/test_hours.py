from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.hours import is_working, next_opening
from domain.reps import OFFICE_HOURS

NY = "America/New_York"
NY_ZONE = ZoneInfo(NY)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY_ZONE)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_is_working_uses_local_wall_clock():
    # 2024-01-15 is a Monday; 14:30 UTC is 09:30 in New York.
    assert is_working(OFFICE_HOURS, NY, utc(2024, 1, 15, 14, 30))
    assert not is_working(OFFICE_HOURS, NY, utc(2024, 1, 15, 13, 59))
    assert not is_working(OFFICE_HOURS, "UTC", utc(2024, 1, 15, 17, 0))  # end is exclusive
    assert is_working(OFFICE_HOURS, "UTC", utc(2024, 1, 15, 16, 59, 59))


def test_is_working_accepts_any_aware_offset():
    at = datetime(2024, 1, 15, 23, 30, tzinfo=timezone(timedelta(hours=9)))  # 14:30 UTC Monday
    assert is_working(OFFICE_HOURS, "UTC", at)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        is_working(OFFICE_HOURS, "UTC", datetime(2024, 1, 15, 10))


def test_24_00_means_end_of_day():
    hours = {"mon": [("22:00", "24:00")]}
    assert is_working(hours, "UTC", utc(2024, 1, 15, 23, 59, 59))
    assert not is_working(hours, "UTC", utc(2024, 1, 16, 0, 0))


def test_next_opening_is_now_when_working():
    at = ny(2024, 1, 15, 10, 0)
    assert next_opening(OFFICE_HOURS, NY, at) == at
    assert next_opening(OFFICE_HOURS, NY, at).tzinfo == UTC


def test_next_opening_later_the_same_day():
    assert next_opening(OFFICE_HOURS, NY, ny(2024, 1, 15, 7, 15)) == ny(2024, 1, 15, 9, 0)


def test_friday_evening_wraps_to_monday_morning():
    assert next_opening(OFFICE_HOURS, NY, ny(2024, 1, 19, 18, 0)) == ny(2024, 1, 22, 9, 0)


def test_friday_evening_to_monday_across_spring_forward():
    # Clocks go forward on Sunday 2024-03-10: Monday 09:00 EDT is 13:00 UTC, not 14:00.
    opening = next_opening(OFFICE_HOURS, NY, ny(2024, 3, 8, 18, 0))
    assert opening == utc(2024, 3, 11, 13, 0)


def test_friday_evening_to_monday_across_fall_back():
    # Clocks go back on Sunday 2024-11-03: Monday 09:00 EST is 14:00 UTC.
    assert next_opening(OFFICE_HOURS, NY, ny(2024, 11, 1, 18, 0)) == utc(2024, 11, 4, 14, 0)


def test_start_inside_the_spring_forward_gap_opens_at_the_jump():
    # 02:30 never happens on 2024-03-10 in New York; at 03:00 EDT (07:00 UTC) the rep is working.
    hours = {"sun": [("02:30", "05:00")]}
    assert next_opening(hours, NY, ny(2024, 3, 9, 23, 0)) == utc(2024, 3, 10, 7, 0)


def test_span_wholly_inside_the_gap_never_happens_that_day():
    hours = {"sun": [("02:00", "02:30")]}
    assert next_opening(hours, NY, ny(2024, 3, 9, 23, 0)) == ny(2024, 3, 17, 2, 0)


def test_repeated_hour_of_fall_back_counts_both_times():
    hours = {"sun": [("01:00", "02:00")]}
    assert is_working(hours, NY, utc(2024, 11, 3, 5, 30))  # 01:30 EDT
    assert is_working(hours, NY, utc(2024, 11, 3, 6, 30))  # 01:30 EST
    assert next_opening(hours, NY, ny(2024, 11, 2, 12, 0)) == utc(2024, 11, 3, 5, 0)  # the first 01:00


def test_same_weekday_next_week_after_todays_only_span():
    hours = {"mon": [("09:00", "10:00")]}
    assert next_opening(hours, "UTC", utc(2024, 1, 15, 10, 30)) == utc(2024, 1, 22, 9, 0)


def test_picks_the_earliest_of_several_spans():
    hours = {"mon": [("14:00", "18:00"), ("08:00", "12:00")]}
    assert next_opening(hours, "UTC", utc(2024, 1, 15, 12, 30)) == utc(2024, 1, 15, 14, 0)
    assert next_opening(hours, "UTC", utc(2024, 1, 15, 6, 0)) == utc(2024, 1, 15, 8, 0)


def test_midnight_start_after_a_24_00_end_is_found():
    hours = {"mon": [("20:00", "24:00")], "tue": [("00:00", "02:00")]}
    assert next_opening(hours, "UTC", utc(2024, 1, 15, 19, 0)) == utc(2024, 1, 15, 20, 0)
    assert is_working(hours, "UTC", utc(2024, 1, 16, 0, 0))


def test_no_hours_means_no_opening():
    assert next_opening({}, NY, ny(2024, 1, 15, 10, 0)) is None
    assert next_opening({d: [] for d in ("mon", "tue")}, NY, ny(2024, 1, 15, 10, 0)) is None
