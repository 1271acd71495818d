# Studies: methods x environments x seeds, trained and evaluated here or on a Slurm cluster (submitit),
# then the paper's tables with seeds' spread, IQM and bootstrap intervals (`report`: benchmarks/study_report.py).
#   python benchmarks/study.py run --study results/pendulum_td3 --methods td3 td3_pave --envs Pendulum-v1 --seeds 1 2 3
#   python benchmarks/study.py run ... --executor slurm --slurm-partition gpu     # the same study as a Slurm job array
#   python benchmarks/study.py status results/pendulum_td3
#   python benchmarks/study.py report results/pendulum_td3
#   python benchmarks/study.py run ... --vary lambda1=0,20 --vary lambda3=0,20   # a sweep: td3_pave[lambda3=20], ...
# A study's state is its records, DIR/records/<env>/<method>/seed<k>.json: `run` skips every run whose record
# exists, so a study continues after an interruption, on another machine, or in pieces. Checkpoints, logs and
# event files stay in DIR/work and DIR/jobs (ignored by git).
import contextlib
import dataclasses
import fcntl
import glob
import io
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Literal, Optional

import numpy as np
import tyro

import study_records  # the settings, names and files that report reads too; it puts the repo on the path
from study_records import (REPO, SETTINGS, WINDOWS, base_of, env_folder, folder_name, load_plan, method_weights,
                           paper_flags, run_paths, split_variant, study_folder, value_name, write_json)
from study_report import Report, report

import run_utils  # noqa: E402  (study_records put the repo on the path)
from run_utils import UserError, first_line  # noqa: E402

FAST_FILE = {"td3_pave.py": "td3_pave_fast.py"}  # the same math, proven equal (tests/test_fast.py)


# --- the paper's settings as commands ------------------------------------------------------------------------


def to_cli(flags: dict) -> list[str]:
    """{"buffer_size": 200000, "hidden_sizes": "64 64"} -> ["--buffer-size", "200000", "--hidden-sizes", "64", "64"];
    an on/off flag as the files take it: {"autotune": "True"} -> ["--autotune"], "False" -> ["--no-autotune"]."""
    def parts(k, v):
        flag = k.replace("_", "-")
        if str(v).lower() in ("true", "false"):
            return [f"--{flag}" if str(v).lower() == "true" else f"--no-{flag}"]
        return [f"--{flag}", *str(v).split()]

    return [part for k, v in flags.items() for part in parts(k, v)]


def train_command(method, env_id, seed, total_timesteps=None, extra=None, fast=False, checkpoint_interval=0,
                  compile=False, cudagraphs=False):
    """(algorithm file, its flags) for one run of a study. `extra` ({flag: value}, the user's --flags) goes over the
    paper's settings, so the command names each flag once (the files refuse a flag given twice)."""
    parent, varied = split_variant(method)
    flags = paper_flags(parent, env_id) | (extra or {}) | varied  # a variant's value over the method's own
    defaults = run_utils.import_algorithm(SETTINGS["method"][parent]["file"]).Args
    flags = {w: getattr(defaults, w) for w in sorted(method_weights(parent)) if w not in flags} | flags  # every
    # weight on the command line, the file's default too (an env the paper did not train): the plan shows them all
    if total_timesteps is not None:
        flags["total_timesteps"] = total_timesteps
    flags |= {"seed": seed, "exp_name": folder_name(method), "checkpoint_interval": checkpoint_interval}
    file = SETTINGS["method"][split_variant(method)[0]]["file"]
    file = FAST_FILE.get(file, file) if fast else file
    speed = [flag for flag, on in (("--compile", compile), ("--cudagraphs", cudagraphs)) if on]
    return file, to_cli(flags) + (speed if file in FAST_FILE.values() else [])


# --- sweeps: one flag of a method over values, the others at the paper's settings (paper Appendix B, Figure 4) -----


def parse_vary(vary):
    """--vary lambda1=0,0.2 --vary lambda3=20 -> {"lambda1": ["0", "0.2"], "lambda3": ["20"]}."""
    parsed = {}
    for item in vary:
        flag, _, values = item.partition("=")
        flag = flag.strip().lstrip("-").replace("-", "_")
        texts = [v.strip() for v in values.split(",")]
        if not flag or not all(texts):
            raise UserError(f"--vary takes FLAG=VALUE,VALUE,..., got {item!r}")
        if flag in parsed:
            raise UserError(f"--vary names {flag} twice; give its values once, comma-separated")
        if flag in STUDY_FLAGS:
            raise UserError(f"--vary {flag}: the study sets it itself (its --seeds, --total-timesteps, --envs, "
                            "--checkpoint-interval)")
        if flag in BOOKKEEPING:
            raise UserError(f"--vary {flag}: it does not change what is trained (give it once with --flags)")
        parsed[flag] = texts
    return parsed


def read_args(module, flags):
    """The algorithm file's Args for a command line, as the file parses it; None where its parser refuses it."""
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return tyro.cli(module.Args, args=flags)
    except SystemExit:
        return None


