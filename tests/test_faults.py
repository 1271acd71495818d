"""The faults a real machine and a real cluster bring (issue 32), each through the real code path: a blow-up that
leaves inf weights behind finite losses, a closed terminal, a stopped study, a study that waits for a reference that
cannot come, a write that fails, bad flags of the tools, a checkpoint of a fork. Nothing trained is lost, nothing
hangs, and a user's error is one `error:` line. docs/reliability.md names these tests as the promises they check."""

import glob
import json
import os
import pty
import re
import select
import signal
import sys
import time

import pytest
import torch

from conftest import ROOT, only_run_dir, resume_in_process, run_cli

PENDULUM = ["--env-id", "Pendulum-v1", "--learning-starts", 100, "--hidden-sizes", 16, 16, "--batch-size", 16]


def one_error_line(result):
    assert result.returncode == 1, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def finite(path):
    def walk(x):
        if torch.is_tensor(x):
            return not x.is_floating_point() or bool(torch.isfinite(x).all())
        return all(map(walk, x.values() if isinstance(x, dict) else x if isinstance(x, (list, tuple)) else []))

    return walk(torch.load(path, weights_only=True, map_location="cpu"))


# --- a non-finite network is never saved ------------------------------------------------------------------------


def test_inf_weights_behind_finite_losses_stop_the_run_before_any_save(tmp_path, monkeypatch, capsys):
    # lr 1e38: the critic update at step 100 leaves inf weights and finite losses (no actor update at 100 % 3 != 0);
    # before the fix the save of step 101 wrote them into the checkpoint and the resume state
    result = run_cli("td3_caps.py", *PENDULUM, "--total-timesteps", 300, "--learning-rate", 1e38,
                     "--policy-frequency", 3, "--checkpoint-interval", 1, "--snapshot-fractions", cwd=tmp_path)
    line = one_error_line(result)
    assert "weight qf1." in line and "is not finite after the update of step 100" in line, line
    assert "the last good checkpoint" in line and "(step 100) is kept" in line, line
    run = only_run_dir(tmp_path)
    for name in ("td3_caps.pt", "td3_caps.resume.pt"):
        assert finite(os.path.join(run, name))
        assert torch.load(os.path.join(run, name), weights_only=True, mmap=True)["global_step"] == 100
    import td3_caps  # the kept pair resumes (and blows up again; the one `error:` line of it is checked above)

    with pytest.raises(td3_caps.UserError, match="is not finite after the update of step 100"):
        resume_in_process(td3_caps, tmp_path, monkeypatch, "--resume", run)
    assert "resumed at step 100" in capsys.readouterr().out


def test_sac_blow_up_is_one_line_not_a_distribution_traceback(tmp_path):
    result = run_cli("sac_pave.py", *PENDULUM, "--total-timesteps", 300, "--learning-rate", 1e10,
                     "--checkpoint-interval", 1, "--snapshot-fractions", cwd=tmp_path)
    line = one_error_line(result)
    assert "Traceback" not in result.stderr and "is not finite after the update of step" in line, line
    assert finite(os.path.join(only_run_dir(tmp_path), "sac_pave.resume.pt"))


# --- signals a person really sends ------------------------------------------------------------------------------


