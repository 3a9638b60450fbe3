"""Every snippet runs, and every snippet is shown on some page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "snippets").rglob("*.py"))
EMBED = re.compile(r'--8<--\s+"(snippets/[^":]+\.py)(?::[a-z][-_0-9a-z]*)?"')


def embedded_snippets() -> set[str]:
    found = set()
    for path in (ROOT / "docs").rglob("*"):
        if path.suffix in {".md", ".py", ".ipynb"} and "hooks" not in path.parts:
            found.update(EMBED.findall(path.read_text(encoding="utf-8")))
    return found


def test_there_are_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippet_runs(snippet):
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, snippet], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"{snippet} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"


def test_every_snippet_is_embedded():
    missing = sorted(set(SNIPPETS) - embedded_snippets())
    assert not missing, f"snippets embedded in no page (add a --8<-- line or delete them): {missing}"


def test_embedded_snippets_exist():
    dangling = sorted(s for s in embedded_snippets() if not (ROOT / s).exists())
    assert not dangling, f"pages embed snippets that do not exist: {dangling}"
