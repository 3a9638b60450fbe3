"""The demo notebooks: each executes in quick mode without error and shows what a demo must show."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest

from tools import notebooks as nb_tool

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOKS = nb_tool.notebooks()
REPO = "difflearn/difflearn"


def test_there_are_five_demos_and_all_are_in_the_nav():
    assert len(NOTEBOOKS) >= 5, [p.name for p in NOTEBOOKS]
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [p.name for p in NOTEBOOKS if f"demos/{p.name}" not in nav]
    assert not missing, f"notebooks not in the nav of mkdocs.yml: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_source(path):
    text = path.read_text()
    colab = f"https://colab.research.google.com/github/{REPO}/blob/main/docs/demos/{path.stem}.ipynb"
    assert colab in text, f"{path.name}: no Colab link {colab}"
    assert not re.search(r"!\[[^\]]*\]\(https?://", text), f"{path.name}: loads an image from another host"
    # a released guided-diffusion checkpoint, or (the latent demos) a released Stable Diffusion VAE
    assert re.search(r"## Run it on a released (guided-diffusion|Stable Diffusion VAE) checkpoint", text)
    assert ("load_checkpoint(" in text and "torch.save(" in text) or ("load_file(" in text and "save_file(" in text), \
        "the checkpoint path must be executed"
    assert "ENV = demo_env()" in text, "notebooks take quick mode and device from difflearn.demo.demo_env"


def test_ipynb_twins_are_in_sync():
    """docs/demos/<name>.ipynb (what the Colab link opens) is the unexecuted .py notebook."""
    stale = [p.name for p in NOTEBOOKS if not nb_tool.twin(p).exists()
             or nb_tool.twin(p).read_text() != nb_tool.ipynb_text(p)]
    assert not stale, f"run `python -m tools.notebooks --sync`: {stale}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_in_quick_mode(path, built_site):
    # the test suite's strict build (built_site, DIFFLEARN_QUICK=1) executed every notebook into the
    # cache; reuse that run instead of executing each notebook twice (a cache miss executes it here)
    out = nb_tool.executed(path, quick=True)  # raises on any failing cell
    nb = nbformat.read(str(out), as_version=4)
    images, text = [], []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.output_type != "error", o
            if "data" in o and "image/png" in o["data"]:
                images.append(base64.b64decode(o["data"]["image/png"]))
            text.append(o.get("text", ""))
    assert len(images) >= 2, f"{path.name}: expected real figures, got {len(images)}"
    assert all(len(png) > 5000 for png in images), "an empty-looking figure"
    first = "".join(text)
    assert re.search(r"torch \d+\.\d+", first) and ("CPU" in first or "GPU" in first or "NVIDIA" in first)
    assert nb.metadata["difflearn"]["quick"] is True
    assert nb.metadata["difflearn"]["seconds"] < 120, nb.metadata["difflearn"]


def test_notebook_math_is_rewritten_for_katex():
    from tools.hooks import katex

    cell = ('<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput" data-mime-type="text/markdown">'
            '<p>score $\\nabla \\log p$ costs $5 and $6</p><p>$$x_t = \\alpha_t x_0$$</p></div>'
            '<div class="jp-OutputArea-output"><pre>$not math$</pre></div>')
    out = katex.notebook_math(cell)
    assert '<span class="arithmatex">\\(\\nabla \\log p\\)</span>' in out
    assert '<div class="arithmatex">\\[x_t = \\alpha_t x_0\\]</div>' in out
    assert "costs $5 and $6" in out
    assert "<pre>$not math$</pre>" in out  # outputs are left alone


def test_cache_key_tracks_mode_and_source(tmp_path):
    path = NOTEBOOKS[0]
    assert nb_tool.cache_key(path, quick=True) != nb_tool.cache_key(path, quick=False)
    copy = tmp_path / path.name
    copy.write_text(path.read_text() + "\n# %%\nprint('changed')\n")
    assert nb_tool.cache_key(copy, quick=False) != nb_tool.cache_key(path, quick=False)
    assert nb_tool.cache_path(path).name == f"{path.stem}.ipynb"
