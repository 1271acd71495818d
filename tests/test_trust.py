"""What a file may choose (issue 43): a checkpoint, resume state, record or plan received from someone is data. It never
chooses code to run (an env id that names a module), a path to write (names become file names only once checked) or
an overwrite (no tool writes over a run's checkpoint, resume state or snapshot). docs/reliability.md names these."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, only_run_dir, run_cli

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import study  # noqa: E402
import study_report  # noqa: E402

PENDULUM = ["--env-id", "Pendulum-v1", "--learning-starts", 100, "--hidden-sizes", 16, 16, "--batch-size", 16]
# a module whose import leaves a mark: the code a hostile checkpoint would run
MARKING_MODULE = "import os\nopen(os.environ['MARK_FILE'], 'w').write('imported')\n"


def one_error_line(result):
    assert result.returncode == 1, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A short TD3 + PAVE run with its checkpoint, resume state and a snapshot (step 150)."""
    cwd = tmp_path_factory.mktemp("trained")
    result = run_cli("td3_pave.py", *PENDULUM, "--total-timesteps", 300, "--snapshot-fractions", 0.5, cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return only_run_dir(cwd)


def with_env_id(source, target, env_id):
    """A copy of a checkpoint or resume state whose env id names another env (as a file from elsewhere could)."""
    state = torch.load(source, weights_only=True)
    state["args"]["env_id"] = env_id
    if "env_id" in state:
        state["env_id"] = env_id
    torch.save(state, target)


def marking_env(tmp_path):
    """PYTHONPATH and MARK_FILE for a module `marker` that writes MARK_FILE when imported: 'marker:Pendulum-v1' is
    Pendulum-v1 after gymnasium imports marker."""
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "marker.py").write_text(MARKING_MODULE)
    mark = tmp_path / "imported.txt"
    return {**os.environ, "PYTHONPATH": str(folder), "MARK_FILE": str(mark)}, mark


def cli(script, *flags, cwd, env):
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, flags)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_an_env_id_from_a_file_imports_nothing_the_user_did_not_name(trained, tmp_path):
    env, mark = marking_env(tmp_path)
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    for name in ("td3_pave.pt", "td3_pave.resume.pt"):
        with_env_id(os.path.join(trained, name), run / name, "marker:Pendulum-v1")
    checkpoint = str(run / "td3_pave.pt")

    line = one_error_line(cli("eval_smoothness.py", checkpoint, "--episodes", 1, "--no-plots", "--out-dir",
                              tmp_path / "eval", cwd=tmp_path, env=env))  # fmt: skip
    assert "names env 'marker:Pendulum-v1', for which gymnasium would import module 'marker'" in line, line
    assert "add --env-module marker to allow it" in line, line
    line = one_error_line(cli("export_policy.py", checkpoint, "--out", tmp_path / "p.onnx", cwd=tmp_path, env=env))
    assert "module 'marker'" in line and "--env-module marker" in line, line
    line = one_error_line(cli("td3_pave.py", "--resume", run, "--total-timesteps", 300, cwd=tmp_path, env=env))
    assert "give it again, --env-id marker:Pendulum-v1, to allow that" in line, line
    assert not mark.exists()  # none of the three imported it
    assert not (tmp_path / "p.onnx").exists() and not (tmp_path / "eval").exists()

    # named by the user, it is imported: the flag is the whole gate, not a refusal of every such env
    done = cli("td3_pave.py", "--resume", run, "--env-id", "marker:Pendulum-v1", "--total-timesteps", 300,
               cwd=tmp_path, env=env)  # fmt: skip
    assert done.returncode == 0 and mark.exists(), done.stderr[-2000:]
    mark.unlink()
    evaluated = cli("eval_smoothness.py", checkpoint, "--env-module", "marker", "--episodes", 1, "--no-plots",
                    "--out-dir", tmp_path / "eval", cwd=tmp_path, env=env)  # fmt: skip
    assert evaluated.returncode == 0 and mark.exists(), evaluated.stderr[-2000:]


