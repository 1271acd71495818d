"""The speed paths. Exact ones (--compile, the critic-free actor backward, fused Adam) give the plain computation;
the estimator-changing modes (--pave-every, --pave-batch-size) compute what their flags promise."""

import copy

import pytest
import torch

import sac_pave
import td3_pave
from conftest import read_scalars, run_cli, train_in_process

OBS_DIM, ACT_DIM, B = 4, 2, 64
LAMBDAS = dict(lambda1=1.0, lambda2=0.5, lambda3=0.3)


@pytest.fixture(params=[td3_pave, sac_pave], ids=lambda m: m.__name__)
def algo(request):
    return request.param


def make_nets(algo, dtype=torch.float64):
    """actor, qf1, qf2, qf1_target, qf2_target, target_actor: small, with targets a little off the online nets."""
    torch.manual_seed(0)
    actor = algo.Actor(OBS_DIM, ACT_DIM, (32, 32)).to(dtype)
    qf1, qf2 = (algo.QNetwork(OBS_DIM, ACT_DIM, (32, 32)).to(dtype) for _ in range(2))
    targets = [copy.deepcopy(net) for net in (qf1, qf2, actor)]
    with torch.no_grad():
        for net in targets:
            for p in net.parameters():
                p.add_(0.01 * torch.randn_like(p))
    return (actor, qf1, qf2, *targets)


def make_batch(dtype=torch.float64):
    gen = torch.Generator().manual_seed(3)
    obs = torch.randn(B, OBS_DIM, generator=gen, dtype=dtype)
    return (obs, torch.rand(B, ACT_DIM, generator=gen, dtype=dtype) * 2 - 1, torch.randn(B, 1, generator=gen, dtype=dtype),
            obs + 0.3 * torch.randn(B, OBS_DIM, generator=gen, dtype=dtype), (torch.rand(B, 1, generator=gen) < 0.2).to(dtype))


def critic_inputs(algo, nets):
    """The arguments after `batch` of algo.critic_gradients, without `regularize`."""
    actor, qf1, qf2, qf1_target, qf2_target, target_actor = nets
    if algo is td3_pave:
        return qf1, qf2, qf1_target, qf2_target, target_actor
    return qf1, qf2, qf1_target, qf2_target, actor, torch.tensor(0.2, dtype=next(actor.parameters()).dtype)


def gradients(algo, args, nets, batch, regularize=True, seed=5, fn=None):
    torch.manual_seed(seed)
    return (fn or algo.critic_gradients)(args, batch, *critic_inputs(algo, nets), regularize)


def assert_all_close(got, want, **tolerance):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, **tolerance)


def test_pave_every_scales_the_lambdas_by_k_and_skips_the_terms_in_between(algo):
    nets, batch = make_nets(algo), make_batch()
    k = 3
    losses, grads = gradients(algo, algo.Args(pave_every=k, **LAMBDAS), nets, batch, regularize=True)
    scaled = {name: k * value for name, value in LAMBDAS.items()}
    _, want = gradients(algo, algo.Args(pave_every=1, **scaled), nets, batch)
    assert_all_close(grads, want, rtol=1e-12, atol=1e-15)
    assert {"mpr", "vfc", "curv"} <= set(losses)

    losses, grads = gradients(algo, algo.Args(pave_every=k, **LAMBDAS), nets, batch, regularize=False)
    _, want = gradients(algo, algo.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0), nets, batch)
    assert_all_close(grads, want, rtol=0, atol=0)
    assert not {"mpr", "vfc", "curv"} & set(losses)  # not logged as zeros on the skipped updates


