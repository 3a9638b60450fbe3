"""Execute the demo notebooks (jupytext percent-format .py files in docs/demos/), with a cache.

    python -m tools.notebooks                # execute stale notebooks into the cache (full mode)
    python -m tools.notebooks --quick        # the same in quick mode (DIFFLEARN_QUICK=1)
    python -m tools.notebooks --only unconditional --force
    python -m tools.notebooks --sync         # write the unexecuted .ipynb twins (for Colab)
    python -m tools.notebooks --check-sync   # exit 1 if a twin differs from its .py

An executed notebook is stored as .cache/notebooks/<stem>-<key>/<stem>.ipynb, where <key>
hashes the notebook source, every file of the package (src/difflearn: code and weights)
and the mode. The site build (tools/hooks/notebook_pages.py) asks for `executed(path)` and gives
mkdocs-jupyter the executed file, so a notebook runs again only when it or the package
changed. A cell that raises is an error here and in the site build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "docs" / "demos"
PACKAGE = ROOT / "src" / "difflearn"
CACHE = Path(os.environ.get("DIFFLEARN_NOTEBOOK_CACHE", ROOT / ".cache" / "notebooks"))
PACKAGE_SUFFIXES = {".py", ".safetensors", ".json", ".md"}


def notebooks() -> list[Path]:
    """The notebook sources: docs/demos/*.py (not starting with an underscore)."""
    return sorted(p for p in NB_DIR.glob("*.py") if not p.name.startswith("_"))


def package_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in PACKAGE_SUFFIXES and "__pycache__" not in path.parts:
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(path: Path, quick: bool) -> str:
    h = hashlib.sha256(Path(path).read_bytes())
    h.update(package_hash().encode())
    h.update(b"quick" if quick else b"full")
    return h.hexdigest()[:16]


def cache_path(path: Path, quick: bool = False) -> Path:
    path = Path(path)
    return CACHE / f"{path.stem}-{cache_key(path, quick)}" / f"{path.stem}.ipynb"


def execute(path: Path, out: Path, quick: bool, timeout: int = 900) -> Path:
    """Run every cell of the notebook `path` in a fresh kernel and write the result to `out`.

    The kernel runs in docs/demos/ with DIFFLEARN_QUICK set to "1" or "0" and one thread
    per BLAS/OpenMP pool unless the caller chose otherwise. Raises
    `nbclient.exceptions.CellExecutionError` (naming the cell and the error) on failure.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {**os.environ, "DIFFLEARN_QUICK": "1" if quick else "0"}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    t0 = time.perf_counter()
    client.execute(env=env)
    nb.metadata["difflearn"] = {"quick": quick, "seconds": round(time.perf_counter() - t0, 2)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(out)
    return out


def executed(path: Path, quick: bool = False, force: bool = False) -> Path:
    """The cached executed copy of notebook `path`, executing it first if it is stale."""
    path = Path(path)
    out = cache_path(path, quick)
    if force or not out.exists():
        for old in CACHE.glob(f"{path.stem}-*"):  # drop stale copies of this notebook
            if old != out.parent:
                shutil.rmtree(old, ignore_errors=True)
        execute(path, out, quick)
    return out


def twin(path: Path) -> Path:
    return Path(path).with_suffix(".ipynb")


def ipynb_text(path: Path) -> str:
    """The unexecuted .ipynb of a percent-format notebook (what Colab opens)."""
    import jupytext

    nb = jupytext.read(path)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["colab"] = {"provenance": []}
    for i, cell in enumerate(nb.cells):  # stable ids, so the twin is a pure function of the .py
        cell["id"] = f"cell-{i:02d}"
    return jupytext.writes(nb, fmt="ipynb")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="NAME", help="notebook names (file stems)")
    p.add_argument("--quick", action="store_true", help="quick mode (DIFFLEARN_QUICK=1)")
    p.add_argument("--force", action="store_true", help="execute even if cached")
    p.add_argument("--sync", action="store_true", help="write the .ipynb twins")
    p.add_argument("--check-sync", action="store_true", help="exit 1 if a .ipynb twin is out of date")
    args = p.parse_args(argv)
    paths = notebooks()
    if args.only:
        known = {x.stem for x in paths}
        unknown = sorted(set(args.only) - known)
        if unknown:
            p.error(f"unknown notebooks {unknown}; known: {sorted(known)}")
        paths = [x for x in paths if x.stem in args.only]
    if args.sync or args.check_sync:
        bad = []
        for path in paths:
            text = ipynb_text(path)
            if not twin(path).exists() or twin(path).read_text() != text:
                bad.append(twin(path).name)
                if args.sync:
                    twin(path).write_text(text)
        verb = "wrote" if args.sync else "out of date (run `python -m tools.notebooks --sync`)"
        print(f"{verb}: {bad}" if bad else "all .ipynb twins up to date")
        return 1 if bad and args.check_sync else 0
    for path in paths:
        t0 = time.perf_counter()
        out = executed(path, quick=args.quick, force=args.force)
        print(f"{path.name}: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
              f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
