#!/usr/bin/env bash
# Issue 21's one GPU measurement, prepared to run in a single call on a lent CUDA machine (under 10 minutes on an
# H100/H200), from the repo root, with torch (a CUDA build), tensorboard and pytest importable (the lent machine's
# image has them); gymnasium, mujoco and tyro come from .whl/ when it is there (results/throughput/gpu_wheels.sh,
# run here first; the device call carries .whl):
#   OUT=DIR bash results/throughput/gpu_cudagraphs.sh
# 1. equality: the real CUDA graphs against eager CUDA from one seed, the losses of the first 300 updates
#    (tests/test_fast.py::test_cudagraphs_on_a_gpu_log_the_losses_of_the_eager_run);
# 2. whether this torch's CUDA build compiles PAVE's critic step now (td3_pave_fast.py refuses --compile on CUDA
#    since torch 2.11 failed there; this calls the compile directly);
# 3. throughput on Walker2d-v5, the paper's configuration, 1000 warm-up + 3000 timed training steps, interleaved:
#    TD3 and PAVE in td3_pave.py, td3_pave_fast.py eager and with --cudagraphs (targets: PAVE >= 250 steps/s,
#    TD3 >= 600; REPEATS=2 for two interleaved rounds if the time is there), totals only (--no-breakdown: the
#    breakdown syncs the GPU around each update function, and a graph's replay runs none of them).
# Everything it prints goes to $OUT/console.txt; the JSON to $OUT/walker2d_cudagraphs.json.
set -uo pipefail
py=${PYTHON:-python3} out=${OUT:-results/throughput/gpu} repeats=${REPEATS:-1}
mkdir -p "$out"
if [ -d .whl ]; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl &&
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 MUJOCO_GL=egl
{
  $py -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name())" \
    2> /dev/null || { echo "error: no CUDA device for this torch: run this on a GPU machine"; exit 1; }
  echo "== 1. equality: CUDA graphs against eager CUDA"
  timeout 240 $py -m pytest -q -o addopts="" -p no:cacheprovider tests/test_fast.py -k cudagraphs_on_a_gpu -rs
  echo "== 2. does torch.compile take PAVE's critic step on CUDA?"
  timeout 120 $py - <<'EOF'
import torch
import td3_pave_fast as fast
args = fast.Args(env_id="Walker2d-v5", compile=True)
dev = torch.device("cuda")
nets = [fast.QNetwork(17, 6).to(dev), fast.QNetwork(17, 6).to(dev), fast.QNetwork(17, 6).to(dev),
        fast.QNetwork(17, 6).to(dev), fast.Actor(17, 6).to(dev)]
data = fast.ReplayBufferSamples(*(torch.zeros(256, n, device=dev) for n in (17, 6, 1, 17, 1)))
try:
    fast.compile_critic_gradients(args, data, nets, dev)
    print("compile on CUDA: compiled (re-enable --compile on CUDA only if it adds speed to --cudagraphs)")
except fast.UserError as e:
    print("compile on CUDA:", e)
EOF
  echo "== 3. throughput, Walker2d-v5"
  timeout 480 $py benchmarks/throughput.py --repeats "$repeats" --steps 3000 --learning-starts 1000 --threads 4 \
    --no-breakdown \
    --out "$out/walker2d_cudagraphs.json" --configs \
    "td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
    "td3_fast=td3_pave_fast.py --lambda1 0 --lambda2 0 --lambda3 0" \
    "td3_fast_graphs=td3_pave_fast.py --lambda1 0 --lambda2 0 --lambda3 0 --cudagraphs" \
    "td3_pave=td3_pave.py" \
    "td3_pave_fast=td3_pave_fast.py" \
    "td3_pave_fast_graphs=td3_pave_fast.py --cudagraphs"
} 2>&1 | tee "$out/console.txt"
