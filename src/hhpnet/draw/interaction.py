"""Pictures of an :class:`hhpnet.interaction.Interaction`: an image overlay and a matrix heat-map.

``scene`` is a uint8 ``(H, W, 3)`` image, **BGR** unless ``rgb=True``; a copy is returned.
``poses`` is any object with ``centroid`` (N, 2) pixels, ``head_size`` (N,) pixels, ``yaw``,
``pitch`` (N,) degrees and ``valid`` (N,) — a :class:`hhpnet.poses.Poses`.

:class:`InteractionAnnotator` draws, from back to front:

* **groups** — a translucent hull (one colour per group) around the members' heads;
* **pairs** — a line between two people whose thickness and colour (pale yellow → magenta) show the
  symmetric score, for scores ≥ ``min_score`` (0.2); **mutual** pairs get a thick line with a white
  halo and a dark-red dot at its middle;
* **one-way attention** — an arrow i → j when ``attention[i, j]`` ≥ the threshold of the
  analysis and j does not look back;
* **gaze arrows** — each valid person's facing direction in the image (yaw, pitch), 1.6 head
  sizes long (off with ``gaze=False``; :func:`annotate_interaction` draws the head axes
  instead); excluded people get a grey cross;
* **labels** — the person index at each head and a caption with the scene score.

:func:`heatmap` draws the directional attention and the symmetric matrix side by side
(matplotlib imported lazily; no pyplot, no window) and saves a PNG when given a path.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, overload

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet._types import F64, BoolArray
from hhpnet.convention import facing_direction
from hhpnet.draw.style import AXIS_COLORS, GREY, RGB, U8, outlined_text
from hhpnet.draw.style import FONT as _FONT
from hhpnet.draw.style import colour as _col
from hhpnet.draw.style import point as _pt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

    from hhpnet.interaction import Interaction
    from hhpnet.protocols import PoseLike

__all__ = ["GROUP_COLORS", "InteractionAnnotator", "annotate_interaction", "heatmap"]


#: group colours (RGB), cycled
GROUP_COLORS: tuple[RGB, ...] = (
    (46, 160, 67),
    (31, 119, 180),
    (148, 103, 189),
    (255, 127, 14),
    (23, 190, 207),
    (227, 119, 194),
)


def _score_color(score: float) -> RGB:
    """Pale yellow (0) → orange → magenta (1) (distinct from the red/blue head axes)."""
    s = float(np.clip(score, 0.0, 1.0))
    return (255 - round(35 * s), round(230 - 220 * s), round(110 + 60 * s))


class InteractionAnnotator:
    """Overlay of an interaction analysis on the image (see the module docstring)."""

    def __init__(
        self,
        min_score: float = 0.2,
        max_thickness: int | None = None,
        gaze_length: float = 1.6,
        gaze: bool = True,
        groups: bool = True,
        labels: bool = True,
        caption: bool = True,
    ) -> None:
        self.min_score = min_score
        self.max_thickness = max_thickness
        self.gaze_length = gaze_length
        self.gaze = gaze
        self.groups = groups
        self.labels = labels
        self.caption = caption

    def annotate(
        self, scene: ArrayLike, poses: PoseLike, interaction: Interaction, *, rgb: bool = False
    ) -> U8:
        img = np.asarray(scene)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"scene must be a uint8 (H, W, 3) image; got {img.dtype} {img.shape}")
        img = np.ascontiguousarray(img).copy()
        n = len(interaction.matrix)
        cen = np.asarray(poses.centroid, np.float64).reshape(-1, 2)
        if len(cen) != n:
            raise ValueError(f"poses has {len(cen)} people, the interaction {n}")
        if n == 0:
            return self._caption(img, interaction, rgb)
        hs = np.asarray(poses.head_size, np.float64).reshape(n)
        side = min(img.shape[:2])
        fallback = 0.06 * side
        hs = np.where(np.isfinite(hs) & (hs > 0), hs, fallback)
        ok: NDArray[np.bool_] = np.asarray(np.isfinite(cen).all(axis=1))
        excluded = set(int(i) for i in interaction.excluded)
        max_t = self.max_thickness or max(3, round(side / 90))
        base_t = max(1, round(side / 450))

        if self.groups:
            self._groups(img, cen, hs, ok, interaction.groups, rgb)

        att = np.asarray(interaction.attention, np.float64)
        mat = np.asarray(interaction.matrix, np.float64)
        theta = float(interaction.params.get("threshold", 0.5))
        mutual = {(min(i, j), max(i, j)) for i, j in interaction.mutual}
        # pairs, weakest first so the strongest are on top
        pairs = [p for p in interaction.pairs if p.score >= self.min_score]
        for p in sorted(pairs, key=lambda q: q.score):
            if not (ok[p.i] and ok[p.j]) or (p.i, p.j) in mutual:
                continue
            t = max(base_t, round(p.score * max_t))
            cv2.line(
                img, _pt(cen[p.i]), _pt(cen[p.j]), _col(_score_color(p.score), rgb), t, cv2.LINE_AA
            )
        # one-way attention arrows
        for i, j in zip(*np.nonzero((att >= theta) & (att.T < theta)), strict=True):
            if ok[i] and ok[j]:
                self._arrow(img, cen[i], cen[j], hs[j], _score_color(att[i, j]), base_t + 1, rgb)
        # mutual pairs: white halo, red dot in the middle
        for i, j in sorted(mutual):
            if not (ok[i] and ok[j]):
                continue
            t = max(base_t + 2, round(mat[i, j] * max_t) + 1)
            a, b = _pt(cen[i]), _pt(cen[j])
            cv2.line(img, a, b, (255, 255, 255), t + 4, cv2.LINE_AA)
            cv2.line(img, a, b, _col(_score_color(mat[i, j]), rgb), t, cv2.LINE_AA)
            mid = (cen[i] + cen[j]) / 2
            cv2.circle(img, _pt(mid), t + 3, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(img, _pt(mid), t + 1, _col((200, 0, 0), rgb), -1, cv2.LINE_AA)

        self._gaze(img, poses, cen, hs, ok, excluded, base_t, rgb, arrows=self.gaze)
        if self.labels:
            scale = max(side / 1400.0, 0.4)
            th = max(1, round(scale * 2))
            for i in range(n):
                if ok[i]:
                    colour = _col(GREY if i in excluded else (255, 255, 255), rgb)
                    org = (int(cen[i, 0] + 0.35 * hs[i]), int(cen[i, 1] - 0.35 * hs[i]))
                    outlined_text(img, f"{i}", org, scale * 1.3, colour, th)
        return self._caption(img, interaction, rgb)

    # ----------------------------------------------------------------- parts
    def _groups(
        self, img: U8, cen: F64, hs: F64, ok: BoolArray, groups: list[list[int]], rgb: bool
    ) -> None:
        overlay = img.copy()
        for g, members in enumerate(groups):
            idx = [i for i in members if ok[i]]
            if len(idx) < 2:
                continue
            ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
            circle = np.stack([np.cos(ang), np.sin(ang)], 1)
            pts = np.concatenate([cen[i] + 0.9 * hs[i] * circle for i in idx])
            hull = cv2.convexHull(np.round(pts).astype(np.int32))
            colour = _col(GROUP_COLORS[g % len(GROUP_COLORS)], rgb)
            cv2.fillConvexPoly(overlay, hull, colour, cv2.LINE_AA)
            cv2.polylines(img, [hull], True, colour, max(2, min(img.shape[:2]) // 300), cv2.LINE_AA)
        cv2.addWeighted(overlay, 0.28, img, 0.72, 0, dst=img)

    @staticmethod
    def _arrow(img: U8, a: F64, b: F64, hs_b: float, colour: RGB, t: int, rgb: bool) -> None:
        d = np.asarray(b, float) - np.asarray(a, float)
        dist = float(np.hypot(*d))
        if dist < 1:
            return
        u = d / dist
        tip = np.asarray(b, float) - u * min(0.45 * hs_b, 0.3 * dist)
        start = np.asarray(a, float)
        length = float(np.hypot(*(tip - start)))
        head_px = 10.0 + 4.0 * t
        cv2.arrowedLine(
            img,
            _pt(start),
            _pt(tip),
            _col(colour, rgb),
            t,
            cv2.LINE_AA,
            tipLength=min(0.5, head_px / max(length, 1.0)),
        )

    def _gaze(
        self,
        img: U8,
        poses: PoseLike,
        cen: F64,
        hs: F64,
        ok: BoolArray,
        excluded: set[int],
        t: int,
        rgb: bool,
        arrows: bool = True,
    ) -> None:
        n = len(cen)
        yaw = np.asarray(poses.yaw, np.float64).reshape(n)
        pitch = np.asarray(poses.pitch, np.float64).reshape(n)
        d2 = facing_direction(np.nan_to_num(yaw), np.nan_to_num(pitch))[:, :2]
        for i in range(n):
            if not ok[i]:
                continue
            c = cen[i]
            if i in excluded:
                r = 0.3 * hs[i]
                for s in (1, -1):
                    cv2.line(
                        img,
                        _pt(c + np.array([-r, -s * r])),
                        _pt(c + np.array([r, s * r])),
                        _col(GREY, rgb),
                        t + 1,
                        cv2.LINE_AA,
                    )
                continue
            if not arrows:
                continue
            end = c + d2[i] * self.gaze_length * hs[i]
            cv2.circle(
                img, _pt(c), max(2, int(0.12 * hs[i])), _col(AXIS_COLORS[2], rgb), -1, cv2.LINE_AA
            )
            if np.hypot(*(end - c)) >= 3:
                cv2.arrowedLine(
                    img,
                    _pt(c),
                    _pt(end),
                    _col(AXIS_COLORS[2], rgb),
                    t + 1,
                    cv2.LINE_AA,
                    tipLength=0.25,
                )

    def _caption(self, img: U8, interaction: Interaction, rgb: bool) -> U8:
        if not self.caption:
            return img
        side = min(img.shape[:2])
        scale = max(side / 1500.0, 0.4)
        th = max(1, round(scale * 2))
        n_valid = len(interaction.matrix) - len(interaction.excluded)
        text = (
            f"{interaction.method}: scene {interaction.scene_score:.2f}  "
            f"mutual {len(interaction.mutual)}  groups {len(interaction.groups)}  "
            f"people {n_valid}"
        )
        if interaction.excluded:
            text += f" (+{len(interaction.excluded)} excluded)"
        (tw, tht), base = cv2.getTextSize(text, _FONT, scale, th)
        pad = max(4, int(8 * scale))
        box_end = (min(tw + 2 * pad, img.shape[1] - 1), min(tht + base + 2 * pad, img.shape[0] - 1))
        sub = img[: box_end[1], : box_end[0]]
        sub[:] = (sub.astype(np.float32) * 0.35).astype(np.uint8)
        cv2.putText(img, text, (pad, pad + tht), _FONT, scale, (255, 255, 255), th, cv2.LINE_AA)
        return img


def _known_points(keypoints: object) -> bool:
    """Keypoints (N, 5, 3) of no person, or with at least one present point at a known place."""
    if keypoints is None:
        return False
    kp = np.asarray(keypoints, np.float64)
    return len(kp) == 0 or bool(((kp[..., 2] > 0) & np.isfinite(kp[..., :2]).all(axis=-1)).any())


def annotate_interaction(
    scene: ArrayLike,
    poses: PoseLike,
    interaction: Interaction,
    *,
    rgb: bool = False,
    draw_poses: bool = True,
) -> U8:
    """Head poses (:func:`hhpnet.draw.annotate`, if ``draw_poses`` and ``poses`` has boxes and
    keypoints whose positions are known — not those of :func:`hhpnet.interaction.from_arrays`
    without keypoints) under the interaction overlay; returns an annotated copy."""
    img = np.asarray(scene)
    if draw_poses and hasattr(poses, "boxes") and _known_points(getattr(poses, "keypoints", None)):
        from hhpnet.draw.pose import annotate

        img = annotate(img, poses, rgb=rgb, labels=False)
        # the head axes already show the facing direction (blue z axis): no second gaze arrow
        return InteractionAnnotator(gaze=False).annotate(img, poses, interaction, rgb=rgb)
    return InteractionAnnotator().annotate(img, poses, interaction, rgb=rgb)


@overload
def heatmap(
    interaction: Interaction,
    path: None = None,
    *,
    labels: list[str] | None = None,
    title: str | None = None,
    dpi: int = 120,
) -> Figure: ...
@overload
def heatmap(
    interaction: Interaction,
    path: str | os.PathLike[str],
    *,
    labels: list[str] | None = None,
    title: str | None = None,
    dpi: int = 120,
) -> str: ...
def heatmap(
    interaction: Interaction,
    path: str | os.PathLike[str] | None = None,
    *,
    labels: list[str] | None = None,
    title: str | None = None,
    dpi: int = 120,
) -> Figure | str:
    """Heat-maps of ``attention`` (row i looks at column j) and the symmetric ``matrix``.

    Cells show values for up to 12 people; mutual pairs are framed; excluded people are hatched
    grey. Returns the matplotlib Figure, or saves it as PNG at ``path`` and returns the path.
    """
    from matplotlib.figure import Figure  # no pyplot: no window, no global backend change

    n = len(interaction.matrix)
    names = labels if labels is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} labels for {n} people")
    size = 2.2 + 0.42 * max(n, 2)
    fig = Figure(figsize=(2 * size + 1.2, size + 0.6), dpi=dpi, layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (
        (interaction.attention, "attention: row i looks at column j"),
        (interaction.matrix, f"score ({interaction.method})"),
    )
    excluded = set(int(i) for i in interaction.excluded)
    mutual = {(int(i), int(j)) for i, j in interaction.mutual}
    mutual |= {(j, i) for i, j in mutual}
    image = None
    for ax, (values, name) in zip(axes, panels, strict=True):
        if n == 0:
            ax.text(0.5, 0.5, "no people", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        a = np.array(values, np.float64).reshape(n, n)
        image = _heatmap_panel(ax, a, name, names)
        _mark_people(ax, n, excluded, mutual)
        if n <= 12:
            _cell_values(ax, a, excluded)
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8)
    caption = title or (
        f"scene score {interaction.scene_score:.2f} · mutual {interaction.mutual} · "
        f"groups {interaction.groups}"
    )
    fig.suptitle(caption, fontsize=10)
    if path is None:
        return fig
    fig.savefig(os.fspath(path), dpi=dpi)
    return os.fspath(path)


def _heatmap_panel(ax: Axes, a: F64, name: str, names: list[str]) -> AxesImage:
    """One panel: the (n, n) values ``a`` (diagonal blank), title, people on both axes."""
    n = len(a)
    shown = np.ma.masked_array(a, mask=np.eye(n, dtype=bool))
    image = ax.imshow(shown, vmin=0.0, vmax=1.0, cmap="magma_r")
    ax.set_title(name, fontsize=10)
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("j")
    ax.set_ylabel("i")
    return image


def _mark_people(ax: Axes, n: int, excluded: set[int], mutual: set[tuple[int, int]]) -> None:
    """Hatch the rows and columns of excluded people; frame the cells of mutual pairs."""
    from matplotlib.patches import Rectangle

    for k in excluded:
        for rect in ((-0.5, k - 0.5, n, 1), (k - 0.5, -0.5, 1, n)):
            ax.add_patch(
                Rectangle(
                    rect[:2],
                    rect[2],
                    rect[3],
                    facecolor="0.85",
                    hatch="//",
                    edgecolor="0.6",
                    lw=0,
                )
            )
    for i, j in mutual:
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:cyan", lw=2.5))


def _cell_values(ax: Axes, a: F64, excluded: set[int]) -> None:
    """The value of each cell between two people who are not excluded."""
    n = len(a)
    for i in range(n):
        for j in range(n):
            if i != j and i not in excluded and j not in excluded:
                colour = "white" if a[i, j] > 0.55 else "black"
                ax.text(
                    j,
                    i,
                    f"{a[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=colour,
                )
