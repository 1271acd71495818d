#!/usr/bin/env bash
# Stage 5's curves against the step (issue 42's λ3 probe): every snapshot of td3_pave[lambda3=0.1] and [lambda3=1],
# seed 1, that exists under results/walker2d_v5/work, evaluated as study_figures.sh evaluates stage 1's (10
# deterministic episodes, sm over the first 200 steps beside sm), into curves_lambda3.csv; run again as snapshots
# appear (at 0, 40000, 80000, 120000, 160000 steps, and the final 200000 once the run has its record), so the
# curve lands before the run ends.
# Compare with curves_td3.csv (td3 and td3_pave seeds 1-3 at the same steps). Run from the repo root.
set -euo pipefail
here=results/walker2d_v5 py=${PYTHON:-python}
mapfile -t snaps < <(ls $here/work/Walker2d-v5/td3_pave+lambda3=*/seed1/runs/*/*_step*.pt)
for record in $here/records/Walker2d-v5/td3_pave+lambda3=*/seed1.json; do  # a run with its record: its final policy
  [ -e "$record" ] && method=$(basename "$(dirname "$record")") && snaps+=($here/work/Walker2d-v5/$method/seed1/runs/*/$method.pt)
done
$py eval_smoothness.py "${snaps[@]}" --episodes 10 --sm-window 200 --no-plots --out-dir /tmp/lambda3_curves
cp /tmp/lambda3_curves/eval.csv $here/curves_lambda3.csv