def test_closing_the_terminal_saves_and_the_run_resumes(tmp_path, monkeypatch, capsys):
    """A real terminal (a pty, the run its session's leader) closed under a training run: the kernel sends SIGHUP.
    Before the fix the run died of it with nothing saved since its last interval."""
    flags = [*PENDULUM, "--total-timesteps", 100_000, "--checkpoint-interval", 0, "--snapshot-fractions"]
    pid, master = pty.fork()
    if pid == 0:  # the child: a shell user's run in the terminal
        os.chdir(tmp_path)
        os.execv(sys.executable, [sys.executable, os.path.join(ROOT, "td3_pave.py"), *map(str, flags)])
    seen, deadline = b"", time.time() + 60
    while b"warm-up done" not in seen and time.time() < deadline:
        if select.select([master], [], [], 1.0)[0]:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    assert b"warm-up done" in seen, seen
    os.close(master)  # the terminal window closes
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130, (status, os.WIFSIGNALED(status) and
                                                                      os.WTERMSIG(status))
    run = only_run_dir(tmp_path)
    step = torch.load(os.path.join(run, "td3_pave.resume.pt"), weights_only=True, mmap=True)["global_step"]
    assert step >= 100
    import td3_pave  # the resume in this process (an interpreter start less): the same main() and flags

    assert resume_in_process(td3_pave, tmp_path, monkeypatch, "--resume", run, "--total-timesteps", step + 20) == run
    assert f"resumed at step {step:,}" in capsys.readouterr().out
    assert torch.load(os.path.join(run, "td3_pave.pt"), weights_only=True, mmap=True)["global_step"] == step + 20


# --- a study stops its jobs, waits only for what can come, and records what was asked -----------------------------

STUDY = [sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), "run", "--methods", "td3", "--envs",
         "Pendulum-v1", "--seeds", "1", "--flags", "learning_starts=100", "batch_size=16", "hidden_sizes=16 16",
         "--episodes", "1", "--noise-episodes", "1", "--checkpoint-interval", "0", "--workers", "1"]


