"""``--precise`` on ``predict``, ``interact``, ``video`` and ``batch``: the same records, read
from the image and its mirror image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hhpnet
from hhpnet.pipeline import CSV_COLUMNS
from tests.helpers.cli import run_cli

EXAMPLES = Path(hhpnet.__file__).parent / "examples"
PERSON_KEYS = {
    "box", "score", "detector", "keypoints", "yaw", "pitch", "roll", "sigma", "valid", "ambiguous"
}  # fmt: skip


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_predict_precise_writes_the_same_schema(tmp_path: Path, monkeypatch: Any) -> None:
    image = str(EXAMPLES / "pair_640x480.jpg")
    for flag in ([], ["--precise"]):
        out = tmp_path / ("precise" if flag else "default")
        code = run_cli(
            ["predict", image, *flag, "--json", str(out / "p.jsonl"), "--csv", str(out / "p.csv"),
             "--no-progress"], monkeypatch,
        )  # fmt: skip
        assert code == 0
    default = _records(tmp_path / "default" / "p.jsonl")[0]
    precise = _records(tmp_path / "precise" / "p.jsonl")[0]
    assert len(precise["people"]) == len(default["people"]) == 2
    for p in precise["people"]:
        assert set(p) == PERSON_KEYS and p["valid"] and isinstance(p["ambiguous"], bool)
    # same people (the photo's keypoints), a different reading of them
    assert [p["keypoints"] for p in precise["people"]] == [
        p["keypoints"] for p in default["people"]
    ]
    assert [p["yaw"] for p in precise["people"]] != [p["yaw"] for p in default["people"]]
    header = (tmp_path / "precise" / "p.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == CSV_COLUMNS and CSV_COLUMNS[-1] == "ambiguous"


def test_interact_precise(tmp_path: Path, monkeypatch: Any) -> None:
    code = run_cli(
        ["interact", str(EXAMPLES / "pair_640x480.jpg"), "--precise", "--json",
         str(tmp_path / "i.jsonl"), "--no-progress"], monkeypatch,
    )  # fmt: skip
    assert code == 0
    (rec,) = _records(tmp_path / "i.jsonl")
    assert len(rec["people"]) == 2 and "interaction" in rec


def test_precise_needs_a_detector(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    kp = np.zeros((1, 17, 3))
    kp[0, :5] = [[50, 60, 0.9], [60, 50, 0.9], [40, 50, 0.9], [75, 55, 0.8], [25, 55, 0.8]]
    np.save(tmp_path / "k.npy", kp)
    code = run_cli(["predict", "--keypoints", str(tmp_path / "k.npy"), "--precise"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and "--precise" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("fakes")
def test_video_precise_reaches_the_estimator(tmp_path: Path, monkeypatch: Any) -> None:
    import hhpnet.pipeline
    from hhpnet.video.sinks import VIDEO_COLUMNS, read_csv_rows
    from tests.helpers.video_fakes import walking_scene, write_video

    made: list[dict[str, Any]] = []
    fake = hhpnet.pipeline.HeadPoseEstimator  # the fakes fixture's factory

    def recording(*args: Any, **kw: Any) -> Any:
        made.append(kw)
        return fake(*args, **kw)

    monkeypatch.setattr(hhpnet.pipeline, "HeadPoseEstimator", recording)
    clip = write_video(str(tmp_path / "walk.mp4"), walking_scene(6))
    code = run_cli(
        ["video", clip, "--precise", "--no-interact", "--csv", str(tmp_path / "p.csv"),
         "--no-progress"], monkeypatch,
    )  # fmt: skip
    assert code == 0 and made and made[-1].get("precise") is True
    rows = read_csv_rows(tmp_path / "p.csv")
    assert set(VIDEO_COLUMNS) <= set(rows) and VIDEO_COLUMNS[-1] == "ambiguous"
    assert len(rows["frame"]) > 0 and set(rows["ambiguous"].tolist()) <= {0, 1}


def test_batch_option_and_worker() -> None:
    from hhpnet.batch import BatchOptions
    from hhpnet.batch.worker import _estimator

    default, precise = BatchOptions().processing(), BatchOptions(precise=True).processing()
    assert "precise" not in default  # results made before the option keep their hash
    assert precise["precise"] is True
    est = _estimator({**precise, "model": "hhpnet-1.0"}, 1)
    assert est.precise is True and _estimator({**default}, 1).precise is False


def test_video_settings_refuse_a_non_precise_estimator() -> None:
    from hhpnet import HeadPoseEstimator
    from hhpnet.errors import InputError
    from hhpnet.video import process_video

    frames = [np.zeros((64, 64, 3), np.uint8)]
    with pytest.raises(InputError, match=r"precise=True"):
        process_video(frames, HeadPoseEstimator(), precise=True, progress=False)
