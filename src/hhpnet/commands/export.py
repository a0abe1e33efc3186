"""``hhpnet export --model hhpnet-1.0 --format onnx -o FILE``: the pose network as an ONNX file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``export`` command."""

    @app.command("export")
    def export_command(
        output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.onnx).")],
        model: Annotated[
            str,
            typer.Option(
                "--model", "-m", help="hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors."
            ),
        ] = "hhpnet-1.0",
        fmt: Annotated[str, typer.Option("--format", "-f", help="Export format: onnx.")] = "onnx",
        input_layout: Annotated[
            str,
            typer.Option(
                "--input",
                help="keypoints: (N,5,3) pixels, normalisation inside the graph; "
                "normalized: (N,15) output of hhpnet.keypoints.normalize.",
            ),
        ] = "keypoints",
        opset: Annotated[int, typer.Option("--opset", help="ONNX opset (≥ 17).")] = 17,
        verify: Annotated[
            bool,
            typer.Option(
                "--verify/--no-verify", help="Compare with the numpy model via onnxruntime."
            ),
        ] = True,
    ) -> None:
        """Export the pose network (dynamic batch size) and check it against the numpy path.

        Outputs of the file: angles (N,3) yaw, pitch, roll in degrees; sigma (N,3) degrees;
        valid (N,). See docs/performance.md for use from C++ or JavaScript.
        """
        from hhpnet.errors import InputError

        if fmt.lower() != "onnx":
            raise InputError(f"unknown export format {fmt!r}; supported: onnx")
        from hhpnet.export import export_onnx, verify_onnx
        from hhpnet.model import load_model

        m = load_model(model)
        path = export_onnx(m, output, input=input_layout, opset=opset)
        size = path.stat().st_size / 1024
        typer.echo(f"wrote {path} ({size:.0f} KiB, opset {opset}, input {input_layout})")
        if verify:
            err = verify_onnx(m, path)
            typer.echo(
                f"verified with onnxruntime on {err['n']:.0f} random and realistic inputs: "
                f"max |Δangle| {err['angles']:.2e}°, max relative Δσ {err['sigma']:.2e}, "
                "valid flags equal"
            )
