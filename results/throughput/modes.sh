#!/usr/bin/env bash
# README "Speed": the estimator-changing speed modes against full PAVE and TD3, Walker2d-v5, the paper's
# TD3 Walker lambdas, 2 interleaved rounds, 2 threads. Run from the repo root on an otherwise idle machine:
#   bash results/throughput/modes.sh
set -euo pipefail
walker="--lambda1 0.1 --lambda2 0.1 --lambda3 0.01"
${PYTHON:-python} benchmarks/throughput.py --repeats 2 --threads 2 --out results/throughput/modes.json --configs \
  "td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
  "full=td3_pave.py $walker --pave-every 1" \
  "every2=td3_pave.py $walker --pave-every 2" \
  "every4=td3_pave.py $walker --pave-every 4" \
  "sub64=td3_pave.py $walker --pave-every 1 --pave-batch-size 64" \
  "sub32=td3_pave.py $walker --pave-every 1 --pave-batch-size 32" \
  "every2_sub64=td3_pave.py $walker --pave-every 2 --pave-batch-size 64" \
  | tee results/throughput/modes_console.txt
