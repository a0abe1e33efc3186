"""``hhpnet demo``: run the default pipeline on the bundled example images.

Writes annotated images, ``poses.jsonl`` and ``poses.csv`` under ``--out`` (default
``./hhpnet-demo``) and prints where they are.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hhpnet.commands.options import detector_option

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def example_images() -> list[str]:
    """Paths of the bundled example images, sorted."""
    return sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command("demo")
    def demo(
        out: str = typer.Option("hhpnet-demo", "--out", metavar="DIR", help="Output folder."),
        model: str = typer.Option("hhpnet-1.0", help="Model name or .safetensors file."),
        detector: Annotated[
            str, detector_option("{}.", summaries=False, last=" or ", metavar=None)
        ] = "auto",
    ) -> None:
        """Head poses and who looks at whom on the bundled example photos (public domain/CC0)."""
        from hhpnet.commands.interact import run_interact
        from hhpnet.commands.predict import run_predict
        from hhpnet.errors import InputError

        images = example_images()
        if not images:
            raise InputError(f"no example images in {EXAMPLES_DIR} (broken installation?)")
        out_dir = Path(out)
        done, people, failed = run_predict(
            images,
            model=model,
            detector=detector,
            save_dir=str(out_dir),
            json_path=str(out_dir / "poses.jsonl"),
            csv_path=str(out_dir / "poses.csv"),
            progress=False,
        )
        inter_dir = out_dir / "interaction"
        counts = run_interact(
            images,
            model=model,
            detector=detector,
            save_dir=str(inter_dir),
            json_path=str(inter_dir / "interaction.jsonl"),
            csv_path=str(inter_dir / "pairs.csv"),
            progress=False,
        )
        failed += counts["failed"]
        for line in (
            f"hhpnet demo: {done} image(s), {people} person(s) with {model} + {detector}",
            f"  annotated images: {out_dir}/",
            f"  JSON Lines:       {out_dir / 'poses.jsonl'}",
            f"  CSV:              {out_dir / 'poses.csv'}",
            f"  who looks at whom: {inter_dir}/ (pictures, matrix heat-maps, "
            "interaction.jsonl, pairs.csv)",
        ):
            print(line)
        if failed:
            print(f"hhpnet demo: {failed} image(s) failed", file=sys.stderr)
            raise typer.Exit(1)
