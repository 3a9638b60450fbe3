"""tools/gpu_checks.py runs (on the CPU here: a smoke test of the script a GPU session runs)."""

import importlib.util
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location("gpu_checks", ROOT / "tools" / "gpu_checks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sync_check_covers_every_sampler_and_runs(capsys):
    tool = load_tool()
    labels = [label for label, _ in tool.runs(lambda x, t: x, None, torch.zeros(2, 2), "cpu")]
    from difflearn import METHODS
    assert set(METHODS) <= set(labels)
    assert tool.check_sync("cpu", batch=64) == 0
    out = capsys.readouterr().out
    assert "CPU (smoke test only)" in out and "dpmpp_2s_ancestral" in out
