#!/usr/bin/env bash
# Issue 14, a probe of the one mismatch with the paper (SAC + PAVE less smooth than in Table 2): the SAC row at the
# paper's own budget, 100000 steps instead of 30000, seed 1 only (one seed: a hint, not a result). The same flags as
# results/pendulum_sac otherwise. Two 1-thread lanes.
# Run from the repo root:  bash results/pendulum_sac_100k/run.sh      (again after an interruption: it continues)
set -uo pipefail
py=${PYTHON:-python} study=${STUDY:-results/pendulum_sac_100k}
$py benchmarks/study.py run --study "$study" --methods sac sac_pave sac_caps sac_grad sac_asap --envs Pendulum-v1 \
  --seeds 1 --total-timesteps 100000 --obs-noise 0.01 0.05 0.1 --critic-metrics --workers 2 --threads 1
$py benchmarks/study.py report "$study"
