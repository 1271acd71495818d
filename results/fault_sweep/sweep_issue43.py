"""Fault sweep for issue 43 (what a file may choose, one meaning per flag, outputs that fail, checks up front, and the
new --autotune-lambda3/--curv-target): each case in a fresh folder, its command through bash, its outcome recorded.
Run pinned to one core: `OMP_NUM_THREADS=1 taskset -c 1 python sweep_issue43.py [case numbers]`."""
import json, os, shutil, subprocess, sys, time
P = "/work/main/.venv/bin/python"
R = os.environ.get("SWEEP_REPO", "/work/wt-43")  # the code under test (the recheck: SWEEP_REPO=/work/main)
TOP = os.environ.get("SWEEP_TOP", "/tmp/sweep43")
W = f"{TOP}/w"
MKPY = f"{TOP}/mk.py"
T = "--env-id Pendulum-v1 --learning-starts 100 --hidden-sizes 16 16 --batch-size 16 --snapshot-fractions"
STUDY = (f"$P $R/benchmarks/study.py run --methods td3 --envs Pendulum-v1 --seeds 1 --flags learning_starts=100 "
         f"batch_size=16 'hidden_sizes=16 16' --episodes 1 --noise-episodes 1 --workers 1")
STUDY2 = STUDY.replace("--methods td3", "--methods td3 td3_grad")
SEED = f"$P $R/td3_pave.py {T} --total-timesteps 120 --exp-name c > /dev/null 2>&1"  # a checkpoint to work on
SEEDA = f"$P $R/td3_pave.py {T} --total-timesteps 250 --autotune-lambda3 --exp-name a > /dev/null 2>&1"  # autotuned
# a finished study (td3, seed 1, 200 steps, noise 0.05: its record keeps sigma_base), made once and copied to ./s
BASE = (f"mkdir -p {TOP}/base; [ -f {TOP}/base/s/records/Pendulum-v1/td3/seed1.json ] || (cd {TOP}/base && rm -rf s && "
        f"{STUDY} --study s --total-timesteps 200 --obs-noise 0.05 > /dev/null 2>&1); cp -r {TOP}/base/s s")
MK = f"$P {MKPY}"  # rec ROOT ENV METHOD SEED [key=json ...] | plan ROOT [N] | edit FILE CODE [OUT]
TD3W = "s/work/Pendulum-v1/td3/seed1"
REC = "s/records/Pendulum-v1/td3/seed1.json"
# a module whose import leaves a mark (the code a hostile checkpoint would run), on PYTHONPATH
MOD = ("mkdir -p mods; printf \"import os\\nopen(os.environ['MARK_FILE'],'w').write('imported')\\n\" > mods/marker.py; "
       "export PYTHONPATH=$PWD/mods MARK_FILE=$PWD/imported.txt")
SWEEPREC = (f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1; {MK} rec s Pendulum-v1 td3_pave 1 sm=0.5; "
            f"{MK} rec s Pendulum-v1 'td3_pave[lambda3=5]' 1 sm=0.3")  # records of a sweep, by hand

# td3_pave.py --resume DIR --total-timesteps 252, printing the lambda3 its first critic update uses (update_critic's
# 10th argument is log_lambda3)
FIRST_USE = """$P -c "import sys;sys.path.insert(0,'$R');sys.argv=['td3_pave.py','--resume',sys.argv[1],'--total-timesteps','252'];import td3_pave,run_utils;o=td3_pave.update_critic
def w(*a):
    print('first update uses lambda3', float(a[9].exp()), flush=True);td3_pave.update_critic=o;return o(*a)
td3_pave.update_critic=w;run_utils.cli(td3_pave.main,td3_pave.Args)" """

