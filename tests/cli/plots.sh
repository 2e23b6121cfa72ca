#!/usr/bin/env bash
# tools/plot_run.py: the figures' labels, titles and loss terms (check_plots.py), then the
# script itself on a run folder. Needs the project's venv (tools/bootstrap.sh); skips without it.
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
python=${LOCDET_PYTHON:-$here/../../.venv/bin/python}
if ! "$python" -c "import matplotlib" 2>/dev/null; then
  echo "SKIP: no matplotlib in $python (run tools/bootstrap.sh)"
  exit 77
fi
"$python" "$here/check_plots.py" || failures=$((failures + 1))
mkdir -p "$WORK/my-run"
cat >"$WORK/my-run/metrics.jsonl" <<'JSONL'
{"kind": "train", "epoch": 1, "step": 10, "loss": 1.5, "class_loss": 1.0, "box_loss": 0.5}
{"kind": "val", "epoch": 1, "step": 10, "map": 0.2, "map50": 0.5, "map75": 0.1}
JSONL
echo '{"map": 0.2, "classes": [0, 1], "confusion_matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 0]]}' >"$WORK/my-run/eval.json"
"$python" "$here/../../tools/plot_run.py" "$WORK/my-run" >"$WORK/stdout" 2>&1 || failures=$((failures + 1))
check "plot_run.py writes the loss, AP and confusion plots" test -s "$WORK/my-run/plots/loss.png" -a \
  -s "$WORK/my-run/plots/map.png" -a -s "$WORK/my-run/plots/confusion_matrix.png"
finish