def test_no_tool_writes_over_a_runs_checkpoint_resume_state_or_snapshot(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    disguised = run / "policy.onnx"  # a checkpoint under an export's name: refused by what it is, not by its name
    shutil.copy(run / "td3_pave.pt", disguised)
    targets = [run / "td3_pave.pt", run / "td3_pave.resume.pt", run / "td3_pave_step150.pt", disguised]
    before = {path: path.read_bytes() for path in targets}
    for target in targets:
        line = one_error_line(run_cli("export_policy.py", run / "td3_pave.pt", "--out", target, cwd=tmp_path))
        assert f"--out {target} is a run's checkpoint, resume state or snapshot" in line, line
    assert all(path.read_bytes() == data for path, data in before.items())
    # eval's outputs too: a checkpoint named as eval's table
    out = tmp_path / "eval"
    out.mkdir()
    shutil.copy(run / "td3_pave.pt", out / "eval.csv")
    line = one_error_line(run_cli("eval_smoothness.py", run / "td3_pave.pt", "--episodes", 1, "--no-plots",
                                  "--out-dir", out, cwd=tmp_path))  # fmt: skip
    assert f"{out / 'eval.csv'} is a run's checkpoint" in line, line
    assert (out / "eval.csv").read_bytes() == before[run / "td3_pave.pt"]
    # an earlier export of the same name is replaced, as a user expects (a TorchScript file is a zip too)
    for _ in range(2):
        result = run_cli("export_policy.py", run / "td3_pave.pt", "--format", "torchscript", "--out",
                         tmp_path / "policy.ts", cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]


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


def report(root):
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "report", root,
                           "--resamples", "100"], capture_output=True, text=True, timeout=300)  # fmt: skip


def test_names_in_records_and_plans_never_make_a_path_out_of_the_study(tmp_path):
    root = str(tmp_path / "s")
    put(root, "study.json", {"runs": []})
    outside = tmp_path / "Pendulum-v1.png"  # where a record's env id '../Pendulum-v1' would have put its figure
    outside.write_text("mine")
    put(root, "records/x/td3/seed1.json", record("../Pendulum-v1", "td3", 1))
    line = one_error_line(report(root))
    assert "'../Pendulum-v1' is not an env id" in line, line
    assert outside.read_text() == "mine"
    shutil.rmtree(os.path.join(root, "records"))

    for bad, why in ((record("Pendulum-v1", "td3", "1"), "seed '1' is not an integer"),
                     (record("Pendulum-v1", "td3_pave[lambda3=2]x", 1), "is not a method"),
                     (record("Pendulum-v1", "nosuch[lambda3=2]", 1), "'nosuch[lambda3=2]' is not a method")):
        put(root, "records/Pendulum-v1/td3/seed1.json", bad)
        line = one_error_line(report(root))
        assert why in line and "record " in line, line
    put(root, "study.json", {"runs": [{"env_id": "../../etc", "method": "td3", "seed": 1}]})
    line = one_error_line(subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "status", root],
                                         capture_output=True, text=True, timeout=300))  # fmt: skip
    assert "study.json: '../../etc' is not an env id" in line, line


def test_a_copied_record_counts_once_and_a_namespaced_env_is_found(tmp_path):
    root = str(tmp_path / "s")
    put(root, "study.json", {"runs": []})
    for seed in (1, 2):
        put(root, f"records/Pendulum-v1/td3/seed{seed}.json", record("Pendulum-v1", "td3", seed, sm=seed))
    shutil.copy(os.path.join(root, "records/Pendulum-v1/td3/seed1.json"),
                os.path.join(root, "records/Pendulum-v1/td3/seed3.json"))
    line = one_error_line(report(root))
    assert "seed3.json is of Pendulum-v1/td3/seed1, whose place is records/Pendulum-v1/td3/seed1.json" in line, line
    copy = record("Pendulum-v1", "td3", 1, sm=1) | {"seed": 3}  # the copy, its seed edited
    put(root, "records/Pendulum-v1/td3/seed3.json", copy)
    line = one_error_line(report(root))
    assert "seed3.json is of seed 3 but was trained with --seed 1: a copy" in line, line
    put(root, "records/Pendulum-v1/td3/seed3.json", copy | {"args": {"seed": 3}})  # and its args edited too
    line = one_error_line(report(root))
    assert "seed1.json and" in line and "seed3.json hold the same evaluation" in line, line
    os.remove(os.path.join(root, "records/Pendulum-v1/td3/seed3.json"))

    # gymnasium's namespaced ids: one folder each, where report (and study_scalars) look
    env_id = "pkg:ns/Name-v0"
    work, path = study.run_paths(root, env_id, "td3", 1)
    assert os.path.relpath(path, root) == os.path.join("records", "pkg:ns__Name-v0", "td3", "seed1.json")
    assert os.path.relpath(work, root) == os.path.join("work", "pkg:ns__Name-v0", "td3", "seed1")
    put(root, os.path.relpath(path, root), record(env_id, "td3", 1, sm=5))
    assert {r["env_id"] for r in study_report.load_records(root)} == {"Pendulum-v1", env_id}
    result = report(root)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(os.path.join(root, "pkg:ns__Name-v0.png")) and f"## {env_id}" in open(
        os.path.join(root, "report.md")).read()