def processes_in(folder):
    """The pids of processes whose working folder is under `folder` (a study's trainings run in its work/)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_sigterm_to_study_run_stops_its_jobs_and_their_trainings_save(tmp_path):
    import subprocess

    root = tmp_path / "s"
    study = subprocess.Popen([*STUDY, "--study", str(root), "--total-timesteps", "100000"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # started with `&` in a
    # script: SIGINT is ignored, by `run` and by the jobs it starts
    log = root / "work" / "Pendulum-v1" / "td3" / "seed1" / "train.log"
    deadline = time.time() + 90
    while time.time() < deadline and not (log.exists() and "warm-up done" in log.read_text()):
        time.sleep(0.2)
    assert log.exists() and "warm-up done" in log.read_text()
    study.send_signal(signal.SIGTERM)  # `kill <pid>` of the study, as a scheduler or a user sends it
    out, _ = study.communicate(timeout=60)
    assert study.returncode == 130 and "interrupted: running jobs stopped" in out, out[-2000:]
    deadline = time.time() + 60
    while processes_in(tmp_path) and time.time() < deadline:  # the jobs and trainings save and exit
        time.sleep(0.2)
    assert not processes_in(tmp_path), "orphaned jobs or trainings still run"
    (state,) = glob.glob(str(root / "work" / "Pendulum-v1" / "td3" / "seed1" / "runs" / "*" / "td3.resume.pt"))
    assert torch.load(state, weights_only=True, mmap=True)["global_step"] >= 100


def test_a_continued_study_records_the_budget_asked_not_the_old_one(tmp_path):
    """`run` with STUDY's flags (tyro, as the command line parses them) in this process: its jobs and their trainings
    are processes as on the command line, three interpreter starts fewer."""
    import tyro

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import study

    def run(steps):
        return study.run(tyro.cli(study.Run, args=[*STUDY[3:], "--study", str(root), "--total-timesteps", str(steps)]))

    root = tmp_path / "s"
    work = root / "work" / "Pendulum-v1" / "td3" / "seed1"
    record = root / "records" / "Pendulum-v1" / "td3" / "seed1.json"
    assert run(150) == 0
    os.remove(record)  # interrupted after training, before the record; then continued with another budget
    assert run(200) == 0
    assert json.loads(record.read_text())["global_step"] == 200
    os.remove(record)
    os.remove(work / "train.json")  # interrupted while training (its resume state is there): resumed to the new budget
    assert run(250) == 0 and json.loads(record.read_text())["global_step"] == 250


def test_a_negative_noise_level_or_a_bad_study_number_is_refused_before_anything_runs(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import study

    from run_utils import UserError

    for flags, message in (({"obs_noise": (0.05, -0.1)}, "--obs-noise must be a finite number >= 0, got -0.1"),
                           ({"obs_noise": (float("nan"),)}, "--obs-noise must be a finite number >= 0, got nan"),
                           ({"episodes": 0}, "--episodes must be an integer >= 1, got 0"),
                           ({"slurm_mem_gb": float("nan")}, "--slurm-mem-gb must be a finite number > 0, got nan"),
                           ({"methods": ("td3", "td3")}, "--methods repeats td3")):  # fmt: skip
        with pytest.raises(UserError, match=re.escape(message)):
            study.run(study.Run(study=str(tmp_path / "s"), **({"methods": ("td3",)} | flags)))
        assert not (tmp_path / "s").exists()


def test_a_wait_for_a_reference_that_cannot_come_ends_with_the_reason(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import fcntl

    import study

    reference = ("Pendulum-v1", "td3", 1)
    work, record = study.run_paths(str(tmp_path), *reference)
    os.makedirs(work)
    with open(os.path.join(work, "failed.txt"), "w") as f:  # the reference's job failed
        f.write("Traceback (most recent call last):\n  ...\nRuntimeError: training exited with code 1\n")
    start = time.time()
    with pytest.raises(RuntimeError, match=re.escape("failed (RuntimeError: training exited with code 1)")) as e:
        study.wait_for_reference(str(tmp_path), reference, poll=0.05, idle=0.2)
    assert "\n" not in str(e.value)
    os.remove(os.path.join(work, "failed.txt"))
    os.makedirs(os.path.dirname(record))
    with open(record, "w") as f:  # its record is here, its work folder is not (a study continued elsewhere)
        f.write("{}")
    os.rmdir(work)
    with pytest.raises(RuntimeError, match=re.escape("has a record but its checkpoint is not in")) as e:
        study.wait_for_reference(str(tmp_path), reference, poll=0.05, idle=0.2)
    with open(record, "w") as f:  # ... and the record keeps the sigma_base it measured: that one is used
        json.dump({"sigma_base": [0.5, 1.5, 4.0]}, f)
    assert study.wait_for_reference(str(tmp_path), reference, poll=0.05, idle=0.2) == (None, [0.5, 1.5, 4.0])
    os.remove(record)
    os.makedirs(work)
    with open(os.path.join(work, "train.log"), "w") as f:  # started, then interrupted or killed: nobody trains it
        f.write("$ python td3_pave.py ...\nstep 100: warm-up done, training starts\n")
    with pytest.raises(RuntimeError, match=re.escape("is not being trained and has not finished")) as e:
        study.wait_for_reference(str(tmp_path), reference, poll=0.05, idle=0.2)
    assert time.time() - start < 5
    with open(os.path.join(work, ".lock"), "w") as lock:  # a job trains it: the wait goes on until it has finished
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(os.path.join(work, "train.json"), "w") as f:
            json.dump({"checkpoint": "runs/x/td3.pt"}, f)
        checkpoint, kept = study.wait_for_reference(str(tmp_path), reference, poll=0.05, idle=0.2)
        assert checkpoint.endswith("td3.pt") and kept is None


# --- one tiny trained checkpoint for eval, export and throughput ------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """Trained in this process (an interpreter start less), on the flags of a command line, as it parses them."""
    import run_utils
    import td3_pave

    folder = tmp_path_factory.mktemp("trained")
    flags = [*PENDULUM, "--total-timesteps", 120, "--snapshot-fractions", "--exp-name", "tp"]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        td3_pave.main(run_utils.parse_args(td3_pave.Args, [*map(str, flags)]))
    return os.path.join(only_run_dir(folder), "tp.pt")


# --- every command checks its flags as the training files do ----------------------------------------------------


def test_the_tools_flags_are_checked_like_the_training_files(checkpoint, tmp_path, monkeypatch):
    """Each through the tool's own entry function (its command line's), before any work: nothing is written."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import eval_smoothness
    import export_policy
    import throughput

    from run_utils import UserError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_folder").mkdir()
    configs = ("a=td3_pave.py --hidden-sizes 16 16",)
    measure = dict(env_id="Pendulum-v1", steps=20, learning_starts=10, repeats=1, out=str(tmp_path / "t.json"))
    cases = [
        (eval_smoothness.evaluate, eval_smoothness.Args((checkpoint,), seed=-1), "--seed must be in [0, 2^32), got -1"),
        (eval_smoothness.evaluate, eval_smoothness.Args((checkpoint,), obs_noise=(float("nan"),)),
         "--obs-noise must be a finite number >= 0, got nan"),
        (eval_smoothness.evaluate, eval_smoothness.Args((checkpoint,), curvature_delta=float("inf")),
         "--curvature-delta must be a finite number >= 0, got inf"),
        (eval_smoothness.evaluate, eval_smoothness.Args((checkpoint,), sm_window=(0,)),
         "--sm-window must be an integer >= 1, got 0"),
        (export_policy.export, export_policy.Args(checkpoint, seed=-3), "--seed must be in [0, 2^32), got -3"),
        (export_policy.export, export_policy.Args(checkpoint, out=str(tmp_path / "missing" / "p.onnx")),
         "does not exist"),
        (export_policy.export, export_policy.Args(checkpoint, out=str(tmp_path / "a_folder")),
         "is a folder; name the file to write"),
        (export_policy.export, export_policy.Args(checkpoint, out=""), "--out '' names no file"),
        (throughput.main, throughput.Args(configs, **(measure | {"out": str(tmp_path / "a_folder")})),
         "is a folder; name the file to write"),  # before, measured for minutes, then lost the result
        (throughput.main, throughput.Args(configs, **(measure | {"steps": 0})), "--steps must be an integer >= 1"),
        (throughput.main, throughput.Args(("a=td3_pave.py", "a=td3_pave.py --lambda1 0"), **measure), "repeats a"),
        (throughput.main, throughput.Args(("a=td3_pave.py --learning-rate inf",), **measure),
         "--configs a: --learning-rate must be a finite number > 0, got inf"),
    ]
    for entry, args, message in cases:
        with pytest.raises(UserError, match=re.escape(message)):
            entry(args)
        assert not (tmp_path / "t.json").exists() and not (tmp_path / "runs").exists()
        assert sorted(os.listdir(tmp_path)) == ["a_folder"]
    # and on the command line, as one `error:` line, as the training files' own
    line = one_error_line(run_cli("benchmarks/throughput.py", "--configs", "a=td3_pave.py", "--threads", 0, cwd=tmp_path))
    assert "--threads must be an integer >= 1, got 0" in line
    line = one_error_line(run_cli("td3_grad.py", *PENDULUM, "--learning-rate", "inf", cwd=tmp_path))
    assert "--learning-rate must be a finite number > 0, got inf" in line


