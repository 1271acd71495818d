# The run machinery every algorithm file shares, kept out of them as CleanRL keeps its utilities in cleanrl_utils:
# the run folder, the checkpoint and its resume state, --resume, stopping on a signal, progress and SPS, the NaN
# guard, and one-line errors. An algorithm file reads as its algorithm; a fork copies one algorithm file and this one.
#
# What a user can rely on:
# - A signal (Ctrl-C, SIGTERM from a cluster, SIGHUP from a closed terminal) asks the loop to stop: it finishes the
#   step, saves, and exits 130. More signals are ignored, so they cannot break the save.
# - Nothing non-finite is saved: every tensor a save writes is checked first, and the weights after every update.
# - <exp_name>.resume.pt holds everything --resume needs (networks, optimizers, replay buffer, random states), written
#   before <exp_name>.pt, each as a temp file renamed into place: a kill at any instant leaves a resume state that
#   continues the run (the previous one or the new one), and a checkpoint that evaluates.
# - --resume takes the run's own flags as defaults and the command line on top; only SAFE_TO_CHANGE may differ.
import ast
import contextlib
import dataclasses
import fcntl
import importlib
import importlib.util
import os
import random
import re
import signal
import stat
import sys
import threading
import time
import typing
import zipfile

import numpy as np
import torch
import tyro

SAFE_TO_CHANGE = {"total_timesteps", "checkpoint_interval", "snapshot_fractions", "device", "track",
                  "wandb_project_name", "wandb_entity", "resume", "compile", "cudagraphs"}  # fmt: skip
ALGORITHM_DECLARES = {"Args", "Actor", "QNetwork", "make_env", "main", "REGULARIZER_WEIGHTS"}  # what eval imports


def sentences(helptext):
    """A field's docstring as --help shows it: its lines joined into sentences, a blank line still a paragraph break.
    (tyro 1.0.17 keeps a line break wherever the next line starts with the docstring's indent, so --help broke every
    sentence where its source line ended.)"""
    blocks = re.split(r"\n\s*\n", helptext.strip())
    return "\n\n".join(" ".join(line.strip() for line in block.splitlines()) for block in blocks)


tyro._strings.remove_single_line_breaks = sentences  # every file's --help goes through run_utils


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, a cluster or `kill`, a closed terminal


class UserError(Exception):
    """Bad input: reported as one line, no traceback."""


def cli(main, Args):
    """`python file.py ...`: parse the flags (onto the run's own under --resume), run main, and report a UserError
    as one `error:` line with exit code 1 (command). The algorithm files, eval, export and throughput use it."""
    Run.in_cli = True
    command(lambda: main(parse_args(Args)))


def command(call):
    """Run `call()` as a command line does (every tool of the project): a UserError is one `error:` line and exit
    code 1, and so is output that could not be printed (GuardedOutput), after the files are written."""
    previous = sys.stdout
    if previous is None:  # started with stdout closed (`>&-`): nothing to print to, the command still runs
        previous = sys.stdout = open(os.devnull, "w")
    sys.stdout = stdout = GuardedOutput(previous)
    try:
        call()
        stdout.flush()
    except UserError as e:
        error_line(str(e))
        sys.exit(1)
    finally:
        sys.stdout = previous  # a caller in this process (a test) gets its own back
    if stdout.failed is not None:
        error_line(f"cannot print the output: {stdout.failed.strerror or first_line(stdout.failed)} (the command went on "
                   "and its files are written)")
        sys.exit(1)


def error_line(text):
    try:
        print(f"error: {text}", file=sys.stderr, flush=True)
    except OSError:  # stderr is gone too: nothing left to tell
        pass


class GuardedOutput:
    """sys.stdout under cli(), the one path every printed line takes: a write that fails (stdout closed, a pipe whose
    reader is gone, a full disk) is kept once and the rest is dropped, so the command goes on to write its files and
    cli() says it in one line at the end; stdout's descriptor then points at /dev/null, so Python's exit has nothing
    left to fail on."""

    def __init__(self, stream):
        self.stream, self.failed = stream, None

    def write(self, text):
        return self.attempt(self.stream.write, text) or len(text)

    def flush(self):
        self.attempt(self.stream.flush)

    def attempt(self, method, *args):
        if self.failed is None:
            try:
                return method(*args)
            except OSError as e:
                self.failed = e
                try:
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, self.stream.fileno())
                    os.close(null)
                except (OSError, ValueError, AttributeError):
                    pass

    def __getattr__(self, name):
        return getattr(self.stream, name)


def check_repeated_flags(argv=None, appending=()):
    """A flag given twice is one line, for every command (tyro would keep the last without a word, so `--seeds 1
    --seeds 2` ran seed 2 only); a list flag takes all its values after one name (--seeds 1 2). Only the flags in
    `appending` (study.py's --vary, each a sweep of its own) add up when repeated. docs/usage.md says so."""
    seen = set()
    for token in sys.argv[1:] if argv is None else argv:
        if token == "--":
            break
        if not token.startswith("--") or len(token) == 2:
            continue
        name = token[2:].split("=", 1)[0].replace("_", "-")
        name = name[3:] if name.startswith("no-") else name  # --plots and --no-plots are one flag
        if name in seen and name not in appending:
            raise UserError(f"--{name} is given twice; give it once (a list flag takes all its values after one name: "
                            f"--{name} A B)")
        seen.add(name)


