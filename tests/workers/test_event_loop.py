"""The event loop `warm-transfer`'s processes run on."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from workers import event_loop, stack
from workers.cli import main


async def _loop_class() -> type:
    return type(asyncio.get_running_loop())


def test_processes_run_on_uvloop_by_default() -> None:
    assert event_loop.run(_loop_class()) is uvloop.Loop


def test_asyncio_s_own_loop_when_asked_for() -> None:
    loop_class = event_loop.run(_loop_class(), "asyncio")
    assert loop_class is not uvloop.Loop and issubclass(loop_class, asyncio.BaseEventLoop)


def test_asyncio_s_own_loop_where_uvloop_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what `import uvloop` meets where it is not installed
    assert event_loop.run(_loop_class(), "uvloop") is not uvloop.Loop


def test_the_result_and_the_errors_of_the_coroutine_come_back() -> None:
    async def fails() -> None:
        raise LookupError("nothing here")

    assert event_loop.run(asyncio.sleep(0, "done")) == "done"
    with pytest.raises(LookupError, match="nothing here"):
        event_loop.run(fails())


@pytest.mark.parametrize("command, runs", [("up", "up"), ("api", "api_only"), ("worker", "worker_only")])
@pytest.mark.parametrize("setting, on_uvloop", [(None, True), ("asyncio", False), ("uvloop", True)])
def test_every_command_runs_on_the_loop_its_settings_name(command: str, runs: str, setting: str | None,
                                                          on_uvloop: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if setting is None:
        monkeypatch.delenv("WT_EVENT_LOOP", raising=False)
    else:
        monkeypatch.setenv("WT_EVENT_LOOP", setting)
    ran_on: list[type] = []

    async def record_the_loop(*_: object) -> None:
        ran_on.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(stack, runs, record_the_loop)
    assert main([command]) == 0
    assert (ran_on == [uvloop.Loop]) is on_uvloop and len(ran_on) == 1
