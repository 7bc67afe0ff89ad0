"""Repository paths and the project's virtual environment.

The package is installed editable (`pip install -e .`), so this file stays at
<repo>/src/crm_warehouse/paths.py and ROOT is the repository. scripts/tasks.py keeps its own
copy of the venv helpers: it runs on any Python 3.11 before .venv (and this package) exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / ("Scripts" if os.name == "nt" else "bin")


def venv_tool(name: str) -> str:
    """Path of a tool of .venv (dbt, sqlfluff, ...), or the bare name when .venv lacks it."""
    candidate = VENV_BIN / (name + (".exe" if os.name == "nt" else ""))
    return str(candidate) if candidate.exists() else name


def venv_python() -> str:
    """The .venv Python, or the running interpreter when there is no .venv."""
    candidate = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
    return str(candidate) if candidate.exists() else sys.executable
