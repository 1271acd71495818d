# benchmarks/study.py's sweeps (`run --vary FLAG=V,V,...`, paper Appendix B, Figure 4): the names and folders of the
# values, the refusal of values the algorithm file refuses, a tiny sweep end to end that reuses the default's record
# and trains nothing when run again, and the report's rows, front and figures against the records.
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import study  # noqa: E402
import study_records  # noqa: E402
import study_report  # noqa: E402
from test_study import module_args  # noqa: E402

TINY = dict(seeds=(1,), total_timesteps=200, flags=("learning_starts=100", "batch_size=32", "hidden_sizes=32 32"),
            episodes=1, workers=2)  # fmt: skip


def planned(**kw):
    return [(j["method"], j["seed"]) for j in study.plan(study.Run(study="/tmp/unused", seeds=(1,), **kw))]


def test_a_value_is_a_method_of_its_own_with_a_plain_folder():
    jobs = study.plan(study.Run(study="/tmp/s", methods=("td3", "td3_pave"), seeds=(1,),
                                vary=("lambda3=2.0,20,0.20,1e-5", "lambda1=0")))  # fmt: skip
    # td3 is td3_pave's base: not varied; lambda3=2.0 is Pendulum's own value, so td3_pave itself; floats named in
    # their shortest exact form
    assert [j["method"] for j in jobs] == ["td3", "td3_pave", "td3_pave[lambda3=20]", "td3_pave[lambda3=0.2]",
                                           "td3_pave[lambda3=1e-05]", "td3_pave[lambda1=0]"]  # fmt: skip
    by = {j["method"]: j for j in jobs}
    job = by["td3_pave[lambda3=20]"]
    work, record = study.run_paths("/tmp/s", "Pendulum-v1", job["method"], 1)
    assert (work, record) == ("/tmp/s/work/Pendulum-v1/td3_pave+lambda3=20/seed1",
                              "/tmp/s/records/Pendulum-v1/td3_pave+lambda3=20/seed1.json")  # fmt: skip
    given = module_args("td3_pave.py", job["flags"])
    assert (given["lambda1"], given["lambda2"], given["lambda3"], given["gamma"]) == (2.0, 0.005, 20.0, 0.98)
    assert job["flags"][job["flags"].index("--exp-name") + 1] == "td3_pave+lambda3=20"  # a valid --exp-name
    assert module_args("td3_pave.py", by["td3_pave[lambda1=0]"]["flags"])["lambda1"] == 0.0
    assert all(j["reference"] == ("Pendulum-v1", "td3", 1) for j in jobs)  # compared with td3, as td3_pave
    assert study.split_variant("td3_pave[lambda3=1e-05]") == ("td3_pave", {"lambda3": "1e-05"})
    assert study.split_variant("td3_pave") == ("td3_pave", {}) and study.base_of("sac_pave[lambda2=0]") == "sac"
    assert study.paper_flags("td3_pave[lambda3=20]", "Pendulum-v1")["lambda3"] == "20"
    # a method alone is varied, base or not; another flag than a weight; the fast file trains the same values
    lr = planned(methods=("td3",), vary=("learning_rate=3e-4,1e-3",))
    assert lr == [("td3", 1), ("td3[learning_rate=0.0003]", 1)]
    assert planned(methods=("td3_pave",), vary=("lambda3=-0",))[1][0] == "td3_pave[lambda3=0]"  # -0.0 is 0
    on = study.plan(study.Run(study="/tmp/s", methods=("sac_pave",), seeds=(1,), vary=("autotune=true",)))
    assert [j["method"] for j in on] == ["sac_pave", "sac_pave[autotune=True]"]  # an on/off flag: --autotune
    assert module_args("sac_pave.py", on[1]["flags"])["autotune"] and not module_args("sac_pave.py", on[0]["flags"])["autotune"]
    fast = study.plan(study.Run(study="/tmp/s", methods=("td3_pave",), seeds=(1,), fast=True, vary=("lambda2=0",)))
    assert fast[1]["file"] == "td3_pave_fast.py" and module_args("td3_pave_fast.py", fast[1]["flags"])["lambda2"] == 0
    # the report's order: the method, then its variants by flag and value (not as text: 0.2 < 2 < 20 < 200)
    names = ["td3_pave[lambda3=200]", "td3", "td3_pave[lambda3=20]", "td3_pave[lambda1=0]", "td3_pave[lambda3=0.2]",
             "td3_pave"]  # fmt: skip
    assert sorted(names, key=study_records.method_order) == ["td3", "td3_pave", "td3_pave[lambda1=0]", "td3_pave[lambda3=0.2]",
                                                     "td3_pave[lambda3=20]", "td3_pave[lambda3=200]"]  # fmt: skip


