"""eval_smoothness.py: the smoothness score, the noise model, the critic metrics, and end-to-end runs."""

import csv
import glob
import importlib
import json
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn as nn

import eval_smoothness as ev
from conftest import ROOT, run_cli, train_in_process

ALGORITHM_FILES = ["td3_pave", "td3_pave_fast", "td3_caps", "td3_grad", "td3_asap", "sac_pave", "sac_caps", "sac_grad",
                   "sac_asap"]


def test_smoothness_of_a_sinusoid_is_amplitude_times_frequency():
    t = np.arange(1000)
    for amplitude, f in ((0.7, 0.05), (2.0, 0.01), (1.0, 0.45)):
        assert ev.smoothness_score(amplitude * np.sin(2 * np.pi * f * t)) == pytest.approx(amplitude * f, rel=1e-9)
    assert ev.smoothness_score(np.full((200, 3), 0.4)) == pytest.approx(0.0, abs=1e-12)


def test_smoothness_matches_the_closed_form_on_random_actions():
    rng = np.random.default_rng(0)
    for T in (64, 65):
        actions = rng.uniform(-1, 1, (T, 3))
        t, m = np.arange(T), T // 2
        dft = np.exp(-2j * np.pi * np.outer(np.arange(m), t) / T) @ actions  # bins 0 .. m-1, written out
        weighted = (np.arange(m)[:, None] * np.abs(dft)).sum(0).mean()
        assert ev.smoothness_score(actions) == pytest.approx(2 * weighted / T**2, rel=1e-12)
        assert ev.smoothness_score(actions, "caps") == pytest.approx(2 * weighted / (T * m * (m - 1)), rel=1e-12)
    one_dim = rng.normal(size=100)
    assert ev.smoothness_score(one_dim) == ev.smoothness_score(one_dim[:, None])


def test_observation_noise_statistics_bounds_and_seeding():
    sigma, base = 0.1, np.array([1.0, 2.0, 0.5])
    low, high = np.full(3, -np.inf), np.full(3, np.inf)
    noise = np.array(
        [
            ev.observation_noise(np.zeros(3), sigma, base, low, high, rng)
            for rng in [np.random.default_rng(0)]
            for _ in range(20000)
        ]
    )
    assert np.all(np.abs(noise) <= sigma * base)
    np.testing.assert_allclose(noise.std(0), sigma * base / np.sqrt(3), rtol=0.03)  # U(-a, a) has std a / sqrt(3)
    np.testing.assert_allclose(noise.mean(0), 0, atol=0.01 * sigma * base.max())
    clipped = ev.observation_noise(np.ones(3), 0.5, base, -np.ones(3), np.ones(3), np.random.default_rng(1))
    assert np.all(clipped <= 1) and np.all(clipped >= -1)
    draw = lambda seed: ev.observation_noise(np.zeros(3), sigma, base, low, high, np.random.default_rng(seed))  # noqa: E731
    assert np.array_equal(draw(5), draw(5)) and not np.array_equal(draw(5), draw(6))


class QuadraticCritic(nn.Module):
    """Q(s, a) = a^T A a / 2 + a^T B s: H_aa = A (symmetric), H_sa = B, dQ/da = A a + B s."""

    def __init__(self, A, B):
        super().__init__()
        self.A, self.B = torch.tensor(A), torch.tensor(B)

    def forward(self, s, a):
        return (0.5 * torch.einsum("ni,ij,nj->n", a, self.A, a) + torch.einsum("ni,ij,nj->n", a, self.B, s))[:, None]


B = [[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]]
S1, S2 = np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, -1.0])


