"""Constants of the batch output format and of the worker's pacing."""

from __future__ import annotations

#: files given as INPUTS with these extensions are manifests (lists of inputs), not media
MANIFEST_EXTENSIONS: frozenset[str] = frozenset({".txt", ".lst", ".list", ".csv", ".tsv"})
_PATH_COLUMNS = ("path", "url", "source", "input", "file", "video")
_DOWNLOAD_PREFIXES = ("http://", "https://")
_STATUS_FINISHED = ("done", "damaged")
#: columns of OUT/summary.csv (one row per input)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "input",
    "name",
    "status",
    "error",
    "frames",
    "rows",
    "people",
    "video_s",
    "mutual_s",
    "mutual_intervals",
    "one_way_s",
    "one_way_intervals",
    "elapsed_s",
    "cpu_s",
    "fps",
    "attempts",
    "skipped",
    "host",
    "finished_at",
)
_RECORD_VERSION = 1
_PROGRESS_EVERY_S = 1.0
_RSS_EVERY_S = 60.0  # memory sample every minute of video time
# Parquet row group size (frames). `hhpnet video` writes one every 30 frames so that a crash keeps
# most rows; a batch task commits its files whole, and large groups compress far better (a
# 600-frame clip: 60 instead of 359 bytes per row, the same table).
_FLUSH_FRAMES = 3000
