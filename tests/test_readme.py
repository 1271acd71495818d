"""The README and every page of docs/ against the repository: links and #anchors resolve, every table row and per-seed
line is the committed studies' `report`, the README's results table is built from the same reports, every command
parses as written (the per-env ones are the paper's settings), the README's first run runs at a tiny budget, and the
numbers it promises are the records'."""

import csv
import fnmatch
import glob
import json
import os
import re
import shlex
import statistics
import subprocess
import sys

import pytest
import tyro

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import study  # noqa: E402
import study_report  # noqa: E402

README = os.path.join(ROOT, "README.md")
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
DOCS = [README, *PAGES]
ALGORITHMS = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "*.py"))} - {
    "eval_smoothness.py", "export_policy.py", "run_utils.py"}  # fmt: skip


def read(path):
    with open(path) as f:
        return f.read()


def anchor(heading):
    """GitHub's slug: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    return {anchor(h) for h in re.findall(r"^#+ (.+)$", read(path), flags=re.M)}


def section(text, heading):
    """The text under `heading` (a whole heading line) up to the next heading of the same or a higher level."""
    level = heading.split()[0]
    body = text.split("\n" + heading + "\n")[1]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", body, flags=re.M)]
    return body[: ends[0]] if ends else body


def first_run():
    """The README's first run: its section up to the paper's-budget subsection."""
    return section(read(README), "## A first run: Pendulum, plain TD3 against TD3 + PAVE").split("\n### ")[0]


FIRST_RUN_PAGE = os.path.join(ROOT, "docs", "first_run.md")  # the evidence and timings behind the README's first run


def rel(path):
    return os.path.relpath(path, ROOT)


# ---------------------------------------------------------------------------------------------------------- links


def test_every_test_a_page_names_exists():
    """A promise names the test that checks it (docs/reliability.md, docs/tests.md): each `tests/F.py::NAME` or
    `F.py::NAME` the README and the pages quote is a test function of that file, so a renamed or removed test
    cannot leave a promise that nothing checks."""
    named = {(f, name) for path in DOCS for f, name in re.findall(r"(test_\w+\.py)::(test_\w+)", read(path))}
    assert len(named) >= 10, "the pages name fewer tests than docs/reliability.md alone does"
    missing = [f"{f}::{name}" for f, name in sorted(named)
               if not re.search(rf"^def {name}\(", read(os.path.join(ROOT, "tests", f)), flags=re.M)]
    assert missing == []


def test_every_link_names_a_file_and_a_heading_that_exist():
    """Every relative link of the README and the pages names a file that exists and, with `#anchor`, a heading of
    that page (GitHub's anchor rule); every page of docs/ is linked from the README."""
    assert anchor("The paper's per-environment settings (TD3)") == "the-papers-per-environment-settings-td3"
    broken, linked = [], set()
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", read(doc)):
            if re.match(r"[a-z]+://", target):
                continue
            file, _, name = target.partition("#")
            path = os.path.normpath(os.path.join(os.path.dirname(doc), file)) if file else doc
            if doc == README:
                linked.add(path)
            if not os.path.exists(path) or (name and (not path.endswith(".md") or name not in anchors(path))):
                broken.append(f"{rel(doc)}: ({target})")
    assert broken == []
    assert [rel(p) for p in PAGES if p not in linked] == [], "a page of docs/ the README does not link"


# ------------------------------------------------------------------------------------------- the studies' reports

SECTION_KINDS = {"no observation noise": "clean", "sm under observation noise": "noise", "Critic geometry": "critic"}
STUDIES = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(ROOT, "results", "**", "records"), recursive=True))


def report_sections(path):
    """report.md's lines by kind of section: 'clean' (no observation noise), 'noise' (Table 3 at a glance),
    'critic', 'per seed'; the per-noise-level tables are left out, so none of their rows passes for a clean one."""
    kinds, kind = {"clean": set(), "noise": set(), "critic": set(), "per seed": set()}, None
    for line in read(path).splitlines():
        if line.startswith("Per seed"):
            kind = "per seed"
        elif line.startswith("## "):
            kind = next((k for title, k in SECTION_KINDS.items() if title in line), None)
        elif kind:
            kinds[kind].add(line)
    return kinds


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """`report` on every committed study (every results/ folder with records): {study folder: report.md's path}."""
    out = {}
    for folder in STUDIES:
        out[folder] = tmp_path_factory.mktemp("report") / "report"
        study_report.report(study_report.Report(study=folder, out_dir=str(out[folder]), plots=False))
    return {folder: path / "report.md" for folder, path in out.items()}


def filter_header():
    import importlib.util

    spec = importlib.util.spec_from_file_location("table", os.path.join(ROOT, "results", "action_filter", "table.py"))
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    return table


def page_rows(path):
    """(kind, line) for each report-like line of a page: a table row that starts with a method (or an env and a
    method), its kind from the heading above it (Table 3: noise; the critics; else clean), and the per-seed lines.
    The rows of the action-filter table (an evaluation, not a study: its own test) are left out."""
    rows, kind, header = [], "clean", None
    for line in read(path).splitlines():
        if re.match(r"#+ ", line):
            kind = "noise" if "Table 3" in line else "critic" if "critics" in line else "clean"
        if not line.startswith("|"):
            header = None
            if re.match(r"- (td3|sac)[\w\[\]=.+-]*: seed \d", line):  # td3_pave[lambda3=20]: seed 1: ...
                rows.append(("per seed", line))
            continue
        header = header or line
        if header.startswith("| group | seeds | re per seed"):  # the action-filter table
            continue
        if re.match(r"\| ([\w-]+-v\d \| )?(td3|sac)", line):
            rows.append((kind, line))
    return rows


def test_every_results_row_of_the_pages_is_the_committed_studies_report(reports):
    """Issue 14, now per page: `report` on the committed records rebuilds every row and per-seed line of every page
    of docs/, verbatim, each from a section of its kind (Tables 1, 2, 4: no noise; Table 3: the noise summary; the
    critics; per seed). A number on a page that is not the records' fails here."""
    made = {"clean": set(), "noise": set(), "critic": set(), "per seed": set()}
    for path in reports.values():
        for kind, lines in report_sections(path).items():
            made[kind] |= lines
    rows = {rel(page): page_rows(page) for page in PAGES}
    assert len(rows["docs/pendulum.md"]) >= 40 and len(rows["docs/hopper.md"]) >= 20, "a results page lost its tables"
    assert {page: [row for row in r if row[1] not in made[row[0]]] for page, r in rows.items()} == {
        page: [] for page in rows}  # fmt: skip


