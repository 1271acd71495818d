# What benchmarks/study.py (plan, train, evaluate: `run`, `status`) and benchmarks/study_report.py (`report`) share,
# once: the paper's settings (paper_settings.toml), the names of methods and of their sweep variants, and a study
# folder's layout and files, DIR/study.json (the plan), DIR/records/<env>/<method>/seed<k>.json (one record per run,
# the study's state) and DIR/work/ (checkpoints, logs), each read back checked.
import dataclasses
import glob
import json
import os
import re
import sys
import tomllib

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
import run_utils  # noqa: E402
from run_utils import UserError  # noqa: E402

SETTINGS_FILE = os.path.join(REPO, "benchmarks", "paper_settings.toml")
with open(SETTINGS_FILE, "rb") as f:
    SETTINGS = tomllib.load(f)
# Every record scores each episode's first W steps for these W (eval's --sm-window); the report compares an env's
# methods at the largest W that a share REACHED of every method's clean episodes reach (study_report.window_for)
WINDOWS = (25, 50, 100, 200, 500, 1000)
REACHED = 0.8


# --- the paper's settings and the names of methods ------------------------------------------------------


def paper_flags(method: str, env_id: str) -> dict:
    """The flags that train `method` on `env_id` with the paper's configuration (paper_settings.toml); a sweep's
    METHOD[FLAG=VALUE] is METHOD's flags with FLAG set to VALUE. An env the paper did not train (your own task) gets
    the files' defaults: the paper's TD3 / SAC configuration, the method's weights for every env ("*") or else the
    file's own (the paper's Walker2d-v5 weights for td3_pave.py and sac_pave.py), and the file's budget."""
    method, varied = split_variant(method)
    if method not in SETTINGS["method"]:
        raise UserError(f"unknown method {method!r}; known: {', '.join(SETTINGS['method'])}")
    m, env = SETTINGS["method"][method], SETTINGS["env"].get(env_id)
    weights = m["weights"].get(env_id, m["weights"].get("*", None if env else {}))
    if weights is None:
        raise UserError(f"paper_settings.toml has no {method} weights for {env_id}")
    if env is None:
        return {"env_id": env_id, **weights} | varied
    return {"env_id": env_id, "total_timesteps": env["total_timesteps"], **env[m["family"]], **weights} | varied


def method_weights(method):
    """The weights a method sets (paper_settings.toml), e.g. {'lambda1', 'lambda2', 'lambda3'} for td3_pave."""
    tables = SETTINGS["method"][split_variant(method)[0]]["weights"].values()
    return set().union(*tables)


# A sweep's value of a flag (study.py run --vary) is a method of its own, METHOD[FLAG=VALUE] (e.g. td3_pave[lambda3=20])
# in the plan, the records and the report. Its folders, records/<env>/METHOD+FLAG=VALUE/ and work/..., and its runs'
# --exp-name write it without brackets, which globs and shells would read as patterns.
VARIANT = re.compile(r"(\w+)\[(\w+)=([\w.+-]+)\]")


def split_variant(method):
    """'td3_pave[lambda3=20]' -> ('td3_pave', {'lambda3': '20'}); 'td3_pave' -> ('td3_pave', {})."""
    m = VARIANT.fullmatch(method)
    return (m[1], {m[2]: m[3]}) if m else (method, {})


def folder_name(method):
    """td3_pave[lambda3=20] -> td3_pave+lambda3=20; a paper method's name as it is."""
    return method.replace("[", "+").replace("]", "")


def base_of(method):
    """The method a method's (or a variant's) smoothness is compared with: td3 for td3_pave[lambda3=20]."""
    return SETTINGS["method"].get(split_variant(method)[0], {}).get("base")


def method_order(method):
    """paper_settings.toml's order, a method's variants after it by flag, then by value."""
    parent, varied = split_variant(method)
    flag, text = next(iter(varied.items()), ("", ""))
    value = (0, number(text), "") if number(text) is not None else (1, 0.0, text)
    known = list(SETTINGS["method"])
    return known.index(parent) if parent in known else len(known), parent, flag, value


def number(text):
    """A variant's value as a float (None for a word such as relu)."""
    try:
        return float(text)
    except ValueError:
        return None


def value_name(value):
    """The value as the name writes it: a float in its shortest exact form (20.0 -> 20, 1e-05), else as text."""
    if isinstance(value, float):
        value = value + 0.0  # -0.0 is 0: one run, one name
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


# --- a study's folder: its plan, its records, its runs' work -------------------------------------------------


def write_json(path, data):
    """Atomic: a reader never sees half a file, an interrupted write never leaves one."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None
    run_utils.write_file(path, lambda f: json.dump(data, f, indent=1), binary=False)


# An env id as gymnasium reads it, [module:][namespace/]Name-vN; a name read from a record or a plan is checked
# against it and the method's against VARIANT before either becomes a file name (never a path out of the study).
ENV_ID = re.compile(r"(?:[\w.]+:)?(?:[\w.-]+/)?[\w.-]+")


def env_folder(env_id):
    """The one folder (and file-name stem) of an env id in a study: a namespace's '/' becomes '__'
    (records/ns__Name-v0/), so that every env's runs sit at the same depth, where report and study_scalars look."""
    if not isinstance(env_id, str) or not ENV_ID.fullmatch(env_id) or env_id.startswith("."):
        raise UserError(f"{env_id!r} is not an env id ([module:][namespace/]Name-vN)")
    return env_id.replace("/", "__")


