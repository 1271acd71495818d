#!/usr/bin/env bash
# docs/speed.md: the SAC family's rows (sac_caps.py, sac_grad.py, sac_asap.py were added after run.sh ran).
# Walker2d-v5, each file's paper configuration (their defaults), 1000 warm-up and 2000 timed training steps per
# run, 3 interleaved rounds, 2 threads, ratios to plain SAC. Run from the repo root on an otherwise idle machine:
#   bash results/throughput/sac_run.sh
set -euo pipefail
${PYTHON:-python} benchmarks/throughput.py --repeats 3 --threads 2 --out results/throughput/sac_walker2d.json --configs \
  "sac=sac_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
  "sac_pave=sac_pave.py" \
  "sac_caps=sac_caps.py" \
  "sac_grad=sac_grad.py" \
  "sac_asap=sac_asap.py" \
  | tee results/throughput/sac_console.txt
