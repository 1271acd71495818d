"""The policy-side baselines' loss terms on tiny hand-computable batches."""

import copy
import math

import pytest
import torch
import torch.nn as nn

import sac_asap
import sac_caps
import sac_grad
import td3_asap
import td3_caps
import td3_grad
from conftest import train_in_process


class LinearActor(nn.Module):
    """pi(s) = s @ W: every term below can be worked out by hand."""

    def __init__(self, W):
        super().__init__()
        self.W = nn.Parameter(torch.tensor(W, dtype=torch.float64))

    def forward(self, x):
        return x @ self.W


W = [[1.0, 0.0], [0.0, 2.0]]
PREV_OBS = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
OBS = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)  # pi(s) = [[1, 0], [0, 2]]
NEXT_OBS = torch.tensor([[1.0, 1.0], [2.0, 0.0]], dtype=torch.float64)  # pi(s') = [[1, 2], [2, 0]]


@pytest.mark.parametrize("module", [td3_caps, sac_caps], ids=lambda m: m.__name__)
def test_caps_temporal_and_spatial_terms(module):
    def caps_terms(*args, **kwargs):  # td3_caps also returns pi(s), for its Q term
        return module.caps_terms(*args, **kwargs)[-2:]

    actor = LinearActor(W)
    temporal, spatial = caps_terms(actor, OBS, NEXT_OBS, sigma=0.0)
    # pi(s) - pi(s') = [[0, -2], [-2, 2]]: squares 0, 4, 4, 4, mean 3, times 0.5
    assert temporal.item() == pytest.approx(1.5, rel=1e-12)
    assert spatial.item() == 0.0  # no noise, no spatial difference

    torch.manual_seed(0)
    _, spatial = caps_terms(actor, OBS, NEXT_OBS, sigma=0.2)
    torch.manual_seed(0)
    noise = 0.2 * torch.randn(2, 2, dtype=torch.float64)  # the one draw the term makes
    assert spatial.item() == pytest.approx(0.5 * ((noise @ actor.W) ** 2).mean().item(), rel=1e-12)
    assert spatial.item() > 0


def grad_caps_by_hand():
    # pi(s_prev) = [[0, 0], [1, 2]]; second difference c = pi(s') - 2 pi(s) + pi(s_prev) = [[-1, 2], [3, -2]]
    # displacement pi(s') - pi(s_prev) = [[1, 2], [1, -2]]
    c = [-1.0, 2.0, 3.0, -2.0]
    w = [math.tanh(1 / (d + 1e-4) ** 2) for d in (1.0, 2.0, 1.0, -2.0)]
    return sum(0.5 * ci**2 * wi for ci, wi in zip(c, w)) / 4, c, w


