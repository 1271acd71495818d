#!/usr/bin/env bash
# Issue 20's figures (curves_FAMILY.png, actions_and_spectra_FAMILY_seed1.png, base_vs_pave_FAMILY.png) from the
# checkpoints under results/hopper_v5/work: benchmarks/study_figures.sh says what each is.
# Run from the repo root:  bash results/hopper_v5/figures.sh [FAMILY...]     (default: td3 sac; VIDEO=0: no video)
exec bash benchmarks/study_figures.sh results/hopper_v5 Hopper-v5 "$@"
