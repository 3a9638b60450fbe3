"""The Sampler Rosetta page links every row to a test that exists.

Each row of the table ends in links of the form [`test_name`][R], where the reference
[R] points at a file tests/<file>.py. This checks that every row has at least one such
link and that every linked name is a test function defined in that file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "samplers" / "rosetta.md"
REFERENCE = re.compile(r"^\[(\w+)\]:\s*\S*?/(tests/\w+\.py)\s*$", re.M)
TEST_LINK = re.compile(r"\[`(\w+)`\]\[(\w+)\]")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def table_rows(text: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return rows[2:]  # skip the header and the |---| line


def test_every_row_links_to_an_existing_test():
    text = PAGE.read_text(encoding="utf-8")
    files = dict(REFERENCE.findall(text))
    assert files, "no [X]: .../tests/<file>.py references on the Rosetta page"
    rows = table_rows(text)
    assert len(rows) >= 15
    problems = []
    for row in rows:
        links = TEST_LINK.findall(row)
        if not links:
            problems.append(f"row without a test link: {row[:60]}")
        for name, ref in links:
            if ref not in files:
                problems.append(f"{name}: unknown reference [{ref}]")
            elif name not in defined_tests(ROOT / files[ref]):
                problems.append(f"{name}: no such test in {files[ref]}")
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_missing_test():
    # the check can fail: a made-up name is not found in a real test file
    assert "test_ddim_eta0" in defined_tests(ROOT / "tests" / "test_samplers_diffusers.py")
    assert "test_no_such_sampler" not in defined_tests(ROOT / "tests" / "test_samplers_diffusers.py")
    assert TEST_LINK.findall("| x | [`test_a`][T], [`test_b`][P] |") == [("test_a", "T"), ("test_b", "P")]
