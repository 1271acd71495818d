#!/usr/bin/env bash
# A locomotion study's figures from its checkpoints (each study's run.sh keeps them under STUDY_DIR/work/), per
# family (td3: its base, PAVE and the baselines with records; sac: its base and PAVE), from the runs that have a
# record:
#  - curves_FAMILY.png (and its numbers, curves_FAMILY.csv): return, sm, sm@W and episode length against the
#    training step (each run's snapshots at 0, 20, ..., 80% and its final checkpoint; each seed a thin line, per
#    method), since the paper gives only the end point; sm@W (each episode's first W steps, W the report's window)
#    because the episode length changes as a policy learns, and sm with it;
#  - actions_and_spectra_FAMILY_seed1.png: the first episode's actions and the spectra of seed 1, base against PAVE;
#  - base_vs_pave_FAMILY.png: one frame of the side-by-side MuJoCo video (the MP4 stays in $OUT, out of git; about
#    0.4 s a frame in software EGL, so a few minutes a family);
#  - scalars.csv and scalars_ENV_ID.png, once for all families: the training curves of losses/curv and the action
#    oscillation from the event files (benchmarks/study_scalars.py).
# Run from the repo root:  bash benchmarks/study_figures.sh STUDY_DIR ENV_ID [FAMILY...]   (default: td3 sac;
# VIDEO=0: no video), e.g. bash benchmarks/study_figures.sh results/walker2d_v5 Walker2d-v5 td3
set -euo pipefail
shopt -s nullglob
here=${1:?usage: benchmarks/study_figures.sh STUDY_DIR ENV_ID [FAMILY...]} env=${2:?usage: benchmarks/study_figures.sh STUDY_DIR ENV_ID [FAMILY...]}
shift 2
py=${PYTHON:-python} out=${OUT:-/tmp/$(basename "$here")_figures}
# the report's window: the largest that 80% of every method's clean episodes reach (SM_WINDOW=W to choose one)
window=${SM_WINDOW:-$($py -c "import sys; sys.path.insert(0, 'benchmarks'); import study_report
print(study_report.window_for(study_report.load_records('$here')).get('$env') or 1000)")}
families=("$@") && [ $# -gt 0 ] || families=(td3 sac)
for family in "${families[@]}"; do
  runs=()
  for record in "$here"/records/$env/{"$family","$family"_*}/seed*.json; do  # finished runs only
    method=$(basename "$(dirname "$record")") seed=$(basename "$record" .json)
    run="$here/work/$env/$method/$seed/runs/"
    if [ -d "$run" ]; then runs+=("$run"); else echo "$method $seed: a record but no checkpoints here ($run): left out"; fi
  done
  base=("$here"/work/$env/"$family"/seed1/runs/*/"$family".pt)
  pave=("$here"/work/$env/"$family"_pave/seed1/runs/*/"$family"_pave.pt)
  seed1="$here/records/$env/$family/seed1.json $here/records/$env/${family}_pave/seed1.json"
  if [ ${#runs[@]} = 0 ] || ! ls $seed1 > /dev/null 2>&1 || [ ${#base[@]} = 0 ] || [ ${#pave[@]} = 0 ]; then
    echo "$family: no records, or seed 1 of the base or of PAVE not done yet: skipped"; continue
  fi
  $py eval_smoothness.py "${runs[@]}" --episodes 10 --sm-window "$window" --out-dir "$out/$family/curves"
  cp "$out/$family/curves/training_steps.png" "$here/curves_$family.png"
  cp "$out/$family/curves/eval.csv" "$here/curves_$family.csv"  # the figure's numbers, for the page's prose
  $py eval_smoothness.py "${base[@]}" "${pave[@]}" --episodes 10 --out-dir "$out/$family/spectra"
  cp "$out/$family/spectra/actions_and_spectra.png" "$here/actions_and_spectra_${family}_seed1.png"
  [ "${VIDEO:-1}" = 0 ] && continue
  $py eval_smoothness.py "${base[@]}" "${pave[@]}" --episodes 1 --no-plots --video --out-dir "$out/$family/video"
  $py -c "import imageio.v2 as im; im.imwrite('$here/base_vs_pave_$family.png', \
im.get_reader('$out/$family/video/videos/${env}_side_by_side.mp4').get_data(60))"
done
$py benchmarks/study_scalars.py "$here" --plot losses/curv charts/action_oscillation
