import pytest

from domain.eta import estimate_wait_seconds


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
