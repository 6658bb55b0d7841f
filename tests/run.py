"""`make test`: run pytest on every core, judged by the result pytest recorded, not by how the interpreter died.

The tests run in pytest-xdist's worker processes, one per core and one more, each test handed to whichever worker
is free (`--dist worksteal`): much of a test's time is spent waiting on servers and subprocesses, which another
test's work fills (on 2 cores, 3 workers took 5 min 3 s where 2 took 5 min 46 s). Arguments are passed on to
pytest (`-n 0` runs everything in one process).

The Temporal SDK can abort at interpreter exit after all tests finished (temporalio/sdk-python#300).
pytest runs in a child process; its conftest writes the session's exit status to a file at session
end (the controlling process does, once every worker has reported). If the child then dies of a signal,
the recorded status decides; with no record the run failed. So an abort can neither turn a green run red
nor a red run green. A worker that aborts at exit has already reported its results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "result.json"
        env = {**os.environ, "WT_TEST_RESULT_FILE": str(record)}
        workers = str((os.cpu_count() or 1) + 1)
        child = subprocess.run([sys.executable, "-m", "pytest", "-n", workers, "--dist", "worksteal", *sys.argv[1:]],
                               env=env)
        if child.returncode >= 0 and child.returncode != 134:
            return child.returncode
        if not record.exists():
            print(f"pytest died (exit {child.returncode}) before recording a result: failed", file=sys.stderr)
            return 1
        status = json.loads(record.read_text())["exitstatus"]
        print(f"pytest recorded exit status {status}, then the interpreter died at exit "
              f"({child.returncode}, temporalio/sdk-python#300); the recorded status stands.", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
