"""Figures: none is stale, every placed figure exists, every script renders in quick mode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import figures as fig_tool

ROOT = Path(__file__).resolve().parents[1]

FAMILIES = fig_tool.families()
MARKER = re.compile(r"<!--\s*figure:\s*([a-z][-_0-9a-z]*)\s*-->")


def placed_figures() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in (ROOT / "docs").rglob("*"):
        if path.suffix in {".md", ".py", ".ipynb"} and "hooks" not in path.parts:
            for name in MARKER.findall(path.read_text(encoding="utf-8")):
                out.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return out


def test_no_committed_figure_is_stale():
    stale = {f: why for f in FAMILIES if (why := fig_tool.stale(f))}
    assert not stale, f"stale figures (run `python -m tools.figures`): {stale}"


def test_provenance_records_are_complete():
    for family in FAMILIES:
        rec = fig_tool.record(family)
        assert rec is not None, family
        for key in ["hash", "device", "torch", "seed", "seconds", "figures"]:
            assert key in rec, (family, key)
        # the source is named by its hash, never by a commit that may be "+dirty"
        assert "commit" not in rec and "dirty" not in json.dumps(rec), family
        for name, meta in rec["figures"].items():
            assert len(meta["alt"]) >= 30, f"{name}: alt text too short to describe the figure"
            assert "$" not in meta["alt"] and "\\" not in meta["alt"], f"{name}: TeX in the alt text"
            assert meta["caption"], name
            assert (fig_tool.FIG_OUT / meta["file"]).exists(), name


def test_figures_are_readable_at_display_size():
    """The smallest text, at the width a page shows the figure, is at least 10 pt."""
    small = {}
    for family in FAMILIES:
        for name, meta in fig_tool.record(family)["figures"].items():
            if meta["display_pt"] < fig_tool.MIN_DISPLAY_PT - 0.05:
                small[name] = meta["display_pt"]
            if "portrait" in meta:
                assert (fig_tool.FIG_OUT / meta["portrait"]["file"]).exists(), name
    assert not small, f"figures whose smallest text displays below 10 pt: {small}"


def test_every_placed_figure_exists_and_every_figure_is_placed():
    declared = {n for f in FAMILIES for n in fig_tool.static_info(f)["FIGURES"]}
    placed = placed_figures()
    assert not set(placed) - declared, f"pages place unknown figures: {sorted(set(placed) - declared)}"
    assert not declared - set(placed), f"figures placed on no page: {sorted(declared - set(placed))}"


def test_no_orphan_images():
    declared = {n for f in FAMILIES for n in fig_tool.static_info(f)["FIGURES"]}
    files = {p.stem.removesuffix("-portrait") for p in fig_tool.FIG_OUT.glob("*.png")}
    assert files <= declared, f"images with no figure script: {sorted(files - declared)}"
    records = {p.stem for p in fig_tool.FIG_OUT.glob("*.json")}
    assert records <= set(FAMILIES), sorted(records - set(FAMILIES))
    for p in fig_tool.FIG_OUT.glob("*.json"):
        json.loads(p.read_text())


@pytest.mark.parametrize("family", FAMILIES)
def test_quick_render(family, tmp_path, monkeypatch):
    # in this process, as `python -m tools.figures --quick --only FAMILY --out DIR` does it (a
    # subprocess per family paid the interpreter and torch start-up 31 times)
    import matplotlib

    monkeypatch.setenv("DIFFLEARN_QUICK", "1")
    with matplotlib.rc_context():  # the family's style stays out of the other tests of this worker
        fig_tool.render_family(family, True, tmp_path)
    rec = json.loads((tmp_path / f"{family}.json").read_text())
    assert rec["quick"] is True
    for meta in rec["figures"].values():
        assert (tmp_path / meta["file"]).stat().st_size > 1000
