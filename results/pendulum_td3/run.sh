#!/usr/bin/env bash
# Issue 14 on Pendulum-v1, TD3 family: the paper's Table 1 row (td3, td3_pave, td3_caps, td3_grad, td3_asap),
# its Table 3 noise levels and critic metrics, then the Table 4 ablation rows (td3_mpr, td3_mpr_vfc; the td3 and
# td3_pave runs are shared). Seeds 1-5, 30k steps (the paper trains 100k; TD3 has converged on Pendulum by 20k).
# td3_pave.py's methods run through td3_pave_fast.py (--fast: the same math and draws). Two 1-thread lanes.
# The committed records: the Table 1 row and the ablation's seed 5 ran here as below; the ablation's seeds 1-4 ran on
# the CPUs of a lent 16-core machine (--methods td3 td3_mpr td3_mpr_vfc --seeds 1 2 3 4 --workers 8, torch 2.11.0).
# Run from the repo root:  bash results/pendulum_td3/run.sh      (again after an interruption: it continues)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/pendulum_td3}
common=(--envs Pendulum-v1 --seeds 1 2 3 4 5 --total-timesteps 30000 --fast --obs-noise 0.01 0.05 0.1
        --critic-metrics --workers 2 --threads 1)
$py benchmarks/study.py run --study "$study" --methods td3 td3_pave td3_caps td3_grad td3_asap "${common[@]}"
$py benchmarks/study.py run --study "$study" --methods td3 td3_mpr td3_mpr_vfc td3_pave "${common[@]}"
$py benchmarks/study.py report "$study"
