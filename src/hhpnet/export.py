"""ONNX export of the pose network, built directly from the numpy weights with ``onnx.helper``.

No torch is involved: the graph is written node by node from the weight-file tensors (shared
contract 2). Two input layouts:

* ``input="keypoints"`` (default): ``keypoints`` float32 ``(N, 5, 3)`` = pixel x, y and confidence
  per point (nose, left eye, right eye, left ear, right ear; missing point: confidence 0). The
  per-person normalisation of :func:`hhpnet.keypoints.normalize` is part of the graph, so the
  file is self-contained.
* ``input="normalized"``: ``x`` float32 ``(N, 15)``, the output of
  :func:`hhpnet.keypoints.normalize` (for callers that normalise themselves).

Outputs (``N`` is a dynamic dimension, 0 allowed):

* ``angles`` float32 ``(N, 3)``: yaw, pitch, roll in degrees (yaw wrapped to (−180, 180]);
  NaN for invalid people (fewer than 2 points, zero extent, or — ``keypoints`` input only —
  implausible geometry as judged by :func:`hhpnet.keypoints.plausible`);
* ``sigma`` float32 ``(N, 3)``: predicted standard deviations in degrees (s clipped as in
  :mod:`hhpnet.model`, times the file's σ calibration); inf for invalid people;
* ``valid`` bool ``(N,)``.

The graph does not *validate* its input as :func:`hhpnet.keypoints.validate_keypoints` does (it
cannot raise): confidences ≤ 0 or NaN mean missing, anything else is used as given. Opset
:data:`OPSET` (onnxruntime ≥ 1.14, onnxruntime-web, ONNX.js-free runtimes all support it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from hhpnet._types import FloatArray
from hhpnet.convention import ANGLE_NAMES, angle_difference
from hhpnet.errors import InputError
from hhpnet.headmodel import GENERIC_HEAD_MM

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, NodeProto, TensorProto
    from onnxruntime import InferenceSession

    from hhpnet.model import HeadPoseModel

__all__ = [
    "OPSET",
    "angle_difference",
    "angles_close",
    "build_onnx",
    "export_onnx",
    "onnx_session",
    "run_onnx",
    "sample_inputs",
    "verify_onnx",
]

#: ONNX opset of the exported graphs
OPSET = 17
INPUTS = ("keypoints", "normalized")


def _require_onnx() -> ModuleType:
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("ONNX export needs the onnx package: pip install 'hhpnet[onnx]'") from exc
    return onnx


class _Graph:
    """ONNX operators and initialisers in the order they are written: :meth:`const` adds an
    initialiser, :meth:`node` an operator named after its one output. A :meth:`branch` (the
    body of an ``If``) has its own operators and adds its constants to the outer graph."""

    def __init__(self, inits: list[TensorProto] | None = None) -> None:
        self.nodes: list[NodeProto] = []
        self.inits: list[TensorProto] = [] if inits is None else inits

    def const(self, name: str, value: ArrayLike, dtype: DTypeLike = np.float32) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, ins: list[str], out: str, **attrs: object) -> str:
        from onnx import helper

        # (onnx types its attributes as Any; ours are ints, floats, int lists and graphs)
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **cast(Any, attrs)))
        return out

    def branch(self) -> _Graph:
        return _Graph(self.inits)

    def any_over(self, flags: str, axis: int, out: str) -> str:
        """(bool) ``flags`` reduced with "any" over ``axis``, as float 0 / 1."""
        as_f = self.node("Cast", [flags], f"{out}_f", to=1)
        return self.node("ReduceMax", [as_f], out, axes=[axis], keepdims=0)


def build_onnx(
    model: HeadPoseModel | str | Path, *, input: str = "keypoints", opset: int = OPSET
) -> ModelProto:
    """``onnx.ModelProto`` for a :class:`hhpnet.model.HeadPoseModel` (or a model name/path):
    the input layer, the network, the outputs and the file's metadata."""
    onnx = _require_onnx()
    from onnx import TensorProto, helper

    from hhpnet.model import load_model

    if input not in INPUTS:
        raise InputError(f"input must be one of {', '.join(INPUTS)}; got {input!r}")
    if opset < 17:
        raise InputError(
            f"opset must be ≥ 17 (LayerNorm-free graph, Clip with inputs); got {opset}"
        )
    m = load_model(model) if isinstance(model, (str, Path)) else model
    g = _Graph()
    f32 = TensorProto.FLOAT
    if input == "keypoints":
        graph_in = helper.make_tensor_value_info("keypoints", f32, ["N", 5, 3])
        x15, valid = _normalize_nodes(g)
    else:
        graph_in = helper.make_tensor_value_info("x", f32, ["N", 15])
        x15 = "x"
        # normalize() returns all-zero rows for invalid people; valid rows have some c > 0
        absmax = g.node(
            "ReduceMax", [g.node("Abs", ["x"], "x_abs")], "x_absmax", axes=[1], keepdims=0
        )
        valid = g.node("Greater", [absmax, g.const("zero", 0.0)], "valid_x")
    _output_nodes(g, m, _network_nodes(g, m, x15), valid)
    outputs = [
        helper.make_tensor_value_info("angles", f32, ["N", 3]),
        helper.make_tensor_value_info("sigma", f32, ["N", 3]),
        helper.make_tensor_value_info("valid", TensorProto.BOOL, ["N"]),
    ]
    graph = helper.make_graph(g.nodes, f"hhpnet_{m.name}", [graph_in], outputs, g.inits)
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="hhpnet",
        doc_string=f"HHP-Net head pose ({m.name}): keypoints → yaw, pitch, roll, sigma (degrees)",
    )
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime ≥ 1.14
    helper.set_model_props(proto, _model_properties(m, input))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _network_nodes(g: _Graph, m: HeadPoseModel, x15: str) -> str:
    """The network from its (N, 15) input to the raw (N, 6) head output; returns its name."""
    from onnx import helper

    from hhpnet.model import LEAK

    t = {k: np.asarray(v, np.float64) for k, v in m.tensors.items()}
    node, const = g.node, g.const
    # Layer 0: the three 1×1 branches as one (15, 75) matrix: x-branch (k*5+f), y-branch, and the
    # standardised c-branch pre-activation u = w_c (c − c_mean) / c_std (no bias in the network;
    # the constant −w_c c_mean / c_std becomes a bias here).
    w0 = np.zeros((15, 75))
    b0 = np.zeros(75)
    wc = t["branch_c.weight"] / m.c_std
    for k in range(5):
        w0[3 * k, 5 * k : 5 * k + 5] = t["branch_x.weight"]
        b0[5 * k : 5 * k + 5] = t["branch_x.bias"]
        w0[3 * k + 1, 25 + 5 * k : 30 + 5 * k] = t["branch_y.weight"]
        b0[25 + 5 * k : 30 + 5 * k] = t["branch_y.bias"]
        w0[3 * k + 2, 50 + 5 * k : 55 + 5 * k] = wc
        b0[50 + 5 * k : 55 + 5 * k] = -m.c_mean * wc
    z = node("Gemm", [x15, const("w0", w0), const("b0", b0)], "z0")
    split = const("split_50_25", [50, 25], np.int64)
    g.nodes.append(helper.make_node("Split", [z, split], ["pre", "u"], name="split0", axis=1))
    act = node("LeakyRelu", ["pre"], "pre_act", alpha=LEAK)
    gate = node("Sigmoid", ["u"], "gate")
    act3 = node("Reshape", [act, const("shape_n_2_25", [-1, 2, 25], np.int64)], "pre_act3")
    gate3 = node("Unsqueeze", [gate, const("axis1", [1], np.int64)], "gate3")
    h = node(
        "Reshape",
        [node("Mul", [act3, gate3], "gated3"), const("shape_n_50", [-1, 50], np.int64)],
        "h0",
    )
    for i, name in enumerate(("fc1", "fc2", "fc3"), start=1):
        h = node(
            "Gemm",
            [
                h,
                const(f"{name}.weight", t[f"{name}.weight"]),
                const(f"{name}.bias", t[f"{name}.bias"]),
            ],
            f"{name}_out",
            transB=1,
        )
        h = node("LeakyRelu", [h], f"h{i}", alpha=LEAK)
    return node(
        "Gemm",
        [h, const("head.weight", t["head.weight"]), const("head.bias", t["head.bias"])],
        "head_out",
        transB=1,
    )


