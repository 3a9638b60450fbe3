"""The heavy experiments of the training and likelihood chapters run, in their reduced modes: the
four-objective digits experiment, the digits likelihood, and the adaptive-solver benchmark. Their
committed full outputs are checked for the fields the pages quote."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_train_objectives_runs_in_quick_mode(tmp_path):
    from tools.train_objectives import OBJECTIVES, main

    assert main(["--quick", "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "objectives-cpu.json").read_text())
    assert rec["objectives"] == list(OBJECTIVES) and rec["real_vs_real"] > 0
    for name in OBJECTIVES:
        run = rec["runs"][name]
        assert math.isfinite(run["final_loss"]) and run["cpu_s"] >= 0
        fids = [f for per in run["fid"].values() for fs in per.values() for f in fs]
        assert fids and all(math.isfinite(f) and f > 0 for f in fids)
    assert "| ε-prediction |" in (tmp_path / "objectives-cpu.md").read_text()


@pytest.mark.slow
def test_likelihood_digits_runs_in_quick_mode(tmp_path):
    from tools.likelihood_digits import main

    assert main(["--quick", "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "likelihood-digits-cpu.json").read_text())
    bpd, se = rec["ode"]["bits_per_dim"]
    assert math.isfinite(bpd) and se >= 0 and rec["ode"]["nfe"] > 0
    assert rec["chain_steps"] == 20 and math.isfinite(rec["elbo_small"]["bits_per_dim"][0])


def test_adaptive_benchmark_quick():
    from benchmarks.solvers import adaptive_markdown, adaptive_table

    rows = adaptive_table(quick=True)
    assert len(rows) == 2 and all(r[1] > 0 and r[3] > 0 for r in rows)
    assert rows[1][2] < rows[0][2]  # a tighter tolerance, a smaller RK45 error
    assert "RK45" in adaptive_markdown(rows)


@pytest.mark.parametrize("path, keys", [
    ("docs/training/objectives-cpu.json", ["runs", "real_vs_real", "machine", "commit", "nfes"]),
    ("docs/notes/likelihood-digits-cpu.json", ["ode", "elbo_small", "elbo_large", "machine", "commit"]),
])
def test_committed_results_carry_provenance(path, keys):
    rec = json.loads((ROOT / path).read_text())
    assert all(k in rec for k in keys)
    assert "--quick" not in rec["command"]