@pytest.mark.parametrize(
    "A, trace_below, ndef", [([[-2.0, 0.5], [0.5, -1.0]], 1.0, 1.0), ([[1.0, 0.0], [0.0, -1.0]], 0.0, 0.0)]
)
def test_critic_metrics_on_a_quadratic_critic(A, trace_below, ndef):
    qf = QuadraticCritic(A, B)
    states = torch.tensor(np.array([S1, S1, -S1, S2]), dtype=torch.float32)
    actions = torch.zeros(4, 2)
    second = (torch.tensor(np.array([S2, S1]), dtype=torch.float32), torch.tensor([[0.5, -0.5], [0.5, -0.5]]))
    metrics = ev.critic_geometry(qf, [(states, actions), second], delta=1.0)
    assert metrics["M_sup"] == pytest.approx(np.linalg.norm(B, 2), rel=1e-5)
    assert metrics["M_mean"] == pytest.approx(np.linalg.norm(B, 2), rel=1e-5)
    assert metrics["mu_inf"] == pytest.approx(abs(np.trace(A)), abs=1e-5)
    assert metrics["trace_below_minus_delta_rate"] == trace_below
    assert metrics["ndef_rate"] == ndef
    g = [np.array(B) @ S1, np.array(B) @ S1, -np.array(B) @ S1, np.array(B) @ S2]  # first episode, a = 0
    g2 = [np.array(A) @ [0.5, -0.5] + np.array(B) @ s for s in (S2, S1)]
    cos = [
        u @ v / np.linalg.norm(u) / np.linalg.norm(v) for u, v in [(g[0], g[1]), (g[1], g[2]), (g[2], g[3]), (g2[0], g2[1])]
    ]
    assert metrics["cos_mean"] == pytest.approx(np.mean(cos), abs=1e-5)
    assert metrics["flip_rate"] == pytest.approx(np.mean(np.array(cos) < 0))  # never across the two episodes


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A short Pendulum checkpoint from every algorithm file (trained in this process: no interpreter start each)."""
    cwd = tmp_path_factory.mktemp("ckpts")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ALGORITHM_FILES:
            module = importlib.import_module(name)
            train_in_process(module, cwd, monkeypatch, env_id="Pendulum-v1", total_timesteps=300, learning_starts=100,
                             hidden_sizes=(32, 32), batch_size=32)
    return os.path.join(cwd, "runs")


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_end_to_end_on_every_algorithm_file(checkpoints, tmp_path):
    out = tmp_path / "eval"
    flags = [
        checkpoints,
        "--episodes",
        2,
        "--obs-noise",
        0.05,
        "--noise-episodes",
        3,
        "--noise-reference-episodes",
        2,
        "--critic-metrics",
        "--plot-field",
        "--out-dir",
        out,
    ]
    result = run_cli("eval_smoothness.py", *flags, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = read_csv(out / "eval.csv")
    assert len(rows) == 2 * len(ALGORITHM_FILES)  # noise-free and sigma = 0.05
    assert {row["algorithm"] for row in rows} == {f"{name}.py" for name in ALGORITHM_FILES}
    for row in rows:
        assert row["episodes"] == ("2" if row["obs_noise"] == "0.0" else "3") and np.isfinite(float(row["return_mean"])) and float(row["sm_mean"]) >= 0
        if row["obs_noise"] == "0.0":
            assert all(np.isfinite(float(row[k])) for k in ("M_sup", "mu_inf", "ndef_rate", "flip_rate"))
    report = json.loads((out / "eval.json").read_text())
    assert set(report["groups"]) == set(ALGORITHM_FILES)
    assert len(report["sigma_base"]["Pendulum-v1"]) == 3
    for name in ("actions_and_spectra.png", "noise.png", "q_gradient_field.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    assert "re: return" in result.stdout

    again = tmp_path / "again"
    result = run_cli("eval_smoothness.py", *flags[:-1], again, "--no-plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_csv(again / "eval.csv") == rows  # seeded: two evaluations agree, noise included


def test_matplotlib_is_imported_only_when_plotting(checkpoints, tmp_path):
    code = (
        "import sys, eval_smoothness as ev; "
        f"ev.main(ev.Args(paths=({checkpoints!r},), episodes=1, plots=False, out_dir={str(tmp_path)!r})); "
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")


def bad_checkpoints(checkpoints, folder):
    (source,) = [p for p in (os.path.join(d, f) for d, _, fs in os.walk(checkpoints) for f in fs) if p.endswith("td3_pave.pt")]
    ckpt = torch.load(source, weights_only=True)
    made = {"missing": os.path.join(folder, "nope.pt")}
    made["corrupt"] = os.path.join(folder, "corrupt.pt")
    with open(made["corrupt"], "wb") as f:
        f.write(b"not a checkpoint")
    for name, content in {
        "foreign": {"weights": torch.zeros(3)},
        "unknown_algorithm": {**ckpt, "algorithm": "td4.py"},
        "no_env": {**ckpt, "env_id": "NoSuchEnv-v0"},
        "other_env": {**ckpt, "env_id": "MountainCarContinuous-v0"},
    }.items():
        made[name] = os.path.join(folder, f"{name}.pt")
        torch.save(content, made[name])
    return made


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "no such file"),
        ("corrupt", "cannot read checkpoint"),
        ("foreign", "not a checkpoint of this project"),
        ("unknown_algorithm", "td4.py"),
        ("no_env", "cannot make env"),
        ("other_env", "another observation_space"),
    ],
)
def test_bad_input_is_one_clear_line(checkpoints, tmp_path, case, message):
    path = bad_checkpoints(checkpoints, str(tmp_path))[case]
    with pytest.raises(ev.UserError) as info:
        ev.main(ev.Args(paths=(path,), episodes=1, plots=False, out_dir=str(tmp_path / "out" / "deeper")))
    assert message in str(info.value) and "\n" not in str(info.value)  # __main__ prints it as one error: line
    assert not (tmp_path / "out").exists()  # the --out-dir write test leaves no empty folder behind


def test_bad_input_on_the_command_line_gets_one_error_line_and_exit_1(checkpoints, tmp_path):
    path = bad_checkpoints(checkpoints, str(tmp_path))["corrupt"]
    result = run_cli("eval_smoothness.py", path, "--episodes", 1, "--no-plots", "--out-dir", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot read checkpoint") and result.stderr.strip().count("\n") == 0


def test_a_resume_state_named_as_a_checkpoint_is_refused_in_one_line(tmp_path):
    (tmp_path / "td3_pave.resume.pt").write_bytes(b"")
    with pytest.raises(ev.UserError, match="is a resume state"):
        ev.find_checkpoints([str(tmp_path / "td3_pave.resume.pt")])


def test_a_checkpoint_older_than_a_flag_is_labelled_with_its_default(checkpoints, tmp_path):
    (path,) = glob.glob(os.path.join(checkpoints, "*td3_pave*", "td3_pave.pt"))
    ckpt = torch.load(path, weights_only=True)
    del ckpt["args"]["pave_every"]  # as written before --pave-every existed
    old = tmp_path / "old.pt"
    torch.save(ckpt, old)
    ckpt["args"]["pave_every"] = 4
    torch.save(ckpt, tmp_path / "every4.pt")
    assert ev.load_policy(str(old))[0]["args"]["pave_every"] == 1
    loaded = {p: ev.load_policy(str(tmp_path / p))[0] for p in ("old.pt", "every4.pt")}
    assert ev.group_labels(loaded) == {"old.pt": "td3_pave (pave_every=1)", "every4.pt": "td3_pave (pave_every=4)"}
    # runs named by --exp-name (a study's methods) are labelled by their names, unless two groups share one
    loaded["every4.pt"]["args"]["exp_name"] = "td3_pave_every4"
    assert ev.group_labels(loaded) == {"old.pt": "td3_pave", "every4.pt": "td3_pave_every4"}
    # a snapshot of a named run is its own group, under its run's name (as the training-step figure's legend)
    loaded["snapshot.pt"] = {**loaded["every4.pt"], "global_step": 100}
    assert ev.group_labels(loaded) == {"old.pt": "td3_pave", "every4.pt": "td3_pave_every4",
                                       "snapshot.pt": "td3_pave_every4 (step=100)"}  # fmt: skip
    loaded["other.pt"] = {**loaded["every4.pt"], "args": {**loaded["every4.pt"]["args"], "pave_every": 8}}
    assert ev.group_labels(loaded) == {"old.pt": "td3_pave", "every4.pt": "td3_pave (pave_every=4)",
                                       "snapshot.pt": "td3_pave (pave_every=4, step=100)",
                                       "other.pt": "td3_pave (pave_every=8)"}  # fmt: skip


def test_sigma_base_comes_from_the_base_checkpoint_when_one_is_given(checkpoints, tmp_path, capsys):
    """As the paper: sigma_base from plain TD3/SAC's visited states, whatever the order of the inputs."""
    (path,) = glob.glob(os.path.join(checkpoints, "*td3_pave__*", "td3_pave.pt"))
    ckpt = torch.load(path, weights_only=True)
    ckpt["args"] |= {"lambda1": 0.0, "lambda2": 0.0, "lambda3": 0.0}
    base = tmp_path / "zz_base" / "td3.pt"  # after every other path in sorted order
    base.parent.mkdir()
    torch.save(ckpt, base)
    args = ev.Args(paths=(checkpoints, str(base)), episodes=1, noise_episodes=1, obs_noise=(0.1,), noise_reference_episodes=1)
    ev.evaluate(args)
    assert f"Pendulum-v1: sigma_base from {base}" in capsys.readouterr().out
    td3_pave = ev.run_utils.import_algorithm("td3_pave.py")  # a base: every weight td3_pave.py declares at 0
    assert ev.run_utils.is_base(ckpt, td3_pave) and not ev.run_utils.is_base(torch.load(path, weights_only=True), td3_pave)


