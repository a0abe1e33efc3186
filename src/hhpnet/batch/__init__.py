"""Many videos at once on Ray: every input through :func:`hhpnet.video.process_video`.

::

    from hhpnet.batch import BatchOptions, run_batch, read_dataset
    report = run_batch(["videos/", "more.txt"], "results/", BatchOptions(workers=2))
    report.exit_code, report.counts()          # 0 / 1 (an input failed or was damaged) / 130
    table = read_dataset("results/")           # every person-frame row, column "input" added

``hhpnet batch`` (:mod:`hhpnet.commands.batch`) is the command-line front end.

Inputs (:func:`collect_inputs`): video or image files, folders and globs (expanded to their
media files, one input each), ``http(s)://`` URLs (downloaded by the worker to a temporary file,
then processed as a file), other stream URLs, and manifests — ``.txt``/``.lst``/``.list`` files
with one input per line, ``.csv``/``.tsv`` files with a ``path`` (or ``url``, ``source``,
``input``, ``file``, ``video``) column and an optional ``name`` column.

Layout of the output folder ``OUT``::

    OUT/inputs/<name>/poses.csv             per-frame rows (the files `hhpnet video` writes)
    OUT/inputs/<name>/timeline.csv, timeline_people.csv   (+ poses.jsonl, annotated.mp4,
                                                           timeline.png when asked for)
    OUT/dataset/input=<name>/part-0.parquet  the same rows: one Hive-partitioned Parquet dataset
    OUT/summary.csv                          one line per input: status, frames, people, gaze
    OUT/_batch/records/<name>.json           the commit record of each input (see below)

**One task per input.** A Ray task processes one input into a private temporary folder
(``OUT/_batch/tmp``), then commits: it deletes the input's old record, moves each finished file
into place with an atomic rename, and writes the new record last (itself atomically). A file
under ``inputs/`` or ``dataset/`` is therefore always complete, and an input counts as finished
only when its record exists, names the same source and options, and the files it lists have the
recorded sizes (``check="hash"``: SHA-256; the input's own size and mtime — or hash — too).
Files without a finished record (an interrupted commit, a failed redo) are removed, so the
dataset holds exactly the finished inputs, each once.

**Failures.** A bad input (missing, unreadable, not a video) gets a ``failed`` record with its
one-line reason; a video that breaks in the middle is processed up to the damage (``damaged``,
files kept, like ``hhpnet video``). A worker process that dies (killed, out of memory) or an
unexpected exception is retried by Ray up to ``retries`` times; the partial files of a dead
attempt are never committed. Re-running the same command skips finished inputs and redoes the
others.
"""

from __future__ import annotations

from hhpnet.batch.cluster import start_ray
from hhpnet.batch.constants import MANIFEST_EXTENSIONS, SUMMARY_COLUMNS
from hhpnet.batch.driver import BatchReport, read_dataset, run_batch
from hhpnet.batch.driver import _Lock as _Lock
from hhpnet.batch.files import _Layout as _Layout
from hhpnet.batch.inputs import BatchInput, collect_inputs, read_manifest
from hhpnet.batch.inputs import _assign_names as _assign_names
from hhpnet.batch.options import BatchOptions
from hhpnet.batch.worker import _timeline_totals as _timeline_totals
from hhpnet.batch.worker import process_input

__all__ = [
    "MANIFEST_EXTENSIONS",
    "SUMMARY_COLUMNS",
    "BatchInput",
    "BatchOptions",
    "BatchReport",
    "collect_inputs",
    "process_input",
    "read_dataset",
    "read_manifest",
    "run_batch",
    "start_ray",
]