@pytest.mark.parametrize(
    "vary, flags, message",
    [
        (("lambda3=-1",), (), "--vary lambda3=-1: --lambda3 must be a finite number >= 0, got -1.0"),
        (("lambda1=0.2,inf",), (), "--vary lambda1=inf: --lambda1 must be a finite number >= 0, got inf"),
        (("lambda3=nan",), (), "--vary lambda3=nan: --lambda3 must be a finite number >= 0, got nan"),
        (("lambda3=abc",), (), "--vary lambda3=abc: td3_pave.py cannot read --lambda3 abc"),
        (("lambda9=1",), (), "--vary lambda9: td3_pave.py has no --lambda9"),
        (("seed=1,2",), (), "--vary seed: the study sets it itself"),
        (("lambda3",), (), "--vary takes FLAG=VALUE,VALUE,..., got 'lambda3'"),
        (("lambda3=20,2e1",), (), "--vary lambda3=20,2e1 gives the value 20 twice"),
        (("lambda3=20", "lambda3=0"), (), "--vary names lambda3 twice"),
        ((), ("batch_size=16", "batch_size=32"), "--flags batch_size is given twice"),  # the last won silently
        (("batch_size=0",), (), "--vary batch_size=0: --batch-size 0 must be between 1 and --buffer-size"),
        # found by a fault sweep: a flag that changes nothing trained (the same run twice), -0 named apart from 0
        (("device=cpu",), (), "--vary device: it does not change what is trained"),
        (("wandb_entity=me",), (), "--vary wandb_entity: it does not change what is trained"),
        (("lambda3=0,-0",), (), "--vary lambda3=0,-0 gives the value 0 twice"),
        ((), ("learning_starts=abc",), "td3_pave.py cannot read --flags learning_starts=abc"),  # not tyro's help box
    ],
)
def test_values_the_algorithm_file_refuses_are_refused_before_anything_trains(vary, flags, message):
    with pytest.raises(study.UserError) as e:
        study.plan(study.Run(study="/tmp/unused", methods=("td3", "td3_pave"), vary=vary, flags=flags))
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_a_refused_value_is_one_line_and_nothing_is_made(tmp_path):
    root = tmp_path / "s"
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "run", "--study", str(root),
                          "--methods", "td3_pave", "--vary", "lambda1=0,2", "--vary", "lambda3=20,-0.5"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == "error: --vary lambda3=-0.5: --lambda3 must be a finite number >= 0, got -0.5\n"
    assert not root.exists()  # no plan, no folder, no job


