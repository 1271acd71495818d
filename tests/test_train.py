"""Each algorithm file end to end: golden-value regression, determinism, smoke runs, checkpoints, bad input.

Golden values: tests/golden/<algorithm>.json. After an intended change of the numbers, regenerate with
    UPDATE_GOLDEN=1 python -m pytest tests/test_train.py -k golden
and say why in the commit message.
"""

import importlib
import json
import math
import os
import re
import signal
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
import tyro

import run_utils
import sac_pave
import td3_pave_fast

from conftest import ROOT, TINY, only_run_dir, read_scalars, run_cli, train_in_process

SHORT = [
    "--env-id",
    "Pendulum-v1",
    "--total-timesteps",
    1200,
    "--learning-starts",
    400,
    "--batch-size",
    64,
    "--hidden-sizes",
    64,
    64,
    "--seed",
    1,
]
TD3_KEYS = ["actor", "qf1", "qf2", "target_actor", "qf1_target", "qf2_target", "q_optimizer", "actor_optimizer"]
SAC_KEYS = ["actor", "qf1", "qf2", "qf1_target", "qf2_target", "q_optimizer", "actor_optimizer", "log_alpha"]
# Per algorithm: the short run's extra flags per configuration (the regularizer on with the paper's Pendulum
# weights, and for the PAVE files also off), the scalars the regularizer logs, the checkpoint's state-dict
# keys, and one weight flag that must reject a negative value.
ALGOS = {
    "td3_pave": {
        "configs": {
            "on": ["--gamma", 0.98, "--lambda1", 2.0, "--lambda2", 0.005, "--lambda3", 2.0],
            "base": ["--gamma", 0.98, "--lambda1", 0, "--lambda2", 0, "--lambda3", 0],
        },
        "tags": ["losses/mpr", "losses/vfc", "losses/curv"],
        "keys": TD3_KEYS,
        "weight": "--lambda2",
    },
    "sac_pave": {
        "configs": {
            "on": ["--gradient-steps", 25, "--lambda1", 0.1, "--lambda2", 0.005, "--lambda3", 0.5],
            "base": ["--gradient-steps", 25, "--lambda1", 0, "--lambda2", 0, "--lambda3", 0],
        },
        "tags": ["losses/mpr", "losses/vfc", "losses/curv", "losses/alpha"],
        "keys": SAC_KEYS,
        "weight": "--pave-sigma",
    },
    "sac_caps": {
        "configs": {"on": ["--gradient-steps", 25, "--lambda-t", 1.0, "--lambda-s", 5.0]},
        "tags": ["losses/caps_temporal", "losses/caps_spatial", "losses/alpha"],
        "keys": SAC_KEYS,
        "weight": "--caps-sigma",
    },
    "sac_grad": {
        "configs": {"on": ["--gradient-steps", 25, "--lambda-t", 1.0]},
        "tags": ["losses/grad_temporal", "losses/alpha"],
        "keys": SAC_KEYS,
        "weight": "--lambda-t",
    },
    "sac_asap": {
        "configs": {"on": ["--gradient-steps", 25, "--lambda-p", 2.0, "--lambda-s", 5.0, "--lambda-t", 0.5]},
        "tags": ["losses/asap_temporal", "losses/asap_spatial", "losses/asap_predictor", "losses/alpha"],
        "keys": SAC_KEYS + ["actor_ema"],
        "weight": "--lambda-s",
    },
    "td3_caps": {
        "configs": {"on": ["--gamma", 0.98, "--lambda-t", 1.0, "--lambda-s", 5.0]},
        "tags": ["losses/caps_temporal", "losses/caps_spatial"],
        "keys": TD3_KEYS,
        "weight": "--lambda-s",
    },
    "td3_grad": {
        "configs": {"on": ["--gamma", 0.98, "--lambda-t", 1.0]},
        "tags": ["losses/grad_temporal"],
        "keys": TD3_KEYS,
        "weight": "--lambda-t",
    },
    "td3_asap": {
        "configs": {"on": ["--gamma", 0.98, "--lambda-p", 2.0, "--lambda-s", 0.03, "--lambda-t", 0.005]},
        "tags": ["losses/asap_temporal", "losses/asap_spatial", "losses/asap_predictor"],
        "keys": TD3_KEYS + ["actor_ema"],
        "weight": "--lambda-p",
    },
}


