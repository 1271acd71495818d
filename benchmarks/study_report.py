# The report of a study (`python benchmarks/study.py report DIR`): the paper's tables from the records, each seed's
# value beside the IQM over seeds with its 95% bootstrap interval and the probability of improvement over the
# base; sm over each episode's first W steps where episode lengths differ; the noise and critic tables; the plots;
# for a sweep (run --vary), the paper's Figure 4 per varied flag and the Pareto front. It reads what `run`
# (benchmarks/study.py) wrote and trains nothing.
import csv
import os
from dataclasses import dataclass
from typing import Annotated, Optional

import numpy as np
import tyro

from study_records import (REACHED, SETTINGS, WINDOWS, base_of, env_folder, load_plan, load_records, method_order,
                           number, paper_flags, run_paths, split_variant, study_folder, value_name)  # fmt: skip

import run_utils  # noqa: E402  (study_records put the repo on the path)
from eval_smoothness import LENGTH_MARGIN  # noqa: E402  (the margin eval's tables use)
from run_utils import UserError  # noqa: E402


@dataclass
class Report:
    """The paper-style tables with IQM, 95% bootstrap intervals and the probability of improvement."""

    folder: Annotated[Optional[str], tyro.conf.Positional, tyro.conf.arg(metavar="DIR")] = None
    """the study's folder"""
    study: Optional[str] = None
    """the study's folder, as `run --study DIR` names it (either form)"""
    resamples: int = 10_000
    """bootstrap resamples (fixed seed)"""
    out_dir: Optional[str] = None
    """where report.md, report.csv and the plots go (None: the study's folder)"""
    plots: bool = True
    """per env: sm against return, every seed a point, each method's IQM with its interval; for a sweep (run
    --vary) also <env>_<method>_sweep.png (return and sm against each varied flag's value) and <env>_pareto.png"""


MIN_RESAMPLES = 100  # the fewest bootstrap resamples report takes for its 95% intervals


def iqm(x, axis=-1):
    """Interquartile mean: the mean of the middle half (scipy's trim_mean at 25%, as rliable)."""
    from scipy.stats import trim_mean

    return trim_mean(x, 0.25, axis=axis)


def iqm_interval(x, resamples, seed=0):
    """95% percentile-bootstrap interval of the IQM over seeds (one task: rliable's stratified bootstrap)."""
    from scipy.stats import bootstrap

    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    ci = bootstrap(
        (x,), iqm, n_resamples=resamples, method="percentile", vectorized=True, rng=np.random.default_rng(seed)
    )
    return float(ci.confidence_interval.low), float(ci.confidence_interval.high)


def prob_lower(x, y):
    """P(X < Y) for one draw of each (Mann-Whitney: ties count half), over the last axes of x and y."""
    x, y = np.expand_dims(x, -1), np.expand_dims(y, -2)
    return np.mean((x < y) + 0.5 * (x == y), axis=(-2, -1))


def improvement(sm, base_sm, resamples, seed=0):
    """P(a seed of the method is smoother than a seed of the base), with a 95% bootstrap interval."""
    from scipy.stats import bootstrap

    x, y = np.asarray(sm, dtype=np.float64), np.asarray(base_sm, dtype=np.float64)
    p = float(prob_lower(x, y))
    if min(len(x), len(y)) < 2:
        return p, float("nan"), float("nan")
    ci = bootstrap(
        (x, y), lambda a, b, axis: prob_lower(np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)),
        n_resamples=resamples, method="percentile", vectorized=True, rng=np.random.default_rng(seed),
    )  # fmt: skip
    return p, float(ci.confidence_interval.low), float(ci.confidence_interval.high)


