"""Render the demo notebooks executed, from a cache, and keep their pages offline.

The notebooks are jupytext percent-format files docs/demos/*.py. Before mkdocs-jupyter
wraps them (`on_files`, higher priority), each is executed by tools/notebooks.py into
.cache/notebooks/<stem>-<hash>/<stem>.ipynb, keyed by the notebook source and the package
source, and the page's source path is pointed at that executed copy: mkdocs-jupyter then
renders outputs it did not have to compute (its own `execute` stays false). A failing cell
fails the build. DIFFLEARN_NOTEBOOKS=skip renders the notebooks unexecuted (for quick
local writing of other pages).

nbconvert's HTML template also emits a MathJax loader and a Mermaid loader, both of
which would fetch scripts from a CDN; `on_page_content` removes them (math in markdown
cells is typeset by the KaTeX hook instead).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.notebooks")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nb_tool  # noqa: E402  (tools/notebooks.py)

DEMO_PREFIX = "demos/"
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>', re.S)


def is_notebook(file) -> bool:
    return file.src_uri.startswith(DEMO_PREFIX) and file.src_uri.endswith(".py") \
        and not Path(file.src_uri).name.startswith("_")


@event_priority(100)  # before mkdocs-jupyter (priority 0) wraps the files
def on_files(files, config):
    if os.environ.get("DIFFLEARN_NOTEBOOKS") == "skip":
        log.warning("DIFFLEARN_NOTEBOOKS=skip: demo notebooks are rendered without outputs")
        return files
    for file in files:
        if not is_notebook(file):
            continue
        src = Path(file.abs_src_path)
        cached = nb_tool.cache_path(src)
        if not cached.exists():
            log.info("executing %s (cache miss)", file.src_uri)
        try:
            out = nb_tool.executed(src)
        except Exception as err:  # a failing cell: show it and stop the build
            raise PluginError(f"notebook {file.src_uri} failed to execute:\n{err}") from err
        file.abs_src_path = str(out)  # mkdocs-jupyter renders (and offers) the executed copy
    return files


def on_page_content(content, page, config, files):
    if not page.file.src_uri.startswith(DEMO_PREFIX) or "jupyter-wrapper" not in content:
        return content
    content = MATHJAX.sub("", content)
    return MERMAID.sub("", content)
