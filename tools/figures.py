"""Render the site's figures from the scripts in figures/.

    python -m tools.figures                 # render stale or missing families (cached by hash)
    python -m tools.figures --force         # render everything
    python -m tools.figures --only schedules
    python -m tools.figures --check         # exit 1 if a committed figure is stale or missing
    python -m tools.figures --quick --out DIR   # CPU quick mode into another folder (CI)

Run from the repository root: families are the modules `figures.<family>`.

A family is figures/<family>.py with DEPENDS, SEED, FIGURES and render(quick, device).
Its hash covers the script, the files in DEPENDS and the package version; the provenance
record docs/assets/figures/<family>.json keeps it with the commit, device, torch version,
seed and seconds, and the site shows that record under each figure.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import random
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIG_SRC = ROOT / "figures"
FIG_OUT = ROOT / "docs" / "assets" / "figures"


def families() -> list[str]:
    return sorted(p.stem for p in FIG_SRC.glob("*.py") if not p.name.startswith("_"))


def static_info(family: str) -> dict:
    """Read DEPENDS, SEED and FIGURES from a family script without importing it."""
    tree = ast.parse((FIG_SRC / f"{family}.py").read_text())
    info = {"DEPENDS": [], "SEED": 0, "FIGURES": {}}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in info:
                info[name] = ast.literal_eval(node.value)
    return info


def package_version() -> str:
    text = (ROOT / "src" / "difflearn" / "__init__.py").read_text()
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip("\"'")
    return "unknown"


def source_hash(family: str) -> str:
    info = static_info(family)
    h = hashlib.sha256()
    for rel in [f"figures/{family}.py", "figures/_style.py", *info["DEPENDS"]]:
        path = ROOT / rel
        if not path.exists():
            raise SystemExit(f"figures/{family}.py: DEPENDS names {rel!r}, which does not exist")
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(package_version().encode())
    return h.hexdigest()[:16]


def record(family: str, out: Path = FIG_OUT) -> dict | None:
    path = out / f"{family}.json"
    return json.loads(path.read_text()) if path.exists() else None


def stale(family: str, out: Path = FIG_OUT) -> str | None:
    """Why a family needs rendering, or None if it is up to date."""
    rec = record(family, out)
    if rec is None:
        return "never rendered"
    if rec["hash"] != source_hash(family):
        return f"source changed (hash {rec['hash']} -> {source_hash(family)})"
    missing = [n for n in static_info(family)["FIGURES"] if not (out / f"{n}.png").exists()]
    if missing:
        return f"missing images {missing}"
    if rec.get("quick"):
        return "rendered in quick mode"
    return None


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "figures", "src"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def render_family(family: str, quick: bool, out: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import torch

    module = importlib.import_module(f"figures.{family}")
    seed = getattr(module, "SEED", 0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    device_name = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU ({cpu_name()})"
    t0 = time.perf_counter()
    figs = module.render(quick=quick, device=device)
    seconds = time.perf_counter() - t0
    expected = set(module.FIGURES)
    if set(figs) != expected:
        raise SystemExit(f"figures/{family}.py rendered {sorted(figs)}, but FIGURES declares {sorted(expected)}")
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib.pyplot as plt

    for name, fig in figs.items():
        fig.savefig(out / f"{name}.png", dpi=110 if quick else 160, metadata={"Software": None})
        plt.close(fig)
    rec = {
        "family": family,
        "hash": source_hash(family),
        "commit": git_commit(),
        "device": device_name,
        "torch": torch.__version__,
        "seed": seed,
        "seconds": round(seconds, 2),
        "quick": quick,
        "figures": {n: {"file": f"{n}.png", **module.FIGURES[n]} for n in sorted(figs)},
    }
    (out / f"{family}.json").write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="FAMILY", help="families to consider")
    p.add_argument("--force", action="store_true", help="render even if up to date")
    p.add_argument("--check", action="store_true", help="only report stale figures; exit 1 if any")
    p.add_argument("--quick", action="store_true", help="CPU quick mode (small sizes; for CI)")
    p.add_argument("--out", type=Path, default=FIG_OUT, help="output folder")
    args = p.parse_args(argv)
    names = args.only or families()
    unknown = sorted(set(names) - set(families()))
    if unknown:
        p.error(f"unknown families {unknown}; known: {families()}")
    if args.check:
        bad = {f: why for f in names if (why := stale(f, args.out))}
        for f, why in bad.items():
            print(f"STALE {f}: {why}")
        print(f"{len(names) - len(bad)}/{len(names)} figure families up to date")
        return 1 if bad else 0
    if args.quick:
        os.environ["DIFFLEARN_QUICK"] = "1"
    for f in names:
        why = "forced" if args.force or args.out != FIG_OUT else stale(f, args.out)
        if why is None:
            print(f"ok     {f}")
            continue
        rec = render_family(f, args.quick, args.out)
        print(f"render {f}: {why} -> {len(rec['figures'])} figures in {rec['seconds']} s on {rec['device']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
