#!/usr/bin/env bash
# A locomotion study in stages (results/hopper_v5/run.sh, results/walker2d_v5/run.sh): the paper's settings for
# ENV_ID (benchmarks/paper_settings.toml) at 200k steps (the papers train 1M; 10000 warm-up steps as the paper), 10
# deterministic episodes, observation noise 0.01 0.05 0.1 (sigma_base from each family's base at seed 1), critic
# metrics, snapshots at 0, 20, ..., 80% of training (for the curve against step), two 1-thread lanes. Stages:
#   1. td3 against td3_pave, seeds 1-3      2. sac against sac_pave, seeds 1-3
#   3. the TD3 baselines ($BASELINES, default td3_grad td3_caps), seeds 1-3      4. seeds 4-5 of stage 1
#   5. td3_pave's lambda3 at the values of $LAMBDA3_SWEEP (e.g. 0.1,1), seed 1, beside stage 1's td3 and td3_pave
#      (a first look where the paper's lambda3 does not hold the curvature hinge: docs/walker2d.md)
#   6. td3_pave at lambda3 $LAMBDA3_CONFIRM (the value stage 5 found, e.g. 1), seeds 2-3: is it so on every seed?
# WORKERS (default 2): how many runs train at once (1 where a lane is all there is).
# td3_pave.py's methods run through td3_pave_fast.py --compile (the same math and draws, tests/test_fast.py). Every
# run saves its checkpoint and resume state every 5000 steps, so a killed run loses minutes: run this again and each
# interrupted run continues from its resume state. Stages 1 and 2 share their seeds and go as one `run`, so that
# both lanes stay busy while the last run of stage 1 trains (run goes seed by seed, and within a seed stage 1's
# runs before stage 2's). Ends with the study's report.
# Run from the repo root:  bash benchmarks/study_stages.sh STUDY_DIR ENV_ID STAGE...     (PYTHON: the interpreter)
set -uo pipefail
study=${1:?usage: benchmarks/study_stages.sh STUDY_DIR ENV_ID STAGE...} env=${2:?usage: benchmarks/study_stages.sh STUDY_DIR ENV_ID STAGE...}
shift 2
py=${PYTHON:-python}
run() {  # methods, then --seeds ...
  $py benchmarks/study.py run --study "$study" --envs "$env" --total-timesteps 200000 --fast --compile \
    --checkpoint-interval 5000 --obs-noise 0.01 0.05 0.1 --critic-metrics --workers "${WORKERS:-2}" --threads 1 --methods "$@"
}
early=()
for s in "$@"; do
  case $s in
    1) early+=(td3 td3_pave) ;;
    2) early+=(sac sac_pave) ;;
    3 | 4) ;;
    5) [ -n "${LAMBDA3_SWEEP:-}" ] || { echo "benchmarks/study_stages.sh: stage 5 needs LAMBDA3_SWEEP=V1,V2,..." >&2 && exit 2; } ;;
    6) [ -n "${LAMBDA3_CONFIRM:-}" ] || { echo "benchmarks/study_stages.sh: stage 6 needs LAMBDA3_CONFIRM=V" >&2 && exit 2; } ;;
    *) echo "benchmarks/study_stages.sh: no stage $s (1 to 6)" >&2 && exit 2 ;;
  esac
done
[ ${#early[@]} = 0 ] || run "${early[@]}" --seeds 1 2 3
for s in "$@"; do
  case $s in
    3) run td3 ${BASELINES:-td3_grad td3_caps} --seeds 1 2 3 ;;
    4) run td3 td3_pave --seeds 4 5 ;;
    5) run td3 td3_pave --seeds 1 --vary "lambda3=$LAMBDA3_SWEEP" ;;
    6) run td3 td3_pave --seeds 2 3 --vary "lambda3=$LAMBDA3_CONFIRM" ;;
  esac
done
$py benchmarks/study.py report "$study"
