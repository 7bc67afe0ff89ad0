"""The raw landing folder as the orchestrator watches it (docs/orchestration.md).

Standard library only: read by the Dagster code location (orchestration/, in .venv-orchestration)
and by its tests. A file's state is (size, modification time in ns), the quick check of rsync that
the incremental build uses too (docs/incremental.md): a file that appears, grows, changes or leaves
changes the folder's fingerprint.

The sensor's rule (evaluate):
- a file is read only once its state has not changed for `stable_seconds` (as seen by the sensor's
  own ticks), so a file still being copied or appended to is never built half-way;
- when every file is stable and the folder's fingerprint differs from the one the last successful
  build read, and from the one already requested, one build is requested with run key = the
  fingerprint (the same state never runs twice);
- otherwise nothing is requested, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

# The files the build reads (models/staging/crm/_crm__sources.yml): every *.csv in the landing folder
# and in the campaigns folder (CRM_CAMPAIGN_DIR, default <landing folder>/campaigns).
PATTERN = "*.csv"


def campaign_dir(raw_dir: Path, environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    configured = environ.get("CRM_CAMPAIGN_DIR")
    return Path(configured) if configured else raw_dir / "campaigns"


def folder_state(raw_dir: Path, campaigns: Path | None = None) -> dict[str, tuple[int, int]]:
    """{name: (size, mtime_ns)} of every file the build reads; campaign files as 'campaigns/<name>'."""
    state: dict[str, tuple[int, int]] = {}
    folders = [("", Path(raw_dir)), ("campaigns/", Path(campaigns) if campaigns else Path(raw_dir) / "campaigns")]
    for prefix, folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(PATTERN)):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between the listing and the stat
                continue
            if path.is_file():
                state[prefix + path.name] = (stat.st_size, stat.st_mtime_ns)
    return state


def fingerprint(state: dict[str, tuple[int, int]]) -> str:
    """SHA-256 of the sorted (name, size, mtime_ns) of the files: the sensor's run key."""
    digest = hashlib.sha256()
    for name in sorted(state):
        size, mtime_ns = state[name]
        digest.update(f"{name}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class Decision:
    run_key: str | None  # a fingerprint to build, or None
    reason: str
    cursor: str  # the sensor's next cursor (JSON)


def evaluate(
    state: dict[str, tuple[int, int]],
    cursor: str | None,
    now: float,
    stable_seconds: float,
    last_built: str | None,
) -> Decision:
    """One sensor tick: whether to request a build of the folder's current state.

    cursor (JSON): {"files": {name: [size, mtime_ns, since]}, "requested": fingerprint}; `since` is
    the tick time at which the sensor first saw the file in this state."""
    previous = json.loads(cursor) if cursor else {}
    seen = previous.get("files", {})
    requested = previous.get("requested")
    files: dict[str, list] = {}
    changing: list[str] = []
    for name, (size, mtime_ns) in sorted(state.items()):
        before = seen.get(name)
        since = before[2] if before and before[0] == size and before[1] == mtime_ns else now
        files[name] = [size, mtime_ns, since]
        if now - since < stable_seconds:
            changing.append(name)
    current = fingerprint(state)

    def decide(run_key: str | None, reason: str) -> Decision:
        return Decision(
            run_key, reason, json.dumps({"files": files, "requested": run_key or requested}, sort_keys=True)
        )

    if not state:
        return decide(None, "the landing folder holds no file to build")
    if changing:
        return decide(
            None,
            f"waiting until {', '.join(changing)} stop{'s' if len(changing) == 1 else ''} changing "
            f"(size and modification time stable for {stable_seconds:g} s)",
        )
    if current == last_built:
        return decide(None, "the landing folder is unchanged since the last successful build")
    if current == requested:
        return decide(None, "a build of this state of the landing folder was already requested")
    return decide(current, f"{len(state)} files, new state {current[:12]}: one incremental build")


def built_marker(duckdb_path: str | Path) -> Path:
    """Beside the build warehouse: the fingerprint of the landing folder its last successful
    orchestrated build read (written by the orchestration's build, read by its sensor)."""
    return Path(str(duckdb_path) + ".landing")


def last_built(duckdb_path: str | Path) -> str | None:
    marker = built_marker(duckdb_path)
    return marker.read_text().strip() or None if marker.exists() else None
