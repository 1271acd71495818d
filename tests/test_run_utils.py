"""run_utils.py, the run machinery of every algorithm file, with the faults injected: signals at several intervals,
a kill between and during the writes of a save, two processes on one run, unwritable folders, malformed resume
states, names that are paths, a checkpoint that names code. In each case a resumable pair survives, nothing runs
that the user did not name, and a user's error is one `error:` line."""

import gc
import glob
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import run_utils
import td3_pave
from conftest import ROOT, TINY, only_run_dir, resume_in_process, run_cli, train_in_process

RUN = dict(env_id="Pendulum-v1", learning_starts=100, batch_size=16, hidden_sizes=(16, 16), seed=1,
           checkpoint_interval=100, snapshot_fractions=())  # fmt: skip


def train(cwd, monkeypatch, **args):
    monkeypatch.chdir(cwd)
    return os.path.join(cwd, td3_pave.main(td3_pave.Args(**(RUN | args))))


def resume(cwd, monkeypatch, *flags):
    return resume_in_process(td3_pave, cwd, monkeypatch, *flags)


def steps(path):
    return torch.load(path, weights_only=True)["global_step"]


class Killed(BaseException):
    """A SIGKILL at this instant: nothing after it runs, no handler, no finally that saves."""


# --- a kill at any instant of a save leaves a resumable pair ------------------------------------------------------

# The instants of one save, in order: the resume state's temp file half-written, written but not renamed, renamed;
# the checkpoint's temp file half-written, written but not renamed (after that the save is complete).
INSTANTS = ["resume tmp half", "resume tmp whole", "resume renamed", "checkpoint tmp half", "checkpoint tmp whole"]


@pytest.mark.parametrize("instant", INSTANTS)
def test_a_kill_at_any_instant_of_a_save_leaves_a_pair_that_resumes(instant, tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=200)  # a complete pair at step 200
    writes = []
    original_save, original_replace = torch.save, os.replace

    def save(data, f, *a, **k):
        writes.append("save")
        if instant.endswith("half") and len(writes) == INSTANTS.index(instant) // 2 * 2 + 1:
            f.write(b"\x80half a pickle")  # what a kill leaves of a temp file being written
            raise Killed
        return original_save(data, f, *a, **k)

    def replace(src, dst):
        writes.append("replace")
        if (instant == "resume tmp whole" and len(writes) == 2) or (instant == "checkpoint tmp whole" and len(writes) == 4):
            raise Killed
        original_replace(src, dst)
        if instant == "resume renamed" and len(writes) == 2:
            raise Killed

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(run_utils.torch, "save", save)
    monkeypatch.setattr(run_utils.os, "replace", replace)
    with pytest.raises(Killed):  # the periodic save at step 300 is killed
        resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 400)
    monkeypatch.setattr(run_utils.torch, "save", original_save)
    monkeypatch.setattr(run_utils.os, "replace", original_replace)
    for s, handler in handlers.items():  # a killed process takes its handlers and its run lock with it; this one
        signal.signal(s, handler)  # lives on, so they are dropped by hand
    gc.collect()
    state_step = steps(os.path.join(run, "td3_pave.resume.pt"))
    assert state_step == (300 if instant in INSTANTS[2:] else 200)  # the previous state or the new one, whole
    assert steps(os.path.join(run, "td3_pave.pt")) == 200  # the checkpoint still loads (the previous one)
    resumed = resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 400)
    assert resumed == run and steps(os.path.join(run, "td3_pave.pt")) == 400


# --- signals: a request to stop at the next step boundary ----------------------------------------------------------


