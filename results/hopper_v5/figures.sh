#!/usr/bin/env bash
# Issue 20's figures from the checkpoints of results/hopper_v5 (run.sh keeps them under work/), once stage 1 is done:
#  - curves.png: return, sm and episode length against the training step (each run's snapshots at 0, 20, ..., 80%
#    and its final checkpoint; each seed a thin line, per method), since the paper gives only the end point;
#  - actions_and_spectra_seed1.png: the first episode's actions and the spectra of seed 1, base against PAVE;
#  - base_vs_pave.png: one frame of the side-by-side MuJoCo video (the MP4 stays out of git).
# Run from the repo root:  bash results/hopper_v5/figures.sh
set -euo pipefail
py=${PYTHON:-python} work=results/hopper_v5/work/Hopper-v5 out=${OUT:-/tmp/hopper_v5_figures}
$py eval_smoothness.py "$work"/td3/seed*/runs/ "$work"/td3_pave/seed*/runs/ --episodes 10 --sm-window 200 \
  --out-dir "$out/curves"
cp "$out/curves/training_steps.png" results/hopper_v5/curves.png
seed1=("$work"/td3/seed1/runs/*/td3.pt "$work"/td3_pave/seed1/runs/*/td3_pave.pt)  # not snapshots
$py eval_smoothness.py "${seed1[@]}" --episodes 10 --out-dir "$out/spectra"
cp "$out/spectra/actions_and_spectra.png" results/hopper_v5/actions_and_spectra_seed1.png
$py eval_smoothness.py "${seed1[@]}" --episodes 1 --no-plots --video --out-dir "$out/video"
$py -c "import imageio.v2 as im; im.imwrite('results/hopper_v5/base_vs_pave.png', im.get_reader('$out/video/videos/Hopper-v5_side_by_side.mp4').get_data(60))"
