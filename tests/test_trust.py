"""What a file may choose (issue 43): a checkpoint, resume state, record or plan received from someone is data. It never
chooses code to run (an env id that names a module), a path to write (names become file names only once checked) or
an overwrite (no tool writes over a run's checkpoint, resume state or snapshot); a flag has one meaning; outputs come
before prints; bad values are refused before any work. docs/reliability.md names these tests. Most checks run in
this process (a command line costs seconds of imports); that a refusal is one `error:` line on the command line is
run_utils.cli's, tested in test_faults.py, and checked here where the path to it is this file's own."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, only_run_dir, resume_in_process

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import eval_smoothness  # noqa: E402
import export_policy  # noqa: E402
import run_utils  # noqa: E402
import study  # noqa: E402
import study_report  # noqa: E402
import study_scalars  # noqa: E402
import td3_pave  # noqa: E402

PENDULUM = ["--env-id", "Pendulum-v1", "--learning-starts", 100, "--hidden-sizes", 16, 16, "--batch-size", 16]
UserError = run_utils.UserError


def one_error_line(result):
    assert result.returncode == 1, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A short TD3 + PAVE run with its checkpoint, resume state and a snapshot (step 150)."""
    cwd = tmp_path_factory.mktemp("trained")
    flags = [*PENDULUM, "--total-timesteps", 300, "--snapshot-fractions", 0.5]
    with pytest.MonkeyPatch.context() as monkeypatch:  # in this process, on the command line's flags as it parses them
        monkeypatch.chdir(cwd)
        td3_pave.main(run_utils.parse_args(td3_pave.Args, [*map(str, flags)]))
    return only_run_dir(cwd)


def copy_run(trained, to):
    shutil.copytree(trained, to)
    return to


def edit_state(path, edit):
    """Rewrite a checkpoint or resume state with `edit(state)` applied (as a file from elsewhere could be)."""
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


def test_an_env_id_from_a_file_imports_nothing_the_user_did_not_name(trained, tmp_path, monkeypatch):
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "marker.py").write_text("import os\nopen(os.environ['MARK_FILE'], 'w').write('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "modules"))  # 'marker:Pendulum-v1': Pendulum-v1 once marker is imported
    mark = tmp_path / "imported.txt"
    monkeypatch.setenv("MARK_FILE", str(mark))
    run = copy_run(trained, tmp_path / "run")

    def to_marker(state):
        state["args"]["env_id"] = "marker:Pendulum-v1"
        state.get("env_id") and state.update(env_id="marker:Pendulum-v1")

    for name in ("td3_pave.pt", "td3_pave.resume.pt"):
        edit_state(run / name, to_marker)
    checkpoint = str(run / "td3_pave.pt")
    try:
        for call in (lambda: eval_smoothness.load_policy(checkpoint),  # eval
                     lambda: export_policy.export(export_policy.Args(checkpoint, out=str(tmp_path / "p.onnx")))):
            with pytest.raises(UserError, match="names env 'marker:Pendulum-v1', for which gymnasium would import "
                               "module 'marker' .* add --env-module marker to allow it"):  # fmt: skip
                call()
        with pytest.raises(UserError, match="give it again, --env-id marker:Pendulum-v1, to allow that"):
            run_utils.parse_args(td3_pave.Args, ["--resume", str(run), "--total-timesteps", "300"])
        assert not mark.exists() and not (tmp_path / "p.onnx").exists()  # none of them imported it

        # named by the user, it is imported: the flag is the whole gate, not a refusal of every such env
        resume_in_process(td3_pave, tmp_path, monkeypatch, "--resume", run, "--env-id", "marker:Pendulum-v1",
                          "--total-timesteps", 300)  # fmt: skip
        assert mark.exists()
        ckpt, _, _, _ = eval_smoothness.load_policy(checkpoint, env_modules=("marker",))
        assert ckpt["env_id"] == "marker:Pendulum-v1"
    finally:
        sys.modules.pop("marker", None)


def test_no_tool_writes_over_a_runs_checkpoint_resume_state_or_snapshot(trained, tmp_path):
    run = copy_run(trained, tmp_path / "run")
    disguised = run / "policy.onnx"  # a checkpoint under an export's name: refused by what it is, not by its name
    shutil.copy(run / "td3_pave.pt", disguised)
    targets = [run / "td3_pave.pt", run / "td3_pave.resume.pt", run / "td3_pave_step150.pt", disguised]
    before = {path: path.read_bytes() for path in targets}
    for target in targets:
        with pytest.raises(UserError, match=f"--out {re.escape(str(target))} is a run's checkpoint, resume state or "
                           "snapshot"):  # fmt: skip
            export_policy.export(export_policy.Args(str(run / "td3_pave.pt"), out=str(target)))
    # eval's outputs too, before the evaluation: a checkpoint named as eval's table
    out = tmp_path / "eval"
    out.mkdir()
    shutil.copy(run / "td3_pave.pt", out / "eval.csv")
    with pytest.raises(UserError, match=f"{re.escape(str(out / 'eval.csv'))} is a run's checkpoint"):
        eval_smoothness.evaluate(eval_smoothness.Args(paths=(str(run),), episodes=1, plots=False, out_dir=str(out)))
    assert all(path.read_bytes() == data for path, data in before.items())
    assert (out / "eval.csv").read_bytes() == before[run / "td3_pave.pt"]
    # an earlier export of the same name is replaced, as a user expects (a TorchScript file is a zip too)
    for _ in range(2):
        export_policy.export(export_policy.Args(str(run / "td3_pave.pt"), format="torchscript",
                                                out=str(tmp_path / "policy.ts")))  # fmt: skip


def test_a_link_at_a_temp_name_carries_no_write_elsewhere(tmp_path):
    """Sweep #3-#5, #11: a link planted at the temp name (report.md.tmp -> a file outside) took the write there."""
    outside = tmp_path / "outside.txt"
    outside.write_text("mine")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "report.md.tmp").symlink_to(outside)
    with run_utils.writing(str(tmp_path / "s" / "report.md")) as f:
        f.write("the report")
    assert outside.read_text() == "mine"
    assert not (tmp_path / "s" / "report.md").is_symlink() and (tmp_path / "s" / "report.md").read_text() == "the report"


