# benchmarks/study.py: the paper's settings (the documented commands are checked against them in test_readme.py), the
# statistics against hand-computed values and exact enumeration, and tiny studies end to end through submitit's local
# executor and a real Slurm.
import csv
import glob
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import types

import numpy as np
import pytest
import tyro
from scipy.stats import mannwhitneyu

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import run_utils  # noqa: E402
import study  # noqa: E402
import study_report  # noqa: E402

TINY_STUDY = dict(
    envs=("Pendulum-v1",),
    seeds=(1, 2),
    total_timesteps=200,
    flags=("learning_starts=100", "batch_size=32", "hidden_sizes=32 32"),
    episodes=1,
    noise_episodes=1,
    obs_noise=(0.05,),
    critic_metrics=True,
    workers=2,
)


# what a documented command may set beside the paper's settings: run bookkeeping, td3_pave_fast.py's --compile and
# --cudagraphs (the same math) and the activation (the baselines page's ReLU commands run the baselines as the paper's text
# describes them)
NOT_SETTINGS = {"exp_name", "seed", "torch_deterministic", "device", "track", "wandb_project_name", "wandb_entity",
                "checkpoint_interval", "compile", "cudagraphs", "activation"}  # fmt: skip


def module_args(file, flags):
    """The Args a command line gives an algorithm file (tyro, as the file parses it), less NOT_SETTINGS."""
    import importlib

    module = importlib.import_module(file[: -len(".py")])
    return {k: v for k, v in vars(tyro.cli(module.Args, args=flags)).items() if k not in NOT_SETTINGS}


def test_paper_flags_and_bad_input():
    flags = study.paper_flags("td3_pave", "Pendulum-v1")
    assert flags == {"env_id": "Pendulum-v1", "total_timesteps": 100_000, "gamma": 0.98, "buffer_size": 200_000,
                     "lambda1": 2.0, "lambda2": 0.005, "lambda3": 2.0}  # fmt: skip
    assert study.paper_flags("sac_caps", "Walker2d-v5") == {
        "env_id": "Walker2d-v5", "total_timesteps": 1_000_000, "lambda_t": 0.1, "lambda_s": 0.5}  # fmt: skip
    file, cli = study.train_command("td3_mpr", "Pendulum-v1", 3, 30_000, fast=True)
    assert file == "td3_pave_fast.py" and cli[cli.index("--total-timesteps") + 1] == "30000"
    assert module_args("td3_pave.py", cli)["lambda2"] == 0.0
    assert cli[cli.index("--checkpoint-interval") + 1] == "0" and "--compile" not in cli
    file, cli = study.train_command("td3_pave", "Hopper-v5", 1, fast=True, checkpoint_interval=5000, compile=True)
    assert cli[cli.index("--checkpoint-interval") + 1] == "5000" and "--compile" in cli
    assert module_args("td3_pave_fast.py", cli)["lambda3"] == 0.5  # the fast file parses it
    assert "--compile" not in study.train_command("td3_caps", "Hopper-v5", 1, fast=True, compile=True)[1]
    assert "--cudagraphs" in study.train_command("td3_pave", "Hopper-v5", 1, fast=True, cudagraphs=True)[1]
    assert "--cudagraphs" not in study.train_command("sac_pave", "Hopper-v5", 1, fast=True, cudagraphs=True)[1]
    with pytest.raises(study.UserError, match="unknown method"):
        study.paper_flags("td4", "Pendulum-v1")
    # a weight in --flags goes to the PAVE method only (td3 stays the base, at 0); a flag over the paper's setting
    # replaces it, each command naming it once (the files refuse a repeated flag)
    jobs = study.plan(study.Run(study="x", methods=("td3", "td3_pave"), envs=("Pendulum-v1",), seeds=(1,),
                                flags=("lambda1=1", "gamma=0.9")))  # fmt: skip
    for job in jobs:
        assert job["flags"].count("--gamma") == job["flags"].count("--lambda1") == 1, job["flags"]
    parsed = {j["method"]: module_args(j["file"], j["flags"]) for j in jobs}
    assert [(parsed[m]["lambda1"], parsed[m]["lambda3"], parsed[m]["gamma"]) for m in ("td3", "td3_pave")] == [
        (0.0, 0.0, 0.9), (1.0, 2.0, 0.9)]  # fmt: skip
    with pytest.raises(study.UserError, match="--flags lambda1: a weight of the base"):  # td3 alone: no PAVE to take it
        study.plan(study.Run(study="x", methods=("td3",), flags=("lambda1=1",)))
    with pytest.raises(study.UserError, match="not in paper_settings.toml: td4"):
        study.plan(study.Run(study="x", methods=("td4",)))
    # an env the paper did not train (a user's own task): the files' defaults, the method's "*" weights or the file's
    assert study.paper_flags("td3_pave", "InvertedPendulum-v5") == {"env_id": "InvertedPendulum-v5"}
    assert study.paper_flags("td3_caps", "InvertedPendulum-v5") == {
        "env_id": "InvertedPendulum-v5", "lambda_t": 0.1, "lambda_s": 0.5}  # fmt: skip
    jobs = study.plan(study.Run(study="x", methods=("td3", "td3_pave"), envs=("InvertedPendulum-v5",), seeds=(1,),
                                total_timesteps=3000, vary=("lambda3=0.1",)))  # fmt: skip
    parsed = {j["method"]: module_args(j["file"], j["flags"]) for j in jobs}
    assert {m: (a["lambda1"], a["lambda2"], a["lambda3"], a["gamma"], a["total_timesteps"]) for m, a in parsed.items()} == {
        "td3": (0.0, 0.0, 0.0, 0.99, 3000), "td3_pave": (0.1, 0.1, 0.01, 0.99, 3000),
        "td3_pave[lambda3=0.1]": (0.1, 0.1, 0.1, 0.99, 3000)}  # fmt: skip
    assert all("--lambda3" in j["flags"] for j in jobs)  # every weight on the plan's command lines, defaults too
    for env_id, why in (("CartPole-v1", "a continuous (Box) one is needed"), ("Nope-v0", "cannot make env 'Nope-v0'")):
        with pytest.raises(study.UserError, match=re.escape(why)):  # refused when planned, not in a job
            study.plan(study.Run(study="x", methods=("td3",), envs=(env_id,)))
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "status", "/nonexistent"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error:") and len(bad.stderr.strip().splitlines()) == 1


