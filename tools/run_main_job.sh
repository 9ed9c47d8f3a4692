#!/usr/bin/env bash
# The main job: T2 fine-tuned on the embedded night sample from the plain
# detector pretrained on the day corpus (checkpoints/, see
# configs/pretrain/README.md), evaluated on its test split (AP@0.5 overall,
# per class, per lighting type), then decomposition panels of test images.
#   bash tools/install.sh && bash tools/run_main_job.sh
# Under 10 minutes on 2 idle CPU cores (the measured time is in README.md; on
# a busy machine it uses one OpenMP thread, see below; set OMP_NUM_THREADS to
# override). Outputs: data/night_sample/ (the generated sample and its day
# twins) and work_dirs/<config>/ (log, checkpoint, test/lighting_eval_test.json
# with the AP breakdown, panels/).
# Environment: PYTHON (default .venv/bin/python), CONFIG (default: the T2
# sample config), WORK_DIR (default work_dirs/<config stem>).
# Re-running resumes an interrupted training from its latest checkpoint.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
CONFIG=${CONFIG:-configs/t2/t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py}
STEM=$(basename "$CONFIG" .py)
WORK_DIR=${WORK_DIR:-work_dirs/$STEM}
DATA=data/night_sample
START=$(date +%s)

STEP="start"
step() {
  STEP="$1"
  printf '\n[main job] step %s  (%s, %ds elapsed)\n' "$1" "$(date +%H:%M:%S)" \
    $(( $(date +%s) - START ))
}
trap 'printf "\n[main job] FAILED at step: %s (see the messages above)\n" "$STEP" >&2' ERR

# Two OpenMP threads per process are faster on idle cores but many times
# slower when other jobs compete for them (measured: ~51 s vs ~3.5 s per
# iteration on a busy 2-core machine), so use one thread on a busy machine.
# "Busy" is the CPU use of the last second, from /proc/stat: the 1-minute
# load average still counts a build that has just finished (a fresh
# install fell back to one thread and took 697 s instead of 466-519 s).
cpu_busy_share() {
  local a b
  read -r -a a < /proc/stat
  sleep 1
  read -r -a b < /proc/stat
  awk -v u="$(( b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7] ))" \
      -v i="$(( b[4] + b[5] - a[4] - a[5] ))" \
      'BEGIN { t = u + i; printf "%.2f", (t > 0 ? u / t : 0) }'
}
if [ -z "${OMP_NUM_THREADS:-}" ] && [ -r /proc/stat ]; then
  BUSY=$(cpu_busy_share)
  if awk -v b="$BUSY" 'BEGIN { exit !(b > 0.5) }'; then
    export OMP_NUM_THREADS=1
    echo "[main job] machine busy (CPU ${BUSY} in use over the last second): OMP_NUM_THREADS=1"
  fi
fi

if [ ! -x "$PYTHON" ]; then
  echo "[main job] $PYTHON not found: run 'bash tools/install.sh' first (or set PYTHON)" >&2
  exit 1
fi

step "1/5: generate the embedded night sample (raw ExDark layout) in $DATA"
"$PYTHON" tools/misc/make_night_sample.py "$DATA"

step "2/5: convert it (night images and their day twins) with the ExDark converter"
"$PYTHON" tools/dataset_converters/exdark.py "$DATA" "$DATA"
"$PYTHON" tools/dataset_converters/exdark.py "$DATA/day" "$DATA/day"

step "3/5: train $CONFIG (progress and ETA every 5 iterations)"
RESUME=()
if [ -f "$WORK_DIR/last_checkpoint" ]; then
  RESUME=(--resume)
  echo "[main job] resuming from $(cat "$WORK_DIR/last_checkpoint")"
fi
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${RESUME[@]}"

step "4/5: evaluate on the test split"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
"$PYTHON" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test"

step "5/5: decomposition and detection panels of test images"
# one test image of each lighting type (the first in the test split)
mapfile -t PANEL_IMAGES < <("$PYTHON" -c '
import json, sys
images = json.load(open(sys.argv[1] + "/annotations/exdark_test.json"))["images"]
seen = {}
for image in images:
    seen.setdefault(image.get("light_name"), image["file_name"])
print("\n".join(sys.argv[1] + "/" + name for name in seen.values()))
' "$DATA")
"$PYTHON" tools/analysis_tools/vis_decomposition.py "$CONFIG" "$CHECKPOINT" \
  "${PANEL_IMAGES[@]}" --out-dir "$WORK_DIR/panels"

printf '\n[main job] done in %ds. Checkpoint: %s\n' $(( $(date +%s) - START )) "$CHECKPOINT"
printf '[main job] AP@0.5 overall, per class, per lighting type (JSON): %s\n' \
  "$(ls "$WORK_DIR"/test/lighting_eval_test.json 2>/dev/null || ls -t "$WORK_DIR"/test/*/*.json | head -1)"
printf '[main job] panels (input, illumination, reflectance, detections): %s/\n' "$WORK_DIR/panels"