def _output_nodes(g: _Graph, m: HeadPoseModel, out: str, valid: str) -> None:
    """The graph outputs ``angles``, ``sigma`` and ``valid`` from the raw head output ``out``
    (N, 6) and the (N,) validity flags ``valid``."""
    from hhpnet.model import S_MAX, S_MIN

    node, const = g.node, g.const
    # Rows [yaw, s_yaw, pitch, s_pitch, roll, s_roll] → angles (N, 3) and s (N, 3).
    ang = node("Gather", [out, const("idx_angles", [0, 2, 4], np.int64)], "angles_raw", axis=1)
    s = node("Gather", [out, const("idx_s", [1, 3, 5], np.int64)], "s_raw", axis=1)
    # yaw − 360·ceil((yaw − 180)/360): wrap to (−180, 180]; pitch and roll get offset 0.
    shift = node(
        "Ceil",
        [
            node(
                "Mul",
                [
                    node("Sub", [ang, const("c180", [180.0, 0.0, 0.0])], "ang_m180"),
                    const("inv360", [1.0 / 360.0, 0.0, 0.0]),
                ],
                "ang_turns",
            )
        ],
        "ang_ceil",
    )
    ang = node("Sub", [ang, node("Mul", [shift, const("c360", 360.0)], "ang_shift")], "ang_wrap")
    s = node("Clip", [s, const("s_min", S_MIN), const("s_max", S_MAX)], "s_clip")
    sig = node("Exp", [node("Mul", [s, const("half", 0.5)], "s_half")], "sigma_raw")
    sig = node("Mul", [sig, const("calibration", m.sigma_calibration)], "sigma_cal")
    valid2 = node("Unsqueeze", [valid, const("axis_last", [1], np.int64)], "valid2")
    node("Where", [valid2, ang, const("nan", np.nan)], "angles")
    node("Where", [valid2, sig, const("inf", np.inf)], "sigma")
    node("Identity", [valid], "valid")


