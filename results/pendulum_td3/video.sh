#!/usr/bin/env bash
# docs/pendulum.md (the video frame): the chattering TD3 base policy (seed 2, sm 4.7) beside TD3 + PAVE (seed 1) on Pendulum-v1, from the
# checkpoints of results/pendulum_td3 (run.sh keeps them under work/), then one frame of the side-by-side video as
# a PNG (the MP4s stay out of git). Run from the repo root:  bash results/pendulum_td3/video.sh
set -euo pipefail
py=${PYTHON:-python} work=results/pendulum_td3/work/Pendulum-v1 out=${OUT:-/tmp/pendulum_video}
$py eval_smoothness.py "$work"/td3/seed2/runs/*/td3.pt "$work"/td3_pave/seed1/runs/*/td3_pave.pt --episodes 1 \
  --no-plots --video --out-dir "$out"
$py -c "import imageio.v2 as im; im.imwrite('results/pendulum_td3/base_vs_pave.png', im.get_reader('$out/videos/Pendulum-v1_side_by_side.mp4').get_data(60))"
