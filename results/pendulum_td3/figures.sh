#!/usr/bin/env bash
# docs/pendulum.md: seed 1 of each Table 1 method, from the checkpoints of results/pendulum_td3 (run.sh keeps them
# under work/): the actions of the first episode and the amplitude spectra (10 episodes), and the paper's Appendix A
# field ||H_sa||_2 for the base, PAVE and CAPS. Run from the repo root:  bash results/pendulum_td3/figures.sh
set -euo pipefail
py=${PYTHON:-python} work=results/pendulum_td3/work/Pendulum-v1 out=${OUT:-/tmp/pendulum_td3_figures}
ckpts=(); for m in td3 td3_pave td3_caps td3_grad td3_asap; do ckpts+=("$work"/$m/seed1/runs/*/$m.pt); done  # not snapshots
$py eval_smoothness.py "${ckpts[@]}" --episodes 10 --out-dir "$out/spectra"
cp "$out/spectra/actions_and_spectra.png" results/pendulum_td3/actions_and_spectra_seed1.png
$py eval_smoothness.py "${ckpts[@]:0:3}" --episodes 1 --plot-field --out-dir "$out/field"
cp "$out/field/q_gradient_field.png" results/pendulum_td3/q_gradient_field_seed1.png
