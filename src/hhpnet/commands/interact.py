"""``hhpnet interact SOURCE...``: who looks at whom in images (folders, globs) or given keypoints.

Per image: head poses (as ``hhpnet predict``), then :func:`hhpnet.interaction.analyze`.
Outputs (written incrementally, flushed after every image):

* ``--json FILE``: JSON Lines, one record per image = the ``predict`` record plus an
  ``"interaction"`` block (:meth:`hhpnet.interaction.Interaction.to_dict`: matrix, attention,
  converge, pairs, mutual, groups, targets, engagement, scene_score, excluded, method, params);
* ``--csv FILE``: one row per ordered pair of people (:data:`PAIR_COLUMNS`);
* ``--save-dir DIR``: annotated copies of the images (poses + interaction overlay) and
  ``<name>_matrix.png`` heat-maps (images with at least two people);
* none of these: the JSON Lines go to standard output.

A bad image prints one line on stderr; the others are still processed; exit code 1 at the end.
Video, webcam and stream sources go to :func:`hhpnet.video.process_video` with the interaction
analysis on (files named as in ``hhpnet predict`` — one source: the given names; several:
``<stem>.<name>.<ext>`` — plus the timeline ``<csv stem>[.<name>].timeline.csv`` and
``<save-dir>/<name>_timeline.png``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import typer

from hhpnet.commands.options import (
    KeypointsOpt,
    KptThrOpt,
    LayoutOpt,
    ModelOpt,
    PreciseOpt,
    ProgressOpt,
    SourcesArg,
    TileOpt,
    detector_option,
    method_option,
)
from hhpnet.commands.outputs import written_files

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from hhpnet.commands.images import Outputs
    from hhpnet.interaction import Interaction
    from hhpnet.poses import Poses
    from hhpnet.video.settings import DetectorSpec, ModelSpec

#: columns of the pair CSV: one row per ordered pair (i, j), i ≠ j, of every image
PAIR_COLUMNS: tuple[str, ...] = (
    "source",
    "i",
    "j",
    "attention",
    "score",
    "mutual",
    "converge",
    "target",
    "same_group",
    "excluded",
)


def parse_params(items: list[str]) -> dict[str, object]:
    """``["tolerance_deg=12", "depth=none", "converge_range=0.2,1.2"]`` → typed dict."""
    from hhpnet.errors import InputError

    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        out[key.strip()] = _value(raw.strip())
    return out


def _value(raw: str) -> object:
    low = raw.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null"):
        return None
    if "," in raw:
        return tuple(_value(p.strip()) for p in raw.split(","))
    try:
        return float(raw)
    except ValueError:
        return raw


def pair_rows(source: str | None, inter: Interaction) -> list[dict[str, object]]:
    """Rows of :data:`PAIR_COLUMNS` for one image's :class:`~hhpnet.interaction.Interaction`."""
    n = len(inter.matrix)
    group_of = {i: g for g, members in enumerate(inter.groups) for i in members}
    mutual = {(i, j) for i, j in inter.mutual} | {(j, i) for i, j in inter.mutual}
    excluded = set(inter.excluded)
    rows: list[dict[str, object]] = []
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            rows.append(
                {
                    "source": source,
                    "i": i,
                    "j": j,
                    "attention": round(float(inter.attention[i, j]), 4),
                    "score": round(float(inter.matrix[i, j]), 4),
                    "mutual": int((i, j) in mutual),
                    "converge": round(float(inter.converge[i, j]), 4),
                    "target": int(inter.targets[i] == j),
                    "same_group": int(i in group_of and group_of.get(j) == group_of[i]),
                    "excluded": int(i in excluded or j in excluded),
                }
            )
    return rows


def run_interact(
    sources: list[str],
    *,
    method: str = "hhpnet",
    params: Mapping[str, object] | None = None,
    model: ModelSpec = "hhpnet-1.0",
    detector: DetectorSpec = "auto",
    keypoints: str | None = None,
    layout: str | None = None,
    save_dir: str | None = None,
    json_path: str | None = None,
    csv_path: str | None = None,
    kpt_thr: float = 0.0,
    heatmaps: bool = True,
    progress: bool | None = None,
    detector_options: dict[str, object] | None = None,
    precise: bool = False,
) -> dict[str, int]:
    """Run the interact command; returns counts: images, people, mutual, groups, failed.

    ``model`` / ``detector`` may also be objects (as for
    :class:`hhpnet.pipeline.HeadPoseEstimator`).
    """
    from hhpnet.commands.images import ImageCommand, Outputs
    from hhpnet.interaction import analyze

    cmd = ImageCommand(
        sources,
        model=model,
        detector=detector,
        keypoints=keypoints,
        layout=layout,
        save_dir=save_dir,
        json_path=json_path,
        csv_path=csv_path,
        kpt_thr=kpt_thr,
        progress=progress,
        detector_options=detector_options,
        precise=precise,
    )
    prm = dict(params or {})
    batch, missing = cmd.start(lambda poses: analyze(poses, method=method, **prm))
    counts = {"images": 0, "people": 0, "mutual": 0, "groups": 0, "failed": 0}
    if batch.jobs:
        with Outputs(json_path, csv_path, PAIR_COLUMNS, save_dir) as out:
            for img_path, image, poses, inter in batch:
                assert inter is not None  # the batch's analysis is set
                _write_image(out, img_path, image, poses, inter, heatmaps and bool(save_dir))
                counts["images"] += 1
                counts["people"] += len(poses)
                counts["mutual"] += len(inter.mutual)
                counts["groups"] += len(inter.groups)
    counts["failed"] = batch.failed + missing + cmd.run_videos(batch, missing, (method, prm))
    return counts