def test_summary_pools_episodes_and_averages_seeds():
    def level(returns, sm, lengths):
        return {"returns": returns, "sm": sm, "sm_caps": [0] * len(sm), "lengths": lengths,
                "terminated": [n < 1000 for n in lengths], "sm_window": {}}  # fmt: skip

    rows = [
        {"group": "g", "path": "a", "env_id": "E", "final": True, "levels": {0.0: level([1.0, 3.0], [0.5, 0.5], [1000, 1000])}},
        {"group": "g", "path": "b", "env_id": "E", "final": True, "levels": {0.0: level([5.0, 5.0, 5.0, 9.0], [1.0] * 4, [50] * 4)}},
        {"group": "h", "path": "c", "env_id": "E", "final": True, "levels": {0.0: level([7.0], [0.0], [1000])}},
    ]
    summary = ev.summarize(rows, [0.0], ev.Args(paths=("x",)))
    returns = summary["g"]["levels"]["0.0"]["returns"]
    assert returns["pooled"] == {
        "mean": pytest.approx(28 / 6),
        "std": pytest.approx(np.std([1, 3, 5, 5, 5, 9])),
    }  # all 6 episodes
    assert returns["across_seeds"] == {"mean": 4.0, "std": 2.0}  # per-checkpoint means 2 and 6
    assert summary["g"]["levels"]["0.0"]["sm"]["across_seeds"] == {"mean": 0.75, "std": 0.25}
    assert summary["h"]["checkpoints"] == ["c"] and "sm_caps" not in summary["h"]["levels"]["0.0"]
    assert summary["g"]["levels"]["0.0"]["lengths"]["across_seeds"]["mean"] == 525.0  # per checkpoint 1000 and 50
    assert summary["g"]["levels"]["0.0"]["fell"] == pytest.approx(4 / 6)  # 4 of its 6 episodes ended early
    assert ev.length_mismatch(summary, 0.0) == {"E": True}  # g's mean length 366.7 against h's 1000


