"""``--resume``: replay the frames already in the CSV journal through the same per-frame step
(:meth:`~hhpnet.video.processor.VideoProcessor.process_poses`) so that tracker, smoother and
timeline continue from the state of an uninterrupted run."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.keypoints import KEYPOINT_NAMES
from hhpnet.video.processor import VideoProcessor
from hhpnet.video.readers import Frame


def _rows_by_frame(rows: dict[str, NDArray[Any]]) -> dict[int, NDArray[np.int64]]:
    """Row indices of every frame of the journal, in file order."""
    frames = rows["frame"]
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    return {int(f): order[bounds[k] : bounds[k + 1]] for k, f in enumerate(uniq)}


def _poses_from_rows(
    rows: dict[str, NDArray[Any]], idx: Any, image_size: tuple[int, int] | None
) -> Any:
    """A Poses of one frame from journal columns (rows ``idx``)."""
    from hhpnet.keypoints import head_size
    from hhpnet.poses import Poses, centroids

    kp = np.stack(
        [np.stack([rows[f"{k}_{c}"][idx] for c in ("x", "y", "c")], -1) for k in KEYPOINT_NAMES],
        1,
    ).astype(np.float32)
    kp = np.nan_to_num(kp, nan=0.0)
    return Poses(
        boxes=np.stack([rows[c][idx] for c in ("x1", "y1", "x2", "y2")], 1).astype(np.float32),
        scores=np.asarray(rows["score"][idx], np.float32),
        keypoints=kp,
        yaw=np.asarray(rows["yaw"][idx], np.float32),
        pitch=np.asarray(rows["pitch"][idx], np.float32),
        roll=np.asarray(rows["roll"][idx], np.float32),
        sigma=np.stack([rows[f"sigma_{a}"][idx] for a in ANGLE_NAMES], 1).astype(np.float32),
        valid=np.asarray(rows["valid"][idx]).astype(bool),
        centroid=centroids(kp),
        head_size=head_size(kp),
        image_size=image_size,
        detector=rows["detector"][idx] if "detector" in rows else None,
        ambiguous=np.asarray(rows["ambiguous"][idx]).astype(bool) if "ambiguous" in rows else None,
    )


def _replay(
    proc: VideoProcessor,
    frames: Iterator[Frame],
    journal: dict[str, NDArray[Any]],
    resume_frame: int,
    csv: str,
    on_step: Callable[[], None] | None = None,
) -> tuple[int, Frame | None]:
    """Re-run the frames before ``resume_frame`` with the poses of the CSV journal instead of
    the estimator: tracker, smoother and timeline end in the state of an uninterrupted run.

    Returns (frames replayed, the first frame at or after the restart point or None)."""
    from hhpnet.poses import Poses

    by_frame = {f: ix for f, ix in _rows_by_frame(journal).items() if f < resume_frame}
    count = 0
    pending: Frame | None = None
    # a detection cadence (--body-every) is rebuilt from the frames since its last K-th frame
    detector = getattr(proc.estimator, "detector", None)
    cadence = getattr(detector, "restore", None)
    recent: deque[NDArray[np.uint8]] = deque(maxlen=getattr(detector, "every", 1))
    for frame in frames:
        if frame.index >= resume_frame:
            pending = frame
            break
        if cadence is not None:
            recent.append(frame.image)
        h, w = frame.image.shape[:2]
        ix = by_frame.pop(frame.index, None)
        poses = Poses.empty((w, h)) if ix is None else _poses_from_rows(journal, ix, (w, h))
        result = proc.process_poses(frame.index, frame.time_s, poses)
        if ix is not None and result.track_ids.tolist() != journal["track_id"][ix].tolist():
            raise InputError(_mismatch(csv, frame.index))
        count += 1
        if on_step is not None:
            on_step()
    if by_frame:  # frames of the journal that this run does not process
        raise InputError(_mismatch(csv, min(by_frame)))
    if cadence is not None:  # BGR frames → the RGB the detector gets
        cadence(count, [np.ascontiguousarray(img[..., ::-1]) for img in recent])
    return count, pending


def _mismatch(csv: str, frame: int) -> str:
    return (
        f"{csv}: cannot resume: the CSV does not match this source and these options at frame "
        f"{frame} (use the SOURCE, --stride, --start and --end of the first run, or run "
        "again without --resume)"
    )
