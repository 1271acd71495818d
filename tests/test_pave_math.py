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


def test_pave_terms_with_given_draws_equal_exact_values(algo):
    """With eps and v passed in, all three terms are deterministic: compare each with torch.func."""
    qf = make_critic(12)
    obs, actions, next_obs = make_batch(13)
    gen = torch.Generator().manual_seed(14)
    eps = 0.05 * torch.randn(obs.shape, generator=gen, dtype=torch.float64)
    v = torch.randint(0, 2, actions.shape, generator=gen).double() * 2 - 1
    g, _, h_aa = (x.detach() for x in exact_derivatives(qf, obs, actions))
    vhv = torch.einsum("ij,ijk,ik->i", v, h_aa, v)
    delta = float(-vhv.median())  # the hinge is active for about half of the batch
    mpr, vfc, curv = algo.pave_terms(qf, obs, actions, next_obs, sigma=123.0, delta=delta, eps=eps, v=v)  # sigma unused
    g_eps = exact_derivatives(qf, obs + eps, actions)[0]
    g_next = exact_derivatives(qf, next_obs, actions)[0]
    torch.testing.assert_close(mpr, ((g_eps - g) ** 2).mean(), rtol=1e-10, atol=0)
    torch.testing.assert_close(vfc, ((g_next - g) ** 2).mean(), rtol=1e-10, atol=0)
    torch.testing.assert_close(curv, F.relu(vhv + delta).mean(), rtol=1e-10, atol=0)
    assert 0.1 < (vhv + delta > 0).double().mean() < 0.9  # the hinge is neither off nor always on


def critic_setup(algo, lambdas, pave_every=1):
    """args, nets (actor, qf1, qf2, target_actor, qf1_target, qf2_target) in float64 and a replay batch."""
    args = algo.Args(lambda1=lambdas[0], lambda2=lambdas[1], lambda3=lambdas[2], pave_sigma=0.05, pave_delta=0.02,
                     pave_every=pave_every, gamma=0.98)
    torch.manual_seed(20)
    actor = algo.Actor(OBS_DIM, ACT_DIM, (32, 32)).double()
    nets = [actor, make_critic(10), make_critic(11)]
    nets += [copy.deepcopy(n) for n in nets]
    obs, actions, next_obs = make_batch(21)
    gen = torch.Generator().manual_seed(22)
    rewards = torch.randn(B, 1, generator=gen, dtype=torch.float64)
    data = algo.ReplayBufferSamples(obs, actions, rewards, next_obs, (torch.rand(B, 1, generator=gen) < 0.2).double())
    return args, nets, data


def critic_step_gradients(algo, args, nets, data, regularize=True, seed=23):
    """algo's critic step on twin critics that do not move (SGD, lr 0): its losses and parameter gradients."""
    actor, qf1, qf2, target_actor, qf1_target, qf2_target = nets
    optimizer = torch.optim.SGD([*qf1.parameters(), *qf2.parameters()], lr=0.0)
    torch.manual_seed(seed)
    if algo is sac_pave:
        losses = algo.update_critic(args, data, qf1, qf2, qf1_target, qf2_target, actor, optimizer,
                                    torch.tensor(0.2, dtype=torch.float64), regularize)
    else:
        losses = algo.update_critic(args, data, qf1, qf2, qf1_target, qf2_target, target_actor, optimizer, regularize)
    grads = [p.grad.clone() for p in [*qf1.parameters(), *qf2.parameters()]]
    optimizer.zero_grad()
    return losses, grads