def window_for(records):
    """Per env, the length-matched window W: the largest of WINDOWS that at least REACHED of the clean episodes of
    every method reach (None where no W is, or the records have no lengths). An episode shorter than W is not
    scored, so a policy that falls early cannot lower its sm@W; the window is common to the methods compared.
    A sweep's variants (td3_pave[lambda3=0.1]) are scored at the window of the methods they vary, not counted in it:
    a value that makes the policy fall would otherwise shorten every method's window (their episodes below W are
    counted short). An env whose episodes all run one fixed length (Pendulum: 200 steps, never ended early) has
    none: sm is sm@W."""
    reached, uneven = {}, set()
    for r in records:
        clean = r["levels"].get("0.0", {})
        if "lengths" in clean:
            reached.setdefault(r["env_id"], {}).setdefault(r["method"], []).extend(clean["lengths"])
            if any(clean.get("terminated", ())):
                uneven.add(r["env_id"])
    uneven |= {env for env, methods in reached.items() if len({n for v in methods.values() for n in v}) > 1}
    counted = {env: {m: v for m, v in methods.items() if not split_variant(m)[1]} or methods
               for env, methods in reached.items()}  # fmt: skip
    return {
        env: max((w for w in WINDOWS if all(np.mean(np.array(v) >= w) >= REACHED for v in counted[env].values())),
                 default=None)
        for env in reached if env in uneven
    }  # fmt: skip


def off_reference(records):
    """The records whose noise levels are fractions of another sigma_base than their family's: the base's record at
    its first seed (a run evaluated against its own seed, as Hopper's td3 seeds 4-5 were before `run` took the
    study's first seed). Their noisy rows are not comparable with the rest and stay out of the noise tables."""
    reference = {}
    for r in sorted(records, key=lambda r: r["seed"]):
        if r["method"] == base_of(r["method"]) and r.get("sigma_base"):
            reference.setdefault((r["env_id"], r["method"]), r["sigma_base"])
    # the same checkpoint evaluated on another machine or torch agrees to ~1e-8, not bit for bit
    return [r for r in records if r.get("sigma_base") and not np.allclose(r["sigma_base"], reference.get(
        (r["env_id"], base_of(r["method"])), r["sigma_base"]), rtol=1e-6, atol=0)]  # fmt: skip


def summarize(records, resamples, windows=None):
    """Per (env, method, noise level): per-seed means of return and sm, their mean (std), IQM and interval; where the
    records hold episode lengths, per seed the mean length, the share that fell and sm@W (W per env: window_for)."""
    windows = window_for(records) if windows is None else windows
    table = {}
    for r in records:
        for level, episodes in r["levels"].items():
            cell = table.setdefault((r["env_id"], r["method"], float(level)), {"seeds": [], "re": [], "sm": []})
            cell["seeds"].append(r["seed"])
            cell["re"].append(float(np.mean(episodes["returns"])))
            cell["sm"].append(float(np.mean(episodes["sm"])))
            if "lengths" in episodes and r["env_id"] in windows:  # records before the episode lengths have none
                cell.setdefault("len", []).append(float(np.mean(episodes["lengths"])))
                cell.setdefault("fell", []).append(float(np.mean(episodes["terminated"])))
                scored = [x for x in episodes["sm_window"].get(str(windows.get(r["env_id"])), []) if x is not None]
                cell.setdefault("smw", []).append(float(np.mean(scored)) if scored else float("nan"))
                cell["short"] = cell.get("short", 0) + len(episodes["lengths"]) - len(scored)
    for (env_id, method, level), cell in table.items():
        for key in ("re", "sm"):
            x = np.array(cell[key])
            cell[key + "_mean"], cell[key + "_std"] = float(x.mean()), float(x.std())  # std over seeds, ddof 0
            cell[key + "_iqm"] = float(iqm(x))
            cell[key + "_lo"], cell[key + "_hi"] = iqm_interval(x, resamples)
        base = table.get((env_id, base_of(method), level))
        if base is not None and base is not cell:
            cell["p_improve"], cell["p_lo"], cell["p_hi"] = improvement(cell["sm"], base["sm"], resamples)
        if "smw" in cell:  # the like-for-like sm, over the seeds with a scored episode
            x = np.array([v for v in cell["smw"] if np.isfinite(v)])
            cell["smw_iqm"] = float(iqm(x)) if len(x) else float("nan")
            cell["smw_lo"], cell["smw_hi"] = iqm_interval(x, resamples)
            if base is not None and base is not cell and "smw" in base:
                y = [v for v in base["smw"] if np.isfinite(v)]
                cell["pw_improve"], cell["pw_lo"], cell["pw_hi"] = improvement(x, y, resamples)
    return table