# --- a checkpoint of a fork is one line -------------------------------------------------------------------------


def test_a_checkpoint_of_a_fork_is_one_line_not_a_key_error(checkpoint, tmp_path):
    ckpt = torch.load(checkpoint, weights_only=True)
    ckpt["args"]["activation"] = "tanh"  # a fork's activation
    torch.save(ckpt, tmp_path / "fork.pt")
    ckpt["args"] |= {"activation": "silu", "hidden_sizes": "x"}  # a setting that does not build the networks
    torch.save(ckpt, tmp_path / "odd.pt")
    for command in (["eval_smoothness.py", tmp_path / "fork.pt", "--no-plots", "--out-dir", tmp_path / "o"],
                    ["export_policy.py", tmp_path / "fork.pt", "--format", "torchscript"]):  # fmt: skip
        line = one_error_line(run_cli(*command, cwd=tmp_path))
        assert "has --activation 'tanh', which td3_pave.py does not know (silu, relu)" in line, line
    line = one_error_line(run_cli("eval_smoothness.py", tmp_path / "odd.pt", "--no-plots", cwd=tmp_path))
    assert "does not fit td3_pave.py's networks" in line, line
    state = torch.load(checkpoint[: -len(".pt")] + ".resume.pt", weights_only=True)
    state["args"]["activation"] = "tanh"  # a fork's run, continued with this repo's file
    os.makedirs(tmp_path / "run")
    torch.save(state, tmp_path / "run" / "tp.resume.pt")
    line = one_error_line(run_cli("td3_pave.py", "--resume", tmp_path / "run", "--total-timesteps", 200, cwd=tmp_path))
    assert "has --activation 'tanh', which td3_pave.py does not know" in line, line