def test_pave_batch_size_puts_the_terms_on_the_first_rows_and_td_on_all(algo, monkeypatch):
    nets, batch = make_nets(algo), make_batch()
    n = 16
    args = algo.Args(pave_batch_size=n, pave_every=1, pave_sigma=0.05, pave_delta=0.02, **LAMBDAS)
    seen = {}
    original = algo.critic_forward

    def spy(qf1, qf2, obs, *rest):  # the RNG state where the PAVE draws begin, and the rows they get
        seen["rng"], seen["rows"] = torch.get_rng_state(), len(obs)
        return original(qf1, qf2, obs, *rest)

    monkeypatch.setattr(algo, "critic_forward", spy)
    _, got = gradients(algo, args, nets, batch)
    assert seen["rows"] == n

    # reference: the TD gradient over all B rows + the readable pave_terms of each twin on rows :n
    _, td = gradients(algo, algo.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0), nets, batch)
    qf1, qf2 = nets[1], nets[2]
    obs, actions, _, next_obs, _ = (t[:n] for t in batch)
    pave_loss = 0.0
    for qf in (qf1, qf2):
        torch.set_rng_state(seen["rng"])  # the twins share eps and v
        terms = algo.pave_terms(qf, obs, actions, next_obs, args.pave_sigma, args.pave_delta)
        pave_loss = pave_loss + sum(w * t for w, t in zip(LAMBDAS.values(), terms))
    pave = torch.autograd.grad(pave_loss, [*qf1.parameters(), *qf2.parameters()], materialize_grads=True)
    assert_all_close(got, [a + b for a, b in zip(td, pave)], rtol=1e-10, atol=1e-13)


def test_the_training_loop_regularizes_every_kth_critic_update(algo, tmp_path, monkeypatch):
    calls = []
    original = algo.critic_forward

    def spy(qf1, qf2, obs, actions, next_obs, args, regularize=True):
        calls.append(regularize)
        return original(qf1, qf2, obs, actions, next_obs, args, regularize)

    monkeypatch.setattr(algo, "critic_forward", spy)
    extra = dict(train_frequency=5, gradient_steps=5) if algo is sac_pave else {}
    train_in_process(algo, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=60, learning_starts=20,
                     pave_every=3, **extra)
    assert len(calls) == 40
    assert calls == [i % 3 == 0 for i in range(40)]  # the first update is a regularized one


def test_pave_terms_are_logged_whatever_the_phase_of_pave_every(algo, tmp_path, monkeypatch):
    extra = dict(train_frequency=5, gradient_steps=5) if algo is sac_pave else {}
    run_dir = train_in_process(algo, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=300,
                               learning_starts=21, pave_every=4, **extra)  # log steps are never regularized ones
    scalars = read_scalars(run_dir)
    for tag in ("losses/mpr", "losses/vfc", "losses/curv"):
        assert len(scalars[tag]) == (3 if algo is sac_pave else 2), tag  # TD3 logs at 100, 200; SAC at 99, 199, 299
        assert all(value > 0 for _, value in scalars[tag]), tag


def test_compiled_critic_gradients_equal_the_eager_ones(algo):
    nets, batch = make_nets(algo, torch.float32), make_batch(torch.float32)
    args = algo.Args(pave_every=2, pave_batch_size=48, **LAMBDAS)
    torch._dynamo.reset()
    counters = torch._dynamo.utils.counters
    counters.clear()
    compiled = algo.compile_critic_gradients(args, batch, critic_inputs(algo, nets), torch.device("cpu"))
    # really compiled: one whole graph per value of regularize, no graph break (no silent eager fallback)
    assert counters["stats"]["unique_graphs"] == 2 and not counters["graph_break"]
    for regularize in (True, False):  # both graphs
        losses, got = gradients(algo, args, nets, batch, regularize, fn=compiled)
        want_losses, want = gradients(algo, args, nets, batch, regularize)
        assert_all_close(got, want, rtol=1e-4, atol=1e-6)
        assert losses.keys() == want_losses.keys()
        assert_all_close(list(losses.values()), list(want_losses.values()), rtol=1e-5, atol=1e-6)


