"""td3_pave_fast.py computes what td3_pave.py computes; the exact speed-ups elsewhere (the critic-free actor
backward, fused Adam) give the plain computation; --pave-every computes what it promises."""

import copy
import dataclasses
import os

import pytest
import torch

import sac_pave
import td3_pave
import td3_pave_fast
from conftest import read_scalars, train_in_process
from test_pave_math import critic_setup, critic_step_gradients

LAMBDAS = (1.0, 0.5, 0.3)


@pytest.fixture(params=[td3_pave, sac_pave], ids=lambda m: m.__name__)
def algo(request):
    return request.param


def fast_gradients(args, nets, data, regularize=True, seed=23, fn=None):
    """td3_pave_fast's losses and critic parameter gradients on the draws critic_step_gradients makes."""
    actor, qf1, qf2, target_actor, qf1_target, qf2_target = nets
    torch.manual_seed(seed)
    return (fn or td3_pave_fast.critic_gradients)(args, data, qf1, qf2, qf1_target, qf2_target, target_actor, regularize)


def assert_all_close(got, want, **tolerance):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, **tolerance)


def test_the_fast_file_has_td3_paves_flags_and_defaults():
    fast, plain = vars(td3_pave_fast.Args()), vars(td3_pave.Args())
    assert fast.pop("compile") is False and fast.pop("cudagraphs") is False
    assert fast.pop("exp_name") == "td3_pave_fast" and plain.pop("exp_name") == "td3_pave"
    assert fast == plain


@pytest.mark.parametrize("lambdas, pave_every, regularize", [
    (LAMBDAS, 1, True), ((1.0, 1.0, 0.0), 1, True), ((1.0, 0.0, 1.0), 1, True), ((0.0, 1.0, 1.0), 1, True),
    ((1.0, 0.0, 0.0), 1, True), ((0.0, 1.0, 0.0), 1, True), ((0.0, 0.0, 2.0), 1, True), ((0.0, 0.0, 0.0), 1, True),
    (LAMBDAS, 3, True), (LAMBDAS, 3, False)])  # every on/off pattern of the lambdas, and --pave-every
def test_fast_critic_gradients_equal_td3_paves_on_the_same_batch_and_draws(lambdas, pave_every, regularize):
    args, nets, data = critic_setup(td3_pave, lambdas, pave_every)
    want_losses, want = critic_step_gradients(td3_pave, args, nets, data, regularize)
    rng_after = torch.get_rng_state()
    fast_args = td3_pave_fast.Args(**{k: v for k, v in vars(args).items() if k != "exp_name"})
    losses, got = fast_gradients(fast_args, nets, data, regularize)
    assert_all_close(got, want, rtol=1e-10, atol=1e-13)
    skipped = {name for name, weight in zip(("mpr", "vfc", "curv"), lambdas) if weight == 0}
    assert losses.keys() == want_losses.keys() - skipped  # td3_pave.py computes and logs all three
    assert_all_close([losses[k] for k in losses], [want_losses[k] for k in losses], rtol=1e-10, atol=1e-14)
    assert torch.equal(torch.get_rng_state(), rng_after)  # the same draws, also those of terms it skips


def test_fast_and_plain_runs_from_one_seed_log_the_same_losses(tmp_path, monkeypatch):
    flags = dict(env_id="Pendulum-v1", total_timesteps=400, learning_starts=100, batch_size=32, hidden_sizes=(32, 32),
                 lambda1=2.0, lambda2=0.005, lambda3=2.0, gamma=0.98)
    scalars = []
    for module in (td3_pave, td3_pave_fast):
        (tmp_path / module.__name__).mkdir()
        scalars.append(read_scalars(train_in_process(module, tmp_path / module.__name__, monkeypatch, **flags)))
        scalars[-1].pop("charts/SPS")
    assert scalars[0].keys() == scalars[1].keys() and {"losses/mpr", "losses/vfc", "losses/curv"} <= scalars[0].keys()
    for tag, points in scalars[0].items():
        steps, values = zip(*points)
        fast_steps, fast_values = zip(*scalars[1][tag])
        assert steps == fast_steps, tag
        torch.testing.assert_close(torch.tensor(fast_values), torch.tensor(values), rtol=1e-4, atol=1e-5, msg=tag)


