"""--autotune-lambda3 (issue 46): lambda3 learned by dual ascent on log(lambda3) so that the Curv hinge (Eq. 15) is
held at --curv-target, as SAC's --autotune holds its entropy. Off by default: the paper's estimator, unchanged."""

import dataclasses
import math
import os

import pytest
import torch

import run_utils
import sac_pave
import td3_pave
import td3_pave_fast
from conftest import read_scalars, resume_in_process, run_cli, train_in_process
from test_fast import graphs_on_the_cpu, logged_with_and_without
from test_pave_math import critic_setup, critic_step_gradients

LAMBDAS = (1.0, 0.5, 0.3)
MODULES = [td3_pave, sac_pave, td3_pave_fast]
SHORT = dict(env_id="Pendulum-v1", learning_starts=100, lambda1=2.0, lambda2=0.005, lambda3=2.0,
             autotune_lambda3=True)  # fmt: skip
SAC_SHORT = dict(train_frequency=20, gradient_steps=20)  # SAC's updates in bursts; 300 of them in 400 steps


@pytest.fixture(params=MODULES, ids=lambda m: m.__name__)
def algo(request):
    return request.param


def dual_critic_step(algo, args, nets, data, log_lambda3, lambda3_optimizer, regularize=True, seed=23):
    """algo's critic step under --autotune-lambda3 on critics that do not move (SGD, lr 0): losses, parameter
    gradients, and the dual step's effect on log_lambda3."""
    actor, qf1, qf2, target_actor, qf1_target, qf2_target = nets
    optimizer = torch.optim.SGD([*qf1.parameters(), *qf2.parameters()], lr=0.0)
    torch.manual_seed(seed)
    if algo is sac_pave:
        losses = algo.update_critic(args, data, qf1, qf2, qf1_target, qf2_target, actor, optimizer,
                                    torch.tensor(0.2, dtype=torch.float64), regularize, log_lambda3, lambda3_optimizer)
    elif algo is td3_pave:
        losses = algo.update_critic(args, data, qf1, qf2, qf1_target, qf2_target, target_actor, optimizer, regularize,
                                    log_lambda3, lambda3_optimizer)
    else:
        losses = algo.update_critic(args, data, qf1, qf2, qf1_target, qf2_target, target_actor, optimizer, regularize,
                                    algo.critic_gradients, log_lambda3, lambda3_optimizer)
    grads = [p.grad.clone() for p in [*qf1.parameters(), *qf2.parameters()]]
    return losses, grads


def dual_state(lambda3, lr=1e-3):
    """log_lambda3 and its Adam as the files make them (float32, fused)."""
    log_lambda3 = torch.tensor(math.log(lambda3), requires_grad=True)
    return log_lambda3, torch.optim.Adam([log_lambda3], lr=lr, eps=1e-8, fused=True)


def measured_hinge(algo, **flags):
    """The Curv hinge of critic_setup's batch on the draws of seed 23 (a step with the flag off)."""
    args, nets, data = critic_setup(algo, LAMBDAS)
    return critic_step_gradients(algo, dataclasses.replace(args, **flags), nets, data)[0]["curv"].item()


@pytest.mark.parametrize("side", ["above", "below"])
def test_one_dual_step_raises_lambda3_above_the_target_and_lowers_it_below(algo, side):
    args, nets, data = critic_setup(algo, LAMBDAS)
    hinge = measured_hinge(algo)
    assert hinge > 0.01  # the hinge is active on this batch
    target = hinge / 2 if side == "above" else hinge * 2
    on = dataclasses.replace(args, autotune_lambda3=True, curv_target=target)
    log_lambda3, lambda3_optimizer = dual_state(LAMBDAS[2], lr=on.learning_rate)
    before = log_lambda3.detach().clone()
    losses, grads = dual_critic_step(algo, on, nets, data, log_lambda3, lambda3_optimizer)

    # the dual step: loss -log(lambda3) * (hinge - target), so d/dlog(lambda3) = target - hinge (the critic loss,
    # which uses lambda3 detached, adds nothing), and Adam's first step is lr * sign(hinge - target)
    torch.testing.assert_close(losses["curv"].item(), hinge, rtol=1e-12, atol=0)
    torch.testing.assert_close(log_lambda3.grad, torch.tensor(target - hinge), rtol=1e-6, atol=0)
    moved = (log_lambda3 - before).item()
    assert (moved > 0) == (side == "above")
    assert abs(abs(moved) - on.learning_rate) < 1e-6
    assert torch.equal(losses["lambda3"], before.exp())  # logged: the weight this step used

    # the critic step used the lambda3 before the dual step, as a fixed --lambda3 of that value would
    fixed = dataclasses.replace(args, lambda3=before.exp().item())
    if algo is td3_pave_fast:
        fixed_losses, fixed_grads = dual_critic_step(algo, fixed, nets, data, None, None)
    else:
        fixed_losses, fixed_grads = critic_step_gradients(algo, fixed, nets, data)
    assert all(torch.equal(g, f) for g, f in zip(grads, fixed_grads))
    assert fixed_losses.keys() == losses.keys() - {"lambda3"}
    assert all(torch.equal(fixed_losses[k], losses[k]) for k in fixed_losses)


