"""`up`'s supervision of its children: a child that dies is started again; one that keeps dying is given up on."""

from __future__ import annotations

import pytest

from workers.devserver import StackError
from workers.supervision import RESTART_WINDOW, RESTARTS, keep_alive


async def test_a_child_that_keeps_dying_is_given_up_on_with_where_to_read_why(capsys: pytest.CaptureFixture) -> None:
    started_again: list[int] = []

    async def exited() -> int:
        return 1

    async def start_again() -> None:
        started_again.append(1)

    with pytest.raises(StackError) as raised:
        await keep_alive("The Temporal dev server", exited, start_again, lambda: "the last lines of temporal.log: X")

    assert len(started_again) == RESTARTS - 1
    assert str(raised.value) == (f"The Temporal dev server exited {RESTARTS} times within {RESTART_WINDOW} s "
                                 "(last code 1); the last lines of temporal.log: X")
    assert capsys.readouterr().err.count("The Temporal dev server exited (code 1); starting it again.") == RESTARTS - 1
