"""Interaction analysis on scenes whose answer is known (built from 3-D positions and poses)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hhpnet.errors import InputError
from hhpnet.interaction import (
    analyze,
    from_arrays,
    paper_uncertainty,
    scene_from_3d,
)

A = np.array([-600.0, 0.0, 2500.0])
B = np.array([600.0, 0.0, 2500.0])
TO_CAMERA = np.array([0.0, 0.0, -1.0])


def _circle(n: int = 3, radius: float = 700.0, centre: tuple[float, ...] = (0, 0, 3000)):
    c = np.asarray(centre, float)
    ang = np.deg2rad(90.0 + np.arange(n) * 360.0 / n)
    pos = c + radius * np.stack([np.cos(ang), np.zeros(n), np.sin(ang)], 1)
    return pos, c - pos


# --------------------------------------------------------------------------- scene builder
def test_scene_from_3d_looking_into_camera_is_zero_pose_anywhere_in_the_image() -> None:
    pos = np.array([[-1500.0, -600.0, 2000.0], [0.0, 0.0, 3000.0], [1200.0, 500.0, 2500.0]])
    s = scene_from_3d(pos, -pos)  # each looks along its ray, into the camera
    np.testing.assert_allclose(s.yaw, 0.0, atol=1e-9)
    np.testing.assert_allclose(s.pitch, 0.0, atol=1e-9)
    # a face turned to the image's right has negative yaw (convention.py), nose up = +pitch
    s2 = scene_from_3d([[0.0, 0.0, 3000.0]] * 2, [[1.0, 0.0, -1.0], [0.0, -1.0, -1.0]])
    assert s2.yaw[0] == pytest.approx(-45.0)
    assert s2.pitch[1] == pytest.approx(45.0)
    # a nearer head looks bigger
    s3 = scene_from_3d([[0.0, 0.0, 1000.0], [0.0, 0.0, 4000.0]], [TO_CAMERA, TO_CAMERA])
    assert s3.head_size[0] == pytest.approx(4 * s3.head_size[1])


# --------------------------------------------------------------------------- known scenes
def test_facing_each_other_is_mutual_with_score_near_one() -> None:
    s = scene_from_3d([A, B], [B - A, A - B], sigma=2.0)
    exact = analyze(s, depth_noise=0.0)
    assert exact.matrix[0, 1] > 0.99 and exact.matrix[1, 0] == exact.matrix[0, 1]
    assert exact.mutual == [(0, 1)] and exact.targets == [1, 0] and exact.groups == [[0, 1]]
    default = analyze(s)  # depth uncertainty lowers the probability but not the decision
    assert 0.6 < default.matrix[0, 1] <= exact.matrix[0, 1]
    assert default.mutual == [(0, 1)]
    assert default.pairs[0].mutual and default.best_pair == default.pairs[0]


def test_back_to_back_is_zero() -> None:
    s = scene_from_3d([A, B], [A - B, B - A], sigma=5.0)
    for method in ("hhpnet", "paper", "paper-v1"):
        r = analyze(s, method=method)
        assert r.attention.max() < 1e-6, method
        assert r.mutual == [] and r.groups == [] and r.targets == [None, None]
        assert r.scene_score < 1e-6


def test_one_way_attention() -> None:
    s = scene_from_3d([A, B], [B - A, TO_CAMERA], sigma=3.0)
    r = analyze(s)
    assert r.attention[0, 1] > 0.6 and r.attention[1, 0] < 1e-3
    assert r.mutual == [] and r.targets == [1, None]
    assert r.groups == []  # one-way attention alone is not a group
    assert r.matrix[0, 1] < 0.05  # the symmetric score needs both directions


def test_three_facing_a_common_centre_form_one_group_bystander_left_out() -> None:
    pos, gaze = _circle(3)
    pos = np.vstack([pos, [2200.0, 0.0, 3000.0]])
    gaze = np.vstack([gaze, TO_CAMERA])  # a bystander looking into the camera
    r = analyze(scene_from_3d(pos, gaze, sigma=4.0))
    assert r.groups == [[0, 1, 2]]
    assert r.mutual == []  # nobody looks straight at anybody
    assert r.converge[0, 1] > 0.9 and r.converge[:, 3].max() < 1e-6
    assert r.engagement[3] < 0.5 < r.engagement[:3].min()
    assert r.scene_score == pytest.approx(r.engagement.mean())


def test_listener_attending_a_group_member_joins_the_group() -> None:
    p = np.array([[-800.0, 0, 3000], [0, 0, 4200], [900, 0, 3000]])
    gaze = np.array([p[1] - p[0], p[0] - p[1], p[1] - p[2]])  # 0 ↔ 1 mutual, 2 → 1 one-way
    r = analyze(scene_from_3d(p, gaze, sigma=3.0), depth_noise=0.0)
    assert r.mutual == [(0, 1)] and r.targets[2] == 1
    assert r.groups == [[0, 1, 2]]


def test_depth_from_head_size_tells_near_from_far_target() -> None:
    me = np.array([-1000.0, 0, 3000])
    far = np.array([1000.0, 0, 4500])  # what I look at
    near = me + 0.45 * (far - me) + np.array([0, 0, -900])  # same side of the image, nearer
    pos = np.stack([me, near, far])
    s = scene_from_3d(pos, [far - me, TO_CAMERA, TO_CAMERA], sigma=3.0)
    # both others are to my right in the image
    assert s.centroid[1, 0] > s.centroid[0, 0] and s.centroid[2, 0] > s.centroid[0, 0]
    r = analyze(s)
    assert r.targets[0] == 2
    assert r.attention[0, 2] > 0.5 > r.attention[0, 1]
    np.testing.assert_allclose(r.depth_mm, pos[:, 2], rtol=1e-6)


# --------------------------------------------------------------------------- terms of the score
def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _off_target_pair(distance: float, depth: float = 3000.0, off_deg: float = 25.0, sigma=2.0):
    """Person 0 looks ``off_deg`` beside person 1 (horizontally, away from the camera); both at
    the same depth, ``distance`` mm apart along x; person 1 looks into the camera. σ = 2°."""
    t = math.radians(off_deg)
    pos = [[-distance / 2, 0.0, depth], [distance / 2, 0.0, depth]]
    return scene_from_3d(pos, [[math.cos(t), 0.0, math.sin(t)], TO_CAMERA], sigma=sigma)


@pytest.mark.parametrize(
    ("distance", "expected", "target"),
    [(500.0, 0.966317, 1), (3000.0, 0.060219, None)],
)
def test_head_radius_and_distance_decide_whether_an_off_gaze_hits(distance, expected, target):
    """Closed form of the attention (docs: A = Π_axis [Φ((τ − d)/s) − Φ((−τ − d)/s)]), by hand:
    the gaze misses the direction to the other head by d = 25° in yaw (0 in pitch: that factor
    is 1 − 2Φ(−τ/s) = 1 to 1e-18); s = √(2² + 1²) (σ and the 1° floor); τ = 20° + the head's
    angular radius atan(80 mm / distance): 9.09° at 0.5 m → A = Φ(1.8292) = 0.966317, a hit;
    1.53° at 3 m → A = Φ(−1.5529) = 0.060219, a miss. Without the radius term both would be
    Φ(−2.2361) = 0.012674; with a fixed distance both the same."""
    radius = math.degrees(math.atan2(80.0, distance))
    tau, s = 20.0 + radius, math.sqrt(5.0)
    closed = _phi((tau - 25.0) / s) - _phi((-tau - 25.0) / s)
    assert closed == pytest.approx(expected, abs=1e-6)
    r = analyze(_off_target_pair(distance), depth_noise=0.0)
    assert r.attention[0, 1] == pytest.approx(expected, abs=1e-5)
    assert r.targets[0] == target and r.attention[1, 0] < 1e-6


@pytest.mark.parametrize(("distance", "expected"), [(500.0, 0.931542), (3000.0, 0.060219)])
def test_pitch_uncertainty_counts_as_much_as_the_head_faces_the_camera(distance, expected):
    """Person 0's pitch σ is 40° (yaw and roll 2°); the pitch error moves the gaze by σ·|cos ψ|
    sideways, ψ the yaw from the camera: cos ψ = gaze · (head → camera) by hand. At 0.5 m
    apart: head at (−250, 0, 3000) mm, gaze (cos 25°, 0, sin 25°): |cos ψ| = |0.075265 −
    0.421158| = 0.345894, s = √((40·0.345894)² + 1) = 13.8718, the pitch factor
    2Φ(29.0903/13.8718) − 1 = 0.964013 and A = 0.966317 × 0.964013 = 0.931542. At 3 m: |cos ψ|
    = 0.027312 (seen from the side), s = 1.4810, the factor is 1: A = 0.060219 as with σ 2°.
    Without the |cos ψ| they would be 0.514846 and 0.024656."""
    head = np.array([-distance / 2, 0.0, 3000.0])
    gaze = np.array([math.cos(math.radians(25.0)), 0.0, math.sin(math.radians(25.0))])
    cos_psi = abs(float(gaze @ (-head / np.linalg.norm(head))))
    tau = 20.0 + math.degrees(math.atan2(80.0, distance))
    s_yaw, s_pitch = math.sqrt(5.0), math.hypot(40.0 * cos_psi, 1.0)
    closed = (_phi((tau - 25.0) / s_yaw) - _phi((-tau - 25.0) / s_yaw)) * (
        2 * _phi(tau / s_pitch) - 1
    )
    assert closed == pytest.approx(expected, abs=1e-6)
    r = analyze(_off_target_pair(distance, sigma=[[2.0, 40.0, 2.0], [2.0, 2.0, 2.0]]),
                depth_noise=0.0)  # fmt: skip
    assert r.attention[0, 1] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(("distance", "expected"), [(500.0, 0.426837), (3000.0, 0.325509)])
def test_depth_noise_widens_the_gaze_of_a_pair_side_by_side(distance, expected):
    """The default depth noise (10 % of each depth, ε·Z along each ray) moves the direction
    0 → 1 by (δP)⊥ / distance: for heads side by side at depth Z = 3 m, each end moves by Z·ε
    along z, whose share along the gaze's yaw direction is cos 25°. By hand:
    var = 2·(Z cos 25° · (0.1 rad in degrees) / distance)² = 53.93 deg² at 3 m (1941.5 at
    0.5 m), s = √(5 + var) and A = Φ((τ − 25)/s) − Φ((−τ − 25)/s) = 0.325509 (0.426837)."""
    radius = math.degrees(math.atan2(80.0, distance))
    tau = 20.0 + radius
    var = 2.0 * (3000.0 * math.cos(math.radians(25.0)) * math.degrees(0.1) / distance) ** 2
    s = math.sqrt(5.0 + var)
    assert _phi((tau - 25.0) / s) - _phi((-tau - 25.0) / s) == pytest.approx(expected, abs=1e-6)
    r = analyze(_off_target_pair(distance))
    assert r.attention[0, 1] == pytest.approx(expected, abs=1e-5)
    assert r.targets == [None, None]


# --------------------------------------------------------------------------- invariances
def _random_scene(seed: int, n: int = 6):
    rng = np.random.default_rng(seed)
    pos = np.stack(
        [rng.uniform(-1500, 1500, n), rng.uniform(-200, 200, n), rng.uniform(2000, 4000, n)], 1
    )
    targets = rng.permutation(n)
    gaze = pos[targets] - pos + rng.normal(0, 150, (n, 3))
    gaze[targets == np.arange(n)] = TO_CAMERA
    return scene_from_3d(pos, gaze, sigma=rng.uniform(2, 12, (n, 3)))


@pytest.mark.parametrize("method", ["hhpnet", "paper", "paper-v1"])
def test_invariant_to_translating_and_scaling_the_scene(method: str) -> None:
    s = _random_scene(1)
    base = analyze(from_arrays(s.yaw, s.pitch, s.centroid, s.head_size, s.sigma), method=method)
    for scale, shift in ((1.0, (300.0, -120.0)), (2.5, (0.0, 0.0)), (0.4, (-50.0, 900.0))):
        moved = from_arrays(
            s.yaw, s.pitch, s.centroid * scale + shift, s.head_size * scale, s.sigma
        )
        r = analyze(moved, method=method)
        np.testing.assert_allclose(r.attention, base.attention, atol=1e-9)
        np.testing.assert_allclose(r.matrix, base.matrix, atol=1e-9)
        assert r.groups == base.groups and r.targets == base.targets
    # with an image size, scaling image and scene together changes nothing either
    sized = analyze(s, method=method)
    big = from_arrays(
        s.yaw, s.pitch, s.centroid * 3, s.head_size * 3, s.sigma, image_size=(1280 * 3, 720 * 3)
    )
    np.testing.assert_allclose(analyze(big, method=method).attention, sized.attention, atol=1e-9)


def test_widening_sigma_changes_decisions_monotonically() -> None:
    for seed in range(4):
        s = _random_scene(seed, n=7)
        prev_look = None
        prev_att = None
        inside = None
        for k in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0):
            r = analyze(
                from_arrays(
                    s.yaw, s.pitch, s.centroid, s.head_size, s.sigma * k, image_size=s.image_size
                ),
                depth_noise=0.0,
            )
            look = r.attention >= 0.5
            if prev_look is not None:
                assert not (look & ~prev_look).any()  # decisions are only ever withdrawn
                # pairs that looked certain become less certain
                assert (r.attention[inside] <= prev_att[inside] + 1e-12).all()
            else:
                inside = look
            prev_look, prev_att = look, r.attention
        assert inside.any()


def test_larger_sigma_gives_lower_probability_for_a_true_look() -> None:
    probs = []
    for sig in (1.0, 5.0, 10.0, 20.0, 40.0):
        s = scene_from_3d([A, B], [B - A, A - B], sigma=sig)
        probs.append(analyze(s).attention[0, 1])
    assert np.all(np.diff(probs) < 0)
    assert probs[-1] < 0.5 < probs[0]


# --------------------------------------------------------------------------- paper variant
def test_paper_uncertainty_mapping() -> None:
    sig = np.array([[3, 3, 0], [12, 12, 50], [15, 21, 0], [30, 60, 0], [np.nan, 1, 0]], float)
    np.testing.assert_allclose(paper_uncertainty(sig), [0.1, 0.4, 0.6, 1.0, 1.0])
    np.testing.assert_allclose(paper_uncertainty(sig, sigma_max_deg=60), [0.05, 0.2, 0.3, 0.75, 1])


def _paper_pair() -> object:
    # person 0 at (0, 0) turned to the image right (yaw −30°), σ 3° → u 0.1 → cone 3°;
    # person 1 at (100, 50), yaw +45°, pitch 10°, σ 20° → u 0.667 → cone 9°
    return from_arrays(
        yaw=[-30.0, 45.0],
        pitch=[0.0, 10.0],
        centroid=[[0.0, 0.0], [100.0, 50.0]],
        sigma=[[3.0, 3.0, 1.0], [20.0, 20.0, 1.0]],
    )


def test_paper_method_reproduces_hand_computed_values() -> None:
    # g0 = (sin 30°, −cos 30°·sin 0) → (1, 0); O1 − O0 = (100, 50): δ = atan(0.5) = 26.565°
    m01 = math.cos(math.atan2(50, 100))  # 0.894427
    # g1 = (sin −45°, −cos 45°·sin 10°) = (−0.70711, −0.12279): direction 189.851°;
    # O0 − O1 = (−100, −50): direction 206.565°; δ = 16.714° > 9° cone
    m10 = math.cos(math.radians(16.71393))  # 0.957752
    r = analyze(_paper_pair(), method="paper")
    assert r.attention[0, 1] == pytest.approx(0.894427, abs=1e-5)
    assert r.attention[0, 1] == pytest.approx(m01, abs=1e-9)
    assert r.attention[1, 0] == pytest.approx(m10, abs=1e-5)
    assert r.matrix[0, 1] == pytest.approx((0.894427 + 0.957752) / 2, abs=1e-5)
    assert r.matrix[1, 0] == r.matrix[0, 1] and r.matrix[0, 0] == 0.0
    # v1: 5° cone, then M·((1 − u_i) + (1 − u_j)) / 2 with u = (0.1, 0.6667) → 0.616667
    v1 = analyze(_paper_pair(), method="paper-v1")
    assert v1.params["threshold"] == 0.5 and r.params["threshold"] == 0.95
    assert v1.attention[0, 1] == pytest.approx(0.894427 * 0.616667, abs=1e-5)
    assert v1.attention[1, 0] == pytest.approx(0.957752 * 0.616667, abs=1e-5)


def test_paper_cone_zeroes_small_deviations_and_grows_with_uncertainty() -> None:
    # person 1 sits 7° off person 0's gaze: inside the 9° cone (σ 25°), outside 3° / 6°
    off = (math.cos(math.radians(7)) * 100, math.sin(math.radians(7)) * 100)
    cen = [[0.0, 0.0], list(off)]
    res = {}
    for sig in (3.0, 15.0, 25.0):  # u 0.1 (3°), 0.5 (6°), 0.833 (9°)
        arr = from_arrays([-90.0, 0.0], [0.0, 0.0], cen, sigma=[[sig, sig, 0], [sig, sig, 0]])
        res[sig] = analyze(arr, method="paper").attention[0, 1]
    assert res[3.0] == pytest.approx(math.cos(math.radians(7)), abs=1e-9)
    assert res[15.0] == pytest.approx(math.cos(math.radians(7)), abs=1e-9)
    assert res[25.0] == 1.0
    # a face looking into the camera has no image-plane gaze: it looks at nobody
    assert analyze(from_arrays([0.0, 0.0], [0.0, 0.0], cen), method="paper").attention.max() == 0


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("method", ["hhpnet", "paper"])
def test_zero_and_one_person_give_an_empty_result(method: str) -> None:
    r0 = analyze(from_arrays([], [], np.zeros((0, 2))), method=method)
    assert r0.matrix.shape == (0, 0) and r0.pairs == [] and r0.groups == [] and r0.targets == []
    assert r0.scene_score == 0.0
    json.dumps(r0.to_dict(), allow_nan=False)
    r1 = analyze(from_arrays([10.0], [0.0], [[5.0, 5.0]]), method=method)
    assert r1.matrix.shape == (1, 1) and r1.matrix[0, 0] == 0 and r1.targets == [None]
    assert r1.pairs == [] and r1.mutual == []


def test_invalid_people_are_excluded_and_reported() -> None:
    s = scene_from_3d([A, B, [0.0, 0.0, 2500.0]], [B - A, A - B, A - [0.0, 0.0, 2500.0]])
    yaw = s.yaw.copy()
    yaw[2] = np.nan  # the third looks at A, but its pose is unknown
    arr = from_arrays(
        yaw,
        s.pitch,
        s.centroid,
        s.head_size,
        s.sigma,
        valid=[True, True, True],
        image_size=s.image_size,
    )
    r = analyze(arr)
    assert r.excluded == [2] and "NaN" in r.excluded_reasons[2]
    assert r.attention[2].max() == 0 and r.attention[:, 2].max() == 0
    assert r.targets[2] is None and all(2 not in g for g in r.groups)
    assert r.mutual == [(0, 1)]
    assert {(p.i, p.j) for p in r.pairs} == {(0, 1)}
    # flagged invalid, missing head size (needed for depth) and missing centroid
    hs = s.head_size.copy()
    hs[0] = np.nan
    flagged = from_arrays(s.yaw, s.pitch, s.centroid, hs, s.sigma, valid=[True, True, False])
    r2 = analyze(flagged)
    assert r2.excluded == [0, 2] and r2.excluded_reasons[2] == "invalid pose"
    assert r2.pairs == [] and r2.scene_score == 0.0
    assert analyze(flagged, depth="none").excluded == [2]  # no depth → head size not needed
    d = r2.to_dict()
    assert d["excluded"] == [0, 2] and d["excluded_reasons"]["0"] == "no head size"
    json.dumps(d, allow_nan=False)


def test_bad_arguments_raise_input_error() -> None:
    s = scene_from_3d([A, B], [B - A, A - B])
    with pytest.raises(InputError, match="unknown interaction method"):
        analyze(s, method="laeo")
    with pytest.raises(InputError, match="unknown parameter"):
        analyze(s, cone=5)
    with pytest.raises(InputError, match="threshold"):
        analyze(s, threshold=0.0)
    with pytest.raises(InputError, match="depth"):
        analyze(s, depth="stereo")
    with pytest.raises(InputError, match="centroid"):
        from_arrays([1.0, 2.0], [0.0, 0.0], [[1.0, 2.0]])
    with pytest.raises(InputError, match="z > 0"):
        scene_from_3d([[0.0, 0.0, -5.0]], [TO_CAMERA])


def test_to_dict_is_json_ready_and_complete() -> None:
    pos, gaze = _circle(4)
    r = analyze(scene_from_3d(pos, gaze))
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["method"] == "hhpnet" and d["n"] == 4
    assert np.allclose(d["matrix"], r.matrix, atol=1e-4)
    assert len(d["pairs"]) == 6 and d["pairs"][0]["score"] >= d["pairs"][-1]["score"]
    assert d["groups"] == r.groups and d["targets"] == r.targets
    assert d["params"]["tolerance_deg"] == 20.0 and d["params"]["converge_range"] == [0.25, 1.5]
    assert set(d) >= {
        "matrix",
        "attention",
        "pairs",
        "mutual",
        "groups",
        "targets",
        "scene_score",
        "excluded",
    }


def test_accepts_pipeline_poses() -> None:
    from hhpnet.poses import Poses

    s = scene_from_3d([A, B], [B - A, A - B], sigma=3.0)
    n = 2
    poses = Poses(
        boxes=np.zeros((n, 4), np.float32),
        scores=np.ones(n, np.float32),
        keypoints=np.ones((n, 5, 3), np.float32),
        yaw=s.yaw.astype(np.float32),
        pitch=s.pitch.astype(np.float32),
        roll=np.zeros(n, np.float32),
        sigma=s.sigma.astype(np.float32),
        valid=np.ones(n, bool),
        centroid=s.centroid.astype(np.float32),
        head_size=s.head_size.astype(np.float32),
        image_size=(1280, 720),
    )
    r = analyze(poses)
    assert r.mutual == [(0, 1)]
    np.testing.assert_allclose(r.attention, analyze(s).attention, atol=1e-5)


def test_common_depth_without_any_head_size_does_not_divide_by_zero():
    """depth="none" takes the typical head size; with none known (all 0) it still answers
    (found by the fuzz suite: ZeroDivisionError)."""
    from hhpnet.interaction import analyze, from_arrays

    poses = from_arrays([0.0, 0.0], [0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0])
    inter = analyze(poses, depth="none")
    # two heads at the same place: no direction from one to the other, nobody looks at anybody
    np.testing.assert_array_equal(inter.attention, np.zeros((2, 2)))
    # turned away from each other (yaw +30 on the left looks to the image left): ~0; turned
    # towards each other: the same small probability both ways (mirror-symmetric scene)
    cen = [[100.0, 200.0], [400.0, 200.0]]
    away = analyze(from_arrays([30.0, -30.0], [0.0, 0.0], cen, [0.0, 80.0]), depth="none")
    assert away.attention.max() < 1e-6 and away.excluded == []
    towards = analyze(from_arrays([-30.0, 30.0], [0.0, 0.0], cen, [0.0, 80.0]), depth="none")
    assert towards.attention[0, 1] == pytest.approx(towards.attention[1, 0], abs=1e-12)
    assert 0.01 < towards.attention[0, 1] < 0.5


@pytest.mark.parametrize(
    "params",
    [
        {"threshold": "0.5"},
        {"fov_deg": "abc"},
        {"tolerance_deg": float("nan")},
        {"depth_noise": float("inf")},
        {"converge_range": 5},
        {"ray_relative": 0},
    ],
)
def test_parameters_of_the_wrong_type_raise_one_line_input_error(params):
    from hhpnet.errors import InputError
    from hhpnet.interaction import analyze, from_arrays

    poses = from_arrays([0.0, 10.0], [0.0, 0.0], [[100.0, 100.0], [300.0, 100.0]])
    with pytest.raises(InputError) as info:
        analyze(poses, **params)
    assert "\n" not in str(info.value)


def test_from_arrays_builds_poses_keeping_float64_and_every_point_present() -> None:
    from hhpnet.poses import Poses

    yaw, cen = [0.1, 170.3, -45.7], [[100.0, 200.0], [400.0, 210.0], [250.0, 500.0]]
    poses = from_arrays(yaw, [1.1, -2.2, 3.3], cen, [80.0, 90.0, 70.0], 4.4)
    assert isinstance(poses, Poses) and len(poses) == 3
    assert poses.yaw.dtype == np.float64 and poses.yaw.tolist() == yaw  # not rounded to float32
    assert poses.centroid.tolist() == cen and poses.sigma.tolist() == [[4.4] * 3] * 3
    assert np.isnan(poses.boxes).all() and np.isnan(poses.scores).all()
    assert (poses.roll == 0).all() and (poses.track_id == -1).all()
    # without keypoints every point counts as present: as all five given with confidence 1
    kp = np.ones((3, 5, 3), np.float32)
    given = from_arrays(yaw, [1.1, -2.2, 3.3], cen, [80.0, 90.0, 70.0], 4.4, keypoints=kp)
    assert analyze(poses).to_dict() == analyze(given).to_dict()
    kp[:, 3:, 2] = 0  # no ears: a different nominal head span, so different depths
    fewer = from_arrays(yaw, [1.1, -2.2, 3.3], cen, [80.0, 90.0, 70.0], 4.4, keypoints=kp)
    assert not np.array_equal(analyze(fewer).depth_mm, analyze(poses).depth_mm)
    assert poses[[0, 2]].yaw.tolist() == [0.1, -45.7]  # indexing as any Poses