def test_bookkeeping_flags_repeated_seeds_and_bad_records_are_refused(tmp_path):
    def plan(**kw):
        return study.plan(study.Run(study=str(tmp_path), methods=("td3",), **kw))

    for flags in (("seed=7",), ("exp_name=x",), ("total-timesteps=5",), ("resume=runs/x",)):
        with pytest.raises(study.UserError, match="the study sets these itself"):
            plan(flags=flags)
    with pytest.raises(study.UserError, match="--seeds 1 2 1 repeats a seed"):
        plan(seeds=(1, 2, 1))
    with pytest.raises(study.UserError, match="--total-timesteps must be >= 1, got 0"):
        plan(total_timesteps=0)
    write_record(str(tmp_path), "Pendulum-v1", "td3", 1, [1.0], [1.0])
    path = os.path.join(str(tmp_path), "records", "Pendulum-v1", "td3", "seed1.json")
    record = json.load(open(path))
    study.write_json(path, {k: v for k, v in record.items() if k != "levels"})
    with pytest.raises(study.UserError, match=f"record {re.escape(path)} lacks levels"):
        study_report.load_records(str(tmp_path))


def test_records_of_other_settings_and_runs_that_train_nothing_are_refused(tmp_path, capsys):
    """The committed Pendulum records match their run.sh settings; another budget or flag is refused, not silently
    kept; a run that would never leave its warm-up is refused unless asked for, and marked in the report."""
    committed = study.Run(study=os.path.join(ROOT, "results", "pendulum_sac"), methods=("sac", "sac_pave"),
                          seeds=(1, 2), total_timesteps=30000)  # fmt: skip
    assert all(study.settings_differ(j) == {} for j in study.plan(committed))
    root = str(tmp_path / "s")
    shutil.copytree(os.path.join(ROOT, "results", "pendulum_sac", "records", "Pendulum-v1", "sac"),
                    os.path.join(root, "records", "Pendulum-v1", "sac"))  # fmt: skip
    for changed, message in [({"total_timesteps": 50000}, "--total-timesteps 30000 there, 50000 asked"),
                             ({"flags": ("activation=relu",)}, "--activation silu there, relu asked")]:  # fmt: skip
        args = study.Run(study=root, methods=("sac",), seeds=(1,), **({"total_timesteps": 30000} | changed))
        with pytest.raises(study.UserError, match=f"1 records of {re.escape(root)} were made with other settings.*"
                                                  f"{re.escape(message)}.*use a new --study folder"):  # fmt: skip
            study.run(args)
    args = study.Run(study=root, methods=("sac",), seeds=(1,), total_timesteps=600, replace_other_settings=True,
                     flags=("learning_starts=100", "hidden_sizes=16 16", "batch_size=16"), episodes=1, workers=1)  # fmt: skip
    assert study.run(args) == 0  # the 30000-step record set aside, the run trained again at 600 steps
    assert json.load(open(os.path.join(root, "records", "Pendulum-v1", "sac", "seed1.json")))["global_step"] == 600
    assert len(glob.glob(os.path.join(root, "replaced", "*", "records", "Pendulum-v1", "sac", "seed1.json"))) == 1
    with pytest.raises(study.UserError, match="--total-timesteps 600 is not above learning_starts 10000"):
        study.run(study.Run(study=str(tmp_path / "t"), methods=("td3",), seeds=(1,), total_timesteps=600))
    record = json.load(open(os.path.join(root, "records", "Pendulum-v1", "sac", "seed1.json")))
    record["args"]["learning_starts"], record["global_step"] = 30000, 30000
    study.write_json(os.path.join(root, "records", "Pendulum-v1", "sac", "seed1.json"), record)
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    assert study_report.report(study_report.Report(study=root, resamples=200, plots=False)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert "## Runs that did no update" in text and "- Pendulum-v1/sac/seed1: 30000 steps, learning_starts 30000" in text


def test_failure_reasons_values_with_hyphens_and_malformed_records(tmp_path):
    """Found by a fault sweep: FAILED lines that showed submitit's log list, '1e-4' rewritten to '1e_4', reports
    that crashed on a record of the wrong shape or an unreadable plan."""
    failed = Exception("failed with trace:\nRuntimeError: training exited with code 1; the end of w/train.log:\n"
                       "$ python td3_pave.py\nerror: --lambda1 must be a finite number >= 0, got -1.0\n"
                       "You can check full logs at paths:\n  - /a/log.err\n  - /a/log.out")  # fmt: skip
    assert study.failure_reason(failed) == "training exited with code 1: error: --lambda1 must be a finite number >= 0, got -1.0"
    assert study.failure_reason(Exception("x\nRuntimeError: a/b is being trained by another process\n  - /a")) == (
        "a/b is being trained by another process")
    (job,) = study.plan(study.Run(study=str(tmp_path), methods=("td3",), seeds=(1,), flags=("learning-rate=1e-4",)))
    assert job["flags"][job["flags"].index("--learning-rate") + 1] == "1e-4"
    write_record(str(tmp_path), "Pendulum-v1", "td3", 1, [1.0], [1.0])
    path = os.path.join(str(tmp_path), "records", "Pendulum-v1", "td3", "seed1.json")
    for broken in ({"levels": "x"}, {"levels": {"0.0": {"returns": [1.0]}}}, {"train_seconds": "abc"}):
        study.write_json(path, json.load(open(path)) | broken)
        with pytest.raises(study.UserError, match=f"record {re.escape(path)} is malformed"):
            study_report.load_records(str(tmp_path))
        write_record(str(tmp_path), "Pendulum-v1", "td3", 1, [1.0], [1.0])
    with open(os.path.join(str(tmp_path), "study.json"), "w") as f:
        f.write("{")
    with pytest.raises(study.UserError, match="cannot read .*study.json"):
        study.load_plan(str(tmp_path))
    # a second fault sweep: `run` on a cut study.json (a merge conflict), a plan without a run's method, a cut record
    with pytest.raises(study.UserError, match="cannot read .*study.json"):
        study.save_plan(study.Run(study=str(tmp_path), methods=("td3",)), [])
    study.write_json(os.path.join(str(tmp_path), "study.json"), {"runs": [{"env_id": "Pendulum-v1"}]})
    with pytest.raises(study.UserError, match=r"cannot read .*study.json \(KeyError"):
        study.load_plan(str(tmp_path))
    with open(path, "w") as f:
        f.write('{"args": {')
    with pytest.raises(study.UserError, match=f"record {re.escape(path)} is malformed: remove it"):
        study.settings_differ(job | {"study": str(tmp_path)})


def test_a_record_without_the_evaluation_asked_now_is_said(tmp_path, capsys):
    """Found by a fault sweep: --obs-noise, --critic-metrics and --episodes were silently ignored where records
    existed; `run` keeps the record (the training is the same) and says what it lacks and how to evaluate anew."""
    write_record(str(tmp_path), "Pendulum-v1", "td3", 1, [1.0], [1.0])
    asked = study.Run(study=str(tmp_path), methods=("td3",), seeds=(1,), obs_noise=(0.05,), critic_metrics=True,
                      episodes=2, dry_run=True)  # fmt: skip
    assert study.run(asked) == 0
    assert ("1 records lack evaluations asked now (e.g. Pendulum-v1/td3/seed1: obs noise 0.05, critic metrics, 2 "
            "clean episodes (1 there)) and stay as they are") in capsys.readouterr().out
    assert study.run(study.Run(study=str(tmp_path), methods=("td3",), seeds=(1,), episodes=1, dry_run=True)) == 0
    assert "lack evaluations" not in capsys.readouterr().out


def test_study_scalars_never_writes_an_empty_csv_and_names_the_runs_it_has_not(tmp_path, capsys):
    """Found by a fault sweep: a misspelt tag replaced scalars.csv with its header; runs trained on another machine
    (records, no event files here) were left out without a word."""
    import study_scalars
    from torch.utils.tensorboard import SummaryWriter

    root = str(tmp_path / "s")
    for method in ("td3_pave", "td3"):
        write_record(root, "Pendulum-v1", method, 1, [1.0], [1.0])
    with SummaryWriter(os.path.join(root, "work", "Pendulum-v1", "td3_pave", "seed1", "runs", "x")) as writer:
        for step, value in ((100, 2.0), (200, 0.5)):
            writer.add_scalar("losses/curv", value, step)
    out = os.path.join(root, "scalars.csv")
    with open(out, "w") as f:
        f.write("kept\n")
    with pytest.raises(study.UserError) as e:
        study_scalars.main(study_scalars.Args(root, tags=("losses/curvv",), every=100))
    assert str(e.value) == f"none of --tags losses/curvv is in the 1 runs read; {out} left as it was"
    assert open(out).read() == "kept\n"
    study_scalars.main(study_scalars.Args(root, every=100))
    printed = capsys.readouterr().out
    assert f"1 runs with records have no event files here, so no rows in {out}: Pendulum-v1/td3/seed1" in printed
    assert "Pendulum-v1 td3_pave seed 1: losses/curv 2 -> 0.5" in printed
    assert open(out).read().splitlines()[1:] == ["Pendulum-v1,td3_pave,1,losses/curv,100,2,1",
                                                 "Pendulum-v1,td3_pave,1,losses/curv,200,0.5,1"]  # fmt: skip
    study_scalars.main(study_scalars.Args(root, every=100, plot=("losses/curvv",)))  # a misspelt tag: said, not drawn
    assert "--plot: no rows of losses/curvv" in capsys.readouterr().out and not glob.glob(os.path.join(root, "*.png"))


def test_a_run_in_training_elsewhere_is_left_alone(tmp_path, capsys):
    """The lock of a run's work folder: a second `run` (or one after a killed `run` whose jobs still train) reports
    the live run as skipped, not failed, and trains nothing."""
    import fcntl

    args = study.Run(study=str(tmp_path), methods=("td3",), seeds=(1,), total_timesteps=200, allow_no_update=True)
    (job,) = study.plan(args)
    work = study.run_paths(job["study"], "Pendulum-v1", "td3", 1)[0]
    os.makedirs(work)
    with open(os.path.join(work, ".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RuntimeError, match="Pendulum-v1/td3/seed1 is being trained by another process"):
            study.run_one(job)
        # through `run` and the local executor: the other process will write the record, so this is no failure
        assert study.run(args) == 0
    out = capsys.readouterr().out
    assert "SKIPPED Pendulum-v1/td3/seed1: Pendulum-v1/td3/seed1 is being trained by another process" in out
    assert "0 runs finished, 0 interrupted (saved), 1 skipped (training in another process), 0 failed" in out
    assert sorted(os.listdir(work)) == [".lock"]  # nothing started, no failed.txt
    assert not os.path.exists(study.run_paths(job["study"], "Pendulum-v1", "td3", 1)[1])


def test_iqm_interval_and_improvement_by_hand():
    # IQM of 5 seeds: the mean of the middle three, whatever the outlier
    assert study_report.iqm(np.array([100.0, 2.0, 1.0, 4.0, 3.0])) == pytest.approx(3.0)
    # 3 seeds: the IQM is the mean, and each extreme resample (all three the min / the max) has probability
    # 1/27 > 2.5%, so the 95% percentile interval is exactly [min, max]
    assert study_report.iqm_interval([1.0, 2.0, 6.0], 10_000) == pytest.approx((1.0, 6.0))
    # 5 seeds: against the exact bootstrap distribution, all 5^5 equally likely resamples enumerated
    x = np.array([0.3, 0.5, 0.9, 1.4, 4.0])
    exact = study_report.iqm(x[np.array(list(itertools.product(range(5), repeat=5)))], axis=-1)
    lo, hi = study_report.iqm_interval(x, 20_000)
    assert lo == pytest.approx(np.percentile(exact, 2.5), abs=0.03)
    assert hi == pytest.approx(np.percentile(exact, 97.5), abs=0.06)
    # P(method smoother than base), ties half: 3 + 1 + 0.5 of 9 pairs; scipy's U statistic agrees
    p, p_lo, p_hi = study_report.improvement([1.0, 4.0, 6.0], [3.0, 4.0, 5.0], 5_000)
    assert p == pytest.approx(4.5 / 9)
    assert p == pytest.approx(mannwhitneyu([3.0, 4.0, 5.0], [1.0, 4.0, 6.0]).statistic / 9)
    assert 0.0 <= p_lo <= p <= p_hi <= 1.0
    assert study_report.improvement([1.0, 2.0], [3.0, 4.0], 1000) == (1.0, 1.0, 1.0)


def write_record(root, env_id, method, seed, returns, sm):
    path = os.path.join(root, "records", env_id, method, f"seed{seed}.json")
    study.write_json(path, {"method": method, "env_id": env_id, "seed": seed, "train_seconds": 60.0,
                            "levels": {"0.0": {"returns": returns, "sm": sm}}, "critic": None})  # fmt: skip


def test_report_on_hand_made_records(tmp_path):
    root = str(tmp_path / "s")
    base = {1: [3.0, 3.0], 2: [4.0, 4.0], 3: [5.0, 5.0]}  # per-seed means 3, 4, 5
    pave = {1: [0.5, 1.5], 2: [4.0, 4.0], 3: [6.0, 6.0]}  # per-seed means 1, 4, 6
    for seed in (1, 2, 3):
        write_record(root, "Pendulum-v1", "td3", seed, [-100.0 * seed, -100.0 * seed], base[seed])
        write_record(root, "Pendulum-v1", "td3_pave", seed, [-150.0, -150.0], pave[seed])
    planned = [{"env_id": "Pendulum-v1", "method": m, "seed": s} for m in ("td3", "td3_pave") for s in (1, 2, 3, 4)]
    study.write_json(os.path.join(root, "study.json"), {"runs": planned})
    assert study_report.report(study_report.Report(study=root, resamples=4000)) == 0
    rows = {(r[1], float(r[2])): r for r in (line.strip().split(",") for line in open(os.path.join(root, "report.csv")))
            if r[0] == "Pendulum-v1"}  # fmt: skip
    header = open(os.path.join(root, "report.csv")).readline().strip().split(",")
    td3, pave_row = (dict(zip(header, rows[(m, 0.0)])) for m in ("td3", "td3_pave"))
    assert float(td3["sm_mean"]) == pytest.approx(4.0) and float(td3["sm_std"]) == pytest.approx(np.std([3, 4, 5]))
    assert float(td3["re_iqm"]) == pytest.approx(-200.0)
    assert (float(td3["sm_lo"]), float(td3["sm_hi"])) == pytest.approx((3.0, 5.0))  # 3 seeds: [min, max]
    assert float(pave_row["sm_iqm"]) == pytest.approx(11 / 3) and float(pave_row["p_improve"]) == pytest.approx(0.5)
    assert td3["p_improve"] == ""  # the base is not compared with itself
    text = open(os.path.join(root, "report.md")).read()
    assert "Pendulum-v1/td3/seed4: no record" in text and "Pendulum-v1/td3_pave/seed4: no record" in text
    assert "| td3_pave | 3 | -150.0 (0.0) | 3.67 (2.05) | -167.6 (77.5) | 0.351 (0.118) |" in text
    assert os.path.exists(os.path.join(root, "Pendulum-v1.png"))


def test_noise_rows_of_records_against_another_sigma_base_are_left_out(tmp_path):
    """A noise level is a fraction of sigma_base, the family's base at its first seed: a record evaluated against
    another (its own seed's) is not comparable there; its clean row counts, its noisy rows do not, and the report
    says which."""
    root = str(tmp_path / "s")

    def record(method, seed, sigma_base, noisy_sm):
        study.write_json(os.path.join(root, "records", "Pendulum-v1", method, f"seed{seed}.json"), {
            "method": method, "env_id": "Pendulum-v1", "seed": seed, "train_seconds": 60.0, "critic": None,
            "noise_reference": f"work/Pendulum-v1/td3/seed{seed}/td3.pt", "sigma_base": sigma_base,
            "levels": {"0.0": {"returns": [-100.0], "sm": [1.0]}, "0.1": {"returns": [-120.0], "sm": [noisy_sm]}}})  # fmt: skip

    record("td3", 1, [0.5, 2.0], 2.0)
    record("td3", 2, [0.5, 2.0 + 1e-8], 3.0)  # seed 1's, evaluated on another machine
    record("td3", 3, [0.7, 1.0], 100.0)  # its own seed's sigma_base
    record("td3_pave", 1, [0.5, 2.0], 1.0)
    record("td3_pave", 2, [0.7, 1.0], 100.0)
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    assert [(r["method"], r["seed"]) for r in study_report.off_reference(study_report.load_records(root))] == [("td3", 3), ("td3_pave", 2)]
    assert study_report.report(study_report.Report(study=root, resamples=500, plots=False)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert "| td3 | 3 | -100.0 (0.0) | 1 (0) |" in text and "| td3_pave | 2 | -100.0 (0.0) | 1 (0) |" in text  # clean
    assert "| td3 | 2 | -120.0 (0.0) | 2.5 (0.5) |" in text and "| td3_pave | 1 | -120.0 (0.0) | 1 (0) |" in text
    assert "| td3 | 1 (0) | 2.5 (0.5) |" in text and "| 100 " not in text and "1e+02" not in text
    assert "- Pendulum-v1/td3/seed3: noise from work/Pendulum-v1/td3/seed3/td3.pt" in text
    # a study whose base has records at seeds 1-3 takes seed 1 as the reference of a later `--seeds 4 5`
    assert study.reference_seed(root, "Pendulum-v1", "td3", (4, 5)) == 1
    assert study.reference_seed(str(tmp_path / "new"), "Pendulum-v1", "td3", (4, 5)) == 4


def test_report_matches_lengths_and_a_falling_method_cannot_win(tmp_path):
    """Hopper-like records: the base runs its 1000 steps; 'td3_pave' falls after 60 steps in a fifth of its episodes
    with a low sm. The window is the largest of WINDOWS that 80% of every method's episodes reach (1000 here), the
    falls are not scored, and the length gap is flagged."""
    root = str(tmp_path / "s")

    def record(method, seed, lengths, sm, sm_at):
        window = {str(w): [sm_at if n >= w else None for n in lengths] for w in study.WINDOWS}
        path = os.path.join(root, "records", "Hopper-v5", method, f"seed{seed}.json")
        study.write_json(path, {"method": method, "env_id": "Hopper-v5", "seed": seed, "train_seconds": 60.0,
                                "levels": {level: {"returns": [1000.0] * len(lengths), "sm": sm, "lengths": lengths,
                                                   "terminated": [n < 1000 for n in lengths], "sm_window": window}
                                           for level in ("0.0", "0.1")}})  # fmt: skip

    falls = [60, 1000, 1000, 60, 1000, 1000, 1000, 1000, 1000, 1000]  # 8 of 10 episodes run the full 1000 steps
    for seed, pave_sm_at in ((1, 1.8), (2, 1.2), (3, 1.0)):
        record("td3", seed, [1000] * 10, [2.0] * 10, 1.5)
        record("td3_pave", seed, falls, [0.1 if n == 60 else 2.0 for n in falls], pave_sm_at)
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    assert study_report.window_for(study_report.load_records(root)) == {"Hopper-v5": 1000}  # 8 of 10 reach 1000
    assert study_report.report(study_report.Report(study=root, resamples=500, plots=False)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert "| length (fell) | sm@1000 IQM [95% CI] | P(sm@1000 < base) [95% CI] |" in text
    pave = next(line for line in text.splitlines() if line.startswith("| td3_pave |"))
    # sm@1000 over the scored episodes only (the 6 falls of 3 seeds are not): the IQM of 1.8, 1.2, 1.0 (the mean of
    # three: trimming a quarter of three values trims none) and a seed smoother than the base's 1.5 in 2 of 3 pairs
    cells = re.search(r"\| 812 \(20%\) ⚠ not like for like \| 1.33 \[(.+), (.+)\], 6 short \| 0.67 \[(.+), (.+)\] \|$", pave)
    assert 1.0 <= float(cells[1]) <= 1.33 <= float(cells[2]) <= 1.8 and float(cells[3]) <= 0.67 <= float(cells[4])
    base = next(line for line in text.splitlines() if line.startswith("| td3 |"))
    assert base.endswith("| 1000 (0%) | 1.5 [1.5, 1.5] | base |")
    assert "- td3_pave: seed 1: 1.62, 1000.0, 812, 1.8; seed 2: 1.62, 1000.0, 812, 1.2;" in text
    with open(os.path.join(root, "report.csv")) as f:  # the CSV carries the same, for a reader's own plots
        row = next(r for r in csv.DictReader(f) if r["method"] == "td3_pave" and r["obs_noise"] == "0.0")
    assert (row["sm_window"], float(row["mean_length"]), float(row["fell"])) == ("1000", 812.0, pytest.approx(0.2))
    assert float(row["smw_iqm"]) == pytest.approx(4 / 3) and float(row["pw_improve"]) == pytest.approx(2 / 3)
    assert row["per_seed_smw"] == "1.8;1.2;1"
    assert "| td3_pave | 1.62 (0), length 812 | 1.62 (0), length 812 |" in text  # the noise summary shows lengths
    # one more fall per seed: 70% reach 100 to 1000, so the window drops to 50, which every episode reaches
    for seed in (1, 2, 3):
        record("td3_pave", seed, [60] + falls[1:-1] + [60], [2.0] * 10, 1.8)
    assert study_report.window_for(study_report.load_records(root)) == {"Hopper-v5": 50}  # 70% reach 100..1000; all reach 50
    # a fixed-horizon env (Pendulum: every episode 200 steps, none ended early) has no window: sm is its sm@200
    fixed = {"env_id": "Pendulum-v1", "method": "td3", "levels": {"0.0": {"lengths": [200] * 3, "terminated": [False] * 3}}}
    assert study_report.window_for([fixed]) == {}
    fixed["levels"]["0.0"]["terminated"][0] = True  # one ended by termination at 200: lengths matter there
    assert study_report.window_for([fixed]) == {"Pendulum-v1": 200}
    # a base recorded before the lengths were (as the sensitivity study's copied td3): no P(sm@W < base), not "base"
    for seed in (1, 2, 3):
        path = os.path.join(root, "records", "Hopper-v5", "td3", f"seed{seed}.json")
        r = json.load(open(path))
        study.write_json(path, r | {"levels": {k: {"returns": v["returns"], "sm": v["sm"]} for k, v in r["levels"].items()}})
    assert study_report.report(study_report.Report(study=root, resamples=200, plots=False)) == 0
    pave = next(line for line in open(os.path.join(root, "report.md")).read().splitlines() if line.startswith("| td3_pave |"))
    assert pave.endswith("| n/a (the base's records have no lengths) |")


def check_tiny_study(root, methods, seeds=TINY_STUDY["seeds"]):
    """The records a tiny study wrote: one per run, each evaluated, the noise level from the base's seed 1."""
    for method in methods:
        for seed in seeds:
            with open(os.path.join(root, "records", "Pendulum-v1", method, f"seed{seed}.json")) as f:
                r = json.load(f)
            assert (r["method"], r["seed"], r["global_step"], r["args"]["gamma"]) == (method, seed, 200, 0.98)
            assert set(r["levels"]) == {"0.0", "0.05"} and len(r["levels"]["0.0"]["sm"]) == 1
            assert r["noise_reference"].startswith(os.path.join("work", "Pendulum-v1", methods[0], "seed1"))
            assert r["critic"]["M_sup"] > 0 and r["commit"] and r["train_seconds"] > 0
            assert r["machine"].endswith(f", {os.cpu_count()} CPUs")
    assert study_report.report(study_report.Report(study=root, resamples=1000)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert all(f"| {m} | {len(seeds)} |" in text for m in methods) and "## Missing or failed runs\n\nnone" in text


# one seed of the base and one of a method: td3_grad's seed 1 takes its noise level from td3's seed 1, which the two
# jobs, started at once (--workers 2), train side by side; the two jobs a second seed adds cost ~25 s of CPU
ONE_SEED = TINY_STUDY | {"seeds": (1,)}


def test_local_study_runs_once_and_continues(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / "local")
    methods = ("td3", "td3_grad")
    monkeypatch.setattr(study, "on_terminal", lambda: True)  # on a terminal: the progress line, refreshed each poll
    monkeypatch.setattr(study, "PROGRESS_EVERY", 0.0)
    monkeypatch.setenv("COLUMNS", "400")  # a wide terminal: the line is not cut
    assert study.run(study.Run(study=root, methods=methods, **ONE_SEED)) == 0
    check_tiny_study(root, methods, ONE_SEED["seeds"])
    out = capsys.readouterr().out
    shown = [part.split("\x1b[K")[0] for part in out.split("\r")[1:]]
    standing = r"td3(_grad)?/seed1: (starting|evaluating|[\d,]+/200 steps, \d+ SPS( \(warm-up\))?, ETA[^|]+)"
    lines = [line for line in shown if line]
    assert lines and all(re.fullmatch(rf"[01]/2 recorded( \| {standing})+", line) for line in lines), lines
    assert out.count("\r\x1b[Kdone   ") == 2  # each line that stays clears the progress line first
    monkeypatch.undo()  # not a terminal (a log file): no progress line, only the lines that stay
    # the study moves to another machine (a new path): train.json names checkpoints from the run's folder; the noise
    # reference's is written absolute, as studies before that did, and is found by its place
    reference = os.path.join(root, "work", "Pendulum-v1", "td3", "seed1", "train.json")
    with open(reference) as f:
        trained = json.load(f)
    assert not os.path.isabs(trained["checkpoint"])
    trained["checkpoint"] = os.path.join(os.path.dirname(reference), trained["checkpoint"])
    with open(reference, "w") as f:
        json.dump(trained, f)
    shutil.move(root, str(tmp_path / "moved"))
    root = str(tmp_path / "moved")
    # an interruption before td3_grad's record was written: run again redoes only its evaluation, no training
    kept = os.path.join(root, "records", "Pendulum-v1", "td3", "seed1.json")
    lost = os.path.join(root, "records", "Pendulum-v1", "td3_grad", "seed1.json")
    mtime = os.path.getmtime(kept)
    os.remove(lost)
    assert study.run(study.Run(study=root, methods=methods, **ONE_SEED)) == 0
    assert "\r" not in capsys.readouterr().out
    assert os.path.exists(lost) and os.path.getmtime(kept) == mtime
    with open(os.path.join(root, "work", "Pendulum-v1", "td3_grad", "seed1", "train.log")) as f:
        assert f.read().count("$ ") == 1  # trained once
    # `status DIR` in this process (the command line's parsing of it: test_paper_flags_and_bad_input)
    assert study.status(study.Status(folder=root)) == 0 and "2 done, 0 failed" in capsys.readouterr().out
    # the training curves out of the event files (benchmarks/study_scalars.py): per window, the mean of what was logged
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import study_scalars

    # windows (k*every, (k+1)*every], by hand: 100 and 150 in (50, 150], 151 and 300 in (150, 300]
    assert study_scalars.windows([(100, 1.0), (150, 3.0), (151, 5.0), (300, 6.0)], 150) == [(150, 2.0, 2), (300, 5.5, 2)]
    study_scalars.main(study_scalars.Args(study=root, tags=("losses/qf_loss", "losses/curv"), every=50,
                                          plot=("losses/qf_loss",)))  # fmt: skip
    assert os.path.getsize(os.path.join(root, "scalars_Pendulum-v1.png")) > 1000
    with open(os.path.join(root, "scalars.csv")) as f:
        rows = list(csv.DictReader(f))
    assert {(r["method"], r["seed"]) for r in rows} == {(m, "1") for m in methods}
    assert {r["tag"] for r in rows} == {"losses/qf_loss"}  # no PAVE here: no losses/curv
    (run,) = glob.glob(os.path.join(root, "work", "Pendulum-v1", "td3_grad", "seed1", "runs", "*", ""))
    logged = [(e.step, e.value) for e in EventAccumulator(run).Reload().Scalars("losses/qf_loss")]
    mine = [r for r in rows if (r["method"], r["seed"]) == ("td3_grad", "1")]
    assert [int(r["step"]) for r in mine] == sorted({-(-step // 50) * 50 for step, _ in logged})
    assert logged and logged[0][0] >= 99  # the losses start at learning_starts
    for r in mine:
        window = [v for step, v in logged if int(r["step"]) - 50 < step <= int(r["step"])]
        assert int(r["count"]) == len(window) and float(r["mean"]) == pytest.approx(np.mean(window), rel=1e-5)
    # the study continues on a third machine with its records but without work/ for the noise reference (work/ is not
    # in git): td3_grad seed 1, evaluated again, takes sigma_base from td3 seed 1's record, so its noisy episodes are
    # the ones it had before
    with open(lost) as f:
        before = json.load(f)
    with open(kept) as f:
        reference_sigma = json.load(f)["sigma_base"]
    shutil.rmtree(os.path.join(root, "work", "Pendulum-v1", "td3", "seed1"))
    os.remove(lost)
    assert study.run(study.Run(study=root, methods=methods, **ONE_SEED)) == 0
    with open(lost) as f:
        after = json.load(f)
    assert after["sigma_base"] == before["sigma_base"] == reference_sigma
    assert after["levels"] == before["levels"] and after["levels"]["0.05"]["sm"] != after["levels"]["0.0"]["sm"]
    assert after["noise_reference"] == os.path.join("records", "Pendulum-v1", "td3", "seed1.json")


def slurm_ready():
    """Start the one-node Slurm of benchmarks/slurm/ where it is not running; the reason when it cannot."""
    if shutil.which("sbatch") is None:
        return "sbatch not found (Slurm is not installed: .ci/run installs Debian's slurm-wlm as root)"
    if subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode != 0:
        start = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "slurm", "start_local_slurm.sh")],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        if start.returncode != 0:
            return "the local Slurm cluster did not start: " + (start.stdout + start.stderr).strip().splitlines()[-1]
    return None


def test_slurm_study_end_to_end(tmp_path):
    reason = slurm_ready()
    if reason:
        pytest.skip(reason)
    root = str(tmp_path / "slurm")
    methods = ("td3", "td3_caps")
    args = study.Run(study=root, methods=methods, executor="slurm", timeout_min=10, **ONE_SEED)
    assert study.run(args) == 0
    check_tiny_study(root, methods, ONE_SEED["seeds"])
    logs = os.listdir(os.path.join(root, "jobs"))
    assert any("_" in name for name in logs)  # array job ids: <array>_<index>


def test_a_preempted_job_is_requeued_and_resumes_its_training(tmp_path):
    """submitit's checkpointing, through the local executor: the signal a cluster sends before preemption makes the
    training save, the job is requeued, and its second attempt continues the run with --resume."""
    import time

    root = str(tmp_path / "preempt")
    args = study.Run(study=root, methods=("td3",), seeds=(1,), total_timesteps=1500, episodes=1,
                     flags=("learning_starts=100", "batch_size=16", "hidden_sizes=16 16"))  # fmt: skip
    (spec,) = study.plan(args)
    job = study.make_executor(args).submit(study.StudyRun(), spec)
    log = os.path.join(root, "work", "Pendulum-v1", "td3", "seed1", "train.log")
    deadline = time.time() + 120
    while not (os.path.exists(log) and "training starts" in open(log).read()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    # the signal Slurm sends before a preemption or the time limit, to the job's task (the local executor's
    # controller, job._process, forwards only SIGTERM)
    (task,) = subprocess.run(["pgrep", "-P", str(job._process.pid)], capture_output=True, text=True).stdout.split()
    os.kill(int(task), signal.SIGUSR2)
    record = job.result()
    text = open(log).read()
    assert text.count("$ ") == 2 and "--resume" in text.split("$ ")[2] and "resumed at step" in text, text[-2000:]
    with open(record) as f:
        r = json.load(f)
    assert r["global_step"] == 1500 and r["attempts"] == 2


def test_status_and_report_name_the_study_either_way():
    """`status DIR` as before, or `status --study DIR` as `run` takes it; not neither, not two different ones."""
    assert study.study_folder(study.Status(folder="a")) == study.study_folder(study.Status(study="a")) == "a"
    assert study.study_folder(study_report.Report(folder="a", study="a")) == "a"
    for wrong in (study.Status(), study_report.Report(folder="a", study="b")):
        with pytest.raises(study.UserError, match="name the study once"):
            study.study_folder(wrong)


@pytest.mark.parametrize("name", ["hopper_v5", "walker2d_v5"])
def test_a_locomotion_studys_run_sh_plans_its_committed_records(name):
    """results/NAME/run.sh (through benchmarks/study_stages.sh) plans every committed record of its study, with the
    budget, noise levels, critic metrics, checkpoints and --compile the record ran with: the script reproduces what
    the pages report. A stage it does not know is refused in one line."""
    here = os.path.join(ROOT, "results", name)
    stages = ["1", "2", "3", "5", "6"] if name == "walker2d_v5" else []  # Walker2d's stage 6: λ3 1 at seeds 2-3
    out = subprocess.run(["bash", os.path.join(here, "run.sh"), *stages], cwd=ROOT, env={**os.environ, "PYTHON": "echo"},
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    planned = {}
    for line in out.splitlines():
        words = line.split()
        if words[1] != "run":
            continue
        flags = {}
        for w in words[2:]:
            if w.startswith("--"):
                key = w
                flags[key] = []
            else:
                flags[key].append(w)
        assert flags["--study"] == [f"results/{name}"]
        methods = list(flags["--methods"])
        for flag, values in (v.split("=") for v in flags.get("--vary", [])):  # stages 5-6: td3_pave[lambda3=1], ...
            methods += [f"td3_pave[{flag}={value}]" for value in values.split(",")]
        for method, seed in itertools.product(methods, flags["--seeds"]):
            planned[(flags["--envs"][0], method, int(seed))] = flags
    records = study_report.load_records(here)
    assert len(records) >= 8
    for r in records:
        flags = planned.get((r["env_id"], r["method"], r["seed"]))
        assert flags is not None, (r["method"], r["seed"], "no stage of run.sh plans it")
        command = r["command"]
        assert command[command.index("--total-timesteps") + 1] == flags["--total-timesteps"][0] == "200000"
        assert command[command.index("--checkpoint-interval") + 1] == flags["--checkpoint-interval"][0]
        assert ("--compile" in command) == ("--compile" in flags and command[1] == "td3_pave_fast.py")  # not SAC's
        assert sorted(float(v) for v in r["levels"]) == sorted([0.0, *map(float, flags["--obs-noise"])])
        assert bool(r["critic"]) == ("--critic-metrics" in flags)
    bad = subprocess.run(["bash", os.path.join(here, "run.sh"), "7"], cwd=ROOT, env={**os.environ, "PYTHON": "echo"},
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip() == "benchmarks/study_stages.sh: no stage 7 (1 to 6)"


def test_study_scalars_says_per_pave_run_where_its_curvature_hinge_went():
    """What the README tells a user to watch when choosing lambda3, printed per PAVE run from the windows: the first
    window, the second, the last and the highest after the first, by hand; runs and tags without the hinge say
    nothing."""
    import study_scalars

    rows = [("Walker2d-v5", "td3_pave", 1, "losses/curv", 10000, 2.0, 1), ("Walker2d-v5", "td3_pave", 1, "losses/curv", 20000, 1.22, 500),
            ("Walker2d-v5", "td3_pave", 1, "losses/curv", 30000, 11.1, 500), ("Walker2d-v5", "td3_pave", 1, "losses/curv", 40000, 7.05, 500),
            ("Walker2d-v5", "td3_pave", 1, "losses/qf_loss", 40000, 50.0, 500), ("Walker2d-v5", "td3", 1, "losses/qf_loss", 40000, 40.0, 500),
            ("Walker2d-v5", "td3_pave[lambda3=1]", 2, "losses/curv", 10000, 2.0, 1)]  # fmt: skip
    assert study_scalars.hinge_lines(rows) == [
        "losses/curv per window (the curvature hinge, Eq. 15):",
        "Walker2d-v5 td3_pave seed 1: losses/curv 2 -> 1.22 ... 7.05 (highest after the first window 11.1)",
        "Walker2d-v5 td3_pave[lambda3=1] seed 2: losses/curv 2",  # one window: nothing more to say
    ]
    assert study_scalars.hinge_lines([r for r in rows if r[3] != "losses/curv"]) == []


def test_no_module_imports_one_that_imports_it_back():
    """Issue 44: the project's import graph (every module in the repo root and benchmarks/, each `import` and
    `from ... import` anywhere in it) has no circle; what study.py and study_report.py share is study_records."""
    import ast

    paths = glob.glob(os.path.join(ROOT, "*.py")) + glob.glob(os.path.join(ROOT, "benchmarks", "*.py"))
    modules = {os.path.basename(p)[:-3]: p for p in paths}
    graph = {}
    for name, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read())
        named = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        named += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        graph[name] = {m.split(".")[0] for m in named} & set(modules) - {name}
    assert graph["study"] >= {"study_records", "study_report"} and "study" not in graph["study_report"]

    def circle(start, node, seen):  # a path from `node` back to `start`, or None
        for nxt in sorted(graph[node]):
            if nxt == start:
                return [nxt]
            if nxt not in seen:
                seen.add(nxt)
                back = circle(start, nxt, seen)
                if back:
                    return [nxt, *back]
        return None

    circles = {m: [m, *c] for m in graph if (c := circle(m, m, set()))}
    assert circles == {}


def test_a_running_runs_standing_is_its_last_console_line(tmp_path):
    """Issue 44: `run`'s progress line reads each running run's train.log: its last console line of the training,
    'evaluating' once the training said done, 'starting' before any."""
    job = {"study": str(tmp_path), "env_id": "Pendulum-v1", "method": "td3_pave[lambda3=20]", "seed": 3}
    assert study.standing(job) == "starting"  # no train.log yet
    log = os.path.join(study.run_paths(str(tmp_path), "Pendulum-v1", "td3_pave[lambda3=20]", 3)[0], "train.log")
    os.makedirs(os.path.dirname(log))
    def console(step, start_step, seconds):  # the line run_utils.Run.progress writes (the training's own code)
        args = types.SimpleNamespace(total_timesteps=30_000, learning_starts=10_000)
        run = types.SimpleNamespace(step=step, start_step=start_step, args=args)
        run.sps = lambda: (step - start_step) / seconds
        return run_utils.Run.progress(run, [-1210.4])

    with open(log, "w") as f:
        f.write(f"$ python td3_pave.py --seed 3\n{console(4_000, 0, 4_000 / 180)}\n")
    assert study.standing(job) == "4,000/30,000 steps, 180 SPS (warm-up), ETA once training runs"
    with open(log, "a") as f:
        f.write(f"step 10,000: warm-up done, training starts\n{console(12_345, 10_000, 2_345 / 31)}\nsaved\n")
    assert study.standing(job) == "12,345/30,000 steps, 31 SPS, ETA 0:09:29"
    key, other = "Pendulum-v1/td3_pave[lambda3=20]/seed3", {"env_id": "ns/Own-v0"}
    assert study.progress_line({key: None}, {key: job}, 2, 9) == (
        "2/9 recorded | td3_pave[lambda3=20]/seed3: 12,345/30,000 steps, 31 SPS, ETA 0:09:29")  # one env: not named
    assert study.progress_line({key: None}, {key: job, "ns/Own-v0/td3/seed1": other}, 2, 9) == (
        f"2/9 recorded | {key}: 12,345/30,000 steps, 31 SPS, ETA 0:09:29")
    with open(log, "a") as f:
        f.write("done; checkpoint saved to runs/x/td3_pave+lambda3=20.pt\n")
    assert study.standing(job) == "evaluating"


def test_each_table_says_the_budget_its_records_trained():
    """Issue 44: every table of the report opens with the steps its records trained, and warns where the paper's
    columns beside it are at another budget (Pendulum's paper trained 100,000 steps)."""
    records = [{"env_id": "Pendulum-v1", "total_timesteps": 30_000}, {"env_id": "Pendulum-v1", "args": {
        "total_timesteps": 30_000}}, {"env_id": "Hopper-v5", "total_timesteps": 1_000_000}]  # fmt: skip
    assert study_report.trained(records, "Pendulum-v1") == [30_000]
    assert study_report.trained(records + [{"env_id": "Pendulum-v1"}], "Pendulum-v1") == [30_000, None]
    assert study_report.budget_sentence("Pendulum-v1", [30_000], paper_columns=True) == (
        "Trained 30,000 steps per run. ⚠ The paper's columns are at its 100,000 steps: not the same budget as these rows.")
    assert study_report.budget_sentence("Pendulum-v1", [100_000], paper_columns=True) == (
        "Trained 100,000 steps per run, the paper's budget, as its columns.")
    assert study_report.budget_sentence("Pendulum-v1", [30_000], paper_columns=False) == "Trained 30,000 steps per run."
    assert study_report.budget_sentence("MountainCarContinuous-v0", [1500], paper_columns=False) == (
        "Trained 1,500 steps per run.")
    assert study_report.budget_sentence("Pendulum-v1", [30_000, 100_000], paper_columns=True) == (
        "Trained 30,000 to 100,000 steps per run (not one budget: see the warning above). ⚠ The paper's columns are "
        "at its 100,000 steps: not the same budget as these rows.")


def test_a_variant_that_falls_does_not_shorten_the_window_of_the_methods():
    """The length-matched window W is the methods' (td3, td3_pave): a sweep's variant whose policy falls early
    (Walker2d's td3_pave[lambda3=0.1] at 200000 steps, 9 of 10 episodes under 200 steps) is scored at that W, its short
    episodes counted short, instead of pulling every method's W down to its own."""
    def record(method, lengths):
        return {"env_id": "Walker2d-v5", "method": method, "levels": {"0.0": {"lengths": lengths,
                                                                             "terminated": [n < 1000 for n in lengths]}}}

    methods = [record("td3", [465] * 8 + [150] * 2), record("td3_pave", [1000] * 10)]
    assert study_report.window_for(methods) == {"Walker2d-v5": 200}
    assert study_report.window_for(methods + [record("td3_pave[lambda3=0.1]", [189] * 9 + [1000])]) == {"Walker2d-v5": 200}
    assert study_report.window_for([record("td3_pave[lambda3=0.1]", [189] * 9 + [1000])]) == {"Walker2d-v5": 100}  # alone
