#!/usr/bin/env bash
# README "Results": a first learning check of the SAC baselines (issue 11). Pendulum-v1, the paper's SAC
# configuration (gamma 0.99, buffer 1e6, 10000 warm-up steps, 50 env steps then 50 updates, alpha 0.2) with each
# method's Pendulum weights from the authors' code, 30000 steps, seeds 1-3; then eval_smoothness.py on all 15
# checkpoints (10 deterministic episodes each, reset seeds 0-9). Two training lanes, one thread each.
# Run from the repo root:  bash results/sac_baselines_pendulum/run.sh
set -euo pipefail
repo=$(pwd) steps=${STEPS:-30000} work=${WORK:-/tmp/sac_baselines_pendulum} py="${PYTHON:-python}"
mkdir -p "$work" && cd "$work"
train() {  # file name seed flags...
  local file=$1 name=$2 seed=$3; shift 3
  if ls runs/Pendulum-v1__"$name"__"$seed"__*/"$name".pt > /dev/null 2>&1; then return; fi  # done before: resume in pieces
  OMP_NUM_THREADS=1 $py "$repo/$file" --env-id Pendulum-v1 --total-timesteps "$steps" --checkpoint-interval 0 \
    --exp-name "$name" --seed "$seed" "$@" > "${name}_$seed.log" 2>&1
}
(for seed in 1 2 3; do train sac_pave.py sac_pave "$seed" --lambda1 0.1 --lambda2 0.005 --lambda3 0.5; done
 for seed in 1 2 3; do train sac_pave.py sac "$seed" --lambda1 0 --lambda2 0 --lambda3 0; done) &
(for seed in 1 2 3; do train sac_caps.py sac_caps "$seed" --lambda-t 1.0 --lambda-s 5.0; done
 for seed in 1 2 3; do train sac_grad.py sac_grad "$seed" --lambda-t 1.0; done
 for seed in 1 2 3; do train sac_asap.py sac_asap "$seed" --lambda-p 2.0 --lambda-s 5.0 --lambda-t 0.5; done) &
wait
cd "$repo"
$py eval_smoothness.py "$work/runs" --episodes 10 --critic-metrics --out-dir results/sac_baselines_pendulum \
  | tee results/sac_baselines_pendulum/eval_console.txt
