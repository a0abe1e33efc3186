"""Training of the face-mesh reading (torch, CPU): fit the generator on real readings → train
on synthetic landmarks only → calibrate σ on the same real readings → write the weight file.

``hhpnet train-mesh --config configs/hhpnet-mesh-1.0.yaml`` runs :func:`train_mesh`. Steps:

1. the real readings of the training rows: the face-mesh landmarks of the photos and of their
   mirror images (``real_npz``, rows of fold ``exclude_fold`` of ``folds`` left out:
   cross-validation) — used only for the generator fit and the σ calibration;
2. :func:`hhpnet.training.mesh_fit.fit_mesh_generator` on them (``fit`` options);
3. ``training.samples`` synthetic readings (:func:`hhpnet.training.mesh_synth.generate_mesh`,
   ``synth`` options; seed ``seed``) and a synthetic validation set (seed ``seed + 1``),
   normalised exactly as at inference (:func:`hhpnet.mesh_model.mesh_features`; with
   ``rotate = "eyes"`` the labels are turned like the landmarks);
4. the network (``network.hidden`` Dense layers, LeakyReLU 0.1, Dense(6)) trained with the
   heteroscedastic loss of the 5-point model (:func:`hhpnet.training.nn.heteroscedastic_loss`),
   Adam, warm-up then cosine decay, best epoch by synthetic validation MAE;
5. σ calibration: per angle, the multipliers that make 68.27 % of the real training readings'
   errors fall within σ (the numpy model's own predictions), at knots of the predicted |yaw|
   (0, 30, 60, 90°; interpolated between them): the synthetic world under-states how far real
   profiles stray, so one multiplier would leave σ too wide on frontal faces and too narrow on
   profiles;
6. the weight file (:class:`hhpnet.mesh_model.MeshPoseModel`) with the generator fit's summary,
   what it was fitted on and the σ calibration in its metadata.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray
from hhpnet.errors import InputError
from hhpnet.training.mesh_fit import MESH_FIT_OPTIONS, MeshFitOptions
from hhpnet.training.train import TrainingConfig

if TYPE_CHECKING:
    import torch

    from hhpnet.mesh_model import MeshInput, MeshPoseModel
    from hhpnet.training import nn as _nn
    from hhpnet.training.mesh_fit import MeshFit

__all__ = [
    "DEFAULT_MESH_CONFIG",
    "MeshNet",
    "MeshTrainResult",
    "load_mesh_config",
    "real_mesh_rows",
    "train_mesh",
]


class MeshInputConfig(TypedDict):
    """The ``input`` block: landmark subset (a name of :mod:`~.mesh_geometry` or indices),
    depth, scaling and rotation of :class:`hhpnet.mesh_model.MeshInput`."""

    points: str | list[int]
    depth: bool
    scale: str
    rotate: str


class MeshNetworkConfig(TypedDict):
    hidden: list[int]


class MeshTrainingConfig(TrainingConfig):
    """The ``training`` block of the mesh model: :class:`~.train.TrainingConfig` plus the
    numbers of synthetic readings and torch threads."""

    samples: int
    val_samples: int
    threads: int


class MeshTrainConfig(TypedDict):
    """A run configuration of :func:`train_mesh` (defaults :data:`DEFAULT_MESH_CONFIG`)."""

    name: str
    seed: int
    output: str
    real_npz: str
    exclude_fold: int | None
    folds: int
    fit: MeshFitOptions
    synth: dict[str, object]
    input: MeshInputConfig
    network: MeshNetworkConfig
    training: MeshTrainingConfig


DEFAULT_MESH_CONFIG: MeshTrainConfig = {
    "name": "hhpnet-mesh-1.0",
    "seed": 0,
    "output": "src/hhpnet/weights/hhpnet-mesh-1.0.safetensors",
    # real face-mesh readings with labels (aflw2000-dev-landmarks.npz format): generator fit
    # and σ calibration; rows of fold ``exclude_fold`` (of ``folds``) are left out
    "real_npz": "../shared/data/aflw2000-dev-landmarks.npz",
    "exclude_fold": None,
    "folds": 5,
    "fit": MESH_FIT_OPTIONS.copy(),
    "synth": {},  # MeshSynthConfig overrides
    "input": {"points": "stable", "depth": True, "scale": "iso", "rotate": "eyes"},
    "network": {"hidden": [256, 128]},
    "training": {
        "samples": 300_000,
        "val_samples": 20_000,
        "epochs": 20,
        "batch_size": 512,
        "lr": 2e-3,
        "lr_final": 2e-5,
        "warmup_steps": 300,
        "weight_decay": 0.0,
        "scale": 90.0,
        "init_sigma": 10.0,
        "threads": 1,
    },
}


def load_mesh_config(path: str | Path | None = None, **overrides: object) -> MeshTrainConfig:
    """Read a YAML config, fill defaults, apply dotted overrides (``training.epochs=2``)."""
    from hhpnet.training.train import load_yaml_config

    return cast(MeshTrainConfig, load_yaml_config(DEFAULT_MESH_CONFIG, path, overrides))


def input_spec(config: MeshTrainConfig) -> MeshInput:
    """The :class:`hhpnet.mesh_model.MeshInput` of a config (``points`` a subset name of
    :mod:`hhpnet.training.mesh_geometry` or a list of indices)."""
    from hhpnet.mesh_model import MeshInput
    from hhpnet.training.mesh_geometry import subset_indices

    inp = config["input"]
    pts = inp["points"]
    try:
        idx = subset_indices(pts) if isinstance(pts, str) else np.asarray(pts, np.intp)
    except ValueError as exc:
        raise InputError(f"config input.points: {exc}") from None
    return MeshInput(tuple(int(i) for i in idx), bool(inp["depth"]), inp["scale"], inp["rotate"])


def real_mesh_rows(
    path: str | Path, exclude_fold: int | None = None, folds: int = 5, only_fold: int | None = None
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Real readings of a landmarks file: face-mesh landmarks (m, 468, 3) of the photos and
    of their mirror images where found, their labels (m, 3) (mirror images: yaw and roll
    negated), and the labels of the photos (one row each, for the pose prior). Rows of fold
    ``exclude_fold`` left out, or only those of ``only_fold``."""
    from hhpnet.training.landmarks_npz import load_landmarks_npz

    lset = load_landmarks_npz(path)
    rows = np.ones(len(lset), bool)
    if exclude_fold is not None or only_fold is not None:
        f = lset.folds(folds)
        rows = f != exclude_fold if only_fold is None else f == only_fold
    lm, lab = [], []
    for mirror in (False, True):
        found = lset.found("facemesh", mirror) & rows
        lm.append(lset.reading("facemesh", mirror)[found])
        lab.append((lset.mirrored_angles() if mirror else lset.angles)[found])
    return np.concatenate(lm), np.concatenate(lab), lset.angles[rows]