def _model_properties(m: HeadPoseModel, input: str) -> dict[str, str]:
    """The ONNX file's metadata: the model, its input layout, conventions and weights."""
    meta = {
        "name": m.name,
        "alpha": f"{m.alpha:g}",
        "input": input,
        "angle_convention": m.metadata.get("angle_convention", "300W-LP yaw, pitch, roll; degrees"),
        "outputs": "angles (N,3) yaw,pitch,roll deg; sigma (N,3) deg; valid (N,)",
        "c_mean": repr(m.c_mean),
        "c_std": repr(m.c_std),
        "sigma_calibration": json.dumps(
            dict(zip(ANGLE_NAMES, m.sigma_calibration.tolist(), strict=True))
        ),
        "weights_sha256": _tensors_digest(m.tensors),
    }
    for key in ("generator_version", "created", "format_version"):
        if key in m.metadata:
            meta[f"weights_{key}"] = m.metadata[key]
    return meta


def _normalize_nodes(g: _Graph) -> tuple[str, str]:
    """Nodes computing :func:`hhpnet.keypoints.normalize` from ``keypoints`` (N, 5, 3), one
    ONNX operator per line, step by step parallel to it.

    Returns the names of the (N, 15) network input and of the (N,) validity flags.
    """
    node, const = g.node, g.const
    i64 = np.int64
    c = node("Gather", ["keypoints", const("idx2", 2, i64)], "conf", axis=2)  # (N, 5)
    present = node("Greater", [c, const("zero_f", 0.0)], "present")  # NaN > 0 is False
    w = node("Cast", [present], "w", to=1)  # float
    present3 = node("Unsqueeze", [present, const("ax_last3", [2], i64)], "present3")
    xy = node(
        "Slice",
        ["keypoints", const("s0", [0], i64), const("s2", [2], i64), const("sax", [2], i64)],
        "xy_raw",
    )
    xy = node("Where", [present3, xy, const("zero_xy", 0.0)], "xy")  # ignore missing coords
    count = node("ReduceSum", [w, const("ax1_sum", [1], i64)], "count", keepdims=1)  # (N, 1)
    xy64, nxy, ext_pos = _centred_scaled_nodes(g, xy, count, present)
    cw = node(
        "Unsqueeze",
        [node("Where", [present, c, const("zero_c", 0.0)], "c_w"), const("ax2c", [2], i64)],
        "c_w3",
    )
    trip = node("Concat", [nxy, cw], "triplets", axis=2)  # (N, 5, 3)
    enough = node(
        "GreaterOrEqual",
        [node("Squeeze", [count, const("ax1sq", [1], i64)], "count_n"), const("min_pts", 2.0)],
        "enough",
    )
    any_ext = node(
        "Cast",
        [
            node(
                "ReduceMax",
                [node("Cast", [ext_pos], "ext_pos_f", to=1)],
                "any_ext_f",
                axes=[1, 2],
                keepdims=0,
            )
        ],
        "any_ext",
        to=9,
    )
    valid_kp = node("And", [enough, any_ext], "valid_kp")
    valid = node("And", [valid_kp, _plausible_nodes(g, xy64, present)], "valid_all")
    x15 = node("Reshape", [trip, const("shape15", [-1, 15], i64)], "x15_raw")
    vmask = node(
        "Unsqueeze",
        [node("Cast", [valid_kp], "valid_f", to=1), const("ax1v", [1], i64)],
        "valid_f2",
    )
    return node("Mul", [x15, vmask], "x15"), valid