@pytest.mark.parametrize("pave_every", [1, 3])
def test_critic_step_is_eq16_with_the_twins_sharing_eps_and_v(algo, monkeypatch, pave_every):
    lambdas = (1.0, 0.5, 0.3)
    args, nets, data = critic_setup(algo, lambdas, pave_every)
    qf1, qf2 = nets[1], nets[2]
    seen = []
    original = algo.pave_terms

    def spy(qf, obs, actions, next_obs, sigma, delta, eps=None, v=None):
        seen.append((qf, eps, v))
        return original(qf, obs, actions, next_obs, sigma, delta, eps, v)

    monkeypatch.setattr(algo, "pave_terms", spy)
    losses, got = critic_step_gradients(algo, args, nets, data)
    (qf_a, eps1, v1), (qf_b, eps2, v2) = seen
    assert (qf_a, qf_b) == (qf1, qf2) and eps1 is eps2 and v1 is v2  # one draw of each, for both twins
    assert abs(eps1.std() / args.pave_sigma - 1) < 0.05 and set(v1.unique().tolist()) == {-1.0, 1.0}

    # reference: the plain TD gradient (proven plain in the next test) + the weighted pave_terms of both twins
    _, td = critic_step_gradients(algo, algo.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0, gamma=0.98), nets, data)
    terms = [original(qf, data.observations, data.actions, data.next_observations, args.pave_sigma, args.pave_delta,
                      eps1, v1) for qf in (qf1, qf2)]
    pave_loss = pave_every * sum(w * (t1 + t2) for w, t1, t2 in zip(lambdas, *terms))
    pave = torch.autograd.grad(pave_loss, [*qf1.parameters(), *qf2.parameters()], materialize_grads=True)
    for g, a, b in zip(got, td, pave):
        torch.testing.assert_close(g, a + b, rtol=1e-10, atol=1e-13)
    for name, t1, t2 in zip(("mpr", "vfc", "curv"), *terms):
        torch.testing.assert_close(losses[name], (t1 + t2).detach(), rtol=1e-12, atol=0)

    seen.clear()  # an update between two regularized ones under --pave-every: the TD step only, nothing logged
    losses, got = critic_step_gradients(algo, args, nets, data, regularize=False)
    assert not seen and not {"mpr", "vfc", "curv"} & set(losses)
    for g, a in zip(got, td):
        torch.testing.assert_close(g, a, rtol=0, atol=0)


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
            next_actions, next_log_pi, _ = actor.get_action(next_obs)
            entropy_bonus, scale = -alpha * next_log_pi, 0.5
        next_q = torch.min(qf1_target(next_obs, next_actions), qf2_target(next_obs, next_actions)) + entropy_bonus
        target = rewards + gamma * (1 - dones) * next_q
    loss = scale * (((qf1(obs, actions) - target) ** 2).mean() + ((qf2(obs, actions) - target) ** 2).mean())
    q_optimizer.zero_grad()
    loss.backward()
    q_optimizer.step()


def test_paper_defaults():
    """The paper's configuration (Walker2d-v5): PAVE's weights per algorithm, the terms on every critic update."""
    td3, sac = td3_pave.Args(), sac_pave.Args()
    assert (td3.lambda1, td3.lambda2, td3.lambda3) == (0.1, 0.1, 0.01)
    assert (sac.lambda1, sac.lambda2, sac.lambda3) == (2.0, 0.005, 2.0)
    for args in (td3, sac):
        assert args.env_id == "Walker2d-v5" and args.pave_every == 1 and (args.pave_sigma, args.pave_delta) == (0.01, 1.0)
        assert args.activation == "silu" and args.gamma == 0.99 and args.tau == 0.005 and args.learning_rate == 1e-3
    assert td3.hidden_sizes == (400, 300) and td3.batch_size == 256 and td3.learning_starts == 10_000
    assert (td3.policy_frequency, td3.policy_noise, td3.noise_clip, td3.exploration_noise) == (2, 0.2, 0.5, 0.1)
    assert sac.hidden_sizes == (256, 256) and sac.batch_size == 100 and (sac.train_frequency, sac.gradient_steps) == (50, 50)
    assert sac.alpha == 0.2 and not sac.autotune


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
    batch = algo.ReplayBufferSamples(
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
    action, log_prob, _ = actor.get_action(obs)
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
