#!/usr/bin/env bash
# Issue 20 on Hopper-v5: does PAVE smooth a locomotion policy? The paper's Hopper settings
# (benchmarks/paper_settings.toml) at 200k steps (the paper trains 1M; 10000 warm-up steps as the paper), 10
# deterministic episodes, observation noise 0.01 0.05 0.1 (sigma_base from each family's base at seed 1), critic
# metrics, snapshots at 0, 20, ..., 80% of training (for the curve against step). In stages, in this order:
#   1. td3 against td3_pave, seeds 1-3      2. sac against sac_pave, seeds 1-3
#   3. td3_grad and td3_caps, seeds 1-3     4. seeds 4-5 of stage 1
# td3_pave.py's methods run through td3_pave_fast.py --compile (the same math and draws, tests/test_fast.py). Every run saves its checkpoint and resume state every 5000 steps, so a
# killed run loses minutes: run this again and each interrupted run continues from its resume state.
# Run from the repo root:  bash results/hopper_v5/run.sh [STAGE...]      (default: all stages, in order)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/hopper_v5}
common=(--envs Hopper-v5 --total-timesteps 200000 --fast --compile --checkpoint-interval 5000 --obs-noise 0.01 0.05 0.1
        --critic-metrics --workers 2 --threads 1)
early=() later=()
for s in ${*:-1 2 3 4}; do
  case $s in
    1) early+=(td3 td3_pave) ;;
    2) early+=(sac sac_pave) ;;
    *) later+=("$s") ;;
  esac
done
# Stages 1 and 2 share their seeds and go as one `run`, so that both lanes stay busy while the last run of stage 1
# trains (run goes seed by seed, and within a seed in this order: stage 1's runs of a seed before stage 2's).
[ ${#early[@]} = 0 ] || $py benchmarks/study.py run --study "$study" --methods "${early[@]}" --seeds 1 2 3 "${common[@]}"
for s in "${later[@]}"; do
  case $s in
    3) $py benchmarks/study.py run --study "$study" --methods td3 td3_grad td3_caps --seeds 1 2 3 "${common[@]}" ;;
    4) $py benchmarks/study.py run --study "$study" --methods td3 td3_pave --seeds 4 5 "${common[@]}" ;;
  esac
done
$py benchmarks/study.py report "$study"