MK_SOURCE = r'''
import json, math, os, sys
def record(env_id, method, seed, sm=1.0):
    return {"method": method, "env_id": env_id, "seed": seed, "train_seconds": 60.0, "critic": None,
            "args": {"seed": seed}, "finished": f"2026-12-07 10:00:{int(sm * 10) % 60:02d}",
            "levels": {"0.0": {"returns": [-100.0 * sm], "sm": [sm]}}}
cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "rec":
    root, env, method, seed = a[:4]
    extra = dict(kv.split("=", 1) for kv in a[4:])
    r = record(env, method, int(seed), float(extra.pop("sm", 1.0)))
    for k, v in extra.items():
        *path, last = k.split(".")
        d = r
        for p in path:
            d = d.setdefault(p, {})
        d[last] = json.loads(v)
    place = os.path.join(root, "records", env.replace("/", "__"), method.replace("[", "+").replace("]", ""), f"seed{seed}.json")
    os.makedirs(os.path.dirname(place), exist_ok=True)
    json.dump(r, open(place, "w"))
elif cmd == "plan":
    n = int(a[1]) if len(a) > 1 else 0
    os.makedirs(a[0], exist_ok=True)
    json.dump({"runs": [{"env_id": "Pendulum-v1", "method": "td3", "seed": i} for i in range(n)]},
              open(os.path.join(a[0], "study.json"), "w"))
elif cmd == "edit":
    import torch
    s = torch.load(a[0], weights_only=True)
    exec(a[1], {"s": s, "torch": torch, "math": math})
    torch.save(s, a[2] if len(a) > 2 else a[0])
'''

