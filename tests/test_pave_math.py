"""PAVE terms of each algorithm file against exact autograd (torch.func), and its training path against them."""

import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, jacrev, vmap

import sac_pave
import td3_pave

OBS_DIM, ACT_DIM, B = 4, 2, 512


@pytest.fixture(params=[td3_pave, sac_pave], ids=lambda m: m.__name__)
def algo(request):
    return request.param


def make_critic(seed):
    torch.manual_seed(seed)
    return td3_pave.QNetwork(OBS_DIM, ACT_DIM, hidden_sizes=(32, 32), activation="silu").double()


def make_batch(seed):
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(B, OBS_DIM, generator=gen, dtype=torch.float64)
    actions = torch.rand(B, ACT_DIM, generator=gen, dtype=torch.float64) * 2 - 1
    next_obs = obs + 0.3 * torch.randn(B, OBS_DIM, generator=gen, dtype=torch.float64)
    return obs, actions, next_obs


def exact_derivatives(qf, obs, actions):
    """Per-sample dQ/da, H_sa = d2Q/(da ds) (d_a x d_s) and H_aa (d_a x d_a), by torch.func."""

    def q(s, a):
        return qf(s[None], a[None])[0, 0]

    dq_da = grad(q, argnums=1)
    return (
        vmap(dq_da)(obs, actions),
        vmap(jacrev(dq_da, argnums=0))(obs, actions),
        vmap(jacrev(dq_da, argnums=1))(obs, actions),
    )


def test_vfc_equals_exact_value(algo):
    qf = make_critic(0)
    obs, actions, next_obs = make_batch(1)
    _, vfc, _ = algo.pave_terms(qf, obs, actions, next_obs, sigma=0.01, delta=1.0)
    g, _, _ = exact_derivatives(qf, obs, actions)
    g_next, _, _ = exact_derivatives(qf, next_obs, actions)
    exact = ((g_next - g) ** 2).mean()
    assert exact > 1e-6
    torch.testing.assert_close(vfc, exact, rtol=1e-10, atol=0)


def test_mpr_expectation_matches_mixed_partial_frobenius_norm(algo):
    """E_eps[MPR] = sigma^2 / d_a * mean ||H_sa||_F^2 for small sigma (Eq. 12, with the code's mean over a)."""
    qf = make_critic(0)
    obs, actions, next_obs = make_batch(2)
    sigma = 1e-4
    _, h_sa, _ = exact_derivatives(qf, obs, actions)
    expected = sigma**2 / ACT_DIM * (h_sa**2).sum((1, 2)).mean()
    torch.manual_seed(3)
    draws = torch.stack([algo.pave_terms(qf, obs, actions, next_obs, sigma, 1.0)[0].detach() for _ in range(200)])
    stderr = draws.std() / len(draws) ** 0.5
    assert abs(draws.mean() - expected) < 4 * stderr + 0.01 * expected, (draws.mean(), expected, stderr)
    assert 4 * stderr < 0.1 * expected  # precise enough to catch a missing 1/d_a or a sum over a


def test_curv_expectation_is_the_hinge_averaged_over_all_sign_vectors(algo):
    """E_v[Curv] = mean_i of the average over all 2^d_a sign vectors of relu(v^T H_aa v + delta)."""
    qf = make_critic(4)
    obs, actions, next_obs = make_batch(5)
    h_aa = exact_derivatives(qf, obs, actions)[2].detach()
    signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=ACT_DIM)), dtype=torch.float64)  # (2^d_a, d_a)
    vhv = torch.einsum("vj,ijk,vk->iv", signs, h_aa, signs)  # (B, 2^d_a)
    delta = float(-torch.einsum("ijj->i", h_aa).median())  # the hinge is active for about half of the batch
    hinge = F.relu(vhv + delta)
    exact = hinge.mean()
    per_sample_var = hinge.var(1, unbiased=False)  # variance over the probe of each sample

    n_draws = 100
    torch.manual_seed(6)
    draws = torch.stack([algo.pave_terms(qf, obs, actions, next_obs, 0.01, delta)[2].detach() for _ in range(n_draws)])
    stderr = float((per_sample_var.sum() / B**2 / n_draws) ** 0.5)
    assert abs(draws.mean() - exact) < 5 * stderr, (draws.mean(), exact, stderr)

    active = (vhv + delta > 0).double().mean()
    assert 0.2 < active < 0.8
    trace_hinge = F.relu(torch.einsum("ijj->i", h_aa) + delta).mean()
    no_hinge = (vhv + delta).mean()
    assert abs(trace_hinge - exact) > 20 * stderr  # a trace-based hinge would fail above
    assert abs(no_hinge - exact) > 20 * stderr  # so would a missing hinge