def synthetic_inputs(
    fit: MeshFit, n: int, seed: int, spec: MeshInput, synth: Mapping[str, object] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Normalised network inputs (n, spec.size) and targets (n, 3) of ``n`` synthetic readings
    (targets turned with the landmarks when ``spec.rotate == "eyes"``)."""
    from hhpnet.convention import angles_to_matrix, matrix_to_angles
    from hhpnet.mesh_model import LEFT_EYE, RIGHT_EYE, eye_line_angle, mesh_features
    from hhpnet.training.mesh_synth import MeshSynthConfig, generate_mesh

    eyes = list(RIGHT_EYE + LEFT_EYE)
    pts = np.asarray(spec.points)
    lm, angles = generate_mesh(
        fit, n, seed, np.concatenate([pts, eyes]), MeshSynthConfig.from_dict(synth)
    )
    lm64 = lm.astype(np.float64)
    target = angles.astype(np.float64)
    theta = np.zeros(n)
    if spec.rotate == "eyes":
        full = np.zeros((n, 468, 2))
        full[:, eyes] = lm64[:, len(pts) :, :2]
        theta = eye_line_angle(full)
        rot = angles_to_matrix(0.0, 0.0, -theta) @ angles_to_matrix(*target.T)
        target = matrix_to_angles(rot)
    cols = 3 if spec.depth else 2
    x, ok = mesh_features(lm64[:, : len(pts), :cols], theta, spec)
    return x[ok], target[ok].astype(np.float32)


def _torch_net(width_in: int, hidden: list[int], scale: float, init_sigma: float) -> _nn.MeshNet:
    from hhpnet.training.nn import MeshNet

    return MeshNet(width_in, hidden, scale, init_sigma)


#: the torch module class of the mesh network (for tests: ``MeshNet(width, hidden, 90, 10)``)
MeshNet = _torch_net


@dataclass
class MeshTrainResult:
    """What :func:`train_mesh` produced."""

    path: Path
    best_epoch: int
    val_mae: NDArray[np.float64]
    sigma_calibration: dict[str, float]
    fit_summary: dict[str, Any]
    seconds: float


#: predicted |yaw| knots of the σ calibration (degrees)
CALIBRATION_KNOTS = (0.0, 30.0, 60.0, 90.0)


def calibration_by_yaw(
    abs_yaw: FloatArray, ratio: FloatArray, knots: tuple[float, ...] = CALIBRATION_KNOTS
) -> dict[str, list[float]]:
    """Per-angle σ multipliers at predicted-|yaw| knots: at each knot the weighted 68.27 %
    quantile of |error| / σ (weights: linear interpolation weights of the readings' predicted
    |yaw| on the knots), so that σ covers 68 % of the errors at every turn of the head."""
    from hhpnet.convention import ANGLE_NAMES
    from hhpnet.training.generator_fit import _weighted_quantiles, hat_weights
    from hhpnet.training.train import ONE_SIGMA

    k = np.asarray(knots, np.float64)
    w = hat_weights(np.asarray(abs_yaw, np.float64), k)
    out: dict[str, list[float]] = {"abs_yaw": [float(v) for v in k]}
    for i, a in enumerate(ANGLE_NAMES):
        out[a] = [
            round(float(_weighted_quantiles(ratio[:, i], w[:, j], np.array([ONE_SIGMA]))[0]), 4)
            for j in range(len(k))
        ]
    return out


def train_mesh(
    config: MeshTrainConfig,
    output: str | Path | None = None,
    log: Callable[[str], object] = print,
    fit: MeshFit | None = None,
) -> MeshTrainResult:
    """Fit, train, calibrate and write one mesh model (see the module docstring). ``fit``: a
    :class:`hhpnet.training.mesh_fit.MeshFit` already made on the same rows (skips step 2)."""
    import torch

    from hhpnet.mesh_model import MeshPoseModel
    from hhpnet.training.evaluate import angle_errors
    from hhpnet.training.mesh_fit import fit_mesh_generator
    from hhpnet.training.mesh_geometry import canonical_head
    from hhpnet.training.train import _predict_torch

    tr = config["training"]
    torch.set_num_threads(int(tr.get("threads", 1)))
    t_start = time.perf_counter()
    seed = int(config["seed"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    out_path = Path(output or config["output"])
    spec = input_spec(config)
    real_path, exclude = _real_data(config)
    real_lm, real_lab, photo_lab = real_mesh_rows(real_path, exclude, int(config["folds"]))
    if fit is None:
        fit = fit_mesh_generator(real_lm, real_lab, photo_lab, config["fit"], seed=seed)
        secs = time.perf_counter() - t_start
        log(f"generator fitted on {len(real_lm)} real readings: {secs:.0f}s")
    x, y = synthetic_inputs(fit, int(tr["samples"]), seed, spec, config["synth"])
    vx, vy = synthetic_inputs(fit, int(tr["val_samples"]), seed + 1, spec, config["synth"])
    log(f"{len(x)} synthetic readings: {time.perf_counter() - t_start:.0f}s")
    net = _torch_net(spec.size, list(config["network"]["hidden"]), tr["scale"], tr["init_sigma"])
    best_epoch = _fit_mesh_epochs(net, (x, y), (vx, vy), tr, gen, log, t_start)
    val_mae = angle_errors(_predict_torch(net, vx)[:, 0::2], vy).mean(axis=0)
    meta = _mesh_metadata(config, spec, val_mae, best_epoch)
    tensors = {**net.export_tensors(), "reference": canonical_head().astype(np.float32)}
    calib, by_yaw, n_calib = _real_calibration(MeshPoseModel(tensors, meta), real_lm, real_lab)
    seconds = time.perf_counter() - t_start
    real_name = Path(real_path).name
    meta.update(
        {
            "sigma_calibration": json.dumps(calib, sort_keys=True),
            "sigma_calibration_by_yaw": json.dumps(by_yaw, sort_keys=True),
            "sigma_calibrated_on": f"real face-mesh readings ({n_calib} of {real_name}, "
            "photos and mirror images"
            + (f", fold {exclude} of {config['folds']} left out)" if exclude is not None else ")"),
            "real_data_fit": json.dumps(
                _real_data_fit(real_name, exclude, config["folds"], fit), sort_keys=True
            ),
            "train_seconds": f"{seconds:.0f}",
        }
    )
    model = MeshPoseModel(tensors, meta)
    model.save(out_path)
    log(
        f"best epoch {best_epoch + 1}: synthetic val MAE {val_mae.mean():.2f}; σ calibration "
        f"{json.dumps(calib)}; {seconds:.0f}s; wrote {out_path}"
    )
    return MeshTrainResult(out_path, best_epoch, val_mae, calib, fit.summary(), seconds)


def _real_data(config: MeshTrainConfig) -> tuple[str, int | None]:
    """The config's real landmarks file and the fold left out of it, checked."""
    real_path = config["real_npz"]
    if not Path(real_path).is_file():
        raise InputError(f"real_npz {real_path} not found (the generator is fitted on it)")
    exclude = config.get("exclude_fold")
    if exclude is not None and not 0 <= int(exclude) < int(config["folds"]):
        raise InputError(f"exclude_fold must be in 0 … {int(config['folds']) - 1}, got {exclude}")
    return real_path, exclude


def _fit_mesh_epochs(
    net: _nn.MeshNet,
    train_xy: tuple[NDArray[np.float32], NDArray[np.float32]],
    val_xy: tuple[NDArray[np.float32], NDArray[np.float32]],
    tr: MeshTrainingConfig,
    gen: torch.Generator,
    log: Callable[[str], object],
    t_start: float,
) -> int:
    """The epoch loop on fixed synthetic data; the network ends with the weights of the epoch
    of lowest mean validation MAE, which is returned."""
    import torch

    from hhpnet.training.evaluate import angle_errors
    from hhpnet.training.train import _predict_torch, lr_schedule, train_epoch

    (x, y), (vx, vy) = train_xy, val_xy
    opt = torch.optim.Adam(net.parameters(), lr=float(tr["lr"]), weight_decay=tr["weight_decay"])
    epochs, bs = int(tr["epochs"]), int(tr["batch_size"])
    lr_at = lr_schedule(tr, epochs * math.ceil(len(x) / bs))
    best: tuple[float, int, dict[str, Any]] | None = None
    step = 0
    for epoch in range(epochs):
        run, step = train_epoch(net, opt, x, y, bs, gen, lr_at, step)
        net.eval()
        mae = angle_errors(_predict_torch(net, vx)[:, 0::2], vy).mean(axis=0)
        log(
            f"epoch {epoch + 1}/{epochs}  loss {run:.4f}  val MAE "
            f"{mae[0]:.2f}/{mae[1]:.2f}/{mae[2]:.2f}  {time.perf_counter() - t_start:.0f}s"
        )
        if best is None or mae.mean() < best[0]:
            best = (float(mae.mean()), epoch, copy.deepcopy(net.state_dict()))
    assert best is not None
    net.load_state_dict(best[2])
    return best[1]


def _mesh_metadata(
    config: MeshTrainConfig, spec: MeshInput, val_mae: FloatArray, best_epoch: int
) -> dict[str, str]:
    """The weight file's metadata known after training (calibration is added later)."""
    from hhpnet.mesh_model import MESH_FORMAT_VERSION
    from hhpnet.training.mesh_synth import MESH_GENERATOR_VERSION
    from hhpnet.training.train import ANGLE_CONVENTION

    return {
        "format_version": MESH_FORMAT_VERSION,
        "kind": "mesh",
        "name": str(config["name"]),
        **spec.to_metadata(),
        "hidden": json.dumps(list(config["network"]["hidden"])),
        "angle_convention": ANGLE_CONVENTION,
        "generator_version": MESH_GENERATOR_VERSION,
        "train_config": json.dumps(config, sort_keys=True, default=str),
        "created": _dt.date.today().isoformat(),
        "val_mae_synthetic": json.dumps([round(float(v), 4) for v in val_mae]),
        "best_epoch": str(best_epoch),
    }


def _real_calibration(
    model: MeshPoseModel, real_lm: NDArray[np.float32], real_lab: NDArray[np.float32]
) -> tuple[dict[str, float], dict[str, list[float]], int]:
    """σ multipliers on the real readings (overall and by |yaw|) and how many were read."""
    from hhpnet.convention import ANGLE_NAMES
    from hhpnet.training.evaluate import angle_errors
    from hhpnet.training.train import ONE_SIGMA

    pred = model.predict(real_lm)
    ok = pred.valid
    err = angle_errors(pred.angles[ok], real_lab[ok])
    ratio = err / pred.sigma[ok]
    calib = {a: float(np.quantile(ratio[:, i], ONE_SIGMA)) for i, a in enumerate(ANGLE_NAMES)}
    by_yaw = calibration_by_yaw(np.abs(pred.yaw[ok]), ratio, CALIBRATION_KNOTS)
    return calib, by_yaw, int(ok.sum())


def _real_data_fit(
    real_name: str, exclude: int | None, folds: int, fit: MeshFit
) -> dict[str, object]:
    """What of the model was fitted on real data (the ``real_data_fit`` metadata)."""
    return {
        "generator_fit": {
            "fitted": "pitch offset of the labels' frame, depth scale, per-landmark "
            "placement bias by yaw and pitch, residual noise (principal components "
            "per yaw knot + Student-t level), pose prior",
            "file": real_name,
            "exclude_fold": exclude,
            "folds": folds,
            **fit.summary(),
        },
        "sigma_calibration": {"file": real_name, "exclude_fold": exclude},
        "network": "trained on synthetic landmarks only",
    }
