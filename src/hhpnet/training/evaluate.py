"""Evaluation: accuracy and uncertainty quality on a fixed synthetic test set or a real data set.

Errors are absolute angle errors in degrees, yaw wrapped (|wrap(ŷ − y)|, so 179° vs −179° is a
2° miss). Reported:

* MAE per angle and their mean, overall and by |yaw| bin (0–30, 30–60, 60–90, 90–180), by number
  of missing keypoints and by detector profile, next to the geometric baseline
  (:func:`hhpnet.training.baseline.solve_pnp`, solvePnP of the same five points to the mean head);
* the signed bias per angle (mean of prediction − label, yaw wrapped), same groups: a constant
  offset between what the model believes and the labels' frame shows here, not in the MAE;
* uncertainty: Spearman(σ, |error|) per angle, the share of errors within 1σ and 2σ (a Gaussian
  gives 68.3 % and 95.4 %), and the sparsification curve: the MAE left after removing the x % of
  people with the largest σ (next to the oracle that removes the largest errors); and the
  Spearman a perfectly calibrated σ would reach on the same σ values (errors drawn as
  |N(0, σ)|, fixed seed): Spearman(σ, |error|) depends on the spread of σ as much as on its
  quality, so this is the reference to read it against;
* a markdown report, a JSON file of the numbers and a calibration PNG (reliability diagram of
  RMS error against predicted σ, and the sparsification curves).

The synthetic test set is ``hhpnet.training.synth.generate(TEST_SAMPLES, TEST_SEED)``; training and
validation never use this seed. Real detector keypoints with labels (a keypoints CSV,
:func:`hhpnet.training.datasets.load_keypoints_csv`) go through :func:`evaluate_keypoint_set`, with
|yaw| bins :data:`REAL_YAW_BINS`, the share of photos where the detector found the face, and
optionally only the rows of some cross-validation folds; :func:`comparison_table` puts several
results (sources, models, solvePnP) in one compact table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray, JSONObject
from hhpnet.errors import InputError
from hhpnet.training.metrics import SPARSE_FRACTIONS as SPARSE_FRACTIONS
from hhpnet.training.metrics import angle_errors, signed_errors, sparsification, uncertainty_metrics
from hhpnet.training.report import comparison_table, headline, markdown_report, plot_calibration

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from hhpnet.model import PoseOutput
    from hhpnet.training.datasets import PoseDataset
    from hhpnet.training.keypoints_csv import KeypointSet
    from hhpnet.training.landmarks_npz import LandmarkSet


class AngleModel(Protocol):
    """A model evaluated here: :class:`hhpnet.model.HeadPoseModel` (five keypoints) or
    :class:`hhpnet.mesh_model.MeshPoseModel` (face-mesh landmarks)."""

    def predict(self, inputs: ArrayLike, /) -> PoseOutput: ...


__all__ = [
    "REAL_YAW_BINS",
    "TEST_SAMPLES",
    "TEST_SEED",
    "YAW_BINS",
    "EvalResult",
    "angle_errors",
    "comparison_table",
    "evaluate",
    "evaluate_dataset",
    "evaluate_keypoint_set",
    "evaluate_landmark_set",
    "evaluate_synthetic",
    "headline",
    "plot_calibration",
    "signed_errors",
    "sparsification",
    "uncertainty_metrics",
]

TEST_SEED = 20_261_124
TEST_SAMPLES = 100_000
YAW_BINS: tuple[tuple[float, float], ...] = ((0, 30), (30, 60), (60, 90), (90, 180))
#: |yaw| bins of real close-up data sets (AFLW2000-3D protocol: all |angles| ≤ 99°)
REAL_YAW_BINS: tuple[tuple[float, float], ...] = ((0, 30), (30, 60), (60, 99))


@dataclass
class EvalResult:
    """Per-sample errors and groupings of one evaluation, plus summary tables."""

    name: str
    angles: NDArray[np.float32]  # (n, 3) ground truth
    error: NDArray[np.float64]  # (n, 3) model |error|, NaN where the model returned invalid
    sigma: NDArray[np.float32]  # (n, 3)
    valid: NDArray[np.bool_]  # (n,) model valid
    baseline_error: NDArray[np.float64] | None = None  # (n, 3), NaN where baseline failed
    groups: dict[str, dict[str, NDArray[np.bool_]]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    signed_error: NDArray[np.float64] | None = None  # (n, 3) prediction − label, NaN if invalid
    baseline_signed_error: NDArray[np.float64] | None = None
    #: group label → (found, total): share of images where the detector found the face
    detection: dict[str, tuple[int, int]] = field(default_factory=dict)

    # ------------------------------------------------------------------ numbers
    def mae(self, mask: NDArray[np.bool_] | None = None, baseline: bool = False) -> FloatArray:
        """MAE (yaw, pitch, roll, mean) over the valid people in ``mask``."""
        err = self.baseline_error if baseline else self.error
        if err is None:
            return np.full(4, np.nan)
        m = np.isfinite(err).all(axis=1)
        if mask is not None:
            m &= mask
        if not m.any():
            return np.full(4, np.nan)
        v = err[m].mean(axis=0)
        return np.append(v, v.mean())

    def bias(self, mask: NDArray[np.bool_] | None = None, baseline: bool = False) -> FloatArray:
        """Mean signed error (yaw, pitch, roll) = prediction − label over the valid people in
        ``mask``; NaN where no signed errors were kept."""
        err = self.baseline_signed_error if baseline else self.signed_error
        if err is None:
            return np.full(3, np.nan)
        m = np.isfinite(err).all(axis=1)
        if mask is not None:
            m &= mask
        return err[m].mean(axis=0) if m.any() else np.full(3, np.nan)

    def _figures(self, mask: NDArray[np.bool_] | None, ok: NDArray[np.bool_]) -> JSONObject:
        out: dict[str, Any] = {
            "n": int(ok.sum() if mask is None else (mask & ok).sum()),
            "mae": self.mae(mask).tolist(),
        }
        if self.signed_error is not None:
            out["bias"] = self.bias(mask).tolist()
        if self.baseline_error is not None:
            out["baseline_mae"] = self.mae(mask, baseline=True).tolist()
            if self.baseline_signed_error is not None:
                out["baseline_bias"] = self.bias(mask, baseline=True).tolist()
        return out

    def summary(self) -> JSONObject:
        """All figures as a JSON-ready dict."""
        ok = self.valid & np.isfinite(self.error).all(axis=1)
        res: dict[str, Any] = {"name": self.name, "n": len(self.valid), "valid": int(ok.sum())}
        overall = self._figures(None, ok)
        del overall["n"]
        res.update(overall)
        res["info"] = self.info
        if self.baseline_error is not None:
            res["baseline_valid"] = int(np.isfinite(self.baseline_error).all(axis=1).sum())
        if self.detection:
            res["detection"] = {
                label: {"found": f, "n": t, "share": f / t if t else float("nan")}
                for label, (f, t) in self.detection.items()
            }
        res["groups"] = {
            gname: {label: self._figures(m, ok) for label, m in masks.items()}
            for gname, masks in self.groups.items()
        }
        res["uncertainty"] = uncertainty_metrics(self.error[ok], self.sigma[ok])
        return res

    # ------------------------------------------------------------------ report
    def markdown(self) -> str:
        """A markdown report of :meth:`summary`."""
        return markdown_report(self)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``report.md``, ``metrics.json`` and ``calibration.png`` into ``out_dir``."""
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        paths = {"report": d / "report.md", "metrics": d / "metrics.json"}
        paths["report"].write_text(self.markdown())
        paths["metrics"].write_text(json.dumps(self.summary(), indent=1))
        paths["calibration"] = plot_calibration(self, d / "calibration.png")
        return paths


