# Evaluate checkpoints of any algorithm file in this repo: return, FFT smoothness, robustness to
# observation noise, and the critic geometry behind PAVE (Lee et al., ICML 2026, Tables 1-3 and App. A).
#   python eval_smoothness.py runs/                       # every checkpoint below runs/
#   python eval_smoothness.py runs/a runs/b --obs-noise 0.01 0.05 0.1 --critic-metrics --plot-field
import csv
import glob
import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import tyro
from torch.func import grad, jacrev, vmap

import run_utils
from run_utils import UserError

RUN_ARGS = {
    "exp_name",
    "seed",
    "torch_deterministic",
    "device",
    "track",
    "wandb_project_name",
    "wandb_entity",
    "checkpoint_interval",
    "compile",
    "cudagraphs",
    "resume",
    "snapshot_fractions",
}  # run bookkeeping: two checkpoints that differ only here are one group
BEFORE_FLAG = {"pave_every": 1}  # flags added later, at the value of the behaviour before them


@dataclass
class Args:
    paths: tyro.conf.Positional[tuple[str, ...]]
    """checkpoints (.pt), run folders, or folders of runs"""
    episodes: int = 10
    """deterministic evaluation episodes per checkpoint without noise (the authors: 10)"""
    noise_episodes: int = 20
    """episodes per checkpoint and noise level (the authors: 20)"""
    seed: int = 0
    """episode i of every checkpoint resets with seed + i, so all methods start from the same states"""
    obs_noise: tuple[float, ...] = ()
    """noise levels sigma: the policy sees clip(s + U(-sigma, sigma) * sigma_base, bounds), e.g. 0.01 0.05 0.1"""
    noise_reference: Optional[str] = None
    """checkpoint whose visited states give sigma_base (default, as the paper: the env's first base checkpoint,
    plain TD3 or SAC, among the inputs; else its first checkpoint)"""
    noise_reference_episodes: int = 20
    """episodes of the reference policy that estimate sigma_base (the paper: 20)"""
    critic_metrics: bool = False
    """also measure Q1's geometry along the clean trajectories (exact autograd)"""
    curvature_delta: float = 1.0
    """margin for the 'tr H_aa < -delta' rate of --critic-metrics"""
    plot_field: bool = False
    """plot ||H_sa||_2 over a 50x50 (state dim, action dim) grid per group (the paper's Appendix A figure)"""
    algorithm: Optional[str] = None
    """rebuild every policy with this algorithm file (a path) instead of the one each checkpoint names, which is
    imported only when it declares what an algorithm file declares; for a fork that does not"""
    action_filter: tuple[float, ...] = ()
    """also evaluate each checkpoint with its actions low-passed at each BETA in [0, 1) (an exponential moving
    average, a_t = BETA a_(t-1) + (1 - BETA) pi(s_t), from a_0 = pi(s_0)): the deployment-time baseline, as its own
    group '<group> + EMA BETA' in every table and plot"""
    sm_window: tuple[int, ...] = ()
    """also score each episode's first W steps only, for each W given (a length-matched sm: on envs whose episodes end
    when the robot falls, sm grows with the episode length, so compare groups at a W they reach); an episode shorter
    than W is not scored, and counted"""
    plots: bool = True
    """write PNG plots (action traces, amplitude spectra, return and sm against noise)"""
    caps_normalization: bool = False
    """also report sm in the CAPS normalization (Mysore et al.): sm_caps = sm * 4 / (T - 2) for even T"""
    video: bool = False
    """write an MP4 of the first episode per group, and per env with two or more groups a side-by-side one with
    each group's action trace under its frames (MuJoCo renders headless through EGL, MUJOCO_GL=egl)"""
    video_size: int = 240
    """frame width and height of MuJoCo videos (software EGL took 0.36 s a Walker2d frame at 240 here)"""
    env_module: tuple[str, ...] = ()
    """modules a checkpoint's env id may make gymnasium import ('mypkg' for 'mypkg:Env-v0'); a checkpoint whose env
    names a module you did not name here is refused: a file never chooses code"""
    out_dir: str = "eval"
    """where the CSV, JSON and PNG files go"""


def smoothness_score(actions, convention="asap"):
    """FFT smoothness of one episode's actions, shape (T, d) or (T,), lower is smoother.

    asap (default, the ASAP/PAVE papers' numbers): sm = (2 / T^2) * mean_dims sum_{k < T//2} k |FFT_k|;
    a sinusoid of amplitude A at f cycles per step scores A * f, a constant 0. The Nyquist bin is left out.
    caps (Mysore et al.): the same sum scaled by 2 / (T m (m - 1)), m = T // 2 (mean over bins of the
    one-sided amplitude times the frequency normalized to Nyquist). Both depend on T: compare equal lengths.
    """
    a = np.asarray(actions, dtype=np.float64)
    a = a[:, None] if a.ndim == 1 else a
    T, m = a.shape[0], a.shape[0] // 2
    weighted = (np.arange(m)[:, None] * np.abs(np.fft.fft(a, axis=0)[:m])).sum(0).mean()
    if convention == "asap":
        return float(2.0 * weighted / T**2)
    if convention == "caps":
        return float(2.0 * weighted / (T * m * (m - 1))) if m > 1 else 0.0
    raise ValueError(f"unknown convention {convention!r}")


def observation_noise(obs, sigma, sigma_base, low, high, rng):
    """The paper's observation noise: clip(s + U(-sigma, sigma) * sigma_base, low, high), per dimension."""
    return np.clip(obs + rng.uniform(-sigma, sigma, size=np.shape(obs)) * sigma_base, low, high)