def test_every_committed_studys_report_rebuilds_byte_for_byte(reports):
    """Issue 44: `report` on a study's committed records writes its committed report.md and report.csv, byte for
    byte: a change to the code that changes a committed report fails here until the report is remade with it."""
    def data(folder, name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    stale = [f"{rel(folder)}/{name}" for folder, made in reports.items() for name in ("report.md", "report.csv")
             if data(folder, name) != data(os.path.dirname(made), name)]
    assert stale == [], "remake with `python benchmarks/study.py report DIR`"


# one row per environment and family of the README's results table: (env, family, study, base, PAVE, page)
SUMMARY = [
    ("Pendulum-v1", "TD3", "pendulum_td3", "td3", "td3_pave", "docs/pendulum.md"),
    ("Pendulum-v1", "SAC", "pendulum_sac", "sac", "sac_pave", "docs/pendulum.md"),
    ("Hopper-v5", "TD3", "hopper_v5", "td3", "td3_pave", "docs/hopper.md"),
    ("Hopper-v5", "SAC", "hopper_v5", "sac", "sac_pave", "docs/hopper.md"),
    ("Walker2d-v5", "TD3", "walker2d_v5", "td3", "td3_pave", "docs/walker2d.md"),
    ("Walker2d-v5", "SAC", "walker2d_v5", "sac", "sac_pave", "docs/walker2d.md"),
]


def summary_cells(report_md, base, pave):
    """The README's results-table cells for one (env, family), from the report's clean table: the budget beside the
    paper's, seeds, sm's IQM over seeds with its 95% interval, sm@W's where the report gives it, the return's IQM
    with its interval, the mean episode length and falls where episodes can end early, the paper's columns."""
    clean = [line for line in report_sections(report_md)["clean"] if line.startswith("| ")]
    b, p = ([c.strip() for c in next(r for r in clean if r.startswith(f"| {m} |")).strip("|").split("|")] for m in (base, pave))
    smw = f"{b[10]} → {p[10]}" if len(b) > 9 else "–"
    length = f"{b[9].split(' ⚠')[0]} / {p[9].split(' ⚠')[0]}" if len(b) > 9 else "–"
    return [f"{b[1]} / {p[1]}", f"{b[7]} → {p[7]}", smw, f"{b[6]} / {p[6]}", length, f"{b[5]} → {p[5]}",
            f"{b[4]} / {p[4]}"]


def summary_rows(reports):
    rows = {}
    for env_id, family, name, base, pave, page in SUMMARY:
        folder = os.path.join(ROOT, "results", name)
        (steps,) = {r["total_timesteps"] for r in study_report.load_records(folder) if r["env_id"] == env_id}
        paper = study.SETTINGS["env"][env_id]["total_timesteps"]
        rows[(env_id, family)] = [f"{steps} ({paper})", *summary_cells(reports[folder], base, pave)]
    return rows


def test_the_readme_results_table_is_the_reports(reports):
    """Each row of the README's results table (one per env and family, base against PAVE) is made of the cells of
    the committed study's report, and links to its page."""
    results = section(read(README), "## Results")
    table = {}
    for line in results.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| [") else None
        if cells:
            table[(re.match(r"\[([^\]]+)\]", cells[0]).group(1), cells[1])] = cells
    expected = summary_rows(reports)
    assert sorted(table) == sorted(expected)
    for (env_id, family, _, _, _, page) in SUMMARY:
        cells = table[(env_id, family)]
        assert f"]({page}" in cells[0], (env_id, family, cells[0])
        assert cells[2:] == expected[(env_id, family)], (env_id, family)


def test_the_action_filter_rows_are_the_committed_evaluation():
    """Issue 23: every row of the action-filter table on the deployment page is results/action_filter/table.py's,
    verbatim, on the committed eval.csv (the evaluation of the nine Pendulum checkpoints with the filter)."""
    made = filter_header().rows(os.path.join(ROOT, "results", "action_filter", "eval.csv"))
    text = read(os.path.join(ROOT, "docs", "deployment.md"))
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) >= 6 and rows[0] == made[0], "the filter table is gone or its head changed"
    assert [row for row in rows if row not in made] == []


# ------------------------------------------------------------------------------------------------------- commands


def commands(path):
    return commands_in(read(path))


def commands_in(text):
    """The command lines of markdown's code blocks (indented 4): continuation lines joined, comments and a trailing
    `&` dropped, split as the shell splits them."""
    lines, out = text.splitlines(), []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("    ") and re.match(r"\s+(python|bash) ", line):
            while line.rstrip().endswith("\\"):
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i].strip()
            words = shlex.split(line, comments=True)
            out.append(words[:-1] if words[-1] == "&" else words)
        i += 1
    return out


def parse(words):
    """Parse a command's flags as its script does (tyro), without running it; --help exits 0."""
    script, flags = words[1], words[2:]
    name = os.path.basename(script)
    if script in ALGORITHMS or script in ("eval_smoothness.py", "export_policy.py"):
        import importlib

        tyro.cli(importlib.import_module(script[: -len(".py")]).Args, args=flags)
    elif script == "benchmarks/study.py":
        tyro.extras.subcommand_cli_from_dict({"run": study.Run, "status": study.Status, "report": study_report.Report},
                                             args=flags)  # fmt: skip
    elif script == "benchmarks/throughput.py":
        import throughput

        tyro.cli(throughput.Args, args=flags)
    else:
        assert os.path.exists(os.path.join(ROOT, script)), f"{name}: no such file"


def test_every_command_on_every_page_parses_as_written(capsys):
    """Every `python X.py ...` of the README and the pages parses with X's own flags (an unknown or misspelt flag,
    a wrong value or a file that is gone fails), and every `bash X.sh` names a script that exists."""
    seen, bad = 0, []
    for doc in DOCS:
        for words in commands(doc):
            if words[1] == "-m":
                continue
            seen += 1
            try:
                if words[0] == "bash":
                    assert os.path.exists(os.path.join(ROOT, words[1])), "no such script"
                else:
                    parse(words)
            except SystemExit as e:
                if e.code not in (0, None):
                    bad.append(f"{rel(doc)}: {' '.join(words)}: {capsys.readouterr().err.strip()[-300:]}")
            except (AssertionError, ImportError) as e:
                bad.append(f"{rel(doc)}: {' '.join(words)}: {e}")
    assert seen >= 60 and bad == []


def training_commands(path, only_first_run=False):
    """A page's training commands (`python td3_*.py --env-id ...`); only_first_run: the README's first run."""
    text = first_run() if only_first_run else read(path)
    return [w[1:] for w in commands_in(text) if re.match(r"(td3|sac)_\w+\.py$", w[1]) and w[2:3] == ["--env-id"]]


def test_every_training_command_is_the_papers_settings():
    """Every per-env training command of the README and the pages trains exactly what paper_settings.toml says for
    some method; the README's first run is those settings at a shorter budget, said in its text."""
    from test_study import module_args

    commands_, quick = [c for doc in DOCS for c in training_commands(doc)], training_commands(README, True)
    assert len(commands_) >= 30 and len(quick) == 2
    for file, *flags in commands_:
        given = module_args(file, flags)
        env_id = given["env_id"]
        if [file, *flags] in quick:  # the paper's settings at a shorter budget, said in the text
            given["total_timesteps"] = study.SETTINGS["env"][env_id]["total_timesteps"]
        file = file.replace("_fast", "")  # td3_pave_fast.py takes td3_pave.py's commands
        matches = [
            method
            for method, m in study.SETTINGS["method"].items()
            if m["file"] == file and module_args(file, study.to_cli(study.paper_flags(method, env_id))) == given
        ]
        assert matches, f"{file} {' '.join(flags)} is no method of paper_settings.toml"
    for method in ("td3_pave", "sac_pave", "td3_asap", "sac_asap"):  # the per-env methods are listed for every env
        file = study.SETTINGS["method"][method]["file"]
        listed = {module_args(f, flags)["env_id"] for f, *flags in commands_ if f == file}
        assert listed == set(study.SETTINGS["env"]), method


# ------------------------------------------------------------------------------------------------------ first run

TINY = {"--total-timesteps": "300", "--learning-starts": "200", "--batch-size": "32", "--hidden-sizes": ["32", "32"],
        "--checkpoint-interval": "0", "--episodes": "1"}  # fmt: skip


