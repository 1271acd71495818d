"""benchmarks/throughput.py end to end on a tiny budget, and its self-time profile on known sleeps."""

import json
import os
import sys
import time

import pytest

from conftest import ROOT, run_cli

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import throughput  # noqa: E402


def test_profile_charges_nested_time_to_the_innermost_function():
    profile = throughput.Profile(sync=lambda: None)
    inner = profile.wrap("inner", lambda: time.sleep(0.05))
    outer = profile.wrap("outer", lambda: (time.sleep(0.02), inner()))
    outer()
    assert profile.seconds["inner"] == pytest.approx(0.05, abs=0.01)
    assert profile.seconds["outer"] == pytest.approx(0.02, abs=0.01)


def test_benchmark_runs_interleaved_and_writes_its_json(tmp_path):
    configs = ["td3=td3_pave.py --lambda1 0 --lambda2 0 --lambda3 0 --hidden-sizes 16 16 --batch-size 16",
               "pave=td3_pave.py --hidden-sizes 16 16 --batch-size 16"]
    out = tmp_path / "throughput.json"
    result = run_cli("benchmarks/throughput.py", "--configs", *configs, "--env-id", "Pendulum-v1", "--steps", 60,
                     "--learning-starts", 20, "--repeats", 2, "--threads", 1, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rounds = [line.split()[2] for line in result.stdout.splitlines() if line.startswith("round")]
    assert rounds == ["td3", "pave", "td3", "pave"]  # interleaved
    report = json.loads(out.read_text())
    assert report["steps"] == 60 and report["machine"]["cpu_count"] >= 1
    td3, pave = report["configs"]["td3"], report["configs"]["pave"]
    assert td3["ratios_to_td3"] == [1.0, 1.0] and len(pave["sps"]) == 2 and all(s > 0 for s in pave["sps"])
    for config in (td3, pave):  # the parts add up to the measured time per step
        assert sum(config["ms_per_step"].values()) == pytest.approx(1000 / config["median_sps"], rel=0.3)
        assert min(config["ms_per_step"].values()) >= 0  # the timed window holds every timed call
        assert config["ms_per_step"]["update_critic"] > 0 and config["ms_per_step"]["update_actor"] > 0
    assert pave["ms_per_step"]["pave_terms"] > 0 and "pave_terms" not in td3["ms_per_step"]  # plain TD3 calls none
    assert not os.path.exists(tmp_path / "runs")  # runs happen in a temporary folder


def test_a_bad_config_is_one_clear_line(tmp_path):
    result = run_cli("benchmarks/throughput.py", "--configs", "td3=nosuchfile.py", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: bad --configs entry")
    assert "Traceback" not in result.stderr