def critic_derivatives(qf, states, actions, chunk=1024):
    """Exact per-point dQ/da (N, d_a), H_sa = d2Q/(da ds) (N, d_a, d_s) and H_aa (N, d_a, d_a) of qf."""

    def q(s, a):
        return qf(s[None], a[None])[0, 0]

    dq_da = grad(q, argnums=1)
    second = vmap(jacrev(dq_da, argnums=(0, 1)))
    out = [(vmap(dq_da)(s, a), *second(s, a)) for s, a in zip(states.split(chunk), actions.split(chunk))]
    return tuple(torch.cat(parts).detach() for parts in zip(*out))


def critic_geometry(qf, episodes, delta):
    """Q1's geometry along trajectories, each episode a (states, actions in [-1, 1]) pair of tensors.

    M_sup / M_mean: max / mean over steps of the spectral norm of H_sa; mu_inf: min |tr H_aa|; the rates of
    tr H_aa < -delta and of a negative definite (symmetrized) H_aa; and the cosine of consecutive dQ/da
    within an episode, with its flip rate (the fraction of negative cosines)."""
    norms, traces, max_eigs, cosines = [], [], [], []
    for states, actions in episodes:
        g, h_sa, h_aa = critic_derivatives(qf, states, actions)
        norms.append(torch.linalg.matrix_norm(h_sa, ord=2))
        traces.append(h_aa.diagonal(dim1=1, dim2=2).sum(1))
        max_eigs.append(torch.linalg.eigvalsh(0.5 * (h_aa + h_aa.transpose(1, 2)))[:, -1])
        cosines.append(torch.nn.functional.cosine_similarity(g[:-1], g[1:], dim=1))
    norms, traces, max_eigs, cosines = (torch.cat(x).double() for x in (norms, traces, max_eigs, cosines))
    return {
        "M_sup": norms.max().item(),
        "M_mean": norms.mean().item(),
        "mu_inf": traces.abs().min().item(),
        "trace_mean": traces.mean().item(),
        "trace_below_minus_delta_rate": (traces < -delta).double().mean().item(),
        "ndef_rate": (max_eigs < 0).double().mean().item(),
        "cos_mean": cosines.mean().item() if len(cosines) else float("nan"),
        "flip_rate": (cosines < 0).double().mean().item() if len(cosines) else float("nan"),
    }


def find_checkpoints(paths):
    if not paths:
        raise UserError("name the checkpoints to evaluate: python eval_smoothness.py RUN_FOLDER_OR_CHECKPOINT ... "
                        "(--help for the options)")
    found = []
    for path in paths:
        if os.path.isfile(path) and path.endswith(".resume.pt"):  # e.g. from runs/*/*.pt
            raise UserError(f"{path} is a resume state (for --resume), not a checkpoint: name the run's .pt or folder")
        elif os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            inside = sorted((p for p in glob.glob(os.path.join(path, "**", "*.pt"), recursive=True)
                             if not p.endswith(".resume.pt")),  # --resume's replay buffer and random states
                            key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p)])  # 40000 < 120000
            if not inside:
                raise UserError(f"no checkpoint (.pt) under {path}")
            found += inside
        else:
            raise UserError(f"no such file or folder: {path}")
    unique = list(dict.fromkeys(os.path.realpath(p) for p in found))
    if len(unique) < len(found):  # a run named twice (its folder and its checkpoint) would count as two seeds
        print(f"note: {len(found) - len(unique)} checkpoints were named more than once; each is evaluated once")
        found = [next(p for p in found if os.path.realpath(p) == u) for u in unique]
    return found


def load_policy(path, device="cpu", algorithm=None, env_modules=()):
    """Rebuild a checkpoint's actor (and critic Q1) with the algorithm file it names (run_utils.load_checkpoint
    imports it only when it is one)."""
    ckpt, module = run_utils.load_checkpoint(path, device, algorithm, env_modules)
    # a setting added to the file after the checkpoint was written: the value of the behaviour before it existed
    before = {k: v for k, v in BEFORE_FLAG.items() if hasattr(module.Args, k)}
    args = ckpt["args"] = {**vars(module.Args()), **before, **ckpt["args"]}
    obs_dim, act_dim = ckpt["observation_space"]["shape"][0], ckpt["action_space"]["shape"][0]
    try:  # a fork's or a damaged checkpoint's settings may not build this file's networks
        actor = module.Actor(obs_dim, act_dim, tuple(args["hidden_sizes"]), args["activation"]).to(device)
        qf1 = module.QNetwork(obs_dim, act_dim, tuple(args["hidden_sizes"]), args["activation"]).to(device)
        actor.load_state_dict(ckpt["actor"])
        qf1.load_state_dict(ckpt["qf1"])
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path} does not fit {ckpt['algorithm']}'s networks: {str(e).splitlines()[0]}") from None
    return ckpt, module, actor.eval().requires_grad_(False), qf1.eval()


def make_eval_env(ckpt, module, path):
    try:
        env = module.make_env(ckpt["env_id"], 0)
    except module.UserError as e:
        raise UserError(f"{path}: {e}") from None
    for name, space in (("observation_space", env.observation_space), ("action_space", env.action_space)):
        saved = ckpt[name]
        if (
            list(space.shape) != saved["shape"]
            or not np.allclose(space.low, saved["low"])
            or not np.allclose(space.high, saved["high"])
        ):
            raise UserError(f"{path} was trained on another {name} than {ckpt['env_id']} has now")
    return env


def to_env_units(action, space):
    """[-1, 1] -> the env's action box, as the algorithm files act."""
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    return low + 0.5 * (action + 1.0) * (high - low)


