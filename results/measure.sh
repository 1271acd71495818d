#!/usr/bin/env bash
# Closing-note measurements for a set of configurations, each "label|file.py|flags[|pendulum flags]":
#  - training-phase SPS on Walker2d-v5 (paper config, 1000 warm-up then 3000 training steps), two
#    repeats, interleaved across the configurations so the machine's drift hits all alike;
#  - the Pendulum-v1 learning check: 20000 steps, seed 1, the mean return of the last 10 episodes.
# The flags are the configuration's regularizer weights (on Pendulum the second set, if given);
# PENDULUM_FLAGS (an environment variable) is added to every Pendulum run.
# Run from the repo root on an otherwise idle machine:
#   PENDULUM_FLAGS="--gamma 0.98 --buffer-size 200000" bash results/measure.sh OUT "label|file.py|flags|flags" ...
# Writes results/OUT/{sps,learning}.json; run folders go to /tmp/measure_OUT.
set -euo pipefail
name=$1; shift
repo=$(pwd) out=$(pwd)/results/$name work=/tmp/measure_$name py="${PYTHON:-python}"
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work" && cd "$work"

run() {  # label file flags env steps learning-starts extra...
  local label=$1 file=$2 flags=$3 env=$4 steps=$5 starts=$6; shift 6
  # shellcheck disable=SC2086
  $py "$repo/$file" --env-id "$env" --total-timesteps "$steps" --learning-starts "$starts" --seed 1 --exp-name "$label" $flags "$@"
}
for rep in 1 2; do
  for spec in "$@"; do IFS='|' read -r label file flags _ <<<"$spec"; run "sps_${label}_$rep" "$file" "$flags" Walker2d-v5 4000 1000; done
done
for spec in "$@"; do
  IFS='|' read -r label file flags pendulum_flags <<<"$spec"
  # shellcheck disable=SC2086
  run "learn_$label" "$file" "${pendulum_flags:-$flags}" Pendulum-v1 20000 10000 ${PENDULUM_FLAGS:-}
done

$py - "$out" "$@" <<'PY'
import glob, json, os, statistics, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

def scalars(name):
    (run_dir,) = glob.glob(f"runs/*__{name}__*")
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}

out, specs = sys.argv[1], sys.argv[2:]
labels = [spec.split("|")[0] for spec in specs]
command = f"PENDULUM_FLAGS=\"{os.environ.get('PENDULUM_FLAGS', '')}\" bash results/measure.sh {os.path.basename(out)} " + " ".join(f'"{s}"' for s in specs)
sps = {"command": command, "machine": f"{os.cpu_count()} CPU cores", "configs": {}}
for label in labels:
    finals = [scalars(f"sps_{label}_{rep}")["charts/SPS"][-1] for rep in (1, 2)]
    sps["configs"][label] = {"training_sps_per_repeat": finals, "median": statistics.median(finals)}
first = sps["configs"][labels[0]]["median"]
for label in labels:
    sps["configs"][label]["ratio_to_" + labels[0]] = sps["configs"][label]["median"] / first
learning = {"command": command, "configs": {}}
for label in labels:
    returns = scalars(f"learn_{label}")["charts/episodic_return"]
    learning["configs"][label] = {"episodes": len(returns), "mean_return_last_10": statistics.mean(returns[-10:]),
                                  "last_10": returns[-10:]}
for kind, data in (("sps", sps), ("learning", learning)):
    with open(os.path.join(out, f"{kind}.json"), "w") as f:
        json.dump(data, f, indent=1)
print(json.dumps(sps, indent=1), json.dumps(learning, indent=1))
PY
