"""The policy-side baselines' loss terms on tiny hand-computable batches."""

import math

import pytest
import torch
import torch.nn as nn

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


def test_caps_temporal_and_spatial_terms():
    actor = LinearActor(W)
    _, temporal, spatial = td3_caps.caps_terms(actor, OBS, NEXT_OBS, sigma=0.0)
    # pi(s) - pi(s') = [[0, -2], [-2, 2]]: squares 0, 4, 4, 4, mean 3, times 0.5
    assert temporal.item() == pytest.approx(1.5, rel=1e-12)
    assert spatial.item() == 0.0  # no noise, no spatial difference

    torch.manual_seed(0)
    _, _, spatial = td3_caps.caps_terms(actor, OBS, NEXT_OBS, sigma=0.2)
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


@pytest.mark.parametrize("module", [td3_grad, td3_asap])
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


def test_asap_ema_moves_by_exactly_the_rate():
    torch.manual_seed(0)
    actor, ema = td3_asap.Actor(3, 2, (8, 8)), td3_asap.Actor(3, 2, (8, 8))
    before = [p.clone() for p in ema.parameters()]
    td3_asap.soft_update(ema, actor, 0.01)
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


def test_asap_ema_is_updated_after_every_gradient_step(tmp_path, monkeypatch):
    calls = []
    original = td3_asap.soft_update

    def counting_soft_update(target, source, tau):
        calls.append(tau)
        original(target, source, tau)

    monkeypatch.setattr(td3_asap, "soft_update", counting_soft_update)
    train_in_process(
        td3_asap, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=130, learning_starts=100, asap_tau=0.02
    )
    assert calls.count(0.02) == 30  # every critic update, not only the delayed actor updates
    assert calls.count(0.005) == 3 * 15  # the TD3 targets, on the 15 actor updates