@pytest.fixture(params=list(ALGOS), scope="module")
def algo(request):
    return request.param


def train(tmp_path_factory, algo, config):
    """The short run of one configuration: its command-line flags through tyro, main() in this process."""
    cwd = tmp_path_factory.mktemp(f"{algo}_{config}")
    module = importlib.import_module(algo)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(cwd)
        run_dir = module.main(tyro.cli(module.Args, args=[str(flag) for flag in SHORT + ALGOS[algo]["configs"][config]]))
    return os.path.join(cwd, run_dir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, algo):
    return {config: train(tmp_path_factory, algo, config) for config in ALGOS[algo]["configs"]}


def summary(run_dir):
    """What the regression pins: every logged scalar but SPS, as (count, last value), and all returns."""
    scalars = read_scalars(run_dir)
    out = {tag: [len(points), points[-1][1]] for tag, points in scalars.items() if tag != "charts/SPS"}
    out["episodic_returns"] = [v for _, v in scalars["charts/episodic_return"]]
    return out


def test_golden_values(algo, runs):
    got = {name: summary(run_dir) for name, run_dir in runs.items()}
    golden = os.path.join(ROOT, "tests", "golden", f"{algo}.json")
    if os.environ.get("UPDATE_GOLDEN"):
        with open(golden, "w") as f:
            json.dump(got, f, indent=1, sort_keys=True)
        pytest.skip("golden values regenerated")
    with open(golden) as f:
        want = json.load(f)
    assert set(got) == set(want)
    for name in want:
        assert set(got[name]) == set(want[name]), name
        for tag in want[name]:
            np.testing.assert_allclose(got[name][tag], want[name][tag], rtol=1e-4, atol=1e-6, err_msg=f"{name} {tag}")
    tags = {tag for tag in ALGOS[algo]["tags"] if tag != "losses/alpha"}
    assert tags <= set(got["on"])
    if "base" in got:
        assert not tags & set(got["base"])  # the base algorithm computes none


def test_logging_counts(algo, runs):
    scalars = read_scalars(runs["on"])
    assert len(scalars["losses/qf_loss"]) == (7 if algo.startswith("sac") else 8)  # every 100 steps from the first update
    assert len(scalars["charts/episodic_return"]) == 6


@pytest.mark.parametrize("module", ["td3_pave", "sac_pave"])
def test_same_seed_gives_bit_identical_scalars(module, tmp_path, monkeypatch):
    """The goldens pin the numbers to 1e-4; this pins a rerun to the bit, on two files' different loops."""
    module = importlib.import_module(module)
    extra = dict(train_frequency=10, gradient_steps=10) if module is sac_pave else {}
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        run_dir = train_in_process(module, tmp_path / name, monkeypatch, env_id="Pendulum-v1", total_timesteps=400,
                                   learning_starts=100, **extra)
        runs.append(read_scalars(run_dir))
        runs[-1].pop("charts/SPS")
    assert runs[0] == runs[1] and "losses/curv" in runs[0]


def test_checkpoint_holds_the_spec_keys_and_rebuilds_the_policy(algo, runs):
    ckpt = torch.load(os.path.join(runs["on"], f"{algo}.pt"), weights_only=True)
    assert ckpt["algorithm"] == f"{algo}.py" and ckpt["env_id"] == "Pendulum-v1" and ckpt["global_step"] == 1200
    assert ckpt["action_space"] == {"shape": [1], "low": [-2.0], "high": [2.0]}
    assert ckpt["observation_space"]["shape"] == [3]
    assert tuple(ckpt["args"]["hidden_sizes"]) == (64, 64)
    assert set(ALGOS[algo]["keys"]) <= set(ckpt)
    module = importlib.import_module(algo)
    actor = module.Actor(3, 1, ckpt["args"]["hidden_sizes"], ckpt["args"]["activation"])
    actor.load_state_dict(ckpt["actor"])
    qf1 = module.QNetwork(3, 1, ckpt["args"]["hidden_sizes"], ckpt["args"]["activation"])
    qf1.load_state_dict(ckpt["qf1"])
    obs = torch.tensor([[1.0, 0.0, 0.0]])
    assert -1 <= actor(obs).item() <= 1 and torch.isfinite(qf1(obs, actor(obs))).all()


