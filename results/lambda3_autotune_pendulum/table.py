# Issue 46's validation as a table and a figure: per seed, TD3 + PAVE with --autotune-lambda3 (started from λ3 0.01)
# against the paper's fixed λ3 = 2.0 (td3_pave) and plain TD3 (td3), both from results/pendulum_td3's records at the
# same settings and seed; λ3 and the curvature hinge at the end of training; then the mean over seeds. The figure:
# λ3 and the hinge (losses/curv, the twin sum) against the step, one line per seed, the target dashed.
#   python results/lambda3_autotune_pendulum/table.py      (after run.sh; writes table.md and lambda3_and_hinge.png)
import csv
import glob
import json
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = os.path.join(HERE, "..", "pendulum_td3", "records", "Pendulum-v1")
TARGET = 0.1  # --curv-target's default, which run.sh trains with


def seeds():
    return sorted(int(re.search(r"(\d+)", os.path.basename(p))[1]) for p in glob.glob(os.path.join(HERE, "eval_seed*.csv")))


def autotuned(seed):
    """(return, sm) of the run's 10 clean episodes, and its {tag: [(step, mean over the window)]}."""
    with open(os.path.join(HERE, f"eval_seed{seed}.csv")) as f:
        (row,) = list(csv.DictReader(f))
    scalars = {}
    with open(os.path.join(HERE, f"scalars_seed{seed}.csv")) as f:
        for r in csv.DictReader(f):
            scalars.setdefault(r["tag"], []).append((int(r["step"]), float(r["mean"])))
    return float(row["return_mean"]), float(row["sm_mean"]), scalars


def recorded(method, seed):
    """(return, sm) of results/pendulum_td3's record: the mean over its clean episodes."""
    with open(os.path.join(RECORDS, method, f"seed{seed}.json")) as f:
        level = json.load(f)["levels"]["0.0"]
    return statistics.mean(level["returns"]), statistics.mean(level["sm"])


def rows():
    """One row per seed: seed, then return and sm of autotuned, fixed 2.0 and td3, then the last λ3 and hinge."""
    out = []
    for seed in seeds():
        re_, sm, scalars = autotuned(seed)
        out.append([seed, re_, sm, *recorded("td3_pave", seed), *recorded("td3", seed),
                    scalars["losses/lambda3"][-1][1], scalars["losses/curv"][-1][1]])  # fmt: skip
    return out


def table():
    lines = ["| seed | autotuned re | autotuned sm | fixed λ3 2.0 re | fixed λ3 2.0 sm | td3 re | td3 sm | λ3 at the end "
             "| hinge at the end |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows():
        lines.append(f"| {r[0]} | {r[1]:.1f} | {r[2]:.3g} | {r[3]:.1f} | {r[4]:.3g} | {r[5]:.1f} | {r[6]:.3g} | "
                     f"{r[7]:.3g} | {r[8]:.3g} |")
    columns = list(zip(*rows()))
    if len(columns[0]) > 1:
        lines.append(f"| mean | {statistics.mean(columns[1]):.1f} | {statistics.mean(columns[2]):.3g} | "
                     f"{statistics.mean(columns[3]):.1f} | {statistics.mean(columns[4]):.3g} | "
                     f"{statistics.mean(columns[5]):.1f} | {statistics.mean(columns[6]):.3g} | "
                     f"{statistics.mean(columns[7]):.3g} | {statistics.mean(columns[8]):.3g} |")
    return "\n".join(lines) + "\n"


def figure(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_lam, ax_curv) = plt.subplots(1, 2, figsize=(11, 3.8))
    for seed in seeds():
        scalars = autotuned(seed)[2]
        for ax, tag in ((ax_lam, "losses/lambda3"), (ax_curv, "losses/curv")):
            steps, values = zip(*scalars[tag])
            ax.semilogy(steps, values, marker="o", ms=3, label=f"seed {seed}")
    ax_lam.axhline(2.0, color="0.4", ls=":", label="the paper's tuned λ3 (2.0)")
    ax_curv.axhline(TARGET, color="0.4", ls="--", label=f"target ({TARGET:g})")
    ax_lam.set(xlabel="environment step", ylabel="λ3 (mean over 2000 steps)", title="λ3, started at 0.01")
    ax_curv.set(xlabel="environment step", ylabel="hinge (losses/curv, twin sum)", title="the curvature hinge (Eq. 15)")
    for ax in (ax_lam, ax_curv):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    with open(os.path.join(HERE, "table.md"), "w") as f:
        f.write(table())
    if "--no-figure" not in sys.argv:
        figure(os.path.join(HERE, "lambda3_and_hinge.png"))
    print(table(), end="")
