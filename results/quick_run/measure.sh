#!/usr/bin/env bash
# README "A first run": the wall time of each of its commands, one at a time, on one torch thread, as written
# (the trainings one after the other, not side by side), in a scratch folder. time.log is its output of 2026-12-05
# on this project's 2-core machine (run from a copy in /tmp) while both cores trained Walker2d-v5 (issue 31), so each
# command shared the two cores with two other trainings. Its third command there was the evaluation the README
# wrote before (`runs/ --obs-noise 0.1`); the last line, the evaluation as the README writes it now, was timed
# the same way right after. eval.csv and eval_console.txt are that last evaluation's (seed 1: the two final
# checkpoints and their step snapshots). Run from the repo root:  bash results/quick_run/measure.sh
set -u
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
repo=$(pwd) work=${WORK:-/tmp/quick_run} py=${PYTHON:-python} log=$repo/results/quick_run/time.log
rm -rf "$work" && mkdir -p "$work" && cd "$work"
lscpu | grep "Model name" > "$log"
$py -c "import torch; print('torch', torch.__version__, 'threads', torch.get_num_threads())" >> "$log"
t() {  # run one command, append its wall time and the load average to the log
  local start=$(date +%s.%N)
  echo "START $(date -u +%T) $*" >> "$log"
  "$@" > "log_$(date +%s).txt" 2>&1
  echo "rc $? wall $($py -c "print(round($(date +%s.%N) - $start, 1))") s  END $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
}
t $py "$repo/td3_pave.py" --env-id Pendulum-v1 --total-timesteps 30000 --gamma 0.98 --buffer-size 200000 --lambda1 0 --lambda2 0 --lambda3 0 --exp-name td3
t $py "$repo/td3_pave_fast.py" --env-id Pendulum-v1 --total-timesteps 30000 --gamma 0.98 --buffer-size 200000 --lambda1 2.0 --lambda2 0.005 --lambda3 2.0 --exp-name td3_pave
t $py "$repo/eval_smoothness.py" runs/
cp eval/eval.csv "$repo/results/quick_run/eval.csv"
echo DONE >> "$log"
