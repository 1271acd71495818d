# SAC + PAVE: critic-side smoothness regularization (Lee et al., "Stabilizing the Q-Gradient Field
# for Policy Smoothness in Actor-Critic", ICML 2026). CleanRL-style single file; see README.md.
# Where the paper and the authors' code differ, this file follows the code and says so.
import math
import os
import random
from collections import deque
from dataclasses import dataclass
from typing import Literal, NamedTuple, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

import run_utils
from run_utils import UserError


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment (also the checkpoint's file name)"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, sets `torch.backends.cudnn.deterministic=True`"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """where the networks live: auto picks cuda when it is available"""
    track: bool = False
    """if toggled, this experiment is tracked with Weights and Biases"""
    wandb_project_name: str = "pave"
    """the wandb project name"""
    wandb_entity: Optional[str] = None
    """the entity (team) of the wandb project"""
    checkpoint_interval: int = 100_000
    """save the checkpoint and its resume state every this many steps (0: only at the end and on a signal)"""
    snapshot_fractions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8)
    """also keep <exp_name>_step<N>.pt at these fractions of --total-timesteps (0: the initial networks), as the
    authors, for analyses during training; eval_smoothness.py plots a run's snapshots against the step"""
    resume: Optional[str] = None
    """continue a run (its folder or checkpoint) with its replay buffer and random states: its own flags are the
    defaults and the ones given go on top (only the budget --total-timesteps, --checkpoint-interval, the
    snapshots, the device and the tracking flags may differ)"""

    # Algorithm specific arguments
    env_id: str = "Walker2d-v5"
    """the id of the environment (LunarLander-v3 is made with continuous=True)"""
    total_timesteps: int = 1_000_000
    """total timesteps of the experiment"""
    learning_rate: float = 1e-3
    """the learning rate of the actor, critic (and alpha) optimizers"""
    buffer_size: int = 1_000_000
    """the replay memory buffer size"""
    gamma: float = 0.99
    """the discount factor gamma"""
    tau: float = 0.005
    """target smoothing coefficient"""
    batch_size: int = 100
    """the batch size of samples from the replay memory"""
    learning_starts: int = 10_000
    """number of uniformly random steps before learning starts"""
    train_frequency: int = 50
    """collect this many env steps, then do --gradient-steps updates"""
    gradient_steps: int = 50
    """gradient steps (critic, actor and target update each) per --train-frequency env steps"""
    alpha: float = 0.2
    """entropy coefficient (fixed, as in the paper; the initial value with --autotune)"""
    autotune: bool = False
    """if toggled, learn the entropy coefficient toward the target entropy -dim(A)"""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden layer sizes of the actor and of each critic"""
    activation: Literal["silu", "relu"] = "silu"
    """hidden activation; PAVE needs silu (a relu critic has zero action curvature)"""

    # PAVE critic regularizers (all three 0 = plain SAC); the defaults are the paper's SAC weights for Walker2d-v5
    lambda1: float = 2.0
    """weight of MPR, the mixed-partial regularizer (Eq. 11)"""
    lambda2: float = 0.005
    """weight of VFC, the vector-field consistency term (Eq. 13)"""
    lambda3: float = 2.0
    """weight of Curv, the curvature-preservation hinge (Eq. 15; the initial value with --autotune-lambda3)"""
    autotune_lambda3: bool = False
    """if toggled, learn lambda3 in [1e-4, 1e3] by dual ascent so the Curv hinge holds --curv-target"""
    curv_target: float = 0.1
    """the Curv hinge (losses/curv, the twin sum) that --autotune-lambda3 holds: lambda3 grows while above it"""
    pave_sigma: float = 0.01
    """std of the MPR state perturbation, in raw observation units"""
    pave_delta: float = 1.0
    """curvature margin delta of the Curv hinge"""
    pave_every: int = 1
    """1 = the paper. k > 1 is a speed mode that changes the estimator (docs/speed.md): the PAVE terms on every k-th
    critic update only, lambdas times k"""


REGULARIZER_WEIGHTS = ("lambda1", "lambda2", "lambda3")  # all 0: the base method (eval's "base" runs)
LAMBDA3_MIN, LAMBDA3_MAX = 1e-4, 1e3  # --autotune-lambda3 clamps log(lambda3) to [log MIN, log MAX] after each step


def check_args(args: Args):
    run_utils.check_run_args(args)  # the run flags every file has (name, seed, budget, snapshots, device)
    nonnegative = ("lambda1", "lambda2", "lambda3", "pave_sigma", "pave_delta", "alpha")
    for name in nonnegative:
        value = getattr(args, name)
        if not (np.isfinite(value) and value >= 0):
            raise UserError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
    if args.batch_size < 1 or args.buffer_size < args.batch_size:
        raise UserError(f"--batch-size {args.batch_size} must be between 1 and --buffer-size ({args.buffer_size})")
    if min(args.train_frequency, args.gradient_steps, args.pave_every, *args.hidden_sizes) < 1 or not args.hidden_sizes:
        raise UserError("--train-frequency, --gradient-steps, --pave-every and every --hidden-sizes entry must be >= 1")
    if not (0 < args.tau <= 1 and 0 <= args.gamma <= 1 and args.learning_rate > 0):
        raise UserError("need 0 < --tau <= 1, 0 <= --gamma <= 1 and --learning-rate > 0")
    run_utils.check_autotune_lambda3(args, Args.curv_target, LAMBDA3_MIN, LAMBDA3_MAX)
    if args.autotune and args.alpha == 0:
        raise UserError("--autotune learns log(alpha): start it from an --alpha > 0")


def make_env(env_id: str, seed: int):
    kwargs = {"continuous": True} if env_id.startswith("LunarLander") else {}
    try:
        env = gym.make(env_id, **kwargs)
    except Exception as e:  # unknown id, missing extra (mujoco, box2d), bad kwargs
        raise UserError(f"cannot make env {env_id!r}: {e}") from None
    if not isinstance(env.action_space, gym.spaces.Box):
        raise UserError(f"{env_id} has a {env.action_space} action space; a continuous (Box) one is needed")
    if not isinstance(env.observation_space, gym.spaces.Box) or len(env.observation_space.shape) != 1:
        raise UserError(f"{env_id} has a {env.observation_space} observation space; a flat Box is needed")
    env = gym.wrappers.RecordEpisodeStatistics(env)
    env.action_space.seed(seed)
    return env


# ALGO LOGIC: initialize agent here:
ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU}


def mlp(in_dim, hidden_sizes, out_dim, activation):
    layers = []
    for size in hidden_sizes:
        layers += [nn.Linear(in_dim, size), ACTIVATIONS[activation]()]
        in_dim = size
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


class QNetwork(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden_sizes=(256, 256), activation="silu"):
        super().__init__()
        self.net = mlp(obs_dim + act_dim, hidden_sizes, 1, activation)

    def forward(self, x, a):
        return self.net(torch.cat([x, a], 1))


LOG_STD_MIN, LOG_STD_MAX = -20, 2  # clamp, as SB3 (the authors' code); CleanRL squashes into [-5, 2]


class Actor(nn.Module):
    """Squashed Gaussian policy with actions in [-1, 1]; `scale_action` maps them to the env's box.
    forward(x) is the deterministic action tanh(mu), as used for evaluation."""

    def __init__(self, obs_dim, act_dim, hidden_sizes=(256, 256), activation="silu"):
        super().__init__()
        self.trunk = mlp(obs_dim, hidden_sizes[:-1], hidden_sizes[-1], activation).append(ACTIVATIONS[activation]())
        self.fc_mean = nn.Linear(hidden_sizes[-1], act_dim)
        self.fc_logstd = nn.Linear(hidden_sizes[-1], act_dim)

    def forward(self, x):
        return torch.tanh(self.fc_mean(self.trunk(x)))

    def get_action(self, x):
        """A reparameterized sample in [-1, 1], its log-probability (with the tanh correction), and tanh(mu)."""
        h = self.trunk(x)
        mean, log_std = self.fc_mean(h), self.fc_logstd(h).clamp(LOG_STD_MIN, LOG_STD_MAX)
        normal = torch.distributions.Normal(mean, log_std.exp())
        x_t = normal.rsample()  # reparameterization trick
        action = torch.tanh(x_t)
        log_prob = (normal.log_prob(x_t) - torch.log(1 - action.pow(2) + 1e-6)).sum(1, keepdim=True)
        return action, log_prob, torch.tanh(mean)


def scale_action(action, low, high):
    """[-1, 1] -> [low, high], elementwise."""
    return low + 0.5 * (action + 1.0) * (high - low)


class ReplayBufferSamples(NamedTuple):
    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_observations: torch.Tensor
    terminations: torch.Tensor


class ReplayBuffer:
    """Preallocated tensors of (s, a in [-1, 1], r, true s', terminated). Truncation is not stored, so
    TD targets bootstrap through time limits; s' is the real last observation, never a reset one."""

    def __init__(self, capacity, obs_dim, act_dim, device, seed):
        self.capacity, self.pos, self.size = capacity, 0, 0
        self.obs = torch.zeros((capacity, obs_dim), device=device)
        self.actions = torch.zeros((capacity, act_dim), device=device)
        self.rewards = torch.zeros((capacity, 1), device=device)
        self.next_obs = torch.zeros((capacity, obs_dim), device=device)
        self.terminations = torch.zeros((capacity, 1), device=device)
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.pos
        self.obs[i] = torch.as_tensor(obs)
        self.actions[i] = torch.as_tensor(action)
        self.rewards[i] = float(reward)
        self.next_obs[i] = torch.as_tensor(next_obs)
        self.terminations[i] = float(terminated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def state_dict(self):
        """The filled rows, the write position and the sampler's random state: what --resume needs."""
        rows = {name: x[: self.size].clone() for name, x in vars(self).items() if torch.is_tensor(x)}
        return rows | {"pos": self.pos, "size": self.size, "sampler": self.generator.get_state()}

    def load_state_dict(self, state):
        self.pos, self.size = state["pos"], state["size"]
        self.generator.set_state(state["sampler"])
        for name, x in vars(self).items():
            if torch.is_tensor(x):
                x[: self.size] = state[name]

    def sample(self, batch_size):
        idx = torch.randint(self.size, (batch_size,), device=self.obs.device, generator=self.generator)
        return ReplayBufferSamples(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                                   self.terminations[idx])


def rademacher(like):
    return torch.randint(0, 2, like.shape, device=like.device).to(like.dtype) * 2 - 1


def pave_terms(qf, obs, actions, next_obs, sigma, delta, eps=None, v=None):
    """PAVE's three terms for ONE critic qf(s, a) -> (B, 1), as the authors' code computes them.

    g(s) = dQ(s, a)/da at the replay action a (not pi(s)), per sample (the samples are independent, so the gradient
    of the batch sum is the per-sample one), kept differentiable (create_graph) so that the terms train the critic.
    eps ~ N(0, sigma^2 I) and the probe v are drawn here unless given (the critic step passes both twins the same)."""
    eps = sigma * torch.randn_like(obs) if eps is None else eps
    v = rademacher(actions) if v is None else v  # one Rademacher probe per sample (Hutchinson)
    a = actions.detach().clone().requires_grad_(True)

    def action_grad(states):
        return torch.autograd.grad(qf(states, a).sum(), a, create_graph=True)[0]

    g = action_grad(obs)
    mpr = F.mse_loss(action_grad(obs + eps), g)  # Eq. 11; the mean also runs over action dims, as the authors' code
    vfc = F.mse_loss(action_grad(next_obs), g)  # Eq. 13; the same replay action a_t at s_t and s_t+1, no done mask
    hv = torch.autograd.grad((g * v).sum(), a, create_graph=True, materialize_grads=True)[0]  # H_aa v
    curv = F.relu((hv * v).sum(1) + delta).mean()  # Eq. 15: the hinge on v^T H_aa v per sample, then the mean
    return mpr, vfc, curv


def update_critic(args, data, qf1, qf2, qf1_target, qf2_target, actor, q_optimizer, alpha, regularize=True,
                  log_lambda3=None, lambda3_optimizer=None):
    """One step of the twin critics on the objective of Eq. 16: TD loss + the weighted PAVE terms. Under
    --autotune-lambda3 also one step of log_lambda3 (its optimizer's), on the hinge of this batch."""
    with torch.no_grad():
        next_state_actions, next_state_log_pi, _ = actor.get_action(data.next_observations)
        qf1_next_target = qf1_target(data.next_observations, next_state_actions)
        qf2_next_target = qf2_target(data.next_observations, next_state_actions)
        min_qf_next_target = torch.min(qf1_next_target, qf2_next_target) - alpha * next_state_log_pi
        next_q_value = data.rewards + (1.0 - data.terminations) * args.gamma * min_qf_next_target

    qf1_a_values = qf1(data.observations, data.actions)
    qf2_a_values = qf2(data.observations, data.actions)
    qf1_loss = F.mse_loss(qf1_a_values, next_q_value)
    qf2_loss = F.mse_loss(qf2_a_values, next_q_value)
    qf_loss = 0.5 * (qf1_loss + qf2_loss)  # half the sum of the twin MSEs, as the authors' code
    losses = {"qf1_loss": qf1_loss, "qf2_loss": qf2_loss, "qf1_values": qf1_a_values.mean()}
    if regularize and args.lambda1 + args.lambda2 + args.lambda3 > 0:
        eps = args.pave_sigma * torch.randn_like(data.observations)  # one eps and one probe v, shared by the twins
        v = rademacher(data.actions)
        terms = [pave_terms(qf, data.observations, data.actions, data.next_observations, args.pave_sigma,
                            args.pave_delta, eps, v) for qf in (qf1, qf2)]
        mpr, vfc, curv = (t1 + t2 for t1, t2 in zip(*terms))  # both online critics, twin terms summed
        lambda3 = args.lambda3
        if args.autotune_lambda3:  # dual ascent on Curv <= --curv-target, lambda3 its multiplier (as SAC's alpha)
            lambda3 = log_lambda3.detach().exp()
            lambda3_loss = -log_lambda3 * (curv.detach() - args.curv_target)
            lambda3_optimizer.zero_grad()
            lambda3_loss.backward()
            lambda3_optimizer.step()
            with torch.no_grad():
                log_lambda3.clamp_(math.log(LAMBDA3_MIN), math.log(LAMBDA3_MAX))
            losses["lambda3"] = lambda3
        # Eq. 16 (times k under --pave-every k, which adds the terms on every k-th update only)
        qf_loss = qf_loss + args.pave_every * (args.lambda1 * mpr + args.lambda2 * vfc + lambda3 * curv)
        losses |= {"mpr": mpr, "vfc": vfc, "curv": curv}

    q_optimizer.zero_grad()
    qf_loss.backward()
    q_optimizer.step()
    return {name: value.detach() for name, value in (losses | {"qf_loss": qf_loss}).items()}


def update_actor(args, data, actor, qf1, qf2, actor_optimizer, alpha, pi, log_pi):
    """pi, log_pi were sampled before the critic step (SB3 order), Q is read after it; PAVE leaves the actor alone."""
    actor_loss = (alpha * log_pi - torch.min(qf1(data.observations, pi), qf2(data.observations, pi))).mean()
    actor_optimizer.zero_grad()
    actor_loss.backward(inputs=list(actor.parameters()))  # no weight gradients for the critic
    actor_optimizer.step()
    return {"actor_loss": actor_loss.detach()}


@torch.no_grad()
def soft_update(target, source, tau):
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.lerp_(param, tau)


def main(args: Args):
    check_args(args)
    env = make_env(args.env_id, args.seed)
    run = run_utils.Run(args, __file__, env)  # the run folder (a new one, or the resumed run's), TensorBoard, signals
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")  # cuda: checked

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    rng = np.random.default_rng(args.seed)  # warm-up actions

    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    net_kwargs = dict(hidden_sizes=args.hidden_sizes, activation=args.activation)
    actor = Actor(obs_dim, act_dim, **net_kwargs).to(device)
    qf1 = QNetwork(obs_dim, act_dim, **net_kwargs).to(device)
    qf2 = QNetwork(obs_dim, act_dim, **net_kwargs).to(device)
    qf1_target = QNetwork(obs_dim, act_dim, **net_kwargs).to(device)
    qf2_target = QNetwork(obs_dim, act_dim, **net_kwargs).to(device)
    qf1_target.load_state_dict(qf1.state_dict())
    qf2_target.load_state_dict(qf2.state_dict())
    adam = dict(lr=args.learning_rate, eps=1e-8, fused=True)  # fused: the same update, fewer small ops
    q_optimizer = optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), **adam)
    actor_optimizer = optim.Adam(actor.parameters(), **adam)
    # Entropy coefficient: fixed at --alpha (the authors' setup), or learned (SB3's loss on log alpha)
    log_alpha = torch.tensor(math.log(args.alpha) if args.alpha > 0 else -math.inf, device=device,
                             requires_grad=args.autotune)
    target_entropy = -float(act_dim)
    nets = {"actor": actor, "qf1": qf1, "qf2": qf2, "qf1_target": qf1_target, "qf2_target": qf2_target,
            "q_optimizer": q_optimizer, "actor_optimizer": actor_optimizer, "log_alpha": log_alpha}
    if args.autotune:
        nets["a_optimizer"] = a_optimizer = optim.Adam([log_alpha], **adam)
    log_lambda3 = lambda3_optimizer = None  # Curv's weight: --lambda3 (the paper), or learned from it (saved)
    if args.autotune_lambda3:
        nets["log_lambda3"] = log_lambda3 = torch.tensor(math.log(args.lambda3), device=device, requires_grad=True)
        nets["lambda3_optimizer"] = lambda3_optimizer = optim.Adam([log_lambda3], **adam)
    rb = ReplayBuffer(args.buffer_size, obs_dim, act_dim, device, args.seed)
    method = "SAC + PAVE" if args.lambda1 + args.lambda2 + args.lambda3 > 0 else "SAC"
    print(f"{run.dir}: {args.env_id}, {method} on {device}", flush=True)

    recent_returns = deque(maxlen=10)
    episode_actions = []  # the policy's actions before exploration noise, env units: charts/action_oscillation
    latest = {}  # the latest value of each loss, logged every 100 steps
    n_updates = run.state["n_updates"] if run.state else 0  # critic updates so far (for --pave-every)
    run.track(env, nets, rb, rng, latest, extra=lambda: {"n_updates": n_updates})  # what a save writes; resumed: back
    obs, _ = run.reset_env(env)
    for global_step in range(run.step, args.total_timesteps):
        # ALGO LOGIC: put action logic here
        if global_step < args.learning_starts:
            action = rng.uniform(-1.0, 1.0, act_dim)
        else:
            with torch.no_grad():
                action, _, mean = actor.get_action(torch.as_tensor(obs, dtype=torch.float32, device=device)[None])
            action, mean = torch.cat([action, mean]).cpu().numpy()  # one host copy for both
            episode_actions.append(scale_action(mean, low, high))

        # TRY NOT TO MODIFY: execute the game and log data.
        next_obs, reward, terminated, truncated, info = env.step(scale_action(action, low, high))
        rb.add(obs, action, reward, next_obs, terminated)
        obs = next_obs
        if terminated or truncated:
            recent_returns.append(float(info["episode"]["r"]))
            run.writer.add_scalar("charts/episodic_return", info["episode"]["r"], global_step)
            run.writer.add_scalar("charts/episodic_length", info["episode"]["l"], global_step)
            if len(episode_actions) > 1:  # jitter while training: mean |a(t+1) - a(t)| over steps and dims
                run.writer.add_scalar("charts/action_oscillation", np.abs(np.diff(episode_actions, axis=0)).mean(),
                                      global_step)
            episode_actions = []
            obs, _ = run.reset_env(env)  # --resume starts an interrupted episode again

        # ALGO LOGIC: training.
        if global_step >= args.learning_starts:
            for _ in range(args.gradient_steps if (global_step + 1) % args.train_frequency == 0 else 0):
                data = rb.sample(args.batch_size)
                pi, log_pi, _ = actor.get_action(data.observations)
                alpha = log_alpha.detach().exp()
                losses = {"alpha": alpha}
                if args.autotune:
                    alpha_loss = -(log_alpha * (log_pi.detach() + target_entropy)).mean()
                    a_optimizer.zero_grad()
                    alpha_loss.backward()
                    a_optimizer.step()
                    losses["alpha_loss"] = alpha_loss.detach()
                regularize = n_updates % args.pave_every == 0
                losses |= update_critic(args, data, qf1, qf2, qf1_target, qf2_target, actor, q_optimizer, alpha,
                                        regularize, log_lambda3, lambda3_optimizer)
                n_updates += 1
                losses |= update_actor(args, data, actor, qf1, qf2, actor_optimizer, alpha, pi, log_pi)
                soft_update(qf1_target, qf1, args.tau)
                soft_update(qf2_target, qf2, args.tau)
                run.check_finite(losses, global_step)
                latest |= losses

        if run.step_done(global_step + 1, recent_returns):  # logs, checkpoints; True: a signal asks to stop
            break
    env.close()
    return run.finish()


if __name__ == "__main__":
    run_utils.cli(main, Args)