# ---------------------------------------------------------------------------- running
def _yaw_groups(
    angles: NDArray[np.floating], bins: Sequence[tuple[float, float]] = YAW_BINS
) -> dict[str, NDArray[np.bool_]]:
    """|yaw| bin masks ``lo ≤ |yaw| < hi``; the last bin includes its upper end."""
    a = np.abs(np.asarray(angles, np.float64)[:, 0])
    groups = {}
    for i, (lo, hi) in enumerate(bins):
        m = (a >= lo) & ((a < hi) if i < len(bins) - 1 else (a <= hi))
        groups[f"{lo:g}–{hi:g}"] = m
    return groups


def run_baseline(
    keypoints: NDArray[np.float32],
    image_size: NDArray[np.integer] | None,
    detector: NDArray[np.integer] | None = None,
    detector_names: Sequence[str] = (),
    head: str = "blazeface",
) -> NDArray[np.float64]:
    """Angles ``(n, 3)`` from :func:`hhpnet.training.baseline.solve_pnp` (NaN where it fails).

    Each detector profile is fitted to its own mean head (keypoint placement); without profile
    information the placement ``head`` is used. Without image sizes the image is taken as
    the keypoints' bounding box doubled (focal length = that width).
    """
    from hhpnet.training.baseline import solve_pnp

    kp = np.asarray(keypoints, np.float32)
    n = len(kp)
    if image_size is None:
        present = kp[..., 2] > 0
        far = np.where(present[..., None], kp[..., :2], 0.0).max(axis=1)
        image_size = np.maximum(2.0 * far, 16.0).astype(np.int32)
    sizes = np.broadcast_to(np.asarray(image_size), (n, 2))
    out = np.full((n, 3), np.nan)
    if detector is None or not len(detector_names):
        groups = [(head, np.ones(n, bool))]
    else:
        groups = [(name, np.asarray(detector) == i) for i, name in enumerate(detector_names)]
    for head, mask in groups:
        if not mask.any():
            continue
        try:
            angles, valid = solve_pnp(kp[mask], sizes[mask], head=head)
        except Exception:  # a degenerate person can make OpenCV assert: fit one by one
            idx = np.flatnonzero(mask)
            angles, valid = np.full((len(idx), 3), np.nan), np.zeros(len(idx), bool)
            for j, i in enumerate(idx):
                try:
                    a, v = solve_pnp(kp[i : i + 1], sizes[i], head=head)
                    angles[j], valid[j] = np.asarray(a).reshape(3), bool(np.asarray(v)[0])
                except Exception:
                    continue
        ang = np.asarray(angles, np.float64).reshape(-1, 3)
        out[mask] = np.where(np.asarray(valid, bool)[:, None], ang, np.nan)
    return out


