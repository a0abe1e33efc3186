"""``hhpnet eval``: accuracy and uncertainty of a model on synthetic or real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command.

    Long only because it defines the ``eval`` command, whose signature is that command's option
    list (one annotated typer parameter per documented option).
    """

    @app.command("eval")
    def eval_command(
        model: Annotated[
            str, typer.Option("--model", "-m", help="hhpnet-1.0 | hhpnet-0.6 | hhpnet-0.2 | file")
        ] = "hhpnet-1.0",
        detector_profile: Annotated[
            str | None,
            typer.Option("--detector-profile", help="Synthetic set: only this detector profile."),
        ] = None,
        samples: Annotated[
            int, typer.Option("--samples", help="Synthetic test samples.")
        ] = 100_000,
        seed: Annotated[int | None, typer.Option("--seed", help="Synthetic test seed.")] = None,
        mat_dir: Annotated[
            Path | None, typer.Option("--mat-dir", help="AFLW2000-3D / 300W-LP folder (.mat).")
        ] = None,
        biwi_dir: Annotated[
            Path | None, typer.Option("--biwi-dir", help="BIWI folder (*_pose.txt).")
        ] = None,
        keypoints_json: Annotated[
            Path | None,
            typer.Option("--keypoints-json", help="Keypoints per image (else: run --detector)."),
        ] = None,
        detector: Annotated[
            str, typer.Option("--detector", help="Detector for real images without JSON.")
        ] = "blazeface",
        max_angle: Annotated[
            float, typer.Option("--max-angle", help="Real .mat data: keep all |angles| ≤ this.")
        ] = 99.0,
        keypoints_csv: Annotated[
            Path | None,
            typer.Option(
                "--keypoints-csv",
                help="Real detector keypoints + labels, one photo a row (bf_/bp_/mn_ columns).",
            ),
        ] = None,
        source: Annotated[
            str,
            typer.Option("--source", help="--keypoints-csv: blazeface, blazepose, movenet or all."),
        ] = "all",
        landmarks: Annotated[
            Path | None,
            typer.Option(
                "--landmarks",
                help="Real readings + labels in one .npz (face mesh, BlazeFace, MoveNet; "
                "photos and mirror images).",
            ),
        ] = None,
        reading: Annotated[
            str,
            typer.Option(
                "--reading",
                help="--landmarks: mesh (face-mesh model; --model defaults to "
                "hhpnet-mesh-1.0), blazeface or movenet.",
            ),
        ] = "mesh",
        mirror: Annotated[
            bool,
            typer.Option("--mirror", help="--landmarks: score the mirror images' readings."),
        ] = False,
        folds: Annotated[
            str | None,
            typer.Option(
                "--folds",
                help="--keypoints-csv: only these cross-validation folds, e.g. 0,3 "
                "(stratified by |yaw|; see --num-folds, --fold-seed).",
            ),
        ] = None,
        num_folds: Annotated[
            int, typer.Option("--num-folds", help="Number of folds for --folds.")
        ] = 5,
        fold_seed: Annotated[int, typer.Option("--fold-seed", help="Seed of the folds.")] = 0,
        kpt_thr: Annotated[
            float,
            typer.Option(
                "--kpt-thr", help="--keypoints-csv: points with a lower confidence are missing."
            ),
        ] = 0.0,
        baseline: Annotated[
            bool, typer.Option("--baseline/--no-baseline", help="Also run the solvePnP baseline.")
        ] = True,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write report.md, metrics.json, PNG.")
        ] = None,
    ) -> None:
        """Evaluate a model on the synthetic test set or real data (AFLW2000-3D, BIWI,
        detector keypoints with labels in a CSV, or a landmarks .npz: face mesh, BlazeFace,
        MoveNet readings of photos and mirror images).

        MAE and signed bias by |yaw| bin, missing points and detector profile next to the
        solvePnP baseline; Spearman(σ, |error|), 1σ/2σ shares, sparsification; --out writes
        report.md, metrics.json and calibration.png (per source, and summary.md, for
        --keypoints-csv with --source all).

        \f
        Long: the signature is the option list of ``hhpnet eval`` (one typer parameter per
        documented option); the body only checks them (usage errors first) and hands them
        on. Text after the form feed is not part of ``--help``.
        """
        from hhpnet.errors import InputError
        from hhpnet.model import load_model
        from hhpnet.training.evaluate import TEST_SEED, evaluate_dataset, evaluate_synthetic

        if landmarks is not None:
            given = [
                k
                for k, v in {
                    "--keypoints-csv": keypoints_csv,
                    "--mat-dir": mat_dir,
                    "--biwi-dir": biwi_dir,
                    "--keypoints-json": keypoints_json,
                    "--detector-profile": detector_profile,
                }.items()
                if v is not None
            ]
            if given:
                raise InputError(f"--landmarks cannot be combined with {', '.join(given)}")
            _eval_landmarks(
                model, landmarks, reading, mirror, _parse_folds(folds), num_folds, fold_seed,
                baseline, out,
            )  # fmt: skip
            return
        if keypoints_csv is not None:
            others = {
                "--mat-dir": mat_dir,
                "--biwi-dir": biwi_dir,
                "--keypoints-json": keypoints_json,
                "--detector-profile": detector_profile,
            }
            given = [k for k, v in others.items() if v is not None]
            if given:
                raise InputError(f"--keypoints-csv cannot be combined with {', '.join(given)}")
            chosen = _parse_folds(folds)
            net = load_model(model)
            _eval_keypoints_csv(
                net, keypoints_csv, source, chosen, num_folds, fold_seed, kpt_thr, baseline, out
            )
            return
        if folds is not None:
            raise InputError("--folds needs --keypoints-csv")
        net = load_model(model)
        if mat_dir is not None and biwi_dir is not None:
            raise InputError("give either --mat-dir or --biwi-dir, not both")
        if mat_dir is not None or biwi_dir is not None:
            from hhpnet.training import datasets

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
            result = evaluate_dataset(net, ds, baseline=baseline, info={"keypoints": source})
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
        typer.echo(result.markdown())
        if out is not None:
            paths = result.write(out)
            typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