def test_compiled_training_run_reproduces_the_eager_one(tmp_path):
    flags = ["--env-id", "Pendulum-v1", "--total-timesteps", 400, "--learning-starts", 100, "--batch-size", 32,
             "--hidden-sizes", 32, 32, "--checkpoint-interval", 0, "--pave-every", 2]
    params = {}
    for mode in ("--no-compile", "--compile"):
        (tmp_path / mode).mkdir()
        result = run_cli("td3_pave.py", *flags, mode, cwd=tmp_path / mode)
        assert result.returncode == 0, result.stderr
        assert ("critic compiled" in result.stdout) == (mode == "--compile")
        (checkpoint,) = (tmp_path / mode / "runs").glob("*/td3_pave.pt")
        params[mode] = torch.load(checkpoint, weights_only=True)["actor"]
    assert_all_close(list(params["--compile"].values()), list(params["--no-compile"].values()), rtol=1e-3, atol=1e-4)


def test_a_compile_failure_is_one_clear_line(algo, monkeypatch):
    def broken(fn, **kwargs):
        def call(*args):
            raise RuntimeError("no C++ compiler found\nmore detail")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    nets, batch = make_nets(algo, torch.float32), make_batch(torch.float32)
    with pytest.raises(algo.UserError, match=r"^--compile failed \(RuntimeError: no C\+\+ compiler found\); run without it$"):
        algo.compile_critic_gradients(algo.Args(), batch, critic_inputs(algo, nets), torch.device("cpu"))


def test_actor_step_takes_no_critic_weight_gradients_and_matches_a_full_backward(algo):
    nets, batch = make_nets(algo), make_batch()
    ours, theirs = copy.deepcopy(nets), copy.deepcopy(nets)
    optimizers = [torch.optim.Adam(n[0].parameters(), lr=1e-3) for n in (ours, theirs)]
    torch.manual_seed(7)
    if algo is td3_pave:
        algo.update_actor(batch, ours[0], ours[1], optimizers[0])
        loss = -theirs[1](batch[0], theirs[0](batch[0])).mean()
    else:
        pi, log_pi = ours[0].get_action(batch[0])
        algo.update_actor(batch, ours[0], ours[1], ours[2], optimizers[0], 0.2, pi, log_pi)
        torch.manual_seed(7)
        pi, log_pi = theirs[0].get_action(batch[0])
        loss = (0.2 * log_pi - torch.min(theirs[1](batch[0], pi), theirs[2](batch[0], pi))).mean()
    loss.backward()  # the plain way: fills the critics' .grad too
    optimizers[1].step()
    assert all(p.grad is None for p in [*ours[1].parameters(), *ours[2].parameters()])
    assert any(p.grad is not None for p in theirs[1].parameters())
    assert_all_close(list(ours[0].parameters()), list(theirs[0].parameters()), rtol=1e-12, atol=1e-15)


def test_fused_adam_is_the_same_update():
    torch.manual_seed(0)
    nets = [td3_pave.QNetwork(OBS_DIM, ACT_DIM, (32, 32)) for _ in range(2)]
    optimizers = [torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-8, fused=fused) for net, fused in zip(nets, (True, False))]
    nets[1].load_state_dict(nets[0].state_dict())
    for step in range(20):
        torch.manual_seed(step)
        x, a = torch.randn(B, OBS_DIM), torch.rand(B, ACT_DIM)
        for net, optimizer in zip(nets, optimizers):
            optimizer.zero_grad()
            net(x, a).square().mean().backward()
            optimizer.step()
    assert_all_close(list(nets[0].parameters()), list(nets[1].parameters()), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("flags, message", [(["--pave-every", 0], "--pave-every"),
                                            (["--pave-batch-size", -1], "--pave-batch-size must be >= 0")])
def test_bad_speed_flags_get_one_clear_line(algo, flags, message, tmp_path):
    result = run_cli(f"{algo.__name__}.py", "--env-id", "Pendulum-v1", *flags, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.strip().count("\n") == 0