# --- names from records and plans -------------------------------------------------------------------------------


def record(env_id, method, seed, sm=1.0):
    return {"method": method, "env_id": env_id, "seed": seed, "train_seconds": 60.0, "critic": None,
            "args": {"seed": seed}, "finished": "2026-12-07 10:00:00",
            "levels": {"0.0": {"returns": [-100.0 * sm], "sm": [sm]}}}  # fmt: skip


def put(root, path, data):
    path = os.path.join(root, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f)


def report(root, resamples=100):
    return study_report.report(study_report.Report(study=root, resamples=resamples, plots=False))


def test_names_in_records_and_plans_never_make_a_path_out_of_the_study(tmp_path):
    root = str(tmp_path / "s")
    put(root, "study.json", {"runs": []})
    put(root, "records/x/td3/seed1.json", record("../Pendulum-v1", "td3", 1))
    with pytest.raises(UserError, match="'../Pendulum-v1' is not an env id"):
        report(root)
    shutil.rmtree(os.path.join(root, "records"))
    for bad, why in ((record("Pendulum-v1", "td3", "1") | {"args": {}}, "seed '1' is not an integer"),
                     (record("Pendulum-v1", "td3_pave[lambda3=2]x", 1), "is not a method"),
                     (record("Pendulum-v1", "nosuch[lambda3=2]", 1), "'nosuch\\[lambda3=2\\]' is not a method"),
                     (record("Pendulum-v1", "td3_pave[nosuch=3]", 1), "varies nosuch, which td3_pave.py does not have"),
                     (record("Pendulum-v1", "td3", 1) | {"args": [1]}, "is malformed"),  # the sweep's #22-#26
                     (record("Pendulum-v1", "td3", 1) | {"args": {"seed": 1, "learning_starts": "x"}}, "is malformed"),
                     (record("Pendulum-v1", "td3", 1) | {"critic": "x"}, "is malformed"),
                     (record("Pendulum-v1", "td3", 1) | {"levels": {"abc": {"returns": [1.0], "sm": [1.0]}}},
                      "is malformed")):  # fmt: skip
        put(root, "records/Pendulum-v1/td3/seed1.json", bad)
        with pytest.raises(UserError, match=f"record .*{why}"):
            study_report.load_records(root)
    put(root, "study.json", {"runs": [{"env_id": "../../etc", "method": "td3", "seed": 1}]})
    with pytest.raises(UserError, match="study.json: '../../etc' is not an env id"):
        study.load_plan(root)
    # on the command line: one line, and the figure a record's env id named outside the study is not written
    outside = tmp_path / "Pendulum-v1.png"
    outside.write_text("mine")
    shutil.rmtree(os.path.join(root, "records"))
    put(root, "study.json", {"runs": []})
    put(root, "records/x/td3/seed1.json", record("../Pendulum-v1", "td3", 1))
    line = one_error_line(subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "report", root],
                                         capture_output=True, text=True, timeout=300))  # fmt: skip
    assert "'../Pendulum-v1' is not an env id" in line and outside.read_text() == "mine", line


