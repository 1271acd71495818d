#!/usr/bin/env bash
# Issue 31 on Walker2d-v5, the paper's flagship and the environment of td3_pave.py's and sac_pave.py's defaults:
# the paper's Walker2d settings (benchmarks/paper_settings.toml) at 200k steps (the paper trains 1M; 10000 warm-up
# steps as the paper), 10 deterministic episodes, observation noise 0.01 0.05 0.1 (sigma_base from each family's
# base at seed 1), critic metrics, snapshots at 0, 20, ..., 80% of training (for the curve against step). Stages:
#   1. td3 against td3_pave, seeds 1-3      2. sac against sac_pave, seeds 1-3      4. td3_grad, seeds 1-3
# (stage 3 of the issue is Hopper's: `bash results/hopper_v5/run.sh 4`). td3_pave.py's methods run through
# td3_pave_fast.py --compile (the same math and draws, tests/test_fast.py). Every run saves its checkpoint and resume
# state every 5000 steps, so a killed run loses minutes: run this again and each interrupted run continues from its
# resume state. Stages 1 and 2 go as one `run` (seed by seed, stage 1's runs of a seed before stage 2's), so both
# lanes stay busy while the long td3_pave runs train.
# Run from the repo root:  bash results/walker2d_v5/run.sh [STAGE...]      (default: 1 2 4, in order)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/walker2d_v5}
common=(--envs Walker2d-v5 --total-timesteps 200000 --fast --compile --checkpoint-interval 5000 --obs-noise 0.01 0.05 0.1
        --critic-metrics --workers 2 --threads 1)
early=() later=()
for s in ${*:-1 2 4}; do
  case $s in
    1) early+=(td3 td3_pave) ;;
    2) early+=(sac sac_pave) ;;
    *) later+=("$s") ;;
  esac
done
[ ${#early[@]} = 0 ] || $py benchmarks/study.py run --study "$study" --methods "${early[@]}" --seeds 1 2 3 "${common[@]}"
for s in "${later[@]}"; do
  case $s in
    4) $py benchmarks/study.py run --study "$study" --methods td3 td3_grad --seeds 1 2 3 "${common[@]}" ;;
  esac
done
$py benchmarks/study.py report "$study"