def rollout(env, actor, seed, noise=None, beta=0.0):
    """One deterministic episode. noise = (sigma, sigma_base, rng) corrupts what the policy sees, not the env.
    beta > 0 low-passes the actions as practitioners do at deployment: a_t = beta a_(t-1) + (1 - beta) pi(s_t), from
    a_0 = pi(s_0). An env made with render_mode="rgb_array" also gives the episode's frames (--video)."""
    obs, _ = env.reset(seed=seed)
    states, actions, rewards, done = [], [], [], False
    frames = [env.render()] if env.render_mode == "rgb_array" else []
    while not done:
        seen = (
            obs
            if noise is None
            else observation_noise(obs, noise[0], noise[1], env.observation_space.low, env.observation_space.high, noise[2])
        )
        with torch.no_grad():
            action = actor(torch.as_tensor(seen, dtype=torch.float32)[None])[0].numpy().astype(np.float64)
        if beta and actions:
            action = ema(actions[-1], action, beta)
        states.append(np.asarray(obs, dtype=np.float64))
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(to_env_units(action, env.action_space))
        rewards.append(float(reward))
        done = terminated or truncated  # terminated: the env ended it (a fall); truncated: the time limit
        if frames:
            frames.append(env.render())
    actions = np.array(actions)
    return {
        "states": np.array(states),
        "actions": actions,
        "env_actions": to_env_units(actions, env.action_space),
        "return": float(np.sum(rewards)),
        "length": len(rewards),
        "terminated": bool(terminated),
        "frames": np.array(frames),
    }


def ema(previous, action, beta):
    """The action filter's step: beta * previous + (1 - beta) * action."""
    return beta * previous + (1.0 - beta) * action


def window_mean(scores):
    """(mean over the scored episodes, how many were not scored)."""
    scored = [x for x in scores if x is not None]
    return (float(np.mean(scored)) if scored else float("nan")), len(scores) - len(scored)


def window_score(actions, window):
    """sm of the first `window` steps; None for an episode shorter than that (not scored: a short episode cannot
    lower a group's length-matched sm)."""
    return smoothness_score(actions[:window]) if len(actions) >= window else None


def mean_std(values):
    values = np.asarray(values, dtype=np.float64)
    return (
        {"mean": float(values.mean()), "std": float(values.std())}
        if len(values)
        else {"mean": float("nan"), "std": float("nan")}
    )


def group_labels(ckpts):
    """'algorithm' where one setting of it is given, else 'algorithm (the settings that differ)'; a group whose runs
    share an --exp-name that no other group uses (as a study names its methods) is labelled by it. A snapshot taken
    during training (or an interrupted run) is its own group: its run's label and its step."""
    settings = {path: {k: v for k, v in c["args"].items() if k not in RUN_ARGS} for path, c in ckpts.items()}
    labels = {}
    for path, c in ckpts.items():
        algo = os.path.splitext(c["algorithm"])[0]
        siblings = [settings[p] for p, other in ckpts.items() if other["algorithm"] == c["algorithm"]]
        differ = sorted(k for k in settings[path] if any(s.get(k) != settings[path][k] for s in siblings))
        labels[path] = algo + (f" ({', '.join(f'{k}={settings[path][k]}' for k in differ)})" if differ else "")
    names = {label: {ckpts[p]["args"]["exp_name"] for p in labels if labels[p] == label} for label in labels.values()}
    for path, label in labels.items():
        name = ckpts[path]["args"]["exp_name"]
        if names[label] == {name} and sum(name in other for other in names.values()) == 1:
            labels[path] = name
    for path, c in ckpts.items():
        if c["global_step"] < c["args"]["total_timesteps"]:
            label, step = labels[path], f"step={c['global_step']}"
            labels[path] = f"{label[:-1]}, {step})" if label.endswith(")") else f"{label} ({step})"
    return labels


def sigma_base_for(env, actor, args):
    states = np.concatenate(
        [rollout(env, actor, args.seed + 10_000 + i)["states"] for i in range(args.noise_reference_episodes)]
    )
    return np.maximum(states.std(0), 1e-6)


def check_args(args: Args):
    """The flags, by the checks every command shares (run_utils)."""
    run_utils.check_seed("--seed", args.seed)
    for flag in ("episodes", "noise_episodes", "noise_reference_episodes", "video_size"):
        run_utils.check_number(f"--{flag.replace('_', '-')}", getattr(args, flag), positive=True, integer=True)
    run_utils.check_number("--curvature-delta", args.curvature_delta)
    for level in args.obs_noise:
        run_utils.check_number("--obs-noise", level)
    for flag in ("obs_noise", "action_filter", "sm_window"):  # a level twice would be two groups of one name
        run_utils.check_distinct(f"--{flag.replace('_', '-')}", getattr(args, flag))
    for beta in args.action_filter:
        run_utils.check_number("--action-filter", beta, below=1)
    for window in args.sm_window:
        run_utils.check_number("--sm-window", window, positive=True, integer=True)
    if os.path.isfile(args.out_dir):
        raise UserError(f"--out-dir {args.out_dir} is a file; name a folder")


