# --resume: a run stopped at an episode boundary and resumed logs exactly what the uninterrupted run logs.
import importlib
import os
import shutil

import pytest

from conftest import read_scalars, resume_in_process as resume

RUN = dict(env_id="Pendulum-v1", learning_starts=100, batch_size=16, hidden_sizes=(16, 16), seed=1,
           checkpoint_interval=0)  # fmt: skip
ALGOS = [
    "td3_pave",
    "td3_pave_fast",
    "td3_caps",
    "td3_grad",
    "td3_asap",
    "sac_pave",
    "sac_caps",
    "sac_grad",
    "sac_asap",
]
EXTRA = {"td3_pave": dict(lambda1=2.0, lambda2=0.005, lambda3=2.0), "sac_pave": dict(gradient_steps=25, autotune=True)}


def train(module, cwd, monkeypatch, **args):
    monkeypatch.chdir(cwd)
    return os.path.join(cwd, module.main(module.Args(**args)))


@pytest.mark.parametrize("algo", ALGOS)
def test_resume_at_an_episode_boundary_is_bit_identical(algo, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    flags = RUN | EXTRA.get(algo, {})
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    whole = train(module, tmp_path / "a", monkeypatch, total_timesteps=400, **flags)
    first = train(module, tmp_path / "b", monkeypatch, total_timesteps=200, **flags)  # Pendulum: 200-step episodes
    resumed = resume(module, tmp_path / "b", monkeypatch, "--resume", first, "--total-timesteps", 400)
    assert resumed == first
    want, got = read_scalars(whole), read_scalars(resumed)
    want.pop("charts/SPS"), got.pop("charts/SPS")
    assert want == got and [step for step, _ in got["losses/qf_loss"]][-2:] == [200, 300]  # trained after it


def test_resume_refuses_other_flags_and_missing_state(tmp_path, monkeypatch):
    module = importlib.import_module("td3_pave")
    run = train(module, tmp_path, monkeypatch, total_timesteps=300, **RUN)
    with pytest.raises(module.UserError, match="the run has --env-id Pendulum-v1, --hidden-sizes"):
        resume(module, tmp_path, monkeypatch, "--resume", run, "--env-id", "Hopper-v5", "--hidden-sizes", 32)
    shutil.copy(os.path.join(run, "td3_pave.resume.pt"), os.path.join(run, "other.resume.pt"))
    with pytest.raises(module.UserError, match="2 checkpoints with a resume state in it, name one"):
        resume(module, tmp_path, monkeypatch, "--resume", run)
    os.remove(os.path.join(run, "other.resume.pt"))
    os.remove(os.path.join(run, "td3_pave.resume.pt"))
    with pytest.raises(module.UserError, match="cannot resume from"):
        resume(module, tmp_path, monkeypatch, "--resume", run)


def test_a_gpu_runs_cuda_generator_is_saved_and_restored(tmp_path, monkeypatch):
    """On a GPU the files draw their noises from torch's CUDA generator: the resume state keeps it (CUDA faked here,
    the generator state an opaque tensor), and a CPU run stores none."""
    import torch

    module = importlib.import_module("td3_pave")
    run = train(module, tmp_path, monkeypatch, total_timesteps=200, **RUN)
    assert torch.load(os.path.join(run, "td3_pave.resume.pt"), weights_only=False)["torch_cuda"] is None
    fake_state, restored = [torch.arange(7, dtype=torch.uint8)], []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: fake_state)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    resume(module, tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 300, "--device", "cpu")
    resume(module, tmp_path, monkeypatch, "--resume", run, "--total-timesteps", 400, "--device", "cpu")
    assert len(restored) == 1 and torch.equal(restored[0][0], fake_state[0])  # the state the first resume saved
