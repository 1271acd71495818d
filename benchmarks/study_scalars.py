# A study's training curves, out of the TensorBoard event files its runs wrote under DIR/work (which stays out of
# git), into one small CSV to commit beside the records: per run and tag, the mean of the logged values over each
# window of --every steps. What it is for: the diagnostics a record does not keep, such as PAVE's losses/curv (the
# curvature hinge, Eq. 15: near 0 where the critic has the curvature the term asks for, near its start or growing
# where the weight is too small to shape it) or charts/action_oscillation along training. It prints, per PAVE run,
# where the hinge went (first window -> second ... last, and the highest), what to read first when choosing lambda3.
#   python benchmarks/study_scalars.py results/walker2d_v5                  # DIR/scalars.csv, the default tags
#   python benchmarks/study_scalars.py results/walker2d_v5 --tags losses/curv --every 20000 --out /tmp/curv.csv
# A resumed run's events after its last save were trained again; TensorBoard's reader drops the first copies.
import csv
import glob
import logging
import os
import sys
from dataclasses import dataclass

import numpy as np
import tyro

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import run_utils  # noqa: E402
from run_utils import UserError  # noqa: E402

TAGS = ("losses/curv", "losses/mpr", "losses/vfc", "losses/qf_loss", "charts/action_oscillation",
        "charts/episodic_return")  # fmt: skip


@dataclass
class Args:
    study: tyro.conf.Positional[str]
    """the study folder (its work/ holds the runs' event files)"""
    tags: tuple[str, ...] = TAGS
    """scalar tags to keep (a run without one of them has no rows for it: plain TD3 logs no losses/curv)"""
    every: int = 10000
    """window in environment steps: each row is the mean of a tag's values logged in one window"""
    out: str = ""
    """the CSV to write (default: STUDY/scalars.csv)"""
    running: bool = False
    """also the runs without a record yet (training, or stopped mid-way); by default the finished ones only"""
    plot: tuple[str, ...] = ()
    """tags to draw against the step, one panel each, into <out>_<env>.png (each seed a line, colour per method;
    a log axis where every value is positive), e.g. --plot losses/curv charts/action_oscillation"""


def windows(events, every):
    """[(window end step, mean, count)] of (step, value) events, windows (k*every, (k+1)*every]."""
    steps, values = np.array([e[0] for e in events]), np.array([e[1] for e in events], dtype=float)
    ends = np.ceil(steps / every).astype(int) * every
    return [(int(end), float(values[ends == end].mean()), int((ends == end).sum())) for end in np.unique(ends)]


def main(args: Args):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cut = CutRecords()  # tensorboard's own lines stay quiet (its "TensorFlow restart" warning: that drop, per resume);
    # a cut record, which it notes at debug level only, is said below
    run_utils.check_number("--every", args.every, positive=True, integer=True, below=2**53)
    if not os.path.isdir(args.study):
        raise UserError(f"no study folder {args.study}")
    out = args.out or os.path.join(args.study, "scalars.csv")
    run_utils.check_output("--out", out)  # before the event files are read
    runs = sorted(glob.glob(os.path.join(args.study, "work", "*", "*", "seed*", "runs", "*", "")))
    if not runs:
        raise UserError(f"no runs with event files under {os.path.join(args.study, 'work')}")
    runs, dead = live_runs(runs)
    if dead:
        print(f"left out {len(dead)} folders of attempts that died before their first save (a later attempt started "
              f"anew): {', '.join(os.path.relpath(d, args.study) for d in dead)}")
    rows, read = [], 0
    for run in runs:
        env_id, method, seed = run.split(os.sep)[-6:-3]
        if not args.running and not os.path.exists(os.path.join(args.study, "records", env_id, method, f"{seed}.json")):
            continue
        read += 1
        events = EventAccumulator(run, size_guidance={"scalars": 0}).Reload()
        for tag in (t for t in args.tags if t in events.Tags()["scalars"]):
            logged = [(e.step, e.value) for e in events.Scalars(tag)]
            name = method.replace("+", "[", 1) + "]" if "+" in method else method  # td3_pave+lambda3=20: a variant
            rows += [(env_id, name, int(seed[4:]), tag, *w) for w in windows(logged, args.every)]
    if cut.files:
        print(f"{len(cut.files)} event files end in a cut record (a run killed while writing, or one still writing): "
              f"their rows stop there: {', '.join(sorted(os.path.relpath(f, args.study) for f in set(cut.files)))}")
    if not rows:  # never a header-only file over one that had rows
        raise UserError(f"none of --tags {' '.join(args.tags)} is in the {read} runs read; {out} left as it was")
    found = {r[3] for r in rows}
    if set(args.tags) - found:
        print(f"no run logged {', '.join(sorted(set(args.tags) - found))}")
    records = glob.glob(os.path.join(args.study, "records", "*", "*", "seed*.json"))
    recorded = {tuple(p[: -len(".json")].split(os.sep)[-3:]) for p in records}  # (env, method folder, seedN)
    elsewhere = sorted("/".join(k) for k in recorded - {tuple(run.split(os.sep)[-6:-3]) for run in runs})
    if elsewhere:  # trained on another machine (or copied records): their work/, with the event files, is not here
        print(f"{len(elsewhere)} runs with records have no event files here, so no rows in {out}: "
              + ", ".join(elsewhere))
    drawn = [t for t in args.plot if t in found]
    for env_id in sorted({r[0] for r in rows}) if drawn else ():  # the figures' names, before the CSV is written
        run_utils.check_not_run_file(figure_path(os.path.splitext(out)[0], env_id), "--plot")
    with run_utils.writing(out, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["env_id", "method", "seed", "tag", "step", "mean", "count"])
        writer.writerows((*r[:5], f"{r[5]:.6g}", r[6]) for r in rows)
    print(f"{out}: {len(rows)} rows from {read} runs")
    print("\n".join(hinge_lines(rows)))
    if set(args.plot) - set(drawn):
        missing = ", ".join(t for t in args.plot if t not in found)
        print(f"--plot: no rows of {missing} (not in --tags, or logged by no run)")
    if drawn:
        plot(rows, drawn, os.path.splitext(out)[0])


