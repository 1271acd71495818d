#!/usr/bin/env bash
# docs/speed.md: the throughput table. Walker2d-v5, each file's paper configuration (the PAVE files' defaults),
# 1000 warm-up and 2000 timed training steps per run, 3 interleaved rounds, 2 threads. Run from the repo root
# on an otherwise idle machine:  bash results/throughput/run.sh
set -euo pipefail
${PYTHON:-python} benchmarks/throughput.py --repeats 3 --threads 2 --out results/throughput/walker2d.json --configs \
  "td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
  "td3_pave=td3_pave.py" \
  "td3_pave_fast=td3_pave_fast.py" \
  "td3_pave_fast_compile=td3_pave_fast.py --compile" \
  "td3_pave_every4=td3_pave.py --pave-every 4" \
  "sac=sac_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
  "sac_pave=sac_pave.py" \
  "td3_caps=td3_caps.py --lambda-t 0.1 --lambda-s 0.5" \
  "td3_grad=td3_grad.py --lambda-t 1.0" \
  "td3_asap=td3_asap.py --lambda-p 2.0 --lambda-s 0.3 --lambda-t 0.05" \
  | tee results/throughput/console.txt
