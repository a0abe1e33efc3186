"""``hhpnet train --config configs/hhpnet-1.0.yaml``: train a model on synthetic keypoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Weight file to write (default: from config)."),
]
_ExcludeFold = Annotated[
    int | None,
    typer.Option("--exclude-fold", help="Leave out this cross-validation fold's rows."),
]


def _need_torch() -> None:
    """A one-line HhpnetError when the training extra (torch) is missing."""
    from hhpnet.errors import HhpnetError

    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise HhpnetError("training needs torch: pip install torch==2.13.0") from exc


def train_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML training config.")],
    output: _Output = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Override training.epochs (quick experiments).")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="Override data.samples_per_epoch.")
    ] = None,
) -> None:
    """Train HHP-Net (torch, CPU, one thread) and write a .safetensors weight file.

    Needs the training extra: pip install torch==2.13.0 pyyaml.
    """
    _need_torch()
    from hhpnet.training.train import load_config, train

    overrides: dict[str, int] = {}
    if epochs is not None:
        overrides["training.epochs"] = epochs
    if samples is not None:
        overrides["data.samples_per_epoch"] = samples
    cfg = load_config(config, **overrides)
    train(cfg, output=output)


def fit_generator_command(
    keypoints_csv: Annotated[
        Path,
        typer.Option(
            "--keypoints-csv", help="Real detector keypoints + labels (bf_/bp_/mn_ columns)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Fit file to write (JSON).")
    ] = Path("src/hhpnet/synth_fit.json"),
    exclude_fold: _ExcludeFold = None,
    num_folds: Annotated[int, typer.Option("--num-folds", help="Folds (with --exclude-fold).")] = 5,
    refine: Annotated[
        int, typer.Option("--refine", help="Rounds of simulate-and-correct (indirect inference).")
    ] = 2,
) -> None:
    """Fit the synthetic generator's detector models on real labelled keypoints.

    Head shapes per detector and yaw, residual noise, score distributions and the pose
    prior (hhpnet.training.generator_fit); the network itself stays trained on synthetic data.
    Needs the training extra (torch).
    """
    from hhpnet.errors import InputError
    from hhpnet.training.datasets import load_keypoints_csv
    from hhpnet.training.generator_fit import fit_generator, write_fit

    if not keypoints_csv.is_file():
        raise InputError(f"keypoints CSV not found: {keypoints_csv}")
    rows = None
    note = "all rows"
    if exclude_fold is not None:
        if not 0 <= exclude_fold < num_folds:
            raise InputError(f"--exclude-fold must be in 0 … {num_folds - 1}")
        folds = load_keypoints_csv(keypoints_csv, "blazeface").folds(num_folds)
        rows = folds != exclude_fold
        note = f"all folds but {exclude_fold} of {num_folds}"
    fit = fit_generator(keypoints_csv, rows=rows, note=note, refine=refine)
    path = write_fit(fit, output)
    typer.echo(f"wrote {path} ({fit['fitted_on']['rows_used']} rows; {note})")


def train_mesh_command(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="YAML config (configs/hhpnet-mesh-1.0.yaml).")
    ],
    output: _Output = None,
    real_npz: Annotated[
        Path | None,
        typer.Option("--landmarks", help="Real readings + labels (.npz; default: from config)."),
    ] = None,
    exclude_fold: _ExcludeFold = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Override training.epochs.")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="Override training.samples.")
    ] = None,
) -> None:
    """Train the face-mesh reading: fit its generator on real face-mesh readings, train on
    synthetic landmarks only, calibrate σ on the real readings (hhpnet.training.mesh_train).

    Needs the training extra (torch). Tens of minutes on one core; set
    OPENBLAS_NUM_THREADS=1 on a shared machine.
    """
    _need_torch()
    from hhpnet.training.mesh_train import load_mesh_config, train_mesh

    overrides: dict[str, object] = {}
    if real_npz is not None:
        overrides["real_npz"] = str(real_npz)
    if exclude_fold is not None:
        overrides["exclude_fold"] = exclude_fold
    if epochs is not None:
        overrides["training.epochs"] = epochs
    if samples is not None:
        overrides["training.samples"] = samples
    train_mesh(load_mesh_config(config, **overrides), output=output)


def register(app: typer.Typer) -> None:
    """Add the ``train``, ``fit-generator`` and ``train-mesh`` commands."""
    app.command("train")(train_command)
    app.command("fit-generator")(fit_generator_command)
    app.command("train-mesh")(train_mesh_command)
