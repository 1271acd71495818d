#!/usr/bin/env bash
# README "A first run" (an earlier release's evaluation at its budget): TD3 base vs TD3 + PAVE on Pendulum-v1 with the paper's TD3 Pendulum config
# (gamma 0.98, buffer 2e5; PAVE lambdas 2.0, 0.005, 2.0), seeds 1-3, STEPS steps each, then
# eval_smoothness.py on all six checkpoints. Full-fidelity PAVE (--pave-every 1, the default when these
# ran). Two training lanes run side by side, one thread each.
# Run from the repo root:  STEPS=30000 bash results/pendulum_td3_pave/run.sh
set -euo pipefail
repo=$(pwd) steps=${STEPS:-30000} work=/tmp/pendulum_td3_pave py="${PYTHON:-python}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
train() {  # name seed lambda1 lambda2 lambda3
  OMP_NUM_THREADS=1 $py "$repo/td3_pave.py" --env-id Pendulum-v1 --total-timesteps "$steps" --gamma 0.98 \
    --buffer-size 200000 --checkpoint-interval 0 --pave-every 1 --exp-name "$1" --seed "$2" --lambda1 "$3" --lambda2 "$4" --lambda3 "$5" \
    > "$1_$2.log" 2>&1
}
(train pave 1 2.0 0.005 2.0; train pave 2 2.0 0.005 2.0) &
(train pave 3 2.0 0.005 2.0; for seed in 1 2 3; do train base "$seed" 0 0 0; done) &
wait
cd "$repo"
$py eval_smoothness.py "$work/runs" --episodes 10 --obs-noise 0.01 0.05 0.1 --critic-metrics --plot-field \
  --out-dir results/pendulum_td3_pave | tee results/pendulum_td3_pave/eval_console.txt
