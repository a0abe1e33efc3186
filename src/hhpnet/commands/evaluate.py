"""``hhpnet eval``: accuracy and uncertainty of a model on synthetic or real data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hhpnet.mesh_model import MeshPoseModel
    from hhpnet.model import HeadPoseModel as PoseNet
    from hhpnet.training.evaluate import EvalResult
    from hhpnet.training.landmarks_npz import LandmarkSet


_Model = Annotated[
    str, typer.Option("--model", "-m", help="hhpnet-1.0 | hhpnet-0.6 | hhpnet-0.2 | file")
]
_DetectorProfile = Annotated[
    str | None,
    typer.Option("--detector-profile", help="Synthetic set: only this detector profile."),
]
_Samples = Annotated[int, typer.Option("--samples", help="Synthetic test samples.")]
_Seed = Annotated[int | None, typer.Option("--seed", help="Synthetic test seed.")]
_MatDir = Annotated[
    Path | None, typer.Option("--mat-dir", help="AFLW2000-3D / 300W-LP folder (.mat).")
]
_BiwiDir = Annotated[Path | None, typer.Option("--biwi-dir", help="BIWI folder (*_pose.txt).")]
_KeypointsJson = Annotated[
    Path | None,
    typer.Option("--keypoints-json", help="Keypoints per image (else: run --detector)."),
]
_Detector = Annotated[
    str, typer.Option("--detector", help="Detector for real images without JSON.")
]
_MaxAngle = Annotated[
    float, typer.Option("--max-angle", help="Real .mat data: keep all |angles| ≤ this.")
]
_KeypointsCsv = Annotated[
    Path | None,
    typer.Option(
        "--keypoints-csv",
        help="Real detector keypoints + labels, one photo a row (bf_/bp_/mn_ columns).",
    ),
]
_LandmarksNpz = Annotated[
    Path | None,
    typer.Option(
        "--landmarks-npz",
        help="Real readings of photos and of their mirror images + labels (.npz: face "
        "mesh, BlazeFace, MoveNet): each reading and their fusions (default, --precise), "
        "cross-validated.",
    ),
]
_Source = Annotated[
    str,
    typer.Option(
        "--source",
        help="--keypoints-csv: blazeface, blazepose, movenet or all; --landmarks-npz: "
        "facemesh, blazeface, movenet, the same with _mirror (the mirror images' "
        "reading), or all (each, then the fusions).",
    ),
]
_MeshModel = Annotated[
    str,
    typer.Option(
        "--mesh-model",
        help="--landmarks-npz: the face-mesh model (hhpnet-mesh-1.0 | file) of the "
        "facemesh readings.",
    ),
]
_Folds = Annotated[
    str | None,
    typer.Option(
        "--folds",
        help="--keypoints-csv: only these cross-validation folds, e.g. 0,3 "
        "(stratified by |yaw|; see --num-folds, --fold-seed).",
    ),
]
_NumFolds = Annotated[int, typer.Option("--num-folds", help="Number of folds for --folds.")]
_FoldSeed = Annotated[int, typer.Option("--fold-seed", help="Seed of the folds.")]
_KptThr = Annotated[
    float,
    typer.Option("--kpt-thr", help="--keypoints-csv: points with a lower confidence are missing."),
]
_Baseline = Annotated[
    bool, typer.Option("--baseline/--no-baseline", help="Also run the solvePnP baseline.")
]
_Out = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write report.md, metrics.json, PNG.")
]


@dataclass(frozen=True)
class _Folding:
    """The cross-validation of a file of real readings: the folds scored (None: all), their
    number and seed, and whether the solvePnP baseline runs too."""

    folds: list[int] | None
    num_folds: int
    fold_seed: int
    baseline: bool


def eval_command(
    model: _Model = "hhpnet-1.0",
    detector_profile: _DetectorProfile = None,
    samples: _Samples = 100_000,
    seed: _Seed = None,
    mat_dir: _MatDir = None,
    biwi_dir: _BiwiDir = None,
    keypoints_json: _KeypointsJson = None,
    detector: _Detector = "blazeface",
    max_angle: _MaxAngle = 99.0,
    keypoints_csv: _KeypointsCsv = None,
    landmarks_npz: _LandmarksNpz = None,
    source: _Source = "all",
    mesh_model: _MeshModel = "hhpnet-mesh-1.0",
    folds: _Folds = None,
    num_folds: _NumFolds = 5,
    fold_seed: _FoldSeed = 0,
    kpt_thr: _KptThr = 0.0,
    baseline: _Baseline = True,
    out: _Out = None,
) -> None:
    """Evaluate a model on the synthetic test set or real data (AFLW2000-3D, BIWI, or
    detector keypoints with labels in a CSV).

    MAE and signed bias by |yaw| bin, missing points and detector profile next to the
    solvePnP baseline; Spearman(σ, |error|), 1σ/2σ shares, sparsification; --out writes
    report.md, metrics.json and calibration.png (per source, and summary.md, for
    --keypoints-csv with --source all).

    \f
    The signature is the option list of ``hhpnet eval``; the body checks them (usage errors
    first) and hands them on. Text after the form feed is not part of ``--help``.
    """
    from hhpnet.errors import InputError
    from hhpnet.model import load_model
    from hhpnet.training.evaluate import TEST_SEED, evaluate_synthetic

    if keypoints_csv is not None or landmarks_npz is not None:
        _check_readings_flags(
            keypoints_csv, landmarks_npz, (mat_dir, biwi_dir, keypoints_json, detector_profile)
        )
        chosen = _parse_folds(folds)
        net = load_model(model)
        if num_folds < 2:
            raise InputError(f"--num-folds must be ≥ 2; got {num_folds}")
        folding = _Folding(chosen, num_folds, fold_seed, baseline)
        if landmarks_npz is not None:
            _eval_landmarks_npz(net, mesh_model, landmarks_npz, source, folding, out)
        else:
            assert keypoints_csv is not None
            _eval_keypoints_csv(net, keypoints_csv, source, kpt_thr, folding, out)
        return
    if folds is not None:
        raise InputError("--folds needs --keypoints-csv or --landmarks-npz")
    net = load_model(model)
    if mat_dir is not None and biwi_dir is not None:
        raise InputError("give either --mat-dir or --biwi-dir, not both")
    if mat_dir is not None or biwi_dir is not None:
        result = _eval_photos(net, mat_dir, biwi_dir, keypoints_json, detector, max_angle, baseline)
    else:
        if keypoints_json is not None:
            raise InputError("--keypoints-json needs --mat-dir or --biwi-dir")
        result = evaluate_synthetic(
            net,
            samples=samples,
            seed=TEST_SEED if seed is None else seed,
            detector_profile=detector_profile,
            baseline=baseline,
        )
    _show(result, out)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command."""
    app.command("eval")(eval_command)