def test_compiled_critic_gradients_equal_the_eager_ones_in_one_graph():
    """The real compile (inductor): the slow test of the suite, so one graph, the regularized one."""
    args, nets, data = critic_setup(td3_pave_fast, LAMBDAS)
    nets = [net.float() for net in nets]
    data = td3_pave_fast.ReplayBufferSamples(*(t.float() for t in data))
    actor, qf1, qf2, target_actor, qf1_target, qf2_target = nets
    torch._dynamo.reset()
    counters = torch._dynamo.utils.counters
    counters.clear()
    compiled = td3_pave_fast.compile_critic_gradients(args, data, (qf1, qf2, qf1_target, qf2_target, target_actor),
                                                      torch.device("cpu"))
    # really compiled: one whole graph, no graph break (no silent eager fallback)
    assert counters["stats"]["unique_graphs"] == 1 and not counters["graph_break"]
    losses, got = fast_gradients(args, nets, data, fn=compiled)  # the same random draws as eager (fallback_random)
    want_losses, want = fast_gradients(args, nets, data)
    assert_all_close(got, want, rtol=1e-4, atol=1e-6)
    assert losses.keys() == want_losses.keys()
    assert_all_close(list(losses.values()), list(want_losses.values()), rtol=1e-5, atol=1e-6)


TWO_GRAPHS = dict(env_id="Pendulum-v1", total_timesteps=300, learning_starts=100, batch_size=16, hidden_sizes=(16,),
                  pave_every=2)  # a short run with regularized and plain critic updates


def logged_with_and_without(flag, tmp_path, monkeypatch, patch=lambda m: None, **flags):
    """{False: scalars, True: scalars}: what two td3_pave_fast.py runs from one seed log (SPS left out), without and
    with the boolean `flag`; patch(m) sets up each run's monkeypatches."""
    scalars = {}
    for on in (False, True):
        (tmp_path / str(on)).mkdir()
        with monkeypatch.context() as m:
            patch(m)
            run = train_in_process(td3_pave_fast, tmp_path / str(on), m, **{flag: on}, **flags)
            scalars[on] = read_scalars(os.path.join(tmp_path / str(on), run))
        scalars[on].pop("charts/SPS")
    return scalars


def test_a_compiled_run_traces_both_graphs_and_reproduces_the_eager_run(tmp_path, monkeypatch):
    """--compile's wiring, with dynamo's tracing but without inductor's code generation (the test above)."""
    compile_calls, real_compile = [], torch.compile

    def traced_only(fn, mode=None):
        compile_calls.append(mode)
        return real_compile(fn, backend="eager", fullgraph=True)  # fullgraph: a graph break fails the run

    def patch(m):
        m.setattr(torch, "compile", traced_only)
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()

    scalars = logged_with_and_without("compile", tmp_path, monkeypatch, patch, **TWO_GRAPHS)
    assert compile_calls == [None]  # once
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 2  # regularized and plain updates, no recompile
    assert scalars[True].keys() == scalars[False].keys()
    for tag, points in scalars[False].items():
        torch.testing.assert_close(torch.tensor(scalars[True][tag]), torch.tensor(points), rtol=1e-5, atol=1e-6, msg=tag)