# --- one meaning for a repeated flag, outputs before prints, checks before work ------------------------------------


def study_cli(*flags, cwd):
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), *map(str, flags)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_repeated_flag_is_refused_by_every_command_but_vary_adds_up(tmp_path):
    import run_utils

    for argv, name in ((["--seed", "1", "--seed=2"], "seed"), (["--hidden_sizes", "8", "--hidden-sizes", "9"],
                       "hidden-sizes"), (["--plots", "--no-plots"], "plots")):  # fmt: skip
        with pytest.raises(run_utils.UserError, match=f"--{name} is given twice; give it once"):
            run_utils.check_repeated_flags(argv)
    run_utils.check_repeated_flags(["--vary", "a=1", "--vary", "b=2", "--", "--x", "--x"], appending={"vary"})
    # before the fix each kept its last value without a word
    line = one_error_line(run_cli("td3_pave.py", *PENDULUM, "--seed", 1, "--seed", 2, cwd=tmp_path))
    assert "--seed is given twice" in line and not (tmp_path / "runs").exists(), line
    study = str(tmp_path / "s")
    line = one_error_line(study_cli("run", "--study", study, "--envs", "Pendulum-v1", "--methods", "td3",
                                    "--methods", "td3_pave", "--dry-run", cwd=tmp_path))  # fmt: skip
    assert "--methods is given twice" in line, line
    planned = study_cli("run", "--study", study, "--envs", "Pendulum-v1", "--methods", "td3_pave", "--seeds", 1,
                        "--vary", "lambda3=0.2", "--vary", "lambda1=0", "--dry-run", cwd=tmp_path)  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert "td3_pave[lambda3=0.2]" in planned.stdout and "td3_pave[lambda1=0]" in planned.stdout, planned.stdout
    line = one_error_line(study_cli("run", "--study", study, "--envs", "Pendulum-v1", "--methods", "td3_pave",
                                    "--vary", "hidden_sizes=64", "--dry-run", cwd=tmp_path))  # fmt: skip
    assert "--vary hidden_sizes: a list flag (400 300) is not varied here" in line, line


