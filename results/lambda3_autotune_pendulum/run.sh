#!/usr/bin/env bash
# Issue 46's validation on Pendulum-v1, in pieces: TD3 + PAVE with --autotune-lambda3 started from λ3 0.01 (where a
# fixed 0.01 does not hold the curvature hinge), at the settings of results/pendulum_td3's td3 and td3_pave records
# (30000 steps, the paper's Pendulum flags, td3_pave_fast.py; here --compile, the same math), so those records are
# its base (td3) and the paper's tuned λ3 (td3_pave, fixed 2.0), per seed. For each seed in $SEEDS (default 1 2 3):
# train (resume state every 5000 steps: run again after a kill and it continues), then evaluate as the records were
# (10 clean episodes from reset seeds 0-9, the critic metrics) into eval_seed<N>.csv, and the hinge and λ3 every
# 2000 steps into scalars_seed<N>.csv. Run from the repo root:  SEEDS="1" bash results/lambda3_autotune_pendulum/run.sh
set -euo pipefail
here=results/lambda3_autotune_pendulum py=${PYTHON:-python} repo=$PWD
for seed in ${SEEDS:-1 2 3}; do
  work=$here/work/seed$seed && mkdir -p "$work"
  flags=(--env-id Pendulum-v1 --total-timesteps 30000 --gamma 0.98 --buffer-size 200000 --lambda1 2.0 --lambda2 0.005
         --lambda3 0.01 --autotune-lambda3 --seed "$seed" --exp-name autotune --checkpoint-interval 5000 --compile)
  run=$(ls -d "$work"/runs/*/ 2>/dev/null | tail -1 || true)
  if [ -n "$run" ] && [ -f "$run/autotune.resume.pt" ]; then
    (cd "$work" && OMP_NUM_THREADS=1 $py "$repo/td3_pave_fast.py" --resume "runs/$(basename "$run")" --compile)
  else
    (cd "$work" && OMP_NUM_THREADS=1 $py "$repo/td3_pave_fast.py" "${flags[@]}")
  fi
  run=$(ls -d "$work"/runs/*/ | tail -1)
  OMP_NUM_THREADS=1 $py eval_smoothness.py "$run/autotune.pt" --episodes 10 --critic-metrics --no-plots \
    --out-dir "$work/eval" > /dev/null
  cp "$work/eval/eval.csv" "$here/eval_seed$seed.csv"
  $py - "$run" "$here/scalars_seed$seed.csv" <<'PY'
import csv, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
events = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0}).Reload()
with open(sys.argv[2], "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["tag", "step", "mean"])
    for tag in ("losses/curv", "losses/lambda3"):
        points = events.Scalars(tag)
        for end in range(2000, 30001, 2000):
            window = [p.value for p in points if end - 2000 < p.step <= end]
            if window:
                out.writerow([tag, end, f"{sum(window) / len(window):.6g}"])
PY
done
