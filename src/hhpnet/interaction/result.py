"""The result of an analysis: :class:`Interaction` and its ranked :class:`Pair` list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class Pair:
    """A pair of people i < j: symmetric ``score`` and the two directional attentions."""

    i: int
    j: int
    score: float
    attention_ij: float
    attention_ji: float
    mutual: bool


@dataclass
class Interaction:
    """Result of :func:`analyze` for N people (see the module docstring for the definitions).

    ``matrix`` (N, N) symmetric score; ``attention`` (N, N) directional, row i = how much i
    looks at each j; ``converge`` (N, N) converging-attention score; ``engagement`` (N,);
    ``pairs`` ranked by score; ``mutual`` [(i, j)]; ``targets`` per person (int or None);
    ``groups`` lists of indices; ``scene_score`` in [0, 1]; ``excluded`` indices with
    ``excluded_reasons``; ``depth_mm`` (N,) nominal depths (hhpnet, NaN otherwise).
    """

    method: str
    params: dict[str, Any]
    matrix: F64
    attention: F64
    converge: F64
    engagement: F64
    pairs: list[Pair]
    mutual: list[tuple[int, int]]
    targets: list[int | None]
    groups: list[list[int]]
    scene_score: float
    excluded: list[int]
    excluded_reasons: dict[int, str] = field(default_factory=dict)
    depth_mm: F64 | None = None

    def __len__(self) -> int:
        return len(self.matrix)

    def __repr__(self) -> str:
        return (
            f"Interaction(method={self.method!r}, n={len(self)}, mutual={self.mutual}, "
            f"groups={self.groups}, scene_score={self.scene_score:.3f}, excluded={self.excluded})"
        )

    @property
    def best_pair(self) -> Pair | None:
        """The most interacting pair (highest score), or None without pairs."""
        return self.pairs[0] if self.pairs else None

    def to_dict(self, ndigits: int = 4) -> dict[str, Any]:
        """JSON-ready dict: matrices as nested lists, pairs, mutual, targets, groups, ..."""
        from hhpnet.io import json_number

        def r(x: float) -> float | None:
            return json_number(x, ndigits)

        def mat(a: F64) -> list[list[float | None]]:
            return [[r(v) for v in row] for row in a]

        depth = None if self.depth_mm is None else [r(v) for v in self.depth_mm]
        return {
            "method": self.method,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
            "n": len(self),
            "matrix": mat(self.matrix),
            "attention": mat(self.attention),
            "converge": mat(self.converge),
            "pairs": [
                {
                    "i": p.i,
                    "j": p.j,
                    "score": r(p.score),
                    "attention_ij": r(p.attention_ij),
                    "attention_ji": r(p.attention_ji),
                    "mutual": p.mutual,
                }
                for p in self.pairs
            ],
            "mutual": [list(m) for m in self.mutual],
            "targets": list(self.targets),
            "groups": [list(g) for g in self.groups],
            "engagement": [r(v) for v in self.engagement],
            "scene_score": r(self.scene_score),
            "excluded": list(self.excluded),
            "excluded_reasons": {str(k): v for k, v in self.excluded_reasons.items()},
            "depth_mm": depth,
        }