def test_smoke_on_walker2d(algo, tmp_path, monkeypatch):
    smoke(algo, "Walker2d-v5", tmp_path, monkeypatch)


@pytest.mark.parametrize("algo_name", ["td3_pave", "sac_pave"])  # make_env is the same in every file
def test_smoke_on_lunarlander_continuous(algo_name, tmp_path, monkeypatch):
    smoke(algo_name, "LunarLander-v3", tmp_path, monkeypatch)


def smoke(algo, env_id, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    run_dir = train_in_process(module, tmp_path, monkeypatch, env_id=env_id, total_timesteps=300, learning_starts=100,
                               hidden_sizes=(32, 32), batch_size=32)
    scalars = read_scalars(run_dir)
    for tag in ["losses/qf_loss", "losses/actor_loss", "charts/SPS"] + ALGOS[algo]["tags"]:
        assert scalars[tag] and all(math.isfinite(v) for _, v in scalars[tag]), tag
    assert torch.load(os.path.join(run_dir, f"{algo}.pt"), weights_only=True)["global_step"] == 300


def test_fast_sibling_smoke_on_walker2d(tmp_path, monkeypatch):
    run_dir = train_in_process(td3_pave_fast, tmp_path, monkeypatch, env_id="Walker2d-v5", total_timesteps=300,
                               learning_starts=100, hidden_sizes=(32, 32), batch_size=32)
    scalars = read_scalars(run_dir)
    for tag in ["losses/qf_loss", "losses/actor_loss", "losses/mpr", "losses/vfc", "losses/curv", "charts/SPS"]:
        assert scalars[tag] and all(math.isfinite(v) for _, v in scalars[tag]), tag


@pytest.mark.parametrize("module", ["td3_pave", "td3_caps", "td3_grad", "td3_asap", "td3_pave_fast"])
def test_warm_up_actions_are_uniform_plus_exploration_noise_clipped(module, tmp_path, monkeypatch):
    """As the authors' SB3 TD3: the exploration noise is added to the uniform warm-up actions too."""
    module = importlib.import_module(module)
    seen = []
    original_add = module.ReplayBuffer.add
    monkeypatch.setattr(module.ReplayBuffer, "add", lambda self, obs, action, *rest: (seen.append(action.copy()),
                                                                                      original_add(self, obs, action, *rest)))
    train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=300, learning_starts=300,
                     exploration_noise=0.3)
    rng = np.random.default_rng(1)
    want = [np.clip(rng.uniform(-1.0, 1.0, 1) + rng.normal(0.0, 0.3, 1), -1.0, 1.0) for _ in range(300)]
    np.testing.assert_array_equal(np.array(seen), np.array(want))
    assert 0.05 < np.mean(np.abs(np.array(seen)) == 1.0) < 0.3  # the noise pushes some past the bounds: clipped