def test_an_update_without_the_pave_terms_makes_no_dual_step(algo):
    """Under --pave-every k the dual step comes with the PAVE terms, on every k-th critic update only."""
    args, nets, data = critic_setup(algo, LAMBDAS, pave_every=3)
    log_lambda3, lambda3_optimizer = dual_state(0.3)
    before = log_lambda3.detach().clone()
    losses, _ = dual_critic_step(algo, dataclasses.replace(args, autotune_lambda3=True), nets, data, log_lambda3,
                                 lambda3_optimizer, regularize=False)
    assert not {"curv", "lambda3"} & set(losses) and torch.equal(log_lambda3.detach(), before)
    assert log_lambda3.grad is None


@pytest.mark.parametrize("side", ["above", "below"])
def test_lambda3_is_clamped_to_its_bounds(algo, side):
    """A dual step far past a bound (Adam at lr 100 moves log(lambda3) by 100) stops at the bound."""
    args, nets, data = critic_setup(algo, LAMBDAS)
    hinge = measured_hinge(algo)
    on = dataclasses.replace(args, autotune_lambda3=True, curv_target=hinge / 2 if side == "above" else hinge * 2)
    log_lambda3, lambda3_optimizer = dual_state(1.0, lr=100.0)
    for _ in range(2):  # the second step starts at the bound: it stays there
        dual_critic_step(algo, on, nets, data, log_lambda3, lambda3_optimizer)
        bound = algo.LAMBDA3_MAX if side == "above" else algo.LAMBDA3_MIN
        assert log_lambda3.item() == torch.tensor(math.log(bound)).item()
        assert math.isclose(log_lambda3.exp().item(), bound, rel_tol=1e-6)


def test_check_args_keeps_the_start_in_the_bounds_and_the_target_positive(algo):
    ok = dict(device="cpu", autotune_lambda3=True)
    for lambda3 in (algo.LAMBDA3_MIN, 1.0, algo.LAMBDA3_MAX):
        algo.check_args(algo.Args(lambda3=lambda3, **ok))
    for lambda3 in (0.0, algo.LAMBDA3_MIN / 2, algo.LAMBDA3_MAX * 2):
        with pytest.raises(run_utils.UserError, match=r"^--autotune-lambda3 learns log\(lambda3\) in \[0.0001, 1000\]: "
                                                      r"start it from a --lambda3 in that range, got "):
            algo.check_args(algo.Args(lambda3=lambda3, **ok))
    algo.check_args(algo.Args(lambda3=0.0, device="cpu"))  # without the flag --lambda3 0 is plain TD3 / SAC
    for target in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(run_utils.UserError, match=r"^--curv-target must be a finite number > 0"):
            algo.check_args(algo.Args(curv_target=target, device="cpu"))


def test_a_target_without_the_flag_is_refused(algo):
    """Sweep #52: --curv-target without --autotune-lambda3 changed nothing, so `--vary curv_target=...` trained the
    same run under several names; now the file (and so the study's plan, which runs its checks) refuses it."""
    with pytest.raises(run_utils.UserError, match=r"^--curv-target is the hinge that --autotune-lambda3 holds"):
        algo.check_args(algo.Args(curv_target=0.05, device="cpu"))
    algo.check_args(algo.Args(curv_target=0.05, autotune_lambda3=True, device="cpu"))


def test_the_flag_is_off_by_default_with_a_small_target(algo):
    args = algo.Args()
    assert args.autotune_lambda3 is False and args.curv_target == 0.1
    assert (algo.LAMBDA3_MIN, algo.LAMBDA3_MAX) == (1e-4, 1e3)