def _centred_scaled_nodes(g: _Graph, xy: str, count: str, present: str) -> tuple[str, str, str]:
    """The float64 coordinates ``xy64`` (N, 5, 2), the centred coordinates divided by their
    extent as float32 and the (N, 1, 2) flags of a positive extent, as in normalize()."""
    node, const = g.node, g.const
    i64, f64 = np.int64, np.float64
    # Same arithmetic as numpy in normalize(): float64 from the float32 coordinates, a sum over
    # the points in order 0..4 starting from 0, then the centroid, offsets and extents, and one
    # float64 division rounded to float32. Bit-exact inputs matter: a trained network amplifies
    # last-bit differences of the normalised coordinates (up to 1e-3° seen with float32 here).
    xy64 = node("Cast", [xy], "xy64", to=11)
    total = const("zero_sum", [0.0, 0.0], f64)
    for k in range(5):
        pt = node("Gather", [xy64, const(f"idx_pt{k}", k, i64)], f"xy_pt{k}", axis=1)
        total = node("Add", [total, pt], f"xy_sum{k}")  # (N, 2)
    count64 = node("Cast", [count], "count64", to=11)  # (N, 1) double
    denom = node("Max", [count64, const("one_d", 1.0, f64)], "count1")
    centroid = node("Div", [total, denom], "centroid")
    centroid3 = node("Unsqueeze", [centroid, const("ax1c", [1], i64)], "centroid3")  # (N, 1, 2)
    w3 = node("Unsqueeze", [node("Cast", [present], "w64", to=11), const("ax2w", [2], i64)], "w3")
    d = node("Mul", [node("Sub", [xy64, centroid3], "xy_c"), w3], "d")
    extent = node("ReduceMax", [node("Abs", [d], "d_abs")], "extent", axes=[1], keepdims=1)
    ext_pos = node("Greater", [extent, const("zero_e", 0.0, f64)], "ext_pos")  # (N, 1, 2)
    scale = node("Where", [ext_pos, extent, const("one_s", 1.0, f64)], "scale")
    nxy = node("Cast", [node("Div", [d, scale], "nxy64")], "nxy", to=1)
    return xy64, nxy, ext_pos


def _plausible_nodes(g: _Graph, xy64: str, present: str) -> str:
    """Nodes computing :func:`hhpnet.keypoints.plausible` (rules 1 and 3, no image size) from
    the float64 coordinates ``xy64`` (N, 5, 2) (missing points zeroed) and ``present`` (N, 5);
    returns the name of the (N,) bool flags. Same float64 arithmetic as numpy, and the same cheap
    screen: rule 3 (about 40 nodes over (M, 50, 6) tensors) runs in an ``If`` branch only when
    some person's largest point distance exceeds FAR_POINT_FACTOR × their smallest one, and only
    on those M people. One ONNX operator per line, parallel to :func:`~hhpnet.keypoints.plausible`.
    """
    from hhpnet import keypoints as kpt

    node, const = g.node, g.const
    i64, f64 = np.int64, np.float64
    # rule 1: a coordinate beyond ±MAX_COORD
    too_far = node(
        "Greater",
        [node("Abs", [xy64], "xy_abs"), const("max_coord", kpt.MAX_COORD, f64)],
        "xy_too_far",
    )
    abs_pt = node("Cast", [g.any_over(too_far, 2, "too_far_any")], "too_far_pt", to=9)
    abs_bad = node("And", [present, abs_pt], "abs_bad")  # (N, 5)
    use = node("And", [present, node("Not", [abs_bad], "abs_ok")], "use")
    # squared distances of the 10 point pairs, as numpy: dx·dx + dy·dy
    pi = node("Gather", [xy64, const("pair_i", kpt._PAIR_I, i64)], "pair_xy_i", axis=1)
    pj = node("Gather", [xy64, const("pair_j", kpt._PAIR_J, i64)], "pair_xy_j", axis=1)
    diff = node("Sub", [pi, pj], "pair_diff")  # (N, 10, 2)
    sq = node("Mul", [diff, diff], "pair_sq")
    d2 = node("ReduceSum", [sq, const("ax2_d2", [2], i64)], "pair_d2", keepdims=0)  # (N, 10)
    f2 = const("far2", kpt.FAR_POINT_FACTOR * kpt.FAR_POINT_FACTOR, f64)
    need, need_f, need_any = _screen_nodes(g, d2, use, f2)
    then_graph, else_graph = _rule3_branches(g, d2, use, need, need_f, f2)
    far_any = node("If", [need_any], "rule3_flags", then_branch=then_graph, else_branch=else_graph)
    bad = node("Max", [far_any, g.any_over(abs_bad, 1, "any_abs")], "bad")
    return node("Not", [node("Cast", [bad], "implausible", to=9)], "plausible")