# --- a write that fails is one true line ------------------------------------------------------------------------


def test_a_full_disk_or_a_removed_run_folder_is_one_true_line(tmp_path):
    import subprocess

    def start(name, steps, interval):
        command = [sys.executable, os.path.join(ROOT, "td3_pave.py"), *map(str, PENDULUM), "--snapshot-fractions",
                   "--total-timesteps", str(steps), "--checkpoint-interval", str(interval), "--exp-name", name]
        return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def folder_of(name):
        deadline = time.time() + 30
        while time.time() < deadline:
            found = [f for f in os.listdir(tmp_path / "runs") if f"__{name}__" in f] if (tmp_path / "runs").exists() \
                else []
            if found:
                return tmp_path / "runs" / found[0]
            time.sleep(0.02)
        raise AssertionError("no run folder")

    full = start("full", 400, 200)  # the checkpoint cannot be written: a folder in its place (a link to /dev/full at
    # its temp name faked a full disk until writes stopped following links there, issue 43)
    os.mkdir(folder_of("full") / "full.pt")
    _, err = full.communicate(timeout=120)
    assert full.returncode == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot write" in err and "full.pt: Is a directory; the new resume state of step 200 is saved" in err
    assert torch.load(folder_of("full") / "full.resume.pt", weights_only=True, mmap=True)["global_step"] == 200

    gone = start("gone", 5000, 150)  # the run folder removed under the run
    deadline = time.time() + 60
    while not (folder_of("gone") / "gone.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    import shutil

    shutil.rmtree(folder_of("gone"))
    _, err = gone.communicate(timeout=120)
    assert gone.returncode == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "is gone (its folder was removed or emptied?)" in err and "is kept" not in err, err


def test_status_says_which_started_runs_no_job_runs_and_which_wait(tmp_path, capsys):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import fcntl

    import study

    args = study.Run(study=str(tmp_path), methods=("td3", "td3_grad"), seeds=(1,), obs_noise=(0.05,))
    study.save_plan(args, study.plan(args))
    for method in ("td3", "td3_grad"):
        work = study.run_paths(str(tmp_path), "Pendulum-v1", method, 1)[0]
        os.makedirs(work)
        with open(os.path.join(work, "train.log"), "w") as f:
            f.write("$ python ...\nstep 100: warm-up done, training starts\n")
    work = study.run_paths(str(tmp_path), "Pendulum-v1", "td3_grad", 1)[0]
    study.write_json(os.path.join(work, "waiting.txt"), "Pendulum-v1/td3/1")
    with open(os.path.join(work, ".lock"), "w") as lock:  # its job holds the run while it waits
        fcntl.flock(lock, fcntl.LOCK_EX)
        study.status(study.Status(study=str(tmp_path)))
    out = capsys.readouterr().out
    assert "Pendulum-v1/td3/seed1  (no job runs it now: interrupted or killed" in out, out
    assert "Pendulum-v1/td3_grad/seed1  (trained; waiting for the noise reference run Pendulum-v1/td3/1)" in out, out