def evaluate(
    model: AngleModel,
    keypoints: NDArray[np.float32],
    angles: NDArray[np.floating],
    *,
    name: str,
    image_size: NDArray[np.integer] | None = None,
    detector: NDArray[np.integer] | None = None,
    detector_names: Sequence[str] = (),
    baseline: bool = True,
    info: Mapping[str, object] | None = None,
    yaw_bins: Sequence[tuple[float, float]] = YAW_BINS,
    baseline_head: str = "blazeface",
) -> EvalResult:
    """Evaluate ``model`` (anything with ``predict``) on keypoints with ground-truth angles.

    ``baseline_head``: the solvePnP mean head (detector placement) when ``detector`` is not
    given.
    """
    kp = np.asarray(keypoints, np.float32)
    ang = np.asarray(angles, np.float32)
    out = model.predict(kp)
    signed = signed_errors(out.angles, ang)
    signed[~np.asarray(out.valid, bool)] = np.nan
    err = np.abs(signed)
    base = base_signed = None
    if baseline:
        fitted = run_baseline(kp, image_size, detector, detector_names, head=baseline_head)
        base_signed = signed_errors(fitted, ang)
        base = np.abs(base_signed)
    missing = (kp[..., 2] <= 0).sum(axis=1)
    groups: dict[str, dict[str, NDArray[np.bool_]]] = {"|yaw|": _yaw_groups(ang, yaw_bins)}
    groups["missing"] = {str(k): missing == k for k in range(4) if (missing == k).any()}
    if detector is not None and len(detector_names):
        det = np.asarray(detector)
        groups["detector"] = {
            str(n): det == i for i, n in enumerate(detector_names) if (det == i).any()
        }
        frontal = np.abs(ang[:, 0]) <= 90
        groups["|yaw|≤90 detector"] = {
            str(n): (det == i) & frontal for i, n in enumerate(detector_names) if (det == i).any()
        }
    groups["|yaw|≤90"] = {"all": np.abs(ang[:, 0]) <= 90}
    return EvalResult(
        name=name,
        angles=ang,
        error=err,
        sigma=np.asarray(out.sigma, np.float32),
        valid=np.asarray(out.valid, bool),
        baseline_error=base,
        groups=groups,
        info=dict(info or {}),
        signed_error=signed,
        baseline_signed_error=base_signed,
    )


