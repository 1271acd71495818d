"""The faults a real machine and a real cluster bring (issue 32), each through the real code path: a blow-up that
leaves inf weights behind finite losses, a closed terminal, a stopped study, a study that waits for a reference that
cannot come, a write that fails, bad flags of the tools, a checkpoint of a fork. Nothing trained is lost, nothing
hangs, and a user's error is one `error:` line. docs/reliability.md names these tests as the promises they check."""

import os
import pty
import select
import signal
import sys
import time

import torch

from conftest import ROOT, only_run_dir, run_cli

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


def test_inf_weights_behind_finite_losses_stop_the_run_before_any_save(tmp_path):
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
    again = run_cli("td3_caps.py", "--resume", run, cwd=tmp_path)  # the kept pair resumes (and blows up again)
    assert "resumed at step 100" in again.stdout and "is not finite after the update of step 100" in again.stderr


def test_sac_blow_up_is_one_line_not_a_distribution_traceback(tmp_path):
    result = run_cli("sac_pave.py", *PENDULUM, "--total-timesteps", 300, "--learning-rate", 1e10,
                     "--checkpoint-interval", 1, "--snapshot-fractions", cwd=tmp_path)
    line = one_error_line(result)
    assert "Traceback" not in result.stderr and "is not finite after the update of step" in line, line
    assert finite(os.path.join(only_run_dir(tmp_path), "sac_pave.resume.pt"))


# --- signals a person really sends ------------------------------------------------------------------------------


def test_closing_the_terminal_saves_and_the_run_resumes(tmp_path):
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
    again = run_cli("td3_pave.py", "--resume", run, "--total-timesteps", step + 20, cwd=tmp_path)
    assert again.returncode == 0 and f"resumed at step {step:,}" in again.stdout, again.stderr[-1000:]