def parse_args(Args, argv=None):
    """The command line as Args. With --resume, the run's saved flags are the defaults and the command line goes on
    top, so a flag given explicitly counts even where it equals the file's default."""
    check_repeated_flags(argv)
    args = tyro.cli(Args, args=argv, description=description(Args))
    if getattr(args, "resume", None) == "":
        raise UserError("--resume needs a run folder or its checkpoint")
    if not getattr(args, "resume", None):  # eval and export have no --resume
        return args
    path = resume_paths(args.resume)[1]
    saved = read_state(path, mmap=True)["args"]  # mmap: the buffer is not read here
    named = saved.get("env_id") == getattr(args, "env_id", None)  # given again on the command line
    check_env_import(saved.get("env_id"), path, [env_module(args.env_id)] if named else [],
                     f"give it again, --env-id {saved.get('env_id')}, to allow that")
    check_settings(saved, sys.modules[Args.__module__], path)  # a fork's run: one line, not a KeyError
    fields = {f.name for f in dataclasses.fields(Args)}
    default = Args(**{k: v for k, v in saved.items() if k in fields})
    return tyro.cli(Args, args=argv, default=default, description=description(Args))


def description(Args):
    """--help's first line: the opening comment of the file that defines Args, up to its first full stop."""
    try:
        with open(sys.modules[Args.__module__].__file__) as f:
            lines = [line[2:] for line in f.read().splitlines()[:4] if line.startswith("# ") and line[2:3] != " "]
    except (KeyError, AttributeError, OSError):
        return None
    text = " ".join(lines)
    return re.split(r"(?<=[\w)]\.) (?=[A-Z][a-z])", text)[0] if text else None  # not at "App. A"


def check_autotune_lambda3(args, default_target, low, high):
    """--curv-target and --autotune-lambda3 (td3_pave.py, td3_pave_fast.py, sac_pave.py): a target the hinge can have,
    given only with the flag (else it would change nothing), and a start --lambda3 inside the clamp [low, high]."""
    if not (np.isfinite(args.curv_target) and args.curv_target > 0):
        raise UserError(f"--curv-target must be a finite number > 0 (the hinge is >= 0), got {args.curv_target}")
    if args.curv_target != default_target and not args.autotune_lambda3:
        raise UserError("--curv-target is the hinge that --autotune-lambda3 holds: give both, or neither")
    if args.autotune_lambda3 and not low <= args.lambda3 <= high:
        raise UserError(f"--autotune-lambda3 learns log(lambda3) in [{low:g}, {high:g}]: start it from a --lambda3 in "
                        f"that range, got {args.lambda3:g}")

def check_run_args(args):
    """The checks of the flags every algorithm file has."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*", args.exp_name) or args.exp_name.endswith(".resume"):
        raise UserError(f"--exp-name {args.exp_name!r} must be a plain name (letters, digits, _ . + = -), not a path, "
                        "not ending in .resume")
    check_seed("--seed", args.seed)
    if args.total_timesteps < 1 or args.learning_starts < 0 or args.checkpoint_interval < 0:
        raise UserError("--total-timesteps must be >= 1, --learning-starts and --checkpoint-interval >= 0")
    if not all(0 <= f < 1 for f in args.snapshot_fractions):
        raise UserError(f"every --snapshot-fractions entry must be in [0, 1), got {args.snapshot_fractions}")
    check_number("--learning-rate", args.learning_rate, positive=True)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device")


# --- the flags of every command: training files, eval, export, throughput and study check them here ---------------


def check_number(flag, value, positive=False, integer=False, below=None):
    """A finite number >= 0 (> 0 with positive; an int with integer; < below), or one line that says which."""
    kind = "an integer" if integer else "a finite number"
    bound = ">= 1" if integer and positive else "> 0" if positive else ">= 0"
    ok = isinstance(value, int) if integer else isinstance(value, (int, float)) and bool(np.isfinite(value))
    if not (ok and (value > 0 if positive else value >= 0) and (below is None or value < below)):
        bound += f" and < {below}" if below is not None else ""
        raise UserError(f"{flag} must be {kind} {bound}, got {value}")


def check_seed(flag, value):
    if not 0 <= value < 2**32:
        raise UserError(f"{flag} must be in [0, 2^32), got {value}")


def check_output(flag, path):
    """A file the command will write: checked before any work, so a long measurement is never lost at its end."""
    folder = os.path.dirname(os.path.abspath(path))
    if not path:
        raise UserError(f"{flag} '' names no file")
    if os.path.isdir(path):
        raise UserError(f"{flag} {path} is a folder; name the file to write")
    if not os.path.isdir(folder):
        raise UserError(f"{flag} {path}: its folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: its folder {folder} is not writable")
    check_not_run_file(path, flag)


def check_distinct(flag, values):
    repeated = sorted({str(v) for v in values if list(values).count(v) > 1})
    if repeated:
        raise UserError(f"{flag} repeats {', '.join(repeated)}; each must be given once")


# --- the checkpoint and its resume state ------------------------------------------------------------------------


def first_line(e):
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def new_run_folder(args):
    """runs/<env>__<exp_name>__<seed>__<unix time>, made here; a run started in the same second gets _2, _3, ..."""
    base = os.path.join("runs", f"{args.env_id.replace('/', '_')}__{args.exp_name}__{args.seed}__{int(time.time())}")
    os.makedirs("runs", exist_ok=True)
    for i in range(1, 1000):
        try:
            path = base if i == 1 else f"{base}_{i}"
            os.mkdir(path)  # atomic: two runs never get one folder
            return path
        except FileExistsError:
            continue
    raise OSError(17, "too many runs started in one second")


def resume_paths(path):
    """A run folder, its checkpoint or its resume state -> (checkpoint, resume state), through any symlink: a link
    to a run (`latest -> runs/...`) resumes the run where it is, never a copy in the link's folder."""
    path = os.path.realpath(path) if os.path.islink(path.rstrip(os.sep)) else path
    if os.path.isdir(path):
        found = sorted(f for f in os.listdir(path) if f.endswith(".resume.pt"))
        if len(found) != 1:
            raise UserError(f"cannot resume from {path}: {len(found)} checkpoints with a resume state in it, name one")
        path = os.path.join(path, found[0])
    stem = path[: -len(".resume.pt")] if path.endswith(".resume.pt") else path[: -len(".pt")]
    if not path.endswith(".pt"):
        raise UserError(f"cannot resume from {path}: name a run folder or its .pt checkpoint")
    return stem + ".pt", stem + ".resume.pt"


