"""Who looked at whom, and when: per-frame attention aggregated into intervals over time.

Input, frame by frame (:meth:`TimelineBuilder.add`): the frame time, the track ids of the people,
the directional attention matrix ``A[i, j]`` ∈ [0, 1] ("how much i looks at j", the
``attention`` of :func:`hhpnet.interaction.analyze`) and optionally its symmetric ``matrix`` and a
mutual-gaze mask. Per frame, with ``threshold`` θ:

* i *looks at* j when ``A[i, j] ≥ θ``;
* a pair is in **mutual** gaze when both look at each other (or when the given mutual mask says
  so); score = the symmetric matrix entry (default (A + Aᵀ)/2);
* a pair is in **one-way** attention i→j when i looks at j and j does not look at i;
  score = ``A[i, j]``.

Consecutive active frames form an interval; a frame covers the time until the next frame.
Intervals of the same kind and pair separated by a gap ≤ ``max_gap`` seconds are merged (a
missed detection or a blink of the model does not split a glance); intervals shorter than
``min_duration`` seconds are dropped. The mean score is over the active frames only.

Per person (track id) totals count frame time: ``visible_s`` (present in the frame),
``looking_s`` (looks at at least one other person), ``looked_at_s`` (someone looks at them),
``mutual_s`` (in mutual gaze with someone), plus interval counts.
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from hhpnet.errors import InputError

__all__ = [
    "INTERVAL_COLUMNS",
    "PERSON_COLUMNS",
    "Interval",
    "PersonTotals",
    "Timeline",
    "TimelineBuilder",
    "plot_timeline",
]

IntervalKind = Literal["mutual", "one-way"]

#: columns of the interval CSV
INTERVAL_COLUMNS = ("kind", "a", "b", "start_s", "end_s", "duration_s", "mean_score", "n_frames")
#: columns of the per-person CSV
PERSON_COLUMNS = (
    "track_id",
    "visible_s",
    "looking_s",
    "looked_at_s",
    "mutual_s",
    "n_looking",
    "n_looked_at",
    "n_mutual",
)


@dataclass(frozen=True)
class Interval:
    """One interval: ``kind`` "mutual" (a < b) or "one-way" (a looks at b); times in seconds."""

    kind: IntervalKind
    a: int
    b: int
    start_s: float
    end_s: float
    mean_score: float
    n_frames: int

    @property
    def duration_s(self) -> float:
        """end − start, seconds."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, object]:
        """Flat dict with the :data:`INTERVAL_COLUMNS` keys."""
        d = asdict(self)
        d["duration_s"] = self.duration_s
        return {k: d[k] for k in INTERVAL_COLUMNS}


@dataclass
class PersonTotals:
    """Time (s) and interval counts of one track."""

    track_id: int
    visible_s: float = 0.0
    looking_s: float = 0.0
    looked_at_s: float = 0.0
    mutual_s: float = 0.0
    n_looking: int = 0
    n_looked_at: int = 0
    n_mutual: int = 0