def tiny(words, flags):
    """words with each of `flags` (a subset of TINY) set to TINY's value, in place when given, else appended."""
    out = list(words)
    for flag in flags:
        value = TINY[flag] if isinstance(TINY[flag], list) else [TINY[flag]]
        if flag in out:
            i = out.index(flag)
            out[i + 1 : i + 2] = value
        else:
            out += [flag, *value]
    return out


def test_the_first_run_runs_as_written_at_a_tiny_budget(tmp_path):
    """The README's first run, command for command (both trainings at once, then the evaluation of runs/), with
    only the budget, the network and the episodes made tiny: it trains both runs and evaluates both."""
    words = [w for w in commands_in(first_run()) if w[0] == "python"]
    assert [w[1] for w in words] == ["td3_pave.py", "td3_pave_fast.py", "eval_smoothness.py"], words
    small = ["--total-timesteps", "--learning-starts", "--batch-size", "--hidden-sizes", "--checkpoint-interval"]
    assert "export OMP_NUM_THREADS=1" in first_run()  # one thread each, one run per core (results/quick_run/threads.log)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # without --compile, which costs some 40 s of compiling here; test_fast.py runs and checks a compiled run
    argvs = [[sys.executable, os.path.join(ROOT, w[1]), *[x for x in tiny(w, small)[2:] if x != "--compile"]] for w in words[:2]]
    procs = [subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for argv in argvs]  # fmt: skip
    for p in procs:
        out = p.communicate(timeout=120)[0]
        assert p.returncode == 0, out[-2000:]
    stray = tmp_path / "runs" / "Pendulum-v1__other__1__1" / "other.pt"  # another run under runs/: not this block's
    stray.parent.mkdir()
    stray.write_text("not a checkpoint: evaluating it would fail")
    expanded = [x for w in tiny(words[2], ["--episodes"])[2:] for x in (sorted(glob.glob(w, root_dir=tmp_path)) or [w])]
    done = subprocess.run([sys.executable, os.path.join(ROOT, "eval_smoothness.py"), *expanded],  # as the shell expands
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "eval" / "eval.csv") as f:
        paths = [row["path"].split(os.sep) for row in csv.DictReader(f)]
    assert {p[-2].split("__")[1] for p in paths} == {"td3", "td3_pave"}, paths  # the block's two runs, no other
    assert {"td3.pt", "td3_pave.pt"} <= {p[-1] for p in paths}, paths
    answer = done.stdout.splitlines()[-2:]  # the output ends with the answer, a line per final policy
    assert sorted(line.split(":")[0] for line in answer) == ["td3", "td3_pave"], done.stdout[-1000:]


def ranges(values, spec):
    return f"{min(values):{spec}} to {max(values):{spec}}"


def test_the_first_runs_promises_are_the_records():
    """What the README's first run and its page (docs/first_run.md) say to expect is the committed records': the
    per-seed sm and return ranges of the Table 1 study at that budget, of the filter study, and of the older
    pendulum_td3_pave evaluation, the training minutes of the records, the wall times of results/quick_run/time.log
    and the snapshot of its evaluation. The README keeps the block's minutes and CPU, the return to expect and the
    chatter band of the spectra plot; the page the rest."""
    readme, text = " ".join(first_run().split()), " ".join(read(FIRST_RUN_PAGE).split())
    for name, seeds in (("pendulum_td3", 5), ("action_filter/study", 3)):
        records = study_report.load_records(os.path.join(ROOT, "results", name))
        table = study_report.summarize(records, resamples=10)
        for method in ("td3", "td3_pave"):
            cell = table[("Pendulum-v1", method, 0.0)]
            assert len(cell["seeds"]) == seeds
            assert f"sm {ranges(cell['sm'], '.3g')}" in text, (name, method, ranges(cell["sm"], ".3g"))
        if name == "pendulum_td3":
            for method in ("td3", "td3_pave"):
                cell = table[("Pendulum-v1", method, 0.0)]
                assert f"return {ranges(cell['re'], '.1f')}" in text, (method, ranges(cell["re"], ".1f"))
                minutes = statistics.median(r["train_seconds"] for r in records if r["method"] == method) / 60
                assert f"{minutes:.1f} min" in text, (method, minutes)
    with open(os.path.join(ROOT, "results", "pendulum_td3_pave", "eval.csv")) as f:
        clean = [row for row in csv.DictReader(f) if float(row["obs_noise"]) == 0]
    for weights in ("lambda1=0.0", "lambda1=2.0"):
        sm = [float(row["sm_mean"]) for row in clean if weights in row["group"]]
        assert len(sm) == 3 and f"sm {ranges(sm, '.3g')}" in text, (weights, ranges(sm, ".3g"))
    def wall_times(name):  # a measure.sh log: {command words after `python`: wall seconds}, the block's wall seconds
        log = read(os.path.join(ROOT, "results", "quick_run", name))
        timed = {tuple(c.split()[1:]): float(w) for w, c in re.findall(r"^rc 0 wall ([\d.]+) s .*\| (python .+)$", log, flags=re.M)}
        return timed, float(re.search(r"^block wall ([\d.]+) s", log, flags=re.M).group(1))

    timed, block = wall_times("time.log")
    written = [tuple(w[1:]) for w in commands_in(first_run()) if w[0] == "python"]
    # time.log's evaluation named runs/ (or, timed again, the paths the shell expanded): measure.sh runs the block in
    # a new folder, whose runs/ holds these two runs only, so it evaluated what the README's globs name (each
    # checkpoint of eval.csv is in one of the README's two runs)
    (evaluation,) = [c for c in written if c[0] == "eval_smoothness.py"]
    (logged,) = [c for c in timed if c[0] == "eval_smoothness.py"]
    timed[evaluation] = timed.pop(logged)
    with open(os.path.join(ROOT, "results", "quick_run", "eval.csv")) as f:
        folders = {os.path.dirname(r["path"]) for r in csv.DictReader(f)}
    assert len(folders) == 2 and all(sum(fnmatch.fnmatch(d, p) for p in evaluation[1:]) == 1 for d in folders), folders
    assert [c for c in written if c not in timed] == [], "a first-run command without its wall time in time.log"
    assert [c for c in written if f"{timed[c]:.0f} s" not in text] == [], "a wall time the page does not quote"
    cpu = cpu_name(read(os.path.join(ROOT, "results", "quick_run", "time.log")))
    assert f"{block / 60:.1f} minutes on two free cores of an {cpu}" in text
    assert f"took {block / 60:.1f} minutes on two free cores of an {cpu} here (`results/quick_run/time.log`)" in readme
    assert "[The first run](docs/first_run.md)" in readme and "docs/first_run.md#results-are-per-cpu" in readme
    import eval_smoothness

    assert f"{eval_smoothness.CHATTER[1]:g} cycles/step" in readme  # the band the spectra plot draws
    low, high = eval_smoothness.CHATTER
    assert f"red band at {low:g} to {high:g} cycles/step" in " ".join(read(os.path.join(ROOT, "docs", "evaluation.md")).split())
    with open(os.path.join(ROOT, "results", "pendulum_first_run", "snapshots.csv")) as f:  # the return to expect
        at_budget = [float(r["return_mean"]) for r in csv.DictReader(f) if r["global_step"] == "18000"
                     and float(r["obs_noise"]) == 0]  # fmt: skip
    assert len(at_budget) == 10 and f"near {statistics.mean(at_budget):.0f} the pendulum" in readme
    timed_30000, block_30000 = wall_times("time_30000.log")  # the same block at 30000 steps, and its PAVE line eager
    assert f"took {block_30000 / 60:.1f} minutes on the same {cpu} (`time_30000.log`" in text
    eager_pave = next(w for c, w in wall_times("time_eager.log")[0].items() if c[0] == "td3_pave_fast.py")
    assert f"the PAVE run at 30000 steps took {eager_pave:.0f} s" in text
    bench = read(os.path.join(ROOT, "results", "quick_run", "compile_bench.txt"))
    ratio = float(re.search(r"^A/B wall +[\d.]+ +([\d.]+)", bench, flags=re.M).group(1))  # the median
    assert f"took {ratio:.2f} of an eager" in text
    speed = " ".join(read(os.path.join(ROOT, "docs", "speed.md")).split())  # the Speed page quotes the same three
    pave = next(w for c, w in timed_30000.items() if c[0] == "td3_pave_fast.py")
    assert f"took {ratio:.2f} of an eager run's wall time" in speed and f"{pave:.0f} s compiled against {eager_pave:.0f} s" in speed
    def clean(name):  # an evaluation of quick_run: {group: (sm, return)} without noise
        with open(os.path.join(ROOT, "results", name)) as f:
            return {r["group"]: (float(r["sm_mean"]), float(r["return_mean"])) for r in csv.DictReader(f)
                    if float(r["obs_noise"]) == 0}  # fmt: skip

    final, at_30000 = clean("quick_run/eval.csv"), clean("quick_run/eval_30000.csv")
    assert f"TD3 sm {final['td3'][0]:.3g} against PAVE sm {final['td3_pave'][0]:.3g}" in text
    for method in ("td3", "td3_pave"):  # the 18000-step run ended exactly at the 30000-step run's 18000 snapshot
        assert final[method] == at_30000[f"{method} (step=18000)"], method
    with open(os.path.join(ROOT, "results", "pendulum_first_run", "snapshots.csv")) as f:  # the study's TD3 seed 1
        study_td3 = [float(r["sm_mean"]) for r in csv.DictReader(f) if r["group"] == "td3 (step=18000)" and r["seed"] == "1"
                     and float(r["obs_noise"]) == 0]  # fmt: skip
    assert len(study_td3) == 1 and f"stood at sm {study_td3[0]:.3g} at 18000 steps" in text
    compiled, eager = at_30000["td3_pave"], clean("quick_run/eval_eager.csv")["td3_pave"]
    assert (f"sm {compiled[0]:.3g} and return {compiled[1]:.1f} compiled, sm {eager[0]:.3g} and return {eager[1]:.1f} "
            "eager") in text  # fmt: skip
    here, there = (study_report.summarize(study_report.load_records(os.path.join(ROOT, "results", name)), resamples=10)
                   for name in ("pendulum_sac_here", "pendulum_sac"))  # seed 1 of each SAC method on two machines
    moved = [abs(dict(zip(cell["seeds"], cell["sm"]))[1] - dict(zip(there[key]["seeds"], there[key]["sm"]))[1])
             for key, cell in here.items() if key[2] == 0.0]  # fmt: skip
    assert len(moved) == 5 and f"moved sm by up to {max(moved):.2f}" in text
    pairs = re.findall(r"^(default|one) threads: .*?([\d.]+) s;", read(os.path.join(ROOT, "results", "quick_run", "threads.log")),
                       flags=re.M)  # fmt: skip
    default, one = [float(w) for m, w in pairs if m == "default"], [float(w) for m, w in pairs if m == "one"]
    assert len(default) == len(one) == 2 and "stalled each other in one of two tries (over 300 s for what takes 50" in text
    assert sum(w > 300 for w in default) == 1 and all(40 < w < 60 for w in one + [min(default)])