def _screen_nodes(g: _Graph, d2: str, use: str, f2: str) -> tuple[str, str, str]:
    """The cheap screen of rule 3 over the pairs of used points (largest squared distance >
    ``f2`` = FAR_POINT_FACTOR² × smallest): per person as bool and float, and for the batch."""
    from hhpnet import keypoints as kpt

    node, const = g.node, g.const
    i64, f64 = np.int64, np.float64
    use_i = node("Gather", [use, const("use_pair_i", kpt._PAIR_I, i64)], "use_i", axis=1)
    use_j = node("Gather", [use, const("use_pair_j", kpt._PAIR_J, i64)], "use_j", axis=1)
    pair_ok = node("And", [use_i, use_j], "pair_ok")
    largest = node(
        "ReduceMax",
        [node("Where", [pair_ok, d2, const("zero_p", 0.0, f64)], "d2_or_0")],
        "d2_largest",
        axes=[1],
        keepdims=0,
    )
    smallest = node(
        "ReduceMin",
        [node("Where", [pair_ok, d2, const("inf_p", np.inf, f64)], "d2_or_inf")],
        "d2_smallest",
        axes=[1],
        keepdims=0,
    )
    need = node("Greater", [largest, node("Mul", [f2, smallest], "screen")], "need_rule3")
    need_f = node("Cast", [need], "need_f", to=1)  # (N,)
    # one flag for the whole batch (a leading 0 keeps the reduction defined for N = 0)
    need_any = node(
        "Cast",
        [
            node(
                "ReduceMax",
                [node("Concat", [const("zero_1", [0.0]), need_f], "need_0", axis=0)],
                "need_max",
                axes=[0],
                keepdims=0,
            )
        ],
        "need_any",
        to=9,
    )
    return need, need_f, need_any


