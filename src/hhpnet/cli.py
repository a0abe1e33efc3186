"""Command-line interface: ``hhpnet COMMAND --help``.

Each command lives in ``hhpnet/commands/<name>.py`` with a ``register(app)`` function; those
modules import only the standard library and typer at module level (heavy imports happen inside
the command), so ``hhpnet --help`` stays fast. User errors (:class:`hhpnet.errors.HhpnetError`)
are printed as one line on stderr with a non-zero exit code, never as a traceback; the exit
codes are listed in docs/errors.md.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

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
    "serve",
)

#: exit codes (docs/errors.md)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class PlainHelpCommand(TyperCommand):
    """Help without type tags: ``Usage: hhpnet video [OPTIONS] SOURCE...``, options as
    ``--csv FILE`` (the option's metavar) and flags as ``--tile``.

    The context, formatter and parameters stay ``Any``: typer before 0.2x hands out click's
    classes, later typer its own copy of them (``typer._click``), with no public name common to
    both."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for p in self.get_params(ctx):
            if p.param_type_name == "argument":
                name = _argument_name(p)
                pieces.append(name if p.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        opts: list[tuple[str, str]] = []
        for p in self.get_params(ctx):
            if getattr(p, "hidden", False):
                continue
            if p.param_type_name == "argument":
                help_text = (getattr(p, "help", None) or "") + (" [required]" if p.required else "")
                args.append((_argument_name(p), help_text.strip()))
            elif p.param_type_name == "option":
                opts.append((_option_label(p), _option_help(p)))
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def _argument_name(p: Any) -> str:
    name = str(p.metavar or (p.name or "arg").upper())
    if p.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name


def _option_label(p: Any) -> str:
    label = ", ".join(p.opts)
    if p.secondary_opts:
        label += " / " + ", ".join(p.secondary_opts)
    if not p.is_flag and not getattr(p, "count", False):
        label += f" {p.metavar or _type_metavar(p)}"
    return label


_METAVARS = {"int": "N", "integer": "N", "float": "NUMBER", "path": "PATH", "str": "TEXT"}


def _type_metavar(p: Any) -> str:
    """N, NUMBER, PATH or TEXT from the option's type (click's ``type.name`` or typer's
    annotation), VALUE otherwise."""
    name = getattr(getattr(p, "type", None), "name", None)
    if name is None:
        ann = getattr(getattr(p, "type_descriptor", None), "annotation", None)
        name = getattr(ann, "__name__", None)
    return _METAVARS.get(str(name).lower(), "VALUE")


def _option_help(p: Any) -> str:
    text = p.help or ""
    extra = []
    default = p.default
    show = getattr(p, "show_default", True) is not False
    if p.required:
        extra.append("required")
    elif show and p.is_flag and p.secondary_opts and isinstance(default, bool):
        extra.append(f"default: {p.opts[0] if default else p.secondary_opts[0]}")
    elif show and not p.is_flag and default is not None and not callable(default):
        extra.append(f"default: {default}")
    return f"{text}  [{'; '.join(extra)}]".strip() if extra else text


app = typer.Typer(
    name="hhpnet",
    help="Head pose (yaw, pitch, roll) with uncertainty from five head keypoints, "
    "and who looks at whom — images, video, webcam. Offline, CPU.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from hhpnet import __version__

        print(f"hhpnet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Head pose (yaw, pitch, roll) with uncertainty from five head keypoints, and who looks at
    whom — images, video, webcam. Offline, CPU."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"hhpnet.commands.{_name}").register(app)
for _info in app.registered_commands:
    _info.cls = PlainHelpCommand


def main() -> None:
    """Console-script entry point."""
    from hhpnet.errors import HhpnetError

    try:
        app(prog_name="hhpnet")
    except HhpnetError as exc:
        print(f"hhpnet: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("hhpnet: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader of our standard output went away (`| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"hhpnet: error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
