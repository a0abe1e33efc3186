"""Interaction timeline: intervals, gap bridging, minimum duration, totals, CSV and PNG."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hhpnet.video.timeline import TimelineBuilder

FPS = 10.0


def scenario(builder: TimelineBuilder, gap_frames: int = 1) -> None:
    """Ids 5, 6, 7. Mutual 5↔6 over frames 10–29 with a hole of ``gap_frames``;
    one-way 7→5 over 35–49; a 1-frame glance 5→7 at 55; 60 frames in all."""
    for k in range(60):
        a = np.zeros((3, 3))
        if 10 <= k < 30 and not 20 <= k < 20 + gap_frames:
            a[0, 1] = a[1, 0] = 0.9
        if 35 <= k < 50:
            a[2, 0] = 0.8
        if k == 55:
            a[0, 2] = 0.9
        builder.add(k / FPS, [5, 6, 7], a)


def test_intervals_gap_bridging_and_min_duration():
    tl = TimelineBuilder(min_duration=0.2, max_gap=0.3)
    scenario(tl)
    res = tl.finish()
    got = [(iv.kind, iv.a, iv.b, round(iv.start_s, 6), round(iv.end_s, 6)) for iv in res.intervals]
    assert got == [("mutual", 5, 6, 1.0, 3.0), ("one-way", 7, 5, 3.5, 5.0)]
    assert res.intervals[0].n_frames == 19
    assert res.intervals[0].mean_score == pytest.approx(0.9)
    assert res.intervals[1].duration_s == pytest.approx(1.5)


def test_long_gap_splits_interval():
    tl = TimelineBuilder(min_duration=0.2, max_gap=0.3)
    scenario(tl, gap_frames=5)  # 0.5 s hole > max_gap
    mutual = [iv for iv in tl.finish().intervals if iv.kind == "mutual"]
    assert [(iv.start_s, round(iv.end_s, 6)) for iv in mutual] == [(1.0, 2.0), (2.5, 3.0)]


def test_per_person_totals():
    tl = TimelineBuilder(min_duration=0.2, max_gap=0.3)
    scenario(tl)
    p = tl.finish().people
    assert p[5].visible_s == pytest.approx(6.0)
    assert p[6].mutual_s == pytest.approx(1.9)  # 19 frames of 0.1 s
    assert p[7].looking_s == pytest.approx(1.5)
    assert p[5].looked_at_s == pytest.approx(1.9 + 1.5)
    assert p[7].looked_at_s == pytest.approx(0.1)  # the short glance counts in totals
    assert (p[5].n_mutual, p[5].n_looked_at, p[7].n_looking) == (1, 1, 1)


def test_given_mutual_mask_and_invalid_people():
    tl = TimelineBuilder(min_duration=0.0)
    a = np.array([[0, 0.9], [0.2, 0]])
    tl.add(0.0, [1, 2], a, mutual=[[False, True], [True, False]])
    tl.add(0.1, [1, 2], a, valid=[True, False])  # invalid person 2: nothing
    res = tl.finish()
    assert [(iv.kind, iv.n_frames) for iv in res.intervals] == [("mutual", 1)]
    with pytest.raises(ValueError):
        tl.add(0.05, [1, 2], a)


def test_csv_and_png(tmp_path):
    tl = TimelineBuilder()
    scenario(tl)
    res = tl.finish()
    paths = res.write_csv(tmp_path / "tl.csv")
    rows = list(csv.DictReader(open(paths[0])))
    assert [r["kind"] for r in rows] == ["mutual", "one-way"]
    assert float(rows[1]["duration_s"]) == pytest.approx(1.5)
    people = list(csv.DictReader(open(paths[1])))
    assert [int(r["track_id"]) for r in people] == [5, 6, 7]
    png = res.plot(tmp_path / "tl.png")
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape[1] == 1000
    # the mutual-gaze green is present
    green = (img[..., 1] > 150) & (img[..., 0] < 100) & (img[..., 2] < 100)
    assert green.sum() > 1000
    assert res.to_dict()["intervals"][0]["kind"] == "mutual"


def test_empty_timeline_plots(tmp_path):
    res = TimelineBuilder().finish()
    assert len(res) == 0
    assert (tmp_path / "e.png").exists() is False
    res.plot(tmp_path / "e.png")
    assert (tmp_path / "e.png").stat().st_size > 0
