#!/usr/bin/env bash
# Issue 20 on Hopper-v5: does PAVE smooth a locomotion policy? The paper's Hopper settings at 200k steps, in the
# stages of benchmarks/study_stages.sh (which says the settings, the lanes and how an interrupted run continues):
#   1. td3 against td3_pave, seeds 1-3      2. sac against sac_pave, seeds 1-3
#   3. td3_grad and td3_caps, seeds 1-3     4. seeds 4-5 of stage 1
# Run from the repo root:  bash results/hopper_v5/run.sh [STAGE...]      (default: all stages, in order)
exec bash benchmarks/study_stages.sh "${STUDY:-results/hopper_v5}" Hopper-v5 ${*:-1 2 3 4}