def _rule3_branches(
    g: _Graph, d2: str, use: str, need: str, need_f: str, f2: str
) -> tuple[GraphProto, GraphProto]:
    """The ``If`` branches of rule 3: "then" for the people the screen did not clear (rows
    gathered, flags scattered back), "else" all zeros."""
    from onnx import TensorProto, helper

    from hhpnet import keypoints as kpt

    i64, f64 = np.int64, np.float64
    b = g.branch()
    snode, const = b.node, g.const
    rows = snode(
        "Squeeze", [snode("NonZero", [need], "need_nz"), const("ax0_nz", [0], i64)], "need_rows"
    )
    d2_rows = snode("Gather", [d2, rows], "d2_rows", axis=0)  # (M, 10)
    use_rows = snode("Gather", [use, rows], "use_rows", axis=0)  # (M, 5)
    # an 11th column for the padding of the per-split pair lists: 0 for spreads, inf for gaps
    col0 = snode(
        "Slice",
        [d2_rows, const("c0", [0], i64), const("c1", [1], i64), const("ax1s", [1], i64)],
        "d2_col0",
    )
    zero_col = snode("Mul", [col0, const("zero_d", 0.0, f64)], "pad_zero")  # d2 is finite
    inf_col = snode("Add", [zero_col, const("inf_d", np.inf, f64)], "pad_inf")
    d2_zero = snode("Concat", [d2_rows, zero_col], "d2_zero", axis=1)
    d2_inf = snode("Concat", [d2_rows, inf_col], "d2_inf", axis=1)

    def per_split(src: str, idx: ArrayLike, op: str, out: str) -> str:
        pairs = snode("Gather", [src, const(f"{out}_idx", idx, i64)], f"{out}_pairs", axis=1)
        return snode(op, [pairs], out, axes=[2], keepdims=0)  # (N, S)

    spread_a = per_split(d2_zero, kpt._WITHIN_A, "ReduceMax", "spread_a")
    spread_b = per_split(d2_zero, kpt._WITHIN_B, "ReduceMax", "spread_b")
    gap = per_split(d2_inf, kpt._BETWEEN, "ReduceMin", "gap")
    both = snode("Max", [spread_a, spread_b], "spread_ab")
    spread = snode("Where", [const("split_tie", kpt._SPLIT_TIE, bool), both, spread_a], "spread")
    far = snode("Greater", [gap, snode("Mul", [f2, spread], "far_limit")], "far_gap")
    # a split applies when it uses exactly the person's points (bit codes)
    bits = const("bits", (1 << np.arange(5)).astype(np.float32))
    use_bits = snode("Mul", [snode("Cast", [use_rows], "use_f", to=1), bits], "use_bits")
    code = snode("ReduceSum", [use_bits, const("ax1_code", [1], i64)], "use_code", keepdims=1)
    used = const("split_used", kpt._SPLIT_USED.astype(np.float32))
    hit = snode("And", [snode("Equal", [code, used], "split_applies"), far], "split_hit")
    hit_rows = b.any_over(hit, 1, "rule3_hit_rows")  # (M,)
    none = snode("Mul", [need_f, const("zero_f0", 0.0)], "rule3_none")  # (N,) zeros
    snode("ScatterElements", [none, rows, hit_rows], "rule3_hit", axis=0)
    out_info = [helper.make_tensor_value_info("rule3_hit", TensorProto.FLOAT, ["N"])]
    then_graph = helper.make_graph(b.nodes, "rule3", [], out_info)
    skip = g.branch()
    skip.node("Mul", [need_f, const("zero_f1", 0.0)], "rule3_skip")
    skip_info = [helper.make_tensor_value_info("rule3_skip", TensorProto.FLOAT, ["N"])]
    return then_graph, helper.make_graph(skip.nodes, "rule3_skipped", [], skip_info)


def _tensors_digest(tensors: Mapping[str, ArrayLike]) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(np.ascontiguousarray(tensors[k], np.float32).tobytes())
    return h.hexdigest()


def export_onnx(
    model: HeadPoseModel | str | Path,
    path: str | Path,
    *,
    input: str = "keypoints",
    opset: int = OPSET,
) -> Path:
    """Write the ONNX file for ``model`` (name, weight path or loaded model); returns the path."""
    onnx = _require_onnx()
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise InputError(f"output file must end in .onnx; got {path}")
    proto = build_onnx(model, input=input, opset=opset)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(proto, str(path))
    return path