def _show(result: EvalResult, out: Path | None) -> None:
    """The result's report on standard output and, with ``out``, its files there."""
    typer.echo(result.markdown())
    if out is not None:
        paths = result.write(out)
        typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


#: the flags of the image data sets and of the synthetic set: not with a file of readings
_NOT_WITH_READINGS = ("--mat-dir", "--biwi-dir", "--keypoints-json", "--detector-profile")


def _check_readings_flags(
    keypoints_csv: Path | None, landmarks_npz: Path | None, others: tuple[object, ...]
) -> None:
    """One file of real readings (``--keypoints-csv`` or ``--landmarks-npz``), combined with
    none of the flags of :data:`_NOT_WITH_READINGS` (``others``: their values, in order)."""
    from hhpnet.errors import InputError

    if keypoints_csv is not None and landmarks_npz is not None:
        raise InputError("give either --keypoints-csv or --landmarks-npz, not both")
    flag = "--keypoints-csv" if keypoints_csv is not None else "--landmarks-npz"
    given = [k for k, v in zip(_NOT_WITH_READINGS, others, strict=True) if v is not None]
    if given:
        raise InputError(f"{flag} cannot be combined with {', '.join(given)}")


def _eval_photos(
    net: PoseNet,
    mat_dir: Path | None,
    biwi_dir: Path | None,
    keypoints_json: Path | None,
    detector: str,
    max_angle: float,
    baseline: bool,
) -> EvalResult:
    """``--mat-dir`` / ``--biwi-dir``: the labelled photos with the keypoints of
    ``--keypoints-json``, else of the detector."""
    from hhpnet.training import datasets
    from hhpnet.training.evaluate import evaluate_dataset

    if mat_dir is not None:
        ds = datasets.load_mat_dir(mat_dir, max_angle=max_angle)
    else:
        assert biwi_dir is not None
        ds = datasets.load_biwi_dir(biwi_dir)
    if keypoints_json is not None:
        kps = datasets.load_keypoints_json(keypoints_json)
        source = f"keypoints from {keypoints_json}"
    else:
        kps = datasets.detect_keypoints(ds.images, detector)
        source = f"keypoints from detector {detector}"
    datasets.attach_keypoints(ds, kps)
    return evaluate_dataset(net, ds, baseline=baseline, info={"keypoints": source})


def _eval_keypoints_csv(
    net: PoseNet, path: Path, source: str, kpt_thr: float, folding: _Folding, out: Path | None
) -> None:
    """``--keypoints-csv``: each detector's keypoints (``source``, or all) cross-validated."""
    from hhpnet.training.datasets import KEYPOINT_SOURCES, load_keypoints_csv
    from hhpnet.training.evaluate import evaluate_keypoint_set

    _eval_sets(
        path,
        source,
        KEYPOINT_SOURCES,
        lambda s: evaluate_keypoint_set(
            net,
            load_keypoints_csv(path, s, kpt_thr=kpt_thr),
            folds=folding.folds,
            k=folding.num_folds,
            fold_seed=folding.fold_seed,
            baseline=folding.baseline,
        ),
        out,
    )


