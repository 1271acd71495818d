"""The README's internal links: every `(#anchor)` names a heading that exists (GitHub's anchor rule)."""

import os
import re

from conftest import ROOT


def anchor(heading):
    """GitHub's slug: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_internal_link_names_a_heading():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and not links - headings, sorted(links - headings)
    assert anchor("The paper's per-environment settings (TD3)") == "the-papers-per-environment-settings-td3"


def test_the_action_filter_rows_are_the_committed_evaluation():
    """Issue 23: every row of the README's action-filter table is results/action_filter/table.py's, verbatim, on the
    committed eval.csv (the evaluation of the nine Pendulum checkpoints with the filter)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("table", os.path.join(ROOT, "results", "action_filter", "table.py"))
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    made = table.rows(os.path.join(ROOT, "results", "action_filter", "eval.csv"))
    with open(os.path.join(ROOT, "README.md")) as f:
        section = f.read().split("\n## To a robot")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(rows) >= 6 and rows[0] == made[0], "the README's filter table is gone or its head changed"
    assert [row for row in rows if row not in made] == []