def evaluate(args: Args, sigma_base=None):
    """Every checkpoint's rows. sigma_base ({env id: array}) is used as given for its envs (a study whose reference
    checkpoint stayed on another machine passes the one its record kept); else it is measured (--noise-reference)."""
    check_args(args)
    paths = find_checkpoints(args.paths)
    try:  # found now, not after the whole evaluation; folders made for the test are removed again (an error later
        new = []  # must not leave an empty --out-dir behind)
        folder = os.path.abspath(args.out_dir)
        while not os.path.exists(folder):
            new.append(folder)
            folder = os.path.dirname(folder)
        os.makedirs(args.out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=args.out_dir, prefix=".write_test")  # a new file: never a link's target
        os.close(fd)
        os.remove(probe)
        plots = ("actions_and_spectra.png", "noise.png", "training_steps.png", "filter_tradeoff.png",
                 "q_gradient_field.png")  # fmt: skip
        for name in ("eval.csv", "eval.json", *plots):  # the outputs' names, checked before the evaluation, not after
            run_utils.check_not_run_file(os.path.join(args.out_dir, name), "--out-dir")
        for folder in new:
            os.rmdir(folder)
    except OSError as e:
        raise UserError(f"cannot write to --out-dir {args.out_dir}: {e.strerror}") from None
    loaded = {path: load_policy(path, algorithm=args.algorithm, env_modules=args.env_module) for path in paths}
    if args.plot_field and len({ckpt["env_id"] for ckpt, *_ in loaded.values()}) > 1:
        raise UserError("--plot-field compares critics of one env: name checkpoints of a single env")
    envs = {path: make_eval_env(ckpt, module, path) for path, (ckpt, module, _, _) in loaded.items()}
    labels = group_labels({path: c for path, (c, _, _, _) in loaded.items()})
    levels = [0.0] + [s for s in args.obs_noise if s > 0]

    sigma_base = dict(sigma_base or {})  # per env id, from the reference checkpoint's visited states where not given
    for path, env in envs.items():  # one given (a study's record kept it) must fit the env: a scale per dimension
        given = sigma_base.get(loaded[path][0]["env_id"])
        if given is not None:
            given = np.asarray(given, dtype=np.float64)
            if given.shape != env.observation_space.shape or not (np.isfinite(given).all() and (given >= 0).all()):
                raise UserError(f"the sigma_base given for {loaded[path][0]['env_id']} ({given.tolist()}) is not one "
                                f"finite scale >= 0 per observation dimension ({env.observation_space.shape[0]}): a "
                                "damaged reference record? remove it, and its run evaluates again")
    if len(levels) > 1:
        reference = [args.noise_reference] if args.noise_reference else []
        bases = [path for path in paths if run_utils.is_base(*loaded[path][:2])]
        for path in reference + bases + paths:
            ckpt, module, actor, _ = loaded.get(path) or load_policy(
                path, algorithm=args.algorithm, env_modules=args.env_module
            )
            if ckpt["env_id"] not in sigma_base:
                sigma_base[ckpt["env_id"]] = sigma_base_for(envs.get(path) or make_eval_env(ckpt, module, path), actor, args)
                print(f"{ckpt['env_id']}: sigma_base from {path}", flush=True)

    results = []
    for path, beta in ((path, beta) for path in paths for beta in (0.0, *(b for b in args.action_filter if b > 0))):
        ckpt, _, actor, qf1 = loaded[path]
        env, row = envs[path], {
            "path": path,
            "group": labels[path] + (f" + EMA {beta:g}" if beta else ""),
            "unfiltered_group": labels[path],
            "algorithm": ckpt["algorithm"],
            "env_id": ckpt["env_id"],
            "seed": ckpt["args"]["seed"],
            "global_step": ckpt["global_step"],
            "final": ckpt["global_step"] >= ckpt["args"]["total_timesteps"],  # trained to its budget: not a snapshot
            "action_filter": beta,
        }
        row["levels"] = {}
        for j, sigma in enumerate(levels):
            episodes = []
            for i in range(args.episodes if sigma == 0 else args.noise_episodes):
                noise = None if sigma == 0 else (sigma, sigma_base[ckpt["env_id"]], np.random.default_rng([args.seed, j, i]))
                episodes.append(rollout(env, actor, args.seed + i, noise, beta))
            row["levels"][sigma] = {
                "returns": [e["return"] for e in episodes],
                "sm": [smoothness_score(e["env_actions"]) for e in episodes],
                "sm_caps": [smoothness_score(e["env_actions"], "caps") for e in episodes],
                "lengths": [e["length"] for e in episodes],
                "terminated": [e["terminated"] for e in episodes],
                "sm_window": {w: [window_score(e["env_actions"], w) for e in episodes] for w in args.sm_window},
            }
            if sigma == 0:
                row["episodes"] = episodes
        if args.critic_metrics and not beta:  # the critic along the policy's own actions (a filter is not the policy)
            clean = [
                (torch.as_tensor(e["states"], dtype=torch.float32), torch.as_tensor(e["actions"], dtype=torch.float32))
                for e in row["episodes"]
            ]
            row["critic"] = critic_geometry(qf1, clean, args.curvature_delta)
        clean = row["levels"][0.0]
        print(f"{row['group']} {path}: return {np.mean(clean['returns']):.1f}, sm {np.mean(clean['sm']):.3f}", flush=True)
        results.append(row)
    return results, levels, sigma_base


def by_group(results):
    """{group: its rows}, the final policies' groups first (runs trained to their budget), then the step snapshots'
    (and stopped runs'), each kind in the order given."""
    groups = {}
    for row in sorted(results, key=lambda row: not row["final"]):  # a stable sort: True (final) first
        groups.setdefault(row["group"], []).append(row)
    return groups


def summarize(results, levels, args):
    """Per group and noise level: mean (std) pooled over all episodes, and across checkpoints (seeds)."""
    summary = {}
    for label, rows in by_group(results).items():
        summary[label] = {"env_id": rows[0]["env_id"], "final": rows[0]["final"],
                          "checkpoints": [row["path"] for row in rows], "levels": {}}  # fmt: skip
        for sigma in levels:
            entry = {}
            for key in ("returns", "sm", "lengths") + (("sm_caps",) if args.caps_normalization else ()):
                per_ckpt = [row["levels"][sigma][key] for row in rows]
                entry[key] = {
                    "pooled": mean_std(np.concatenate(per_ckpt)),
                    "across_seeds": mean_std([np.mean(v) for v in per_ckpt]),
                }
            entry["fell"] = float(np.mean([t for row in rows for t in row["levels"][sigma]["terminated"]]))
            for w in args.sm_window:  # over the episodes that reach w steps; the others are counted
                per_ckpt = [[x for x in row["levels"][sigma]["sm_window"][w] if x is not None] for row in rows]
                entry[f"sm_window_{w}"] = {
                    "pooled": mean_std(np.concatenate(per_ckpt)),
                    "across_seeds": mean_std([np.mean(v) for v in per_ckpt if v]),
                    "not_scored": sum(x is None for row in rows for x in row["levels"][sigma]["sm_window"][w]),
                }
            summary[label]["levels"][str(sigma)] = entry
        if args.critic_metrics and "critic" in rows[0]:
            summary[label]["critic"] = {k: mean_std([row["critic"][k] for row in rows]) for k in rows[0]["critic"]}
    return summary


