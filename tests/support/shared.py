"""Session results (a generated raw folder, a built warehouse) built once per test run, even with
several pytest-xdist workers, under a lock in a folder every worker shares."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def shared_path(tmp_path_factory, name: str) -> Path:
    """A path shared by every pytest-xdist worker of this run (plain pytest: the session's temp dir).

    Under xdist each worker has its own base temp dir (<run>/popen-gwN); their parent is the run's."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


@contextlib.contextmanager
def exclusive(path: Path):
    """Hold an exclusive lock on path + '.lock' (POSIX; one process under Windows anyway)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as handle:
        if os.name != "nt":
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """make(folder) runs once per test run, even with several xdist workers; returns the folder.

    A session fixture with an expensive result (a generated raw folder, a built warehouse) uses this
    so that `pytest -n 2` does not build it once per worker. Tests never write to the result: a test
    that changes a warehouse copies the file first."""
    folder = shared_path(tmp_path_factory, name)
    done = folder / ".done"
    with exclusive(folder):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.write_text("ok\n")
    return folder
