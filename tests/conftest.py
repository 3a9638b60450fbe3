"""Shared fixtures: the strict site build is done once per test session.

Every test that uses `built_site` gets the `site` marker. `make test` runs the other tests
on two workers (`-m "not site"`) and then the site tests in one process (`-m site`), so the
site — and the demo notebooks inside it — is built once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Build the whole site with `mkdocs build --strict`; fail with mkdocs' output on any warning."""
    out = tmp_path_factory.mktemp("site")
    # demo notebooks run in quick mode here (the deployed site runs them in full)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DIFFLEARN_QUICK": "1"}
    config = os.environ.get("DIFFLEARN_MKDOCS_CONFIG", "mkdocs.yml")  # a partial config while writing pages
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config, "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return out



@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "built_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.site)
