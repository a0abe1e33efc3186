"""``hhpnet eval``: accuracy and uncertainty of a model on synthetic or real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command."""

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
        baseline: Annotated[
            bool, typer.Option("--baseline/--no-baseline", help="Also run the solvePnP baseline.")
        ] = True,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write report.md, metrics.json, PNG.")
        ] = None,
    ) -> None:
        """Evaluate a model on the synthetic test set or real data (AFLW2000-3D, BIWI).

        MAE by |yaw| bin, missing points and detector profile next to the solvePnP baseline;
        Spearman(σ, |error|), 1σ/2σ shares, sparsification; --out writes report.md,
        metrics.json and calibration.png.
        """
        from hhpnet.errors import InputError
        from hhpnet.evaluate import TEST_SEED, evaluate_dataset, evaluate_synthetic
        from hhpnet.model import load_model

        net = load_model(model)
        if mat_dir is not None and biwi_dir is not None:
            raise InputError("give either --mat-dir or --biwi-dir, not both")
        if mat_dir is not None or biwi_dir is not None:
            from hhpnet import datasets

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