class CutRecords(logging.Handler):
    """Takes tensorboard's log (which no longer reaches the console) and keeps the event files it found cut short."""

    PREFIX = "Truncated record in "

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.files = []
        log = logging.getLogger("tensorboard")
        log.setLevel(logging.DEBUG)
        log.propagate, log.handlers = False, [self]

    def emit(self, record):
        text = record.getMessage()
        if text.startswith(self.PREFIX):
            self.files.append(text[len(self.PREFIX):].split(" (")[0])


def live_runs(runs):
    """The run folders to read, one per run of the study, and the dead ones: where a run's work folder holds several
    (an attempt that died before its first save, so the next started a new folder), those with a checkpoint; where
    none has one yet (a first attempt still before its first save), the newest."""
    by_run = {}
    for run in runs:
        by_run.setdefault(os.path.dirname(os.path.dirname(run)), []).append(run)
    live, dead = [], []
    for folders in by_run.values():
        saved = [f for f in folders if glob.glob(os.path.join(f, "*.pt"))]
        keep = saved or folders[-1:]  # run folders end in their start time: sorted, the last is the newest
        live += keep
        dead += [f for f in folders if f not in keep]
    return sorted(live), dead


def hinge_lines(rows):
    """Per PAVE run, its curvature hinge along training, what to read first when choosing lambda3 (README, Choosing
    the weights): the first window (where the first update logs 2, its margin on each twin), the second, the last
    and the highest after the first. Held: near 0 from early on; too weak a lambda3: near its start or climbing."""
    lines = []
    for run in sorted({r[:3] for r in rows if r[3] == "losses/curv"}):
        curv = [r[5] for r in rows if r[:4] == (*run, "losses/curv")]
        path = " -> ".join(f"{v:.3g}" for v in curv[:2])
        if len(curv) > 2:
            path += f" ... {curv[-1]:.3g} (highest after the first window {max(curv[1:]):.3g})"
        lines.append(f"{run[0]} {run[1]} seed {run[2]}: losses/curv {path}")
    return (["losses/curv per window (the curvature hinge, Eq. 15):"] + lines) if lines else []


def figure_path(stem, env_id):
    return f"{stem}_{env_id.replace('/', '_').replace(':', '_')}.png"


def plot(rows, tags, stem):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for env_id in sorted({r[0] for r in rows}):
        methods = sorted({r[1] for r in rows if r[0] == env_id})
        colors = [f"C{i}" for i in range(10)] if len(methods) <= 10 else plt.get_cmap("tab20").colors  # distinct
        fig, axes = plt.subplots(1, len(tags), figsize=(5.5 * len(tags), 4), squeeze=False)
        for ax, tag in zip(axes[0], tags):
            for i, method in enumerate(methods):
                label = method  # on the method's first line only
                for seed in sorted({r[2] for r in rows if r[:2] == (env_id, method)}):
                    points = [(r[4], r[5]) for r in rows if r[:4] == (env_id, method, seed, tag)]
                    if points:
                        ax.plot(*zip(*points), color=colors[i % len(colors)], lw=1.2, alpha=0.8, label=label)
                        label = None
            values = [r[5] for r in rows if r[0] == env_id and r[3] == tag]
            if values and min(values) > 0:
                ax.set_yscale("log")
            ax.set(xlabel="environment step", title=f"{env_id}: {tag}")
            ax.legend(fontsize=8)
        fig.tight_layout()
        with run_utils.writing(figure_path(stem, env_id), binary=True) as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)


def cli():
    run_utils.check_repeated_flags()
    main(tyro.cli(Args))


if __name__ == "__main__":
    run_utils.command(cli)