def variants(method, env_id, vary, extra):
    """`method` and one variant per value of each flag of `vary` (parse_vary's), in that order. Every value goes
    through the algorithm file's own parser and check_args here, before anything trains; a value that gives the
    method's own settings (lambda3=2 for td3_pave on Pendulum) is the method itself, so its records serve both."""
    file = SETTINGS["method"][method]["file"]
    module = run_utils.import_algorithm(file)
    known = {f.name for f in dataclasses.fields(module.Args)}
    default = read_args(module, to_cli(paper_flags(method, env_id) | extra))
    if default is None:
        raise UserError(f"{file} cannot read --flags {' '.join(to_cli(extra))}")
    default = vars(default)
    names = [method]
    for flag, texts in vary.items():
        if flag not in known:
            raise UserError(f"--vary {flag}: {file} has no --{flag.replace('_', '-')}")
        if isinstance(default[flag], (tuple, list)):
            raise UserError(f"--vary {flag}: a list flag ({' '.join(map(str, default[flag]))}) is not varied here, "
                            f"each value of --vary is one number or word; give it with --flags {flag}=...")
        seen = set()
        for text in texts:
            args = read_args(module, to_cli(paper_flags(method, env_id) | extra | {flag: text}))
            if args is None:
                raise UserError(f"--vary {flag}={text}: {file} cannot read --{flag.replace('_', '-')} {text}")
            try:  # the file's own checks; the machine that plans need not have the GPU the jobs get
                module.check_args(dataclasses.replace(args, device="cpu"))
            except UserError as e:
                raise UserError(f"--vary {flag}={text}: {e}") from None
            value = value_name(getattr(args, flag))
            if not re.fullmatch(r"[\w.+-]+", value):
                raise UserError(f"--vary {flag}={text}: a varied value is one number or word")
            if value in seen:
                raise UserError(f"--vary {flag}={','.join(texts)} gives the value {value} twice")
            seen.add(value)
            name = f"{method}[{flag}={value}]"
            if vars(args) | {"exp_name": None} != default | {"exp_name": None}:
                names.append(name)
    return names


# --- one job: train, evaluate, write the record ---------------------------------------------------------------


def git_commit():
    def git(*cmd):
        return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True).stdout.strip()

    files = [os.path.basename(p) for p in glob.glob(os.path.join(REPO, "*.py"))]
    return git("rev-parse", "HEAD") or None, bool(git("status", "--porcelain", "--", *files))


def machine():
    """The processor and how many CPUs: host names repeat across machines (both of ours were 'vm')."""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} CPUs"


def last_sps(run_dir):
    """The last charts/SPS the run logged (None when training never left the warm-up)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(run_dir, size_guidance={"scalars": 0}).Reload()
    return events.Scalars("charts/SPS")[-1].value if "charts/SPS" in events.Tags()["scalars"] else None


def read_text(work, name):
    """A note of a run's work folder (failed.txt, waiting.txt) as text, whatever bytes it holds: status shows it."""
    try:
        with open(os.path.join(work, name), errors="replace") as f:
            return f.read()
    except OSError as e:
        return f"({name} unreadable: {e.strerror})"


def read_seconds(path):
    """The training seconds of the earlier attempts (0 before the first)."""
    if not os.path.exists(path):
        return 0.0
    with open(path, errors="replace") as f:
        text = f.read()
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{path} holds {text[:40]!r}, not the seconds trained: remove it (the time of the earlier "
                        "attempts is then not counted)") from None


def attempts(work):
    """How many times the run's training was started (each start writes its command line to train.log)."""
    with open(os.path.join(work, "train.log")) as f:
        return sum(line.startswith("$ ") for line in f)


class Interrupted(RuntimeError):
    """The training stopped on a signal and saved its resume state."""


def wait(child, seconds):
    """The child's exit code, or None if it still runs after `seconds`."""
    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def train(job, work, owner=None):
    """Train with the algorithm file in a child process (its own log), unless an earlier attempt finished; an
    attempt that was interrupted (its checkpoint and resume state are there) is continued with --resume."""
    done = os.path.join(work, "train.json")
    if os.path.exists(done):
        trained = read_trained(work)
        if trained["command"][2:] == job["flags"]:
            return trained
        os.remove(done)  # trained with other flags (another --total-timesteps): resumed with the asked ones below
    runs = os.path.join(work, "runs")
    started = sorted(glob.glob(os.path.join(runs, "*", f"{folder_name(job['method'])}.resume.pt")))
    before = set(glob.glob(os.path.join(runs, "*")))
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]), "MKL_NUM_THREADS": str(job["threads"])}
    command = [sys.executable, os.path.join(job["repo"], job["file"])]
    # resumed with the flags asked now: a new budget goes on from the steps done (the file refuses, in one line,
    # changes a resumed run cannot take), so a record is always of the settings asked
    command += ["--resume", os.path.dirname(started[-1]), *job["flags"]] if started else job["flags"]
    seconds_file = os.path.join(work, "train_seconds.txt")
    earlier, start = read_seconds(seconds_file), time.time()

    def write_seconds():  # the training time of every attempt, written each minute: the machine may die under the run
        with run_utils.writing(seconds_file) as f:
            f.write(f"{earlier + time.time() - start:.1f}")

    with open(os.path.join(work, "train.log"), "a") as log:
        log.write(f"$ {shlex.join(command)}\n")
        log.flush()
        child = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        if owner is not None:
            owner.child = child  # for StudyRun.checkpoint on preemption
        try:
            while (rc := wait(child, 60.0)) is None:
                write_seconds()
        except BaseException:  # cancelled, interrupted or requeued: the child saves its checkpoint and resume state
            if not (owner and owner.stopping):  # StudyRun.checkpoint has signalled it already
                child.send_signal(signal.SIGINT)
            child.wait()
            raise
        finally:
            write_seconds()
    if rc == 130:  # a signal stopped it and it saved: not a failure
        raise Interrupted(f"training was interrupted and saved; `run` again resumes it (log: {work}/train.log)")
    if rc != 0:
        with open(os.path.join(work, "train.log")) as f:
            tail = "".join(f.readlines()[-15:])
        raise RuntimeError(f"training exited with code {rc}; the end of {work}/train.log:\n{tail}")
    (run_dir,) = [os.path.dirname(started[-1])] if started else set(glob.glob(os.path.join(runs, "*"))) - before
    info = {
        # from the run's folder: a study can move
        "checkpoint": os.path.relpath(os.path.join(run_dir, f"{folder_name(job['method'])}.pt"), work),
        "command": [os.path.basename(sys.executable), job["file"], *job["flags"]],
        "train_seconds": read_seconds(seconds_file),
        "attempts": attempts(work),
        "sps": last_sps(run_dir),
    }
    write_json(done, info)
    return read_trained(work)


