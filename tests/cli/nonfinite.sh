#!/usr/bin/env bash
# Non-finite loss: a run that blows up stops with a message naming the step and the last
# good checkpoint, exits non-zero, and leaves every checkpoint as it was.
source "$(dirname "$0")/common.sh"
need train_gpu
need_mnist

run=$WORK/run
"$BIN/train_gpu" --out "$run" "${TINY[@]}" --epochs 1 --steps-per-epoch 4 >"$WORK/train.log" 2>&1 ||
  { cat "$WORK/train.log"; echo "FAIL: the first epoch failed"; exit 1; }
# Continue for one more epoch at a learning rate of 1e30 (config.json is what --resume reads).
python3 - "$run/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["epochs"] = 2
c["lr"] = 1e30
json.dump(c, open(path, "w"), indent=2)
PY
(cd "$run" && sha256sum ./*.safetensors) >"$WORK/ckpt.sha"
expect_failure "loss blows up at lr 1e30" 1 "the loss became" "at or before step" "training stopped" \
  "last good checkpoint is $run/checkpoint.last.safetensors" -- \
  "$BIN/train_gpu" --out "$run" --resume --device cpu --log-every 1 --test-count 16
check "checkpoints untouched" bash -c "cd '$run' && sha256sum --quiet -c '$WORK/ckpt.sha'"
check "no temporary file left behind" test -z "$(find "$run" -name '*.tmp*')"
finish
