"""Training-phase throughput of the algorithm files, and where each training step's time goes.

    python benchmarks/throughput.py                          # Walker2d-v5, the paper's configurations
    python benchmarks/throughput.py --repeats 5 --out throughput.json
    python benchmarks/throughput.py --configs "td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0" \
        "pave=td3_pave.py" "fast=td3_pave_fast.py"

Each run is a fresh process that calls the file's own main(): `--learning-starts` warm-up steps (not timed),
then `--steps` training steps, timed from the first training step's env.step to the end of the last update.
Runs are interleaved (round r runs every configuration once), so a slow spell of a shared machine hits all
configurations alike; the table shows median steps/s and the median of the per-round ratios to the first
configuration. The breakdown times the files' update functions by wrapping them (self time, ms per env step);
"env, acting, buffer, logging" is the rest of the step.
"""

import contextlib
import importlib.util
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

import torch
import tyro

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import run_utils  # noqa: E402
from run_utils import UserError  # noqa: E402
PAPER_WALKER2D = (  # label=file flags: each file with the paper's Walker2d-v5 weights (the PAVE files' defaults)
    "td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0",
    "td3_pave=td3_pave.py",
    "td3_pave_fast=td3_pave_fast.py",
    "sac=sac_pave.py --lambda1 0 --lambda2 0 --lambda3 0",
    "sac_pave=sac_pave.py",
    "td3_caps=td3_caps.py --lambda-t 0.1 --lambda-s 0.5",
    "td3_grad=td3_grad.py --lambda-t 1.0",
    "td3_asap=td3_asap.py --lambda-p 2.0 --lambda-s 0.3 --lambda-t 0.05",
    "sac_caps=sac_caps.py",
    "sac_grad=sac_grad.py",
    "sac_asap=sac_asap.py",
)
# the functions timed where a file has them (self time: a nested call counts for the innermost function).
# td3_pave.py, sac_pave.py: pave_terms = one critic's forwards, action gradients and HVP (twice per step);
# update_critic = TD target, TD forward, the backward to the parameters and the optimizer step.
# td3_pave_fast.py: critic_forward = the fused forwards, action gradients and HVP; critic_gradients = TD target,
# losses and the backward; update_critic = the optimizer step. In the baselines update_critic is all of it.
PARTS = ("pave_terms", "critic_forward", "critic_gradients", "update_critic", "update_actor", "soft_update",
         "check_finite")
OTHER = "rest: env, acting, buffer, logs"


@dataclass
class Args:
    configs: tuple[str, ...] = PAPER_WALKER2D
    """label=file flags, one per configuration; ratios are to the first one"""
    env_id: str = "Walker2d-v5"
    """the environment of every run"""
    steps: int = 2000
    """timed training steps per run"""
    learning_starts: int = 1000
    """untimed warm-up steps per run (random actions, no updates)"""
    repeats: int = 3
    """rounds; each round runs every configuration once"""
    threads: int = 2
    """torch threads per run"""
    out: str = "throughput.json"
    """where the JSON result goes"""
    breakdown: bool = True
    """time the update functions (on a GPU each timed call syncs it, which slows the run: --no-breakdown there for
    fair totals); never under --cudagraphs, whose replays run no Python"""


class Profile:
    """Self time of wrapped functions: a nested call's time is charged to it, not to its caller."""

    def __init__(self, sync):
        self.seconds, self.stack, self.sync = {}, [], sync

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            self.sync()
            start, self.stack = time.perf_counter(), self.stack + [0.0]
            try:
                return fn(*args, **kwargs)
            finally:
                self.sync()
                elapsed, children = time.perf_counter() - start, self.stack.pop()
                self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - children
                if self.stack:
                    self.stack[-1] += elapsed

        return timed


def parse_config(config):
    label, _, command = config.partition("=")
    file, *flags = command.split() or [""]
    if not label or not file.endswith(".py") or not run_utils.is_algorithm_file(os.path.join(ROOT, file)):
        raise UserError(f"bad --configs entry {config!r}: want label=file.py flags, with an algorithm file of {ROOT}")
    return label, file, flags


def check_args(args: Args, configs):
    """The flags, by the checks every command shares (run_utils), and each configuration's flags by its algorithm
    file's own checks: all before the first measurement, so minutes of runs are never lost to a bad flag or --out."""
    for flag in ("steps", "repeats", "threads", "learning_starts"):
        run_utils.check_number(f"--{flag.replace('_', '-')}", getattr(args, flag), positive=True, integer=True)
    run_utils.check_output("--out", args.out)
    run_utils.check_distinct("--configs labels", [label for label, _, _ in configs])
    for label, file, flags in configs:
        try:  # one meaning per flag; what the measurement sets itself is not the config's (a --resume would resume
            # and rewrite the user's run in place)
            run_utils.check_repeated_flags(flags)
            own = sorted({f.split("=")[0] for f in flags} & {"--env-id", "--learning-starts", "--total-timesteps",
                                                             "--checkpoint-interval", "--resume", "--exp-name"})
            if own:
                raise UserError(f"{', '.join(own)}: throughput.py sets it itself (--env-id, --learning-starts, --steps)")
        except UserError as e:
            raise UserError(f"--configs {label}: {e}") from None
        module = run_utils.import_algorithm(file)
        try:
            module.check_args(tyro.cli(module.Args, args=[*flags, "--env-id", args.env_id]))
        except UserError as e:
            raise UserError(f"--configs {label}: {e}") from None


