#!/usr/bin/env bash
# Closing-note measurements for one algorithm file: training-phase SPS on Walker2d-v5 (paper config,
# 3000 training steps after 1000 warm-up steps, lambdas 0 vs the given Walker lambdas, two repeats
# interleaved) and the Pendulum-v1 learning check (20000 steps, seed 1, lambdas 0 vs the given
# Pendulum lambdas). Run from the repo root, on an otherwise idle machine:
#   bash results/measure.sh ALGO "WALKER_LAMBDAS" "PENDULUM_LAMBDAS" "PENDULUM_FLAGS"
# e.g. bash results/measure.sh td3_pave "0.1 0.1 0.01" "2.0 0.005 2.0" "--gamma 0.98 --buffer-size 200000"
# Writes results/ALGO/{sps,learning}.json; run folders go to /tmp/measure_ALGO.
set -euo pipefail
algo=$1; read -r w1 w2 w3 <<<"$2"; read -r p1 p2 p3 <<<"$3"; pendulum_flags=${4:-}
repo=$(pwd) out=$(pwd)/results/$algo work=/tmp/measure_$algo
py="${PYTHON:-python}"
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work" && cd "$work"

for rep in 1 2; do
  $py "$repo/$algo.py" --env-id Walker2d-v5 --total-timesteps 4000 --learning-starts 1000 --exp-name sps_base_$rep --lambda1 0 --lambda2 0 --lambda3 0
  $py "$repo/$algo.py" --env-id Walker2d-v5 --total-timesteps 4000 --learning-starts 1000 --exp-name sps_pave_$rep --lambda1 "$w1" --lambda2 "$w2" --lambda3 "$w3"
done
# shellcheck disable=SC2086
$py "$repo/$algo.py" --env-id Pendulum-v1 --total-timesteps 20000 --seed 1 $pendulum_flags --exp-name learn_base --lambda1 0 --lambda2 0 --lambda3 0
# shellcheck disable=SC2086
$py "$repo/$algo.py" --env-id Pendulum-v1 --total-timesteps 20000 --seed 1 $pendulum_flags --exp-name learn_pave --lambda1 "$p1" --lambda2 "$p2" --lambda3 "$p3"

$py - "$out" "$*" <<'PY'
import glob, json, os, statistics, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

def scalars(name):
    (run_dir,) = glob.glob(f"runs/*__{name}__*")
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}

out, command = sys.argv[1], "bash results/measure.sh " + sys.argv[2]
sps = {"command": command}
for cfg in ("base", "pave"):
    finals = [scalars(f"sps_{cfg}_{rep}")["charts/SPS"][-1] for rep in (1, 2)]
    sps[cfg] = {"training_sps_per_repeat": finals, "median": statistics.median(finals)}
sps["ratio_pave_to_base"] = sps["pave"]["median"] / sps["base"]["median"]
learning = {"command": command}
for cfg in ("base", "pave"):
    returns = scalars(f"learn_{cfg}")["charts/episodic_return"]
    learning[cfg] = {"episodes": len(returns), "mean_return_last_10": statistics.mean(returns[-10:]), "last_10": returns[-10:]}
for name, data in (("sps", sps), ("learning", learning)):
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(data, f, indent=1)
print(json.dumps(sps, indent=1), json.dumps(learning, indent=1))
PY
