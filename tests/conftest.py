import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest.ini runs two workers on the two cores: one torch thread each
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"  # for the command lines the tests start
    import torch

    torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups
def pytest_collection_modifyitems(items):
    """pytest.ini hands the tests to its two workers one at a time (--dist loadgroup), so that the slow ones (the
    study runs) spread over both; the tests that share a module-scoped fixture (a short training, the committed
    studies' reports) go to one worker together, where the fixture is made once."""
    for item in items:
        if any(defs[-1].scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def run_cli(script, *flags, cwd, timeout=300):
    """Run an algorithm file as a user would, in `cwd` (so its runs/ folder lands there)."""
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, script), *map(str, flags)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def only_run_dir(cwd):
    run_dirs = glob.glob(os.path.join(cwd, "runs", "*"))
    assert len(run_dirs) == 1, run_dirs
    return run_dirs[0]


def read_scalars(run_dir):
    """{tag: [(step, value), ...]} from a run's TensorBoard event files, in step order. A resumed run adds a second
    event file to its folder, and TensorBoard reads a folder's files in name order, where the writer's per-process
    counter at the end of the name sorts 10 before 9: a test that made ten writers in one process read the resumed
    file first (seen in CI: sac_grad's resume test)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: sorted((e.step, e.value) for e in acc.Scalars(tag)) for tag in acc.Tags()["scalars"]}


TINY = ["--hidden-sizes", 32, 32, "--batch-size", 32]  # small networks: fast CLI runs


def train_in_process(module, cwd, monkeypatch, **overrides):
    """module.main(...) in `cwd`, with tiny networks and no periodic checkpoint or snapshot unless overridden."""
    monkeypatch.chdir(cwd)
    defaults = {"batch_size": 8, "hidden_sizes": (8,), "checkpoint_interval": 0, "snapshot_fractions": ()}
    return module.main(module.Args(**{**defaults, **overrides}))


def resume_in_process(module, cwd, monkeypatch, *flags):
    """module.main(...) in `cwd` on a command line that holds --resume: the run's flags are the defaults, the given
    ones go on top (run_utils.parse_args, as the command line does). Returns the run folder's full path."""
    import run_utils

    monkeypatch.chdir(cwd)
    return os.path.join(cwd, module.main(run_utils.parse_args(module.Args, [*map(str, flags)])))
