#!/usr/bin/env bash
# README "A first run", timed as a user runs it: its command block, read from README.md as written (both trainings
# side by side, then the evaluation), in a scratch folder, each `python FILE ...` line timed on its own and the
# whole block from start to end. Measure on a quiet machine: every other training paused (SIGSTOP, logged in its
# study's pauses.md) or none running; the log's first lines say the CPU, torch and its default threads (before the
# block's own setting) and the load before.
# time.log is its output; eval.csv and eval_console.txt are the block's evaluation (seed 1: the two final
# checkpoints and their step snapshots). time_30000.log, eval_30000.csv and eval_console_30000.txt are the same for
# the block at 30000 steps, time_eager.log at 30000 steps without --compile (all 2026-12-05, this machine).
# Run from the repo root:  bash results/quick_run/measure.sh
set -u
repo=$(pwd) work=${WORK:-/tmp/quick_run} py=${PYTHON:-python} log=$(pwd)/results/quick_run/time.log
block=$(awk '/^## A first run/ {on = 1; next} on && /^#/ {exit} on && /^    [^ ]/ {sub(/^    /, ""); print}' README.md)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
{
  lscpu | grep "Model name"
  echo "cores $(nproc)"
  $py -c "import torch; print('torch', torch.__version__, 'threads', torch.get_num_threads())"
  echo "load before $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$log"
seconds_since() { $py -c "print(round($(date +%s.%N) - $1, 1))"; }
python() {  # one line of the block: the file from the repo, its output in log_FILE.txt, its wall time in the log
  local start=$(date +%s.%N) at=$(date -u +%T)
  "$py" "$repo/$1" "${@:2}" > "log_$1.txt" 2>&1
  local rc=$?
  echo "rc $rc wall $(seconds_since "$start") s START $at END $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" \
    "| python $*" >> "$log"
}
start=$(date +%s.%N)
eval "$block"
echo "block wall $(seconds_since "$start") s" >> "$log"
cp eval/eval.csv "$repo/results/quick_run/eval.csv"
cp log_eval_smoothness.py.txt "$repo/results/quick_run/eval_console.txt"