def _write_image(
    out: Outputs,
    img_path: str | None,
    image: NDArray[np.uint8] | None,
    poses: Poses,
    inter: Interaction,
    heatmaps: bool,
) -> None:
    """One image's record, pair rows and (with ``--save-dir``) annotated copy and, for two
    people or more, its matrix heat-map ``<name>_matrix.png``."""
    from hhpnet.draw.interaction import annotate_interaction, heatmap
    from hhpnet.records import record_line

    out.write(record_line(poses, inter), pair_rows(poses.source, inter))
    if image is None or img_path is None or not out.save_dir:
        return
    target = out.save_image(img_path, annotate_interaction(image, poses, inter, rgb=True))
    if heatmaps and len(poses) >= 2 and target is not None:
        heatmap(inter, target.with_name(f"{target.stem}_matrix.png"), title=target.name)


_Threshold = Annotated[
    float | None,
    typer.Option(
        metavar="P",
        help="Decision threshold for mutual pairs, targets and groups "
        "(default 0.5 for hhpnet, 0.95 for paper).",
    ),
]
_Param = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="KEY=VALUE",
        help="Method parameter KEY=VALUE (repeatable), e.g. tolerance_deg=12, depth=none, "
        "fov_deg=70, depth_noise=0.05, sigma_max_deg=20; see docs/interaction.md.",
    ),
]
_SaveDir = Annotated[
    str | None,
    typer.Option(
        "--save-dir", metavar="DIR", help="Write annotated images and matrix heat-maps here."
    ),
]
_Json = Annotated[
    str | None,
    typer.Option(
        "--json", metavar="FILE", help="Write JSON Lines here (predict record + interaction block)."
    ),
]
_Csv = Annotated[
    str | None,
    typer.Option(
        "--csv", metavar="FILE", help="Write a CSV here (one row per ordered pair of people)."
    ),
]
_Heatmaps = Annotated[
    bool, typer.Option("--heatmap/--no-heatmap", help="With --save-dir: also matrix heat-maps.")
]


def interact(
    sources: SourcesArg = None,
    method: Annotated[str, method_option("{}", summaries=True, metavar="NAME")] = "hhpnet",
    threshold: _Threshold = None,
    param: _Param = None,
    detector: Annotated[str, detector_option()] = "auto",
    model: ModelOpt = "hhpnet-1.0",
    keypoints: KeypointsOpt = None,
    layout: LayoutOpt = None,
    save_dir: _SaveDir = None,
    json_path: _Json = None,
    csv_path: _Csv = None,
    kpt_thr: KptThrOpt = 0.0,
    tile: TileOpt = False,
    precise: PreciseOpt = False,
    heatmaps: _Heatmaps = True,
    progress: ProgressOpt = None,
) -> None:
    """Who looks at whom: interaction matrix, mutual gaze, targets and groups per image.

    \f
    The signature is the option list of ``hhpnet interact``; the body hands them on to
    :func:`run_interact`. Text after the form feed is not part of ``--help``.
    """
    params = parse_params(list(param or []))
    if threshold is not None:
        params["threshold"] = threshold
    counts = run_interact(
        list(sources or []),
        method=method,
        params=params,
        model=model,
        detector=detector,
        keypoints=keypoints,
        layout=layout,
        save_dir=save_dir,
        json_path=json_path,
        csv_path=csv_path,
        kpt_thr=kpt_thr,
        heatmaps=heatmaps,
        progress=progress,
        detector_options={"tile": True} if tile else {},
        precise=precise,
    )
    if counts["images"] or counts["failed"] or not sources:
        where = written_files(json_path, csv_path, save_dir) if counts["images"] else ""
        print(
            f"hhpnet: {counts['images']} image(s), {counts['people']} person(s), "
            f"{counts['mutual']} mutual pair(s), {counts['groups']} group(s), "
            f"{counts['failed']} failed{where}",
            file=sys.stderr,
        )
    if counts["failed"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``interact`` command."""
    app.command("interact")(interact)
