"""The markdown (and JSON) benchmark report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# --------------------------------------------------------------------------- report
@dataclass
class Report:
    """A markdown report built section by section; also keeps the raw numbers for JSON."""

    title: str
    parts: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"{'#' * level} {text}\n")

    def text(self, text: str) -> None:
        self.parts.append(text.rstrip() + "\n")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.parts.append("\n".join(lines) + "\n")

    def markdown(self) -> str:
        return f"# {self.title}\n\n" + "\n".join(self.parts)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown())
        path.with_suffix(".json").write_text(json.dumps(self.data, indent=1, default=str))
        return path
