#!/usr/bin/env bash
# Measurements for issue 2 (td3_pave.py foundation). Run from the repo root:
#   nohup bash results/td3_pave_foundation/run.sh > /tmp/foundation.log 2>&1 &
# Writes results/td3_pave_foundation/{sps,learning}.json. Run folders go to /tmp/foundation_runs.
set -euo pipefail
repo=$(pwd)
out=$repo/results/td3_pave_foundation
work=/tmp/foundation_runs
rm -rf "$work" && mkdir -p "$work" && cd "$work"
py="${PYTHON:-python}"

# 1) Training-phase SPS on Walker2d-v5, paper config, two repeats interleaved (3000 training steps each).
for rep in 1 2; do
  for cfg in td3 pave; do
    if [ $cfg = td3 ]; then lam="--lambda1 0 --lambda2 0 --lambda3 0"; else lam="--lambda1 0.1 --lambda2 0.1 --lambda3 0.01"; fi
    $py "$repo/td3_pave.py" --env-id Walker2d-v5 --total-timesteps 4000 --learning-starts 1000 --exp-name sps_${cfg}_$rep $lam --pave-every 1
  done
done
# 2) Learning check: Pendulum-v1, 20000 steps, seed 1, paper Pendulum config (gamma 0.98, buffer 2e5).
$py "$repo/td3_pave.py" --env-id Pendulum-v1 --total-timesteps 20000 --seed 1 --gamma 0.98 --buffer-size 200000 --exp-name learn_td3 --lambda1 0 --lambda2 0 --lambda3 0
$py "$repo/td3_pave.py" --env-id Pendulum-v1 --total-timesteps 20000 --seed 1 --gamma 0.98 --buffer-size 200000 --exp-name learn_pave --lambda1 2.0 --lambda2 0.005 --lambda3 2.0 --pave-every 1

$py - "$out" <<'PY'
import glob, json, os, statistics, sys
sys.path.insert(0, os.path.join(os.environ.get("REPO", "."), "tests"))
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
def scalars(pattern):
    (d,) = glob.glob(f"runs/*__{pattern}__*")
    acc = EventAccumulator(d, size_guidance={"scalars": 0}); acc.Reload()
    return {t: [e.value for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
sps = {}
for cfg in ("td3", "pave"):
    finals = [scalars(f"sps_{cfg}_{r}")["charts/SPS"][-1] for r in (1, 2)]
    sps[cfg] = {"final_training_sps_per_repeat": finals, "median": statistics.median(finals)}
sps["ratio_pave_to_td3"] = sps["pave"]["median"] / sps["td3"]["median"]
learn = {}
for cfg in ("td3", "pave"):
    r = scalars(f"learn_{cfg}")["charts/episodic_return"]
    learn[cfg] = {"episodes": len(r), "mean_return_last_10": statistics.mean(r[-10:]), "last_10": r[-10:]}
out = sys.argv[1]
json.dump(sps, open(os.path.join(out, "sps.json"), "w"), indent=1)
json.dump(learn, open(os.path.join(out, "learning.json"), "w"), indent=1)
print(json.dumps(sps, indent=1)); print(json.dumps(learn, indent=1))
PY
