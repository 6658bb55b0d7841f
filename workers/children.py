"""Child processes of `warm-transfer up` (the Temporal dev server, the worker): started so that a Ctrl-C reaches
only `up`, which stops them in order, and so that they die with `up` if it is killed outright."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from typing import Any

STOP_GRACE_SECONDS = 10


def _detach_and_die_with_parent() -> None:
    """Runs in the child before exec. Its own process group: a Ctrl-C in the terminal reaches only `up`, which
    stops its children in order (set here, since uvloop's subprocess_exec takes no process_group). And if `up` is
    killed outright, the kernel stops the child too."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


async def spawn(command: list[str], **options: Any) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.DEVNULL,
                                                preexec_fn=_detach_and_die_with_parent, **options)


def running(process: asyncio.subprocess.Process | None) -> bool:
    return process is not None and process.returncode is None


async def stop(process: asyncio.subprocess.Process | None, grace: float = STOP_GRACE_SECONDS) -> None:
    """Terminate, wait, and kill if it has not stopped after `grace` seconds."""
    if not running(process):
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