LENGTH_MARGIN = 0.1  # groups of one env whose mean episode lengths differ by more: their sm is not like for like


def length_mismatch(summary, sigma):
    """Per env, whether its groups' mean episode lengths at noise level sigma differ by more than LENGTH_MARGIN of
    the longest (sm grows with the length: a policy that falls early scores low for the wrong reason)."""
    lengths = {}
    for group in summary.values():
        lengths.setdefault(group["env_id"], []).append(group["levels"][str(sigma)]["lengths"]["pooled"]["mean"])
    return {env: max(v) - min(v) > LENGTH_MARGIN * max(v) for env, v in lengths.items()}


def print_table(summary, levels, windows=()):
    width = max(len("group"), *map(len, summary))  # full labels: groups may differ only in their last setting
    extra = "".join(f" {f'sm@{w} (pooled)':>24}" for w in windows)
    print(f"\n{'group':<{width}} {'sigma':>6} {'re (pooled)':>20} {'sm (pooled)':>18} {'re (seeds)':>20} {'sm (seeds)':>18}"
          f" {'length (fell)':>18}{extra}")  # fmt: skip
    apart = any(group["final"] for group in summary.values())  # the final policies come first (by_group)
    for label, group in summary.items():
        if apart and not group["final"]:  # once, between the final policies and the snapshots
            print("---- step snapshots: the same runs' policies saved while they trained ----")
            apart = False
        for sigma in levels:
            e = group["levels"][str(sigma)]
            cells = [  # sm to 3 significant digits: it is ~0.04 on Reacher, ~3 on Pendulum
                f"{e[k][w]['mean']:{f}} ({e[k][w]['std']:{f}})"
                for w in ("pooled", "across_seeds") for k, f in (("returns", ".2f"), ("sm", ".3g"))
            ]
            length = f"{e['lengths']['pooled']['mean']:.0f} ({100 * e['fell']:.0f}%)"
            scored = ""
            for x in (e[f"sm_window_{w}"] for w in windows):
                cell = f"{x['pooled']['mean']:.3g} ({x['pooled']['std']:.3g}) [{x['not_scored']} short]"
                scored += f" {cell:>24}"
            print(f"{label:<{width}} {sigma:>6g} {cells[0]:>20} {cells[1]:>18} {cells[2]:>20} {cells[3]:>18} "
                  f"{length:>18}{scored}")  # fmt: skip
    print("re: return, higher is better; sm: FFT smoothness (ASAP/PAVE convention), lower is smoother; mean (std); "
          "length: mean episode length (the share that ended by termination, a fall)"
          + ("; sm@W: sm of each episode's first W steps, over the episodes that reach W ([n short]: not scored)"
             if windows else ""))  # fmt: skip
    for sigma in levels:
        for env, differ in length_mismatch(summary, sigma).items():
            if differ:
                print(f"note: {env} at sigma {sigma:g}: the groups' mean episode lengths differ by more than "
                      f"{LENGTH_MARGIN:.0%}, so their sm is not like for like" + ("; compare sm@W" if windows else
                      "; compare at a common length with --sm-window W"))  # fmt: skip
    for label, group in summary.items():
        if "critic" in group:
            print(f"critic geometry, {label}: " + ", ".join(f"{k} {v['mean']:.4g}" for k, v in group["critic"].items()))


def answer_lines(summary):
    """The answer, a line per final group (runs trained to their budget), each env's smoothest first: its sm and
    return without observation noise (means over its seeds), and which of the env's other final groups it is smoother
    than, as smooth as or less smooth than."""
    final = {label: group for label, group in summary.items() if group["final"]}
    envs = sorted({group["env_id"] for group in final.values()})
    lines = []
    for env in envs:
        groups = {label: group for label, group in final.items() if group["env_id"] == env}
        said, sm = {}, {}
        for label, group in groups.items():
            clean, seeds = group["levels"]["0.0"], len(group["checkpoints"])
            sm[label] = clean["sm"]["across_seeds"]["mean"]
            said[label] = (f"sm {sm[label]:.3g}, return {clean['returns']['across_seeds']['mean']:.1f}"
                           + (f", over {seeds} seeds" if seeds > 1 else ""))  # fmt: skip
        for label in sorted(groups, key=sm.get):
            line = (f"{env}, " if len(envs) > 1 else "") + f"{label}: {said[label]}"
            for word, than in (("smoother than", lambda other: sm[label] < sm[other]),
                               ("as smooth as", lambda other: sm[label] == sm[other]),
                               ("less smooth than", lambda other: sm[label] > sm[other])):  # fmt: skip
                others = [f"{other} ({said[other]})" for other in groups if other != label and than(other)]
                line += f"; {word} {' and '.join(others)}" if others else ""
            if length_mismatch(groups, 0.0)[env]:
                line += "; their episode lengths differ, so sm is not like for like"
            lines.append(line)
    return lines


def save_figure(fig, path):
    with run_utils.writing(path, binary=True) as f:
        fig.savefig(f, format="png", dpi=100)