def cpu_name(log):
    """The CPU a measurement log names (lscpu's model name), as the pages write it: 'Intel Xeon'."""
    model = re.search(r"^Model name:\s+(.+)$", log, flags=re.M).group(1)
    return " ".join(re.sub(r"\((R|TM)\)|\bProcessor\b|\bCPU\b", " ", model).split())


def test_the_pages_timing_lines_are_the_committed_logs():
    """Every paragraph of the README and the pages that cites a timing log of results/quick_run (measure.sh's
    time.log, time_30000.log, time_eager.log) quotes only those logs' wall times, each 'N s' a command's or the
    block's and each 'N minutes' (or min) the same in minutes, names each cited log's budget in steps and its CPU:
    so a 30000-step time cannot pass for the 18000-step block's, nor one machine's for another's. Every paragraph
    that cites a throughput measurement names the machine its JSON records (the CPU, or the GPU where one ran)."""
    logs = {}
    for path in glob.glob(os.path.join(ROOT, "results", "quick_run", "time*.log")):
        log = read(path)
        walls = [float(w) for w in re.findall(r"^rc 0 wall ([\d.]+) s", log, flags=re.M)]
        walls.append(float(re.search(r"^block wall ([\d.]+) s", log, flags=re.M).group(1)))
        (budget,) = set(re.findall(r"--total-timesteps (\d+)", log))
        logs[os.path.basename(path)] = (cpu_name(log), budget, walls)
    assert {"time.log", "time_30000.log", "time_eager.log"} <= set(logs)
    throughput = {}  # how a page cites a throughput JSON: the machine it names
    for cited, name in ((r"(?<![\w/])results/throughput/walker2d\.json", "walker2d.json"),
                        (r"results/throughput/sac_walker2d\.json", "sac_walker2d.json"),
                        ("results/throughput/h100/", "h100/walker2d.json")):  # fmt: skip
        machine = json.loads(read(os.path.join(ROOT, "results", "throughput", name)))["machine"]
        throughput[cited] = machine["gpu"].split()[1] if machine["gpu"] else cpu_name(f"Model name: {machine['cpu']}")
    checked, bad = 0, []
    for doc in DOCS:
        for paragraph in re.split(r"\n\s*\n", read(doc)):
            text = " ".join(paragraph.split())
            cited = [name for name in logs if re.search(rf"[`/]{re.escape(name)}[`:;, ]", text)]
            if cited:
                checked += 1
                seconds = {f"{w:.0f}" for name in cited for w in logs[name][2]} | {f"{w:.1f}" for name in cited for w in logs[name][2]}
                minutes = {f"{w / 60:.1f}" for name in cited for w in logs[name][2]}
                bad += [f"{rel(doc)}: {x} s" for x in re.findall(r"(\d+(?:\.\d+)?) s\b", text) if x not in seconds]
                bad += [f"{rel(doc)}: {x} min" for x in re.findall(r"(\d+(?:\.\d+)?) min(?:utes)?\b", text) if x not in minutes]
                bad += [f"{rel(doc)}: no {logs[n][1]} steps for {n}" for n in cited if not re.search(rf"\b{logs[n][1]}\b", text)]
                bad += [f"{rel(doc)}: not the {logs[n][0]} of {n}" for n in cited if logs[n][0] not in text]
            for pattern, machine in throughput.items():
                if re.search(pattern, text) and machine not in text:
                    bad.append(f"{rel(doc)}: cites {pattern} without naming its machine, {machine}")
    assert checked >= 4 and bad == [], bad


