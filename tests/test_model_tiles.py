"""The pose network's tiles: a person's raw outputs are the same bit for bit alone, in any
batch, at any position of a tile or a chunk, with any neighbours (hhpnet.model.TILE_ROWS), with
one or two OpenBLAS threads."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hhpnet import model as hm
from hhpnet.keypoints import normalize, validate_keypoints
from hhpnet.model import HeadPoseModel, load_model
from tests.test_model import random_faces, random_tensors

CHUNK = hm.CHUNK_TILES * hm.TILE_ROWS


def inputs(n: int, seed: int) -> np.ndarray:
    x, valid = normalize(validate_keypoints(random_faces(2 * n, seed=seed)))
    return x[valid][:n]


def tile_mismatches(m: HeadPoseModel, x: np.ndarray, seed: int = 0) -> dict[str, int]:
    """Rows whose outputs differ from the reference (all rows in one call), by how they were
    computed."""
    ref = m.forward(x)
    n = len(x)
    rng = np.random.default_rng(seed)
    bad: dict[str, int] = {}

    def count(label: str, rows: np.ndarray, got: np.ndarray) -> None:
        bad[label] = bad.get(label, 0) + int((got != ref[rows]).any(axis=1).sum())

    for i in range(0, n, 7):  # alone: the single-face tile and a one-row batch
        count("alone", np.array([i]), np.array([m._forward_one(x[i].tolist())]))
        count("one-row batch", np.array([i]), m.forward(x[i : i + 1]))
    # batch sizes around the tile and the chunk, rows in random order (other neighbours,
    # other positions inside their tile, their chunk and the batch)
    for size in (2, 3, hm.TILE_ROWS, hm.TILE_ROWS + 1, 7, CHUNK - 1, CHUNK, CHUNK + 1):
        order = rng.permutation(n)
        for s in range(0, min(n, 3 * size), size):
            rows = order[s : s + size]
            count(f"batch {size}", rows, m.forward(x[rows]))
    # one person at every position of a tile, among random neighbours
    for i in range(0, n, 97):
        for pos in range(hm.TILE_ROWS):
            rows = rng.choice(n, hm.TILE_ROWS)
            rows[pos] = i
            count("position in tile", rows, m.forward(x[rows]))
    return bad


@pytest.mark.parametrize("alpha", [1.0, 0.2])
def test_outputs_do_not_depend_on_the_batch_or_the_tile(alpha):
    m = HeadPoseModel(random_tensors(alpha, seed=11), {"alpha": str(alpha)})
    x = inputs(2 * CHUNK + 37, seed=3)
    bad = tile_mismatches(m, x)
    assert sum(bad.values()) == 0, bad


def test_tiles_pad_with_zeros_and_keep_no_state():
    """The padding rows of a tile do not depend on what an earlier, larger batch left in the
    buffers, and a batch of fewer rows than a tile gives the rows of a full one."""
    m = load_model("hhpnet-1.0")
    x = inputs(CHUNK + 3, seed=8)
    first = m.forward(x[:3])
    m.forward(x)  # fills every buffer row
    np.testing.assert_array_equal(m.forward(x[:3]), first)
    np.testing.assert_array_equal(m.forward(x[:4])[:3], first)
    assert np.isfinite(first).all()


def test_outputs_match_the_layer_by_layer_network():
    """The folded tiles compute the network of the weight file (float64 reference)."""
    m = load_model("hhpnet-1.0")
    x = inputs(300, seed=5).astype(np.float64)
    t = {k: v.astype(np.float64) for k, v in m.tensors.items()}
    pts = x.reshape(-1, 5, 3)

    def leaky(v: np.ndarray) -> np.ndarray:
        return np.maximum(v, 0.1 * v)

    bx = leaky(pts[..., 0:1] * t["branch_x.weight"] + t["branch_x.bias"])  # (N, 5, 5)
    by = leaky(pts[..., 1:2] * t["branch_y.weight"] + t["branch_y.bias"])
    gate = 1.0 / (1.0 + np.exp(-(pts[..., 2:3] - m.c_mean) / m.c_std * t["branch_c.weight"]))
    h = np.concatenate([(bx * gate).reshape(-1, 25), (by * gate).reshape(-1, 25)], axis=1)
    for name in ("fc1", "fc2", "fc3"):
        h = leaky(h @ t[f"{name}.weight"].T + t[f"{name}.bias"])
    ref = h @ t["head.weight"].T + t["head.bias"]
    np.testing.assert_allclose(m.forward(x.astype(np.float32)), ref, rtol=1e-4, atol=2e-4)


_CHILD = """
import json, sys
import numpy as np
from hhpnet.model import load_model
from tests.test_model_tiles import inputs, tile_mismatches
m = load_model("hhpnet-1.0")
x = inputs(700, seed=21)
bad = tile_mismatches(m, x, seed=1)
print(json.dumps({"bad": bad, "ref": m.forward(x[:50]).tolist()}))
"""


def test_bit_equality_holds_with_one_and_two_blas_threads():
    """Run in fresh interpreters with OPENBLAS_NUM_THREADS = 1 and 2 (set before numpy loads):
    batch == single in both; the two settings give the same outputs too."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        res = subprocess.run(
            [sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, cwd=root,
            timeout=120, check=True,
        )  # fmt: skip
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert sum(out["bad"].values()) == 0, (threads, out["bad"])
        outs.append(np.array(out["ref"], np.float32))
    np.testing.assert_array_equal(outs[0], outs[1])
