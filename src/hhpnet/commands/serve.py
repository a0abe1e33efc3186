"""``hhpnet serve``: the local web page and HTTP API (docs/serve.md; needs ``hhpnet[serve]``)."""

from __future__ import annotations

from typing import Annotated

import typer

from hhpnet.commands.options import detector_option


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command."""

    @app.command("serve")
    def serve_command(
        host: Annotated[
            str,
            typer.Option(
                metavar="ADDR",
                help="Address to listen on. Anything but a loopback address needs --token.",
            ),
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(metavar="N", help="Port (0: a free one).")] = 8000,
        model: Annotated[
            str,
            typer.Option(
                metavar="NAME",
                help="Default model: hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors file.",
            ),
        ] = "hhpnet-1.0",
        detector: Annotated[
            str, detector_option("Default detector: {}.", summaries=False)
        ] = "auto",
        token: Annotated[
            str | None,
            typer.Option(
                metavar="TOKEN",
                envvar="HHPNET_TOKEN",
                show_default=False,
                help="Require 'Authorization: Bearer TOKEN' on every API request "
                "(default: $HHPNET_TOKEN).",
            ),
        ] = None,
        max_upload_mb: Annotated[
            float, typer.Option(metavar="MB", help="Largest image upload.")
        ] = 25.0,
        max_video_mb: Annotated[
            float, typer.Option(metavar="MB", help="Largest video upload.")
        ] = 2048.0,
        data_dir: Annotated[
            str | None,
            typer.Option(
                metavar="DIR",
                show_default=False,
                help="Folder for video job files (default: a temporary folder).",
            ),
        ] = None,
        keep_hours: Annotated[
            float, typer.Option(metavar="H", help="Remove finished video jobs after this.")
        ] = 24.0,
        max_disk_mb: Annotated[
            float, typer.Option(metavar="MB", help="Disk space for all video job files.")
        ] = 10240.0,
        cors: Annotated[
            list[str] | None,
            typer.Option(
                metavar="ORIGIN",
                show_default=False,
                help="Let pages of ORIGIN (http://host:port) call the API (repeatable; off).",
            ),
        ] = None,
        workers: Annotated[
            int, typer.Option(metavar="N", help="Threads estimating images and stream frames.")
        ] = 2,
        queue: Annotated[
            int, typer.Option(metavar="N", help="Requests that may wait for them (then 503).")
        ] = 16,
        video_workers: Annotated[
            int, typer.Option(metavar="N", help="Video jobs processed at once.")
        ] = 1,
    ) -> None:
        """A local web page and HTTP API: images, videos and a webcam, with σ and who looks at
        whom. Prints the page's URL; Ctrl-C stops (jobs cancelled, job files removed)."""
        from hhpnet.errors import HhpnetError
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
        try:
            from hhpnet.serve.server import serve
        except ImportError as exc:
            raise HhpnetError(
                f"hhpnet serve needs the web extra: pip install 'hhpnet[serve]' ({exc.name} "
                "is missing)"
            ) from None
        from hhpnet.model import load_model

        load_model(model)  # an unknown model: one line now, not at the first request
        serve(settings)
