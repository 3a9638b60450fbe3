"""Render the site's figures from the scripts in figures/.

    python -m tools.figures                 # render stale or missing families (cached by hash)
    python -m tools.figures --force         # render everything
    python -m tools.figures --force --jobs 8   # families in 8 parallel processes (a GPU box)
    python -m tools.figures --only schedules
    python -m tools.figures --check         # exit 1 if a committed figure is stale or missing
    python -m tools.figures --quick --out DIR   # CPU quick mode into another folder (CI)

Run from the repository root: families are the modules `figures.<family>`.

A family is figures/<family>.py with DEPENDS, SEED, FIGURES and render(quick, device).
Its hash covers the script, the files in DEPENDS and the package version; the provenance
record docs/assets/figures/<family>.json keeps it with the device, torch version, seed and
seconds, and the site shows that record under each figure. The record names the source
by that hash, not by a commit, so it is the same from a clean or an edited work tree.

Readable at display size: a page shows a figure at most DISPLAY_PX CSS pixels wide (the
content column at 1280 px). Before saving, a figure whose smallest text would display
below MIN_DISPLAY_PT is shrunk in inches (the text keeps its size in points, so it grows
relative to the panels) and saved at a higher dpi, so the pixel size stays the same. The
record keeps, per image, the smallest font (pt), the width in inches and pixels, and the
intended display width; the browser test checks the rendered size against them. A
figure with 2-4 columns of panels also gets a portrait variant `<name>-portrait.png`
(the columns stacked) that a phone shows instead.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import random
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


DPI = 160
DISPLAY_PX = 800  # the widest a figure is shown: the content column at 1280 px
MIN_DISPLAY_PT = 10.0  # the smallest text, in points at display size (1 in = 96 CSS px)
PHONE_PX = 358  # the content column of a 390 px phone


def _texts(fig):
    import matplotlib.text as mtext

    fig.canvas.draw()  # tick labels exist only once drawn
    return [t for t in fig.findobj(mtext.Text) if t.get_visible() and t.get_text().strip()]


DETAIL = "detail"  # gid of text meant to be read zoomed in (tiny labels inside a diagram)
FONT_FLOOR = 9.0  # smaller text is raised to this before fitting


def min_font_pt(fig) -> float:
    sizes = [t.get_fontsize() for t in _texts(fig) if t.get_gid() != DETAIL]
    return float(min(sizes)) if sizes else 99.0


def raise_small_text(fig) -> None:
    for t in _texts(fig):
        if t.get_gid() != DETAIL and t.get_fontsize() < FONT_FLOOR:
            t.set_fontsize(FONT_FLOOR)
    for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        for t in leg.get_texts():
            if t.get_fontsize() < FONT_FLOOR:
                t.set_fontsize(FONT_FLOOR)


def _wrap(text: str, chars: int) -> str:
    """textwrap that never breaks inside $...$ (mathtext)."""
    import textwrap

    parts = text.split("$")
    glued = "$".join(p.replace(" ", "\0") if i % 2 else p for i, p in enumerate(parts))
    return "\n".join(textwrap.wrap(glued, chars)).replace("\0", " ")


def wrap_titles(fig) -> None:
    """Break a title wider than its panel, or an axis label longer than its axis."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    items = []  # (text, room, horizontal?)
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        items += [(t, box.width, True) for t in (ax.title, ax._left_title, ax._right_title)]
        items += [(ax.xaxis.label, box.width, True), (ax.yaxis.label, box.height, False)]
    if fig._suptitle is not None:
        items.append((fig._suptitle, fig.bbox.width, True))
    for t, room, horizontal in items:
        text = t.get_text()
        if not text.strip() or "\n" in text or not t.get_visible():
            continue
        ext = t.get_window_extent(renderer)
        size = ext.width if horizontal else ext.height
        if size > room * 1.02:
            t.set_text(_wrap(text, max(12, int(len(text) * room / size * 0.95))))


def display_scale(width_in: float, width_px: float, font_pt: float) -> float:
    """The smallest text in points as a reader sees it: shown at min(DISPLAY_PX, pixels)."""
    return font_pt * min(DISPLAY_PX, width_px) / (width_in * 96)


def fit_for_display(fig) -> tuple[float, float]:
    """Shrink `fig` in inches so its smallest text displays at >= MIN_DISPLAY_PT; the dpi
    to save it at so it keeps its pixel width."""
    raise_small_text(fig)
    font = min_font_pt(fig)
    w, h = fig.get_size_inches()
    width_px = w * DPI
    k = min(1.0, font * min(DISPLAY_PX, width_px) / (MIN_DISPLAY_PT * w * 96))
    if k < 1.0:
        fig.set_size_inches(w * k, h * k)
        wrap_titles(fig)
    return font, DPI / k


def _columns(fig, renderer) -> list:
    """Bounding boxes (display units) of the figure's columns of panels, left to right.

    Axes whose horizontal extents overlap form one column; a narrow column (a colour bar)
    joins the one on its left."""
    from matplotlib.transforms import Bbox

    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    boxes = sorted((b for b in boxes if b is not None and b.width > 0), key=lambda b: b.x0)
    cols: list = []
    for b in boxes:
        if cols and b.x0 < cols[-1].x1 - 2:
            cols[-1] = Bbox.union([cols[-1], b])
        else:
            cols.append(b)
    width = fig.bbox.width
    merged: list = []
    for c in cols:
        if merged and c.width < 0.12 * width:
            merged[-1] = Bbox.union([merged[-1], c])
        else:
            merged.append(c)
    return merged