def test_action_oscillation_is_the_mean_step_of_the_pre_noise_policy(algo, tmp_path, monkeypatch):
    """charts/action_oscillation per episode = mean |a(t+1) - a(t)| of the acting policy's actions before the
    exploration noise (TD3: pi(s); SAC: tanh(mu(s))), env units, over the episode's policy steps."""
    module = importlib.import_module(algo)
    acted = []
    if algo.startswith("sac"):
        original = module.Actor.get_action

        def spy(self, x):
            out = original(self, x)
            if x.shape[0] == 1:
                acted.append(out[2][0].detach().numpy().astype(np.float64))
            return out

        monkeypatch.setattr(module.Actor, "get_action", spy)
    else:
        original = module.Actor.forward

        def spy(self, x):
            out = original(self, x)
            if x.shape[0] == 1:
                acted.append(out[0].detach().numpy().astype(np.float64))
            return out

        monkeypatch.setattr(module.Actor, "forward", spy)
    sac = {"train_frequency": 40, "gradient_steps": 40} if algo.startswith("sac") else {}
    run_dir = train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=200,
                               learning_starts=120, **sac)  # fmt: skip
    logged = read_scalars(run_dir)["charts/action_oscillation"]
    # the policy's steps of the first episode: 120-199 (Pendulum's episodes are 200 steps)
    want = [np.abs(np.diff(2.0 * np.array(acted), axis=0)).mean()]  # env units: Pendulum's box is [-2, 2]
    assert [step for step, _ in logged] == [199] and len(acted) == 80
    np.testing.assert_allclose([v for _, v in logged], want, rtol=1e-5)
    assert want[0] > 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"env_id": "CartPole-v1"}, "continuous (Box)"),
        ({"WEIGHT": -0.1}, "must be a finite number >= 0"),
        ({"WEIGHT": float("nan")}, "must be a finite number >= 0"),
        ({"batch_size": 512, "buffer_size": 100}, "--batch-size 512"),
        ({"total_timesteps": 0}, "--total-timesteps must be >= 1"),
        ({"hidden_sizes": (0,)}, "every --hidden-sizes entry must be >= 1"),
    ],
)
def test_bad_input_is_refused_before_anything_is_made(algo, overrides, message, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    overrides = {ALGOS[algo]["weight"][2:].replace("-", "_") if k == "WEIGHT" else k: v for k, v in overrides.items()}
    with pytest.raises(module.UserError, match=re.escape(message)):
        train_in_process(module, tmp_path, monkeypatch, **{"env_id": "Pendulum-v1", **overrides})
    assert not os.path.exists(os.path.join(tmp_path, "runs"))  # nothing half-made


def test_bad_input_on_the_command_line_gets_one_clear_line(algo, tmp_path):
    result = run_cli(f"{algo}.py", "--env-id", "NoSuchEnv-v0", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: cannot make env 'NoSuchEnv-v0'")
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert not os.path.exists(os.path.join(tmp_path, "runs"))  # nothing half-made


def test_a_flag_value_tyro_rejects_is_a_short_message(tmp_path):
    result = run_cli("td3_pave.py", "--device", "tpu", cwd=tmp_path)
    assert result.returncode != 0 and "--device" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused(algo, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    with pytest.raises(module.UserError, match="^--device cuda was asked for, but torch sees no CUDA device$"):
        train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", device="cuda")


def test_sac_autotune_learns_alpha(tmp_path, monkeypatch):
    run_dir = train_in_process(sac_pave, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=400,
                               learning_starts=100, hidden_sizes=(32, 32), batch_size=32, autotune=True, alpha=0.5)
    scalars = read_scalars(run_dir)
    alphas = [v for _, v in scalars["losses/alpha"]]
    assert alphas[0] < 0.5 and len(set(alphas)) == len(alphas)  # moves at every logged step
    assert all(math.isfinite(v) for _, v in scalars["losses/alpha_loss"])
    ckpt = torch.load(os.path.join(run_dir, "sac_pave.pt"), weights_only=True)
    assert "a_optimizer" in ckpt and math.isclose(ckpt["log_alpha"].exp().item(), alphas[-1], rel_tol=0.1)


def test_an_interrupt_finishes_the_step_saves_a_resumable_pair_and_exits_130(algo, tmp_path, monkeypatch):
    """A real SIGINT in the middle of the fifth update (the next test sends one from outside): the step ends, the
    pair is saved at its boundary, and a second signal during the save changes nothing."""
    module = importlib.import_module(algo)
    calls = []
    original_update, original_save = module.update_critic, run_utils.write_atomic

    def interrupted_at_the_fifth_update(*args):
        calls.append(1)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return original_update(*args)

    def signalled_while_saving(data, path):
        os.kill(os.getpid(), signal.SIGTERM)
        original_save(data, path)

    monkeypatch.setattr(module, "update_critic", interrupted_at_the_fifth_update)
    monkeypatch.setattr(run_utils, "write_atomic", signalled_while_saving)
    extra = dict(train_frequency=1, gradient_steps=1) if algo.startswith("sac") else {}
    with pytest.raises(SystemExit) as info:
        train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=1000, learning_starts=50,
                         **extra)
    assert info.value.code == 130 and signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    run_dir = only_run_dir(tmp_path)
    ckpt = torch.load(os.path.join(run_dir, f"{algo}.pt"), weights_only=True)
    assert ckpt["global_step"] == 55 and set(ALGOS[algo]["keys"]) <= set(ckpt)  # SIGINT in step 54: it finishes
    state = torch.load(os.path.join(run_dir, f"{algo}.resume.pt"), weights_only=True)
    assert state["global_step"] == 55 and all(torch.equal(state["nets"]["actor"][k], v) for k, v in ckpt["actor"].items())


@pytest.mark.parametrize("algo", ["td3_pave", "sac_pave"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_leaves_a_loadable_checkpoint(algo, sig, tmp_path):
    flags = [
        "--env-id",
        "Pendulum-v1",
        "--total-timesteps",
        100000,
        "--learning-starts",
        200,
        *TINY,
    ]
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, f"{algo}.py"), *map(str, flags)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in proc.stdout:  # wait until training has started
        lines.append(line)
        if "training starts" in line:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "checkpoint saved" in out, "".join(lines) + out
    ckpt = torch.load(os.path.join(only_run_dir(tmp_path), f"{algo}.pt"), weights_only=True)
    assert 200 <= ckpt["global_step"] < 100000
    actor = importlib.import_module(algo).Actor(3, 1, (32, 32))
    actor.load_state_dict(ckpt["actor"])


class CountEnv(gym.Env):
    """obs = [t, episode]. Even episodes terminate at t = 3; the others are truncated by the 5-step limit.
    From step `nan_after` on, the reward is NaN."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, nan_after=None):
        self.episode, self.steps, self.nan_after = -1, 0, nan_after

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return np.array([self.t, self.episode], dtype=np.float64), {}

    def step(self, action):
        self.t, self.steps = self.t + 1, self.steps + 1
        reward = float("nan") if self.nan_after is not None and self.steps > self.nan_after else -float(action[0]) ** 2
        return np.array([self.t, self.episode], dtype=np.float64), reward, self.episode % 2 == 0 and self.t == 3, False, {}


gym.register("CountEnv-v0", entry_point=CountEnv, max_episode_steps=5)
gym.register("NanAfter300-v0", entry_point=lambda: CountEnv(nan_after=300), max_episode_steps=5)


def test_buffer_stores_true_next_obs_and_termination_not_truncation(algo, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    seen = []
    original_add = module.ReplayBuffer.add

    def recording_add(self, obs, action, reward, next_obs, terminated, *prev_obs):
        seen.append((np.array(obs), np.array(next_obs), terminated, *map(np.array, prev_obs)))
        original_add(self, obs, action, reward, next_obs, terminated, *prev_obs)

    monkeypatch.setattr(module.ReplayBuffer, "add", recording_add)
    train_in_process(module, tmp_path, monkeypatch, env_id="CountEnv-v0", total_timesteps=40, learning_starts=10)
    assert len(seen) == 40
    for obs, next_obs, terminated, *prev_obs in seen:
        assert next_obs[1] == obs[1] and next_obs[0] == obs[0] + 1  # never the reset observation
        episode_is_even, t = obs[1] % 2 == 0, next_obs[0]
        assert terminated == (episode_is_even and t == 3)
        for prev in prev_obs:  # files that store s_prev: same episode, and s itself at the first step
            assert prev[1] == obs[1] and prev[0] == max(obs[0] - 1, 0)
    assert any(next_obs[0] == 5 for _, next_obs, *_ in seen)  # truncations happened, not stored as terminal
    firsts = [i for i, (obs, *_) in enumerate(seen) if obs[0] == 0]
    assert firsts[:4] == [0, 3, 8, 11]
    assert len(seen[0]) == (4 if algo.endswith(("_grad", "_asap")) else 3)  # s_prev stored where used


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(algo, tmp_path, monkeypatch):
    module = importlib.import_module(algo)
    with pytest.raises(module.UserError, match=r"loss qf1_loss is nan at step (\d+); the last good checkpoint") as info:
        train_in_process(
            module,
            tmp_path,
            monkeypatch,
            env_id="NanAfter300-v0",
            total_timesteps=2000,
            learning_starts=50,
            batch_size=16,
            checkpoint_interval=100,
        )
    step = int(re.search(r"step (\d+)", str(info.value)).group(1))
    assert 300 <= step < 400
    ckpt = torch.load(os.path.join(only_run_dir(tmp_path), f"{algo}.pt"), weights_only=True)
    assert ckpt["global_step"] == 300
    assert all(torch.isfinite(t).all() for t in ckpt["qf1"].values())