def test_snapshots_are_kept_and_evaluated_step_by_step(tmp_path, monkeypatch):
    """--snapshot-fractions keeps <exp_name>_step<N>.pt (step 0: the initial networks); the evaluation gives each
    snapshot its own group and plots the run's return and sm against the training step."""
    module = importlib.import_module("td3_pave")
    run = train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=250,
                           learning_starts=100, snapshot_fractions=(0.0, 0.4, 0.8))  # fmt: skip
    files = sorted(f for f in os.listdir(run) if f.endswith(".pt"))
    assert files == ["td3_pave.pt", "td3_pave.resume.pt", "td3_pave_step0.pt", "td3_pave_step100.pt",
                     "td3_pave_step200.pt"]  # fmt: skip
    step0 = torch.load(os.path.join(run, "td3_pave_step0.pt"), weights_only=True)
    torch.manual_seed(1)  # the run's seed: its first network is the actor
    fresh = module.Actor(3, 1, (8,), "silu").state_dict()
    assert step0["global_step"] == 0 and all(torch.equal(fresh[k], step0["actor"][k]) for k in fresh)
    summary = ev.main(ev.Args(paths=(run,), episodes=1, out_dir=str(tmp_path / "eval")))
    assert set(summary) == {"td3_pave", "td3_pave (step=0)", "td3_pave (step=100)", "td3_pave (step=200)"}
    assert (tmp_path / "eval" / "training_steps.png").read_bytes()[:4] == b"\x89PNG"