def test_a_tiny_sweep_reuses_the_default_record_reports_it_and_trains_nothing_again(tmp_path, capsys):
    """The default's run of a plain study is the sweep's value 2 (Pendulum's lambda3): the sweep trains only 20;
    run again, it trains nothing; the report's rows and figures are the records'."""
    root = str(tmp_path / "s")
    assert study.run(study.Run(study=root, methods=("td3_pave",), **TINY)) == 0
    sweep = study.Run(study=root, methods=("td3_pave",), vary=("lambda3=2,20",), **TINY)
    plan = open(os.path.join(root, "study.json")).read()
    assert study.run(study.Run(**vars(sweep) | {"dry_run": True})) == 0  # lists, writes and trains nothing
    listing = capsys.readouterr().out.splitlines()
    assert listing[-3] == f"{root}: 2 runs, 1 with records, 1 to do (dry run: nothing written)"
    assert listing[-2].startswith("record Pendulum-v1/td3_pave/seed1: td3_pave.py --env-id Pendulum-v1")
    assert listing[-1].startswith("to do  Pendulum-v1/td3_pave[lambda3=20]/seed1: td3_pave.py")
    assert "--lambda3 20 " in listing[-1] and "--exp-name td3_pave+lambda3=20 " in listing[-1]
    assert open(os.path.join(root, "study.json")).read() == plan
    assert not os.path.exists(os.path.join(root, "work", "Pendulum-v1", "td3_pave+lambda3=20"))
    assert study.run(sweep) == 0
    assert f"{root}: 2 runs, 1 with records, 1 to do (local)" in capsys.readouterr().out
    folders = {"td3_pave": "td3_pave", "td3_pave[lambda3=20]": "td3_pave+lambda3=20"}
    records = {m: json.load(open(study.run_paths(root, "Pendulum-v1", m, 1)[1])) for m in folders}
    assert sorted(os.listdir(os.path.join(root, "records", "Pendulum-v1"))) == ["td3_pave", "td3_pave+lambda3=20"]
    assert [(r["method"], r["args"]["lambda3"], r["global_step"]) for r in records.values()] == [
        ("td3_pave", 2.0, 200), ("td3_pave[lambda3=20]", 20.0, 200)]
    logs = [os.path.join(root, "work", "Pendulum-v1", f, "seed1", "train.log") for f in folders.values()]
    mtimes = [os.path.getmtime(p) for p in logs]
    assert study.run(sweep) == 0  # resumable: everything has its record
    assert f"{root}: 2 runs, 2 with records, 0 to do (local)" in capsys.readouterr().out
    assert [open(p).read().count("$ ") for p in logs] == [1, 1] and [os.path.getmtime(p) for p in logs] == mtimes
    assert study.status(study.Status(folder=root)) == 0  # `status DIR`, in this process
    status = capsys.readouterr().out
    assert "done         Pendulum-v1/td3_pave[lambda3=20]/seed1" in status
    assert "2 done, 0 failed" in status

    assert study_report.report(study_report.Report(study=root, resamples=200)) == 0
    with open(os.path.join(root, "report.csv")) as f:
        rows = {r["method"]: r for r in csv.DictReader(f) if r["obs_noise"] == "0.0"}
    for method, r in records.items():
        level = r["levels"]["0.0"]
        assert float(rows[method]["re_mean"]) == pytest.approx(np.mean(level["returns"]))
        assert float(rows[method]["sm_mean"]) == pytest.approx(np.mean(level["sm"]))
    text = open(os.path.join(root, "report.md")).read()
    re20, sm20 = np.mean(records["td3_pave[lambda3=20]"]["levels"]["0.0"]["returns"]), rows["td3_pave[lambda3=20]"]
    assert f"| td3_pave[lambda3=20] | 1 | {re20:.1f} (0.0) | {float(sm20['sm_mean']):.3g} (0) |" in text
    assert "- td3_pave, lambda3: 2 (default), 20; figure Pendulum-v1_td3_pave_sweep.png" in text
    for figure in ("Pendulum-v1_td3_pave_sweep.png", "Pendulum-v1_pareto.png"):
        assert os.path.getsize(os.path.join(root, figure)) > 10_000


def write_record(root, method, seed, returns, sm, lengths=None, sm_at=None):
    level = {"returns": returns, "sm": sm}
    if lengths:
        window = {str(w): [sm_at if n >= w else None for n in lengths] for w in study.WINDOWS}
        level |= {"lengths": lengths, "terminated": [n < 1000 for n in lengths], "sm_window": window}
    path = os.path.join(root, "records", "Hopper-v5" if lengths else "Pendulum-v1", study.folder_name(method),
                        f"seed{seed}.json")  # fmt: skip
    study.write_json(path, {"method": method, "env_id": "Hopper-v5" if lengths else "Pendulum-v1", "seed": seed,
                            "train_seconds": 60.0, "levels": {"0.0": level}})  # fmt: skip