def evaluate_synthetic(
    model: AngleModel,
    *,
    samples: int = TEST_SAMPLES,
    seed: int = TEST_SEED,
    detector_profile: str | None = None,
    baseline: bool = True,
) -> EvalResult:
    """Evaluate on the fixed-seed synthetic test set (optionally one detector profile only)."""
    from hhpnet.training import synth

    batch = synth.generate(int(samples), int(seed))
    names = list(getattr(synth, "DETECTOR_PROFILES", ()))
    keep = np.ones(len(batch.angles), bool)
    if detector_profile is not None:
        if detector_profile not in names:
            raise InputError(
                f"unknown detector profile {detector_profile!r}; choose from {', '.join(names)}"
            )
        keep = np.asarray(batch.detector) == names.index(detector_profile)
    info = {
        "data": f"synthetic, seed {seed}, {samples} samples"
        + (f", profile {detector_profile}" if detector_profile else ""),
        "generator_version": getattr(synth, "GENERATOR_VERSION", "?"),
        "model": getattr(model, "name", "?"),
    }
    return evaluate(
        model,
        np.asarray(batch.keypoints)[keep],
        np.asarray(batch.angles)[keep],
        name=f"{getattr(model, 'name', 'model')} on synthetic test set",
        image_size=np.asarray(batch.image_size)[keep],
        detector=np.asarray(batch.detector)[keep],
        detector_names=names,
        baseline=baseline,
        info=info,
    )


def _image_sizes(images: Sequence[str]) -> NDArray[np.int32] | None:
    from PIL import Image

    sizes = []
    for p in images:
        try:
            with Image.open(p) as im:
                sizes.append(im.size)
        except OSError:
            return None
    return np.asarray(sizes, np.int32).reshape(-1, 2)


def evaluate_dataset(
    model: AngleModel,
    dataset: PoseDataset,
    *,
    baseline: bool = True,
    info: Mapping[str, object] | None = None,
) -> EvalResult:
    """Evaluate on a :class:`hhpnet.training.datasets.PoseDataset` whose keypoints are attached.

    Images without keypoints are counted as not found and left out of the errors.
    """
    found = np.asarray(dataset.found, bool)
    if not found.any():
        raise InputError(f"{dataset.name}: no keypoints for any of its {len(dataset)} images")
    sub = dataset.subset(found)
    sizes = _image_sizes(sub.images) if baseline else None
    details = {
        "data": f"{dataset.name}: {len(dataset)} images, keypoints for {int(found.sum())} "
        f"({100 * found.mean():.1f} %)",
        "model": getattr(model, "name", "?"),
    }
    details.update(info or {})
    return evaluate(
        model,
        sub.keypoints,
        sub.angles,
        name=f"{getattr(model, 'name', 'model')} on {dataset.name}",
        image_size=sizes,
        baseline=baseline,
        info=details,
    )


def _fold_selection(
    rows: KeypointSet | LandmarkSet, folds: Sequence[int] | None, k: int, fold_seed: int
) -> tuple[NDArray[np.bool_], str]:
    """Rows (of a set with ``folds(k, seed)``) in the chosen folds, and a note for the report."""
    if folds is None:
        return np.ones(len(rows), bool), ""
    wanted = sorted({int(f) for f in folds})
    if not wanted or wanted[0] < 0 or wanted[-1] >= k:
        raise InputError(f"folds must be among 0 … {k - 1}; got {list(folds)}")
    select = np.isin(rows.folds(k, fold_seed), wanted)
    return select, f", folds {','.join(map(str, wanted))} of {k} (seed {fold_seed})"


