#!/usr/bin/env bash
# Issue 14 on Pendulum-v1, SAC family: the paper's Table 2 row (sac, sac_pave, sac_caps, sac_grad, sac_asap) with
# the Table 3 noise levels and critic metrics. Seeds 1-5, 30k steps (the paper trains 100k). Two 1-thread lanes.
# The committed records ran on the CPUs of a lent 16-core machine, this command with --workers 8 (torch 2.11.0;
# each record names its torch and commit).
# Run from the repo root:  bash results/pendulum_sac/run.sh      (again after an interruption: it continues)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/pendulum_sac}
$py benchmarks/study.py run --study "$study" --methods sac sac_pave sac_caps sac_grad sac_asap --envs Pendulum-v1 \
  --seeds 1 2 3 4 5 --total-timesteps 30000 --obs-noise 0.01 0.05 0.1 --critic-metrics --workers 2 --threads 1
$py benchmarks/study.py report "$study"