def write_outputs(results, summary, levels, sigma_base, args):
    os.makedirs(args.out_dir, exist_ok=True)
    critic_keys = list(results[0].get("critic", {}))
    with run_utils.writing(os.path.join(args.out_dir, "eval.csv"), newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "path",
                "group",
                "algorithm",
                "env_id",
                "seed",
                "global_step",
                "action_filter",
                "obs_noise",
                "episodes",
                "return_mean",
                "return_std",
                "sm_mean",
                "sm_std",
                "sm_caps_mean",
                "length_mean",
                "fell",
            ]
            + [f"sm_window_{w}_{k}" for w in args.sm_window for k in ("mean", "not_scored")]
            + critic_keys
        )
        for row in results:
            for sigma in levels:
                level = row["levels"][sigma]
                critic = [row["critic"][k] for k in critic_keys] if sigma == 0 and "critic" in row else [""] * len(critic_keys)
                writer.writerow(
                    [
                        row["path"],
                        row["group"],
                        row["algorithm"],
                        row["env_id"],
                        row["seed"],
                        row["global_step"],
                        row["action_filter"],
                        sigma,
                        len(level["returns"]),
                        np.mean(level["returns"]),
                        np.std(level["returns"]),
                        np.mean(level["sm"]),
                        np.std(level["sm"]),
                        np.mean(level["sm_caps"]),
                        np.mean(level["lengths"]),
                        np.mean(level["terminated"]),
                    ]
                    + [x for w in args.sm_window for x in window_mean(level["sm_window"][w])]
                    + critic
                )
    report = {
        "settings": {k: v for k, v in vars(args).items()},
        "sm_convention": "asap: (2/T^2) mean_dims sum_k k|FFT_k|",
        "sigma_base": {env: base.tolist() for env, base in sigma_base.items()},
        "groups": summary,
        "checkpoints": [
            {k: v for k, v in row.items() if k != "episodes"} | {"levels": {str(s): v for s, v in row["levels"].items()}}
            for row in results
        ],
    }
    with run_utils.writing(os.path.join(args.out_dir, "eval.json")) as f:
        json.dump(report, f, indent=1)


def plot(results, summary, levels, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = actions_and_spectra(results, plt)
    save_figure(fig, os.path.join(args.out_dir, "actions_and_spectra.png"))
    plt.close(fig)
    def return_and_sm(xlabel, name, curves):
        """Return (left) and sm (right) against x, one curve per (label, x, return stats, sm stats)."""
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax in axes if len(curves) > 10 else ():  # the default cycle repeats after 10 colours
            ax.set_prop_cycle(color=plt.get_cmap("tab20")(np.arange(len(curves)) % 20))
        for label, x, *stats in curves:
            for ax, (mean, std) in zip(axes, stats):
                ax.errorbar(x, mean, std, marker="o", capsize=3, label=label)
        axes[0].set(xlabel=xlabel, ylabel="return")
        axes[1].set(xlabel=xlabel, ylabel="sm (lower is smoother)")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        save_figure(fig, os.path.join(args.out_dir, name))
        plt.close(fig)

    if len(levels) > 1:
        curves = []
        for label, group in summary.items():
            stats = [[group["levels"][str(s)][key]["across_seeds"] for s in levels] for key in ("returns", "sm")]
            curves.append((label, levels, *[([s["mean"] for s in st], [s["std"] for s in st]) for st in stats]))
        return_and_sm("observation noise sigma (a fraction of sigma_base)", "noise.png", curves)
    plot_training_steps(results, args, plt)
    if args.action_filter:
        plot_filter_tradeoff(results, summary, levels, args, plt)


CHATTER = (0.45, 0.5)  # cycles per step: at 0.5 the action alternates every step, the jitter motors do not forgive


def actions_and_spectra(results, plt):
    """Per group its first episode's actions and its mean amplitude spectrum, a row each: the final policies first, in
    a panel of their own, then the step snapshots in a grey one; on every spectrum a band marks chatter."""
    groups = by_group(results)
    panels = [(title, [(label, rows) for label, rows in groups.items() if rows[0]["final"] == final])
              for title, final in (("final policies (each run trained to its budget)", True),
                                   ("step snapshots: the same runs while they trained", False))]  # fmt: skip
    panels = [(title, part) for title, part in panels if part]
    fig = plt.figure(figsize=(12, 3 * len(groups) + 0.5 * len(panels)), layout="constrained")
    for (title, part), sub in zip(panels, fig.subfigures(len(panels), 1, height_ratios=[len(p) for _, p in panels],
                                                          squeeze=False)[:, 0]):  # fmt: skip
        sub.suptitle(title, fontweight="bold")
        if part is not panels[0][1]:
            sub.set_facecolor("0.93")
        for (label, rows), (ax_trace, ax_spec) in zip(part, sub.subplots(len(part), 2, squeeze=False)):
            ax_trace.plot(rows[0]["episodes"][0]["env_actions"], lw=0.8)
            ax_trace.set(xlabel="step", ylabel="action (env units)")
            ax_trace.set_title(f"{label}\nactions, first episode", fontsize=9)
            length = min(len(e["env_actions"]) for row in rows for e in row["episodes"])
            spectra = [np.abs(np.fft.rfft(e["env_actions"][:length], axis=0)).mean(1) for row in rows for e in row["episodes"]]
            ax_spec.semilogy(np.fft.rfftfreq(length), np.mean(spectra, 0) + 1e-12)
            ax_spec.axvspan(*CHATTER, color="tab:red", alpha=0.15,
                            label="chatter (0.5 cycles/step): the action alternates every step")
            ax_spec.set(xlabel="frequency (cycles / step)", ylabel="|FFT|")
            ax_spec.set_title(f"{label}\nmean amplitude spectrum over episodes and action dims", fontsize=9)
            ax_spec.legend(loc="upper center", fontsize=7)
    return fig


def plot_training_steps(results, args, plt):
    """Return, sm, sm@W (the first --sm-window; falling early cannot lower it) and episode length against the
    training step (a run's snapshots, --snapshot-fractions, and its final checkpoint): one colour per method (the
    group of the run's last checkpoint), each seed a thin line, the mean over the seeds a thick one where they share
    their steps."""
    runs = {}
    for row in results:
        if not row["action_filter"]:
            runs.setdefault(os.path.dirname(row["path"]), []).append(row)
    methods = {}
    for rows in (sorted(rows, key=lambda r: r["global_step"]) for rows in runs.values() if len(rows) > 1):
        methods.setdefault(rows[-1]["group"], []).append(rows)
    if not methods:
        return
    window = args.sm_window[0] if args.sm_window else None

    def value(level, key):  # a checkpoint's mean over its clean episodes (sm@W: over those that reach W steps)
        if key != "sm@W":
            return np.mean(level[key])
        scored = [x for x in level["sm_window"][window] if x is not None]
        return np.mean(scored) if scored else np.nan

    panels = {"returns": "return", "sm": "sm (lower is smoother)"}
    panels |= {"sm@W": f"sm@{window}: the first {window} steps"} if window else {}
    panels |= {"lengths": "episode length"}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), sharex=True)
    for color, (method, seeds) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 9, methods.items()):
        for ax, key in zip(axes, panels):
            curves = [([r["global_step"] for r in rows], [value(r["levels"][0.0], key) for r in rows]) for rows in seeds]
            for steps, values in curves:
                ax.plot(steps, values, color=color, lw=0.8, alpha=0.5)
            if len(curves) > 1 and all(steps == curves[0][0] for steps, _ in curves):
                ax.plot(curves[0][0], np.mean([v for _, v in curves], 0), color=color, lw=2.2, marker="o", ms=3,
                        label=f"{method} ({len(curves)} seed{'s' * (len(curves) > 1)})")  # fmt: skip
            elif ax is axes[0]:
                ax.plot([], [], color=color, label=f"{method} ({len(curves)} seed{'s' * (len(curves) > 1)})")
    for ax, label in zip(axes, panels.values()):
        ax.set(xlabel="training step", ylabel=label)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, os.path.join(args.out_dir, "training_steps.png"))
    plt.close(fig)