def check_method(method, where="--methods"):
    """A method (or a variant of one, td3_pave[lambda3=20], of a flag its file has) of paper_settings.toml, or one
    line that says so."""
    if not isinstance(method, str) or split_variant(method)[0] not in SETTINGS["method"] or (
            "[" in method and not VARIANT.fullmatch(method)):
        raise UserError(f"{where}: {method!r} is not a method of paper_settings.toml (nor a variant of one: "
                        f"{', '.join(SETTINGS['method'])})")
    parent, varied = split_variant(method)
    file = SETTINGS["method"][parent]["file"]
    unknown = set(varied) - {f.name for f in dataclasses.fields(run_utils.import_algorithm(file).Args)}
    if unknown:
        raise UserError(f"{where}: {method!r} varies {', '.join(sorted(unknown))}, which {file} does not have")


def check_seed_value(seed, where):
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise UserError(f"{where}: seed {seed!r} is not an integer in [0, 2^32)")


def run_paths(study, env_id, method, seed):
    """The run's work folder and its record, from names checked first (a plan or a record may hold anything)."""
    check_method(method, f"the run {env_id}/{method}/seed{seed}")
    check_seed_value(seed, f"the run {env_id}/{method}")
    env = env_folder(env_id)
    work = os.path.join(study, "work", env, folder_name(method), f"seed{seed}")
    return work, os.path.join(study, "records", env, folder_name(method), f"seed{seed}.json")


def load_plan(study):
    path = os.path.join(study, "study.json")
    if not os.path.exists(path):
        raise UserError(f"{study} is not a study (no study.json); `run --study {study}` starts one")
    try:
        with open(path) as f:
            runs = json.load(f)["runs"]
        for r in runs:  # each run names its env, method and seed, each checked as it is read
            run_paths(study, r["env_id"], r["method"], r["seed"])
        return runs
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        why = f"{type(e).__name__}; remove it and `run` again to remake the plan"
        raise UserError(f"cannot read {path} ({why})") from None


def study_folder(args):
    """`status DIR` or `status --study DIR` (as `run` takes it), the same for report."""
    given = {f for f in (args.folder, args.study) if f is not None}
    if len(given) != 1:
        raise UserError("name the study once: DIR or --study DIR")
    return given.pop()


RECORD_FIELDS = {"method", "env_id", "seed", "levels", "train_seconds"}  # what report reads of a record


def well_formed(record):
    """The shapes report reads: per noise level (a number) lists of returns and sm, a number of training seconds, and
    where present the run's args (a dict with whole-number steps), its step count and its critic rows (a dict)."""
    levels, args = record["levels"], record.get("args", {})

    def level(key):
        try:
            return np.isfinite(float(key))
        except (TypeError, ValueError):
            return False

    def whole(x):
        return isinstance(x, int) and not isinstance(x, bool)

    return (isinstance(levels, dict) and isinstance(record["train_seconds"], (int, float)) and isinstance(args, dict)
            and all(level(k) and isinstance(v, dict) and all(isinstance(v.get(key), list) and v[key]
                                                            for key in ("returns", "sm")) for k, v in levels.items())
            and all(whole(args[k]) for k in ("learning_starts", "total_timesteps", "seed") if k in args)
            and all(whole(record[k]) for k in ("global_step", "total_timesteps") if k in record)
            and isinstance(record.get("critic"), (dict, type(None))))  # fmt: skip


def load_records(study):
    """The study's records, each checked as it is read: its fields, and its names against its place."""
    records, seen = [], {}
    for path in sorted(glob.glob(os.path.join(study, "records", "*", "*", "seed*.json"))):
        try:
            with open(path) as f:
                record = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise UserError(f"cannot read record {path}: {e}") from None
        missing = sorted(RECORD_FIELDS - set(record)) if isinstance(record, dict) else ["(not a JSON object)"]
        if missing:
            raise UserError(f"record {path} lacks {', '.join(missing)}: remove it and `run` again to remake it")
        if not well_formed(record):
            raise UserError(f"record {path} is malformed (its levels, train_seconds, args, steps or critic): remove it "
                            "and `run` again")
        try:  # its names, checked before they become file names, must be those of its place
            place = run_paths(study, record["env_id"], record["method"], record["seed"])[1]
        except UserError as e:
            raise UserError(f"record {path}: {e}") from None
        if os.path.abspath(place) != os.path.abspath(path):
            raise UserError(f"record {path} is of {record['env_id']}/{record['method']}/seed{record['seed']}, whose "
                            f"place is {os.path.relpath(place, study)}: copied or moved? put it back or remove it")
        trained = record["args"].get("seed") if isinstance(record.get("args"), dict) else None
        if trained is not None and trained != record["seed"]:
            raise UserError(f"record {path} is of seed {record['seed']} but was trained with --seed {trained}: a copy "
                            "of another seed's record? remove it")
        if "finished" in record:  # a record run_one wrote: its evaluation's episodes and time, which no two runs share
            key = json.dumps([record["finished"], record["levels"]], sort_keys=True)
            if key in seen:
                raise UserError(f"records {seen[key]} and {path} hold the same evaluation (one copied over the "
                                "other?): each run counts once; remove the copy")
            seen[key] = path
        records.append(record)
    return records