@pytest.mark.parametrize("script", ["td3_pave.py", "sac_pave.py"])  # td3_pave_fast.py's check_args: test above
def test_lambda3_0_with_the_flag_is_refused_in_one_line(script, tmp_path):
    result = run_cli(script, "--env-id", "Pendulum-v1", "--lambda3", 0, "--autotune-lambda3", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == ("error: --autotune-lambda3 learns log(lambda3) in [0.0001, 1000]: start it from a "
                             "--lambda3 in that range, got 0\n")
    assert not os.path.exists(tmp_path / "runs")  # refused before anything was made


def checkpoint(run_dir, module):
    return torch.load(os.path.join(run_dir, f"{module.__name__}.pt"), weights_only=True)


def assert_equal_trees(got, want, where=""):
    if torch.is_tensor(want):
        assert torch.equal(got, want), where
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for k in want:
            assert_equal_trees(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_equal_trees(g, w, f"{where}[{i}]")
    else:
        assert got == want, where


def test_resume_with_the_flag_on_is_exact(algo, tmp_path, monkeypatch):
    """400 steps straight against 200, stop, --resume to 400 (Pendulum: 200-step episodes, so the stop is at an
    episode's end): the same weights, lambda3 and its optimizer, and the same logged losses, to the bit."""
    flags = SHORT | (SAC_SHORT if algo is sac_pave else {})
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    whole = os.path.join(tmp_path / "a", train_in_process(algo, tmp_path / "a", monkeypatch, total_timesteps=400,
                                                          **flags))
    first = os.path.join(tmp_path / "b", train_in_process(algo, tmp_path / "b", monkeypatch, total_timesteps=200,
                                                          **flags))
    halfway = checkpoint(first, algo)["log_lambda3"]
    resumed = resume_in_process(algo, tmp_path / "b", monkeypatch, "--resume", first, "--total-timesteps", 400)
    assert resumed == first
    want, got = checkpoint(whole, algo), checkpoint(resumed, algo)
    assert {"actor", "qf1", "qf2", "q_optimizer", "log_lambda3", "lambda3_optimizer"} <= set(want)
    for name in set(want) - {"args", "train_seconds"}:  # the run's flags (--resume) and its wall time differ
        assert_equal_trees(got[name], want[name], name)
    start = math.log(SHORT["lambda3"])
    assert want["log_lambda3"].item() != halfway.item() != torch.tensor(start).item()  # it moved in both halves
    scalars = [read_scalars(run) for run in (whole, resumed)]
    for s in scalars:
        s.pop("charts/SPS")
    assert scalars[0] == scalars[1] and len(scalars[0]["losses/lambda3"]) >= 2


def test_the_fast_file_steps_lambda3_as_td3_pave_does():
    """The same batch and draws, float64: critic gradients, losses and the dual step of td3_pave_fast.py are
    td3_pave.py's (to the tolerance of its critic gradients in tests/test_fast.py), over several dual steps."""
    args, nets, data = critic_setup(td3_pave, LAMBDAS)
    hinge = measured_hinge(td3_pave)
    args = dataclasses.replace(args, autotune_lambda3=True, curv_target=hinge)  # the hinge moves across the target
    fast_args = td3_pave_fast.Args(**{k: v for k, v in vars(args).items() if k != "exp_name"})
    states = [dual_state(LAMBDAS[2]) for _ in range(2)]
    for seed in range(4):  # critics that do not move, a new draw each step: the hinge is above or below the target
        want_losses, want = dual_critic_step(td3_pave, args, nets, data, *states[0], seed=seed)
        rng_after = torch.get_rng_state()
        losses, got = dual_critic_step(td3_pave_fast, fast_args, nets, data, *states[1], seed=seed)
        assert torch.equal(torch.get_rng_state(), rng_after)  # the same draws
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-13)
        assert losses.keys() == want_losses.keys() and "lambda3" in losses
        for k in losses:
            torch.testing.assert_close(losses[k], want_losses[k], rtol=1e-10, atol=1e-14)
        torch.testing.assert_close(states[1][0], states[0][0], rtol=1e-6, atol=0)
        assert torch.equal(states[1][0].grad.sign(), states[0][0].grad.sign())
    assert states[0][0].item() != torch.tensor(math.log(LAMBDAS[2])).item()


def test_fast_and_plain_runs_with_the_flag_log_the_same_losses_and_lambda3(tmp_path, monkeypatch):
    scalars, log_lambda3 = [], []
    for module in (td3_pave, td3_pave_fast):
        (tmp_path / module.__name__).mkdir()
        run = os.path.join(tmp_path / module.__name__, train_in_process(module, tmp_path / module.__name__,
                                                                         monkeypatch, total_timesteps=400, **SHORT))
        scalars.append(read_scalars(run))
        scalars[-1].pop("charts/SPS")
        log_lambda3.append(checkpoint(run, module)["log_lambda3"])
    assert scalars[0].keys() == scalars[1].keys() and "losses/lambda3" in scalars[0]
    for tag, points in scalars[0].items():
        steps, values = zip(*points)
        fast_steps, fast_values = zip(*scalars[1][tag])
        assert steps == fast_steps, tag
        torch.testing.assert_close(torch.tensor(fast_values), torch.tensor(values), rtol=1e-4, atol=1e-5, msg=tag)
    torch.testing.assert_close(log_lambda3[1], log_lambda3[0], rtol=1e-5, atol=1e-6)
    lambda3 = [value for _, value in scalars[0]["losses/lambda3"]]
    assert lambda3[0] == pytest.approx(SHORT["lambda3"]) and lambda3[-1] != lambda3[0]


def test_the_fast_files_compiled_critic_takes_lambda3_as_a_graph_input(monkeypatch):
    """--compile with the flag: critic_gradients traced whole with the learned lambda3 as a tensor input (dynamo's
    tracing, without inductor's code generation): one graph, no graph break, no recompile as lambda3 moves, and the
    eager gradients."""
    args, nets, data = critic_setup(td3_pave_fast, LAMBDAS)
    args = dataclasses.replace(args, autotune_lambda3=True)
    actor, qf1, qf2, target_actor, qf1_target, qf2_target = nets
    inputs = (qf1, qf2, qf1_target, qf2_target, target_actor)
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn: real_compile(fn, backend="eager", fullgraph=True))
    torch._dynamo.reset()
    counters = torch._dynamo.utils.counters
    counters.clear()
    compiled = td3_pave_fast.compile_critic_gradients(args, data, inputs, torch.device("cpu"), torch.tensor(0.3))
    for lambda3 in (0.5, 7.0):
        torch.manual_seed(23)
        losses, got = compiled(args, data, *inputs, True, torch.tensor(lambda3))
        torch.manual_seed(23)
        want_losses, want = td3_pave_fast.critic_gradients(args, data, *inputs, True, torch.tensor(lambda3))
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-13)
    assert counters["stats"]["unique_graphs"] == 1 and not counters["graph_break"]
    torch.manual_seed(23)
    assert not torch.equal(got[0], td3_pave_fast.critic_gradients(args, data, *inputs, True, torch.tensor(0.3))[1][0])


