"""tools.gpu_checks runs (on the CPU here: a smoke test of the script a GPU session runs)."""

import torch

from tools import gpu_checks as tool


def test_sync_check_covers_every_sampler_and_runs(capsys):
    labels = [label for label, _ in tool.runs(lambda x, t: x, None, torch.zeros(2, 2), "cpu")]
    from difflearn import METHODS
    assert set(METHODS) <= set(labels)
    assert tool.check_sync("cpu", batch=64) == 0
    out = capsys.readouterr().out
    assert "CPU (smoke test only)" in out and "dpmpp_2s_ancestral" in out
