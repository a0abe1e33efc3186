"""Command-line interface: ``hhpnet COMMAND --help``.

Each command lives in ``hhpnet/commands/<name>.py`` with a ``register(app)`` function; those
modules import only the standard library and typer at module level (heavy imports happen inside
the command), so ``hhpnet --help`` stays fast. User errors (:class:`hhpnet.errors.HhpnetError`)
are printed as one line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

#: command modules under hhpnet.commands, in the order shown by --help
COMMAND_MODULES: tuple[str, ...] = (
    "predict",
    "demo",
    "video",
    "batch",
    "interact",
    "train",
    "evaluate",
    "export",
    "bench",
)

app = typer.Typer(
    name="hhpnet",
    help="Head pose (yaw, pitch, roll) with uncertainty from five head keypoints, "
    "and who looks at whom — images, video, webcam. Offline, CPU.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"hhpnet.commands.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    from hhpnet.errors import HhpnetError

    try:
        app()
    except HhpnetError as exc:
        print(f"hhpnet: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("hhpnet: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