def plot_filter_tradeoff(results, summary, levels, args, plt):
    """Return against sm, on clean episodes and at the largest observation noise (one row each): each group a point
    with its spread over seeds (std), a group's filtered versions a curve from the unfiltered point through each BETA
    (--action-filter)."""
    filtered = {}
    for row in results:
        filtered.setdefault(row["unfiltered_group"], {})[row["action_filter"]] = row["group"]
    envs = sorted({group["env_id"] for group in summary.values()})
    rows = sorted({0.0, max(levels)})
    fig, axes = plt.subplots(len(rows), len(envs), figsize=(7 * len(envs), 5 * len(rows)), squeeze=False)
    for (plain, by_beta), level in [(item, level) for level in rows for item in filtered.items()]:
        ax = axes[rows.index(level)][envs.index(summary[plain]["env_id"])]
        betas = sorted(by_beta)
        points = [summary[by_beta[b]]["levels"][str(level)] for b in betas]
        (sm, sm_std), (re, re_std) = ([[p[key]["across_seeds"][k] for p in points] for k in ("mean", "std")]
                                      for key in ("sm", "returns"))  # fmt: skip
        ax.errorbar(sm, re, re_std, sm_std, marker="o", capsize=3, linestyle="-" if len(betas) > 1 else "none",
                    label=plain + (f" + EMA {', '.join(f'{b:g}' for b in betas[1:])}" if len(betas) > 1 else ""))
        for b, x, y in zip(betas[1:], sm[1:], re[1:]):
            ax.annotate(f"{b:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    for (level, env), ax in zip([(level, env) for level in rows for env in envs], axes.flat):
        noise = f"observation noise {level:g}" if level else "no observation noise"
        ax.set(xlabel="sm (lower is smoother)", ylabel="return", title=f"{env}, {noise}: return against sm")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, os.path.join(args.out_dir, "filter_tradeoff.png"))
    plt.close(fig)


def plot_field(results, args):
    """Appendix A: ||H_sa||_2 of Q1 over (state dim, action dim) around a shared reference state s*.
    The pair is the largest |d2Q/(ds_i da_j)| of the first checkpoint at (s*, pi(s*)); s* is where its
    policy is after 20 steps. The state axis spans s*_i +- 1 raw unit; the action axis spans [-1, 1], the
    range the critics were trained on (the authors' +-1.5 around pi(s*) leaves it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first_per_group = {label: rows[0] for label, rows in by_group(results).items()}
    first = results[0]
    ckpt, module, actor, qf1 = load_policy(first["path"], algorithm=args.algorithm, env_modules=args.env_module)
    env = make_eval_env(ckpt, module, first["path"])
    obs, _ = env.reset(seed=args.seed)
    for _ in range(20):
        with torch.no_grad():
            action = actor(torch.as_tensor(obs, dtype=torch.float32)[None])[0].numpy()
        obs, _, terminated, truncated, _ = env.step(to_env_units(action, env.action_space))
        if terminated or truncated:
            obs, _ = env.reset(seed=args.seed)
    s_star = torch.as_tensor(obs, dtype=torch.float32)
    _, h_sa, _ = critic_derivatives(qf1, s_star[None], actor(s_star[None]))
    a_idx, s_idx = np.unravel_index(h_sa[0].abs().argmax().item(), tuple(h_sa[0].shape))
    state_axis = s_star[s_idx].item() + np.linspace(-1.0, 1.0, 50)
    action_axis = np.linspace(-1.0, 1.0, 50)
    grids = {}
    for label, row in first_per_group.items():
        _, _, actor_g, qf_g = load_policy(row["path"], algorithm=args.algorithm, env_modules=args.env_module)
        a_star = actor_g(s_star[None])[0]
        S, A = np.meshgrid(state_axis, action_axis, indexing="ij")
        states = s_star.repeat(S.size, 1)
        states[:, s_idx] = torch.as_tensor(S.ravel(), dtype=torch.float32)
        actions = a_star.repeat(S.size, 1)
        actions[:, a_idx] = torch.as_tensor(A.ravel(), dtype=torch.float32)
        _, h_sa, _ = critic_derivatives(qf_g, states, actions)
        grids[label] = torch.linalg.matrix_norm(h_sa, ord=2).reshape(S.shape).numpy()
    vmax = float(np.percentile(grids[first["group"]], 99))
    fig = plt.figure(figsize=(6 * len(grids), 5))
    for k, (label, z) in enumerate(grids.items()):
        ax = fig.add_subplot(1, len(grids), k + 1, projection="3d")
        ax.plot_surface(
            *np.meshgrid(state_axis, action_axis, indexing="ij"), np.clip(z, 0, vmax), cmap="magma", vmin=0, vmax=vmax
        )
        ax.set(title=label, xlabel=f"state dim {s_idx}", ylabel=f"action dim {a_idx}", zlabel="||H_sa||_2", zlim=(0, vmax))
        ax.view_init(elev=45, azim=225)
    fig.tight_layout()
    save_figure(fig, os.path.join(args.out_dir, "q_gradient_field.png"))
    plt.close(fig)
    return {
        "state_dim": int(s_idx),
        "action_dim": int(a_idx),
        "vmax": vmax,
        "mean_norm": {label: float(z.mean()) for label, z in grids.items()},
    }


def render_episode(path, seed, size, beta=0.0, algorithm=None, env_modules=()):
    """Frames and env-unit actions of evaluation episode 0 of `path` (with its group's action filter), replayed in an
    env that renders."""
    import gymnasium as gym

    ckpt, _, actor, _ = load_policy(path, algorithm=algorithm, env_modules=env_modules)
    kwargs = {"continuous": True} if ckpt["env_id"].startswith("LunarLander") else {}  # as the algorithm files
    if "mujoco" in str(gym.spec(ckpt["env_id"]).entry_point):
        kwargs |= {"width": size, "height": size}  # a modest size: software rendering is slow
    env = gym.make(ckpt["env_id"], render_mode="rgb_array", **kwargs)
    episode = rollout(env, actor, seed, beta=beta)
    env.close()
    return episode["frames"], episode["env_actions"]


def trace_strip(actions, width, label):
    """The episode's action trace as an image strip (width x 90 pixels) under a group's frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width / 100, 0.9), dpi=100)
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.78))
    ax.plot(actions, lw=0.7)
    ax.set_xlim(0, len(actions))
    ax.axis("off")
    fig.text(0.01, 0.82, label[:60], fontsize=6)
    fig.canvas.draw()
    strip = np.asarray(fig.canvas.buffer_rgba())[..., :3][:, :width]
    plt.close(fig)
    return np.pad(strip, ((0, 0), (0, width - strip.shape[1]), (0, 0)), constant_values=255)


