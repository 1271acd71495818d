#!/usr/bin/env bash
# Issue 20's figures from the checkpoints of results/hopper_v5 (run.sh keeps them under work/), per family (td3: its
# base, PAVE and the baselines with records; sac: its base and PAVE), from the runs that have a record:
#  - curves_FAMILY.png: return, sm, sm@W and episode length against the training step (each run's snapshots at 0,
#    20, ..., 80% and its final checkpoint; each seed a thin line, per method), since the paper gives only the end
#    point; sm@W (each episode's first W steps, W the report's window: 200 today) because the episode length changes
#    as a policy learns, and sm with it;
#  - actions_and_spectra_FAMILY_seed1.png: the first episode's actions and the spectra of seed 1, base against PAVE;
#  - base_vs_pave_FAMILY.png: one frame of the side-by-side MuJoCo video (the MP4 stays in $OUT, out of git; about
#    0.4 s a frame in software EGL, so a few minutes a family).
# Run from the repo root:  bash results/hopper_v5/figures.sh [FAMILY...]     (default: td3 sac; VIDEO=0: no video)
set -euo pipefail
shopt -s nullglob
py=${PYTHON:-python} here=results/hopper_v5 out=${OUT:-/tmp/hopper_v5_figures}
# the report's window: the largest that 80% of every method's clean episodes reach (SM_WINDOW=W to choose one)
window=${SM_WINDOW:-$($py -c "import sys; sys.path.insert(0, 'benchmarks'); import study
print(study.window_for(study.load_records('$here')).get('Hopper-v5') or 1000)")}
families=("$@") && [ $# -gt 0 ] || families=(td3 sac)
for family in "${families[@]}"; do
  runs=()
  for record in "$here"/records/Hopper-v5/{"$family","$family"_*}/seed*.json; do  # finished runs only
    method=$(basename "$(dirname "$record")") seed=$(basename "$record" .json)
    run="$here/work/Hopper-v5/$method/$seed/runs/"
    if [ -d "$run" ]; then runs+=("$run"); else echo "$method $seed: a record but no checkpoints here ($run): left out"; fi
  done
  base=("$here"/work/Hopper-v5/"$family"/seed1/runs/*/"$family".pt)
  pave=("$here"/work/Hopper-v5/"$family"_pave/seed1/runs/*/"$family"_pave.pt)
  seed1="$here/records/Hopper-v5/$family/seed1.json $here/records/Hopper-v5/${family}_pave/seed1.json"
  if [ ${#runs[@]} = 0 ] || ! ls $seed1 > /dev/null 2>&1 || [ ${#base[@]} = 0 ] || [ ${#pave[@]} = 0 ]; then
    echo "$family: no records, or seed 1 of the base or of PAVE not done yet: skipped"; continue
  fi
  $py eval_smoothness.py "${runs[@]}" --episodes 10 --sm-window "$window" --out-dir "$out/$family/curves"
  cp "$out/$family/curves/training_steps.png" "$here/curves_$family.png"
  $py eval_smoothness.py "${base[@]}" "${pave[@]}" --episodes 10 --out-dir "$out/$family/spectra"
  cp "$out/$family/spectra/actions_and_spectra.png" "$here/actions_and_spectra_${family}_seed1.png"
  [ "${VIDEO:-1}" = 0 ] && continue
  $py eval_smoothness.py "${base[@]}" "${pave[@]}" --episodes 1 --no-plots --video --out-dir "$out/$family/video"
  $py -c "import imageio.v2 as im; im.imwrite('$here/base_vs_pave_$family.png', \
im.get_reader('$out/$family/video/videos/Hopper-v5_side_by_side.mp4').get_data(60))"
done