def read_state(path, mmap=False):
    """A resume state as a dict with at least the run's args, algorithm, step and networks. A state from before
    the networks lived in it takes them from its checkpoint, when both are of the same step."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
        if not isinstance(state, dict) or "global_step" not in state:
            raise ValueError("not a resume state")
        if "nets" not in state:
            checkpoint = torch.load(path[: -len(".resume.pt")] + ".pt", map_location="cpu", weights_only=True)
            if checkpoint["global_step"] != state["global_step"]:
                raise ValueError(f"its checkpoint is of step {checkpoint['global_step']}, it of {state['global_step']}")
            keys = set(checkpoint) - {"algorithm", "args", "env_id", "observation_space", "action_space", "global_step"}
            state |= {"algorithm": checkpoint["algorithm"], "args": checkpoint["args"],
                      "nets": {k: checkpoint[k] for k in keys}}  # fmt: skip
        if not isinstance(state["args"], dict):
            raise ValueError("its args are not a dict")
    except Exception as e:
        raise UserError(f"cannot resume from {path}: {first_line(e)}") from None
    return ResumeState(state, path=path)


RESUME_STATE = {"nets": dict, "buffer": dict, "numpy": dict, "latest": dict, "python": tuple, "torch": torch.Tensor}


class ResumeState(dict):
    """A key the file asks for that the state lacks is a malformed state: one line, not a KeyError."""

    def __init__(self, state, path):
        super().__init__(state)
        self.path = path

    def __missing__(self, key):
        raise UserError(f"cannot resume from {self.path}: it has no {key!r} (not written by this version of the file?)")


def is_run_file(path):
    """Whether `path` is a file torch.save wrote (a checkpoint, its resume state, a snapshot), whatever its name: a
    zip archive holding a data.pkl and no TorchScript code/ (an exported .ts file may be replaced)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return any(n.endswith("/data.pkl") for n in names) and not any("/code/" in n for n in names)


def check_not_run_file(path, flag=None):
    """One line instead of writing over a run's checkpoint, resume state or snapshot (a slip of tab completion)."""
    if os.path.isfile(path) and is_run_file(path):
        named = f"{flag} {path}" if flag else path
        raise UserError(f"{named} is a run's checkpoint, resume state or snapshot (a torch file); nothing writes over "
                        "it: name another file")


def fresh_temp(tmp, replaces_run_file=False):
    """A temp file's name, made safe to write: a link there (which would carry the write elsewhere) is removed, not
    followed; a run's file of that name is refused (a save's own stale temp, left by a kill, may be replaced)."""
    if os.path.islink(tmp):
        os.unlink(tmp)
    elif not replaces_run_file:
        check_not_run_file(tmp)
    return tmp


@contextlib.contextmanager
def writing(path, binary=False, newline=None, replaces_run_file=False):
    """`with writing(path) as f:` for every file the project writes (checkpoints, records, eval's tables and plots,
    exports, measurements): into a temp file, flushed to disk, renamed over `path`, so a reader sees the old or the
    new file. A failure (a full disk, a folder made read-only or removed) is one UserError line that names the file
    and the reason; the temp file is removed and the old `path` is untouched. Only a save of a run
    (replaces_run_file) may replace a checkpoint, resume state or snapshot."""
    if not replaces_run_file:
        check_not_run_file(path)
    tmp = fresh_temp(path + ".tmp", replaces_run_file)
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666),
                  "wb" if binary else "w", **({} if binary else {"newline": newline})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except Exception as e:  # not a KeyboardInterrupt: as a kill, it leaves the temp file, which the next save replaces
        try:
            os.remove(tmp)
        except OSError:
            pass
        # torch.save reports a failed write as a RuntimeError of its zip writer
        if not isinstance(e, OSError) and not (isinstance(e, RuntimeError) and re.search(r"writ|file", str(e), re.I)):
            raise
        why = e.strerror if isinstance(e, OSError) and e.strerror else first_line(e)
        raise UserError(f"cannot write {path}: {why}") from None