def test_the_cudagraphs_wiring_with_the_flag_reproduces_the_eager_run(tmp_path, monkeypatch):
    """--cudagraphs with the flag (its wiring, on the CPU as in tests/test_fast.py): the dual step is recorded with the
    critic step, on the one log_lambda3 tensor, updated in place; the same logged losses and lambda3 as eager."""
    runs = []
    scalars = logged_with_and_without("cudagraphs", tmp_path, monkeypatch, lambda m: runs.append(graphs_on_the_cpu(m)),
                                      env_id="Pendulum-v1", total_timesteps=300, learning_starts=100, batch_size=16,
                                      hidden_sizes=(16,), pave_every=2, autotune_lambda3=True)
    assert len(runs[-1]) == 3  # regularized critic, plain critic, actor
    assert "losses/lambda3" in scalars[True] and scalars[True] == scalars[False]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (this machine has none): the real capture")
def test_cudagraphs_with_the_flag_on_a_gpu_log_the_losses_and_lambda3_of_the_eager_run(tmp_path, monkeypatch):
    scalars = logged_with_and_without("cudagraphs", tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=400,
                                      learning_starts=100, device="cuda", lambda3=2.0, autotune_lambda3=True)
    assert "losses/lambda3" in scalars[True]
    for tag in [tag for tag in scalars[False] if tag.startswith("losses/")]:
        torch.testing.assert_close(torch.tensor(scalars[True][tag]), torch.tensor(scalars[False][tag]), rtol=1e-4,
                                   atol=1e-5, msg=tag)


def test_with_the_flag_off_nothing_of_it_is_saved_or_logged(algo, tmp_path, monkeypatch):
    flags = dict(env_id="Pendulum-v1", total_timesteps=150, learning_starts=100, lambda3=2.0)
    flags |= dict(train_frequency=1, gradient_steps=1) if algo is sac_pave else {}  # an update at step 100, logged
    run = os.path.join(tmp_path, train_in_process(algo, tmp_path, monkeypatch, **flags))
    ckpt, state = checkpoint(run, algo), torch.load(os.path.join(run, f"{algo.__name__}.resume.pt"), weights_only=False)
    assert not {"log_lambda3", "lambda3_optimizer"} & (set(ckpt) | set(state["nets"]))
    scalars = read_scalars(run)
    assert "losses/curv" in scalars and "losses/lambda3" not in scalars