def test_results_are_written_before_they_are_printed(trained, tmp_path):
    """stdout on a full disk (or a pipe whose reader is gone): eval's files are there, and one line says what
    was lost. Before the fix eval printed its table first and died with a traceback before writing anything."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, os.path.join(ROOT, "eval_smoothness.py"), trained, "--episodes", "1",
                                 "--no-plots", "--out-dir", str(tmp_path / "eval")], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=300)  # fmt: skip
    line = one_error_line(result)
    assert "cannot print the output: No space left on device (the command went on and its files are written)" in line, line
    assert (tmp_path / "eval" / "eval.csv").exists() and (tmp_path / "eval" / "eval.json").exists()


def test_checks_before_any_work(trained, tmp_path, monkeypatch):
    import gymnasium as gym
    import numpy as np

    import export_policy
    import run_utils
    import td3_pave

    class Unbounded:  # an env whose action Box has no bounds (gymnasium allows it)
        action_space = gym.spaces.Box(-np.inf, np.inf, (2,))
        observation_space = gym.spaces.Box(-1.0, 1.0, (3,))

    with pytest.raises(run_utils.UserError, match="unbounded action box .*ClipAction or RescaleAction"):
        run_utils.check_env_fits(td3_pave.Args(env_id="Mine-v0"), Unbounded())
    for flags, why in ((["--hidden-sizes", 1_000_000, 100_000], "networks 6e\\+03 GB: --hidden-sizes 1000000 100000"),
                       (["--buffer-size", 10**12], "replay buffer 3.4e\\+04 GB: --buffer-size 1000000000000")):
        line = one_error_line(run_cli("sac_pave.py", *PENDULUM[:4], *flags, cwd=tmp_path))
        assert re.search(why, line) and "GB free here" in line, line
    assert not (tmp_path / "runs").exists()  # refused before the run folder

    damaged = tmp_path / "damaged.pt"
    ckpt = torch.load(os.path.join(trained, "td3_pave.pt"), weights_only=True)
    ckpt["actor"]["net.2.bias"][0] = float("nan")
    torch.save(ckpt, damaged)
    for script, flags in (("eval_smoothness.py", ["--no-plots", "--out-dir", tmp_path / "e"]), ("export_policy.py", [])):
        line = one_error_line(run_cli(script, damaged, *flags, cwd=tmp_path))
        assert "its weight actor.net.2.bias is not finite (NaN or inf): a damaged checkpoint" in line, line
    line = one_error_line(run_cli("eval_smoothness.py", trained, "--obs-noise", 0.05, 0.05, cwd=tmp_path))
    assert "--obs-noise repeats 0.05" in line, line
    line = one_error_line(report_with(tmp_path, "--resamples", "10"))
    assert "--resamples 10: a 95% interval needs at least 100" in line, line

    real = export_policy.importlib.util.find_spec
    monkeypatch.setattr(export_policy.importlib.util, "find_spec", lambda n: None if n == "onnxruntime" else real(n))
    with pytest.raises(run_utils.UserError, match="--format onnx needs onnxruntime: pip install"):
        export_policy.export(export_policy.Args(os.path.join(trained, "td3_pave.pt"), out=str(tmp_path / "p.onnx")))
    assert not (tmp_path / "p.onnx").exists()


def report_with(tmp_path, *flags):
    root = str(tmp_path / "r")
    put(root, "study.json", {"runs": []})
    put(root, "records/Pendulum-v1/td3/seed1.json", record("Pendulum-v1", "td3", 1))
    return study_cli("report", root, *flags, cwd=tmp_path)


def test_study_scalars_reads_one_folder_per_run(tmp_path):
    """A dead attempt (killed before its first save, so the next attempt started a new folder) is not a second run."""
    import study_scalars

    runs = tmp_path / "work" / "Pendulum-v1" / "td3" / "seed1" / "runs"
    dead, live = runs / "Pendulum-v1__td3__1__100", runs / "Pendulum-v1__td3__1__200"
    for folder in (dead, live):
        folder.mkdir(parents=True)
    (live / "td3.pt").write_bytes(b"")
    first = tmp_path / "work" / "Pendulum-v1" / "td3" / "seed2" / "runs" / "Pendulum-v1__td3__2__300"
    first.mkdir(parents=True)  # a first attempt before its first save: read (with --running)
    found = [os.path.join(str(f), "") for f in (dead, live, first)]
    assert study_scalars.live_runs(found) == ([found[1], found[2]], [found[0]])


def test_resume_through_a_symlink_continues_the_real_run(trained, tmp_path):
    """Before the fix a link to a checkpoint resumed in the link's folder: the new saves replaced the links with files
    there, and the real run never moved."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    links = tmp_path / "links"
    links.mkdir()
    for name in ("td3_pave.pt", "td3_pave.resume.pt"):
        (links / name).symlink_to(run / name)
    (tmp_path / "latest").symlink_to(run)
    for target, steps in ((links / "td3_pave.pt", 350), (tmp_path / "latest", 400)):
        result = run_cli("td3_pave.py", "--resume", target, "--total-timesteps", steps, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert torch.load(run / "td3_pave.pt", weights_only=True)["global_step"] == steps
    assert all((links / name).is_symlink() for name in ("td3_pave.pt", "td3_pave.resume.pt"))


def test_study_scalars_names_an_event_file_cut_short(tmp_path):
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
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study_scalars.py"), str(root),
                             "--running", "--every", "50"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 event files end in a cut record" in result.stdout and event.name in result.stdout, result.stdout


# --- issue 43's own sweep (results/fault_sweep/sweep_issue43.md): what it found, held ---------------------------------


def test_a_link_at_a_temp_name_carries_no_write_elsewhere(tmp_path):
    """Sweep #3-#5, #11: a link planted at the temp name (report.md.tmp -> a file outside) took the write there."""
    import run_utils

    outside = tmp_path / "outside.txt"
    outside.write_text("mine")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "report.md.tmp").symlink_to(outside)
    with run_utils.writing(str(tmp_path / "s" / "report.md")) as f:
        f.write("the report")
    assert outside.read_text() == "mine"
    assert not (tmp_path / "s" / "report.md").is_symlink() and (tmp_path / "s" / "report.md").read_text() == "the report"