def write_file(path, write, binary=True, replaces_run_file=False):
    """`write(f)` into `path` through writing()."""
    with writing(path, binary, replaces_run_file=replaces_run_file) as f:
        write(f)


def write_atomic(data, path):
    """torch.save through write_file: a run's save, which replaces its previous one."""
    write_file(path, lambda f: torch.save(data, f), replaces_run_file=True)


def nonfinite(tree, where=""):
    """The first place in a nest of dicts, lists and tensors (what a save writes) that holds NaN or inf, or None."""
    if torch.is_tensor(tree):
        return None if not tree.is_floating_point() or torch.isfinite(tree).all() else where
    if isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        return None if np.isfinite(tree).all() else where
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return None
    return next((bad for k, x in items if (bad := nonfinite(x, f"{where}.{k}" if where else str(k)))), None)


def state_dicts(nets):
    """Modules and optimizers by their state dicts, plain tensors (SAC's log_alpha) as they are."""
    return {name: x.detach().clone() if torch.is_tensor(x) else x.state_dict() for name, x in nets.items()}


def box(space):
    return {"shape": list(space.shape), "low": space.low.tolist(), "high": space.high.tolist()}


def env_module(env_id):
    """The module an env id asks gymnasium to import before making it ('mypkg' of 'mypkg:Env-v0'), or None."""
    return env_id.split(":", 1)[0] if isinstance(env_id, str) and ":" in env_id else None


def check_env_import(env_id, where, allowed=(), how=None):
    """A file (checkpoint, resume state, record) never chooses code: an env id it holds that names a module is made
    only when the user named that module (`allowed`, from the command line); else one line says how to."""
    if not isinstance(env_id, str) or not env_id:
        raise UserError(f"{where} has no env id (got {env_id!r})")
    module = env_module(env_id)
    if module is not None and module not in allowed:
        how = how or f"add --env-module {module} to allow it"
        raise UserError(f"{where} names env {env_id!r}, for which gymnasium would import module {module!r} (run its "
                        f"code), which you did not name: {how}")


def load_checkpoint(path, device="cpu", algorithm=None, env_modules=()):
    """A checkpoint of an algorithm file, checked, with the module of the file that wrote it: for eval, study and
    throughput. The file is imported only when it is an algorithm file of the folder beside this module (it declares
    ALGORITHM_DECLARES, read without running it), so a checkpoint never chooses other code; a fork of td3_pave.py
    there is one. `algorithm`: a file the user names instead (a path), imported whatever it declares. An env id that
    names a module ('mypkg:Env-v0') is refused unless `env_modules` (the user's --env-module) names it."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except OSError as e:
        raise UserError(f"cannot read checkpoint {path}: {e.strerror}") from None
    except Exception as e:  # torch's own messages here are cryptic ("101") or suggest unsafe loading
        why = f"not a checkpoint file ({type(e).__name__} in torch.load)"
        raise UserError(f"cannot read checkpoint {path}: {why}") from None
    keys = {"algorithm", "args", "env_id", "actor", "qf1", "observation_space", "action_space", "global_step"}
    if not isinstance(ckpt, dict) or not keys <= set(ckpt) or not isinstance(ckpt["args"], dict):
        raise UserError(f"{path} is not a checkpoint of this project's algorithm files")
    check_env_import(ckpt["env_id"], path, env_modules)
    bad = nonfinite({k: ckpt[k] for k in ("actor", "qf1")})
    if bad:
        raise UserError(f"{path}: its weight {bad} is not finite (NaN or inf): a damaged checkpoint, nothing to evaluate")
    module = import_named(algorithm) if algorithm is not None else import_algorithm(str(ckpt["algorithm"]),
                                                                                      f"{path} was written by")
    check_settings(ckpt["args"], module, path)
    return ckpt, module


def check_settings(saved, module, path):
    """A checkpoint's setting of a choice this file does not offer (a fork's activation, say) is one line that names
    it, not a KeyError deep in the networks; a setting this file does not have is ignored."""
    hints = typing.get_type_hints(module.Args)
    for name, value in saved.items():
        kind = hints.get(name)
        if typing.get_origin(kind) is typing.Literal and value not in typing.get_args(kind):
            choices, file = ", ".join(map(str, typing.get_args(kind))), os.path.basename(module.__file__)
            raise UserError(f"{path} has --{name.replace('_', '-')} {value!r}, which {file} does not know ({choices}): "
                            "a checkpoint of a fork? name the fork's file with --algorithm")


def import_named(path):
    """The algorithm file a user named on the command line (eval --algorithm), by its path."""
    if not os.path.isfile(path) or not path.endswith(".py"):
        raise UserError(f"--algorithm {path}: no such .py file")
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == os.path.abspath(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses and pickles look it up there
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise UserError(f"cannot import --algorithm {path}: {type(e).__name__}: {e}") from None
    return module


def import_algorithm(name, context="asked for"):
    """Import the algorithm file `name` of this module's folder, after reading that it is one."""
    folder = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(folder, os.path.basename(name))
    if os.path.basename(name) != name or not name.endswith(".py") or not os.path.isfile(source):
        raise UserError(f"{context} {name!r}, which is not a file in {folder}")
    if not is_algorithm_file(source):
        raise UserError(f"{context} {name}, which is not an algorithm file (it does not declare "
                        f"{', '.join(sorted(ALGORITHM_DECLARES))}): nothing of it was run")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(name[: -len(".py")])
    except Exception as e:
        raise UserError(f"cannot import {name}: {type(e).__name__}: {e}") from None


