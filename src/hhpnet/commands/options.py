"""Typer option declarations (``Annotated`` aliases) shared by the commands, and what their
values mean (:func:`progress_wanted`).

Standard library and typer only: ``hhpnet --help`` imports this module. The options that list
registered names (``--detector``, ``--method``, a video output format's option and
``--output``) are functions used inside the annotation,
``detector: Annotated[str, detector_option()]``: the commands' modules postpone annotations, so
typer evaluates them when it builds the command line (every run of ``hhpnet``), and a detector
or method registered after import is listed too.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

SourcesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SOURCE...",
        help="Image files, folders, globs ('photos/*.jpg'); videos, webcam index, URLs.",
        show_default=False,
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(metavar="NAME", help="hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors file."),
]
KeypointsOpt = Annotated[
    str | None,
    typer.Option(
        "--keypoints",
        metavar="FILE",
        help="Use these keypoints instead of detecting: COCO/OpenPose/MMPose JSON, an "
        "OpenPose folder, or .npy. Matched to the SOURCE images by name, else by order.",
    ),
]
LayoutOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Layout of --keypoints arrays: coco17, openpose25, openpose18, blazepose33, "
        "blazeface6, hhpnet5 (JSON formats are recognised).",
    ),
]
KptThrOpt = Annotated[
    float,
    typer.Option(
        "--kpt-thr", metavar="C", help="Keypoints with a lower confidence count as missing."
    ),
]
TileOpt = Annotated[
    bool,
    typer.Option("--tile", help="Also search image tiles (small people in large images)."),
]
InteractOpt = Annotated[
    bool, typer.Option("--interact/--no-interact", help="Who looks at whom per frame.")
]
PreciseOpt = Annotated[
    bool,
    typer.Option(
        "--precise",
        help="Accuracy first: also run the detector and the face mesh on the mirrored image "
        "and fuse both images' readings of every head (about twice the time).",
    ),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar on stderr (default: only when stderr is a terminal).",
        show_default=False,
    ),
]


def progress_wanted(progress: bool | None) -> bool:
    """``--progress``/``--no-progress``, else on only when stderr is a terminal (a log file or
    a pipe gets no partial progress lines)."""
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def detector_option(
    template: str = "Keypoint detector: {}.", *, summaries: bool = True, last: str = ", ", **kw: Any
) -> object:
    """``--detector``: ``template`` filled with the registered detectors
    (:func:`hhpnet.detectors.registry.cli_help` with ``summaries`` and ``last``); ``kw``: more
    keywords of ``typer.Option`` (metavar NAME unless given)."""
    from hhpnet.detectors import registry

    kw.setdefault("metavar", "NAME")
    return typer.Option(
        help=template.format(registry.cli_help(summaries=summaries, last=last)), **kw
    )


def method_option(template: str, *, summaries: bool = False, **kw: Any) -> object:
    """``--method``: ``template`` filled with the registered interaction methods ("a, b, c",
    or with ``summaries`` :func:`hhpnet.interaction.registry.cli_help`); ``kw``: more keywords
    of ``typer.Option``."""
    from hhpnet.interaction import registry

    names = registry.cli_help() if summaries else ", ".join(registry.names())
    return typer.Option(help=template.format(names), **kw)


def output_option(name: str) -> object:
    """The option of the registered video output format ``name``
    (:mod:`hhpnet.video.outputs`): its flag, metavar FILE, its help."""
    from hhpnet.video import outputs

    fmt = outputs.get(name)
    return typer.Option(fmt.option, metavar="FILE", help=fmt.help)


def any_output_option() -> object:
    """``--output NAME=FILE`` (repeatable): any registered video output format, by name
    (the names and their help come from :mod:`hhpnet.video.outputs`)."""
    from hhpnet.video import outputs

    return typer.Option(
        "--output",
        metavar="NAME=FILE",
        show_default=False,
        help="Write the registered output format NAME to FILE (repeatable): "
        f"{', '.join(outputs.names())}.",
    )


def parse_outputs(items: list[str] | None) -> dict[str, str]:
    """``--output NAME=FILE`` values → {name: file}; a one-line InputError for an item
    without ``=`` (an unknown name is refused when the run's settings are checked)."""
    from hhpnet.errors import InputError

    given: dict[str, str] = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise InputError(f"--output: expected NAME=FILE; got {item!r}")
        given[name.strip()] = path
    return given