def _parse_folds(text: str | None) -> list[int] | None:
    from hhpnet.errors import InputError

    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--folds: expected fold numbers like 0,3; got {text!r}") from None


def _eval_sets(
    path: Path,
    source: str,
    known: tuple[str, ...],
    score: Callable[[str], EvalResult],
    out: Path | None,
) -> list[str]:
    """Score ``source`` (one of ``known`` or "all") of a file of real readings, each source
    by ``score(name)`` (an :class:`hhpnet.training.report.EvalResult`); with several, a summary
    table. Returns the sources evaluated."""
    from hhpnet.errors import InputError
    from hhpnet.training.evaluate import comparison_table

    if source == "all":
        sources = list(known)
    elif source in known:
        sources = [source]
    else:
        raise InputError(f"--source must be one of {', '.join(known)}, all; got {source!r}")
    rows = []
    for src in sources:
        result = score(src)
        _show(result, out / src if out is not None and len(sources) > 1 else out)
        rows.append((f"{src}: {result.info.get('model', 'model')}", result, False))
        if result.baseline_error is not None:
            rows.append((f"{src}: solvePnP", result, True))
    if len(sources) > 1:
        table = comparison_table(rows)
        typer.echo("# Summary\n\n" + table)
        if out is not None:
            (out / "summary.md").write_text(f"# {path.name}: summary\n\n{table}")
            typer.echo(f"wrote {out / 'summary.md'}")
    return sources


def _eval_landmarks_npz(
    net: PoseNet, mesh_model: str, path: Path, source: str, folding: _Folding, out: Path | None
) -> None:
    """``--landmarks-npz``: each reading as ``--keypoints-csv`` scores a source (the face
    mesh's by the mesh model), then (``--source all``) the estimator's fusions of them
    (:func:`_eval_fusions`)."""
    from hhpnet.errors import InputError
    from hhpnet.mesh_model import load_mesh_model
    from hhpnet.training.evaluate import evaluate_landmark_set
    from hhpnet.training.landmarks_npz import LANDMARK_SOURCES, load_landmarks_npz

    lset = load_landmarks_npz(path)
    have = lset.sources()
    if source in LANDMARK_SOURCES and source not in have:
        raise InputError(f"{path}: no {source} reading in this file (it has: {', '.join(have)})")
    mesh = None
    if source.startswith("facemesh") or (source == "all" and "facemesh" in have):
        mesh = load_mesh_model(mesh_model)
    sources = _eval_sets(
        path,
        source,
        have,
        lambda s: evaluate_landmark_set(
            mesh if s.startswith("facemesh") else net,
            lset,
            s,
            folds=folding.folds,
            k=folding.num_folds,
            fold_seed=folding.fold_seed,
            baseline=folding.baseline,
        ),
        out,
    )
    if source == "all":
        _eval_fusions(net, mesh, lset, sources, path, folding, out)


def _eval_fusions(
    net: PoseNet,
    mesh: MeshPoseModel | None,
    lset: LandmarkSet,
    sources: list[str],
    path: Path,
    folding: _Folding,
    out: Path | None,
) -> None:
    """The estimator's fusions of the readings ``sources`` (:mod:`hhpnet.training.fusion_fit`):
    error correlations and tail map fitted on the other folds, each held-out row scored
    (``--folds``: only those); the table on standard output and in ``<out>/fusion.md``."""
    import numpy as np

    from hhpnet.training.fusion_fit import (
        PIPELINE_CONFIGURATIONS,
        cross_validate,
        npz_readings,
        summary,
        summary_table,
    )

    readings, labels, _ = npz_readings(net, lset, mesh, sources)
    cv = lset.folds(folding.num_folds, folding.fold_seed)
    folds = folding.folds
    keep = np.isin(cv, folds) if folds is not None else np.ones(len(labels), bool)
    # a reading the file lacks is left out, as the estimator fuses a head some reading missed
    configs = {
        c: tuple(r for r in names if r in readings) for c, names in PIPELINE_CONFIGURATIONS.items()
    }
    fused, _fitted = cross_validate(readings, labels, cv, configs)
    rows = [
        (name, summary(f.angles[keep], sig[keep], labels[keep])) for name, (f, sig) in fused.items()
    ]
    table = summary_table(rows)
    text = (
        f"# {path.name}: the estimator's fusions, cross-validated ({folding.num_folds} folds, "
        f"seed {folding.fold_seed}; error correlations and tail map fitted without the scored "
        f"fold; readings the file lacks left out)\n\n{table}\n"
    )
    typer.echo(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fusion.md").write_text(text)
        typer.echo(f"wrote {out / 'fusion.md'}")
