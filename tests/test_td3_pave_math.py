"""PAVE terms of td3_pave.py against exact autograd (torch.func), and the training path against them."""
import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, jacrev, vmap

import td3_pave

OBS_DIM, ACT_DIM, B = 4, 2, 512


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
    return vmap(dq_da)(obs, actions), vmap(jacrev(dq_da, argnums=0))(obs, actions), vmap(jacrev(dq_da, argnums=1))(obs, actions)


def test_vfc_equals_exact_value():
    qf = make_critic(0)
    obs, actions, next_obs = make_batch(1)
    _, vfc, _ = td3_pave.pave_terms(qf, obs, actions, next_obs, sigma=0.01, delta=1.0)
    g, _, _ = exact_derivatives(qf, obs, actions)
    g_next, _, _ = exact_derivatives(qf, next_obs, actions)
    exact = ((g_next - g) ** 2).mean()
    assert exact > 1e-6
    torch.testing.assert_close(vfc, exact, rtol=1e-10, atol=0)


def test_mpr_expectation_matches_mixed_partial_frobenius_norm():
    """E_eps[MPR] = sigma^2 / d_a * mean ||H_sa||_F^2 for small sigma (Eq. 12, with the code's mean over a)."""
    qf = make_critic(0)
    obs, actions, next_obs = make_batch(2)
    sigma = 1e-4
    _, h_sa, _ = exact_derivatives(qf, obs, actions)
    expected = sigma**2 / ACT_DIM * (h_sa**2).sum((1, 2)).mean()
    torch.manual_seed(3)
    draws = torch.stack([td3_pave.pave_terms(qf, obs, actions, next_obs, sigma, 1.0)[0].detach() for _ in range(200)])
    stderr = draws.std() / len(draws) ** 0.5
    assert abs(draws.mean() - expected) < 4 * stderr + 0.01 * expected, (draws.mean(), expected, stderr)
    assert 4 * stderr < 0.1 * expected  # precise enough to catch a missing 1/d_a or a sum over a


def test_curv_expectation_is_the_hinge_averaged_over_all_sign_vectors():
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
    draws = torch.stack([td3_pave.pave_terms(qf, obs, actions, next_obs, 0.01, delta)[2].detach() for _ in range(n_draws)])
    stderr = float((per_sample_var.sum() / B**2 / n_draws) ** 0.5)
    assert abs(draws.mean() - exact) < 5 * stderr, (draws.mean(), exact, stderr)

    active = (vhv + delta > 0).double().mean()
    assert 0.2 < active < 0.8
    trace_hinge = F.relu(torch.einsum("ijj->i", h_aa) + delta).mean()
    no_hinge = (vhv + delta).mean()
    assert abs(trace_hinge - exact) > 20 * stderr  # a trace-based hinge would fail above
    assert abs(no_hinge - exact) > 20 * stderr  # so would a missing hinge


def twin_critics_and_args(lambdas):
    args = td3_pave.Args(lambda1=lambdas[0], lambda2=lambdas[1], lambda3=lambdas[2], pave_sigma=0.05, pave_delta=0.02)
    return make_critic(10), make_critic(11), args


@pytest.mark.parametrize("lambdas", [(1.0, 1.0, 1.0), (1.0, 1.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)])
def test_fused_training_path_equals_pave_terms(lambdas):
    qf1, qf2, args = twin_critics_and_args(lambdas)
    obs, actions, next_obs = make_batch(7)

    def reference():
        terms = []
        for qf in (qf1, qf2):
            torch.manual_seed(8)  # the twins share eps and v
            terms.append(td3_pave.pave_terms(qf, obs, actions, next_obs, args.pave_sigma, args.pave_delta))
        return [(t1 + t2) * (lam > 0) for t1, t2, lam in zip(*terms, lambdas)]

    torch.manual_seed(8)
    q1, q2, *fused = td3_pave.critic_forward(qf1, qf2, obs, actions, next_obs, args)
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


def test_relu_critic_has_zero_curvature_but_no_error():
    torch.manual_seed(0)
    qf = td3_pave.QNetwork(OBS_DIM, ACT_DIM, hidden_sizes=(16,), activation="relu").double()
    obs, actions, next_obs = make_batch(9)
    _, _, curv = td3_pave.pave_terms(qf, obs, actions, next_obs, 0.01, 1.0)
    assert curv.item() == pytest.approx(1.0)  # relu(0 + delta)


def plain_td3_critic_step(batch, qf1, qf2, qf1_target, qf2_target, target_actor, q_optimizer, gamma, policy_noise, noise_clip):
    """Textbook TD3 critic step, written independently of td3_pave.py."""
    obs, actions, rewards, next_obs, dones = batch
    with torch.no_grad():
        noise = (torch.randn_like(actions) * policy_noise).clamp(-noise_clip, noise_clip)
        next_actions = (target_actor(next_obs) + noise).clamp(-1, 1)
        target = rewards + gamma * (1 - dones) * torch.min(qf1_target(next_obs, next_actions), qf2_target(next_obs, next_actions))
    loss = ((qf1(obs, actions) - target) ** 2).mean() + ((qf2(obs, actions) - target) ** 2).mean()
    q_optimizer.zero_grad()
    loss.backward()
    q_optimizer.step()


def test_all_lambdas_zero_is_a_plain_td3_update_and_computes_nothing_extra(monkeypatch):
    torch.manual_seed(0)
    obs_dim, act_dim, batch_size = 5, 3, 64
    args = td3_pave.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0, hidden_sizes=(32, 32), gamma=0.98)
    nets = [td3_pave.Actor(obs_dim, act_dim, (32, 32)), td3_pave.QNetwork(obs_dim, act_dim, (32, 32)),
            td3_pave.QNetwork(obs_dim, act_dim, (32, 32))]
    nets += [copy.deepcopy(n) for n in nets]  # targets
    batch = (torch.randn(batch_size, obs_dim), torch.rand(batch_size, act_dim) * 2 - 1, torch.randn(batch_size, 1),
             torch.randn(batch_size, obs_dim), (torch.rand(batch_size, 1) < 0.2).float())
    ours, theirs = copy.deepcopy(nets), copy.deepcopy(nets)
    opt_ours = torch.optim.Adam(list(ours[1].parameters()) + list(ours[2].parameters()), lr=1e-3, eps=1e-8)
    opt_theirs = torch.optim.Adam(list(theirs[1].parameters()) + list(theirs[2].parameters()), lr=1e-3, eps=1e-8)

    def no_second_order(*a, **k):
        raise AssertionError("plain TD3 must not take action gradients")

    for _ in range(3):
        torch.manual_seed(1)
        with monkeypatch.context() as m:
            m.setattr(torch.autograd, "grad", no_second_order)
            td3_pave.update_critic(args, batch, ours[1], ours[2], ours[4], ours[5], ours[3], opt_ours)
        torch.manual_seed(1)
        plain_td3_critic_step(batch, theirs[1], theirs[2], theirs[4], theirs[5], theirs[3], opt_theirs, 0.98, 0.2, 0.5)
    for net_ours, net_theirs in zip(ours, theirs):
        for p, q in zip(net_ours.parameters(), net_theirs.parameters()):
            assert torch.equal(p, q)
    assert not torch.equal(next(ours[1].parameters()), next(nets[1].parameters()))  # it did train