def portrait(fig, png: Path, dpi: float) -> Path | None:
    """Stack the columns of panels of a saved figure into `<name>-portrait.png`."""
    import matplotlib.image as mimage
    import numpy as np

    # side by side, panels that share a y axis show its tick labels only on the left; stacked,
    # each needs its own: draw them, and cut the panels from that drawing
    hidden = [ax for ax in fig.axes if len(ax.get_shared_y_axes().get_siblings(ax)) > 1
              and ax.get_yticks().size and not any(t.get_visible() for t in ax.get_yticklabels())]
    source = png
    if hidden:
        for ax in hidden:
            ax.tick_params(axis="y", labelleft=True)
        source = png.with_name(f".{png.stem}-labelled.png")
        fig.savefig(source, dpi=dpi, metadata={"Software": None})
    try:
        renderer = fig.canvas.get_renderer()
        cols = _columns(fig, renderer)
        if not 2 <= len(cols) <= 4:
            return None
        img = mimage.imread(source)  # (H, W, 4), the saved pixels
    finally:
        if hidden:
            source.unlink()
            for ax in hidden:
                ax.tick_params(axis="y", labelleft=False)
    scale = dpi / fig.dpi
    H, W = img.shape[:2]
    extras = [t.get_window_extent(renderer) for t in fig.texts + fig.legends if t.get_visible()]
    if fig._suptitle is not None:
        extras.append(fig._suptitle.get_window_extent(renderer))
    pad = 6
    crops = []
    for box in extras + cols:
        x0 = max(0, int(box.x0 * scale) - pad)
        x1 = min(W, int(np.ceil(box.x1 * scale)) + pad)
        y0 = max(0, int(H - box.y1 * scale) - pad)
        y1 = min(H, int(np.ceil(H - box.y0 * scale)) + pad)
        crops.append(img[y0:y1, x0:x1])
    width = max(c.shape[1] for c in crops)
    bg = img[0, 0]
    rows = []
    for c in crops:
        row = np.tile(bg, (c.shape[0], width, 1))
        off = (width - c.shape[1]) // 2
        row[:, off:off + c.shape[1]] = c
        rows.append(row)
    out = png.with_name(png.stem + "-portrait.png")
    mimage.imsave(out, np.concatenate(rows, axis=0), metadata={"Software": None})
    return out


def save_figure(fig, out: Path, name: str, quick: bool, tall_fig=None) -> dict:
    """Save a figure readable at display size (and its portrait variant); what it measured.

    `tall_fig`, if the family drew one (`render` returned `<name>-portrait`), is the
    portrait variant; otherwise it is cut from the figure's columns of panels."""
    font, dpi = fit_for_display(fig)
    if quick:
        dpi *= 110 / DPI
    path = out / f"{name}.png"
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    w_in = float(fig.get_size_inches()[0])
    width_px = int(round(w_in * dpi))
    info = {"min_font_pt": round(font, 2), "width_in": round(w_in, 3), "width_px": width_px,
            "display_px": min(DISPLAY_PX, width_px),
            "display_pt": round(display_scale(w_in, width_px, font), 2)}
    old = out / f"{name}-portrait.png"
    if old.exists():
        old.unlink()
    if tall_fig is not None:
        raise_small_text(tall_fig)
        tall = out / f"{name}-portrait.png"
        tall_fig.savefig(tall, dpi=dpi, metadata={"Software": None})
        font = min(font, min_font_pt(tall_fig))
    else:
        tall = portrait(fig, path, dpi)
    if tall is not None:
        import matplotlib.image as mimage

        pw = mimage.imread(tall).shape[1]
        info["portrait"] = {"file": tall.name, "width_px": pw,
                            "phone_pt": round(font * min(PHONE_PX, pw) / (pw / dpi * 96), 2)}
    return info


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
    tall = {n.removesuffix("-portrait"): figs.pop(n) for n in list(figs)
            if n.endswith("-portrait") and n.removesuffix("-portrait") in expected}
    if set(figs) != expected:
        raise SystemExit(f"figures/{family}.py rendered {sorted(figs)}, but FIGURES declares {sorted(expected)}")
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib.pyplot as plt

    sizes = {}
    for name, fig in figs.items():
        sizes[name] = save_figure(fig, out, name, quick, tall.get(name))
        plt.close(fig)
        if name in tall:
            plt.close(tall[name])
    rec = {
        "family": family,
        "hash": source_hash(family),
        "device": device_name,
        "torch": torch.__version__,
        "seed": seed,
        "seconds": round(seconds, 2),
        "quick": quick,
        "figures": {n: {"file": f"{n}.png", **module.FIGURES[n], **sizes[n]} for n in sorted(figs)},
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
    p.add_argument("--jobs", type=int, default=1, help="families rendered in parallel processes")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be an int >= 1, got {args.jobs}")
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
    todo = {}
    for f in names:
        why = "forced" if args.force or args.out != FIG_OUT else stale(f, args.out)
        if why is None:
            print(f"ok     {f}")
        else:
            todo[f] = why
    if args.jobs == 1:
        for f, why in todo.items():
            report(render_family(f, args.quick, args.out), why)
        return 0
    # families in parallel processes (spawned: no CUDA state is forked), each with its share of
    # the CPU threads; every family writes only its own files
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_set_threads, initargs=(threads,)) as pool:
        futures = {f: pool.submit(render_family, f, args.quick, args.out) for f in todo}
        for f, fut in futures.items():
            report(fut.result(), todo[f])
    return 0


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def report(rec: dict, why: str) -> None:
    print(f"render {rec['family']}: {why} -> {len(rec['figures'])} figures in {rec['seconds']} s on {rec['device']}",
          flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
