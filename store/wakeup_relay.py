"""Wake-ups across the processes of one host that share the app database: a worker's outbox appends wake the
event streams of an API in another process at once, not at that stream's next poll.

Each reading process binds a Unix datagram socket in a directory they share (`WT_WAKEUP_DIR`; `up` uses one in
its data directory); a writing process sends the topics of each notify to every socket there. Delivery is best
effort: a datagram a busy reader has no room for is dropped, and that reader's poll finds the rows a moment
later, as it would with no relay at all. A socket left by a process that died is removed by the next sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Collection
from pathlib import Path

from store.wakeup import Wakeup, topic_batches, topics_in

log = logging.getLogger(__name__)

SUFFIX = ".sock"
MAX_DATAGRAM = 32_768  # well under Linux's default limit for a Unix datagram
_SUN_PATH_MAX = 107  # bytes of a socket's path the kernel keeps (sun_path, less its terminating NUL)


class WakeupRelayError(RuntimeError):
    """The wake-up directory cannot hold a socket (path too long, not writable)."""


class RelaySender:
    """Passes a process's wake-ups to the readers listening in `directory` (see Wakeup.relaying)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def __call__(self, topics: Collection[str]) -> None:
        try:
            listeners = [entry.path for entry in os.scandir(self.directory) if entry.name.endswith(SUFFIX)]
        except FileNotFoundError:  # no reader has started yet
            return
        datagrams = topic_batches(topics, MAX_DATAGRAM)
        for path in listeners:
            for datagram in datagrams:
                try:
                    self._socket.sendto(datagram, path)
                except (ConnectionRefusedError, FileNotFoundError):  # its process is gone
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    break
                except BlockingIOError:  # that reader is behind: its poll will find the rows
                    break
                except OSError as err:
                    log.debug("wake-up relay to %s failed: %s", path, err)
                    break

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> RelaySender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class RelayListener:
    """Hears other processes' wake-ups in `directory` and passes them to this process's readers of `wakeup`."""

    def __init__(self, directory: Path, wakeup: Wakeup):
        self.directory, self.wakeup = directory, wakeup
        self.path = directory / f"{os.getpid()}{SUFFIX}"
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Listen on this event loop (call from it)."""
        if len(os.fsencode(self.path)) > _SUN_PATH_MAX:
            raise WakeupRelayError(f"The wake-up directory's path is too long for a socket ({self.path}); "
                                   f"set WT_WAKEUP_DIR to a shorter one.")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # left by an earlier process with our pid
            listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            listening.bind(str(self.path))
        except OSError as err:
            raise WakeupRelayError(f"Cannot listen for wake-ups in {self.directory}: {err}") from err
        listening.setblocking(False)
        self._socket, self._loop = listening, asyncio.get_running_loop()
        self._loop.add_reader(listening.fileno(), self._readable)

    def _readable(self) -> None:
        while True:
            try:
                datagram = self._socket.recv(MAX_DATAGRAM)
            except BlockingIOError:
                return
            self.wakeup.notify_here(topics_in(datagram.decode()))

    def close(self) -> None:
        if self._socket is None:
            return
        self._loop.remove_reader(self._socket.fileno())
        self._socket.close()
        self._socket = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