def test_a_copied_record_counts_once_and_a_namespaced_env_is_found(tmp_path):
    root = str(tmp_path / "s")
    put(root, "study.json", {"runs": []})
    for seed in (1, 2):
        put(root, f"records/Pendulum-v1/td3/seed{seed}.json", record("Pendulum-v1", "td3", seed, sm=seed))
    shutil.copy(os.path.join(root, "records/Pendulum-v1/td3/seed1.json"),
                os.path.join(root, "records/Pendulum-v1/td3/seed3.json"))
    with pytest.raises(UserError, match="seed3.json is of Pendulum-v1/td3/seed1, whose place is "
                       "records/Pendulum-v1/td3/seed1.json"):  # fmt: skip
        study_report.load_records(root)
    copy = record("Pendulum-v1", "td3", 1, sm=1) | {"seed": 3}  # the copy, its seed edited
    put(root, "records/Pendulum-v1/td3/seed3.json", copy)
    with pytest.raises(UserError, match="seed3.json is of seed 3 but was trained with --seed 1: a copy"):
        study_report.load_records(root)
    put(root, "records/Pendulum-v1/td3/seed3.json", copy | {"args": {"seed": 3}})  # and its args edited too
    with pytest.raises(UserError, match="seed1.json and .*seed3.json hold the same evaluation"):
        study_report.load_records(root)
    os.remove(os.path.join(root, "records/Pendulum-v1/td3/seed3.json"))

    # gymnasium's namespaced ids: one folder each, where report (and study_scalars) look
    env_id = "pkg:ns/Name-v0"
    work, path = study.run_paths(root, env_id, "td3", 1)
    assert os.path.relpath(path, root) == os.path.join("records", "pkg:ns__Name-v0", "td3", "seed1.json")
    assert os.path.relpath(work, root) == os.path.join("work", "pkg:ns__Name-v0", "td3", "seed1")
    put(root, os.path.relpath(path, root), record(env_id, "td3", 1, sm=5))
    assert {r["env_id"] for r in study_report.load_records(root)} == {"Pendulum-v1", env_id}
    assert study_report.report(study_report.Report(study=root, resamples=100)) == 0
    assert os.path.exists(os.path.join(root, "pkg:ns__Name-v0.png"))
    assert f"## {env_id}" in open(os.path.join(root, "report.md")).read()


# --- one meaning for a repeated flag, outputs before prints, checks before work ------------------------------------


def test_a_repeated_flag_is_refused_by_every_command_but_vary_adds_up(tmp_path):
    for argv, name in ((["--seed", "1", "--seed=2"], "seed"), (["--hidden_sizes", "8", "--hidden-sizes", "9"],
                       "hidden-sizes"), (["--plots", "--no-plots"], "plots")):  # fmt: skip
        with pytest.raises(UserError, match=f"--{name} is given twice; give it once"):
            run_utils.check_repeated_flags(argv)
    run_utils.check_repeated_flags(["--vary", "a=1", "--vary", "b=2", "--", "--x", "--x"], appending={"vary"})
    with pytest.raises(UserError, match="--seed is given twice"):  # before the fix the last value won, silently
        run_utils.parse_args(td3_pave.Args, ["--seed", "1", "--seed", "2"])
    line = one_error_line(subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "run",
                                          "--study", str(tmp_path / "s"), "--methods", "td3", "--methods", "td3_pave",
                                          "--dry-run"], capture_output=True, text=True, timeout=300))  # fmt: skip
    assert "--methods is given twice" in line, line
    jobs = study.plan(study.Run(study=str(tmp_path / "s"), methods=("td3_pave",), seeds=(1,),
                                vary=("lambda3=0.2", "lambda1=0")))  # fmt: skip
    assert {j["method"] for j in jobs} == {"td3_pave", "td3_pave[lambda3=0.2]", "td3_pave[lambda1=0]"}
    with pytest.raises(UserError, match=re.escape("--vary hidden_sizes: a list flag (400 300) is not varied here")):
        study.plan(study.Run(study=str(tmp_path / "s"), methods=("td3_pave",), vary=("hidden_sizes=64",)))


