"""The ``hhpnet`` command line run in-process by tests."""

from __future__ import annotations

import sys
from typing import Any

from hhpnet.cli import main


def run_cli(args: list[str], monkeypatch: Any) -> int:
    """Run ``hhpnet ARGS`` in this process; its exit code (0 when ``main`` returns)."""
    monkeypatch.setattr(sys, "argv", ["hhpnet", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
