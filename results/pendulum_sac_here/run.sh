#!/usr/bin/env bash
# Issue 14, one check across machines: seed 1 of the SAC row (results/pendulum_sac, trained on a lent 16-core machine
# with torch 2.11.0) trained again here (this 2-core machine, torch 2.13.0), the same study flags; then the SAC
# family's figure of actions and spectra from these checkpoints. Two 1-thread lanes.
# Run from the repo root:  bash results/pendulum_sac_here/run.sh      (again after an interruption: it continues)
set -euo pipefail
py=${PYTHON:-python} study=${STUDY:-results/pendulum_sac_here} out=${OUT:-/tmp/pendulum_sac_figures}
$py benchmarks/study.py run --study "$study" --methods sac sac_pave sac_caps sac_grad sac_asap --envs Pendulum-v1 \
  --seeds 1 --total-timesteps 30000 --obs-noise 0.01 0.05 0.1 --critic-metrics --workers 2 --threads 1
$py benchmarks/study.py report "$study"
work=$study/work/Pendulum-v1
ckpts=(); for m in sac sac_pave sac_caps sac_grad sac_asap; do ckpts+=("$work"/$m/seed1/runs/*/$m.pt); done  # not snapshots
$py eval_smoothness.py "${ckpts[@]}" --episodes 10 --out-dir "$out"
cp "$out/actions_and_spectra.png" "$study/actions_and_spectra_seed1.png"