def test_mixed_budgets_a_missing_base_and_no_resamples_are_said(tmp_path, capsys):
    """Found by a fault sweep: a `--replace-other-settings` run at a new budget retrains only what it plans, and the
    report mixed 300- and 200-step records without a word; a variant without its base's record read 'base'."""
    root = str(tmp_path / "s")
    for method, steps in (("td3", 300), ("td3_pave", 300), ("td3_pave[lambda3=20]", 200)):
        write_record(root, method, 1, [-150.0], [1.0])
        path = study.run_paths(root, "Pendulum-v1", method, 1)[1]
        study.write_json(path, json.load(open(path)) | {"total_timesteps": steps})
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    with pytest.raises(study.UserError, match="--resamples must be an integer >= 1, got 0"):
        study_report.report(study_report.Report(study=root, resamples=0))
    assert study_report.report(study_report.Report(study=root, resamples=200, plots=False)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert ("⚠ Pendulum-v1: the records trained different budgets, not comparable: 200 steps: "
            "td3_pave[lambda3=20]/seed1; 300 steps: td3/seed1, td3_pave/seed1") in text
    os.remove(study.run_paths(root, "Pendulum-v1", "td3", 1)[1])
    assert study_report.report(study_report.Report(study=root, resamples=200, plots=False)) == 0
    rows = [line for line in open(os.path.join(root, "report.md")).read().splitlines() if line.startswith("| td3_pave")]
    assert len(rows) == 2 and all(row.endswith("| n/a (no record of its base) |") for row in rows)


def test_the_front_and_the_sweep_section_on_hand_made_records(tmp_path):
    """Per-seed (return, sm) chosen so that the front is known: the default, lambda3=0 (higher return, rougher) and
    lambda3=20 (smoother, lower return); lambda3=200 and td3 are beaten on both."""
    assert study_report.pareto_front([("a", 1.0, 1.0), ("b", 1.0, 1.0), ("c", 2.0, 1.0), ("d", 0.0, 0.5)]) == ["c", "d"]
    root = str(tmp_path / "s")
    configs = {"td3": (-200.0, 4.0), "td3_pave": (-150.0, 0.7), "td3_pave[lambda3=0]": (-140.0, 1.2),
               "td3_pave[lambda3=20]": (-300.0, 0.5), "td3_pave[lambda3=200]": (-900.0, 3.2),
               "td3_pave[lambda1=0.2]": (-160.0, 0.8)}  # fmt: skip
    for method, (re_, sm) in configs.items():
        for seed, d in ((1, -1.0), (2, 0.0), (3, 1.0)):
            write_record(root, method, seed, [re_ + d], [sm + 0.1 * d])
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    assert study_report.report(study_report.Report(study=root, resamples=200)) == 0
    text = open(os.path.join(root, "report.md")).read()
    rows = [line.split(" |")[0][2:] for line in text.split("## Pendulum-v1, no observation noise")[1].splitlines()
            if line.startswith("| td3")]  # fmt: skip
    assert rows == ["td3", "td3_pave", "td3_pave[lambda1=0.2]", "td3_pave[lambda3=0]", "td3_pave[lambda3=20]",
                    "td3_pave[lambda3=200]"]  # fmt: skip
    assert "- td3_pave, lambda3: 0, 2 (default), 20, 200; figure Pendulum-v1_td3_pave_sweep.png" in text
    assert "- td3_pave, lambda1: 0.2, 2 (default); figure" in text
    front = text.split("Pareto front of its 6 configurations")[1].split("\n\n")[1].splitlines()
    assert front == ["- td3_pave: return -150.0, sm 0.7", "- td3_pave[lambda3=0]: return -140.0, sm 1.2",
                     "- td3_pave[lambda3=20]: return -300.0, sm 0.5"]  # fmt: skip
    assert os.path.exists(os.path.join(root, "Pendulum-v1_td3_pave_sweep.png"))
    assert os.path.exists(os.path.join(root, "Pendulum-v1_pareto.png"))


def test_where_lengths_differ_the_front_is_on_sm_at_w(tmp_path):
    """Hopper-like: lambda3=20 falls at step 60 in 2 of 10 episodes with a low sm; on sm its policy would lead,
    on sm@1000 (the falls not scored) it is beaten by the default."""
    root = str(tmp_path / "s")
    falls = [60, 1000, 1000, 60, 1000, 1000, 1000, 1000, 1000, 1000]
    for seed in (1, 2, 3):
        write_record(root, "td3_pave", seed, [3000.0] * 10, [1.0] * 10, [1000] * 10, sm_at=1.0)
        write_record(root, "td3_pave[lambda3=20]", seed, [2900.0] * 10, [0.1 if n == 60 else 1.0 for n in falls],
                     falls, sm_at=1.5)  # fmt: skip
    study.write_json(os.path.join(root, "study.json"), {"runs": []})
    assert study_report.report(study_report.Report(study=root, resamples=200)) == 0
    text = open(os.path.join(root, "report.md")).read()
    assert "Pareto front of its 2 configurations (return IQM higher, sm@1000 IQM lower" in text
    assert text.split("figure Hopper-v5_pareto.png):\n\n")[1].split("\n\n")[0] == "- td3_pave: return 3000.0, sm@1000 1"