def is_algorithm_file(source):
    """Whether `source` declares at its top level what an algorithm file declares (read, not run)."""
    try:
        with open(source) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return False
    names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return ALGORITHM_DECLARES <= names


def is_base(ckpt, module):
    """A run of the file with every regularizer weight the file declares at 0 (plain TD3 or SAC)."""
    return all(ckpt["args"].get(k, 0) == 0 for k in module.REGULARIZER_WEIGHTS)


def say(text):
    """A console line of the run. The terminal may close between the hangup and its SIGHUP's handler: a line that
    cannot be written then is dropped, and the run goes on to its save."""
    try:
        print(text, flush=True)
    except OSError:
        quiet_terminal()


def quiet_terminal():
    """After SIGHUP, send stdout and stderr to /dev/null where they went to the closed terminal (any writes to it fail
    with EIO; it no longer even says it is a tty): a character device. A log file or a pipe stays."""
    for name in ("stdout", "stderr"):
        try:
            closed = stat.S_ISCHR(os.fstat(getattr(sys, name).fileno()).st_mode)
        except (OSError, ValueError, AttributeError):
            closed = True
        if closed:
            setattr(sys, name, open(os.devnull, "w"))


class EventLog:
    """`run.writer`, the run's TensorBoard SummaryWriter. TensorBoard writes from a thread of its own; when that
    fails (the run folder removed, the disk full) it prints a traceback there and raises again at the next scalar.
    Here the thread stays quiet and that next scalar ends the run with one line that says what is kept."""

    def __init__(self, run, writer):
        self.run, self.writer, self.previous_hook = run, writer, threading.excepthook
        threading.excepthook = self.quiet_thread

    def quiet_thread(self, args):
        if not issubclass(args.exc_type, OSError):  # the main thread reports an OSError of the writer's thread
            self.previous_hook(args)

    def __getattr__(self, name):
        method = getattr(self.writer, name)

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except OSError as e:
                self.run.stop(f"cannot write the event log in {self.run.dir}: {e.strerror or first_line(e)}")

        return call


def check_env_fits(args, env):
    """Before anything is allocated: an action box the actor's tanh can map onto (finite bounds), and a replay buffer
    and networks that fit in this machine's free memory (an absurd --buffer-size or --hidden-sizes is one line, not
    an allocator's traceback or the kernel's OOM kill minutes later)."""
    space = env.action_space
    if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
        raise UserError(f"{args.env_id} has an unbounded action box (low {space.low.tolist()}, high "
                        f"{space.high.tolist()}): the actor's tanh needs finite bounds to scale to; wrap the env with "
                        "gymnasium.wrappers.ClipAction or RescaleAction first")
    obs_dim, act_dim = env.observation_space.shape[0], space.shape[0]
    buffer = args.buffer_size * (2 * obs_dim + act_dim + 2) * 4  # float32 s, a, r, s', done
    widths = [obs_dim + act_dim, *args.hidden_sizes, max(act_dim, 1)]
    mlp = sum((a + 1) * b for a, b in zip(widths, widths[1:])) * 4
    networks = 16 * mlp  # actor, twin critics, their targets, Adam's two moments of each trained one (an upper bound)
    activations = 64 * args.batch_size * sum(args.hidden_sizes) * 4  # PAVE's extra rows and double backward
    need, free = buffer + networks + activations, available_memory()
    if free is not None and need > free:
        gb = 1024**3
        raise UserError(f"this run needs about {need / gb:.3g} GB (replay buffer {buffer / gb:.2g} GB: --buffer-size "
                        f"{args.buffer_size}; networks {(networks + activations) / gb:.2g} GB: --hidden-sizes "
                        f"{' '.join(map(str, args.hidden_sizes))}), more than the {free / gb:.3g} GB free here")


def available_memory():
    """Bytes of memory free for a new process (MemAvailable), or None where the system does not say."""
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None


# --- one training run --------------------------------------------------------------------------------------------


