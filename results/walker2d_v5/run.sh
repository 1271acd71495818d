#!/usr/bin/env bash
# Issue 31 on Walker2d-v5, the paper's flagship and the environment of td3_pave.py's and sac_pave.py's defaults: the
# paper's Walker2d settings at 200k steps, in the stages of benchmarks/study_stages.sh (which says the settings, the
# lanes and how an interrupted run continues):
#   1. td3 against td3_pave, seeds 1-3      2. sac against sac_pave, seeds 1-3
#   3. td3_grad (the paper's best TD3 baseline on Walker2d), seeds 1-3
#   5. TD3 + PAVE with lambda3 0.1 and 1 (10 and 100 times the paper's 0.01, which does not hold the curvature hinge
#      here at 200k steps: docs/walker2d.md), seed 1
#   6. TD3 + PAVE with lambda3 1 (stage 5's answer on seed 1), seeds 2-3
# (the issue's stage 3, Hopper's seeds 4-5, is `bash results/hopper_v5/run.sh 4`).
# Run from the repo root:  bash results/walker2d_v5/run.sh [STAGE...]      (default: 1 2 3 5, in order; 6 when asked)
BASELINES=td3_grad LAMBDA3_SWEEP=0.1,1 LAMBDA3_CONFIRM=1 exec bash benchmarks/study_stages.sh "${STUDY:-results/walker2d_v5}" Walker2d-v5 ${*:-1 2 3 5}