def fmt(x, spec=".3g"):
    """sm and critic metrics to 3 significant digits (sm is ~0.04 on Reacher, ~3 on Pendulum), returns with ".1f"."""
    return "n/a" if x is None or not np.isfinite(x) else f"{x:{spec}}"


def report(args: Report):
    args.study = study_folder(args)
    run_utils.check_number("--resamples", args.resamples, positive=True, integer=True)
    if args.resamples < MIN_RESAMPLES:  # fewer put no resample beyond a 2.5% tail: the interval would be min..max
        raise UserError(f"--resamples {args.resamples}: a 95% interval needs at least {MIN_RESAMPLES}")
    runs = load_plan(args.study)
    records = load_records(args.study)
    out = args.out_dir or args.study
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot write the report to {out}: {e.strerror}") from None
    outputs = ["report.md", "report.csv"] + [f"{env_folder(e)}{tail}" for e in {r["env_id"] for r in records}
                                             for tail in (".png", "_pareto.png")]  # fmt: skip
    for name in outputs:  # before the statistics: a slip of --out-dir costs nothing and overwrites nothing
        run_utils.check_not_run_file(os.path.join(out, name), "the report's")
    windows = window_for(records)
    off = off_reference(records)  # their noisy rows were measured against another sigma_base: clean rows only
    table = summarize([r | {"levels": {"0.0": r["levels"]["0.0"]}} if r in off else r for r in records],
                      args.resamples, windows)  # fmt: skip
    have = {(r["env_id"], r["method"], r["seed"]) for r in records}
    missing = [r for r in runs if (r["env_id"], r["method"], r["seed"]) not in have]
    keys = sorted(table, key=lambda k: (k[0], k[2], method_order(k[1])))
    lines = [f"# Study {os.path.basename(os.path.abspath(args.study))}", ""]
    lines.append(
        f"{len(records)} runs with records, {len(missing)} planned runs without. re: return over the evaluation "
        "episodes, higher is better; sm: FFT smoothness (ASAP/PAVE convention), lower is smoother. Per seed the "
        "mean over its episodes; mean (std) over seeds as the paper prints (std with ddof 0); IQM over seeds with "
        f"a 95% percentile-bootstrap interval ({args.resamples} resamples, seed 0); P(sm < base): the probability "
        "that a seed of the method is smoother than a seed of its base (ties half), with its bootstrap interval."
    )
    lines += budget_lines(records)
    for env_id in sorted({k[0] for k in keys}):
        levels = sorted({k[2] for k in keys if k[0] == env_id})
        for level in levels:
            lines += paper_table(table, env_id, level, [k for k in keys if k[0] == env_id and k[2] == level], windows,
                                 trained(records, env_id))  # fmt: skip
        if len(levels) > 1:
            lines += noise_summary(table, env_id, [k for k in keys if k[0] == env_id], levels)
        lines += per_seed_lines(table, env_id, [k for k in keys if k[0] == env_id and k[2] == 0], windows)
    lines += sweep_lines(table, keys, records, windows)
    lines += critic_lines(records) + timing_lines(records)
    idle = [r for r in records if "global_step" in r and r["global_step"] <= r.get("args", {}).get("learning_starts", 0)]
    if idle:  # their networks are the initial ones: never a result
        lines += ["", "## Runs that did no update (trained no more steps than learning_starts: untrained networks)", ""]
        lines += [f"- {r['env_id']}/{r['method']}/seed{r['seed']}: {r['global_step']} steps, learning_starts "
                  f"{r['args']['learning_starts']}" for r in idle]  # fmt: skip
    if off:
        lines += ["", "## Noise rows left out (sigma_base not their family's: its base's record at the first seed)", ""]
        lines += [f"- {r['env_id']}/{r['method']}/seed{r['seed']}: noise from {r['noise_reference']}" for r in off]
    lines += ["", "## Missing or failed runs", ""]
    for r in missing:
        work = run_paths(args.study, r["env_id"], r["method"], r["seed"])[0]
        why = "failed" if os.path.exists(os.path.join(work, "failed.txt")) else "no record"
        lines.append(f"- {r['env_id']}/{r['method']}/seed{r['seed']}: {why}")
    if not missing:
        lines.append("none")
    with run_utils.writing(os.path.join(out, "report.md")) as f:
        f.write("\n".join(lines) + "\n")
    write_csv(os.path.join(out, "report.csv"), table, keys, windows)
    if args.plots and keys:
        plot(table, keys, out)
        plot_sweeps(table, keys, records, windows, out)
    print("\n".join(lines))
    print(f"\nwrote {out}/report.md, report.csv" + (" and plots" if args.plots and keys else ""))
    return 0


