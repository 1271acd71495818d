#!/usr/bin/env bash
# Issue 23: does TD3 + PAVE beat a base policy whose actions are simply low-passed at deployment? On Pendulum-v1 with
# the paper's settings at 30k steps (as results/pendulum_td3): td3, td3_pave and td3_caps, seeds 1-3, trained through
# benchmarks/study.py (two 1-thread lanes), then every checkpoint evaluated with eval_smoothness.py, the base also
# under an EMA on its actions at beta 0.3, 0.5, 0.7, 0.9 (the issue's) and 0.8 (where the return breaks down on
# Pendulum: between 0.7 and 0.9), with and without observation noise.
# Run from the repo root:  bash results/action_filter/run.sh      (again after an interruption: it continues)
# STUDY=DIR and OUT=DIR put the study and the evaluation elsewhere (e.g. when run from a worktree of main).
set -euo pipefail
py=${PYTHON:-python} study=${STUDY:-results/action_filter/study} out=${OUT:-results/action_filter}
$py benchmarks/study.py run --study "$study" --methods td3 td3_pave td3_caps --envs Pendulum-v1 --seeds 1 2 3 \
  --total-timesteps 30000 --fast --obs-noise 0.01 0.05 0.1 --workers 2 --threads 1
$py benchmarks/study.py report "$study"
ckpts=()
for m in td3 td3_pave td3_caps; do
  for s in 1 2 3; do ckpts+=("$(ls "$study"/work/Pendulum-v1/$m/seed$s/runs/*/$m.pt)"); done
done
# the base with the filter; PAVE and CAPS without (their filtered groups are written too, for completeness)
$py eval_smoothness.py "${ckpts[@]}" --action-filter 0.3 0.5 0.7 0.8 0.9 --obs-noise 0.01 0.05 0.1 \
  --noise-reference "${ckpts[0]}" --out-dir "$out"
