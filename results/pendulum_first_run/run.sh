#!/usr/bin/env bash
# Issue 35: the README's first run wants the smallest Pendulum-v1 budget at which TD3 + PAVE is already smoother than
# plain TD3 on every seed. The README's two trainings (the paper's Pendulum settings) as a study at 30000 steps,
# seeds 1-5, 1-thread lanes, both through td3_pave_fast.py --compile as every --fast study runs td3_pave.py's methods
# (the same math and draws as td3_pave.py, which the README's TD3 line runs); each run keeps
# its snapshots at 0, 6000, 12000, 18000 and 24000 steps, whose weights are those of a run with that budget (nothing
# in td3_pave.py depends on --total-timesteps but the loop's end). Then every snapshot and final checkpoint is
# evaluated as the README's evaluation does (10 episodes): snapshots.csv, which tests/test_readme.py reads; and the
# curvature hinge's curve out of the event files (scalars.csv, 2000-step windows), which the README's "Choosing the
# weights" quotes.
# Run from the repo root:  bash results/pendulum_first_run/run.sh      (again after an interruption: it continues)
set -euo pipefail
py=${PYTHON:-python} study=${STUDY:-results/pendulum_first_run}
$py benchmarks/study.py run --study "$study" --envs Pendulum-v1 --methods td3 td3_pave --seeds 1 2 3 4 5 \
  --total-timesteps 30000 --fast --compile --checkpoint-interval 5000 --workers "${WORKERS:-2}" --threads 1
$py benchmarks/study.py report "$study"
out=${OUT:-/tmp/pendulum_first_run_eval}
$py eval_smoothness.py "$study"/work/Pendulum-v1/{td3,td3_pave}/seed*/runs/ --episodes 10 --out-dir "$out"
cp "$out/eval.csv" "$study/snapshots.csv"
$py benchmarks/study_scalars.py "$study" --every 2000 --tags losses/curv charts/action_oscillation