def test_results_are_written_before_they_are_printed(trained, tmp_path):
    """stdout on a full disk (or a pipe whose reader is gone): eval's files are there, and one line says what
    was lost. Before the fix eval printed its table first and died with a traceback before writing anything."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, os.path.join(ROOT, "eval_smoothness.py"), trained, "--episodes", "1",
                                 "--no-plots", "--out-dir", str(tmp_path / "eval")], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=300)  # fmt: skip
    line = one_error_line(result)
    assert "cannot print the output: No space left on device (the command went on and its files are written)" in line
    assert (tmp_path / "eval" / "eval.csv").exists() and (tmp_path / "eval" / "eval.json").exists()


def test_checks_before_any_work(trained, tmp_path, monkeypatch):
    import gymnasium as gym

    class Unbounded:  # an env whose action Box has no bounds (gymnasium allows it)
        action_space = gym.spaces.Box(-np.inf, np.inf, (2,))
        observation_space = gym.spaces.Box(-1.0, 1.0, (3,))

    with pytest.raises(UserError, match="unbounded action box .*ClipAction or RescaleAction"):
        run_utils.check_env_fits(td3_pave.Args(env_id="Mine-v0"), Unbounded())
    pendulum = td3_pave.make_env("Pendulum-v1", 0)
    for flags, why in (({"hidden_sizes": (1_000_000, 100_000)}, r"networks 6e\+03 GB: --hidden-sizes 1000000 100000"),
                       ({"buffer_size": 10**12}, r"replay buffer 3.4e\+04 GB: --buffer-size 1000000000000")):
        with pytest.raises(UserError, match=f"{why}.*GB free here"):
            run_utils.check_env_fits(td3_pave.Args(env_id="Pendulum-v1", **flags), pendulum)
    run_utils.check_env_fits(td3_pave.Args(env_id="Pendulum-v1"), pendulum)  # the paper's sizes fit

    damaged = str(tmp_path / "damaged.pt")
    shutil.copy(os.path.join(trained, "td3_pave.pt"), damaged)
    edit_state(damaged, lambda ckpt: ckpt["actor"]["net.2.bias"].__setitem__(0, float("nan")))
    with pytest.raises(UserError, match="its weight actor.net.2.bias is not finite \\(NaN or inf\\): a damaged"):
        eval_smoothness.load_policy(damaged)  # eval's and export's way in
    with pytest.raises(UserError, match="--obs-noise repeats 0.05"):
        eval_smoothness.check_args(eval_smoothness.Args(paths=(trained,), obs_noise=(0.05, 0.05)))
    root = str(tmp_path / "r")
    put(root, "study.json", {"runs": []})
    with pytest.raises(UserError, match="--resamples 10: a 95% interval needs at least 100"):
        report(root, resamples=10)
    real = export_policy.importlib.util.find_spec
    monkeypatch.setattr(export_policy.importlib.util, "find_spec", lambda n: None if n == "onnxruntime" else real(n))
    with pytest.raises(UserError, match="--format onnx needs onnxruntime: pip install"):
        export_policy.export(export_policy.Args(os.path.join(trained, "td3_pave.pt"), out=str(tmp_path / "p.onnx")))
    assert not (tmp_path / "p.onnx").exists()


def test_damaged_resume_states_references_and_configs_are_refused(trained, tmp_path, monkeypatch):
    import throughput

    # sweep #39, #41, #42: a resume state with NaN in a network, a step below 0 or not a number
    for i, (edit, why) in enumerate((
            (lambda s: s["nets"]["qf2"]["net.0.weight"].__setitem__((0, 0), float("nan")), "qf2.net.0.weight is not finite"),
            (lambda s: s.__setitem__("global_step", -50), "its global_step -50 is not a step count"),
            (lambda s: s.__setitem__("global_step", "120"), "its global_step '120' is not a step count"))):  # fmt: skip
        run = copy_run(trained, tmp_path / f"run{i}")
        edit_state(run / "td3_pave.resume.pt", edit)
        with pytest.raises(UserError, match=why):
            resume_in_process(td3_pave, tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 400)
    # sweep #19, #20: a reference's sigma_base that does not fit the env is not used
    args = eval_smoothness.Args(paths=(trained,), episodes=1, noise_episodes=1, obs_noise=(0.05,), plots=False,
                                out_dir=str(tmp_path / "e"))  # fmt: skip
    for kept in ([0.5], [np.nan] * 3):
        with pytest.raises(UserError, match="is not one finite scale >= 0 per observation dimension"):
            eval_smoothness.evaluate(args, sigma_base={"Pendulum-v1": np.array(kept)})
    # sweep #17, #18: one run named twice counts once
    once = eval_smoothness.find_checkpoints([trained])  # the checkpoint and its snapshot
    assert len(once) == 2 and eval_smoothness.find_checkpoints([trained, os.path.join(trained, "td3_pave.pt")]) == once
    # sweep #10, #13, #14: a measurement never resumes a user's run, and a config names each flag once
    for flags, why in ((f"--resume {trained}", "--resume: throughput.py sets it itself"),
                       ("--seed 1 --seed 2", "--seed is given twice")):  # fmt: skip
        with pytest.raises(UserError, match=why):
            throughput.check_args(throughput.Args(out=str(tmp_path / "t.json")),
                                  [throughput.parse_config(f"a=td3_pave.py {flags}")])  # fmt: skip


def test_resume_through_a_symlink_continues_the_real_run(trained, tmp_path, monkeypatch):
    """Before the fix a link to a checkpoint resumed in the link's folder: the new saves replaced the links with files
    there, and the real run never moved."""
    run = copy_run(trained, tmp_path / "run")
    links = tmp_path / "links"
    links.mkdir()
    for name in ("td3_pave.pt", "td3_pave.resume.pt"):
        (links / name).symlink_to(run / name)
    (tmp_path / "latest").symlink_to(run)
    for target, steps in ((links / "td3_pave.pt", 350), (tmp_path / "latest", 400)):
        resume_in_process(td3_pave, tmp_path, monkeypatch, "--resume", target, "--total-timesteps", steps)
        assert torch.load(run / "td3_pave.pt", weights_only=True)["global_step"] == steps
    assert all((links / name).is_symlink() for name in ("td3_pave.pt", "td3_pave.resume.pt"))


def test_study_scalars_reads_one_folder_per_run(tmp_path):
    """A dead attempt (killed before its first save, so the next attempt started a new folder) is not a second run."""
    runs = tmp_path / "work" / "Pendulum-v1" / "td3" / "seed1" / "runs"
    dead, live = runs / "Pendulum-v1__td3__1__100", runs / "Pendulum-v1__td3__1__200"
    for folder in (dead, live):
        folder.mkdir(parents=True)
    (live / "td3.pt").write_bytes(b"")
    first = tmp_path / "work" / "Pendulum-v1" / "td3" / "seed2" / "runs" / "Pendulum-v1__td3__2__300"
    first.mkdir(parents=True)  # a first attempt before its first save: read (with --running)
    found = [os.path.join(str(f), "") for f in (dead, live, first)]
    assert study_scalars.live_runs(found) == ([found[1], found[2]], [found[0]])


def test_study_scalars_names_an_event_file_cut_short(tmp_path, capsys):
    """A run killed while TensorBoard wrote: its event file ends in half a record, which tensorboard's reader drops
    with a note at debug level only, so the rows stopped there without a word."""
    from torch.utils.tensorboard import SummaryWriter

    root = tmp_path / "s"
    run = root / "work" / "Pendulum-v1" / "td3_pave" / "seed1" / "runs" / "Pendulum-v1__td3_pave__1__100"
    writer = SummaryWriter(str(run))
    for step in range(200):
        writer.add_scalar("losses/curv", 1.0 / (step + 1), step)
    writer.close()
    (event,) = run.glob("events.out.tfevents.*")
    data = event.read_bytes()
    event.write_bytes(data[: len(data) - 20])  # the last record cut
    (run / "td3_pave.pt").write_bytes(b"")
    study_scalars.main(study_scalars.Args(str(root), running=True, every=50))
    printed = capsys.readouterr().out
    assert "1 event files end in a cut record" in printed and event.name in printed, printed