def test_the_first_runs_budget_is_the_smallest_at_which_every_seed_separates():
    """The first run's budget is the smallest step of results/pendulum_first_run/snapshots.csv (the README's two
    trainings at seeds 1-5, every snapshot evaluated) at which every seed of both solves the swing-up (return above
    -200) and every TD3 + PAVE seed is smoother than every TD3 seed, and both stay so at every later step; the README
    and its first-run page quote the sm and return ranges there, the page the steps before and after."""
    readme, text = " ".join(first_run().split()), " ".join(read(FIRST_RUN_PAGE).split())
    words = [w for w in commands_in(first_run()) if w[0] == "python"]
    budgets = {w[w.index("--total-timesteps") + 1] for w in words[:2]}
    assert len(budgets) == 1
    budget = int(budgets.pop())
    with open(os.path.join(ROOT, "results", "pendulum_first_run", "snapshots.csv")) as f:
        rows = [row for row in csv.DictReader(f) if float(row["obs_noise"]) == 0]
    at = {}  # step -> method -> [(sm, return)] over seeds
    for row in rows:
        at.setdefault(int(row["global_step"]), {}).setdefault(row["group"].split(" ")[0], []).append(
            (float(row["sm_mean"]), float(row["return_mean"])))  # fmt: skip

    def separates(step):
        td3, pave = at[step]["td3"], at[step]["td3_pave"]
        assert len(td3) == len(pave) == 5, step
        return min(r for _, r in td3 + pave) > -200 and max(s for s, _ in pave) < min(s for s, _ in td3)

    steps = sorted(at)
    good = [s for s in steps if all(separates(t) for t in steps if t >= s)]
    assert good and good[0] == budget, (budget, [(s, separates(s)) for s in steps])
    for method, name in (("td3", "plain TD3"), ("td3_pave", "TD3 + PAVE")):
        sm, re_ = [s for s, _ in at[budget][method]], [r for _, r in at[budget][method]]
        quoted = f"{name} sm {ranges(sm, '.3g')} at return {ranges(re_, '.1f')}"
        assert quoted in readme and quoted in text, quoted
    before = steps[steps.index(budget) - 1]  # "at 12000 none has": no seed of either has learned the swing-up
    assert f"at {before} none has" in text and max(r for _, r in at[before]["td3"] + at[before]["td3_pave"]) < -200
    later = steps[steps.index(budget) + 1]
    assert f"TD3 chatters more, not less (sm {ranges([s for s, _ in at[later]['td3']], '.3g')} at {later} steps)" in text


def test_walkers_curvature_loss_figures_are_the_committed_scalars():
    """docs/walker2d.md quotes losses/curv per PAVE seed from results/walker2d_v5/scalars.csv (study_scalars.py over
    the finished runs' event files): the first window after the warm-up, the last, the highest, and TD3 + PAVE's
    critic loss in its last window."""
    with open(os.path.join(ROOT, "results", "walker2d_v5", "scalars.csv")) as f:
        rows = list(csv.DictReader(f))
    text = " ".join(read(os.path.join(ROOT, "docs", "walker2d.md")).split())
    records = {(r["method"], r["seed"]) for r in study_report.load_records(os.path.join(ROOT, "results", "walker2d_v5"))}
    for method, name, weight in (("td3_pave", "TD3 + PAVE", "0.01"), ("sac_pave", "SAC + PAVE", "2.0")):
        seeds = sorted({int(r["seed"]) for r in rows if r["method"] == method})
        assert seeds == sorted(s for m, s in records if m == method), "scalars.csv is not the finished runs'"
        curv = {s: [(int(r["step"]), float(r["mean"])) for r in rows
                    if (r["method"], int(r["seed"]), r["tag"]) == (method, s, "losses/curv")] for s in seeds}  # fmt: skip
        # from the first window after the 10000 warm-up steps, (10000, 20000], to the last, which ends at the budget
        curv = {s: [(step, v) for step, v in c if step >= 20000] for s, c in curv.items()}
        assert all(c[0][0] == 20000 and c[-1][0] == 200000 for c in curv.values())
        quoted = ", ".join(f"seed {s} {curv[s][0][1]:.3g} → {curv[s][-1][1]:.3g}" for s in seeds)
        highest = max(v for s in seeds for _, v in curv[s])
        assert f"{name} (λ3 {weight}): {quoted} (highest window {highest:.3g})" in text, (name, quoted, highest)
    (qf,) = [float(r["mean"]) for r in rows if (r["method"], r["seed"], r["tag"], r["step"]) == ("td3_pave", "1", "losses/qf_loss", "200000")]
    assert f"a critic loss of {qf:.3g}" in text


def test_the_weight_ranges_of_choosing_the_weights_are_the_papers():
    """The README's 'Choosing the weights' quotes the range of each PAVE weight over the paper's environments and both
    families, as paper_settings.toml holds them."""
    text = " ".join(section(read(README), "## Choosing the weights").split())
    per_env = [w for m in ("td3_pave", "sac_pave") for w in study.SETTINGS["method"][m]["weights"].values()]
    quoted = ", ".join(f"λ{i} {min(w[f'lambda{i}'] for w in per_env):g} to {max(w[f'lambda{i}'] for w in per_env):.1f}"
                       for i in (1, 2, 3))  # fmt: skip
    assert quoted.replace(", λ3", " and λ3") in text, quoted


def test_the_curvature_loss_figures_of_choosing_the_weights_are_the_first_runs():
    """'Watch losses/curv': the figures for the first run's TD3 + PAVE on Pendulum are results/pendulum_first_run/
    scalars.csv's (2000-step windows): the window of the first update, the next one, the highest after it."""
    with open(os.path.join(ROOT, "results", "pendulum_first_run", "scalars.csv")) as f:
        rows = [r for r in csv.DictReader(f) if (r["method"], r["tag"]) == ("td3_pave", "losses/curv")]
    at = {}
    for r in rows:
        at.setdefault(int(r["step"]), []).append(float(r["mean"]))
    steps = sorted(at)
    assert steps[0] == 10000 and steps[1] == 12000 and steps[-1] == 30000 and all(len(v) == 5 for v in at.values())
    text = " ".join(section(read(README), "## Choosing the weights").split())
    first, after = ranges(at[10000], ".3g"), ranges(at[12000], ".2g")
    highest = max(v for s in steps[1:] for v in at[s])
    assert f"it is {first} at the first update, {after} over the next 2000 steps and at most {highest:.3g} up to 30000" in text