def onnx_session(path_or_proto: str | Path | ModelProto, threads: int = 1) -> InferenceSession:
    """An onnxruntime CPU session with ``threads`` intra-op threads (1 = one core)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover
        raise InputError("running ONNX needs onnxruntime: pip install 'hhpnet[onnx]'") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    src = (
        path_or_proto.SerializeToString()
        if hasattr(path_or_proto, "SerializeToString")
        else (str(path_or_proto))
    )
    return ort.InferenceSession(src, sess_options=opts, providers=["CPUExecutionProvider"])


def run_onnx(session: InferenceSession, inputs: NDArray[np.float32]) -> dict[str, FloatArray]:
    """Run a session made by :func:`onnx_session`: ``{"angles", "sigma", "valid"}``."""
    name = session.get_inputs()[0].name
    outs = session.run(
        ["angles", "sigma", "valid"], {name: np.ascontiguousarray(inputs, np.float32)}
    )
    return dict(zip(("angles", "sigma", "valid"), outs, strict=True))


#: the fixed test head of the export checks (see :data:`hhpnet.headmodel.GENERIC_HEAD_MM`)
_GENERIC_HEAD_MM = GENERIC_HEAD_MM


def sample_inputs(n: int, seed: int = 0) -> NDArray[np.float32]:
    """``(n, 5, 3)`` test keypoints: half uniformly random points (with random missing ones and
    degenerate rows), half projections of a generic head at random poses, sizes and positions
    with pixel noise and BlazeFace-style confidences. For export checks and benchmarks."""
    from hhpnet.convention import angles_to_matrix
    from hhpnet.keypoints import blazeface_confidence

    rng = np.random.default_rng(seed)
    n_rand = n // 2
    n_head = n - n_rand
    kp = np.zeros((n, 5, 3), np.float32)
    kp[:n_rand, :, :2] = rng.uniform(0, 1920, (n_rand, 5, 2))
    kp[:n_rand, :, 2] = rng.uniform(0, 1, (n_rand, 5))
    kp[:n_rand][kp[:n_rand, :, 2] < 0.25] = 0.0
    angles = np.stack(
        [
            rng.uniform(-180, 180, n_head),
            rng.uniform(-60, 60, n_head),
            rng.uniform(-45, 45, n_head),
        ],
        axis=1,
    )
    rot = angles_to_matrix(angles[:, 0], angles[:, 1], angles[:, 2])
    pts = np.einsum("nij,kj->nki", rot, _GENERIC_HEAD_MM)[..., :2]
    scale = rng.uniform(0.2, 3.0, (n_head, 1, 1))
    xy = pts * scale + rng.uniform(100, 1800, (n_head, 1, 2)) + rng.normal(0, 1.5, (n_head, 5, 2))
    kp[n_rand:, :, :2] = xy
    kp[n_rand:, :, 2] = blazeface_confidence(xy, rng.uniform(0.6, 1.0, n_head))
    return kp


def angles_close(got: NDArray[np.floating], ref: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Element-wise ``|got − ref| ≤ 3e-4° + 1e-6·|ref|`` (yaw compared across the wrap).

    Two float32 evaluations of the same network that sum in different orders: measured on
    20,000 :func:`sample_inputs` per shipped model, the numpy path differs from a float64
    evaluation by up to 1.7e-4° and onnxruntime by up to 2.3e-4°, so the two can differ by
    their sum; the 1e-6 relative term is a few float32 steps at large angles (the float32
    spacing at 180° is 1.5e-5°).
    """
    d = np.abs(angle_difference(got, ref))
    return np.asarray(d <= 3e-4 + 1e-6 * np.abs(np.asarray(ref, np.float64)))


def verify_onnx(
    model: HeadPoseModel, path_or_proto: str | Path | ModelProto, n: int = 4000, seed: int = 0
) -> dict[str, float]:
    """Compare an exported file with the numpy model on :func:`sample_inputs`.

    Returns the largest absolute angle difference (degrees), the largest relative σ difference
    and ``n``; raises :class:`~hhpnet.errors.HhpnetError` unless every angle passes
    :func:`angles_close`, every σ agrees within a relative 1e-4, and the validity flags and
    invalid rows (NaN / inf) are equal. The input layout is read from the file.
    """
    from hhpnet.errors import HhpnetError
    from hhpnet.keypoints import normalize, plausible, validate_keypoints

    kp = sample_inputs(n, seed)
    sess = onnx_session(path_or_proto)
    layout = sess.get_modelmeta().custom_metadata_map.get("input", "keypoints")
    if layout != "keypoints":  # normalised inputs carry no geometry to screen: plausible rows
        kp = kp[plausible(validate_keypoints(kp))]
    ref = model.predict(kp)
    x = kp if layout == "keypoints" else normalize(validate_keypoints(kp))[0]
    got = run_onnx(sess, x)
    v = ref.valid
    if not np.array_equal(got["valid"], v):
        raise HhpnetError("ONNX check failed: validity flags differ from the numpy model")
    if not (np.isnan(got["angles"][~v]).all() and np.isinf(got["sigma"][~v]).all()):
        raise HhpnetError("ONNX check failed: invalid rows are not NaN / inf")
    d_ang = float(np.abs(angle_difference(got["angles"][v], ref.angles[v])).max(initial=0.0))
    d_sig = float(np.abs(got["sigma"][v] / ref.sigma[v] - 1.0).max(initial=0.0))
    if not (angles_close(got["angles"][v], ref.angles[v]).all() and d_sig <= 1e-4):
        raise HhpnetError(
            f"ONNX check failed: max |Δangle| {d_ang:.2e}°, max relative Δσ {d_sig:.2e} "
            "(tolerance 3e-4° + 1e-6·|angle|, σ 1e-4 relative)"
        )
    return {"angles": d_ang, "sigma": d_sig, "n": float(n)}