@dataclass
class Timeline:
    """Result of :class:`TimelineBuilder`: intervals sorted by start, per-person totals."""

    intervals: list[Interval]
    people: dict[int, PersonTotals]
    start_s: float
    end_s: float
    params: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.intervals)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "params": dict(self.params),
            "intervals": [iv.to_dict() for iv in self.intervals],
            "people": [asdict(p) for p in self.people.values()],
        }

    def write_csv(self, path: str | os.PathLike[str], people_path: str | None = None) -> list[str]:
        """Write intervals to ``path`` and per-person totals to ``people_path`` (default:
        ``<stem>_people.csv``). Returns the written paths."""
        path = os.fspath(path)
        if people_path is None:
            stem, ext = os.path.splitext(path)
            people_path = f"{stem}_people{ext or '.csv'}"
        for out in (path, people_path):
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(INTERVAL_COLUMNS)
            for iv in self.intervals:
                d = iv.to_dict()
                w.writerow([_fmt(d[c]) for c in INTERVAL_COLUMNS])
        with open(people_path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(PERSON_COLUMNS)
            for p in sorted(self.people.values(), key=lambda q: q.track_id):
                d = asdict(p)
                w.writerow([_fmt(d[c]) for c in PERSON_COLUMNS])
        return [path, people_path]

    def plot(self, path: str | os.PathLike[str], title: str | None = None) -> str:
        """Timeline PNG (see :func:`plot_timeline`)."""
        return plot_timeline(self, path, title=title)


def _fmt(v: object) -> object:
    return f"{v:.4f}" if isinstance(v, float) else v


@dataclass
class _Open:
    start: float
    last: float
    last_end: float
    score_sum: float
    n: int


class TimelineBuilder:
    """Accumulate frames, then :meth:`finish` → :class:`Timeline`. Memory: open runs + intervals."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_duration: float = 0.2,
        max_gap: float = 0.3,
        frame_dt: float = 1 / 30,
    ) -> None:
        self.threshold = float(threshold)
        self.min_duration = float(min_duration)
        self.max_gap = float(max_gap)
        self.frame_dt = float(frame_dt)
        self._open: dict[tuple[str, int, int], _Open] = {}
        self._done: list[Interval] = []
        self._people: dict[int, PersonTotals] = {}
        self._prev_t: float | None = None
        self._prev_ids: list[int] = []
        self._prev_flags: dict[int, tuple[bool, bool, bool]] = {}
        self._start: float | None = None
        self._pending_active: set[tuple[str, int, int]] = set()

    def add(
        self,
        t: float,
        track_ids: ArrayLike,
        attention: ArrayLike,
        matrix: ArrayLike | None = None,
        mutual: ArrayLike | None = None,
        valid: ArrayLike | None = None,
    ) -> None:
        """Add one frame at time ``t`` (s): ids (n,), attention (n, n) directional in [0, 1],
        optional symmetric ``matrix`` (n, n), ``mutual`` (n, n) bool and ``valid`` (n,) bool.
        Frames must come in non-decreasing time (:class:`~hhpnet.errors.InputError`
        otherwise; :func:`hhpnet.video.process_video` repairs the timestamps of real files)."""
        ids = np.asarray(track_ids, dtype=np.int64).ravel()
        n = ids.size
        att = np.nan_to_num(np.asarray(attention, dtype=np.float64).reshape(n, n), nan=0.0)
        np.fill_diagonal(att, 0.0)
        if self._prev_t is not None:
            if not t >= self._prev_t:
                raise InputError(f"timeline frames must be in time order ({t} < {self._prev_t})")
            if t > self._prev_t:
                self.frame_dt = t - self._prev_t
            self._credit_previous(t)
        if self._start is None:
            self._start = float(t)
        look = att >= self.threshold
        if valid is not None:
            ok = np.asarray(valid, dtype=bool).ravel()
            look &= ok[:, None] & ok[None, :]
        if ids.size and (ids < 0).any():
            keep = ids >= 0
            look &= keep[:, None] & keep[None, :]
        mut = look & look.T
        if mutual is not None:
            mut = np.asarray(mutual, dtype=bool).reshape(n, n) & ~np.eye(n, dtype=bool)
            mut = mut | mut.T
        sym = (att + att.T) / 2 if matrix is None else np.asarray(matrix, float).reshape(n, n)
        active: dict[tuple[str, int, int], float] = {}
        for i, j in zip(*np.nonzero(np.triu(mut, 1)), strict=True):
            a, b = sorted((int(ids[i]), int(ids[j])))
            active[("mutual", a, b)] = float(sym[i, j])
        one_way = look & ~mut
        for i, j in zip(*np.nonzero(one_way), strict=True):
            active[("one-way", int(ids[i]), int(ids[j]))] = float(att[i, j])
        self._close_stale(t)
        for key, score in active.items():
            run = self._open.get(key)
            if run is not None and t - run.last_end <= self.max_gap + 1e-9:
                run.last, run.score_sum, run.n = t, run.score_sum + score, run.n + 1
            else:
                if run is not None:
                    self._finalise(key, run)
                self._open[key] = _Open(t, t, t, score, 1)
        # per-person flags for this frame, credited with its duration at the next frame/finish
        flags: dict[int, tuple[bool, bool, bool]] = {}
        for k, tid in enumerate(ids.tolist()):
            if tid < 0:
                continue
            flags[tid] = (bool(look[k].any()), bool(look[:, k].any()), bool(mut[k].any()))
        self._prev_flags = flags
        self._prev_t = float(t)
        self._pending_active = set(active)

    def _credit_previous(self, t_next: float) -> None:
        dt = max(t_next - (t_next if self._prev_t is None else self._prev_t), 0.0)
        for tid, (lk, la, mu) in self._prev_flags.items():
            p = self._people.setdefault(tid, PersonTotals(tid))
            p.visible_s += dt
            p.looking_s += dt * lk
            p.looked_at_s += dt * la
            p.mutual_s += dt * mu
        for key in self._pending_active:
            run = self._open.get(key)
            if run is not None:
                run.last_end = run.last + dt
        self._prev_flags = {}

    def _close_stale(self, t: float) -> None:
        for key in [k for k, r in self._open.items() if t - r.last_end > self.max_gap + 1e-9]:
            self._finalise(key, self._open.pop(key))

    def _finalise(self, key: tuple[str, int, int], run: _Open) -> None:
        end = run.last_end if run.last_end > run.last else run.last + self.frame_dt
        if end - run.start + 1e-9 >= self.min_duration:
            kind: IntervalKind = "mutual" if key[0] == "mutual" else "one-way"
            self._done.append(
                Interval(kind, key[1], key[2], run.start, end, run.score_sum / run.n, run.n)
            )

    def finish(self) -> Timeline:
        """Close every open interval and return the :class:`Timeline` (the builder can go on)."""
        if self._prev_t is not None:
            end_t = self._prev_t + self.frame_dt
            saved_t = self._prev_t
            self._credit_previous(end_t)
            for key in list(self._open):
                self._finalise(key, self._open.pop(key))
            self._prev_t = saved_t
            self._pending_active = set()
        else:
            end_t = 0.0
        intervals = sorted(self._done, key=lambda iv: (iv.start_s, iv.kind, iv.a, iv.b))
        people = {k: self._people[k] for k in sorted(self._people)}
        for p in people.values():
            p.n_looking = p.n_looked_at = p.n_mutual = 0
        for iv in intervals:
            for tid in (iv.a, iv.b):
                people.setdefault(tid, PersonTotals(tid))
            if iv.kind == "mutual":
                people[iv.a].n_mutual += 1
                people[iv.b].n_mutual += 1
            else:
                people[iv.a].n_looking += 1
                people[iv.b].n_looked_at += 1
        return Timeline(
            intervals,
            people,
            float(self._start or 0.0),
            float(end_t),
            {
                "threshold": self.threshold,
                "min_duration": self.min_duration,
                "max_gap": self.max_gap,
            },
        )


def plot_timeline(
    timeline: Timeline, path: str | os.PathLike[str], *, title: str | None = None
) -> str:
    """Draw one row per pair of track ids with coloured intervals and save a PNG.

    Colours: mutual gaze green, one-way a→b (a < b) blue, one-way b→a orange; the alpha of a
    bar follows its mean score. Returns the path.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pairs = sorted({(min(iv.a, iv.b), max(iv.a, iv.b)) for iv in timeline.intervals})
    n_rows = max(len(pairs), 1)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.45 * n_rows), dpi=100)
    colours = {"mutual": "#2ca02c", "fwd": "#1f77b4", "back": "#ff7f0e"}
    row_of = {p: k for k, p in enumerate(pairs)}
    for iv in timeline.intervals:
        pair = (min(iv.a, iv.b), max(iv.a, iv.b))
        y = row_of[pair]
        if iv.kind == "mutual":
            colour, y0, h = colours["mutual"], y - 0.38, 0.76
        elif iv.a < iv.b:
            colour, y0, h = colours["fwd"], y - 0.38, 0.36
        else:
            colour, y0, h = colours["back"], y + 0.02, 0.36
        alpha = 0.35 + 0.65 * float(np.clip(iv.mean_score, 0, 1))
        ax.broken_barh([(iv.start_s, iv.duration_s)], (y0, h), color=colour, alpha=alpha, lw=0)
    ax.set_yticks(range(len(pairs)))
    ax.set_yticklabels([f"#{a} – #{b}" for a, b in pairs])
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.invert_yaxis()
    ax.set_xlim(timeline.start_s, max(timeline.end_s, timeline.start_s + 1e-3))
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", alpha=0.3)
    if not pairs:
        ax.text(0.5, 0.5, "no interaction found", transform=ax.transAxes, ha="center", va="center")
    height = 1.6 + 0.45 * n_rows
    fig.set_size_inches(10, height)
    fig.legend(
        handles=[
            Patch(color=colours["mutual"], label="mutual gaze"),
            Patch(color=colours["fwd"], label="one-way: first → second"),
            Patch(color=colours["back"], label="one-way: second → first"),
        ],
        loc="lower center",
        ncol=3,
        frameon=False,
        fontsize=9,
    )
    ax.set_title(title or "Who looks at whom (track ids)")
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path