def test_walkers_critic_figures_in_the_prose_are_its_critic_rows():
    """The Walker page's reading quotes ndef_rate and mu_inf of its critic table (whose rows are the report's, checked
    above): TD3 + PAVE's and the base's share of states where H_aa is negative definite, SAC + PAVE's, the mu_inf."""
    text = read(os.path.join(ROOT, "docs", "walker2d.md"))
    rows = {cells[1]: cells for cells in ([c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| Walker2d-v5 |"))}  # fmt: skip
    ndef = {m: float(rows[m][7].split()[0]) for m in ("td3", "td3_pave", "sac_pave")}
    mu = {m: rows[m][4].split()[0] for m in ("td3", "td3_pave")}
    flat = " ".join(text.split())
    assert f"negative definite at {ndef['td3_pave']:.0%} of the visited states (ndef_rate below; the base's {ndef['td3']:.1%}" in flat
    assert f"negative definite at {ndef['sac_pave']:.0%} of the visited states" in flat
    assert f"({mu['td3_pave']} against {mu['td3']})" in flat


def test_walkers_curves_prose_is_the_committed_curves():
    """docs/walker2d.md reads the curves against the training step from their numbers (results/walker2d_v5/
    curves_FAMILY.csv, written by study_figures.sh beside the figure): at which snapshots every PAVE seed is smoother
    than every base seed, and TD3's figures at the one snapshot where it is."""
    text = " ".join(read(os.path.join(ROOT, "docs", "walker2d.md")).split())

    def curves(family):
        with open(os.path.join(ROOT, "results", "walker2d_v5", f"curves_{family}.csv")) as f:
            rows = list(csv.DictReader(f))
        steps = sorted({int(r["global_step"]) for r in rows})
        at = {(m, s, key): [float(r[key]) for r in rows if (r["group"].split(" ")[0], int(r["global_step"])) == (m, s)]
              for m in (family, f"{family}_pave") for s in steps for key in ("return_mean", "sm_mean", "length_mean",
                                                                            "sm_window_200_mean")}  # fmt: skip
        assert all(len(v) == 3 for v in at.values()), "three seeds at every snapshot"
        below = [s for s in steps if max(at[(f"{family}_pave", s, "sm_mean")]) < min(at[(family, s, "sm_mean")])]
        return at, steps, below

    at, steps, below = curves("td3")
    assert below == [160000]

    def b(key, spec):  # the base's seeds at 160000 steps
        return ranges(at[("td3", 160000, key)], spec)

    def p(key, spec):
        return ranges(at[("td3_pave", 160000, key)], spec)

    assert f"at 160000 steps its seeds return {p('return_mean', '.0f')} against the base's {b('return_mean', '.0f')}" in text
    assert f"160000 steps ({p('sm_mean', '.3g')} against {b('sm_mean', '.3g')})" in text
    assert f"(mean length {p('length_mean', '.0f')} against {b('length_mean', '.0f')})" in text
    assert f"(sm@200 {p('sm_window_200_mean', '.3g')} against {b('sm_window_200_mean', '.3g')})" in text
    at, steps, below = curves("sac")
    assert below == [80000, 160000, 200000]
    assert "on sm at 80000, 160000 and 200000 steps, and at no snapshot after the first" in text
    assert at[("sac", 0, "sm_mean")] == at[("sac_pave", 0, "sm_mean")]  # one seed's initial policy is both methods'
    assert not [s for s in steps[1:] if min(at[("sac", s, "sm_mean")]) < min(at[("sac_pave", s, "sm_mean")])]


def per_seed(text):
    """A page's per-seed lines, {method: {seed: (sm, return[, length, sm@W])}}."""
    out = {}
    for line in text.splitlines():
        if m := re.match(r"- ((?:td3|sac)[\w\[\]=.+-]*): (seed .*)", line):
            out[m[1]] = {int(s): tuple(map(float, v.split(", "))) for s, v in re.findall(r"seed (\d+): ([^;]+)", m[2])}
    return out


def test_hoppers_td3_reading_is_its_rows():
    """docs/hopper.md's reading of TD3 against TD3 + PAVE quotes its own Table 1 rows, per-seed lines and critic rows
    (which the test above ties to the report): the seeds' sm@200 and sm ranges, the IQMs, the falls, the critic's
    mu_inf and ndef_rate."""
    text = read(os.path.join(ROOT, "docs", "hopper.md"))
    flat = " ".join(text.split())

    seeds = lambda method: per_seed(text)[method]  # noqa: E731  {seed: (sm, return, length, sm@200)}

    def row(method, prefix="| "):
        line = next(line for line in text.splitlines() if line.startswith(f"{prefix}{method} | "))
        return [c.strip() for c in line.strip("|").split("|")]

    base, pave = seeds("td3"), seeds("td3_pave")
    assert len(base) == len(pave) == 5
    b, p = (lambda i, spec: ranges([v[i] for v in base.values()], spec)), (lambda i, spec: ranges([v[i] for v in pave.values()], spec))  # fmt: skip
    assert max(v[3] for v in pave.values()) < min(v[3] for v in base.values())
    iqm = {m: (row(m)[6].split(" [")[0], row(m)[10].split(" [")[0]) for m in ("td3", "td3_pave")}
    assert (f"Every PAVE seed is smoother than every base seed, and like for like too: sm@200 {p(3, '.3g')} against the "
            f"base's {b(3, '.3g')} (IQM {iqm['td3_pave'][1]} against {iqm['td3'][1]} over 5 seeds each") in flat  # fmt: skip
    assert f"On sm, which the shorter episodes flatter, {p(0, '.3g')} against {b(0, '.3g')}." in flat
    interval = {m: [float(x) for x in re.findall(r"[\d.]+", row(m)[6])] for m in ("td3", "td3_pave")}
    quoted = [f"{x:.0f} [{lo:.0f}, {hi:.0f}]" for x, lo, hi in (interval["td3_pave"], interval["td3"])]
    assert f"the return's IQM is {quoted[0]} against the base's {quoted[1]}" in flat
    fell = {m: re.search(r"\((\d+)%\)", row(m)[9]).group(1) for m in ("td3", "td3_pave")}
    assert f"{fell['td3_pave']}% of PAVE's clean episodes fall against {fell['td3']}% of the base's" in flat
    critic = {m: row(m, "| Hopper-v5 | ") for m in ("td3", "td3_pave")}
    mu, ndef = (lambda m: float(critic[m][4].split()[0])), (lambda m: float(critic[m][7].split()[0]))
    assert f"(μ_inf) is {mu('td3_pave'):.2f} against the base's {mu('td3'):.1g}" in flat
    assert f"H_aa is negative definite at {ndef('td3_pave'):.0%} of the visited states against {ndef('td3'):.0%}" in flat


def weights_claims():
    """The sentences of docs/weights.md (and the README's summary) that quote numbers, made from the page's own
    per-seed lines and critic rows (which the test above ties to the report) and the study's scalars.csv; each
    with the comparison it claims, checked here too."""
    text = read(os.path.join(ROOT, "docs", "weights.md"))
    seeds = {method: list(values.values()) for method, values in per_seed(text).items()}
    critic = {}
    for line in text.splitlines():
        if line.startswith("| Pendulum-v1 | "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            critic[cells[1]] = {k: cells[i].split(" (")[0] for k, i in (("M_sup", 2), ("M_mean", 3), ("mu_inf", 4))}
    sm = lambda *ms: [v[0] for m in ms for v in seeds[m]]  # noqa: E731
    re_ = lambda *ms: [v[1] for m in ms for v in seeds[m]]  # noqa: E731
    r3, r1 = (lambda v: ranges(v, ".3g")), (lambda v: ranges(v, ".1f"))

    def listed(values, spec):
        texts = [f"{v:{spec}}" for v in values]
        return ", ".join(texts[:-1]) + " and " + texts[-1]

    high3, l1_ok = ("td3_pave", "td3_pave[lambda3=20]", "td3_pave[lambda3=200]"), ("td3_pave[lambda1=0]", "td3_pave[lambda1=0.2]", "td3_pave[lambda1=20]")  # fmt: skip
    l2 = [m for m in seeds if m.startswith("td3_pave[lambda2=")]
    assert len(l2) == 4 and all(len(seeds[m]) == 3 for m in seeds), "every configuration at seeds 1-3"
    # not separated from td3; 0.2 between PAVE's and td3's; from 2 to 200 smoother than every td3 seed
    assert min(sm("td3")) < max(sm("td3_pave[lambda3=0]")) and min(sm("td3_pave[lambda3=0]")) < max(sm("td3"))
    assert max(sm(*high3)) < min(sm("td3_pave[lambda3=0.2]")) and max(sm("td3_pave[lambda3=0.2]")) < min(sm("td3_pave[lambda3=0]"))
    assert max(sm(*l1_ok)) < min(sm("td3")) and min(re_("td3_pave[lambda1=200]")) < min(re_("td3")) - 100
    assert min(sm("td3_pave[lambda1=200]")) > max(sm("td3_pave"))  # "sm rises"
    assert min(re_(*high3)) > min(re_("td3")) - 1  # more λ3 "costs nothing"
    assert min(sm("td3_pave[lambda1=0]")) <= max(sm("td3_pave"))  # MPR off "as smooth as with it"
    for f in (sm, re_):  # λ2 "moved neither": its values' seeds overlap the default's, sm and return
        assert min(f(*l2)) <= max(f("td3_pave")) and max(f(*l2)) >= min(f("td3_pave"))
    c, mu = critic, (lambda m: critic[m]["mu_inf"])  # noqa: E731
    rows = list(csv.DictReader(open(os.path.join(ROOT, "results", "sensitivity_pendulum", "scalars.csv"))))
    hinge = {}
    for r in rows:
        if r["tag"] == "losses/curv":
            hinge.setdefault((r["method"], r["seed"]), []).append((int(r["step"]), float(r["mean"])))
    curve = lambda m: [sorted(v) for (method, _), v in hinge.items() if method == m]  # noqa: E731
    at2 = [m for m in {k[0] for k in hinge} if "lambda3" not in m]
    others = [m for m in seeds if m != "td3_pave[lambda1=200]"]
    assert min(re_(*others)) > min(re_("td3")) - 5  # "every other configuration stays near TD3's"
    readme = [
        f"the return collapses, {listed(re_('td3_pave[lambda1=200]'), '.1f')}, where every other configuration stays near TD3's",
        f"keeps sm at {r3(sm(*high3))} per seed (λ3 = 0: {r3(sm('td3_pave[lambda3=0]'))}, TD3: {r3(sm('td3'))})",
        f"at a tenth of the paper's λ3 the hinge climbs back to {r3([v[-1][1] for v in curve('td3_pave[lambda3=0.2]')])} by the end",
    ]
    return text, readme, [
        f"policy is not separated from plain TD3: sm {r3(sm('td3_pave[lambda3=0]'))} over 3 seeds against td3's {r3(sm('td3'))}",
        f"At a tenth of the paper's value, 0.2, sm is {r3(sm('td3_pave[lambda3=0.2]'))}, between the two",
        f"from the paper's 2.0 to 100 times it, {r3(sm(*high3))} per seed, at TD3's return ({r1(re_(*high3))} against {r1(re_('td3'))})",
        f"every seed keeps a return of {r1(re_(*l1_ok))} (td3: {r1(re_('td3'))}) and is smoother than every TD3 seed",
        f"the return collapses, {listed(re_('td3_pave[lambda1=200]'), '.1f')}, and sm rises to {listed(sm('td3_pave[lambda1=200]'), '.3g')}, "
        f"against the default's {r3(sm('td3_pave'))}",
        f"At 0, MPR off, the policy is as smooth as with it (sm {r3(sm('td3_pave[lambda1=0]'))})",
        f"over 0 to 100 times its value: sm {r3(sm(*l2))}, return {r1(re_(*l2))} per seed",
        f"μ_inf {mu('td3_pave[lambda3=0]')} without Curv (td3: {mu('td3')}), {mu('td3_pave[lambda3=0.2]')} at 0.2, "
        f"{mu('td3_pave')} at the paper's 2.0, and {r3([float(mu('td3_pave[lambda3=20]')), float(mu('td3_pave[lambda3=200]'))])} at 20 and 200",
        f"M_mean {c['td3_pave[lambda1=0]']['M_mean']} without MPR (td3: {c['td3']['M_mean']}), {c['td3_pave']['M_mean']} at the "
        f"paper's 2.0, {c['td3_pave[lambda1=20]']['M_mean']} at 20 and {c['td3_pave[lambda1=200]']['M_mean']} at 200 (M_sup "
        + ", ".join(c[m]["M_sup"] for m in ("td3_pave[lambda1=0]", "td3_pave", "td3_pave[lambda1=20]", "td3_pave[lambda1=200]")) + ")",
        f"(μ_inf {mu('td3_pave[lambda1=200]')}: Curv holds it)",
        f"At λ3 = 0.2 the hinge drops to {r3([v[1][1] for v in curve('td3_pave[lambda3=0.2]')])} in the first window after "
        f"the warm-up and climbs back to {r3([v[-1][1] for v in curve('td3_pave[lambda3=0.2]')])} by the end",
        f"At the paper's 2.0 (every λ1 and λ2 value) it ends at {r3([v[-1][1] for m in at2 for v in curve(m)])}; at 20 and 200 "
        f"below {max(x for m in ('td3_pave[lambda3=20]', 'td3_pave[lambda3=200]') for v in curve(m) for _, x in v[1:]):.3g}",
    ]


def test_the_weights_pages_reading_is_its_rows(reports):
    """Issue 33: every number of docs/weights.md's reading is its own per-seed lines, critic rows or the study's
    scalars.csv, with the comparison it makes; its Pareto front and timings are the report's lines."""
    text, readme, claims = weights_claims()
    flat = " ".join(text.split())
    assert [c for c in claims if c not in flat] == []
    choosing = " ".join(section(read(README), "## Choosing the weights").split())
    assert [c for c in readme if c not in choosing] == []
    report = read(reports[os.path.join(ROOT, "results", "sensitivity_pendulum")])
    front = report.split("Pareto front of")[1].split("\n\n")[1].splitlines()
    timing = [line for line in report.split("## Training time")[1].split("\n\n")[1].splitlines()]
    assert all(line in text.splitlines() for line in front + timing) and len(front) >= 2 and len(timing) == 14


def lambda3_probe_rows():
    """docs/walker2d.md's table of issue 42's λ3 probe: seed 1 at each snapshot the probe has reached, td3 and
    td3_pave (λ3 0.01) from curves_td3.csv beside td3_pave at λ3 0.1 and 1 from curves_lambda3.csv."""
    rows = []
    for family in ("td3", "lambda3"):
        with open(os.path.join(ROOT, "results", "walker2d_v5", f"curves_{family}.csv")) as f:
            rows += [r for r in csv.DictReader(f) if r["seed"] == "1"]
    probed = sorted({int(r["global_step"]) for r in rows if r["group"].startswith("td3_pave+") and r["global_step"] != "0"})
    names = {"td3": "td3", "td3_pave": "td3_pave (λ3 0.01)", "td3_pave+lambda3=0.1": "λ3 0.1",
             "td3_pave+lambda3=1": "λ3 1"}  # fmt: skip
    lines, cells = [], {}
    for step in probed:
        for r in rows:
            method = r["group"].split(" ")[0]
            if int(r["global_step"]) == step and method in names:
                scored = 10 - int(r["sm_window_200_not_scored"])
                smw = "–" if scored == 0 else f"{float(r['sm_window_200_mean']):.3g} ({scored})"
                cells[(method, step)] = float(r["sm_mean"])
                lines.append(f"| {step} | {names[method]} | {float(r['return_mean']):.0f} | {float(r['sm_mean']):.3g} | "
                             f"{float(r['length_mean']):.0f} | {smw} |")
    return lines, cells, probed


def test_walkers_lambda3_probe_is_the_committed_curves():
    text = read(os.path.join(ROOT, "docs", "walker2d.md"))
    lines, sm, probed = lambda3_probe_rows()
    assert lines and "\n".join(lines) in text
    flat = " ".join(text.split())
    smoother = [s for s in probed if ("td3_pave+lambda3=1", s) in sm and sm[("td3_pave+lambda3=1", s)] < min(
        sm[("td3", s)], sm[("td3_pave", s)])]
    assert f"λ3 = 1 is the smoothest of the three at seed 1 at {', '.join(map(str, smoother))} steps" in flat
    cells = {tuple(r.strip("| ").split(" | ")[:2]): r.strip("| ").split(" | ") for r in lines}

    def value(step, method, i):  # return (2), length (4), sm@200 (5, None where no episode reached 200 steps)
        text = cells[(str(step), method)][i].split()[0]
        return None if text == "–" else float(text)

    def beats(step, i, better):
        mine, others = value(step, "λ3 1", i), [value(step, m, i) for m in ("td3", "td3_pave (λ3 0.01)")]
        return None not in (mine, *others) and all(better(mine, o) for o in others)

    longer = [s for s in probed if (str(s), "λ3 1") in cells and beats(s, 2, float.__gt__) and beats(s, 4, float.__gt__)
              and beats(s, 5, float.__lt__)]
    assert longer[0] == 80000 and f"with longer episodes than both at {', '.join(map(str, longer[:-1]))} and {longer[-1]}" in flat
    assert "the lowest sm@200 there and the highest return" in flat
    with open(os.path.join(ROOT, "results", "walker2d_v5", "scalars_lambda3.csv")) as f:
        curv = {}
        for r in csv.DictReader(f):
            if r["seed"] == "1":  # stage 6's seeds 2-3 (λ3 1) are in the file too
                curv.setdefault(r["method"], []).append(float(r["mean"]))
    held, weak = curv["td3_pave[lambda3=1]"], curv["td3_pave[lambda3=0.1]"]
    assert f"fell from {held[0]:.3g} to {held[1]:.1g} in the first 10000-step window" in flat
    assert max(held[1:]) < 0.2 and "stayed below 0.2" in flat
    assert max(weak[1:]) > 2 and "at λ3 0.1 it went back above 2" in flat
    late = weak[9:]  # the windows ending at 100000 steps and after
    assert len(weak) == 20 and f"stayed there ({min(late):.3g} to {max(late):.3g} from 100000 steps on)" in flat
    final = cells[("200000", "λ3 0.1")]
    assert f"falls within 200 steps in {10 - int(final[5].split('(')[1].rstrip(')'))} of 10 episodes (return {final[2]})" in flat
    # the README's line and the page's 'every seed': λ3 1's record against every td3 and td3_pave seed's, sm and sm@200
    records = study_report.load_records(os.path.join(ROOT, "results", "walker2d_v5"))

    def clean(r, window=None):  # sm, or sm over the first `window` steps of the episodes that reach it
        level = r["levels"]["0.0"]
        return statistics.mean(level["sm"] if window is None else [x for x in level["sm_window"][window] if x is not None])

    (mine,) = [r for r in records if r["method"] == "td3_pave[lambda3=1]" and r["seed"] == 1]
    others = [r for r in records if r["method"] in ("td3", "td3_pave")]
    assert len(others) == 6 and all(clean(mine) < clean(r) and clean(mine, "200") < clean(r, "200") for r in others)
    assert "at λ3 = 1 smoother than every TD3 seed, on the one seed run so far" in " ".join(read(README).split())
    assert "are below those of every seed of stage 1's td3 and td3_pave" in flat


def test_one_recipe_for_your_own_task_on_every_page(tmp_path):
    """Issue 44: the README, docs/weights.md and docs/studies.md give one starting point and one sweep for a new task,
    and its dry run (on an env the paper did not train) plans PAVE at those weights, its λ3 a decade each way, and the
    base at 0, and says which weights it uses and why."""
    command = None
    for page in ("README.md", os.path.join("docs", "weights.md"), os.path.join("docs", "studies.md")):
        text = read(os.path.join(ROOT, page)).replace("\\\n", " ")
        found = [" ".join(line.split()) for line in text.splitlines() if "study.py run --study studies/my_robot" in line]
        assert len(found) == 1, (page, found)
        assert command in (None, found[0]), (page, found[0], command)
        command = found[0]
    assert "--flags lambda1=2.0 lambda2=0.005 lambda3=2.0 --vary lambda3=0.2,20" in command
    argv = command.split()[2:]  # after `python benchmarks/study.py`
    argv[argv.index("my_package:MyRobot-v0")] = "MountainCarContinuous-v0"
    argv[argv.index("--study") + 1] = str(tmp_path / "mine")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "study.py"), *argv, "--dry-run"],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ("MountainCarContinuous-v0 is not in paper_settings.toml: td3_pave trains with lambda1 2.0, lambda2 0.005, "
            "lambda3 2.0 (--flags)") in result.stdout
    planned = {line.split(": ")[0].split()[-1]: line for line in result.stdout.splitlines() if line.startswith("to do")}
    assert "--lambda1 0.0 --lambda2 0.0 --lambda3 0.0" in planned["MountainCarContinuous-v0/td3/seed1"]
    for method, lambda3 in (("td3_pave", "2.0"), ("td3_pave[lambda3=0.2]", "0.2"), ("td3_pave[lambda3=20]", "20")):
        assert f"--lambda1 2.0 --lambda2 0.005 --lambda3 {lambda3} " in planned[f"MountainCarContinuous-v0/{method}/seed1"]


def test_the_autotune_paragraph_is_its_run():
    """Issue 46: docs/weights.md's λ3-that-sets-itself section is results/lambda3_autotune_pendulum's: its table is
    table.py's from the committed CSVs (and results/pendulum_td3's records), and every range and verdict of its prose
    is computed here from the table's rows."""
    import importlib.util

    here = os.path.join(ROOT, "results", "lambda3_autotune_pendulum")
    spec = importlib.util.spec_from_file_location("autotune_table", os.path.join(here, "table.py"))
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    assert read(os.path.join(here, "table.md")) == table.table()
    text = read(os.path.join(ROOT, "docs", "weights.md"))
    assert table.table().strip() in text
    flat = " ".join(text.split())
    rows = table.rows()
    assert [r[0] for r in rows] == [1, 2, 3]
    seed, re_, sm, fixed_re, fixed_sm, td3_re, td3_sm, lam, hinge = zip(*rows)

    def span(values, spec):
        return f"{min(values):{spec}} to {max(values):{spec}}"

    gap = max(abs(v - 2.0) / 2.0 for v in lam)
    assert f"λ3 rose from 0.01 to {span(lam, '.3g')} by the end, the paper's tuned 2.0 within {100 * gap:.0f}%" in flat
    assert f"the hinge fell from 2 to {span(hinge, '.3g')}, at its target" in flat
    assert all(abs(h - table.TARGET) < 0.02 for h in hinge)
    smoother = [s for s, a, b in zip(seed, sm, fixed_sm) if a < b]
    rougher = [s for s, a, b in zip(seed, sm, fixed_sm) if a > b]
    assert (f"sm {span(sm, '.3g')} against the fixed 2.0's {span(fixed_sm, '.3g')} (smoother on seeds "
            f"{' and '.join(map(str, smoother))}, less smooth on seed {' and '.join(map(str, rougher))})") in flat
    assert f"return {span(re_, '.1f')} against {span(fixed_re, '.1f')}" in flat
    assert f"every seed far smoother than TD3 (sm {span(td3_sm, '.3g')})" in flat and max(sm) < min(td3_sm) / 3
    assert abs(statistics.mean(sm) - statistics.mean(fixed_sm)) < 0.05 and max(abs(a - b) for a, b in zip(re_, fixed_re)) < 1
    readme = " ".join(read(README).split())
    assert f"it ended at {span(lam, '.3g')} over 3 seeds, the paper's tuned 2.0, with its sm and return" in readme