def test_a_folders_final_policies_come_first_and_apart_and_the_answer_ends_the_output(tmp_path, monkeypatch, capsys):
    """Two runs with their snapshots, as the README's first run makes them: the console table lists the final policies
    first, then a rule, then the snapshots; the output ends with one line per final policy, its sm and return as
    eval.csv has them and which is smoother; eval.csv keeps its rows in the order the checkpoints were found."""
    module = importlib.import_module("td3_pave")
    runs = [train_in_process(module, tmp_path, monkeypatch, env_id="Pendulum-v1", total_timesteps=250, learning_starts=100,
                             snapshot_fractions=(0.0, 0.4), exp_name=name, **weights)
            for name, weights in (("td3", {"lambda1": 0.0, "lambda2": 0.0, "lambda3": 0.0}), ("td3_pave", {}))]  # fmt: skip
    capsys.readouterr()
    ev.main(ev.Args(paths=tuple(runs), episodes=2, out_dir=str(tmp_path / "eval")))
    out = capsys.readouterr().out.splitlines()
    rows = read_csv(tmp_path / "eval" / "eval.csv")
    found = ev.find_checkpoints(runs)
    assert [row["path"] for row in rows] == found and len(found) == 6  # the CSV as before: the order found
    table = out[out.index(next(line for line in out if line.startswith("group "))) + 1:]
    rule = next(i for i, line in enumerate(table) if line.startswith("---- step snapshots"))
    listed = [line.split()[0] + (" " + line.split()[1] if "(step=" in line else "") for line in table[:rule]]
    assert listed == ["td3", "td3_pave"], table
    assert [line.split()[1] for line in table[rule + 1:rule + 5]] == ["(step=0)", "(step=100)", "(step=0)", "(step=100)"]
    final = {row["group"]: (float(row["sm_mean"]), float(row["return_mean"])) for row in rows if row["global_step"] == "250"}
    assert set(final) == {"td3", "td3_pave"}
    smooth, rough = sorted(final, key=lambda g: final[g][0])
    said = {g: f"{g}: sm {final[g][0]:.3g}, return {final[g][1]:.1f}" for g in final}
    assert out[-3].startswith("final policies, no observation noise")
    assert out[-2] == f"{said[smooth]}; smoother than {said[rough].replace(': ', ' (', 1)})"
    assert out[-1] == f"{said[rough]}; less smooth than {said[smooth].replace(': ', ' (', 1)})"


def test_the_answer_lines_by_hand():
    """Per env from the smoothest: sm and return over seeds, which it is smoother than; snapshots are not answers."""
    def group(env, final, sm, returns, checkpoints=1, length=200.0):
        stats = lambda mean: {"across_seeds": {"mean": mean, "std": 0.0}, "pooled": {"mean": mean, "std": 0.0}}  # noqa: E731
        return {"env_id": env, "final": final, "checkpoints": ["x"] * checkpoints,
                "levels": {"0.0": {"sm": stats(sm), "returns": stats(returns), "lengths": stats(length)}}}  # fmt: skip

    summary = {"td3": group("P", True, 1.3254, -133.66), "td3_pave": group("P", True, 0.3748, -134.48, 5),
               "td3_pave (step=0)": group("P", False, 0.0287, -1330.2)}  # fmt: skip
    assert ev.answer_lines(summary) == [
        "td3_pave: sm 0.375, return -134.5, over 5 seeds; smoother than td3 (sm 1.33, return -133.7)",
        "td3: sm 1.33, return -133.7; less smooth than td3_pave (sm 0.375, return -134.5, over 5 seeds)",
    ]
    two_envs = {"a": group("H", True, 2.0, 10.0, length=50.0), "b": group("H", True, 1.0, 20.0), "c": group("P", True, 1.0, 0.0)}
    assert ev.answer_lines(two_envs) == [
        "H, b: sm 1, return 20.0; smoother than a (sm 2, return 10.0); their episode lengths differ, so sm is not like for like",
        "H, a: sm 2, return 10.0; less smooth than b (sm 1, return 20.0); their episode lengths differ, so sm is not like for like",
        "P, c: sm 1, return 0.0",
    ]
    assert ev.answer_lines({"s (step=0)": group("P", False, 1.0, 0.0)}) == []


