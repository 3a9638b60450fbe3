"""The package layout: an import graph without cycles, and the old import paths as deprecated aliases."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import difflearn
from difflearn import _deprecated

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "difflearn"


def modules() -> list[str]:
    names = ["difflearn"]
    for m in pkgutil.walk_packages(difflearn.__path__, "difflearn."):
        names.append(m.name)
    return sorted(names)


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> list[str]:
    """Absolute names of the difflearn modules an `ImportFrom` node imports."""
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if not prefix.startswith("difflearn"):
        return []
    known = set(modules())
    out = [prefix] if prefix in known else []
    out += [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in known]
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the difflearn modules it imports at module level (function-level imports included)."""
    graph = {}
    for name in modules():
        mod = importlib.util.find_spec(name)
        path = Path(mod.origin)
        is_pkg = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(name, is_pkg, node))
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("difflearn."))
        # a package importing its own submodules, and a module its package, are not cycles of ideas
        graph[name] = {e for e in edges if e != name and not name.startswith(e + ".")}
    return graph


def test_import_graph_is_a_dag():
    graph = import_graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(n, path):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                cycle.extend(path[path.index(m):] + [m] if m in path else [n, m])
                return True
            if state.get(m) is None and visit(m, path + [m]):
                return True
        state[n] = 2
        return False

    for n in sorted(graph):
        if state.get(n) is None and visit(n, [n]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


ALONE = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "difflearn" or m.startswith("difflearn.")]:
        del sys.modules[loaded]          # every difflearn module starts unimported
    try:
        importlib.import_module(name)
    except Exception as err:  # noqa: BLE001
        failed.append(f"{name}: {type(err).__name__}: {err}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone():
    """Each module imports with no other difflearn module loaded first (no hidden order dependence)."""
    names = [m for m in modules() if m != "difflearn._deprecated"]
    proc = subprocess.run([sys.executable, "-c", ALONE, *names], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_no_file_path_imports_or_sys_path_edits_in_the_repository():
    offenders = []
    for folder in ("src", "tools", "benchmarks", "figures", "snippets", "docs", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "test_layout.py" or ".venv" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for bad in ("spec_from_file_location", "sys.path.insert", "sys.path.append"):
                if bad in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert not offenders, offenders


@pytest.mark.parametrize("old", sorted(_deprecated.MOVED))
def test_old_module_paths_import_with_a_deprecation_warning(old):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert any(issubclass(w.category, DeprecationWarning) and old in str(w.message) for w in caught)
    # every public name of the new module(s) is reachable through the old one
    for target in _deprecated.MOVED[old]:
        new = importlib.import_module(target)
        for name in getattr(new, "__all__", [n for n in dir(new) if not n.startswith("_")]):
            assert getattr(module, name) is getattr(new, name), f"{old}.{name}"


def test_documented_import_paths_keep_working():
    from difflearn import DPM_Solver, NoiseScheduleVP, model_wrapper  # noqa: F401
    from difflearn.samplers import METHODS, sample  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from difflearn.dpm_solver import DPM_Solver as old_solver
        from difflearn.toy import GaussianMixture, checkerboard
        from difflearn.train import TrainConfig

    assert old_solver is DPM_Solver
    assert GaussianMixture is difflearn.GaussianMixture and checkerboard is difflearn.checkerboard
    assert TrainConfig is difflearn.TrainConfig
    with pytest.warns(DeprecationWarning, match="difflearn.models.digits_features"):
        from difflearn.metrics import DigitsFeatures
    assert DigitsFeatures is difflearn.models.DigitsFeatures
    with pytest.warns(DeprecationWarning, match="backend"):
        attn = difflearn.models.QKVAttention(2, fast=False)
    assert attn.backend == "einsum"
    with pytest.warns(DeprecationWarning, match="marginals"):
        difflearn.NoiseScheduleVP("linear").edm_sigma(__import__("torch").tensor([0.5]))


def test_deprecated_attribute_access_on_the_package():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert difflearn.toy.GaussianMixture is difflearn.GaussianMixture
    with pytest.raises(AttributeError):
        difflearn.no_such_module  # noqa: B018