def test_a_compile_failure_is_one_clear_line(monkeypatch):
    def broken(fn, **kwargs):
        def call(*args):
            raise RuntimeError("no C++ compiler found\nmore detail")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    args, (actor, qf1, qf2, target_actor, qf1_target, qf2_target), data = critic_setup(td3_pave_fast, LAMBDAS)
    with pytest.raises(td3_pave_fast.UserError, match=r"^--compile failed \(RuntimeError: no C\+\+ compiler found\); "
                                                      r"run without it$"):
        td3_pave_fast.compile_critic_gradients(args, data, (qf1, qf2, qf1_target, qf2_target, target_actor),
                                               torch.device("cpu"))


def graphs_on_the_cpu(monkeypatch):
    """--cudagraphs' wiring without CUDA: the side stream and the capture replaced by eager calls (a fake "replay"
    runs the step again on the recorded input tensors). Returns the list of captures made."""
    captures, check_args = [], td3_pave_fast.check_args

    def capture(step, tensors):
        captures.append(tensors)
        return lambda: step(*tensors)

    monkeypatch.setattr(td3_pave_fast, "capture", capture)
    monkeypatch.setattr(td3_pave_fast, "on_side_stream", lambda step, tensors: step(*tensors))
    monkeypatch.setattr(td3_pave_fast, "check_args", lambda a: check_args(dataclasses.replace(a, cudagraphs=False)))
    return captures


def test_the_cudagraphs_wiring_reproduces_the_eager_run(tmp_path, monkeypatch):
    """Each step one critic call and each policy step one actor call, through 3 warm-up calls and one capture per
    graph (regularized critic, plain critic under --pave-every 2, actor), the batch copied into the recorded inputs,
    the losses read from the graphs' outputs: the same logged losses as the eager run. (The real capture: the GPU
    test below.)"""
    runs = []  # each run's captures
    scalars = logged_with_and_without("cudagraphs", tmp_path, monkeypatch, lambda m: runs.append(graphs_on_the_cpu(m)),
                                      **TWO_GRAPHS)
    captures = runs[-1]
    assert len(captures) == 3 and all(len(inputs) == 5 for inputs in captures)  # obs, a, r, s', terminated
    assert scalars[True].keys() == scalars[False].keys() and "losses/curv" in scalars[True]
    for tag, points in scalars[False].items():
        assert scalars[True][tag] == points, tag


def test_with_cudagraphs_a_nan_stops_the_run_at_the_next_log_before_any_save(tmp_path, monkeypatch):
    graphs_on_the_cpu(monkeypatch)
    real = td3_pave_fast.update_critic

    def poisoned(args, data, *rest):
        losses = real(args, data, *rest)
        return losses | {"qf1_loss": losses["qf1_loss"] * float("nan")} if data.rewards.sum() != 0 else losses

    monkeypatch.setattr(td3_pave_fast, "update_critic", poisoned)
    with pytest.raises(td3_pave_fast.UserError, match=r"^training stopped: loss qf1_loss is nan at step 100; no "
                                                      r"checkpoint was written before it$"):
        train_in_process(td3_pave_fast, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=300,
                         learning_starts=100, cudagraphs=True, checkpoint_interval=150)


