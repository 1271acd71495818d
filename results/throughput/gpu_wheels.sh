#!/usr/bin/env bash
# The Python packages gpu_cudagraphs.sh needs that the lent GPU machine's image lacks (gymnasium, mujoco, tyro and
# what they require beyond it; the image has torch, numpy, tensorboard, pytest, scipy, matplotlib), downloaded HERE
# as Python 3.12 manylinux wheels into .whl/ (git-ignored through .git/info/exclude), at this repo's pinned versions.
# Run from the repo root before the device call:  bash results/throughput/gpu_wheels.sh
# Then the call carries .whl and begins with:
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
#   && export PYTHONPATH=/tmp/site
set -euo pipefail
grep -qx '/.whl/' .git/info/exclude 2> /dev/null || echo /.whl/ >> .git/info/exclude
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d .whl gymnasium==1.4.0 farama-notifications==0.0.6 mujoco==4.0.0 mujoco-core==4.0.0 mujoco-studio==4.0.0 \
  glfw==2.11.0 pyopengl==3.1.10 tyro==1.0.17 docstring-parser==0.18.0 typeguard==4.6.1
du -sh .whl