@pytest.mark.parametrize("gap", [0.0, 0.002, 0.05, 0.5], ids=["together", "2ms", "50ms", "500ms"])
def test_two_quick_signals_save_once_and_the_run_resumes(gap, tmp_path, monkeypatch, capsys):
    """A terminal's SIGINT and a job's forwarded SIGTERM, a few milliseconds apart (the study's Ctrl-C)."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "td3_pave.py"), "--env-id", "Pendulum-v1",
                             "--total-timesteps", "100000", "--learning-starts", "100", "--checkpoint-interval", "0",
                             *map(str, TINY)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    for line in proc.stdout:
        if "training starts" in line:
            break
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    run = only_run_dir(tmp_path)
    assert f"continue with: python td3_pave.py --resume {os.path.join('runs', os.path.basename(run))}" in out
    saved = steps(os.path.join(run, "td3_pave.pt"))
    assert saved == steps(os.path.join(run, "td3_pave.resume.pt")) >= 100
    assert resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", saved + 50) == run  # in this process
    assert f"resumed at step {saved:,}" in capsys.readouterr().out
    assert steps(os.path.join(run, "td3_pave.pt")) == saved + 50


def test_two_processes_never_train_one_run(tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=200)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "td3_pave.py"), "--resume", run, "--total-timesteps",
                             "100000"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    for line in proc.stdout:
        if "resumed at step" in line:
            break
    second = run_cli("td3_pave.py", "--resume", run, "--total-timesteps", 100000, cwd=tmp_path)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert second.returncode == 1 and second.stderr.strip().count("\n") == 0, second.stderr
    assert second.stderr.startswith(f"error: {run} is being trained by another process")
    assert proc.returncode == 130 and steps(os.path.join(run, "td3_pave.pt")) > 200  # the first one saved


# --- resume: the run's flags as defaults, the command line on top ---------------------------------------------------


def test_resume_honours_a_flag_given_at_the_files_default(tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=200, checkpoint_interval=0)
    kept = run_utils.parse_args(td3_pave.Args, ["--resume", run])
    assert kept.checkpoint_interval == 0 and kept.env_id == "Pendulum-v1" and kept.hidden_sizes == (16, 16)
    given = run_utils.parse_args(td3_pave.Args, ["--resume", run, "--checkpoint-interval", "100000"])
    assert given.checkpoint_interval == 100000 == td3_pave.Args().checkpoint_interval  # the default, given: honoured
    with pytest.raises(run_utils.UserError, match="--total-timesteps 150 is below the 200 steps the run has done"):
        resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 150)
    with pytest.raises(run_utils.UserError, match="the run has --lambda1 0.1; a resumed run keeps its own"):
        resume(tmp_path, monkeypatch, "--resume", run, "--lambda1", 0.5)


def test_a_malformed_resume_state_is_one_line(tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=200)
    state_path = os.path.join(run, "td3_pave.resume.pt")
    state = torch.load(state_path, weights_only=True)
    events = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
    nets_without_qf2 = state | {"nets": {k: v for k, v in state["nets"].items() if k != "qf2"}}
    for broken, message in [(nets_without_qf2, "its qf2 does not fit"),
                            ({k: v for k, v in state.items() if k != "buffer"}, "has no 'buffer'"),
                            ({"global_step": 200}, "has no 'buffer'"),
                            ([1, 2, 3], "not a resume state")]:  # fmt: skip
        torch.save(broken, state_path)
        result = run_cli("td3_pave.py", "--resume", run, "--total-timesteps", 300, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("error:") and message in result.stderr and result.stderr.count("\n") == 1
        assert sorted(glob.glob(os.path.join(run, "events.out.tfevents.*"))) == events  # nothing written
    with open(state_path, "wb") as f:
        f.write(b"not a pickle")
    result = run_cli("td3_pave.py", "--resume", run, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith(f"error: cannot resume from {state_path}")


def test_a_resume_state_from_before_it_held_the_networks_still_resumes(tmp_path, monkeypatch):
    """Studies under way when the networks moved into the resume state: its networks come from the checkpoint."""
    run = train(tmp_path, monkeypatch, total_timesteps=200)
    state_path = os.path.join(run, "td3_pave.resume.pt")
    state = torch.load(state_path, weights_only=True)
    torch.save({k: v for k, v in state.items() if k not in ("nets", "args", "algorithm")}, state_path)
    assert resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 300) == run
    assert steps(os.path.join(run, "td3_pave.pt")) == 300


# --- names, seeds and folders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags, message", [
    (["--exp-name", "../x"], "--exp-name '../x' must be a plain name"),
    (["--exp-name", "/tmp/x"], "--exp-name '/tmp/x' must be a plain name"),
    (["--exp-name", "a/b"], "--exp-name 'a/b' must be a plain name"),
    (["--seed", "-1"], "--seed must be in [0, 2^32)"),
    (["--seed", str(2**32)], "--seed must be in [0, 2^32)"),
    (["--resume", "nowhere"], "cannot resume from nowhere"),
    (["--resume", ""], "--resume needs a run folder or its checkpoint"),
    (["--exp-name", "x.resume"], "not ending in .resume"),
])  # fmt: skip
def test_bad_run_flags_are_one_line_and_write_nothing(flags, message, tmp_path):
    result = run_cli("td3_pave.py", "--env-id", "Pendulum-v1", *flags, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == f"error: {result.stderr[7:]}" and "Traceback" not in result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not os.path.exists(tmp_path / "runs") and not os.path.exists(tmp_path.parent / "x")


def test_an_unwritable_run_folder_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "runs").write_text("a file where the runs folder goes")  # root ignores permissions: a file, not chmod
    result = run_cli("td3_pave.py", "--env-id", "Pendulum-v1", "--total-timesteps", 10, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: cannot write the run folder runs/Pendulum-v1__")


def test_a_save_that_cannot_write_says_what_it_kept_and_the_run_resumes(tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=200)
    os.mkdir(os.path.join(run, "td3_pave.pt.tmp"))  # the checkpoint's temp file cannot be made
    with pytest.raises(run_utils.UserError, match="cannot write .*td3_pave.pt: .*the new resume state of step 300 is saved"):
        resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 300)
    assert steps(os.path.join(run, "td3_pave.pt")) == 200 and steps(os.path.join(run, "td3_pave.resume.pt")) == 300
    os.rmdir(os.path.join(run, "td3_pave.pt.tmp"))
    assert resume(tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 300) == run
    assert steps(os.path.join(run, "td3_pave.pt")) == 300  # the checkpoint catches up with the state


# --- a checkpoint never chooses code -------------------------------------------------------------------------------


def test_a_checkpoint_naming_a_file_that_is_not_an_algorithm_file_runs_nothing(tmp_path, monkeypatch):
    run = train(tmp_path, monkeypatch, total_timesteps=150)
    name = f"not_an_algorithm_{os.getpid()}.py"
    marker = tmp_path / "it_ran"
    source = os.path.join(ROOT, name)
    with open(source, "w") as f:
        f.write(f"open({str(marker)!r}, 'w').write('ran')\nclass Actor: pass\n")
    try:
        ckpt = torch.load(os.path.join(run, "td3_pave.pt"), weights_only=True)
        for algorithm, message in [(name, "which is not an algorithm file"), ("../td3_pave.py", "not a file in"),
                                   ("os.py", "not a file in")]:  # fmt: skip
            torch.save(ckpt | {"algorithm": algorithm}, tmp_path / "other.pt")
            result = run_cli("eval_smoothness.py", tmp_path / "other.pt", "--episodes", 1, cwd=tmp_path)
            assert result.returncode == 1 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert not marker.exists()
    finally:
        os.remove(source)
    # a fork that does not declare what an algorithm file declares runs only when the user names it
    fork = tmp_path / "my_fork.py"
    fork.write_text(open(os.path.join(ROOT, "td3_pave.py")).read().replace("REGULARIZER_WEIGHTS = (", "WEIGHTS = ("))
    torch.save(ckpt | {"algorithm": "my_fork.py"}, tmp_path / "fork.pt")
    result = run_cli("eval_smoothness.py", tmp_path / "fork.pt", "--episodes", 1, "--no-plots", cwd=tmp_path)
    assert result.returncode == 1 and "'my_fork.py', which is not a file in" in result.stderr, result.stderr
    result = run_cli("eval_smoothness.py", tmp_path / "fork.pt", "--episodes", 1, "--no-plots", "--algorithm", fork,
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0 and "return" in result.stdout, result.stderr
    # a fork of an algorithm file is one: it declares what eval uses
    assert run_utils.is_algorithm_file(os.path.join(ROOT, "td3_caps.py"))
    assert not run_utils.is_algorithm_file(os.path.join(ROOT, "eval_smoothness.py"))


def test_each_file_declares_its_own_regularizer_weights():
    import importlib

    for name, weights in [("td3_pave", ("lambda1", "lambda2", "lambda3")), ("sac_pave", ("lambda1", "lambda2", "lambda3")),
                          ("td3_caps", ("lambda_t", "lambda_s")), ("sac_caps", ("lambda_t", "lambda_s")),
                          ("td3_grad", ("lambda_t",)), ("sac_grad", ("lambda_t",)),
                          ("td3_asap", ("lambda_p", "lambda_s", "lambda_t")),
                          ("sac_asap", ("lambda_p", "lambda_s", "lambda_t")),
                          ("td3_pave_fast", ("lambda1", "lambda2", "lambda3"))]:  # fmt: skip
        module = importlib.import_module(name)
        assert set(module.REGULARIZER_WEIGHTS) == set(weights), name
        assert set(weights) <= set(vars(module.Args())), name
        assert run_utils.is_algorithm_file(module.__file__), name


def test_runs_started_in_one_second_get_folders_of_their_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_utils.time, "time", lambda: 1234.5)
    args = td3_pave.Args(env_id="Pendulum-v1")
    first, second = run_utils.new_run_folder(args), run_utils.new_run_folder(args)
    assert first == os.path.join("runs", "Pendulum-v1__td3_pave__1__1234") and second == first + "_2"


def test_help_opens_with_what_the_file_is(tmp_path):
    result = run_cli("td3_pave.py", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "TD3 + PAVE: critic-side smoothness regularization (Lee et al." in result.stdout
    assert run_utils.description(td3_pave.Args).endswith("ICML 2026).")


def test_a_run_that_would_never_update_says_so_at_the_start(tmp_path):
    result = run_cli("td3_pave.py", "--env-id", "Pendulum-v1", "--total-timesteps", 50, "--learning-starts", 100,
                     *TINY, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("warning: --total-timesteps 50 <= --learning-starts 100")


def test_progress_counts_from_the_first_step_and_gives_no_eta_before_training_runs(monkeypatch):
    """Issue 45: a compiled run printed `step 1/18,000 | 0 SPS (warm-up) | ETA 675:30:10` after 137 s of compiling,
    the setup counted as the first step. The clock now starts at the first step, and the ETA waits for 100 training
    steps (the warm-up's random steps say nothing of the updates' speed)."""
    import types

    import run_utils

    now = [1000.0]
    monkeypatch.setattr(run_utils.time, "time", lambda: now[0])
    run = object.__new__(run_utils.Run)
    run.args = types.SimpleNamespace(learning_starts=100, total_timesteps=1100, checkpoint_interval=0)
    run.step = run.start_step = 0
    run.start_time = run.last_print = None  # as Run() leaves them
    run.latest, run.snapshots, run.stop_signal, run.train_seconds = {}, set(), None, None
    printed = []
    monkeypatch.setattr(run_utils, "say", printed.append)
    now[0] += 137.0  # a compile between Run() and the first step
    run.step_done(1, [])
    assert run.start_time == 1137.0 and run.start_step == 1 and not printed
    now[0] += 11.0
    run.step_done(50, [])  # 49 warm-up steps in 11 s
    assert printed[-1] == "step 50/1,100 | 4 SPS (warm-up) | ETA once training runs | return n/a (last 0 episodes)"
    run.step_done(100, [])  # training starts: its own clock
    now[0] += 11.0
    run.step_done(150, [])
    assert printed[-1].startswith("step 150/1,100 | 5 SPS | ETA in a moment |")
    now[0] += 11.0
    run.step_done(250, [-200.0])  # 150 training steps in 22 s: 850 to go at 6.82 steps/s
    assert printed[-1] == "step 250/1,100 | 7 SPS | ETA 0:02:04 | return -200.0 (last 1 episodes)"


@pytest.mark.parametrize("name", ["td3_pave", "sac_pave", "eval_smoothness", "study"])
def test_help_shows_each_docstring_as_whole_sentences(name, monkeypatch, capsys):
    """Issue 45: on a wide terminal every field's docstring is one line of --help (tyro alone broke it wherever its
    source line ended, and the terminal's wrapping then left half-empty lines mid-sentence)."""
    import dataclasses
    import importlib
    import re

    import tyro

    monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmarks"))
    module = importlib.import_module(name)
    Args = module.Run if name == "study" else module.Args
    monkeypatch.setenv("COLUMNS", "1000")
    with pytest.raises(SystemExit):
        tyro.cli(Args, args=["--help"])
    lines = [" ".join(line.strip("│ ").split()) for line in capsys.readouterr().out.splitlines()]
    docs = tyro._docstrings.parse_docstring_from_object(Args)
    multi = [name for name in (f.name for f in dataclasses.fields(Args)) if "\n" in docs.get(name, "")]
    assert len(multi) >= 2, "the test needs docstrings of several lines"
    for name in multi:
        text = " ".join(docs[name].split())
        assert any(text in line for line in lines), (name, re.sub(r"\s+", " ", text)[:80])


@pytest.mark.parametrize("total, frequency, warned", [(150, 100, True), (200, 100, False), (100, 1, True),
                                                      (101, 1, False)])
def test_a_run_that_never_updates_is_warned_of(total, frequency, warned, tmp_path, monkeypatch, capsys):
    """Sweep #53: SAC updates at the steps s >= learning_starts with (s + 1) % train_frequency == 0, so at
    --learning-starts 100 and --train-frequency 100 its first update is step 199: 150 steps never update (before, only
    a budget at or below --learning-starts was warned of). TD3-like, every step: the first update is learning_starts."""
    import sac_pave

    train_in_process(sac_pave, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=total, learning_starts=100,
                     train_frequency=frequency, gradient_steps=1)  # fmt: skip
    out = capsys.readouterr().out
    assert ("this run only collects random steps and never updates the networks" in out) == warned, out
    if warned and frequency > 1:
        assert (f"warning: --total-timesteps {total} does not reach its first update (step 199 at --learning-starts "
                "100 and --train-frequency 100)") in out
