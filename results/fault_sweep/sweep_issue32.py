"""Fault sweep for issue 32: each case in a fresh folder, its command through bash, its outcome recorded."""
import json, os, shutil, subprocess, sys, time, glob
P, R = "/work/main/.venv/bin/python", "/work/wt-32"
W = "/tmp/wt32-sweep/w"
T = "--env-id Pendulum-v1 --learning-starts 100 --hidden-sizes 16 16 --batch-size 16 --snapshot-fractions"
STUDY = (f"$P $R/benchmarks/study.py run --methods td3 --envs Pendulum-v1 --seeds 1 --flags learning_starts=100 "
         f"batch_size=16 'hidden_sizes=16 16' --episodes 1 --noise-episodes 1 --workers 1")
CK = "runs/*/c.pt"
FINITE = f"""$P -c "
import sys,glob,torch
def fin(x):
    if torch.is_tensor(x): return not x.is_floating_point() or bool(torch.isfinite(x).all())
    if isinstance(x, dict): return all(fin(v) for v in x.values())
    if isinstance(x,(list,tuple)): return all(fin(v) for v in x)
    return True
for p in sorted(glob.glob('runs/*/*.pt')):
    d=torch.load(p,weights_only=True,map_location='cpu'); print('PAIR', p.split('/')[-1], d['global_step'], 'finite' if fin(d) else 'NONFINITE')
" """
SEED = f"$P $R/td3_pave.py {T} --total-timesteps 120 --exp-name c > /dev/null 2>&1"  # a checkpoint to work on

