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