def read_trained(work):
    """A finished training's train.json, its checkpoint as a path from here. The checkpoint is stored relative to the
    run's folder; studies before that stored it absolute, which is found by its place when the study has moved."""
    done = os.path.join(work, "train.json")
    try:
        with open(done) as f:
            info = json.load(f)
        path = info["checkpoint"]
        if not isinstance(path, str):
            raise TypeError("its checkpoint is not a path")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"cannot read {done} ({type(e).__name__}: {first_line(e)}): remove it and `run` again, which "
                        "continues the training from its checkpoint") from None
    if os.path.isabs(path) or os.path.normpath(path).split(os.sep)[0] != "runs":  # an older study's absolute path,
        # or one into another study or out of this run: the file of that name in this run's runs/ folder
        path = os.path.join("runs", *os.path.normpath(path).split(os.sep)[-2:])
    return info | {"checkpoint": os.path.join(work, path)}


def wait_for_reference(study, reference, poll=5.0, idle=60.0):
    """The reference run (the family's base, first seed) gives sigma_base to every run of its env. Returns
    (checkpoint, None) once it has trained, or (None, sigma_base) where its record is here but its work folder is not
    (work/ stays out of git: a study continued on another machine), the record keeping the sigma_base it measured.
    The wait ends with the reason when it cannot come: the reference failed, its record has no sigma_base and its
    checkpoint is not here, or no process trains it (its lock stays free for `idle` seconds) and it stopped without
    finishing."""
    work, record = run_paths(study, *reference)
    label, free_since = "/".join(map(str, reference)), None
    while not os.path.exists(os.path.join(work, "train.json")):
        if os.path.exists(os.path.join(work, "failed.txt")):
            why = ([line for line in read_text(work, "failed.txt").splitlines() if line.strip()]
                   or ["no reason written"])[-1]
            raise RuntimeError(f"the noise reference run {label} failed ({why.strip()}); fix it and `run` again")
        if os.path.exists(record):
            with open(record) as f:
                kept = json.load(f).get("sigma_base")
            if kept:
                return None, kept
            raise RuntimeError(f"the noise reference run {label} has a record but its checkpoint is not in {work} "
                               "and the record keeps no sigma_base (work/ is not in git: was the study continued "
                               "elsewhere?); copy that folder here, or set the record aside so that `run` trains it "
                               "again")  # fmt: skip
        free_since = None if locked(work) else free_since or time.time()
        if free_since is not None and time.time() - free_since >= idle:
            raise RuntimeError(f"the noise reference run {label} is not being trained and has not finished (it was "
                               "interrupted, killed or not started); `run` again trains it first")  # fmt: skip
        time.sleep(poll)
    return read_trained(work)["checkpoint"], None