def evaluate_keypoint_set(
    model: AngleModel,
    kset: KeypointSet,
    *,
    folds: Sequence[int] | None = None,
    k: int = 5,
    fold_seed: int = 0,
    baseline: bool = True,
    info: Mapping[str, object] | None = None,
) -> EvalResult:
    """Evaluate on real detector keypoints with labels (:class:`~.datasets.KeypointSet`).

    The keypoints go through what :class:`hhpnet.HeadPoseEstimator` does before the model
    (:func:`hhpnet.keypoints.drop_implausible_points` with the image size); photos where the
    detector found nothing are counted in the detection table and left out of the errors. The
    solvePnP baseline uses the mean head of the source's detector profile and the photo's size.
    ``folds``: keep only the rows whose :func:`~.datasets.fold_ids` (``k``, ``fold_seed``,
    stratified by |yaw|, taken on all rows of the set) are in this list.
    """
    select, fold_text = _fold_selection(kset, folds, k, fold_seed)
    chosen = kset.subset(select)
    found = np.asarray(chosen.found, bool)
    if not found.any():
        raise InputError(f"{kset.name}: the detector found no face in the {len(chosen)} rows")
    detection = {"all": (int(found.sum()), len(found))}
    for label, m in _yaw_groups(chosen.angles, REAL_YAW_BINS).items():
        detection[f"|yaw| {label}"] = (int((m & found).sum()), int(m.sum()))
    sub = chosen.subset(found)
    kp, dropped = sub.cleaned_keypoints()
    details = {
        "data": f"{kset.name}: {len(kset)} photos{fold_text}; face found in {int(found.sum())} "
        f"of {len(chosen)} ({100 * found.mean():.1f} %)",
        "keypoints": f"{kset.source} (detector profile {kset.profile}); "
        f"{dropped} implausible point(s) dropped",
        "model": getattr(model, "name", "?"),
    }
    details.update(info or {})
    result = evaluate(
        model,
        kp,
        sub.angles,
        name=f"{getattr(model, 'name', 'model')} on {kset.name}",
        image_size=sub.image_size,
        baseline=baseline,
        info=details,
        yaw_bins=REAL_YAW_BINS,
        baseline_head=kset.profile,
    )
    result.detection = detection
    return result


def evaluate_landmark_set(
    model: Any,
    lset: LandmarkSet,
    source: str = "facemesh",
    *,
    folds: Sequence[int] | None = None,
    k: int = 5,
    fold_seed: int = 0,
    baseline: bool = True,
) -> EvalResult:
    """Evaluate one reading of a landmarks file (:class:`hhpnet.training.datasets.LandmarkSet`;
    sources :data:`hhpnet.training.landmarks_npz.LANDMARK_SOURCES`): ``facemesh`` /
    ``facemesh_mirror`` (the face-mesh landmarks; ``model`` a
    :class:`hhpnet.mesh_model.MeshPoseModel`), or a five-point source through
    :func:`evaluate_keypoint_set` (a 5-point model; solvePnP baseline). A mirror source is
    scored against the mirror images' labels. ``folds`` as in :func:`evaluate_keypoint_set`.
    Photos where the reading found nothing are counted in the detection table and left out of
    the errors."""
    from hhpnet.fusion import MIRROR_SUFFIX
    from hhpnet.training.landmarks_npz import LANDMARK_SOURCES

    if source not in LANDMARK_SOURCES:
        raise InputError(f"source must be one of {', '.join(LANDMARK_SOURCES)}; got {source!r}")
    if not source.startswith("facemesh"):
        return evaluate_keypoint_set(
            model, lset.keypoint_set(source), folds=folds, k=k, fold_seed=fold_seed,
            baseline=baseline,
        )  # fmt: skip
    mirror = source.endswith(MIRROR_SUFFIX)
    select, fold_text = _fold_selection(lset, folds, k, fold_seed)
    labels = lset.labels(mirror)
    found = lset.found("facemesh", mirror)
    chosen = select & found
    if not chosen.any():
        raise InputError(f"{lset.name}: the {source} reading found no face in the chosen rows")
    detection = {"all": (int(chosen.sum()), int(select.sum()))}
    for label, m in _yaw_groups(labels[select], REAL_YAW_BINS).items():
        detection[f"|yaw| {label}"] = (int(m[found[select]].sum()), int(m.sum()))
    info = {
        "data": f"{lset.name}: {len(lset)} photos{fold_text}; the {source} reading found in "
        f"{int(chosen.sum())} of {int(select.sum())}",
        "model": getattr(model, "name", "?"),
    }
    ang = np.asarray(labels[chosen], np.float32)
    out = model.predict(lset.reading("facemesh", mirror)[chosen])
    signed = signed_errors(out.angles, ang)
    signed[~np.asarray(out.valid, bool)] = np.nan
    result = EvalResult(
        name=f"{getattr(model, 'name', 'model')} on {lset.name} ({source})",
        angles=ang,
        error=np.abs(signed),
        sigma=np.asarray(out.sigma, np.float32),
        valid=np.asarray(out.valid, bool),
        groups={"|yaw|": _yaw_groups(ang, REAL_YAW_BINS)},
        info=info,
        signed_error=signed,
    )
    result.detection = detection
    return result