@pytest.mark.parametrize("module", [td3_grad, td3_asap, sac_grad, sac_asap], ids=lambda m: m.__name__)
def test_second_difference_penalty_by_hand_and_its_weight_carries_no_gradient(module):
    actor = LinearActor(W)
    loss = module.second_difference_penalty(actor(PREV_OBS), actor(OBS), actor(NEXT_OBS))
    expected, c, w = grad_caps_by_hand()
    assert loss.item() == pytest.approx(expected, rel=1e-12)

    loss.backward()
    # With w a constant: dL/dW = X^T (c * w) / 4, X = s' - 2 s + s_prev (so that c = X W)
    X = NEXT_OBS - 2 * OBS + PREV_OBS
    expected_grad = X.T @ (torch.tensor(c, dtype=torch.float64) * torch.tensor(w, dtype=torch.float64)).reshape(2, 2) / 4
    torch.testing.assert_close(actor.W.grad, expected_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("module", [td3_asap, sac_asap], ids=lambda m: m.__name__)
def test_asap_ema_moves_by_exactly_the_rate(module):
    torch.manual_seed(0)
    actor, ema = module.Actor(3, 2, (8, 8)), module.Actor(3, 2, (8, 8))
    before = [p.clone() for p in ema.parameters()]
    module.soft_update(ema, actor, 0.01)
    for p_ema, p_before, p in zip(ema.parameters(), before, actor.parameters()):
        torch.testing.assert_close(p_ema, 0.99 * p_before + 0.01 * p, rtol=1e-6, atol=1e-7)


def test_asap_terms_wiring_and_gradient_flow():
    torch.manual_seed(0)
    actor, ema = td3_asap.Actor(2, 2, (8, 8)).double(), td3_asap.Actor(2, 2, (8, 8)).double().requires_grad_(False)
    a, temporal, spatial, predictor = td3_asap.asap_terms(actor, ema, PREV_OBS, OBS, NEXT_OBS)
    with torch.no_grad():
        a_next, (_, forecast), (_, predicted) = actor(NEXT_OBS), ema.heads(OBS), actor.heads(OBS)
        torch.testing.assert_close(spatial, 0.5 * ((a_next - forecast) ** 2).mean())  # L_S
        torch.testing.assert_close(predictor, 0.5 * ((predicted - a_next) ** 2).mean())  # L_P
        torch.testing.assert_close(temporal, td3_asap.second_difference_penalty(actor(PREV_OBS), a, a_next))  # L_T
        torch.testing.assert_close(a, actor(OBS))

    def grads(loss):
        actor.zero_grad()
        loss.backward(retain_graph=True)
        return {name: 0.0 if p.grad is None else p.grad.abs().sum().item() for name, p in actor.named_parameters()}

    g = grads(predictor)  # the predictor learns pi(s'); pi(s') itself is a detached target
    assert g["fc_next.weight"] > 0 and g["trunk.0.weight"] > 0 and g["fc_mu.weight"] == 0
    g = grads(spatial)  # pi(s') moves toward the forecast; the forecast is a detached target
    assert g["fc_mu.weight"] > 0 and g["fc_next.weight"] == 0
    assert all(p.grad is None for p in ema.parameters())


@pytest.mark.parametrize("module", [td3_asap, sac_asap], ids=lambda m: m.__name__)
def test_asap_ema_is_updated_after_every_gradient_step(module, tmp_path, monkeypatch):
    calls = []
    original = module.soft_update

    def counting_soft_update(target, source, tau):
        calls.append(tau)
        original(target, source, tau)

    monkeypatch.setattr(module, "soft_update", counting_soft_update)
    extra = dict(train_frequency=10, gradient_steps=10) if module is sac_asap else {}  # SAC: 3 blocks of 10 steps
    train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=130, learning_starts=100,
                     asap_tau=0.02, **extra)
    assert calls.count(0.02) == 30  # every critic update, not only TD3's delayed actor updates
    # the critic targets (TD3: and the target actor) move on TD3's 15 delayed updates, on all 30 SAC updates
    assert calls.count(0.005) == (3 * 15 if module is td3_asap else 2 * 30)