def twin_critics_and_args(algo, lambdas):
    args = algo.Args(lambda1=lambdas[0], lambda2=lambdas[1], lambda3=lambdas[2], pave_sigma=0.05, pave_delta=0.02)
    return make_critic(10), make_critic(11), args


@pytest.mark.parametrize("lambdas", [(1.0, 1.0, 1.0), (1.0, 1.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)])
def test_fused_training_path_equals_pave_terms(algo, lambdas):
    qf1, qf2, args = twin_critics_and_args(algo, lambdas)
    obs, actions, next_obs = make_batch(7)

    def reference():
        terms = []
        for qf in (qf1, qf2):
            torch.manual_seed(8)  # the twins share eps and v
            terms.append(algo.pave_terms(qf, obs, actions, next_obs, args.pave_sigma, args.pave_delta))
        return [(t1 + t2) * (lam > 0) for t1, t2, lam in zip(*terms, lambdas)]

    torch.manual_seed(8)
    q1, q2, *fused = algo.critic_forward(qf1, qf2, obs, actions, next_obs, args)
    expected = reference()
    torch.testing.assert_close(q1, qf1(obs, actions), rtol=1e-12, atol=0)
    torch.testing.assert_close(q2, qf2(obs, actions), rtol=1e-12, atol=0)
    for got, want in zip(fused, expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-14)
    if lambdas[2] > 0:
        assert 0 < expected[2] < 2 * (1 + args.pave_delta)  # the hinge is neither off nor always on

    # and the gradients that reach the critics' parameters
    params = list(qf1.parameters()) + list(qf2.parameters())
    weights = torch.tensor(lambdas, dtype=torch.float64)
    got = torch.autograd.grad(sum(w * t for w, t in zip(weights, fused) if w > 0), params, materialize_grads=True)
    want = torch.autograd.grad(sum(w * t for w, t in zip(weights, expected) if w > 0), params, materialize_grads=True)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-12)


def test_relu_critic_has_zero_curvature_but_no_error(algo):
    torch.manual_seed(0)
    qf = td3_pave.QNetwork(OBS_DIM, ACT_DIM, hidden_sizes=(16,), activation="relu").double()
    obs, actions, next_obs = make_batch(9)
    _, _, curv = algo.pave_terms(qf, obs, actions, next_obs, 0.01, 1.0)
    assert curv.item() == pytest.approx(1.0)  # relu(0 + delta)


def plain_critic_step(algo, batch, actor, qf1, qf2, target_actor, qf1_target, qf2_target, q_optimizer, gamma, alpha):
    """Textbook TD3 / SAC critic step, written independently of the algorithm files."""
    obs, actions, rewards, next_obs, dones = batch
    with torch.no_grad():
        if algo is td3_pave:  # target-policy smoothing: noise std 0.2 clipped at 0.5; the sum of the twin MSEs
            next_actions = (target_actor(next_obs) + (torch.randn_like(actions) * 0.2).clamp(-0.5, 0.5)).clamp(-1, 1)
            entropy_bonus, scale = 0.0, 1.0
        else:  # soft target with the current policy; half the sum of the twin MSEs (the authors' code)
            next_actions, next_log_pi = actor.get_action(next_obs)
            entropy_bonus, scale = -alpha * next_log_pi, 0.5
        next_q = torch.min(qf1_target(next_obs, next_actions), qf2_target(next_obs, next_actions)) + entropy_bonus
        target = rewards + gamma * (1 - dones) * next_q
    loss = scale * (((qf1(obs, actions) - target) ** 2).mean() + ((qf2(obs, actions) - target) ** 2).mean())
    q_optimizer.zero_grad()
    loss.backward()
    q_optimizer.step()


