"""Render the demo notebooks executed, from a cache, and keep their pages offline.

The notebooks are jupytext percent-format files docs/demos/*.py. Once mkdocs-jupyter has
wrapped them (`on_files`, lower priority), each is executed by tools/notebooks.py into
.cache/notebooks/<stem>-<hash>/<stem>.ipynb, keyed by the notebook source and the package
source, and the page's source path is pointed at that executed copy: mkdocs-jupyter then
renders outputs it did not have to compute (its own `execute` stays false). A failing cell
fails the build. DIFFLEARN_NOTEBOOKS=skip renders the notebooks unexecuted (for quick
local writing of other pages). DIFFLEARN_QUICK=1 executes them in quick mode (the test
suite's build does this; `make serve` and the deployed site run them in full).

Each notebook page gets a note that its cells run in order (with the Colab link), and
each output image gets alt text naming the section it belongs to, in place of
nbconvert's "No description has been provided for this image".

nbconvert's HTML template also emits a MathJax loader and a Mermaid loader, both of
which would fetch scripts from a CDN; `on_page_content` removes them (math in markdown
cells is typeset by the KaTeX hook instead).
"""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.notebook_pages")
try:
    from tools import notebooks as nb_tool  # noqa: E402
except ModuleNotFoundError as err:  # mkdocs started elsewhere than the repository root
    raise PluginError(
        "the site's hooks import the repository's `tools` package: build from the "
        "repository root with `python -m mkdocs` (or `make serve` / `make build`)"
    ) from err

DEMO_PREFIX = "demos/"
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>', re.S)
NO_ALT = 'alt="No description has been provided for this image"'
HEADING = re.compile(r"<h([1-3])[^>]*>(.*?)</h\1>", re.S)
COLAB = re.compile(r'href="(https://colab\.research\.google\.com/[^"]+)"')
TAGS = re.compile(r"<[^>]+>")


def is_notebook(file) -> bool:
    inclusion = getattr(getattr(file, "file", file), "inclusion", None)  # unwrap mkdocs-jupyter's NotebookFile
    if inclusion is not None and inclusion.is_excluded():
        return False
    return file.src_uri.startswith(DEMO_PREFIX) and file.src_uri.endswith(".py") \
        and not Path(file.src_uri).name.startswith("_")


@event_priority(-100)  # after mkdocs-jupyter (priority 0) has wrapped the files
def on_files(files, config):
    if os.environ.get("DIFFLEARN_NOTEBOOKS") == "skip":
        log.warning("DIFFLEARN_NOTEBOOKS=skip: demo notebooks are rendered without outputs")
        return files
    for file in files:
        if not is_notebook(file):
            continue
        src = Path(file.abs_src_path)
        quick = os.environ.get("DIFFLEARN_QUICK") == "1"
        cached = nb_tool.cache_path(src, quick)
        if not cached.exists():
            log.info("executing %s (cache miss%s)", file.src_uri, ", quick mode" if quick else "")
        try:
            out = nb_tool.executed(src, quick=quick)
        except Exception as err:  # a failing cell: show it and stop the build
            raise PluginError(f"notebook {file.src_uri} failed to execute:\n{err}") from err
        file.abs_src_path = str(out)  # mkdocs-jupyter renders (and offers) the executed copy
    return files


def on_page_content(content, page, config, files):
    if not page.file.src_uri.startswith(DEMO_PREFIX) or "jupyter-wrapper" not in content:
        return content
    content = MATHJAX.sub("", content)
    content = MERMAID.sub("", content)
    return in_order_note(alt_texts(content))


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAGS.sub("", fragment)).replace("¶", "").split())


def alt_texts(content: str) -> str:
    """Alt text for each output image: the figure's number and the section it is in."""
    out, pos, section, n = [], 0, "", 0
    for m in re.finditer(re.escape(NO_ALT) + "|" + HEADING.pattern, content, re.S):
        if m.group(0).startswith("<h"):
            section = _text(m.group(2))
            continue
        n += 1
        alt = f"Output figure {n} of this notebook, made by the code cell above it"
        if section:
            alt += f", in the section “{section}”"
        out.append(content[pos:m.start()] + f'alt="{html.escape(alt)}"')
        pos = m.end()
    return "".join(out) + content[pos:]


def in_order_note(content: str) -> str:
    """A note under the notebook's title: the cells build on each other."""
    colab = COLAB.search(content)
    where = (f' Or <a href="{colab.group(1)}">open it in Colab</a> and choose '
             "<em>Runtime → Run all</em>." if colab else "")
    note = ('<div class="admonition note dl-notebook-note"><p class="admonition-title">'
            "Run the cells in order</p><p>Each cell uses what the cells above it defined, so "
            "run them top to bottom (in Jupyter: <em>Run All</em>); a cell run on its own "
            f"fails with a NameError.{where}</p></div>")
    m = re.search(r"</h1>", content)
    return content[:m.end()] + note + content[m.end():] if m else note + content