def test_cudagraphs_without_cuda_and_compile_on_cuda_are_one_line_errors(monkeypatch):
    with pytest.raises(td3_pave_fast.UserError, match=r"^--cudagraphs needs a CUDA device"):
        td3_pave_fast.check_args(td3_pave_fast.Args(cudagraphs=True, device="cpu"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(td3_pave_fast.UserError, match=r"^--compile is CPU-only: on CUDA, aot_autograd cannot"):
        td3_pave_fast.check_args(td3_pave_fast.Args(compile=True))
    td3_pave_fast.check_args(td3_pave_fast.Args(compile=True, device="cpu"))  # the CPU compile stays


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (this machine has none): the real capture")
def test_cudagraphs_on_a_gpu_log_the_losses_of_the_eager_run(tmp_path, monkeypatch):
    """The real CUDA graphs against eager CUDA from one seed: the losses of the first 300 updates (logged every 100
    steps, and the final ones) agree to float32 tolerance."""
    scalars = logged_with_and_without("cudagraphs", tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=400,
                                      learning_starts=100, device="cuda")
    for tag in [tag for tag in scalars[False] if tag.startswith("losses/")]:
        torch.testing.assert_close(torch.tensor(scalars[True][tag]), torch.tensor(scalars[False][tag]), rtol=1e-4,
                                   atol=1e-5, msg=tag)


@pytest.mark.parametrize("module", [td3_pave, td3_pave_fast, sac_pave], ids=lambda m: m.__name__)
def test_the_training_loop_regularizes_every_kth_critic_update(module, tmp_path, monkeypatch):
    calls = []
    original = module.update_critic

    def spy(*args):
        calls.append(args[9] if module is sac_pave else args[8])  # the regularize argument
        return original(*args)

    monkeypatch.setattr(module, "update_critic", spy)
    extra = dict(train_frequency=5, gradient_steps=5) if module is sac_pave else {}
    train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=60, learning_starts=20,
                     pave_every=3, **extra)
    assert calls == [i % 3 == 0 for i in range(40)]  # the first update is a regularized one


def test_pave_terms_are_logged_whatever_the_phase_of_pave_every(algo, tmp_path, monkeypatch):
    extra = dict(train_frequency=5, gradient_steps=5) if algo is sac_pave else {}
    run_dir = train_in_process(algo, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=300,
                               learning_starts=21, pave_every=4, **extra)  # TD3 logs at updates 79, 179: unregularized
    scalars = read_scalars(run_dir)
    for tag in ("losses/mpr", "losses/vfc", "losses/curv"):
        assert len(scalars[tag]) == 2, tag  # logged at 100 and 200
        assert all(value > 0 for _, value in scalars[tag]), tag


def test_actor_step_takes_no_critic_weight_gradients_and_matches_a_full_backward(algo):
    args, nets, data = critic_setup(algo, LAMBDAS)
    ours, theirs = copy.deepcopy(nets), copy.deepcopy(nets)
    optimizers = [torch.optim.Adam(n[0].parameters(), lr=1e-3) for n in (ours, theirs)]
    obs = data.observations
    torch.manual_seed(7)
    if algo is td3_pave:
        algo.update_actor(args, data, ours[0], ours[1], optimizers[0])
        loss = -theirs[1](obs, theirs[0](obs)).mean()
    else:
        pi, log_pi, _ = ours[0].get_action(obs)
        algo.update_actor(args, data, ours[0], ours[1], ours[2], optimizers[0], 0.2, pi, log_pi)
        torch.manual_seed(7)
        pi, log_pi, _ = theirs[0].get_action(obs)
        loss = (0.2 * log_pi - torch.min(theirs[1](obs, pi), theirs[2](obs, pi))).mean()
    loss.backward()  # the plain way: fills the critics' .grad too
    optimizers[1].step()
    assert all(p.grad is None for p in [*ours[1].parameters(), *ours[2].parameters()])
    assert any(p.grad is not None for p in theirs[1].parameters())
    assert_all_close(list(ours[0].parameters()), list(theirs[0].parameters()), rtol=1e-12, atol=1e-15)


def test_fused_adam_is_the_same_update():
    torch.manual_seed(0)
    nets = [td3_pave.QNetwork(4, 2, (32, 32)) for _ in range(2)]
    optimizers = [torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-8, fused=fused) for net, fused in zip(nets, (True, False))]
    nets[1].load_state_dict(nets[0].state_dict())
    for step in range(20):
        torch.manual_seed(step)
        x, a = torch.randn(64, 4), torch.rand(64, 2)
        for net, optimizer in zip(nets, optimizers):
            optimizer.zero_grad()
            net(x, a).square().mean().backward()
            optimizer.step()
    assert_all_close(list(nets[0].parameters()), list(nets[1].parameters()), rtol=1e-5, atol=1e-7)