def write_videos(results, args):
    """--video: per group its first episode; per env with two or more groups, all side by side over their traces."""
    import imageio.v2 as imageio

    os.environ.setdefault("MUJOCO_GL", "egl")  # headless MuJoCo; read when the first renderer is made
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame (classic control) without a screen
    folder = os.path.join(args.out_dir, "videos")
    os.makedirs(folder, exist_ok=True)
    first = {label: rows[0] for label, rows in by_group(results).items()}  # one checkpoint per group, the first one
    rendered = {}
    for label, row in first.items():
        try:
            frames, actions = render_episode(
                row["path"], args.seed, args.video_size, row["action_filter"], args.algorithm, args.env_module
            )
        except Exception as e:  # no EGL, no display, no pygame: the evaluation itself is done
            print(f"video: cannot render {row['env_id']} here: {str(e).strip().splitlines()[0][:200]}", flush=True)
            return
        name = re.sub(r"[^\w.-]+", "_", label).strip("_")  # "td3_pave (step=0)" -> td3_pave_step_0
        path = os.path.join(folder, f"{name}.mp4")
        imageio.mimwrite(path, list(frames), fps=30, macro_block_size=1)
        rendered.setdefault(row["env_id"], []).append((label, frames, actions))
        print(f"video: {path} ({len(frames)} frames)", flush=True)
    for env_id, groups in rendered.items():
        if len(groups) < 2:
            continue
        length, height = max(len(f) for _, f, _ in groups), max(f.shape[1] for _, f, _ in groups)
        columns = []
        for label, frames, actions in groups:
            frames = np.concatenate([frames, np.repeat(frames[-1:], length - len(frames), 0)])  # ended early: hold
            frames = np.pad(frames, ((0, 0), (0, height - frames.shape[1]), (0, 0), (0, 0)))
            strip = trace_strip(actions, frames.shape[2], label)
            column = np.concatenate([frames, np.repeat(strip[None], length, 0)], axis=1)
            cursor = np.arange(length) * (frames.shape[2] - 1) // max(length - 1, 1)
            column[np.arange(length), height:, cursor] = (255, 0, 0)  # where the episode is, on the trace
            columns.append(column)
        path = os.path.join(folder, f"{env_id}_side_by_side.mp4")
        imageio.mimwrite(path, list(np.concatenate(columns, axis=2)), fps=30, macro_block_size=1)
        print(f"video: {path} ({len(groups)} groups side by side)", flush=True)


def main(args: Args):
    results, levels, sigma_base = evaluate(args)
    summary = summarize(results, levels, args)
    write_outputs(results, summary, levels, sigma_base, args)  # written before printed: kept whatever stdout is
    print_table(summary, levels, args.sm_window)
    if args.plots:
        plot(results, summary, levels, args)
    if args.plot_field:
        field = plot_field(results, args)
        print(
            f"Q-gradient field: state dim {field['state_dim']}, action dim {field['action_dim']}; mean ||H_sa||_2 "
            + ", ".join(f"{k} {v:.3g}" for k, v in field["mean_norm"].items())
        )
    if args.video:
        write_videos(results, args)
    print(f"wrote {args.out_dir}/eval.csv, eval.json" + (" and plots" if args.plots or args.plot_field else ""))
    lines = answer_lines(summary)
    if lines:  # the answer last: the final policies, without observation noise
        print("\nfinal policies, no observation noise (sm: lower is smoother; return: higher is better):")
        print("\n".join(lines))
    return summary


if __name__ == "__main__":
    run_utils.cli(main, Args)