class Run:
    """A training run as the algorithm file sees it: `dir`, `writer` (from `track` on), `state` (resumed), `step`
    (the steps done), and at each step's end `step_done`, which logs, prints, checkpoints and answers whether a
    signal asked to stop. `finish` saves the last pair."""

    open_run = None  # a run that ended by an exception in this process (a caller's, a test's): closed by the next
    in_cli = False  # a command line (cli): after a stop, signals stay ignored until the process has exited

    def __init__(self, args, algorithm_file, env=None):
        if Run.open_run is not None:
            Run.open_run.close()
        check_run_args(args)
        if env is not None:
            check_env_fits(args, env)
        self.algorithm = os.path.basename(algorithm_file)
        self.state, self.step, self.stop_signal, self.env_state, self.resets = None, 0, None, None, 0
        self.params, self.saved_step = [], None  # the weights check_finite checks; the step of the last saved pair
        if args.resume:  # the same run folder, TensorBoard log and checkpoint
            self.checkpoint_path, self.state = self.load_resume(args)
            self.dir, self.step = os.path.dirname(self.checkpoint_path), self.state["global_step"]
            self.saved_step = self.step
        else:
            self.dir = None  # made below, a new folder of its own
            self.checkpoint_path = None
        self.args = args
        every = getattr(args, "train_frequency", 1)  # SAC's files update at the steps s with (s + 1) % every == 0
        first_update = -(-(args.learning_starts + 1) // every) * every - 1  # the first such s >= learning_starts
        if args.total_timesteps <= first_update:
            why = (f"<= --learning-starts {args.learning_starts}" if every == 1 else f"does not reach its first update "
                   f"(step {first_update:,} at --learning-starts {args.learning_starts} and --train-frequency {every})")
            say(f"warning: --total-timesteps {args.total_timesteps} {why}: this run only collects random steps and "
                "never updates the networks")
        try:
            if self.dir is None:
                self.dir = new_run_folder(args)
                self.checkpoint_path = os.path.join(self.dir, f"{args.exp_name}.pt")
            self.lock = open(os.path.join(self.dir, f".{args.exp_name}.lock"), "w")
        except OSError as e:
            where = self.dir or os.path.join("runs", f"{args.env_id.replace('/', '_')}__{args.exp_name}__...")
            raise UserError(f"cannot write the run folder {where}: {e.strerror}") from None
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{self.dir} is being trained by another process; wait for it or stop it") from None
        Run.open_run, self.writer, self.handlers = self, None, {}
        if threading.current_thread() is threading.main_thread():  # from here a signal asks the loop to stop (also
            # as a background job, which ignores SIGINT); the loop runs at least one step, then saves
            self.handlers = {s: signal.signal(s, self.on_signal) for s in STOP_SIGNALS}
        if args.track:
            try:
                import wandb
            except ImportError:
                raise UserError("--track needs wandb: pip install wandb") from None
            wandb.init(project=args.wandb_project_name, entity=args.wandb_entity, sync_tensorboard=True,
                       config=vars(args), name=os.path.basename(self.dir), save_code=True)  # fmt: skip
        self.snapshots = {int(f * args.total_timesteps) for f in args.snapshot_fractions}
        self.start_time = self.last_print = None  # SPS: of the phase that runs (warm-up, training), clocked from the
        # first step, so that setting up (a compile, a resume's load) never counts as slow steps
        self.start_step, self.train_seconds = self.step, None

    def load_resume(self, args):
        checkpoint_path, resume_path = resume_paths(args.resume)
        state = read_state(resume_path)
        if state["algorithm"] != self.algorithm:
            raise UserError(f"cannot resume from {resume_path}: written by {state['algorithm']}, not {self.algorithm}")
        saved, given, defaults = state["args"], vars(args), vars(type(args)())
        changed = {k for k in defaults if given[k] != saved.get(k, defaults[k])}
        unsafe = sorted(changed - SAFE_TO_CHANGE)
        if unsafe:
            raise UserError(f"--resume {resume_path}: the run has " + ", ".join(
                f"--{k.replace('_', '-')} {saved.get(k)}" for k in unsafe) + "; a resumed run keeps its own "
                "(changing them needs a new run)")  # fmt: skip
        for key, kind in RESUME_STATE.items():
            if not isinstance(state[key], kind):
                raise UserError(f"cannot resume from {resume_path}: its {key!r} is malformed")
        step = state["global_step"]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise UserError(f"cannot resume from {resume_path}: its global_step {step!r} is not a step count")
        buffer = state["buffer"]
        if not {"pos", "size", "sampler"} <= set(buffer) or not all(
                isinstance(buffer[k], int) and 0 <= buffer[k] <= args.buffer_size for k in ("pos", "size")):
            raise UserError(f"cannot resume from {resume_path}: its replay buffer is malformed")
        bad = nonfinite(state["nets"])
        if bad:
            raise UserError(f"cannot resume from {resume_path}: its {bad} is not finite (NaN or inf): a damaged state")
        if args.total_timesteps < state["global_step"]:
            raise UserError(f"--total-timesteps {args.total_timesteps} is below the {state['global_step']} steps the "
                            f"run has done")  # fmt: skip
        for k in sorted(changed - {"resume"}):
            say(f"resume: --{k.replace('_', '-')} {saved.get(k)} -> {given[k]}")
        return checkpoint_path, state

    def track(self, env, nets, rb, rng, latest, extra=None):
        """What a save writes and --resume restores: the networks and optimizers (`nets`; a plain tensor such as SAC's
        log_alpha by value), the replay buffer, the numpy generator of the file's own draws, the latest losses,
        Python's and torch's random states, the env's generator (reset_env), and `extra()` of the file's own. Called
        once the networks are made (which draws from torch's generator): a resumed run restores them here."""
        self.env, self.nets, self.rb, self.rng, self.latest, self.extra = env, nets, rb, rng, latest, extra
        self.params = [p for x in nets.values() if isinstance(x, torch.nn.Module) for p in x.parameters()]
        self.params += [x for x in nets.values() if torch.is_tensor(x)]  # SAC's log_alpha
        if self.state:
            for name, x in nets.items():
                try:
                    saved = self.state["nets"][name]
                    with torch.no_grad():
                        x.copy_(saved) if torch.is_tensor(x) else x.load_state_dict(saved)
                except (KeyError, RuntimeError, ValueError) as e:
                    why = f"its {name} does not fit ({first_line(e)})"
                    raise UserError(f"cannot resume from {self.state.path}: {why}") from None
            try:
                rb.load_state_dict(self.state["buffer"])
                rng.bit_generator.state = self.state["numpy"]
                latest |= self.state["latest"]
                random.setstate(self.state["python"])
                torch.set_rng_state(self.state["torch"])
                if self.state.get("torch_cuda") is not None and torch.cuda.is_available():  # a GPU run's draws
                    torch.cuda.set_rng_state_all(self.state["torch_cuda"])
            except (KeyError, RuntimeError, ValueError, TypeError) as e:
                raise UserError(f"cannot resume from {self.state.path}: its replay buffer or random states do not fit "
                                f"({first_line(e)})") from None  # fmt: skip
            say(f"resumed at step {self.step:,} from {self.checkpoint_path}")
        elif 0 in self.snapshots:
            self.save(self.snapshot_path(0), 0, resume=False)  # the initial networks
        from torch.utils.tensorboard import SummaryWriter  # the event log once the run is whole: bad states write none

        self.writer = EventLog(self, SummaryWriter(self.dir, purge_step=self.state and self.step))  # resumed: drop
        # what came after
        table = "\n".join(f"|{key}|{value}|" for key, value in vars(self.args).items())
        self.writer.add_text("hyperparameters", f"|param|value|\n|-|-|\n{table}")

    def reset_env(self, env):
        """env.reset() for the loop. The first seeds the env with --seed, or, resumed, sets its generator to where the
        interrupted episode began, so that episode starts again; each records that generator state for a save."""
        if self.resets == 0 and self.state and self.state["env"] is not None:
            self.env_state = self.state["env"]
            env.unwrapped.np_random.bit_generator.state = self.env_state
        elif self.resets > 0:
            self.env_state = env.unwrapped.np_random.bit_generator.state
        self.resets += 1
        return env.reset(seed=None if self.env_state else self.args.seed)

    def snapshot_path(self, step):
        return os.path.join(self.dir, f"{self.args.exp_name}_step{step}.pt")

    def save(self, path, step, resume=True):
        """The checkpoint at `path` and, with resume, its resume state beside it (first); never of NaN or inf: every
        tensor it writes is checked before anything is written."""
        if self.latest:  # the files check each step; td3_pave_fast.py --cudagraphs only here and at logging steps
            self.check_finite(self.latest, step - 1)
        nets = state_dicts(self.nets)
        checkpoint = {"algorithm": self.algorithm, "args": vars(self.args), "env_id": self.args.env_id,
                      "observation_space": box(self.env.observation_space), "action_space": box(self.env.action_space),
                      "global_step": step, **nets}  # fmt: skip
        if self.train_seconds is not None:  # the training phase of the attempt that ended the run (benchmarks)
            checkpoint["train_seconds"] = self.train_seconds
        state = None
        if resume:
            state = {"algorithm": self.algorithm, "args": vars(self.args), "global_step": step, "nets": nets,
                     "buffer": self.rb.state_dict(), "numpy": self.rng.bit_generator.state, "latest": self.latest,
                     "env": self.env_state, "python": random.getstate(), "torch": torch.get_rng_state(),
                     "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None}
            state |= self.extra() if self.extra else {}
        bad = nonfinite(checkpoint) or (state is not None and nonfinite(state))
        if bad:
            self.stop(f"training stopped: {bad} is not finite at step {step}, nothing of it was saved")
        written = False  # the resume state, before the checkpoint
        try:
            if resume:
                write_atomic(state, path[: -len(".pt")] + ".resume.pt")
                written = True
            write_atomic(checkpoint, path)
        except UserError as e:
            self.stop(f"{e}", f"the new resume state of step {step} is saved (--resume continues from it), the "
                      f"checkpoint {path} is not" if written else None)
        if resume:
            self.saved_step = step

    def stop(self, why, kept=None):
        """End the run on `why` with one line that says truly what of it is kept on disk."""
        if kept is None and self.saved_step is None:
            kept = "no checkpoint was written before it"
        elif kept is None:
            kept = f"the last good checkpoint {self.checkpoint_path} (step {self.saved_step}) is kept"
            if not os.path.exists(self.checkpoint_path):
                kept = f"the run's checkpoint {self.checkpoint_path} is gone (its folder was removed or emptied?)"
        self.close()
        raise UserError(f"{why}; {kept}")

    def on_signal(self, signum, frame):
        if signum == signal.SIGHUP:  # the terminal is gone: writing to it would fail (EIO), so stop writing to it
            quiet_terminal()
        if self.stop_signal is None:
            say(f"\n{signal.Signals(signum).name}: stopping after this step and saving (further signals are "
                  "ignored until the save is done)")  # fmt: skip
            self.stop_signal = signum

    def check_finite(self, losses, step):
        """Stop with the loss's name and step on NaN or inf in a loss or in the weights after an update (an update whose
        loss was finite can still make them inf), keeping the last good checkpoint. One host sync for the losses and a
        sum per parameter (NaN or inf in a tensor makes its sum so; ~0.27 ms per step for TD3's 735k weights on one CPU
        thread, docs/reliability.md); a sum that overflowed on finite weights is told apart by the exact check."""
        values = [*losses.values(), *(p.sum() for p in self.params)]
        if torch.isfinite(torch.stack(values)).all():
            return
        name, value = next(((k, v.item()) for k, v in losses.items() if not torch.isfinite(v)), (None, None))
        if name is not None:
            self.stop(f"training stopped: loss {name} is {value} at step {step}")
        bad = nonfinite({k: x if torch.is_tensor(x) else dict(x.named_parameters()) for k, x in self.nets.items()
                         if torch.is_tensor(x) or isinstance(x, torch.nn.Module)})  # fmt: skip
        if bad:
            self.stop(f"training stopped: weight {bad} is not finite after the update of step {step} (its losses were "
                      "finite)")

    def step_done(self, step, recent_returns):
        """The end of a step (`step` steps done): the latest losses (the dict given to track, which the loop updates)
        and SPS to TensorBoard every 100 steps, snapshots, the periodic checkpoint, the console line. True when a
        signal asked to stop."""
        self.step, args = step, self.args
        if self.start_time is None:  # the first step of this attempt has just run
            self.start_time, self.start_step = time.time(), step
            self.last_print = self.start_time
        if step == args.learning_starts:  # SPS counts the training phase only
            self.start_time, self.start_step = time.time(), step
            say(f"step {step:,}: warm-up done, training starts")
        if self.latest and (step - 1) % 100 == 0:
            self.check_finite(self.latest, step - 1)
            for name, value in self.latest.items():
                self.writer.add_scalar(f"losses/{name}", value.item(), step - 1)
            self.writer.add_scalar("charts/SPS", int(self.sps()), step - 1)
        if step in self.snapshots:
            self.save(self.snapshot_path(step), step, resume=False)
        if args.checkpoint_interval and step % args.checkpoint_interval == 0:
            self.save(self.checkpoint_path, step)
        if time.time() - self.last_print > 10 or step == args.total_timesteps:
            self.last_print = time.time()
            say(self.progress(recent_returns))
        if step == args.total_timesteps and step > args.learning_starts:
            self.train_seconds = time.time() - self.start_time  # this attempt's training phase (benchmarks)
        return self.stop_signal is not None

    def sps(self):
        return (self.step - self.start_step) / max(time.time() - self.start_time, 1e-9)

    def progress(self, recent_returns):
        """The console line: step, SPS (of the warm-up or of training), ETA at the training speed (none until training
        has run 100 steps: the warm-up's random steps say nothing of the updates' speed), recent return."""
        sps, args = self.sps(), self.args
        if self.step <= args.learning_starts:
            phase, eta = " (warm-up)", "ETA once training runs"
        elif self.step - self.start_step < 100:
            phase, eta = "", "ETA in a moment"
        else:
            seconds = int((args.total_timesteps - self.step) / max(sps, 1e-9))
            phase, eta = "", f"ETA {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        ret = f"{np.mean(recent_returns):.1f}" if recent_returns else "n/a"
        return (f"step {self.step:,}/{args.total_timesteps:,} | {sps:.0f} SPS{phase} | {eta} | return {ret} "
                f"(last {len(recent_returns)} episodes)")

    def finish(self):
        """Save the checkpoint and resume state of the steps done; exit 130 when a signal stopped the run."""
        self.save(self.checkpoint_path, self.step)
        self.close()
        if self.stop_signal is not None:
            say(f"interrupted at step {self.step:,}; checkpoint saved to {self.checkpoint_path}; continue with: "
                f"python {self.algorithm} --resume {self.dir}")  # fmt: skip
            raise SystemExit(130)
        say(f"done; checkpoint saved to {self.checkpoint_path}")
        return self.dir

    def close(self):
        Run.open_run = None
        if self.writer is not None:
            try:
                self.writer.writer.close()
            except OSError:  # its folder is gone or full: the error that ends the run says so
                pass
            threading.excepthook = self.writer.previous_hook
        for s, handler in self.handlers.items():  # a stopped command line ignores signals until it has exited (Python's
            # exit resets its own handlers to the default, which would kill it, but leaves SIG_IGN)
            signal.signal(s, signal.SIG_IGN if self.in_cli and self.stop_signal else handler or signal.SIG_DFL)
        self.lock.close()
