"""``hhpnet train --config configs/hhpnet-1.0.yaml``: train a model on synthetic keypoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``train`` command."""

    @app.command("train")
    def train_command(
        config: Annotated[Path, typer.Option("--config", "-c", help="YAML training config.")],
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Weight file to write (default: from config)."),
        ] = None,
        epochs: Annotated[
            int | None,
            typer.Option("--epochs", help="Override training.epochs (quick experiments)."),
        ] = None,
        samples: Annotated[
            int | None,
            typer.Option("--samples", help="Override data.samples_per_epoch."),
        ] = None,
    ) -> None:
        """Train HHP-Net (torch, CPU, one thread) and write a .safetensors weight file.

        Needs the training extra: pip install torch==2.13.0 pyyaml.
        """
        from hhpnet.errors import HhpnetError

        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise HhpnetError("training needs torch: pip install torch==2.13.0") from exc
        from hhpnet.train import load_config, train

        overrides: dict[str, int] = {}
        if epochs is not None:
            overrides["training.epochs"] = epochs
        if samples is not None:
            overrides["data.samples_per_epoch"] = samples
        cfg = load_config(config, **overrides)
        train(cfg, output=output)