def test_all_lambdas_zero_is_a_plain_update_and_computes_nothing_extra(algo, monkeypatch):
    torch.manual_seed(0)
    obs_dim, act_dim, batch_size, alpha = 5, 3, 64, 0.2
    args = algo.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0, hidden_sizes=(32, 32), gamma=0.98)
    nets = [
        algo.Actor(obs_dim, act_dim, (32, 32)),
        algo.QNetwork(obs_dim, act_dim, (32, 32)),
        algo.QNetwork(obs_dim, act_dim, (32, 32)),
    ]
    nets += [copy.deepcopy(n) for n in nets]  # targets
    batch = (
        torch.randn(batch_size, obs_dim),
        torch.rand(batch_size, act_dim) * 2 - 1,
        torch.randn(batch_size, 1),
        torch.randn(batch_size, obs_dim),
        (torch.rand(batch_size, 1) < 0.2).float(),
    )
    ours, theirs = copy.deepcopy(nets), copy.deepcopy(nets)
    opt_ours = torch.optim.Adam(list(ours[1].parameters()) + list(ours[2].parameters()), lr=1e-3, eps=1e-8)
    opt_theirs = torch.optim.Adam(list(theirs[1].parameters()) + list(theirs[2].parameters()), lr=1e-3, eps=1e-8)

    autograd_grad = torch.autograd.grad

    def no_second_order(outputs, inputs, **kwargs):  # the parameter gradient itself is a plain autograd.grad call
        if kwargs.get("create_graph") or any(not isinstance(x, torch.nn.Parameter) for x in inputs):
            raise AssertionError("with all lambdas 0 no action gradient may be taken")
        return autograd_grad(outputs, inputs, **kwargs)

    for _ in range(3):
        torch.manual_seed(1)
        with monkeypatch.context() as m:
            m.setattr(torch.autograd, "grad", no_second_order)
            actor, qf1, qf2, target_actor, qf1_target, qf2_target = ours
            if algo is td3_pave:
                algo.update_critic(args, batch, qf1, qf2, qf1_target, qf2_target, target_actor, opt_ours)
            else:
                algo.update_critic(args, batch, qf1, qf2, qf1_target, qf2_target, actor, opt_ours, torch.tensor(alpha))
        torch.manual_seed(1)
        plain_critic_step(algo, batch, *theirs, opt_theirs, 0.98, alpha)
    for net_ours, net_theirs in zip(ours, theirs):
        for p, q in zip(net_ours.parameters(), net_theirs.parameters()):
            assert torch.equal(p, q)
    assert not torch.equal(next(ours[1].parameters()), next(nets[1].parameters()))  # it did train


def test_sac_policy_log_prob_and_deterministic_action():
    torch.manual_seed(0)
    actor = sac_pave.Actor(OBS_DIM, ACT_DIM, (16, 16)).double()
    obs = torch.randn(64, OBS_DIM, dtype=torch.float64)
    torch.manual_seed(1)
    action, log_prob = actor.get_action(obs)
    h = actor.trunk(obs)
    mean, log_std = actor.fc_mean(h), actor.fc_logstd(h).clamp(-20, 2)
    tanh_gaussian = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(mean, log_std.exp()), [torch.distributions.TanhTransform()]
    )
    unsaturated = (1 - action**2 > 1e-2).all(1)  # elsewhere the 1e-6 guard (SB3's) matters, by design
    assert unsaturated.sum() > 32
    torch.testing.assert_close(
        log_prob[unsaturated, 0], tanh_gaussian.log_prob(action).sum(1)[unsaturated], rtol=1e-4, atol=1e-4
    )
    assert torch.isfinite(log_prob).all() and action.abs().max() < 1
    torch.testing.assert_close(actor(obs), torch.tanh(mean))