def locked(work):
    """Whether a job holds the run's lock (it trains or evaluates the run now)."""
    try:
        with open(os.path.join(work, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
    except BlockingIOError:
        return True
    except OSError:  # no work folder (yet): nobody trains it
        return False


class StudyRun:
    """One run as a submitit job that survives preemption: when Slurm signals the job before a preemption or its time
    limit (USR2), the training saves its checkpoint and resume state, and submitit requeues the job, which resumes
    it. (submitit's local `job._interrupt()` signals the local controller, not the task: the test signals the task.)"""

    child, stopping = None, False

    def __call__(self, job: dict) -> str:
        return run_one(job, self)

    def checkpoint(self, job: dict):
        """Runs in the signal handler, while train() waits for the child: signal it, and train() waits for its save
        when the requeue's exit unwinds (waiting here would deadlock on the child's wait lock)."""
        import submitit

        if self.child is not None and self.child.poll() is None:
            self.stopping = True
            self.child.send_signal(signal.SIGTERM)  # the algorithm file saves like on Ctrl-C
        return submitit.helpers.DelayedSubmission(StudyRun(), job)


TRAINED_ELSEWHERE = "is being trained by another process"


def run_one(job: dict, owner=None) -> str:
    """One (method, env, seed) of a study: train, evaluate its checkpoint, write the record. Returns its path."""
    work, record = run_paths(job["study"], job["env_id"], job["method"], job["seed"])
    os.makedirs(work, exist_ok=True)
    lock = open(os.path.join(work, ".lock"), "w")  # held while this job trains and evaluates: one training per run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RuntimeError(f"{name(job)} {TRAINED_ELSEWHERE} (a `run` before this one, whose jobs still train?); "
                           "this one leaves it alone") from None
    failed = os.path.join(work, "failed.txt")
    try:
        trained = train(job, work, owner)
        reference = kept_sigma_base = None
        if job["obs_noise"] and job["reference"]:
            # Slurm may hold a requeued reference in its queue for a while; locally its job runs or has ended
            idle = 1800.0 if job.get("executor") == "slurm" else 60.0
            waiting = os.path.join(work, "waiting.txt")  # for `status`
            write_json(waiting, "/".join(map(str, job["reference"])))
            try:
                reference, kept_sigma_base = wait_for_reference(job["study"], job["reference"], idle=idle)
            finally:
                os.remove(waiting)
        sys.path.insert(0, job["repo"])
        import eval_smoothness
        import torch

        torch.set_num_threads(job["threads"])
        args = eval_smoothness.Args(
            paths=(trained["checkpoint"],),
            episodes=job["episodes"],
            noise_episodes=job["noise_episodes"],
            obs_noise=tuple(job["obs_noise"]),
            noise_reference=reference,
            critic_metrics=job["critic_metrics"],
            sm_window=WINDOWS,
            plots=False,
            out_dir=os.path.join(work, "eval"),
            env_module=(run_utils.env_module(job["env_id"]),) if run_utils.env_module(job["env_id"]) else (),
        )
        kept = kept_sigma_base and {job["env_id"]: np.array(kept_sigma_base)}
        (row,), levels, sigma_base = eval_smoothness.evaluate(args, sigma_base=kept)
        if reference:  # where the noise's sigma_base came from: the checkpoint, or the record that kept it
            noise_reference = os.path.relpath(reference, job["study"])
        elif kept_sigma_base:
            noise_reference = os.path.relpath(run_paths(job["study"], *job["reference"])[1], job["study"])
        else:
            noise_reference = None
        ckpt, _ = run_utils.load_checkpoint(trained["checkpoint"], env_modules=args.env_module)
        commit, dirty = git_commit()
        write_json(
            record,
            {
                "method": job["method"],
                "env_id": job["env_id"],
                "seed": job["seed"],
                "algorithm": ckpt["algorithm"],
                "args": ckpt["args"],
                "command": trained["command"],
                "commit": commit,
                "uncommitted_changes": dirty,
                "total_timesteps": ckpt["args"]["total_timesteps"],
                "global_step": ckpt["global_step"],
                "train_seconds": round(trained["train_seconds"], 1),
                "attempts": trained.get("attempts", 1),
                "sps": trained["sps"],
                "threads": job["threads"],
                "host": socket.gethostname(),
                "machine": machine(),
                "torch": torch.__version__,
                "eval": {"episodes": args.episodes, "noise_episodes": args.noise_episodes, "reset_seed": args.seed},
                "noise_reference": noise_reference,
                "sigma_base": sigma_base[job["env_id"]].tolist() if sigma_base else None,
                "levels": {str(s): {k: row["levels"][s][k] for k in ("returns", "sm", "lengths", "terminated")}
                           | {"sm_window": {str(w): x for w, x in row["levels"][s]["sm_window"].items()}}
                           for s in levels},
                "critic": row.get("critic"),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
    except Interrupted:
        raise
    except Exception:  # a failure (not a cancel, an interrupt or a requeue)
        import traceback

        with open(failed, "w") as f:
            f.write(traceback.format_exc())
        raise
    if os.path.exists(failed):
        os.remove(failed)
    return record


# --- run --------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Train and evaluate every (method, env, seed) that has no record yet."""

    study: str
    """the study's folder (its records, plan and work)"""
    methods: tuple[str, ...]
    """methods of benchmarks/paper_settings.toml: td3 td3_pave td3_caps td3_grad td3_asap td3_mpr td3_mpr_vfc
    sac sac_pave sac_caps sac_grad sac_asap"""
    envs: tuple[str, ...] = ("Pendulum-v1",)
    """gymnasium env ids: those of benchmarks/paper_settings.toml train with the paper's settings; any other (your
    own task, e.g. my_package:MyRobot-v0) with the files' defaults (see paper_flags)"""
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    """training seeds"""
    total_timesteps: Optional[int] = None
    """override the paper's budget per env (an env the paper did not train: the files' 1000000); the records say
    what ran"""
    flags: tuple[str, ...] = ()
    """more flags for every algorithm file as name=value, e.g. --flags activation=relu learning_starts=1000"""
    vary: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """a sweep (paper Figure 4): FLAG=VALUE,VALUE,... trains each value as a method of its own, METHOD[FLAG=VALUE],
    the other flags at the paper's settings; repeat --vary for more flags, each varied alone. It varies each method
    of --methods but the bases of the others (--methods td3 td3_pave varies td3_pave; td3 is the line it is
    compared with). A value the algorithm file refuses stops the study before anything trains; a value equal to
    the paper's is the method itself (one run, one record)"""
    fast: bool = False
    """run td3_pave.py's methods with td3_pave_fast.py (the same math and draws, about 1.25x faster)"""
    compile: bool = False
    """with --fast: td3_pave_fast.py's runs also get --compile (the same math; CPU only)"""
    cudagraphs: bool = False
    """with --fast: td3_pave_fast.py's runs also get --cudagraphs (the same math; CUDA only)"""
    checkpoint_interval: int = 10_000
    """each run saves its checkpoint and resume state every this many steps, so that a killed run (the machine
    stops, a job is preempted without warning) continues from there with `run` again (0: only at the end and on
    a signal)"""
    episodes: int = 10
    """deterministic evaluation episodes without noise"""
    noise_episodes: int = 20
    """episodes per observation-noise level"""
    obs_noise: tuple[float, ...] = ()
    """observation-noise levels, e.g. 0.01 0.05 0.1; sigma_base from the family's base method at the study's first seed"""
    critic_metrics: bool = False
    """also record Q1's geometry along the clean episodes"""
    replace_other_settings: bool = False
    """records made with other settings than asked (budget, flags) are set aside in DIR/replaced/ with their work
    folders, and their runs train again (without it, such records are refused)"""
    allow_no_update: bool = False
    """allow runs whose --total-timesteps is not above their learning_starts (they train nothing)"""
    dry_run: bool = False
    """check the study and list its runs, each with its command and whether it has its record; write and train
    nothing"""
    executor: Literal["local", "slurm"] = "local"
    """local processes on this machine, or a Slurm job array"""
    workers: Optional[int] = None
    """local: runs at once (None: the cores divided by --threads)"""
    threads: int = 1
    """torch threads per run"""
    timeout_min: int = 24 * 60
    """time limit of one run, minutes"""
    slurm_partition: Optional[str] = None
    """Slurm partition (None: the cluster's default)"""
    slurm_cpus_per_task: Optional[int] = None
    """CPUs per Slurm task (None: --threads)"""
    slurm_array_parallelism: int = 64
    """Slurm: at most this many runs of the array at once"""
    slurm_mem_gb: Optional[float] = None
    """memory per Slurm task, GB (None: the cluster's default)"""
    slurm_additional: tuple[str, ...] = ()
    """more sbatch options as key=value, e.g. account=myproject qos=normal"""


STUDY_FLAGS = {"seed", "exp_name", "total_timesteps", "checkpoint_interval", "resume", "env_id"}  # set per run


def plan(args: Run):
    """The study's runs, each a job for run_one."""
    unknown = [m for m in args.methods if m not in SETTINGS["method"]]
    if unknown:
        raise UserError(f"not in paper_settings.toml: {', '.join(unknown)}; methods: {', '.join(SETTINGS['method'])}")
    for env_id in args.envs:
        env_folder(env_id)  # a name that can be a folder of the study
    for env_id in (e for e in args.envs if e not in SETTINGS["env"]):  # your own: made once now, not failed in a job
        module = run_utils.import_algorithm(SETTINGS["method"][args.methods[0]]["file"])
        module.make_env(env_id, 0).close()
    if not args.seeds or args.threads < 1 or (args.workers is not None and args.workers < 1):
        raise UserError("--seeds needs at least one seed, --threads and --workers must be >= 1")
    if args.checkpoint_interval < 0 or ((args.compile or args.cudagraphs) and not args.fast):
        raise UserError("--checkpoint-interval must be >= 0, and --compile and --cudagraphs go with --fast")
    if any("=" not in kv for kv in args.flags):
        raise UserError(f"--flags takes name=value pairs, got {' '.join(args.flags)}")
    pairs = [(k.strip().lstrip("-").replace("-", "_"), v) for k, v in (kv.split("=", 1) for kv in args.flags)]
    repeated = sorted({k for k, _ in pairs if [p[0] for p in pairs].count(k) > 1})
    if repeated:
        raise UserError(f"--flags {', '.join(repeated)} is given twice; give each flag once")
    extra = dict(pairs)
    taken = sorted(set(extra) & STUDY_FLAGS)
    if taken:
        raise UserError(f"--flags {', '.join(taken)}: the study sets these itself (use --seeds, --total-timesteps, "
                        "--checkpoint-interval; exp_name is the method, resume is automatic)")
    # A weight in --flags (lambda3=2.0) goes to the methods that have it and are not a base: the base keeps its 0
    weighted = {m: method_weights(m) for m in args.methods if base_of(m) != m}
    given_weights = {k: v for k, v in extra.items() if k in set().union(*weighted.values(), *map(method_weights,
                                                                                              args.methods))}
    for k in given_weights:
        if not any(k in names for names in weighted.values()):
            raise UserError(f"--flags {k}: a weight of the base ({', '.join(args.methods)}), which trains at 0 as the "
                            "line the others are compared with; no method asked here takes it")
    extra = {k: v for k, v in extra.items() if k not in given_weights}
    if args.total_timesteps is not None and args.total_timesteps < 1:
        raise UserError(f"--total-timesteps must be >= 1, got {args.total_timesteps}")
    if len(set(args.seeds)) != len(args.seeds):
        raise UserError(f"--seeds {' '.join(map(str, args.seeds))} repeats a seed")
    check_run_flags(args)
    vary = parse_vary(args.vary)
    bases = {base_of(m) for m in args.methods if base_of(m) != m}  # not varied: the line the others are compared with
    jobs = []
    for env_id in args.envs:
        own = {m: extra | {k: v for k, v in given_weights.items() if k in weighted.get(m, ())} for m in args.methods}
        swept = [variants(m, env_id, vary, own[m]) if vary and m not in bases else [m] for m in args.methods]
        for method in dict.fromkeys(m for names in swept for m in names):
            base = base_of(method)
            reference = (env_id, base, reference_seed(args.study, env_id, base, args.seeds)) if base in args.methods else None
            for seed in args.seeds:
                file, flags = train_command(
                    method, env_id, seed, args.total_timesteps, own[split_variant(method)[0]], args.fast,
                    args.checkpoint_interval,
                    args.compile, args.cudagraphs,
                )
                jobs.append(
                    {
                        "repo": REPO,
                        "study": os.path.abspath(args.study),
                        "method": method,
                        "env_id": env_id,
                        "seed": seed,
                        "file": file,
                        "flags": flags,
                        "threads": args.threads,
                        "episodes": args.episodes,
                        "noise_episodes": args.noise_episodes,
                        "obs_noise": [s for s in args.obs_noise if s > 0],
                        "critic_metrics": args.critic_metrics,
                        "reference": reference,
                        "executor": args.executor,
                    }
                )
    for env_id in (e for e in args.envs if e not in SETTINGS["env"]):  # your own task: which weights, and why
        for method in args.methods:
            if base_of(method) != method:
                job = next(j for j in jobs if (j["env_id"], j["method"]) == (env_id, method))
                asked = {k for k in given_weights if k in weighted[method]}
                file = SETTINGS["method"][method]["file"]
                why = ("--flags" if asked == method_weights(method) else f"{file}'s defaults, the paper's Walker2d-v5 "
                       "weights" + (f", with --flags {', '.join(sorted(asked))}" if asked else ""))
                shown = dict(zip(job["flags"][::2], job["flags"][1::2]))
                print(f"{env_id} is not in paper_settings.toml: {method} trains with "
                      + ", ".join(f"{w} {shown['--' + w.replace('_', '-')]}" for w in sorted(method_weights(method)))
                      + f" ({why}); docs/weights.md's recipe starts from lambda1 2.0, lambda2 0.005, lambda3 2.0")
    for job in jobs:  # a misspelt flag or a bad value in --flags: one line now, not the file's help box later
        if read_args(run_utils.import_algorithm(job["file"]), job["flags"]) is None:
            raise UserError(f"{job['file']} cannot read --flags {' '.join(args.flags)}")
    # the noise references first, then seed by seed: a study stopped half-way has every method at its first seeds
    return sorted(
        jobs, key=lambda j: (j["reference"] != (j["env_id"], j["method"], j["seed"]), args.seeds.index(j["seed"]))
    )


def reference_seed(study, env_id, base, seeds):
    """The seed of the base run whose sigma_base every noise level of the env is a fraction of: the study's first,
    counting the base's records, so that a later `--seeds 4 5` adds noise rows comparable with seeds 1-3's."""
    recorded = glob.glob(os.path.join(os.path.dirname(run_paths(study, env_id, base, 0)[1]), "seed*.json"))
    found = (re.fullmatch(r"seed(-?\d+)\.json", os.path.basename(p)) for p in recorded)
    return min([int(m[1]) for m in found if m] + list(seeds))


def check_run_flags(args: Run):
    """The numbers of `run` by the checks every command shares (run_utils): a value that would be dropped or fail
    in a job (a negative noise level, zero episodes, a Slurm limit of 0) is one line now, not a record later."""
    for seed in args.seeds:
        run_utils.check_seed("--seeds", seed)
    run_utils.check_distinct("--methods", args.methods)
    run_utils.check_distinct("--envs", args.envs)
    run_utils.check_distinct("--obs-noise", args.obs_noise)
    for flag in ("episodes", "noise_episodes", "timeout_min", "slurm_array_parallelism"):
        run_utils.check_number(f"--{flag.replace('_', '-')}", getattr(args, flag), positive=True, integer=True)
    for level in args.obs_noise:
        run_utils.check_number("--obs-noise", level)
    if args.slurm_cpus_per_task is not None:
        run_utils.check_number("--slurm-cpus-per-task", args.slurm_cpus_per_task, positive=True, integer=True)
    if args.slurm_mem_gb is not None:
        run_utils.check_number("--slurm-mem-gb", args.slurm_mem_gb, positive=True)
    if any("=" not in kv for kv in args.slurm_additional):
        raise UserError(f"--slurm-additional takes key=value pairs, got {' '.join(args.slurm_additional)}")


def check_partition(partition):
    """A --slurm-partition that the cluster has (sinfo), before anything is submitted."""
    listed = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True)
    names = set(listed.stdout.split())
    if listed.returncode == 0 and names and partition not in names:
        raise UserError(f"--slurm-partition {partition}: the cluster has no such partition (it has "
                        f"{', '.join(sorted(names))})")


def save_plan(args: Run, jobs):
    """DIR/study.json: every run any `run` asked for, so `report` and `status` can name the missing ones."""
    path = os.path.join(args.study, "study.json")
    planned = {}
    if os.path.exists(path):  # load_plan: a cut or merge-conflicted study.json is one line, not a traceback
        planned = {(r["env_id"], r["method"], r["seed"]): r for r in load_plan(args.study)}
    for job in jobs:
        planned[(job["env_id"], job["method"], job["seed"])] = {
            k: job[k] for k in ("env_id", "method", "seed", "file", "flags")
        } | {"run": asdict(args)}
    write_json(path, {"runs": list(planned.values())})


def make_executor(args: Run):
    import cloudpickle
    import submitit

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # jobs need not import this file by name,
    cloudpickle.register_pickle_by_value(study_records)  # nor what it shares with the report
    cloudpickle.register_pickle_by_value(run_utils)  # nor run_utils (a job's path need not hold the repo)

    if args.executor == "local":  # one folder: submitit's local job can open jobs/<pid>/ before its parent makes it
        executor = submitit.AutoExecutor(folder=os.path.join(args.study, "jobs"), cluster="local")
        executor.update_parameters(timeout_min=args.timeout_min)
        return executor
    try:
        executor = submitit.AutoExecutor(folder=os.path.join(args.study, "jobs", "%j"), cluster="slurm")
    except RuntimeError as e:  # sbatch found, srun not
        raise UserError(f"--executor slurm: no Slurm here ({run_utils.first_line(e)})") from None
    if executor.cluster != "slurm":
        raise UserError("--executor slurm: no Slurm here (sbatch was not found)")
    if args.slurm_partition:
        check_partition(args.slurm_partition)
    extra = dict(kv.split("=", 1) for kv in args.slurm_additional)
    executor.update_parameters(
        timeout_min=args.timeout_min,
        cpus_per_task=args.slurm_cpus_per_task or args.threads,
        slurm_array_parallelism=args.slurm_array_parallelism,
        name="study",
        **({"slurm_partition": args.slurm_partition} if args.slurm_partition else {}),
        **({"mem_gb": args.slurm_mem_gb} if args.slurm_mem_gb else {}),
        **({"slurm_additional_parameters": extra} if extra else {}),
    )
    return executor


# --- progress: where each running run stands, one refreshed line on a terminal --------------------------------------
PROGRESS = re.compile(r"step ([\d,]+)/([\d,]+) \| (\d+) SPS( \(warm-up\))? \| ([^|]+?) \|")  # run_utils' console line
PROGRESS_EVERY = 5.0  # seconds between two refreshes of the line


def standing(job):
    """Where a run stands, from the last console line its training wrote to train.log: '12,000/30,000 steps, 31 SPS,
    ETA 0:09:40'; 'evaluating' once it trained; 'starting' before its first line."""
    path = os.path.join(run_paths(job["study"], job["env_id"], job["method"], job["seed"])[0], "train.log")
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "starting"
    if lines and lines[-1].startswith("done; checkpoint saved"):
        return "evaluating"
    found = next((m for m in map(PROGRESS.search, reversed(lines)) if m), None)
    if found is None:
        return "starting"
    step, total, sps, warm_up, eta = found.groups()
    return f"{step}/{total} steps, {sps} SPS{' (warm-up)' if warm_up else ''}, {eta}"


def progress_line(running, jobs_by_name, finished, total):
    """One line for the terminal: how many runs have their record, then each running run's standing (named without
    its env where the study has one)."""
    one_env = len({job["env_id"] for job in jobs_by_name.values()}) == 1
    label = {key: "/".join(key.rsplit("/", 2)[-2:]) if one_env else key for key in running}
    return " | ".join([f"{finished}/{total} recorded"] + [f"{label[key]}: {standing(jobs_by_name[key])}"
                                                          for key in running])  # fmt: skip


def on_terminal():
    return sys.stdout.isatty()


def refresh(line=""):
    """Overwrite the terminal's last line with `line` (no line: clear it, before a line that stays)."""
    width = shutil.get_terminal_size().columns - 1
    line = line if len(line) <= width else line[:width - 1] + "…"
    print(f"\r{line}\x1b[K", end="", flush=True)


def run(args: Run):
    jobs = plan(args)
    done = [j for j in jobs if os.path.exists(run_paths(j["study"], j["env_id"], j["method"], j["seed"])[1])]
    other = {name(j): differ for j in done if (differ := settings_differ(j))}
    if other and args.replace_other_settings and args.dry_run:
        print(f"{len(other)} records of other settings would be set aside and their runs trained again")
        done, other = [j for j in done if name(j) not in other], {}
    if other and args.replace_other_settings:  # set aside (record and work folder), then trained again
        aside = os.path.join(args.study, "replaced", time.strftime("%Y%m%d-%H%M%S"))
        for job in (j for j in done if name(j) in other):
            for path in run_paths(job["study"], job["env_id"], job["method"], job["seed"]):
                if os.path.exists(path):
                    target = os.path.join(aside, os.path.relpath(path, job["study"]))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    os.replace(path, target)
        print(f"{len(other)} records of other settings set aside in {aside}; their runs train again", flush=True)
        done, other = [j for j in done if name(j) not in other], {}
    if other:  # a record is only kept for the settings it was made with
        key, differ = next(iter(other.items()))
        raise UserError(
            f"{len(other)} records of {args.study} were made with other settings than asked (e.g. {key}: "
            + ", ".join(f"--{k.replace('_', '-')} {had} there, {asked} asked" for k, (had, asked) in differ.items())
            + "): use a new --study folder for new settings, or --replace-other-settings to set them aside and retrain"
        )
    unevaluated = {name(j): lack for j in done if (lack := evaluation_lacks(j))}
    if unevaluated:  # kept: the evaluation is not a setting of the training
        key, lack = next(iter(unevaluated.items()))
        print(f"{len(unevaluated)} records lack evaluations asked now (e.g. {key}: {', '.join(lack)}) and stay as they "
              "are; move such a record out of records/ and `run` again to evaluate its checkpoint anew (with its "
              "work/ folder here, nothing trains again)", flush=True)  # fmt: skip
    for job in jobs:
        module = run_utils.import_algorithm(job["file"])
        run_args = tyro.cli(module.Args, args=job["flags"])
        if run_args.total_timesteps <= run_args.learning_starts and not args.allow_no_update:
            raise UserError(f"{name(job)}: --total-timesteps {run_args.total_timesteps} is not above learning_starts "
                            f"{run_args.learning_starts}, so the run would never update its networks; lower "
                            "learning_starts (--flags learning_starts=...) or pass --allow-no-update")  # fmt: skip
    todo = [j for j in jobs if j not in done]
    if args.dry_run:
        print(f"{args.study}: {len(jobs)} runs, {len(jobs) - len(todo)} with records, {len(todo)} to do (dry run: "
              "nothing written)")  # fmt: skip
        for job in jobs:
            print(f"{'to do' if job in todo else 'record':<7}{name(job)}: {job['file']} {shlex.join(job['flags'])}")
        return 0
    try:
        os.makedirs(args.study, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot make the study folder {args.study}: {e.strerror}") from None
    if not os.path.exists(os.path.join(args.study, ".gitignore")):  # records go into git, the heavy parts not
        with run_utils.writing(os.path.join(args.study, ".gitignore")) as f:
            f.write(
                "# checkpoints, logs and event files of the runs; the records are the study's state\nwork/\njobs/\n"
                "replaced/\n"
            )
    save_plan(args, jobs)
    print(f"{args.study}: {len(jobs)} runs, {len(jobs) - len(todo)} with records, {len(todo)} to do ({args.executor})")
    if not todo:
        return 0
    executor = make_executor(args)
    workers = args.workers or max(1, (os.cpu_count() or 1) // args.threads)
    pending, running, failures, interrupted, skipped = list(todo), {}, 0, 0, 0
    jobs_by_name, shown, finished = {name(j): j for j in todo}, 0.0, len(jobs) - len(todo)
    terminal = on_terminal()  # a refreshed progress line on a terminal; a log file gets the lines that stay only
    if args.executor == "slurm":  # one job array; Slurm's own queue bounds it
        running = dict(zip(map(name, todo), executor.map_array(StudyRun(), todo)))
        print(f"submitted Slurm job array {next(iter(running.values())).job_id.split('_')[0]} ({len(todo)} tasks)")
        pending = []
    with stop_on_signals():
        try:
            while pending or running:
                while pending and len(running) < workers:  # submitit's local executor has no queue: ours bounds it
                    job = pending.pop(0)
                    running[name(job)] = executor.submit(StudyRun(), job)
                for key, job in list(running.items()):
                    if job.done():
                        del running[key]
                        if terminal:
                            refresh()
                        try:
                            job.result()
                            finished += 1
                            print(f"done   {key}", flush=True)
                        except Exception as e:
                            why = failure_reason(e)
                            if why.startswith("training was interrupted"):  # submitit re-raises it as a FailedJobError
                                interrupted += 1
                                print(f"INTERRUPTED {key}: {why}", flush=True)
                                continue
                            if TRAINED_ELSEWHERE in why:  # two `run`s sharing a study: the other one records it
                                skipped += 1
                                print(f"SKIPPED {key}: {why}", flush=True)
                                continue
                            failures += 1
                            print(f"FAILED {key}: {why} (log: {job.paths.stderr})", flush=True)
                if terminal and running and time.time() - shown >= PROGRESS_EVERY:
                    refresh(progress_line(running, jobs_by_name, finished, len(jobs)))
                    shown = time.time()
                time.sleep(1.0)
        except KeyboardInterrupt:
            if terminal:
                refresh()
            if args.executor == "local":
                stop_jobs(running.values())
                run_utils.say("interrupted: running jobs stopped, their trainings saved; `run` again continues where "
                              "the records end")
            else:
                run_utils.say("interrupted: the Slurm jobs go on; `status` shows them, `run` again submits only "
                              "what has no record")
            return 130
    print(f"{len(todo) - failures - interrupted - skipped} runs finished, {interrupted} interrupted (saved), "
          f"{skipped} skipped (training in another process), {failures} failed; `report {args.study}` makes the tables")
    return 1 if failures else 130 if interrupted else 0


@contextlib.contextmanager
def stop_on_signals():
    """While `run` waits for its jobs, SIGTERM (kill, a scheduler) and SIGHUP (a closed terminal) stop it as Ctrl-C
    does: its local jobs are cancelled and their trainings save, rather than training on as orphans."""

    def interrupt(signum, frame):
        if signum == signal.SIGHUP:
            run_utils.quiet_terminal()
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, interrupt) for s in run_utils.STOP_SIGNALS[1:]}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stop_jobs(jobs, seconds=120.0):
    """Stop local jobs so that their trainings save, and wait for them (at most `seconds`). SIGTERM goes to every
    process under each job: the algorithm file saves on it, submitit's processes ignore or forward it. submitit's
    cancel alone sends SIGINT, which a `run` started in the background of a script ignores, and so do its jobs."""
    signalled = []
    for job in jobs:
        process = getattr(job, "_process", None)
        for pid in descendants(process.pid) if process is not None else []:
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.append(pid)
            except OSError:
                pass
        job.cancel()
    deadline = time.time() + seconds
    while any(os.path.exists(f"/proc/{pid}") and not zombie(pid) for pid in signalled) and time.time() < deadline:
        time.sleep(0.2)


def descendants(pid):
    """The processes under `pid` (Linux /proc), children first."""
    parent = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(stat.split("/")[2])] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        above = todo.pop(0)
        kids = [p for p, pp in parent.items() if pp == above]
        found += kids
        todo += kids
    return found


def zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


# not settings of the result
BOOKKEEPING = {"exp_name", "torch_deterministic", "device", "track", "wandb_project_name", "wandb_entity",
               "checkpoint_interval", "snapshot_fractions", "resume", "compile", "cudagraphs"}


def settings_differ(job):
    """{flag: (the record's value, the asked value)} for the settings in which a run's record differs from the job."""
    path = run_paths(job["study"], job["env_id"], job["method"], job["seed"])[1]
    try:
        with open(path) as f:
            had = json.load(f).get("args", {})
    except (OSError, ValueError, AttributeError):
        raise UserError(f"record {path} is malformed: remove it and `run` again") from None
    asked = vars(tyro.cli(run_utils.import_algorithm(job["file"]).Args, args=job["flags"]))
    plain = json.loads(json.dumps(asked))  # tuples as lists, as the record holds them
    return {k: (had[k], asked[k]) for k in plain if k not in BOOKKEEPING and k in had and had[k] != plain[k]}


def evaluation_lacks(job):
    """What a run's record lacks of the evaluation the job asks (noise levels, critic metrics, clean episodes)."""
    with open(run_paths(job["study"], job["env_id"], job["method"], job["seed"])[1]) as f:
        record = json.load(f)  # readable: settings_differ opened it first
    try:
        levels = record["levels"]
        lack = [f"obs noise {s:g}" for s in job["obs_noise"] if s not in {float(level) for level in levels}]
        episodes = len(levels.get("0.0", {}).get("returns", []))
    except (KeyError, TypeError, ValueError, AttributeError):  # a malformed record: `report` names it
        return []
    if job["critic_metrics"] and not record.get("critic"):
        lack.append("critic metrics")
    if episodes < job["episodes"]:
        lack.append(f"{job['episodes']} clean episodes ({episodes} there)")
    return lack


def failure_reason(e):
    """The job's own exception line out of submitit's error (which ends with the list of its log files), with the
    algorithm file's `error:` line where the training failed on one."""
    lines = [line.strip() for line in str(e).splitlines()]
    raised = [line.split(": ", 1)[1] for line in lines if re.match(r"^[\w.]*(Error|Interrupted|Exception): ", line)]
    why = raised[-1] if raised else next((line for line in reversed(lines) if line and not line.startswith("-")), "")
    errors = [line for line in lines if line.startswith("error: ")]  # in the end of train.log that the error quotes
    return f"{why.split(';')[0]}: {errors[-1]}" if errors and why.startswith("training exited") else why


def name(job):
    return f"{job['env_id']}/{job['method']}/seed{job['seed']}"


# --- status -----------------------------------------------------------------------------------------------------


@dataclass
class Status:
    """Which runs of a study are done, running or failed (with the end of each failure's log)."""

    folder: Annotated[Optional[str], tyro.conf.Positional, tyro.conf.arg(metavar="DIR")] = None
    """the study's folder"""
    study: Optional[str] = None
    """the study's folder, as `run --study DIR` names it (either form)"""


def status(args: Status):
    args.study = study_folder(args)
    runs = load_plan(args.study)
    counts = {"done": 0, "failed": 0, "started": 0, "not started": 0}
    for r in runs:
        work, record = run_paths(args.study, r["env_id"], r["method"], r["seed"])
        if os.path.exists(record):
            state = "done"
        elif os.path.exists(os.path.join(work, "failed.txt")):
            state = "failed"
        elif os.path.exists(os.path.join(work, "train.log")):
            state = "started"
        else:
            state = "not started"
        counts[state] += 1
        line = f"{state:<12} {r['env_id']}/{r['method']}/seed{r['seed']}"
        if state == "started" and not locked(work):  # no job holds it: it stopped without a record or a failure
            line += "  (no job runs it now: interrupted or killed; `run` again continues it)"
        elif state == "started" and os.path.exists(os.path.join(work, "waiting.txt")):
            waiting = read_text(work, "waiting.txt").strip()
            with contextlib.suppress(ValueError):
                waiting = str(json.loads(waiting))  # as run_one wrote it; anything else is shown as it is
            line += f"  (trained; waiting for the noise reference run {waiting})"
        elif state == "started":
            age = time.time() - os.path.getmtime(os.path.join(work, "train.log"))
            with open(os.path.join(work, "train.log")) as f:
                last = (f.read().strip().splitlines() or [""])[-1]
            line += f"  (log {age:.0f} s old: {last[-100:]})"
        print(line)
        if state == "failed":
            print("    " + "\n    ".join(read_text(work, "failed.txt").strip().splitlines()[-8:]))
    print(", ".join(f"{n} {k}" for k, n in counts.items()) + f" of {len(runs)}")
    return 0


if __name__ == "__main__":

    def main():
        run_utils.check_repeated_flags(appending={"vary"})  # one meaning for a repeated flag (docs/usage.md)
        command = tyro.extras.subcommand_cli_from_dict({"run": Run, "status": Status, "report": Report})
        code = {Run: run, Status: status, Report: report}[type(command)](command)
        if code:
            sys.exit(code)

    run_utils.command(main)
