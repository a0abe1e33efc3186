#!/bin/bash
# Every output of the README's examples, for checking that a refactoring changes no byte:
#
#   tools/golden.sh <venv bin dir> <out dir>      e.g. tools/golden.sh .venv/bin /tmp/after
#   diff -r /tmp/before /tmp/after                 (run it on both trees; must print nothing)
#
# demo; predict (default, --precise, blazeface, keypoints-only .npy, a video, a bad path);
# interact (hhpnet, paper); video (CSV, Parquet, JSON Lines, annotated mp4, timeline CSV/PNG,
# stride/max-frames). The input clip and keypoints are generated from the bundled example
# (the same bytes for a given OpenCV), timings and the examples' folder are masked.
set -u
B=$(cd "$1" && pwd); mkdir -p "$2"; O=$(cd "$2" && pwd); rm -rf "${O:?}"/*
EX=$(dirname "$("$B/python" -c 'import hhpnet; print(hhpnet.__file__)')")/examples
IN=$O/_inputs; mkdir -p "$IN"
"$B/python" - "$EX" "$IN" <<'PY'
import sys, cv2, numpy as np
ex, dest = sys.argv[1], sys.argv[2]
img = cv2.imread(f"{ex}/pair_640x480.jpg")
h, w = img.shape[:2]
out = cv2.VideoWriter(f"{dest}/clip.mp4", cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
for k in range(40):  # the pair drifting sideways
    m = np.float32([[1, 0, int(20 * np.sin(k / 6))], [0, 1, 0]])
    out.write(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT))
out.release()
rng = np.random.default_rng(0)
kp = np.zeros((3, 17, 3), np.float32)
base = np.array([[320, 200], [330, 190], [310, 190], [345, 195], [295, 195]], np.float32)
for i in range(3):
    kp[i, :5, :2] = base + rng.normal(0, 3, (5, 2)) + [i * 100 - 100, 0]
    kp[i, :5, 2] = 0.9
np.save(f"{dest}/kp.npy", kp)
PY
cd "$O" || exit 1
run() { local name=$1; shift; "$B/hhpnet" "$@" > "$name.out" 2>&1; echo "$name rc=$?" >> rc.txt; }
run demo demo --out demo
run p predict "$EX"/*.jpg --json p.jsonl --csv p.csv --save-dir pvis
run pp predict "$EX/pair_640x480.jpg" "$EX/astronaut.jpg" --precise --json pp.jsonl --csv pp.csv
run pb predict "$EX"/*.jpg --detector blazeface --json pb.jsonl
run i interact "$EX"/*.jpg --json i.jsonl --csv i.csv --save-dir ivis
run ip interact "$EX/pair_640x480.jpg" --method paper --json ip.jsonl
run v video "$IN/clip.mp4" --csv v.csv --parquet v.parquet --json v.jsonl --timeline-csv t.csv \
    --timeline-png t.png --save-video v.mp4 --no-progress
run vs video "$IN/clip.mp4" --csv vs.csv --stride 2 --max-frames 10 --no-progress
run pv predict "$IN/clip.mp4" --csv pv.csv --json pv.jsonl
"$B/hhpnet" predict --keypoints "$IN/kp.npy" --layout coco17 > pk.jsonl 2> pk.err
echo "pk rc=$?" >> rc.txt
run bad predict /nonexistent.jpg
rm -rf "$IN"
sed -i -E 's/[0-9]+(\.[0-9]+)? ?(ms|s|fps|frames\/s)\b/<T>/g' ./*.out
grep -rlI -e "$EX" -e "$O" . | xargs -r sed -i -e "s#$EX#<EX>#g" -e "s#$O#<OUT>#g"
cat rc.txt