CASES = [
 # --- (1) a file never chooses code ---------------------------------------------------------------------------
 ("code", "eval --noise-reference: a checkpoint whose env id names module marker", f"{MOD}; {SEED}; {MK} edit runs/*/c.pt \"s['env_id']=s['args']['env_id']='marker:Pendulum-v1'\" m.pt; $P $R/eval_smoothness.py runs/*/c.pt --obs-noise 0.05 --noise-reference m.pt --episodes 1 --noise-episodes 1 --noise-reference-episodes 1 --no-plots --out-dir o; echo rc=$?; ls imported.txt o 2>&1",
  "rc 1, one line naming module marker and --env-module; marker not imported; no o/"),
 ("code", "eval of a run folder: one snapshot (not the checkpoint) names module marker", f"{MOD}; $P $R/td3_pave.py {T} 0.5 --total-timesteps 200 --exp-name c > /dev/null 2>&1; {MK} edit runs/*/c_step100.pt \"s['env_id']=s['args']['env_id']='marker:Pendulum-v1'\"; $P $R/eval_smoothness.py runs/* --episodes 1 --no-plots --out-dir o; echo rc=$?; ls imported.txt o 2>&1",
  "rc 1, one line naming the snapshot and module marker; nothing imported or written"),
 # --- (2) a file never chooses a path ---------------------------------------------------------------------------
 ("path", "report: the study folder holds report.md.tmp, a symlink to a file outside it", f"{SWEEPREC}; echo mine > outside.txt; ln -s $PWD/outside.txt s/report.md.tmp; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?; echo outside:; head -c 60 outside.txt; echo; ls -l s/report.md | cut -c1-10",
  "outside.txt untouched (a study folder from git is data); report.md a file of the study"),
 ("path", "study_scalars: scalars.csv.tmp a symlink to a file outside the study", f"{BASE}; echo mine > outside.txt; ln -s $PWD/outside.txt s/scalars.csv.tmp; $P $R/benchmarks/study_scalars.py s > /dev/null; echo rc=$?; echo outside:; head -c 60 outside.txt; echo",
  "outside.txt untouched"),
 ("path", "eval --out-dir holding .write_test, a symlink to a file outside it", f"{SEED}; mkdir o; echo mine > outside.txt; ln -s $PWD/outside.txt o/.write_test; $P $R/eval_smoothness.py runs/* --episodes 1 --no-plots --out-dir o > /dev/null; echo rc=$?; echo outside:; cat outside.txt; ls -a o",
  "outside.txt untouched"),
 ("path", "train.json's checkpoint: an absolute path into another study", f"{BASE}; cp -r s other; rm {REC}; $P -c \"import json,glob;p='{TD3W}/train.json';d=json.load(open(p));d['checkpoint']=glob.glob('$PWD/other/work/Pendulum-v1/td3/seed1/runs/*/td3.pt')[0];json.dump(d,open(p,'w'))\"; {MK} edit other/work/Pendulum-v1/td3/seed1/runs/*/td3.pt \"s['global_step']=12345\"; {STUDY} --study s --total-timesteps 200 --obs-noise 0.05 > out.txt 2>&1; echo rc=$?; tail -2 out.txt; grep -o '\"global_step\": [0-9]*' {REC}",
  "the record is of this study's own checkpoint (step 200), not the other study's (12345)"),
 # --- (3) no tool writes over a run's files -------------------------------------------------------------------------
 ("overwrite", "report --out-dir d: d/Pendulum-v1_pareto.png is a checkpoint (a sweep is reported)", f"{SEED}; {SWEEPREC}; mkdir d; cp runs/*/c.pt d/Pendulum-v1_pareto.png; md5sum < runs/*/c.pt; $P $R/benchmarks/study.py report s --resamples 100 --out-dir d > /dev/null; echo rc=$?; md5sum < d/Pendulum-v1_pareto.png; ls d",
  "rc 1, one line before any work; the checkpoint unchanged"),
 ("overwrite", "report --out-dir d: d/report.csv is a checkpoint", f"{SEED}; {SWEEPREC}; mkdir d; cp runs/*/c.pt d/report.csv; $P $R/benchmarks/study.py report s --resamples 100 --out-dir d --no-plots > /dev/null; echo rc=$?; ls d; cmp runs/*/c.pt d/report.csv && echo kept",
  "rc 1, one line before any work (no report.md written), the checkpoint kept"),
 ("overwrite", "eval --out-dir o: o/actions_and_spectra.png is a checkpoint", f"{SEED}; mkdir o; cp runs/*/c.pt o/actions_and_spectra.png; $P $R/eval_smoothness.py runs/*/c.pt --episodes 1 --out-dir o > /dev/null; echo rc=$?; ls o; cmp runs/*/c.pt o/actions_and_spectra.png && echo kept",
  "rc 1, one line before the evaluation; the checkpoint kept"),
 ("overwrite", "throughput config with --resume of a real run", f"$P $R/td3_pave.py {T} --total-timesteps 120 --exp-name c --checkpoint-interval 0 > /dev/null 2>&1; md5sum runs/*/c.pt | cut -c1-32; $P $R/benchmarks/throughput.py --configs \"a=td3_pave.py --hidden-sizes 16 16 --batch-size 16 --exp-name c --snapshot-fractions --resume $PWD/$(ls -d runs/*)\" --env-id Pendulum-v1 --steps 20 --learning-starts 100 --repeats 1 --threads 1 --out t.json; echo rc=$?; md5sum runs/*/c.pt | cut -c1-32; $P -c \"import torch,glob;print('step', torch.load(glob.glob('runs/*/c.pt')[0],weights_only=True)['global_step'])\"",
  "rc 1, one line (a measurement does not resume a user's run); the run's checkpoint unchanged"),
 ("overwrite", "export --out p.ts where p.ts.tmp (its temp name) is a snapshot", f"$P $R/td3_pave.py {T} 0.5 --total-timesteps 200 --exp-name c > /dev/null 2>&1; cp runs/*/c_step100.pt p.ts.tmp; $P $R/export_policy.py runs/*/c.pt --format torchscript --out p.ts | cut -c1-60; echo rc=$?; ls p.ts*; cmp runs/*/c_step100.pt p.ts.tmp && echo kept",
  "the snapshot p.ts.tmp kept (or a refusal): no tool writes over a torch file, whatever its name"),
 ("overwrite", "study_scalars --plot: <out stem>_Pendulum-v1.png is a checkpoint", f"{BASE}; mkdir d; cp {TD3W}/runs/*/td3.pt d/x_Pendulum-v1.png; $P $R/benchmarks/study_scalars.py s --out d/x.csv --plot charts/episodic_return > /dev/null; echo rc=$?; ls d; cmp {TD3W}/runs/*/td3.pt d/x_Pendulum-v1.png && echo kept",
  "rc 1, one line before any work; the checkpoint kept"),
 # --- (4) one meaning for a repeated flag -----------------------------------------------------------------------
 ("repeat", "throughput: one config gives --seed twice", f"$P $R/benchmarks/throughput.py --configs 'a=td3_pave.py --hidden-sizes 16 16 --batch-size 16 --seed 1 --seed 2' --env-id Pendulum-v1 --steps 10 --learning-starts 100 --repeats 1 --threads 1 --out t.json; echo rc=$?; ls",
  "rc 1, one line `--seed is given twice`, before any run"),
 ("repeat", "throughput: a config's own --env-id Hopper-v5 under --env-id Pendulum-v1", f"$P $R/benchmarks/throughput.py --configs 'a=td3_pave.py --hidden-sizes 16 16 --batch-size 16 --env-id Hopper-v5' --env-id Pendulum-v1 --steps 10 --learning-starts 100 --repeats 1 --threads 1 --out t.json; echo rc=$?; grep -o '\"env_id\": \"[^\"]*\"' t.json",
  "rc 1, one line (the env given twice), not a measurement of Pendulum labelled with Hopper's command"),
 ("repeat", "study --flags batch_size=16 batch_size=32 (one flag twice inside --flags)", f"$P $R/benchmarks/study.py run --study s --methods td3 --envs Pendulum-v1 --seeds 1 --flags learning_starts=100 batch_size=16 batch_size=32 --dry-run; echo rc=$?",
  "rc 1, one line `batch_size given twice`"),
 ("repeat", "study --vary lambda3=1 --vary 'lambda3 =2' (one flag in two --vary, spaced)", f"$P $R/benchmarks/study.py run --study s --methods td3_pave --envs Pendulum-v1 --seeds 1 --vary lambda3=1 --vary 'lambda3 =2' --dry-run; echo rc=$?",
  "rc 1, one line"),
 ("repeat", "eval of one checkpoint named twice", f"{SEED}; $P $R/eval_smoothness.py runs/*/c.pt runs/*/c.pt --episodes 1 --no-plots --out-dir o | tail -4; echo rc=${{PIPESTATUS[0]}}; $P -c \"import json;d=json.load(open('o/eval.json'));print('checkpoints', len(d['checkpoints']), 'seeds in group', [g.get('n_seeds', g.get('seeds')) for g in d['groups'].values()])\"",
  "rc 1 one line (or counted once): never one run counted as two seeds"),
 ("repeat", "eval of a run folder and its checkpoint together", f"{SEED}; $P $R/eval_smoothness.py runs/* runs/*/c.pt --episodes 1 --no-plots --out-dir o > /dev/null; echo rc=$?; $P -c \"import json;d=json.load(open('o/eval.json'));print('checkpoints', [c['path'] for c in d['checkpoints']])\"",
  "rc 1 one line (or counted once)"),
 # --- (5) a study's state checked as it is read ------------------------------------------------------------------
 ("state", "reference record (work elsewhere) keeps sigma_base [NaN, NaN, NaN]; td3_grad evaluated against it", f"{BASE}; rm -rf {TD3W}; $P -c \"import json;p='{REC}';d=json.load(open(p));d['sigma_base']=[float('nan')]*3;json.dump(d,open(p,'w'))\"; {STUDY2} --study s --total-timesteps 200 --obs-noise 0.05 > out.txt 2>&1; echo rc=$?; tail -2 out.txt; $P -c \"import json;d=json.load(open('s/records/Pendulum-v1/td3_grad/seed1.json'));print('noise returns', d['levels']['0.05']['returns'], 'sigma_base', d['sigma_base'])\"",
  "FAILED (or refused) naming the record's malformed sigma_base; no record of td3_grad with NaN noise"),
 ("state", "reference record keeps sigma_base [0.5] (one number for a 3-dim observation)", f"{BASE}; rm -rf {TD3W}; $P -c \"import json;p='{REC}';d=json.load(open(p));d['sigma_base']=[0.5];json.dump(d,open(p,'w'))\"; {STUDY2} --study s --total-timesteps 200 --obs-noise 0.05 > out.txt 2>&1; echo rc=$?; tail -2 out.txt; $P -c \"import json;d=json.load(open('s/records/Pendulum-v1/td3_grad/seed1.json'));print('sigma_base', d['sigma_base'])\"",
  "FAILED naming the record's sigma_base (3 numbers needed); no record against a broadcast scalar"),
 ("state", "record whose args.seed is the string '1' (seed 1)", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 'args.seed=\"1\"'; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?",
  "rc 1, a true line (args.seed is not an integer), not `trained with --seed 1: a copy`"),
 ("state", "record with global_step 150 and args.learning_starts 'x'", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 global_step=150 'args.learning_starts=\"x\"'; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?",
  "rc 1, one line naming the record; no traceback"),
 ("state", "record whose args is a JSON list", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 'args=[1,2]' global_step=150; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?",
  "rc 1, one line naming the record; no traceback"),
 ("state", "record with a noise level key 'abc'", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 'levels={{\"0.0\":{{\"returns\":[-1],\"sm\":[1]}},\"abc\":{{\"returns\":[-1],\"sm\":[1]}}}}'; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?",
  "rc 1, one line naming the record; no traceback"),
 ("state", "record of a variant of a flag the file lacks: td3_pave[nosuch=3]", f"{MK} plan s; {MK} rec s Pendulum-v1 td3_pave 1; {MK} rec s Pendulum-v1 'td3_pave[nosuch=3]' 1 sm=0.4; $P $R/benchmarks/study.py report s --resamples 100 > /dev/null; echo rc=$?; ls s",
  "rc 1, one line naming the record (td3_pave.py has no --nosuch); no traceback"),
 ("state", "record whose critic is the string 'x'", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 'critic=\"x\"'; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?",
  "rc 1, one line naming the record; no traceback"),
 ("state", "status: waiting.txt not JSON while a job holds the run's lock", f"{MK} plan s 1; mkdir -p s/work/Pendulum-v1/td3/seed0; echo '$ x' > s/work/Pendulum-v1/td3/seed0/train.log; echo '{{cut' > s/work/Pendulum-v1/td3/seed0/waiting.txt; (flock s/work/Pendulum-v1/td3/seed0/.lock sleep 20 &); sleep 1; $P $R/benchmarks/study.py status s; echo rc=$?",
  "rc 1 one line naming waiting.txt, or the run listed; no traceback"),
 ("state", "status: failed.txt holds bytes that are not UTF-8", f"{MK} plan s 1; mkdir -p s/work/Pendulum-v1/td3/seed0; printf 'Traceback\\n\\xff\\xfe bad\\n' > s/work/Pendulum-v1/td3/seed0/failed.txt; $P $R/benchmarks/study.py status s; echo rc=$?",
  "the failed run listed (bad bytes replaced), or one line; no traceback"),
 ("state", "train.json is a JSON list (record removed), `run` again", f"{BASE}; rm {REC}; echo '[1, 2]' > {TD3W}/train.json; {STUDY} --study s --total-timesteps 200 --obs-noise 0.05 2>&1 | tail -2; echo rc=${{PIPESTATUS[0]}}",
  "FAILED (or refused) with a line naming train.json as malformed"),
 ("state", "train_seconds.txt holds 'abc' (record and train.json removed), `run` again", f"{BASE}; rm {REC} {TD3W}/train.json; echo abc > {TD3W}/train_seconds.txt; {STUDY} --study s --total-timesteps 200 --obs-noise 0.05 2>&1 | tail -2; echo rc=${{PIPESTATUS[0]}}",
  "FAILED with a line that names train_seconds.txt"),
 ("state", "record with total_timesteps 'x' beside one of 200", f"{MK} plan s; {MK} rec s Pendulum-v1 td3 1 total_timesteps=200; {MK} rec s Pendulum-v1 td3 2 'total_timesteps=\"x\"' sm=2; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/null; echo rc=$?; grep -c 'different budgets' s/report.md",
  "rc 1 one line naming the record, or the budgets warning; no traceback"),
 # --- (6) output failures lose nothing -----------------------------------------------------------------------------
 ("output", "status of a 3000-run plan into `| head -c 10`", f"{MK} plan s 3000; $P $R/benchmarks/study.py status s 2>err.txt | head -c 10; rc=${{PIPESTATUS[0]}}; echo; echo rc=$rc; cat err.txt | tail -3",
  "rc 1, one line `cannot print the output`; no BrokenPipeError traceback"),
 ("output", "td3_caps.py with stdout closed (>&-)", f"$P $R/td3_caps.py {T} --total-timesteps 150 >&- 2>err.txt; echo rc=$?; tail -3 err.txt; ls runs/*/",
  "the run trains and saves; at most one line about the output; no traceback"),
 ("output", "export with stdout on /dev/full", f"{SEED}; $P $R/export_policy.py runs/*/c.pt --format torchscript --out p.ts > /dev/full; echo rc=$?; ls p.ts",
  "rc 1, one line `cannot print the output ... files are written`; p.ts kept"),
 ("output", "report with stdout on /dev/full", f"{SWEEPREC}; $P $R/benchmarks/study.py report s --resamples 100 --no-plots > /dev/full; echo rc=$?; ls s",
  "rc 1, one line; report.md and report.csv written"),
 ("output", "study_scalars --out in a missing folder (the sweep runs as root: a read-only folder is writable)", f"{BASE}; $P $R/benchmarks/study_scalars.py s --out nope/x.csv; echo rc=$?",
  "rc 1, one line before reading the event files (as eval, export and throughput check --out)"),
 ("output", "study.py run --dry-run with stdout closed (>&-)", f"$P $R/benchmarks/study.py run --study s --methods td3 --envs Pendulum-v1 --seeds 1 --dry-run >&- 2>err.txt; echo rc=$?; tail -3 err.txt",
  "at most one line; no traceback"),
 ("output", "throughput with stdout on /dev/full", f"$P $R/benchmarks/throughput.py --configs 'a=td3_pave.py --hidden-sizes 16 16 --batch-size 16' --env-id Pendulum-v1 --steps 20 --learning-starts 100 --repeats 1 --threads 1 --out t.json > /dev/full; echo rc=$?; ls t.json",
  "rc 1, one line; t.json written"),
 # --- (7) checks up front ------------------------------------------------------------------------------------------
 ("upfront", "--resume of a state with NaN in qf2 (the networks resumed)", f"{SEED}; {MK} edit runs/*/c.resume.pt \"s['nets']['qf2']['net.0.weight'][0,0]=float('nan')\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 400 > /dev/null; echo rc=$?",
  "rc 1, one line naming the damaged resume state, before training"),
 ("upfront", "--resume of a state whose replay buffer pos is 10^9", f"{SEED}; {MK} edit runs/*/c.resume.pt \"s['buffer']['pos']=10**9\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 200 > /dev/null; echo rc=$?",
  "rc 1, one line (malformed replay buffer); no traceback"),
 ("upfront", "--resume of a state whose global_step is the string '120'", f"{SEED}; {MK} edit runs/*/c.resume.pt \"s['global_step']='120'\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 200 > /dev/null; echo rc=$?",
  "rc 1, one line; no traceback"),
 ("upfront", "--resume of a state whose global_step is -50", f"{SEED}; {MK} edit runs/*/c.resume.pt \"s['global_step']=-50\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 200 | tail -2; echo rc=${{PIPESTATUS[0]}}",
  "rc 1, one line (a step below 0 is malformed)"),
 ("upfront", "sac_pave.py --autotune-lambda3 --curv-target nan", f"$P $R/sac_pave.py {T} --autotune-lambda3 --curv-target nan; echo rc=$?; ls",
  "rc 1, one line, nothing created"),
 ("upfront", "td3_pave_fast.py --autotune-lambda3 --curv-target inf", f"$P $R/td3_pave_fast.py {T} --autotune-lambda3 --curv-target inf; echo rc=$?; ls",
  "rc 1, one line, nothing created"),
 ("upfront", "sac_pave.py --autotune-lambda3 --lambda3 5000 (above the clamp)", f"$P $R/sac_pave.py {T} --autotune-lambda3 --lambda3 5000; echo rc=$?",
  "rc 1, one line"),
 ("upfront", "--resume of an --autotune-lambda3 run with --no-autotune-lambda3", f"{SEEDA}; $P $R/td3_pave.py --resume runs/* --no-autotune-lambda3 --total-timesteps 300; echo rc=$?",
  "rc 1, one line: the run keeps its own"),
 ("upfront", "--resume of a plain run with --autotune-lambda3 --curv-target 0.2 (sac_pave.py)", f"$P $R/sac_pave.py {T} --total-timesteps 150 --exp-name c > /dev/null 2>&1; $P $R/sac_pave.py --resume runs/* --autotune-lambda3 --curv-target 0.2 --total-timesteps 300; echo rc=$?",
  "rc 1, one line naming both flags"),
 ("upfront", "--resume of an autotuned state without log_lambda3 (as if older)", f"{SEEDA}; {MK} edit runs/*/a.resume.pt \"del s['nets']['log_lambda3']\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 300; echo rc=$?",
  "rc 1, one line naming log_lambda3"),
 ("upfront", "--resume of an autotuned state whose log_lambda3 has shape [2]", f"{SEEDA}; {MK} edit runs/*/a.resume.pt \"s['nets']['log_lambda3']=torch.zeros(2)\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 300; echo rc=$?",
  "rc 1, one line"),
 ("upfront", "--resume of an autotuned state whose log_lambda3 is log(1e9), above the clamp", f"{SEEDA}; {MK} edit runs/*/a.resume.pt \"s['nets']['log_lambda3']=torch.tensor(math.log(1e9))\"; cp -r runs r2; {FIRST_USE} $(ls -d r2/*) | grep 'first update'; $P $R/td3_pave.py --resume runs/* --total-timesteps 260 > /dev/null; echo rc=$?; $P -c \"import torch,glob,math;s=torch.load(glob.glob('runs/*/a.pt')[0],weights_only=True);print('lambda3 after', math.exp(s['log_lambda3']))\"",
  "rc 1, one line (out of [1e-4, 1e3]), or clamped before its first use"),
 ("upfront", "eval and export of an --autotune-lambda3 checkpoint (td3_pave_fast.py)", f"$P $R/td3_pave_fast.py {T} --total-timesteps 250 --autotune-lambda3 --exp-name a > /dev/null 2>&1; $P $R/eval_smoothness.py runs/* --episodes 1 --no-plots --out-dir o | tail -1; echo rc=${{PIPESTATUS[0]}}; $P $R/export_policy.py runs/*/a.pt --format torchscript --out p.ts | cut -c1-70; echo rc=${{PIPESTATUS[0]}}",
  "both rc 0"),
 ("upfront", "study --vary curv_target=0.05,0.2 of td3_pave (no --autotune-lambda3: changes nothing)", f"$P $R/benchmarks/study.py run --study s --methods td3_pave --envs Pendulum-v1 --seeds 1 --vary curv_target=0.05,0.2 --dry-run; echo rc=$?",
  "rc 1, one line (curv_target changes nothing without autotune_lambda3); never the same setting trained three times"),
 ("upfront", "sac_grad.py --train-frequency 100000 --total-timesteps 300 (no update ever)", f"$P $R/sac_grad.py {T} --total-timesteps 300 --train-frequency 100000 2>&1 | tail -2; echo rc=${{PIPESTATUS[0]}}",
  "a warning (as for --learning-starts) or a refusal: the run never updates"),
 ("upfront", "td3_pave.py --pave-every 10^9 (one PAVE update, its lambdas times 10^9)", f"$P $R/td3_pave.py {T} --total-timesteps 300 --pave-every 1000000000 2>&1 | tail -2; echo rc=${{PIPESTATUS[0]}}",
  "rc 1, one line (k above the updates the run does), or a true stop line"),
 ("upfront", "eval --seed 2^32-1 with 2 episodes (seed + i passes 2^32)", f"{SEED}; $P $R/eval_smoothness.py runs/* --seed 4294967295 --episodes 2 --no-plots --out-dir o | tail -1; echo rc=${{PIPESTATUS[0]}}",
  "rc 0, or one line before any work"),
]


def main():
    only = set(sys.argv[1:])
    os.makedirs(W, exist_ok=True)
    with open(MKPY, "w") as f:
        f.write(MK_SOURCE)
    for i, (area, case, cmd, expected) in enumerate(CASES, 1):
        if only and str(i) not in only:
            continue
        d = os.path.join(W, str(i))
        subprocess.run(["chmod", "-R", "u+w", d], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        env = {**os.environ, "P": P, "R": R, "OMP_NUM_THREADS": "1"}
        start = time.time()
        r = subprocess.run(["bash", "-c", cmd], cwd=d, env=env, capture_output=True, text=True, timeout=600,
                           errors="replace")
        out = {"n": i, "area": area, "case": case, "command": cmd, "expected": expected, "rc": r.returncode,
               "stdout": r.stdout[-3000:], "stderr": r.stderr[-3000:], "seconds": round(time.time() - start, 1)}
        print(i, case, "rc", r.returncode, out["seconds"], "s", flush=True)
        with open(f"{TOP}/raw.jsonl", "a") as f:
            f.write(json.dumps(out) + "\n")


main()
