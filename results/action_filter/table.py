"""The action-filter table of docs/deployment.md (issue 23) from eval_smoothness.py's eval.csv: each group (a method, or a method
with the EMA filter at one BETA), its return and sm per seed, IQM with a 95% bootstrap interval over seeds (as
`study.py report`), P(sm < td3_pave) over seeds, and the means over seeds under observation noise.
Run from the repo root:  python results/action_filter/table.py [results/action_filter/eval.csv]"""

import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
import study_report  # noqa: E402  (its statistics, so the table reads as the study reports do)

RESAMPLES, REFERENCE = 10000, "td3_pave"


def rows(path):
    with open(path, newline="") as f:
        table = list(csv.DictReader(f))
    by = {}  # (group, noise level) -> seed -> (return, sm)
    for row in table:
        by.setdefault((row["group"], float(row["obs_noise"])), {})[int(row["seed"])] = (
            float(row["return_mean"]), float(row["sm_mean"])
        )  # fmt: skip
    groups = list(dict.fromkeys(group for group, _ in by))
    levels = sorted({level for _, level in by if level > 0})
    reference_sm = [sm for _, sm in by[(REFERENCE, 0.0)].values()]
    head = ["group", "seeds", "re per seed", "re IQM [95% CI]", "sm per seed", "sm IQM [95% CI]",
            f"P(sm < {REFERENCE})"] + [f"re / sm at σ = {level:g}" for level in levels]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in groups:
        seeds = sorted(by[(group, 0.0)])
        re, sm = (np.array([by[(group, 0.0)][s][k] for s in seeds]) for k in (0, 1))
        (re_lo, re_hi), (sm_lo, sm_hi) = (study_report.iqm_interval(x, RESAMPLES) for x in (re, sm))
        p = "-" if group == REFERENCE else "{} [{}, {}]".format(
            *(study_report.fmt(x, ".2f") for x in study_report.improvement(sm, reference_sm, RESAMPLES))
        )
        noisy = []
        for level in levels:
            at = np.array(list(by.get((group, level), {}).values())).reshape(-1, 2)
            noisy.append(f"{study_report.fmt(at[:, 0].mean(), '.1f')} / {study_report.fmt(at[:, 1].mean())}" if len(at) else "")
        cells = [group, str(len(seeds)), ", ".join(f"{x:.1f}" for x in re),
                 f"{study_report.iqm(re):.1f} [{study_report.fmt(re_lo, '.1f')}, {study_report.fmt(re_hi, '.1f')}]",
                 ", ".join(study_report.fmt(x) for x in sm),
                 f"{study_report.fmt(study_report.iqm(sm))} [{study_report.fmt(sm_lo)}, {study_report.fmt(sm_hi)}]", p] + noisy  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    print("\n".join(rows(sys.argv[1] if len(sys.argv) > 1 else "results/action_filter/eval.csv")))
