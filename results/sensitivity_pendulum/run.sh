#!/usr/bin/env bash
# Issue 33 on Pendulum-v1: the paper's sensitivity study (Appendix B, Figure 4) for TD3 + PAVE. The paper's Pendulum
# weights (lambda1 2.0, lambda2 0.005, lambda3 2.0; benchmarks/paper_settings.toml), each weight alone at 0, 0.1x, 10x
# and 100x its value, the other two at theirs; td3 as the base line; seeds 1-3; 30000 steps, the budget of the
# Pendulum rows of results/pendulum_td3 (the paper trains 100k; TD3 has converged on Pendulum by 20k); 10 clean
# evaluation episodes and the critic metrics (the appendix reads high weights through the critic's curvature).
# td3_pave.py's methods run through td3_pave_fast.py (--fast: the same math and draws, tests/test_fast.py), as there.
# Every run saves its checkpoint and resume state every 5000 steps; run this again after an interruption and it
# continues. Runs go seed by seed (all values at seed 1 first). Two 1-thread lanes.
#
# Reused, not trained again: results/pendulum_td3 ran td3, td3_pave and td3_mpr_vfc at exactly these settings (its
# run.sh: 30000 steps, --fast, the paper's Pendulum flags; only bookkeeping flags differ, which `run` ignores). So
#   - td3 and td3_pave (the default value of every weight) are its records, copied;
#   - td3_pave[lambda3=0] is td3_mpr_vfc on Pendulum (2.0, 0.005, 0.0): its records, copied under the variant's name
#     (the copy says so in "copied_from");
#   - lambda1=0 (0, 0.005, 2.0) and lambda2=0 (2.0, 0, 2.0) match no recorded method and train.
# td3 and td3_pave ran here (torch 2.13.0, commit 8c222eb); td3_mpr_vfc on a lent 16-core machine (torch 2.11.0,
# commit 36590df): the same settings, not bit for bit what this machine would train. TRAIN_LAMBDA3_0=1 trains
# lambda3=0 here instead of copying it (3 runs, about 1 lane-hour).
# Those records were also evaluated under observation noise; the report's noise tables show those three only.
# To train: 11 values x 3 seeds = 33 runs. They run with --compile (the same math; float rounding aside), which took
# 0.66 of an eager run's wall time on Pendulum (results/quick_run/compile_bench.txt); the first run, lambda1=0 at
# seed 1, ran eager (19 min beside another training on this project's Intel Xeon; `compile` in each record says
# which), and lambda1=0.2 at seed 1 trained its first 24000-odd steps eager before it was stopped. Compiled, a run is about 12-15 min on a busy lane here: about 7 lane-hours, 3.5 hours on the two lanes.
# Ends with the report and scalars.csv / scalars_Pendulum-v1.png: the curvature hinge of every trained value (the
# copied records' runs have no event files here).
# Run from the repo root:  bash results/sensitivity_pendulum/run.sh [--dry-run]   (WORKERS=1: one lane; --dry-run: copy the reused
# records, then list every run, its command and whether it has its record; train nothing)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/sensitivity_pendulum} from=results/pendulum_td3/records/Pendulum-v1
for seed in 1 2 3; do
  pairs=(td3:td3 td3_pave:td3_pave)
  [ "${TRAIN_LAMBDA3_0:-0}" = 1 ] || pairs+=("td3_mpr_vfc:td3_pave[lambda3=0]")
  for pair in "${pairs[@]}"; do
    $py - "$from/${pair%%:*}/seed$seed.json" "$study" "${pair#*:}" <<'PY' || exit 1
import json, os, sys
sys.path.insert(0, "benchmarks")
import study
source, root, method = sys.argv[1:]
record = json.load(open(source))
target = study.run_paths(root, record["env_id"], method, record["seed"])[1]
if not os.path.exists(target):  # a record of this study is never overwritten
    study.write_json(target, record | {"method": method, "copied_from": source})
PY
  done
done
$py benchmarks/study.py run --study "$study" --methods td3 td3_pave --envs Pendulum-v1 --seeds 1 2 3 \
    --total-timesteps 30000 --fast --compile --checkpoint-interval 5000 --critic-metrics --workers "${WORKERS:-2}" --threads 1 \
    --vary lambda1=0,0.2,20,200 --vary lambda2=0,0.0005,0.05,0.5 --vary lambda3=0,0.2,20,200 "$@" || exit 1
[[ " $* " == *" --dry-run "* ]] || { $py benchmarks/study.py report "$study" &&
  $py benchmarks/study_scalars.py "$study" --every 2000 --plot losses/curv charts/action_oscillation; }