def budget_lines(records):
    """A warning where one env's records trained different numbers of steps (a `run --replace-other-settings` at a
    new budget retrains only the runs it plans): their rows and sweep points are not comparable."""
    lines = []
    for env_id in sorted({r["env_id"] for r in records}):
        budgets = {}
        for r in records:
            if r["env_id"] == env_id:
                budgets.setdefault(r.get("total_timesteps"), set()).add(f"{r['method']}/seed{r['seed']}")
        if len(budgets) > 1:
            lines += ["", f"⚠ {env_id}: the records trained different budgets, not comparable: " + "; ".join(
                f"{steps} steps: {', '.join(sorted(runs))}" for steps, runs in sorted(budgets.items(), key=str))]
    return lines


def versus_base(c, prefix, method, missing):
    """A P(... < base) cell: the probability with its interval, 'base' on the base's own row, else why there is none."""
    if f"{prefix}_improve" in c:
        return f"{c[prefix + '_improve']:.2f} [{fmt(c[prefix + '_lo'], '.2f')}, {fmt(c[prefix + '_hi'], '.2f')}]"
    return "base" if method == base_of(method) else missing


def trained(records, env_id):
    """The budgets (steps per run) that an env's records trained, smallest first (None: a record that does not say)."""
    steps = {r.get("total_timesteps", r.get("args", {}).get("total_timesteps")) for r in records if r["env_id"] == env_id}
    return sorted(steps, key=lambda s: (s is None, s or 0))


def budget_sentence(env_id, budgets, paper_columns):
    """What a table reports: the steps its records trained, and where the paper's columns beside it trained others."""
    said = [f"{s:,}" if s is not None else "an unrecorded number of" for s in (budgets[0], budgets[-1])]
    line = (f"Trained {said[0]} steps per run" if len(budgets) == 1 else
            f"Trained {said[0]} to {said[1]} steps per run (not one budget: see the warning above)")  # fmt: skip
    paper = SETTINGS["env"].get(env_id, {}).get("total_timesteps")
    if paper_columns and paper and budgets != [paper]:
        return line + f". ⚠ The paper's columns are at its {paper:,} steps: not the same budget as these rows."
    return line + (", the paper's budget, as its columns." if paper_columns and paper else ".")


