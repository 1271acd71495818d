#!/usr/bin/env bash
# Validation of the speed mode --pave-every 4 (PAVE terms on every 4th critic update, lambdas x4) against
# full-fidelity PAVE and plain TD3, 3 seeds each, evaluated with eval_smoothness.py.
#  - Pendulum-v1: the paper's TD3 Pendulum config, 30000 steps (as results/pendulum_td3_pave). The base and
#    full-PAVE checkpoints are those of results/pendulum_td3_pave/run.sh (same config and seeds), passed in
#    PENDULUM_REFERENCE (its /tmp/pendulum_td3_pave/runs); only the --pave-every 4 runs are trained here.
#  - Reacher-v5: the paper's TD3 Reacher lambdas (0.1, 0.1, 0.01) at a reduced budget: 20000 steps,
#    5000 of them warm-up. All three groups are trained here.
# (--pave-every 1, the paper's estimator, is spelled out; it is the default again, after a release that made 4 the default.)
# Two training lanes, one thread each. Run from the repo root:  bash results/pave_every/run.sh
set -euo pipefail
repo=$(pwd) work=/tmp/pave_every py="${PYTHON:-python}"
reference=${PENDULUM_REFERENCE:-/tmp/pendulum_td3_pave/runs}
rm -rf "$work" && mkdir -p "$work/pendulum" "$work/reacher"
train() {  # env dir name seed extra-flags...
  local env=$1 dir=$2 name=$3 seed=$4; shift 4
  (cd "$work/$dir" && OMP_NUM_THREADS=1 $py "$repo/td3_pave.py" --env-id "$env" --checkpoint-interval 0 \
    --exp-name "$name" --seed "$seed" "$@" > "${name}_$seed.log" 2>&1)
}
pendulum=(--total-timesteps 30000 --gamma 0.98 --buffer-size 200000 --lambda1 2.0 --lambda2 0.005 --lambda3 2.0)
reacher=(--total-timesteps 20000 --learning-starts 5000 --lambda1 0.1 --lambda2 0.1 --lambda3 0.01)
(for seed in 1 2 3; do train Reacher-v5 reacher full "$seed" "${reacher[@]}" --pave-every 1; done) &
(for seed in 1 2 3; do train Pendulum-v1 pendulum every4 "$seed" "${pendulum[@]}" --pave-every 4; done
 for seed in 1 2 3; do train Reacher-v5 reacher every4 "$seed" "${reacher[@]}" --pave-every 4; done
 for seed in 1 2 3; do train Reacher-v5 reacher base "$seed" "${reacher[@]}" --pave-every 1 --lambda1 0 --lambda2 0 --lambda3 0; done) &
wait
cd "$repo"
$py eval_smoothness.py "$reference" "$work/pendulum/runs" --episodes 10 --obs-noise 0.05 --critic-metrics \
  --out-dir results/pave_every/pendulum | tee results/pave_every/pendulum_console.txt
$py eval_smoothness.py "$work/reacher/runs" --episodes 10 --obs-noise 0.05 --critic-metrics \
  --out-dir results/pave_every/reacher | tee results/pave_every/reacher_console.txt
