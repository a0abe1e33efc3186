"""Interaction pictures: overlay pixels where the scene says they should be, heat-map PNGs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hhpnet.draw.interaction import (
    GROUP_COLORS,
    InteractionAnnotator,
    annotate_interaction,
    heatmap,
)
from hhpnet.interaction import analyze, from_arrays, scene_from_3d

W, H = 1280, 720
BG = 40


def _scene():
    """0 ↔ 1 mutual, 2 → 1 one-way (joins the group), 3 looks into the camera, far right."""
    p = np.array([[-800.0, 0, 3000], [0, 0, 4200], [900, 0, 3000], [1400, 0, 2500]])
    gaze = np.array([p[1] - p[0], p[0] - p[1], p[1] - p[2], [0, 0, -1]])
    s = scene_from_3d(p, gaze, sigma=3.0, image_size=(W, H))
    return s, analyze(s, depth_noise=0.0)


def test_overlay_draws_mutual_line_arrows_groups_and_leaves_input_alone() -> None:
    s, r = _scene()
    assert r.mutual == [(0, 1)] and r.groups == [[0, 1, 2]] and r.targets[2] == 1
    canvas = np.full((H, W, 3), BG, np.uint8)
    out = InteractionAnnotator(labels=False, caption=False).annotate(canvas, s, r)
    assert out.shape == canvas.shape and (canvas == BG).all()  # a copy, input untouched
    c = s.centroid
    # red dot (BGR) in the middle of the mutual pair's line
    mid = np.round((c[0] + c[1]) / 2).astype(int)
    b, g, red = out[mid[1], mid[0]].astype(int)
    assert red > 150 and g < 60 and b < 60
    # the one-way arrow 2 → 1 is drawn between them (not the background)
    q = np.round(c[2] + 0.5 * (c[1] - c[2])).astype(int)
    assert np.abs(out[q[1] - 1 : q[1] + 2, q[0]].astype(int) - BG).max() > 60
    # group hull tint (green in BGR) just above the group's members, none around person 3
    grp = _col_bgr(GROUP_COLORS[0])
    above = np.round(c[0] - (0, 0.7 * s.head_size[0])).astype(int)
    tint = out[above[1], above[0]].astype(int) - BG
    assert tint[1] > tint[0] and tint[1] > tint[2] and tint[1] > 10 and grp[1] > grp[0]
    far = np.round(c[3] - (0, 0.7 * s.head_size[3])).astype(int)
    assert (out[far[1], far[0]] == BG).all()
    # person 3's gaze points into the camera: a blue dot (BGR) at its centroid
    b3, _, r3 = out[round(c[3, 1]), round(c[3, 0])].astype(int)
    assert b3 > 200 and r3 < 100


def _col_bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def test_rgb_flag_swaps_channels_and_caption_is_drawn() -> None:
    s, r = _scene()
    canvas = np.full((H, W, 3), BG, np.uint8)
    bgr = InteractionAnnotator().annotate(canvas, s, r)
    rgb = InteractionAnnotator().annotate(canvas, s, r, rgb=True)
    np.testing.assert_array_equal(bgr, rgb[..., ::-1])
    # caption box at the top left: darkened background with white text
    corner = bgr[:30, :300]
    assert corner.max() > 200 and corner.min() < BG


def test_excluded_people_get_a_grey_cross_and_no_arrow() -> None:
    s, _ = _scene()
    yaw = s.yaw.copy()
    yaw[3] = np.nan
    arr = from_arrays(yaw, s.pitch, s.centroid, s.head_size, s.sigma, image_size=(W, H))
    r = analyze(arr)
    assert r.excluded == [3]
    out = InteractionAnnotator(labels=False, caption=False).annotate(
        np.full((H, W, 3), BG, np.uint8), arr, r
    )
    x, y = np.round(s.centroid[3]).astype(int)
    patch = out[y - 3 : y + 4, x - 3 : x + 4].astype(int)
    assert (np.abs(patch - 150) < 40).all(axis=-1).any()  # grey
    assert not ((patch[..., 0] > 200) & (patch[..., 2] < 100)).any()  # no blue gaze dot


def test_empty_and_mismatched_inputs() -> None:
    empty = from_arrays([], [], np.zeros((0, 2)))
    r0 = analyze(empty)
    img = np.zeros((100, 200, 3), np.uint8)
    out = InteractionAnnotator().annotate(img, empty, r0)
    assert out.shape == img.shape
    s, r = _scene()
    with pytest.raises(ValueError, match="people"):
        InteractionAnnotator().annotate(img, empty, r)
    with pytest.raises(ValueError, match="uint8"):
        InteractionAnnotator().annotate(img.astype(np.float32), s, r)


def test_annotate_interaction_draws_poses_too() -> None:
    from hhpnet.poses import Poses

    s, r = _scene()
    n = len(s)
    kp = np.zeros((n, 5, 3), np.float32)
    offsets = np.array([[0, 5], [8, -5], [-8, -5], [20, 0], [-20, 0]], np.float32)
    kp[..., :2] = s.centroid[:, None, :].astype(np.float32) + offsets
    kp[..., 2] = 0.9
    poses = Poses(
        boxes=np.full((n, 4), np.nan, np.float32),
        scores=np.ones(n, np.float32),
        keypoints=kp,
        yaw=s.yaw.astype(np.float32),
        pitch=s.pitch.astype(np.float32),
        roll=np.zeros(n, np.float32),
        sigma=s.sigma.astype(np.float32),
        valid=np.ones(n, bool),
        centroid=s.centroid.astype(np.float32),
        head_size=s.head_size.astype(np.float32),
        image_size=(W, H),
    )
    canvas = np.full((H, W, 3), BG, np.uint8)
    both = annotate_interaction(canvas, poses, r)
    only = annotate_interaction(canvas, poses, r, draw_poses=False)
    assert (both != only).any()


def test_heatmap_png(tmp_path: Path) -> None:
    _, r = _scene()
    path = heatmap(r, tmp_path / "m.png", labels=["a", "b", "c", "d"])
    img = cv2.imread(str(path))
    assert img is not None and img.shape[0] > 200 and img.shape[1] > img.shape[0]
    fig = heatmap(r)
    assert len(fig.axes) == 3  # two panels + colour bar
    assert fig.axes[0].images[0].get_array()[0, 1] == pytest.approx(r.attention[0, 1])
    with pytest.raises(ValueError, match="labels"):
        heatmap(r, labels=["a"])
    assert heatmap(analyze(from_arrays([], [], np.zeros((0, 2)))), tmp_path / "e.png")
