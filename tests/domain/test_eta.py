import pytest

from domain.eta import MAX_RECHECK_SECONDS, estimate_wait_seconds, recheck_seconds


@pytest.mark.parametrize(
    ("position", "seats", "avg", "expected"),
    [
        (1, 1, 180, 180),
        (2, 1, 180, 360),
        (1, 3, 180, 180),  # first round of three seats
        (3, 3, 180, 180),
        (4, 3, 180, 360),  # waits for the second round
        (7, 3, 100.4, 301),  # ceil(7 / 3) = 3 rounds of 100.4 s, rounded
        (3, 0, 120, 360),  # no seats: a full handle time per place
        (0, 2, 120, 0),
        (-1, 2, 120, 0),
        (5, 2, 0, 0),
        (5, 2, -30, 0),
    ],
)
def test_estimate_wait_seconds(position, seats, avg, expected):
    assert estimate_wait_seconds(position, seats, avg) == expected


def test_result_is_an_int():
    assert isinstance(estimate_wait_seconds(2, 1, 90.6), int)


def test_the_head_of_the_line_rechecks_at_the_base_rate_and_deeper_places_less_often():
    assert [recheck_seconds(120, place) for place in (1, 9, 10, 19, 20, 55)] == [120, 120, 120, 120, 240, 600]
    assert recheck_seconds(120, 10_000) == MAX_RECHECK_SECONDS
    assert recheck_seconds(3600, 50) == 3600  # never shorter than the base, even past the cap
    ten_thousand_waiting = sum(1 / recheck_seconds(120, place) for place in range(1, 10_001))
    assert ten_thousand_waiting < 4  # checks per second in all, against 10,000 / 120 = 83 at the base rate
