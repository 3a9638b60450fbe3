"""Every snippet runs, every snippet is shown on some page, and the output shown is current.

Each snippet's stdout is kept in docs/assets/snippet-output/<dir>/<name>.txt, and the
page shows it under the snippet (tools/hooks/snippet_output.py). A run whose output no
longer matches the committed file fails; `UPDATE_SNIPPET_OUTPUTS=1 pytest
tests/test_snippets.py` (or `make snippet-outputs`) rewrites the files. Numbers are
compared loosely (see `same_output`), so float noise between machines does not fail.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from tests.snippet_runner import Zygote  # noqa: E402
from tools.hooks.snippet_output import output_path  # noqa: E402

UPDATE = os.environ.get("UPDATE_SNIPPET_OUTPUTS") == "1"
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
TEMP_PATH = re.compile(re.escape(tempfile.gettempdir()) + r"/[^/\s]+")


def kept_text(stdout: str) -> str:
    """What the site shows: stdout with temporary folders (random names) as <tmp>."""
    return TEMP_PATH.sub("<tmp>", stdout)
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


@pytest.fixture(scope="module")
def zygote():
    """Runs each snippet as `python snippet.py` would, forked from a process that has
    imported torch and difflearn once (tests/snippet_runner.py)."""
    with Zygote() as z:
        yield z


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippet_runs(snippet, zygote):
    code, stdout, stderr = zygote.run(snippet, timeout=300)
    assert code == 0, f"{snippet} failed:\n{stdout[-3000:]}\n{stderr[-5000:]}"
    kept = output_path(snippet)
    if UPDATE:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(kept_text(stdout), encoding="utf-8")
        return
    assert kept.exists(), f"{snippet}: no captured output; run `make snippet-outputs`"
    old = kept.read_text(encoding="utf-8")
    assert same_output(old, kept_text(stdout)), (
        f"{snippet}: the output shown on the site ({kept.relative_to(ROOT)}) is stale; "
        f"run `make snippet-outputs`.\n--- kept\n{old[-1500:]}\n--- now\n{stdout[-1500:]}"
    )


def close(a: float, b: float, rel: float = 0.02, floor: float = 1e-5) -> bool:
    """Equal to 2 significant digits, or both below the noise floor (round-off differs)."""
    return abs(a - b) <= rel * max(abs(a), abs(b)) or max(abs(a), abs(b)) < floor


def same_output(old: str, new: str) -> bool:
    """The same text with the numbers equal to about two significant digits."""
    if NUMBER.sub("#", old.strip()) != NUMBER.sub("#", new.strip()):
        return False
    # the same digits are equal even where they do not make a finite float ("27e764" in a hash)
    return all(a == b or close(float(a), float(b)) for a, b in zip(NUMBER.findall(old), NUMBER.findall(new)))


def test_same_output_is_loose_on_numbers_only():
    assert same_output("err 1.2345e-03 ok\n", "err 1.2351e-03 ok")
    assert same_output("tiny 3e-09", "tiny -7e-08")
    assert not same_output("err 1.2e-03", "err 2.4e-03")
    assert not same_output("passes", "fails")
    assert same_output("sha256 27e764e9e526", "sha256 27e764e9e526")  # overflows a float


def test_every_output_belongs_to_a_snippet():
    root = output_path("snippets/x.py").parent
    kept = {p.relative_to(root).with_suffix(".py").as_posix() for p in root.rglob("*.txt")}
    have = {Path(s).relative_to("snippets").as_posix() for s in SNIPPETS}
    assert kept <= have, f"outputs of snippets that no longer exist: {sorted(kept - have)}"


def test_every_snippet_is_embedded():
    missing = sorted(set(SNIPPETS) - embedded_snippets())
    assert not missing, f"snippets embedded in no page (add a --8<-- line or delete them): {missing}"


def test_embedded_snippets_exist():
    dangling = sorted(s for s in embedded_snippets() if not (ROOT / s).exists())
    assert not dangling, f"pages embed snippets that do not exist: {dangling}"