def test_sac_asap_terms_use_tanh_mu_and_an_unsquashed_predictor():
    torch.manual_seed(0)
    actor, ema = sac_asap.Actor(2, 2, (8, 8)).double(), sac_asap.Actor(2, 2, (8, 8)).double().requires_grad_(False)
    with torch.no_grad():
        actor.fc_next.bias.fill_(3.0)  # a forecast outside [-1, 1]: no tanh on the predictor head
        ema.fc_next.bias.fill_(-4.0)
    temporal, spatial, predictor = sac_asap.asap_terms(actor, ema, PREV_OBS, OBS, NEXT_OBS)
    with torch.no_grad():
        h, h_ema = actor.trunk(OBS), ema.trunk(OBS)
        a_next = torch.tanh(actor.fc_mean(actor.trunk(NEXT_OBS)))  # the deterministic action tanh(mu(s'))
        forecast, predicted = ema.fc_next(h_ema), actor.fc_next(h)
        assert forecast.max() < -1 and predicted.min() > 1
        torch.testing.assert_close(spatial, 0.5 * ((a_next - forecast) ** 2).mean())  # L_S
        torch.testing.assert_close(predictor, 0.5 * ((predicted - a_next) ** 2).mean())  # L_P
        a, a_prev = torch.tanh(actor.fc_mean(h)), torch.tanh(actor.fc_mean(actor.trunk(PREV_OBS)))
        torch.testing.assert_close(temporal, sac_asap.second_difference_penalty(a_prev, a, a_next))  # L_T

    def grads(loss):
        actor.zero_grad()
        loss.backward(retain_graph=True)
        return {name: 0.0 if p.grad is None else p.grad.abs().sum().item() for name, p in actor.named_parameters()}

    g = grads(predictor)
    assert g["fc_next.weight"] > 0 and g["trunk.0.weight"] > 0 and g["fc_mean.weight"] == 0
    g = grads(spatial + temporal)  # the policy terms never reach the predictor or the log-std head
    assert g["fc_mean.weight"] > 0 and g["fc_next.weight"] == 0 and g["fc_logstd.weight"] == 0
    assert all(p.grad is None for p in ema.parameters())


@pytest.mark.parametrize("module", [sac_caps, sac_grad, sac_asap], ids=lambda m: m.__name__)
def test_sac_baseline_actor_step_is_the_sac_loss_plus_the_weighted_terms(module):
    """update_actor against the SAC actor loss written out, plus the method's terms from its own function."""
    torch.manual_seed(0)
    obs_dim, act_dim, B = 2, 2, 16
    actor = module.Actor(obs_dim, act_dim, (8, 8)).double()
    qf1, qf2 = (module.QNetwork(obs_dim, act_dim, (8, 8)).double() for _ in range(2))
    ema = copy.deepcopy(actor).requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    obs, next_obs, prev_obs = (torch.randn(B, obs_dim, generator=gen, dtype=torch.float64) for _ in range(3))
    fields = dict(observations=obs, actions=None, rewards=None, next_observations=next_obs, terminations=None)
    if "prev_observations" in module.ReplayBufferSamples._fields:
        fields["prev_observations"] = prev_obs
    data = module.ReplayBufferSamples(**fields)
    weights = {"lambda_t": 0.7, "lambda_s": 1.3, "lambda_p": 0.4}
    args = module.Args(**{k: v for k, v in weights.items() if hasattr(module.Args, k)})
    ours, theirs = copy.deepcopy(actor), copy.deepcopy(actor)
    optimizers = [torch.optim.SGD(a.parameters(), lr=0.1) for a in (ours, theirs)]
    torch.manual_seed(2)
    pi, log_pi, _ = ours.get_action(obs)
    extra = (ema,) if module is sac_asap else ()
    module.update_actor(args, data, ours, qf1, qf2, optimizers[0], 0.2, pi, log_pi, *extra)

    torch.manual_seed(2)
    pi, log_pi, _ = theirs.get_action(obs)
    loss = (0.2 * log_pi - torch.min(qf1(obs, pi), qf2(obs, pi))).mean()
    if module is sac_caps:
        temporal, spatial = module.caps_terms(theirs, obs, next_obs, args.caps_sigma)
        loss = loss + 0.7 * temporal + 1.3 * spatial
    elif module is sac_grad:
        loss = loss + 0.7 * module.second_difference_penalty(theirs(prev_obs), theirs(obs), theirs(next_obs))
    else:
        temporal, spatial, predictor = module.asap_terms(theirs, ema, prev_obs, obs, next_obs)
        loss = loss + 0.7 * temporal + 1.3 * spatial + 0.4 * predictor
    optimizers[1].zero_grad()
    loss.backward(inputs=list(theirs.parameters()))
    optimizers[1].step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
    assert not torch.equal(next(ours.parameters()), next(actor.parameters()))  # it did step