def test_the_spectra_plot_shows_final_policies_first_and_marks_chatter():
    """actions_and_spectra: the final policies' rows in the first panel, the snapshots' in a second one below, and on
    every spectrum a labelled band at 0.5 cycles/step, where an action that alternates every step peaks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(200)
    alternating, slow = np.where(steps % 2, -1.0, 1.0)[:, None], np.sin(2 * np.pi * steps / 50)[:, None]
    row = lambda group, final, actions: {"group": group, "final": final, "episodes": [{"env_actions": actions}]}  # noqa: E731
    results = [row("td3 (step=0)", False, slow), row("td3", True, alternating), row("td3_pave", True, slow)]
    fig = ev.actions_and_spectra(results, plt)
    final, snapshots = fig.subfigs
    assert "final policies" in final._suptitle.get_text() and "snapshots" in snapshots._suptitle.get_text()
    titles = [[ax.get_title().split("\n")[0] for ax in sub.axes[1::2]] for sub in (final, snapshots)]
    assert titles == [["td3", "td3_pave"], ["td3 (step=0)"]]
    for ax in final.axes[1::2] + snapshots.axes[1::2]:
        (band,) = [p for p in ax.patches if p.get_label().startswith("chatter")]
        assert (band.get_x(), band.get_x() + band.get_width()) == ev.CHATTER and ev.CHATTER[1] == 0.5
        assert "chatter" in ax.get_legend().get_texts()[0].get_text()
    frequencies, amplitudes = final.axes[1].lines[0].get_data()  # td3's: the alternating action
    assert ev.CHATTER[0] <= frequencies[np.argmax(amplitudes)] <= ev.CHATTER[1]
    plt.close(fig)


def test_video_of_each_group_and_side_by_side(tmp_path, monkeypatch, capsys):
    """--video: an MP4 of the first evaluation episode per group (Pendulum through pygame, Walker2d through MuJoCo's
    EGL), and the two Pendulum groups side by side over their action traces."""
    import imageio.v2 as imageio

    for name, env_id in (("td3_pave", "Pendulum-v1"), ("td3_caps", "Pendulum-v1"), ("td3_grad", "Walker2d-v5")):
        train_in_process(importlib.import_module(name), tmp_path, monkeypatch, env_id=env_id, total_timesteps=120,
                         learning_starts=100)  # fmt: skip
    out = tmp_path / "eval"
    ev.main(ev.Args(paths=(str(tmp_path / "runs"),), episodes=1, plots=False, video=True, video_size=64, out_dir=str(out)))
    printed = capsys.readouterr().out
    if "video: cannot render" in printed:
        pytest.skip(printed.split("video: cannot render")[1].splitlines()[0].strip())
    videos = {p.name: imageio.get_reader(p) for p in (out / "videos").iterdir()}
    assert set(videos) == {"td3_pave.mp4", "td3_caps.mp4", "td3_grad.mp4", "Pendulum-v1_side_by_side.mp4"}
    pendulum = videos["td3_pave.mp4"]
    assert pendulum.count_frames() == 201 and pendulum.get_data(0).shape == (500, 500, 3)  # reset + 200 steps
    assert videos["td3_grad.mp4"].get_data(0).shape == (64, 64, 3) and videos["td3_grad.mp4"].count_frames() >= 2
    side = videos["Pendulum-v1_side_by_side.mp4"]
    assert side.count_frames() == 201 and side.get_data(0).shape == (590, 1000, 3)  # 500 + the 90-pixel traces
    assert np.std(side.get_data(100)[:500].astype(float)) > 1  # the frames are drawn, not blank


# --- episode length and the length-matched sm (a falling policy cannot win) -----------------------------------------


class FallAtFive(gym.Env):
    """Episodes reset with an even seed end by termination (a fall) after 5 steps; the others run into the
    10-step time limit (truncation)."""

    observation_space = gym.spaces.Box(-10.0, 10.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.falls, self.t = seed is not None and seed % 2 == 0, 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(2, self.t, np.float32), 1.0, self.falls and self.t == 5, False, {}


gym.register("FallAtFive-v0", entry_point=FallAtFive, max_episode_steps=10)


def test_lengths_and_falls_are_recorded_and_short_episodes_are_not_scored(tmp_path, monkeypatch):
    module = importlib.import_module("td3_pave")
    run_dir = train_in_process(module, tmp_path, monkeypatch, env_id="FallAtFive-v0", total_timesteps=60,
                               learning_starts=20, hidden_sizes=(8,), batch_size=8)  # fmt: skip
    args = ev.Args(paths=(os.path.join(tmp_path, run_dir, "td3_pave.pt"),), episodes=4, sm_window=(5, 8), plots=False,
                   out_dir=str(tmp_path / "eval"))  # fmt: skip
    (row,), levels, _ = ev.evaluate(args)
    clean = row["levels"][0.0]
    assert clean["lengths"] == [5, 10, 5, 10] and clean["terminated"] == [True, False, True, False]  # seeds 0, 1, 2, 3
    assert clean["sm_window"][5] == [pytest.approx(ev.smoothness_score(e["env_actions"][:5])) for e in row["episodes"]]
    assert [x is None for x in clean["sm_window"][8]] == [True, False, True, False]  # the falls are too short for 8
    summaries = ev.summarize([row], levels, args)
    ev.write_outputs([row], summaries, levels, {}, args)
    summary = summaries[row["group"]]["levels"]["0.0"]
    assert summary["lengths"]["pooled"]["mean"] == 7.5 and summary["fell"] == 0.5
    assert summary["sm_window_8"]["not_scored"] == 2
    assert summary["sm_window_8"]["pooled"]["mean"] == pytest.approx(np.mean([clean["sm_window"][8][i] for i in (1, 3)]))
    csv_row = read_csv(tmp_path / "eval" / "eval.csv")[0]
    assert float(csv_row["length_mean"]) == 7.5 and float(csv_row["fell"]) == 0.5
    assert int(csv_row["sm_window_8_not_scored"]) == 2


def test_window_score_by_hand():
    t = np.arange(400)
    wave = 0.5 * np.sin(2 * np.pi * 0.25 * t)  # amplitude 0.5 at 0.25 cycles per step: sm = A f = 0.125
    assert ev.window_score(wave, 200) == pytest.approx(0.125, rel=1e-9)
    assert ev.window_score(wave, 400) == pytest.approx(ev.smoothness_score(wave))
    assert ev.window_score(wave[:150], 200) is None  # shorter than the window: not scored, never a low score
    calm_then_jitter = np.concatenate([np.zeros(100), np.tile([1.0, -1.0], 50)])
    assert ev.window_score(calm_then_jitter, 100) == 0.0 and ev.smoothness_score(calm_then_jitter) > 0.4


def test_the_window_of_the_whole_pendulum_episode_is_sm(checkpoints, tmp_path):
    """Pendulum's episodes all last 200 steps: sm@200 is the paper's sm, episode for episode."""
    (path,) = glob.glob(os.path.join(checkpoints, "*td3_pave__*", "td3_pave.pt"))
    args = ev.Args(paths=(path,), episodes=2, sm_window=(200,), plots=False, out_dir=str(tmp_path))
    (row,), _, _ = ev.evaluate(args)
    clean = row["levels"][0.0]
    assert clean["lengths"] == [200, 200] and clean["terminated"] == [False, False]
    assert clean["sm_window"][200] == clean["sm"]


# --- from checkpoint to robot: the exported policy and the action filter ---------------------------------------------


@pytest.mark.parametrize("name", ["td3_pave", "sac_pave"])
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_an_exported_policy_acts_as_the_checkpoint(name, fmt, checkpoints, tmp_path):
    import export_policy

    (path,) = glob.glob(os.path.join(checkpoints, f"*{name}__*", f"{name}.pt"))
    out = export_policy.export(export_policy.Args(checkpoint=path, format=fmt, out=str(tmp_path / f"policy.{fmt}")))
    assert sorted(os.listdir(tmp_path)) == [f"policy.{fmt}"]  # no temp file left
    ckpt, module, actor, _ = ev.load_policy(path)
    env = ev.make_eval_env(ckpt, module, path)
    obs = np.random.default_rng(1).uniform(-1.0, 1.0, (64, 3)).astype(np.float32)  # Pendulum: (cos, sin, velocity)
    run = export_policy.run_onnx if fmt == "onnx" else export_policy.run_torchscript
    with torch.no_grad():
        want = ev.to_env_units(actor(torch.as_tensor(obs)).numpy().astype(np.float64), env.action_space)
    np.testing.assert_allclose(run(out, obs), want, atol=1e-5)  # env units: Pendulum's torque in [-2, 2]
    assert np.abs(want).max() > 0.01 and np.abs(want).max() <= 2.0
    meta = export_policy.read_metadata(out)
    assert meta["env_id"] == "Pendulum-v1" and meta["algorithm"] == f"{name}.py"
    assert json.loads(meta["action_low"]) == [-2.0] and json.loads(meta["observation_high"]) == [1.0, 1.0, 8.0]
    assert meta["source_checkpoint"] == os.path.abspath(path) and meta["global_step"] == "300"


def test_export_refuses_a_bad_checkpoint_and_format_and_a_policy_that_acts_differently(checkpoints, tmp_path,
                                                                                         monkeypatch):
    import export_policy

    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    result = run_cli("export_policy.py", tmp_path / "bad.pt", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: cannot read checkpoint") and "Traceback" not in result.stderr
    (path,) = glob.glob(os.path.join(checkpoints, "*td3_pave__*", "td3_pave.pt"))
    result = run_cli("export_policy.py", path, "--format", "tflite", cwd=tmp_path)
    assert result.returncode != 0 and "--format" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setattr(export_policy, "run_onnx", lambda file, obs: np.zeros((len(obs), 1), np.float32) + 1e-3)
    with pytest.raises(ev.UserError, match="acts differently from the actor .* nothing was written"):
        export_policy.export(export_policy.Args(checkpoint=path, out=str(tmp_path / "p.onnx")))
    assert not [f for f in os.listdir(tmp_path) if f.startswith("p.onnx")]


def test_the_action_filter_by_hand_and_beta_0_is_no_filter(checkpoints, tmp_path):
    # a_t = beta a_(t-1) + (1 - beta) pi(s_t) from a_0 = pi(s_0): with beta 0.5 on pi = 1, 0, 0, 1
    filtered = [1.0]
    for x in [0.0, 0.0, 1.0]:
        filtered.append(ev.ema(filtered[-1], x, 0.5))
    assert filtered == [1.0, 0.5, 0.25, 0.625]

    class Replay(nn.Module):  # a "policy" that plays a fixed action sequence, to check rollout's filter
        def __init__(self, sequence):
            super().__init__()
            self.sequence, self.t = sequence, 0

        def forward(self, obs):
            self.t += 1
            return torch.tensor([[self.sequence[(self.t - 1) % len(self.sequence)]]])

    env = gym.make("Pendulum-v1")
    episode = ev.rollout(env, Replay([1.0, 0.0, 0.0, 1.0]), seed=0, beta=0.5)
    np.testing.assert_allclose(episode["actions"][:4, 0], [1.0, 0.5, 0.25, 0.625])
    np.testing.assert_allclose(episode["env_actions"][:4, 0], [2.0, 1.0, 0.5, 1.25])  # env units, [-2, 2]
    (path,) = glob.glob(os.path.join(checkpoints, "*td3_pave__*", "td3_pave.pt"))
    args = ev.Args(paths=(path,), episodes=2, action_filter=(0.0, 0.8), plots=False, out_dir=str(tmp_path))
    plain, smoothed = ev.evaluate(args)[0]  # beta 0 is the unfiltered evaluation itself, not a second group
    assert plain["group"] == "td3_pave" and smoothed["group"] == "td3_pave + EMA 0.8"
    unfiltered = ev.evaluate(ev.Args(paths=(path,), episodes=2, plots=False, out_dir=str(tmp_path)))[0][0]
    assert plain["levels"][0.0]["sm"] == unfiltered["levels"][0.0]["sm"]
    assert np.mean(smoothed["levels"][0.0]["sm"]) < np.mean(plain["levels"][0.0]["sm"])
    ev.main(ev.Args(paths=(path,), episodes=1, action_filter=(0.5, 0.8), out_dir=str(tmp_path / "plots")))
    assert os.path.getsize(tmp_path / "plots" / "filter_tradeoff.png") > 10_000  # return against sm, the curve