def test_damaged_resume_states_records_and_references_are_one_line(trained, tmp_path):
    import numpy as np

    import eval_smoothness
    import run_utils
    import throughput

    # sweep #39, #41, #42: a resume state with NaN in a network, a step below 0 or not a number
    for edit, why in ((lambda s: s["nets"]["qf2"].__setitem__("net.0.weight", s["nets"]["qf2"]["net.0.weight"] * np.nan),
                       "its qf2.net.0.weight is not finite"),
                      (lambda s: s.__setitem__("global_step", -50), "its global_step -50 is not a step count")):
        run = tmp_path / f"run{len(why)}"
        shutil.copytree(trained, run)
        state = torch.load(run / "td3_pave.resume.pt", weights_only=True)
        edit(state)
        torch.save(state, run / "td3_pave.resume.pt")
        line = one_error_line(run_cli("td3_pave.py", "--resume", run, "--total-timesteps", 400, cwd=tmp_path))
        assert why in line, line
    # sweep #22-#26: records whose fields the report reads have the wrong type
    for bad in ({"args": [1]}, {"args": {"seed": 1, "learning_starts": "x"}}, {"critic": "x"},
                {"levels": {"abc": {"returns": [1.0], "sm": [1.0]}}}):  # fmt: skip
        root = str(tmp_path / "r")
        shutil.rmtree(root, ignore_errors=True)
        put(root, "study.json", {"runs": []})
        put(root, "records/Pendulum-v1/td3/seed1.json", record("Pendulum-v1", "td3", 1) | bad)
        line = one_error_line(report(root))
        assert "is malformed (its levels, train_seconds, args, steps or critic)" in line, (bad, line)
    # sweep #19, #20: a reference's sigma_base that does not fit the env is not used
    args = eval_smoothness.Args(paths=(trained,), episodes=1, noise_episodes=1, obs_noise=(0.05,), plots=False,
                                out_dir=str(tmp_path / "e"))  # fmt: skip
    for kept in ([0.5], [np.nan] * 3):
        with pytest.raises(run_utils.UserError, match="is not one finite scale >= 0 per observation dimension"):
            eval_smoothness.evaluate(args, sigma_base={"Pendulum-v1": np.array(kept)})
    # sweep #17, #18: one run named twice counts once
    once = eval_smoothness.find_checkpoints([trained])  # the checkpoint and its snapshot
    assert len(once) == 2 and eval_smoothness.find_checkpoints([trained, os.path.join(trained, "td3_pave.pt")]) == once
    # sweep #10, #13, #14: a measurement never resumes a user's run, and a config names each flag once
    for flags, why in ((f"--resume {trained}", "--resume: throughput.py sets it itself"),
                       ("--seed 1 --seed 2", "--seed is given twice")):  # fmt: skip
        configs = [throughput.parse_config(f"a=td3_pave.py {flags}")]
        with pytest.raises(run_utils.UserError, match=why):
            throughput.check_args(throughput.Args(out=str(tmp_path / "t.json")), configs)