def measure(file, flags, args: Args):
    """One run of `file` in this process; returns steps/s and the ms per step of each timed part."""
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location(file[:-3], os.path.join(ROOT, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    profile = Profile(torch.cuda.synchronize if torch.cuda.is_available() else lambda: None)
    compiled = "--compile" in flags  # then critic_gradients is timed as compiled, critic_forward inside it
    timed = args.breakdown and "--cudagraphs" not in flags  # a sync inside a CUDA graph's capture is an error
    for name in PARTS if timed else ():
        if hasattr(module, name) and not (compiled and name in ("critic_forward", "critic_gradients")):
            setattr(module, name, profile.wrap(name, getattr(module, name)))
    if compiled and timed:
        compile_critic_gradients = module.compile_critic_gradients
        module.compile_critic_gradients = lambda *a: profile.wrap("critic_gradients", compile_critic_gradients(*a))
    run_args = tyro.cli(module.Args, args=[*flags, "--env-id", args.env_id, "--learning-starts", str(args.learning_starts),
                                           "--total-timesteps", str(args.learning_starts + args.steps),
                                           "--checkpoint-interval", "0"])
    run_args.snapshot_fractions = ()  # no saves inside the timed phase
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), open(os.devnull, "w") as devnull, \
            contextlib.redirect_stdout(devnull):
        try:
            run_dir = module.main(run_args)
            # the training phase, from step --learning-starts to the last step's end (not the saves)
            ours = [run_utils.env_module(run_args.env_id)]  # the env this command was given
            seconds = run_utils.load_checkpoint(os.path.join(run_dir, f"{run_args.exp_name}.pt"),
                                                env_modules=ours)[0]["train_seconds"]
        except Exception as e:  # the file's own exception classes do not pickle back to the parent
            raise RuntimeError(f"{file} {' '.join(flags)}: {type(e).__name__}: {e}") from None
    parts = {name: 1000 * s / args.steps for name, s in profile.seconds.items()}
    parts[OTHER] = 1000 * seconds / args.steps - sum(parts.values())
    return {"sps": args.steps / seconds, "ms_per_step": parts}


def measure_in_child(file, flags, args):
    """A fresh process per run: no state (threads, allocator, compiled code) carries over between runs."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, (file, flags, args))


def machine():
    cpu = platform.processor()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "gpu": gpu, "torch": torch.__version__,
            "python": platform.python_version()}


def main(args: Args):
    configs = [parse_config(c) for c in args.configs]
    check_args(args, configs)
    runs = {label: [] for label, _, _ in configs}
    for round_ in range(args.repeats):
        for label, file, flags in configs:
            try:
                runs[label].append(measure_in_child(file, flags, args))
            except RuntimeError as e:
                raise UserError(str(e)) from None
            print(f"round {round_ + 1}/{args.repeats}: {label} {runs[label][-1]['sps']:.1f} steps/s", flush=True)

    first = configs[0][0]
    result = {"command": " ".join(["python", "benchmarks/throughput.py", *sys.argv[1:]]), "machine": machine(),
              "env_id": args.env_id, "steps": args.steps, "learning_starts": args.learning_starts,
              "repeats": args.repeats, "threads": args.threads, "configs": {}}
    for label, file, flags in configs:
        sps = [r["sps"] for r in runs[label]]
        ratios = [r["sps"] / base["sps"] for r, base in zip(runs[label], runs[first])]
        parts = {part: statistics.median(r["ms_per_step"].get(part, 0.0) for r in runs[label])
                 for part in [*PARTS, OTHER] if any(part in r["ms_per_step"] for r in runs[label])}
        result["configs"][label] = {"command": " ".join([file, *flags]), "sps": sps, "median_sps": statistics.median(sps),
                                    "ratios_to_" + first: ratios, "median_ratio": statistics.median(ratios),
                                    "ms_per_step": parts}

    run_utils.write_file(args.out, lambda f: json.dump(result, f, indent=1), binary=False)  # before any print: the
    # measurement is kept whatever happens to stdout
    print(f"\n{args.env_id}, {args.steps} training steps, median of {args.repeats} interleaved rounds, "
          f"{args.threads} threads, {result['machine']['gpu'] or result['machine']['cpu']}")
    w = max(9, max(len(label) for label in runs) + 1)
    print(f"{'config':<{w}} {'steps/s':>8} {'ratio':>6}  runs")
    for label, r in result["configs"].items():
        print(f"{label:<{w}} {r['median_sps']:8.1f} {r['median_ratio']:6.2f}  {', '.join(f'{s:.1f}' for s in r['sps'])}")
    print(f"(ratio: median over rounds of steps/s / {first}'s in the same round)\n\nms per env step (median), self time:")
    print(f"{'':<32}" + "".join(f"{label:>{w}}" for label in result["configs"]))
    for part in [*PARTS, OTHER, "total"]:
        cells = [r["ms_per_step"].get(part) if part != "total" else 1000 / r["median_sps"]
                 for r in result["configs"].values()]
        print(f"{part:<32}" + "".join(f"{c:{w}.2f}" if c is not None else f"{'-':>{w}}" for c in cells))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    run_utils.cli(main, Args)
