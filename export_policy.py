# Export a trained policy for deployment: one file that maps a batch of observations in env units to actions in env
# units (the tanh and the action scaling inside), with no need for this repo, its algorithm files or a replay buffer.
#   python export_policy.py runs/<run>/td3_pave.pt                          # ONNX, beside the checkpoint
#   python export_policy.py runs/<run>/sac_pave.pt --format torchscript --out policy.ts
# TD3 family: the deterministic actor; SAC family: tanh(mu), the deterministic action that eval_smoothness.py scores.
# The file verifies itself after writing: on 1000 observations (the states of an evaluation episode and points of the
# observation box) its actions must equal the actor's to 1e-5 in env units, or it is deleted and the export fails.
import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
import torch
import torch.nn as nn
import tyro

import eval_smoothness
import run_utils
from run_utils import UserError

TOLERANCE = 1e-5  # env units, the largest difference allowed between the exported file and the actor
CHECK_OBSERVATIONS = 1000


@dataclass
class Args:
    checkpoint: tyro.conf.Positional[str]
    """a checkpoint (.pt) of any algorithm file"""
    format: Literal["onnx", "torchscript"] = "onnx"
    """onnx (onnxruntime: C++, Python, microcontroller-class CPUs) or torchscript (libtorch)"""
    out: Optional[str] = None
    """the file to write (None: the checkpoint's path with .onnx or .ts)"""
    seed: int = 0
    """seeds the evaluation episode and the box samples of the self-check"""
    env_module: tuple[str, ...] = ()
    """modules the checkpoint's env id may make gymnasium import ('mypkg' for 'mypkg:Env-v0'); a checkpoint whose env
    names a module you did not name here is refused: a file never chooses code"""


class DeployedPolicy(nn.Module):
    """obs (B, obs_dim) in env units -> action (B, act_dim) in env units: the actor's [-1, 1] action mapped to the
    env's box exactly as the algorithm files act (low + (a + 1) / 2 * (high - low))."""

    def __init__(self, actor, low, high):
        super().__init__()
        self.actor = actor
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, obs):
        return self.low + 0.5 * (self.actor(obs) + 1.0) * (self.high - self.low)


def check_observations(env, actor, seed):
    """CHECK_OBSERVATIONS observations: the states of evaluation episodes, then uniform points of the observation
    box (an unbounded dimension: the visited range widened by its width on both sides)."""
    states = []
    while len(states) < CHECK_OBSERVATIONS // 2:
        states += list(eval_smoothness.rollout(env, actor, seed + len(states))["states"])
    visited = np.array(states[: CHECK_OBSERVATIONS // 2])
    low, high = env.observation_space.low.astype(np.float64), env.observation_space.high.astype(np.float64)
    width = visited.max(0) - visited.min(0) + 1.0
    low = np.where(np.isfinite(low), low, visited.min(0) - width)
    high = np.where(np.isfinite(high), high, visited.max(0) + width)
    box = np.random.default_rng(seed).uniform(low, high, (CHECK_OBSERVATIONS - len(visited), len(low)))
    return np.concatenate([visited, box]).astype(np.float32)


def metadata(ckpt, path, env):
    return {
        "env_id": ckpt["env_id"],
        "algorithm": ckpt["algorithm"],
        "global_step": str(ckpt["global_step"]),
        "source_checkpoint": os.path.abspath(path),
        "observation_low": json.dumps(env.observation_space.low.tolist()),
        "observation_high": json.dumps(env.observation_space.high.tolist()),
        "action_low": json.dumps(env.action_space.low.tolist()),
        "action_high": json.dumps(env.action_space.high.tolist()),
        "input": "observations, float32, shape (batch, obs_dim), env units",
        "output": "actions, float32, shape (batch, act_dim), env units (deterministic policy)",
    }


def write_onnx(policy, example, meta, path):
    try:
        import onnx
    except ImportError:
        raise UserError("--format onnx needs onnx and onnxruntime: pip install -r requirements.txt") from None
    torch.onnx.export(policy, (example,), path, dynamo=False, input_names=["observation"], output_names=["action"],
                      dynamic_axes={"observation": {0: "batch"}, "action": {0: "batch"}})  # fmt: skip
    model = onnx.load(path)
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)


def run_onnx(path, obs):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {"observation": obs})[0]


def write_torchscript(policy, example, meta, path):
    traced = torch.jit.trace(policy, example)
    torch.jit.save(traced, path, _extra_files={"metadata.json": json.dumps(meta)})


def run_torchscript(path, obs):
    with torch.no_grad():
        return torch.jit.load(path)(torch.as_tensor(obs)).numpy()


def read_metadata(path):
    """The metadata written with an exported file, as a dict of strings."""
    if path.endswith(".onnx"):
        import onnx

        return {p.key: p.value for p in onnx.load(path).metadata_props}
    files = {"metadata.json": ""}
    torch.jit.load(path, _extra_files=files)
    return json.loads(files["metadata.json"])


def export(args: Args):
    run_utils.check_seed("--seed", args.seed)
    suffix = ".onnx" if args.format == "onnx" else ".ts"
    out = args.out if args.out is not None else os.path.splitext(args.checkpoint)[0] + suffix
    run_utils.check_output("--out", out)  # before the checkpoint is loaded and the export checked
    if args.format == "onnx":  # both now, not a traceback after the export
        for package in ("onnx", "onnxruntime"):
            if importlib.util.find_spec(package) is None:
                raise UserError(f"--format onnx needs {package}: pip install -r requirements.txt (or --format "
                                "torchscript)")
    ckpt, module, actor, _ = eval_smoothness.load_policy(args.checkpoint, env_modules=args.env_module)
    env = eval_smoothness.make_eval_env(ckpt, module, args.checkpoint)
    policy = DeployedPolicy(actor, env.action_space.low, env.action_space.high).eval()
    obs = check_observations(env, actor, args.seed)
    with torch.no_grad():
        want = policy(torch.as_tensor(obs)).numpy()
    write, run = (write_onnx, run_onnx) if args.format == "onnx" else (write_torchscript, run_torchscript)
    tmp = run_utils.fresh_temp(out + ".tmp" + (".onnx" if args.format == "onnx" else ""))
    try:
        with warnings.catch_warnings():  # torch's notes that TorchScript and its ONNX exporter are deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            write(policy, torch.as_tensor(obs[:2]), metadata(ckpt, args.checkpoint, env), tmp)
        got = run(tmp, obs)
        error = float(np.abs(got - want).max())
        if got.shape != want.shape or not error <= TOLERANCE:
            raise UserError(f"the exported {args.format} file acts differently from the actor (largest difference "
                            f"{error:.3g} > {TOLERANCE:g}); nothing was written")  # fmt: skip
        os.replace(tmp, out)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {out}: {ckpt['env_id']}, {ckpt['algorithm']} at step {ckpt['global_step']:,}; on {len(obs)} "
          f"observations (an evaluation episode's states and points of the observation box) its actions equal the "
          f"actor's to {error:.2g} (tolerance {TOLERANCE:g}, env units)")  # fmt: skip
    return out


if __name__ == "__main__":
    run_utils.cli(export, Args)