def _eval_landmarks(
    model: str,
    path: Path,
    reading: str,
    mirror: bool,
    folds: list[int] | None,
    num_folds: int,
    fold_seed: int,
    baseline: bool,
    out: Path | None,
) -> None:
    from hhpnet.errors import InputError
    from hhpnet.training.datasets import load_landmarks_npz
    from hhpnet.training.evaluate import LANDMARK_EVAL_READINGS, evaluate_landmark_set

    if reading not in LANDMARK_EVAL_READINGS:
        raise InputError(
            f"--reading must be one of {', '.join(LANDMARK_EVAL_READINGS)}; got {reading!r}"
        )
    if num_folds < 2:
        raise InputError(f"--num-folds must be ≥ 2; got {num_folds}")
    if reading == "mesh":
        from hhpnet.mesh_model import load_mesh_model

        net: object = load_mesh_model("hhpnet-mesh-1.0" if model == "hhpnet-1.0" else model)
    else:
        from hhpnet.model import load_model

        net = load_model(model)
    lset = load_landmarks_npz(path)
    result = evaluate_landmark_set(
        net, lset, reading, mirror=mirror, folds=folds, k=num_folds, fold_seed=fold_seed,
        baseline=baseline,
    )  # fmt: skip
    typer.echo(result.markdown())
    if out is not None:
        paths = result.write(out)
        typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


def _parse_folds(text: str | None) -> list[int] | None:
    from hhpnet.errors import InputError

    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--folds: expected fold numbers like 0,3; got {text!r}") from None


def _eval_keypoints_csv(
    net: object,
    path: Path,
    source: str,
    folds: list[int] | None,
    num_folds: int,
    fold_seed: int,
    kpt_thr: float,
    baseline: bool,
    out: Path | None,
) -> None:
    from hhpnet.errors import InputError
    from hhpnet.training.datasets import KEYPOINT_SOURCES, load_keypoints_csv
    from hhpnet.training.evaluate import comparison_table, evaluate_keypoint_set

    if source == "all":
        sources = list(KEYPOINT_SOURCES)
    elif source in KEYPOINT_SOURCES:
        sources = [source]
    else:
        raise InputError(
            f"--source must be one of {', '.join(KEYPOINT_SOURCES)}, all; got {source!r}"
        )
    if num_folds < 2:
        raise InputError(f"--num-folds must be ≥ 2; got {num_folds}")
    rows = []
    for src in sources:
        kset = load_keypoints_csv(path, src, kpt_thr=kpt_thr)
        result = evaluate_keypoint_set(
            net, kset, folds=folds, k=num_folds, fold_seed=fold_seed, baseline=baseline
        )
        typer.echo(result.markdown())
        if out is not None:
            paths = result.write(out / src if len(sources) > 1 else out)
            typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")
        rows.append((f"{src}: {getattr(net, 'name', 'model')}", result, False))
        if baseline:
            rows.append((f"{src}: solvePnP", result, True))
    if len(sources) > 1:
        table = comparison_table(rows)
        typer.echo("# Summary\n\n" + table)
        if out is not None:
            (out / "summary.md").write_text(f"# {path.name}: summary\n\n{table}")
            typer.echo(f"wrote {out / 'summary.md'}")