def paper_table(table, env_id, level, keys, windows, budgets=(None,)):
    """One env and noise level as the paper's tables (Tables 1-3), with the IQM, its interval and P(sm < base);
    where episodes can end early, the mean length and falls and sm over each episode's first W steps too; first the
    budget the records trained, set against the paper's where its columns stand beside them."""
    R = ".1f"  # returns
    paper = SETTINGS.get("paper", {}).get(env_id, {})
    title = "no observation noise" if level == 0 else f"observation noise sigma = {level:g} (Table 3)"
    lengths = env_id in windows  # records with episode lengths: the length-matched columns
    w = windows.get(env_id)
    columns = level == 0 and any(paper.get(key[1]) for key in keys)  # the paper's numbers stand in some row
    lines = ["", f"## {env_id}, {title}", "", budget_sentence(env_id, list(budgets), columns), ""]
    lines.append(
        "| method | seeds | re mean (std) | sm mean (std) | paper re | paper sm | re IQM [95% CI] "
        "| sm IQM [95% CI] | P(sm < base) [95% CI] |"
        + (f" length (fell) | sm@{w or 'W'} IQM [95% CI] | P(sm@{w or 'W'} < base) [95% CI] |" if lengths else "")
    )
    lines.append("|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if lengths else ""))
    for key in keys:
        c, p = table[key], (paper.get(key[1]) if level == 0 else None)
        length_cells = ""
        if lengths and "len" in c:
            base = table.get((env_id, base_of(key[1]), level), {})
            unlike = "len" in base and abs(np.mean(c["len"]) - np.mean(base["len"])) > LENGTH_MARGIN * max(
                np.mean(c["len"]), np.mean(base["len"]))
            length_cells = (f" {np.mean(c['len']):.0f} ({100 * np.mean(c['fell']):.0f}%)"
                            + (" ⚠ not like for like" if unlike else "") + " | "
                            + f"{fmt(c['smw_iqm'])} [{fmt(c['smw_lo'])}, {fmt(c['smw_hi'])}]"
                            + (f", {c['short']} short" if c["short"] else "") + " | "
                            + versus_base(c, "pw", key[1], "n/a (the base's records have no lengths)" if base
                                          else "n/a (no record of its base)") + " |")  # fmt: skip
        lines.append(
            f"| {key[1]} | {len(c['seeds'])} | {fmt(c['re_mean'], R)} ({fmt(c['re_std'], R)}) | "
            f"{fmt(c['sm_mean'])} ({fmt(c['sm_std'])}) | "
            f"{f'{p[0]} ({p[1]})' if p else ''} | {f'{p[2]} ({p[3]})' if p else ''} | "
            f"{fmt(c['re_iqm'], R)} [{fmt(c['re_lo'], R)}, {fmt(c['re_hi'], R)}] | {fmt(c['sm_iqm'])} "
            f"[{fmt(c['sm_lo'])}, {fmt(c['sm_hi'])}] | "
            + versus_base(c, "p", key[1], "n/a (no record of its base)")
            + " |"
            + length_cells
        )
    return lines


def noise_summary(table, env_id, keys, levels):
    """Table 3 at a glance: one env's sm (and mean length) per method and noise level."""
    lines = ["", f"## {env_id}, sm under observation noise (mean (std) over seeds)", ""]
    lines += ["| method | " + " | ".join(f"σ = {s:g}" for s in levels) + " |", "|---" * (len(levels) + 1) + "|"]
    for method in dict.fromkeys(k[1] for k in keys):
        cells = [table.get((env_id, method, s)) for s in levels]
        lines.append(
            f"| {method} | "
            + " | ".join(f"{fmt(c['sm_mean'])} ({fmt(c['sm_std'])})" + (f", length {np.mean(c['len']):.0f}"
                         if "len" in c else "") if c else "" for c in cells)  # fmt: skip
            + " |"
        )
    return lines


def per_seed_lines(table, env_id, keys, windows):
    """One env's clean values of every seed, per method; where episodes can end early, what sm@W is."""
    with_length, w = env_id in windows, windows.get(env_id)
    lines = ["", f"Per seed, {env_id} (no noise): sm, return" + (", episode length" if with_length else "")
             + (f", sm@{w}" if w else ""), ""]  # fmt: skip
    for key in keys:
        c, none = table[key], [None] * len(table[key]["seeds"])
        per_seed = sorted(zip(c["seeds"], c["sm"], c["re"], c.get("len", none), c.get("smw", none) if w else none))
        cells = "; ".join(
            f"seed {s}: {sm:.3g}, {re:.1f}" + (f", {n:.0f}" if n is not None else "")
            + (f", {fmt(smw)}" if smw is not None else "") for s, sm, re, n, smw in per_seed
        )  # fmt: skip
        lines.append(f"- {key[1]}: {cells}")
    if with_length and w:
        lines += ["", f"Episode length, {env_id}: length is the mean episode length and (fell) the share of episodes "
                  "that ended by termination before the time limit. sm grows with the episode length, so a policy "
                  f"that falls early scores low for the wrong reason: sm@{w} scores each episode's "
                  f"first {w} steps only, the largest of {', '.join(map(str, WINDOWS))} that at least "
                  f"{REACHED:.0%} of every method's clean episodes reach; an episode shorter than that is not scored "
                  "([short] counts them), so falling cannot lower it. ⚠: the method's mean length differs from its "
                  f"base's by more than {LENGTH_MARGIN:.0%}; compare sm@W there, not sm."]  # fmt: skip
    return lines


def critic_lines(records):
    """The critic metrics of the records that have them, mean (std) over seeds per env and method."""
    critic = [r for r in records if r.get("critic")]
    if not critic:
        return []
    names = list(critic[0]["critic"])
    lines = ["", "## Critic geometry along the clean episodes (Q1; mean (std) over seeds)", ""]
    lines += ["| env | method | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    groups = {}
    for r in critic:
        groups.setdefault((r["env_id"], r["method"]), []).append(r["critic"])
    for env_id, method in sorted(groups, key=lambda k: (k[0], method_order(k[1]))):
        values = groups[(env_id, method)]
        cells = (f"{fmt(np.mean([v[n] for v in values]))} ({fmt(np.std([v[n] for v in values]))})" for n in names)
        lines.append(f"| {env_id} | {method} | " + " | ".join(cells) + " |")
    return lines


def timing_lines(records):
    timing = {}
    for r in records:
        timing.setdefault((r["env_id"], r["method"]), []).append((r["train_seconds"], r.get("torch", "?")))
    lines = ["", "## Training time per run (median over seeds; the torch of each run where they differ)", ""]
    for (env_id, method), times in sorted(timing.items(), key=lambda kv: (kv[0][0], method_order(kv[0][1]))):
        torches = sorted({t for _, t in times})
        where = ", ".join(f"{sum(t == v for _, t in times)} with torch {v}" for v in torches)
        median = np.median([seconds for seconds, _ in times]) / 60
        lines.append(f"- {env_id}/{method}: {median:.1f} min" + (f" ({where})" if len(torches) > 1 else ""))
    return lines


def write_csv(path, table, keys, windows):
    """report.csv: every row of the tables with its interval bounds and per-seed values, for plots of one's own."""
    columns = ["re_mean", "re_std", "re_iqm", "re_lo", "re_hi", "sm_mean", "sm_std", "sm_iqm", "sm_lo", "sm_hi"]
    length_columns = ["sm_window", "mean_length", "fell", "smw_iqm", "smw_lo", "smw_hi", "pw_improve", "pw_lo",
                      "pw_hi", "per_seed_length", "per_seed_smw"]  # fmt: skip
    with run_utils.writing(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["env_id", "method", "obs_noise", "seeds", *columns, "p_improve", "p_lo", "p_hi", "per_seed_re",
                         "per_seed_sm", *length_columns])  # length columns where the records hold episode lengths
        for key in keys:
            c, seeds = table[key], lambda k: ";".join(f"{x:.6g}" for x in table[key].get(k, []))
            lengths = [windows.get(key[0]), np.mean(c["len"]), np.mean(c["fell"]),
                       *(c.get(k, "") for k in length_columns[3:-2]), seeds("len"), seeds("smw")] if "len" in c else []
            writer.writerow(
                [*key, len(c["seeds"]), *(c[k] for k in columns), c.get("p_improve", ""), c.get("p_lo", ""),
                 c.get("p_hi", ""), seeds("re"), seeds("sm"), *lengths]
            )  # fmt: skip


def bars(mid, lo, hi):
    """errorbar's lengths of an interval (None without one); >= 0, as the IQM of equal seeds can pass its bounds by
    rounding."""
    return np.maximum(0, [[mid - lo], [hi - mid]]) if np.isfinite(lo) else None


def plot(table, keys, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for env_id in sorted({k[0] for k in keys}):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for i, key in enumerate(k for k in keys if k[0] == env_id and k[2] == 0):
            c, color = table[key], f"C{i}"
            ax.scatter(c["re"], c["sm"], color=color, alpha=0.45, s=18)
            ax.errorbar(
                c["re_iqm"], c["sm_iqm"], color=color, marker="o", ms=7, capsize=3, label=key[1],
                xerr=bars(c["re_iqm"], c["re_lo"], c["re_hi"]), yerr=bars(c["sm_iqm"], c["sm_lo"], c["sm_hi"]),
            )  # fmt: skip
        ax.set(
            xlabel="return (higher is better)",
            ylabel="sm (lower is smoother)",
            title=f"{env_id}: seeds and IQM [95% CI]",
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        with run_utils.writing(os.path.join(out, f"{env_folder(env_id)}.png"), binary=True) as f:
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)


# --- a sweep's report: paper Figure 4 per swept method, the Pareto front per env --------------------------------------


def sweeps(keys):
    """{(env, method): {flag: [its variants]}} of the report's swept methods (no noise)."""
    found = {}
    for env_id, method, level in keys:
        parent, varied = split_variant(method)
        if varied and level == 0:
            ((flag, _),) = varied.items()
            found.setdefault((env_id, parent), {}).setdefault(flag, []).append(method)
    return found


def default_value(records, env_id, method, flag):
    """The value of `flag` the method itself ran with (its records' args; without records, the paper's setting or
    the file's default)."""
    ran = [r["args"][flag] for r in records
           if (r["env_id"], r["method"]) == (env_id, method) and flag in r.get("args", {})]  # fmt: skip
    file_default = getattr(run_utils.import_algorithm(SETTINGS["method"][method]["file"]).Args, flag, None)
    return ran[0] if ran else paper_flags(method, env_id).get(flag, file_default)


def smooth_metric(cells, window):
    """sm, or sm@W where the configurations' episode lengths differ (a policy that falls early scores a low sm)."""
    lengths = {round(x, 6) for c in cells for x in c.get("len", [])}
    return ("smw", f"sm@{window}") if window and len(lengths) > 1 and all("smw" in c for c in cells) else ("sm", "sm")


def pareto_front(points):
    """The names of points (name, return, sm) that no other beats on both: a return at least as high and an sm at
    least as low, one of them strictly."""
    return [name for name, re_, sm in points
            if not any(r >= re_ and s <= sm and (r > re_ or s < sm) for _, r, s in points)]  # fmt: skip


def front_points(table, keys, env_id, window):
    """(points, metric) over every configuration of the env, no noise: (name, return IQM, sm or sm@W IQM)."""
    cells = {k[1]: table[k] for k in keys if k[0] == env_id and k[2] == 0}
    key, label = smooth_metric(cells.values(), window)
    points = [(m, c["re_iqm"], c[key + "_iqm"]) for m, c in cells.items() if np.isfinite(c[key + "_iqm"])]
    return points, label


def sweep_lines(table, keys, records, windows):
    """report.md's sweep section per env: what was varied (the default marked) and the Pareto front."""
    lines = []
    for env_id in dict.fromkeys(env for env, _ in sweeps(keys)):
        lines += ["", f"## Sweeps on {env_id} (no noise; paper Figure 4: one flag varied, the others the paper's)", ""]
        for (env, method), flags in sweeps(keys).items():
            if env == env_id:
                for flag, names in flags.items():
                    default = value_name(default_value(records, env_id, method, flag))
                    values = [split_variant(n)[1][flag] for n in names] + [default]
                    values = [v + " (default)" * (v == default) for v in sorted(values, key=lambda v: number(v) or 0)]
                    lines.append(f"- {method}, {flag}: {', '.join(values)}; figure {env_folder(env_id)}_{method}_sweep.png")
        points, label = front_points(table, keys, env_id, windows.get(env_id))
        front = pareto_front(points)
        lines += ["", f"Pareto front of its {len(points)} configurations (return IQM higher, {label} IQM lower; none "
                  f"of the others has both a higher return and a lower {label}; figure {env_folder(env_id)}_pareto.png):", ""]
        lines += [f"- {m}: return {fmt(r, '.1f')}, {label} {fmt(s)}" for m, r, s in points if m in front]
    return lines


def plot_sweeps(table, keys, records, windows, out):
    """Paper Figure 4 per swept method: for each varied flag, return and sm (and sm@W where episode lengths differ)
    against the value on a log axis (0 at a tick of its own at the left), every seed a point, the IQM a line in its
    95% interval, the default value and the base's IQM marked. Per env with a sweep, return against sm over every
    configuration, the Pareto front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for (env_id, method), flags in sweeps(keys).items():
        flags = {f: n for f, n in flags.items() if all(number(split_variant(m)[1][f]) is not None for m in n)}
        if not flags:  # words (activation=relu) have no axis: their rows are in the tables
            continue
        mine = [table[(env_id, m, 0.0)] for n in flags.values() for m in n + [method] if (env_id, m, 0.0) in table]
        metrics = [("re", "return (higher is better)"), smooth_metric(mine, windows.get(env_id))]
        metrics += [("sm", "sm")] if metrics[1][0] == "smw" else []
        base = base_of(method)
        base_cell = table.get((env_id, base, 0.0)) if base != method else None
        fig, axes = plt.subplots(len(metrics), len(flags), figsize=(max(4.2 * len(flags), 5), 3 * len(metrics) + 0.4), squeeze=False)
        for j, (flag, names) in enumerate(flags.items()):
            default = default_value(records, env_id, method, flag)
            points = [(float(split_variant(m)[1][flag]), table[(env_id, m, 0.0)]) for m in names]
            if default is not None and (env_id, method, 0.0) in table:
                points.append((float(default), table[(env_id, method, 0.0)]))
            points.sort(key=lambda p: p[0])
            xs = [x for x, _ in points]
            log = min(xs) >= 0 and max(xs) > 0
            zero = min(x for x in xs if x > 0) / 10 if log else 0.0  # a value of 0 on the log axis: a decade left
            at = [x if x > 0 or not log else zero for x in xs]
            for i, (key, label) in enumerate(metrics):
                ax = axes[i][j]
                for x, (_, c) in zip(at, points):
                    ax.scatter([x] * len(c[key]), c[key], color="C0", alpha=0.45, s=14)
                ax.plot(at, [c[key + "_iqm"] for _, c in points], "-o", color="C0", ms=4, label="IQM, 95% CI")
                ax.fill_between(at, [c[key + "_lo"] for _, c in points], [c[key + "_hi"] for _, c in points],
                                color="C0", alpha=0.15)  # fmt: skip
                if default is not None:
                    ax.axvline(float(default) if default > 0 or not log else zero, color="gray", ls=":",
                               label=f"default {value_name(default)}")  # fmt: skip
                if base_cell is not None and key + "_iqm" in base_cell:
                    ax.axhline(base_cell[key + "_iqm"], color="C3", ls="--", label=f"{base} (base), IQM")
                if log:
                    ax.set_xscale("log")
                    ax.minorticks_off()
                ax.set_xticks(at, [value_name(x) for x in xs])
                ax.set(xlabel=flag if i == len(metrics) - 1 else None, ylabel=label if j == 0 else None)
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"{env_id}, {method}\none flag varied, the others at the paper's settings", fontsize=10)
        fig.tight_layout()
        with run_utils.writing(os.path.join(out, f"{env_folder(env_id)}_{method}_sweep.png"), binary=True) as f:  # never over a run's file
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)
    for env_id in dict.fromkeys(env for env, _ in sweeps(keys)):
        points, label = front_points(table, keys, env_id, windows.get(env_id))
        front = pareto_front(points)
        fig, ax = plt.subplots(figsize=(7, 5))
        for m, r, s in points:
            ax.scatter(s, r, color="C3" if m in front else "gray", s=30 if m in front else 14, zorder=3)
            ax.annotate(m, (s, r), fontsize=6, xytext=(3, 2), textcoords="offset points")
        line = sorted((s, r) for m, r, s in points if m in front)
        ax.plot(*zip(*line), color="C3", lw=1, label="Pareto front")
        ax.set(xlabel=f"{label} IQM (lower is smoother)", ylabel="return IQM (higher is better)",
               title=f"{env_id}: every configuration, no noise")  # fmt: skip
        ax.legend(fontsize=8)
        fig.tight_layout()
        with run_utils.writing(os.path.join(out, f"{env_folder(env_id)}_pareto.png"), binary=True) as f:  # never over a run's file
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)