CASES = [
 ("nonfinite", "sac_caps.py, lr 1e30, save every step", f"$P $R/sac_caps.py {T} --total-timesteps 300 --learning-rate 1e30 --checkpoint-interval 1; {FINITE}",
  "rc 1, one line naming the loss or weight and the step; saved pair finite"),
 ("nonfinite", "td3_grad.py, lr 1e38, policy every 5th step, save every 7", f"$P $R/td3_grad.py {T} --total-timesteps 300 --learning-rate 1e38 --policy-frequency 5 --checkpoint-interval 7; {FINITE}",
  "rc 1, one line; saved pair finite"),
 ("nonfinite", "td3_pave_fast.py, lr 1e38, policy every 3rd step, save every step", f"$P $R/td3_pave_fast.py {T} --total-timesteps 300 --learning-rate 1e38 --policy-frequency 3 --checkpoint-interval 1; {FINITE}",
  "rc 1, one line; saved pair finite"),
 ("nonfinite", "sac_asap.py --autotune, lr 1e12", f"$P $R/sac_asap.py {T} --total-timesteps 300 --autotune --learning-rate 1e12 --checkpoint-interval 1; {FINITE}",
  "rc 1, one line, no traceback; saved pair finite"),
 ("nonfinite", "td3_asap.py lr 1e300 (finite as a float, inf in float32)", f"$P $R/td3_asap.py {T} --total-timesteps 300 --learning-rate 1e300 --checkpoint-interval 1; {FINITE}",
  "rc 1, one line; saved pair finite"),
 ("flags", "sac_grad.py --learning-rate -inf", f"$P $R/sac_grad.py {T} --learning-rate -inf",
  "rc 1, one line, nothing created"),
 ("signal", "SIGHUP by kill, stdout a log file", f"($P $R/td3_caps.py {T} --total-timesteps 100000 --checkpoint-interval 0 > log.txt 2>&1 & pid=$!; until grep -q 'warm-up done' log.txt; do sleep 0.1; done; kill -HUP $pid; wait $pid; echo rc=$?); tail -2 log.txt; {FINITE}",
  "rc 130, pair saved, log lines kept"),
 ("signal", "SIGHUP twice 20 ms apart (sac_pave.py)", f"($P $R/sac_pave.py {T} --total-timesteps 100000 --checkpoint-interval 0 > log.txt 2>&1 & pid=$!; until grep -q 'warm-up done' log.txt; do sleep 0.1; done; kill -HUP $pid; sleep 0.02; kill -HUP $pid; wait $pid; echo rc=$?); tail -1 log.txt; {FINITE}",
  "rc 130, one save, pair saved"),
 ("signal", "SIGHUP, then --resume to 50 more steps", f"($P $R/td3_grad.py {T} --total-timesteps 100000 --checkpoint-interval 0 > log.txt 2>&1 & pid=$!; until grep -q 'warm-up done' log.txt; do sleep 0.1; done; kill -HUP $pid; wait $pid; echo rc=$?); s=$($P -c \"import torch,glob;print(torch.load(glob.glob('runs/*/td3_grad.resume.pt')[0],weights_only=True,mmap=True)['global_step'])\"); $P $R/td3_grad.py --resume runs/* --total-timesteps $((s+50)) | tail -1; echo rc=$?",
  "rc 130, then resume rc 0 to step+50"),
 ("signal", "SIGKILL mid-run (interval 100), then --resume", f"($P $R/td3_pave.py {T} --total-timesteps 100000 --checkpoint-interval 100 > log.txt 2>&1 & pid=$!; until [ -n \"$(ls runs/*/td3_pave.pt 2>/dev/null)\" ]; do sleep 0.1; done; sleep 1; kill -9 $pid; wait $pid; echo rc=$?); {FINITE}; $P $R/td3_pave.py --resume runs/* --total-timesteps 700 | tail -1",
  "rc -9/137; pair of the last interval; resume rc 0 (work since that save lost)"),
 ("write", "disk full on the resume state's first write", f"($P $R/td3_pave.py {T} --total-timesteps 400 --checkpoint-interval 200 --exp-name df > log.txt 2>err.txt & pid=$!; until d=$(ls -d runs/*__df__* 2>/dev/null); do sleep 0.02; done; ln -s /dev/full $d/df.resume.pt.tmp; wait $pid; echo rc=$?); cat err.txt; ls runs/*",
  "rc 1, one true line (nothing saved before)"),
 ("write", "run folder removed before the only save (interval 0)", f"($P $R/sac_caps.py {T} --total-timesteps 600 --checkpoint-interval 0 > log.txt 2>err.txt & pid=$!; until grep -q 'warm-up done' log.txt; do sleep 0.05; done; rm -rf runs/*; wait $pid; echo rc=$?); cat err.txt",
  "rc 1, one line, no traceback"),
 ("write", "runs/ replaced by a file mid-run", f"($P $R/td3_caps.py {T} --total-timesteps 2000 --checkpoint-interval 500 > log.txt 2>err.txt & pid=$!; until grep -q 'warm-up done' log.txt; do sleep 0.05; done; rm -rf runs; echo x > runs; wait $pid; echo rc=$?); cat err.txt",
  "rc 1, one line, no traceback"),
 ("write", "eval: eval.csv's temp file on a full disk", f"{SEED}; mkdir o; ln -s /dev/full o/eval.csv.tmp; $P $R/eval_smoothness.py runs/* --episodes 1 --no-plots --out-dir o; echo rc=$?; ls o",
  "rc 1, one line `cannot write o/eval.csv`"),
 ("write", "study record's temp file on a full disk", f"mkdir -p s/records/Pendulum-v1/td3; ln -s /dev/full s/records/Pendulum-v1/td3/seed1.json.tmp; {STUDY} --study s --total-timesteps 150; echo rc=$?",
  "rc 1, FAILED with `cannot write …seed1.json: No space left on device`"),
 ("flags", "eval --noise-reference-episodes 0", f"{SEED}; $P $R/eval_smoothness.py runs/* --noise-reference-episodes 0",
  "rc 1, one line"),
 ("flags", "eval --action-filter 1.0", f"{SEED}; $P $R/eval_smoothness.py runs/* --action-filter 1.0 --no-plots",
  "rc 1, one line"),
 ("flags", "eval --seed 2^32", f"{SEED}; $P $R/eval_smoothness.py runs/* --seed 4294967296",
  "rc 1, one line"),
 ("flags", "eval --out-dir is a file", f"{SEED}; echo x > f; $P $R/eval_smoothness.py runs/* --out-dir f --no-plots",
  "rc 1, one line"),
 ("flags", "export --out ''", f"{SEED}; $P $R/export_policy.py {CK} --out ''",
  "rc 1, one line"),
 ("flags", "export --out in a missing folder", f"{SEED}; $P $R/export_policy.py {CK} --out nope/p.onnx; ls",
  "rc 1, one line, before loading"),
 ("flags", "throughput --threads 0", f"$P $R/benchmarks/throughput.py --threads 0",
  "rc 1, one line"),
 ("flags", "throughput label repeated across files", f"$P $R/benchmarks/throughput.py --configs 'x=td3_pave.py' 'x=sac_pave.py' --env-id Pendulum-v1",
  "rc 1, one line, before any run"),
 ("flags", "throughput --out in a missing folder", f"$P $R/benchmarks/throughput.py --env-id Pendulum-v1 --out nope/t.json",
  "rc 1, one line, before any run"),
 ("flags", "throughput config --batch-size 0", f"$P $R/benchmarks/throughput.py --configs 'a=td3_pave.py --batch-size 0' --env-id Pendulum-v1 --steps 10 --learning-starts 5 --repeats 1",
  "rc 1, one line naming the config, before any run"),
 ("flags", "study --obs-noise 0.05 -0.01", f"{STUDY} --study s --obs-noise 0.05 -0.01; ls",
  "rc 1, one line, no study folder"),
 ("flags", "study --timeout-min 0", f"{STUDY} --study s --timeout-min 0",
  "rc 1, one line"),
 ("flags", "study --seeds -1", f"{STUDY.replace('--seeds 1', '--seeds -1')} --study s",
  "rc 1, one line"),
 ("flags", "study --executor slurm --slurm-partition nope (no Slurm here)", f"{STUDY} --study s --executor slurm --slurm-partition nope",
  "rc 1, one line"),
 ("fork", "eval of a checkpoint with --activation gelu", f"{SEED}; $P -c \"import torch,glob;p=glob.glob('{CK}')[0];c=torch.load(p,weights_only=True);c['args']['activation']='gelu';torch.save(c,'g.pt')\"; $P $R/eval_smoothness.py g.pt --no-plots",
  "rc 1, one line naming the setting"),
 ("fork", "eval of a checkpoint with a setting this repo lacks (a fork's new weight)", f"{SEED}; $P -c \"import torch,glob;p=glob.glob('{CK}')[0];c=torch.load(p,weights_only=True);c['args']['lambda9']=0.5;torch.save(c,'n.pt')\"; $P $R/eval_smoothness.py n.pt --episodes 1 --no-plots --out-dir o | tail -1",
  "rc 0, evaluated (the setting ignored)"),
 ("fork", "export of a checkpoint with hidden_sizes []", f"{SEED}; $P -c \"import torch,glob;p=glob.glob('{CK}')[0];c=torch.load(p,weights_only=True);c['args']['hidden_sizes']=[];torch.save(c,'h.pt')\"; $P $R/export_policy.py h.pt --format torchscript",
  "rc 1, one line"),
 ("fork", "--resume of a resume state with --activation tanh", f"{SEED}; $P -c \"import torch,glob;p=glob.glob('runs/*/c.resume.pt')[0];c=torch.load(p,weights_only=True);c['args']['activation']='tanh';torch.save(c,p)\"; $P $R/td3_pave.py --resume runs/* --total-timesteps 200",
  "rc 1 or 2, refused in one line or tyro's box; no traceback"),
 ("study", "reference's record present, its work absent (continued elsewhere), another method waits", f"{STUDY} --study s --total-timesteps 150 --obs-noise 0.05 > /dev/null; rm -rf s/work; timeout 300 {STUDY.replace('--methods td3', '--methods td3 td3_grad')} --study s --total-timesteps 150 --obs-noise 0.05; echo rc=$?",
  "ends (no hang), FAILED with the reason, rc 1"),
 ("study", "continued with a budget below the steps done", f"{STUDY} --study s --total-timesteps 200 > /dev/null; rm s/records/Pendulum-v1/td3/seed1.json s/work/Pendulum-v1/td3/seed1/train.json; {STUDY} --study s --total-timesteps 150; echo rc=$?",
  "rc 1, FAILED with the training's one line (below the steps done); no record of 200 under 150"),
 ("study", "SIGHUP to `study.py run`", f"({STUDY} --study s --total-timesteps 100000 > log.txt 2>&1 & pid=$!; until grep -qs 'warm-up done' s/work/Pendulum-v1/td3/seed1/train.log; do sleep 0.2; done; kill -HUP $pid; wait $pid; echo rc=$?); sleep 8; tail -1 log.txt; ls s/work/Pendulum-v1/td3/seed1/runs/*/; for p in /proc/[0-9]*; do case $(readlink $p/cwd 2>/dev/null) in $PWD*) [ ${{p#/proc/}} = $$ ] || echo ORPHAN ${{p#/proc/}};; esac; done",
  "rc 130, training saved, no orphan"),
]

def main():
    only = set(sys.argv[1:])
    out = []
    for i, (area, case, cmd, expected) in enumerate(CASES, 1):
        if only and str(i) not in only:
            continue
        d = os.path.join(W, str(i))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        env = {**os.environ, "P": P, "R": R, "OMP_NUM_THREADS": "1"}
        start = time.time()
        r = subprocess.run(["bash", "-c", cmd], cwd=d, env=env, capture_output=True, text=True, timeout=600)
        out.append({"n": i, "area": area, "case": case, "command": cmd, "expected": expected, "rc": r.returncode,
                    "stdout": r.stdout[-3000:], "stderr": r.stderr[-3000:], "seconds": round(time.time() - start, 1)})
        print(i, case, "rc", r.returncode, round(time.time() - start, 1), "s", flush=True)
        with open("/tmp/wt32-sweep/raw.jsonl", "a") as f:
            f.write(json.dumps(out[-1]) + "\n")

main()
