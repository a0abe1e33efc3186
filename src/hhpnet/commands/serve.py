"""``hhpnet serve``: the local web page and HTTP API (docs/serve.md; needs ``hhpnet[serve]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hhpnet.commands.options import detector_option

if TYPE_CHECKING:
    from hhpnet.serve.settings import ServeSettings


def _mb(help: str) -> object:
    return typer.Option(metavar="MB", help=help)


def _n(help: str) -> object:
    return typer.Option(metavar="N", help=help)


_Host = Annotated[
    str,
    typer.Option(
        metavar="ADDR", help="Address to listen on. Anything but a loopback address needs --token."
    ),
]
_Model = Annotated[
    str,
    typer.Option(
        metavar="NAME",
        help="Default model: hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors file.",
    ),
]
_Token = Annotated[
    str | None,
    typer.Option(
        metavar="TOKEN",
        envvar="HHPNET_TOKEN",
        show_default=False,
        help="Require 'Authorization: Bearer TOKEN' on every API request (default: $HHPNET_TOKEN).",
    ),
]
_DataDir = Annotated[
    str | None,
    typer.Option(
        metavar="DIR",
        show_default=False,
        help="Folder for video job files (default: a temporary folder).",
    ),
]
_KeepHours = Annotated[
    float, typer.Option(metavar="H", help="Remove finished video jobs after this.")
]
_Cors = Annotated[
    list[str] | None,
    typer.Option(
        metavar="ORIGIN",
        show_default=False,
        help="Let pages of ORIGIN (http://host:port) call the API (repeatable; off).",
    ),
]


def serve_command(
    host: _Host = "127.0.0.1",
    port: Annotated[int, _n("Port (0: a free one).")] = 8000,
    model: _Model = "hhpnet-1.0",
    detector: Annotated[str, detector_option("Default detector: {}.", summaries=False)] = "auto",
    token: _Token = None,
    max_upload_mb: Annotated[float, _mb("Largest image upload.")] = 25.0,
    max_video_mb: Annotated[float, _mb("Largest video upload.")] = 2048.0,
    data_dir: _DataDir = None,
    keep_hours: _KeepHours = 24.0,
    max_disk_mb: Annotated[float, _mb("Disk space for all video job files.")] = 10240.0,
    cors: _Cors = None,
    workers: Annotated[int, _n("Threads estimating images and stream frames.")] = 2,
    queue: Annotated[int, _n("Requests that may wait for them (then 503).")] = 16,
    video_workers: Annotated[int, _n("Video jobs processed at once.")] = 1,
) -> None:
    """A local web page and HTTP API: images, videos and a webcam, with σ and who looks at
    whom. Prints the page's URL; Ctrl-C stops (jobs cancelled, job files removed)."""
    from hhpnet.serve.settings import ServeSettings

    settings = ServeSettings(
        host=host,
        port=port,
        model=model,
        detector=detector,
        token=token,
        max_upload_mb=max_upload_mb,
        max_video_mb=max_video_mb,
        data_dir=data_dir,
        keep_hours=keep_hours,
        max_disk_mb=max_disk_mb,
        cors=list(cors or []),
        workers=workers,
        queue=queue,
        video_workers=video_workers,
    )
    settings.check()
    _serve(settings)


def _serve(settings: ServeSettings) -> None:
    """Load the web extra (one line naming the missing package otherwise) and the model (an
    unknown model: one line now, not at the first request), then serve until Ctrl-C."""
    from hhpnet.errors import HhpnetError

    try:
        from hhpnet.serve.server import serve
    except ImportError as exc:
        raise HhpnetError(
            f"hhpnet serve needs the web extra: pip install 'hhpnet[serve]' ({exc.name} is missing)"
        ) from None
    from hhpnet.model import load_model

    load_model(settings.model)
    serve(settings)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command."""
    app.command("serve")(serve_command)
