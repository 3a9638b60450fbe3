"""Typeset math at build time with KaTeX, so the site needs no network or JavaScript for it.

pymdownx.arithmatex (generic mode) wraps math in `<span class="arithmatex">\\(...\\)</span>`
and `<div class="arithmatex">\\[...\\]</div>`. This hook replaces each with KaTeX's HTML,
rendered by one persistent Node.js process (tools/katex_render.js), and copies KaTeX's
CSS and fonts into the built site. A TeX error is a build error.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.katex")
ROOT = Path(__file__).resolve().parents[2]
KATEX_DIR = Path(os.environ.get("DIFFLEARN_KATEX_DIR", ROOT / ".venv" / "node" / "node_modules" / "katex"))
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])</(?P=tag)>',
    re.S,
)
_proc: subprocess.Popen | None = None


def _renderer() -> subprocess.Popen:
    global _proc
    if _proc is None or _proc.poll() is not None:
        if not (KATEX_DIR / "package.json").exists():
            raise PluginError(f"KaTeX not found at {KATEX_DIR}: run `make serve` or `make build` (installs it with npm)")
        node = shutil.which("node")
        if node is None:
            raise PluginError("Node.js (`node`) is needed to typeset math at build time")
        _proc = subprocess.Popen(
            [node, str(ROOT / "tools" / "katex_render.js"), str(KATEX_DIR)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
    return _proc


def render(tex: str, display: bool) -> tuple[str | None, str | None]:
    """Return (html, error) for one formula."""
    proc = _renderer()
    proc.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
    proc.stdin.flush()
    out = json.loads(proc.stdout.readline())
    return out.get("html"), out.get("error")


GREEK = {name: chr(code) for name, code in [
    ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949), ("varepsilon", 949),
    ("eta", 951), ("theta", 952), ("lambda", 955), ("mu", 956), ("pi", 960), ("rho", 961), ("sigma", 963),
    ("tau", 964), ("phi", 966), ("psi", 968), ("omega", 969), ("Sigma", 931), ("nabla", 8711),
]}
TEX_IN_TITLE = re.compile(r"\\\((.*?)\\\)|\$(.*?)\$")


def plain_tex(tex: str) -> str:
    """A readable plain-text version of a short formula, for the table of contents."""
    tex = re.sub(r"\\(?:bar|hat|tilde|mathrm|mathbf|operatorname)\{([^}]*)\}", r"\1", tex)
    tex = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK.get(m.group(1), m.group(1)), tex)
    return tex.replace("{", "").replace("}", "").replace("\\", "")


def _toc_math(m: re.Match) -> str:
    tex = html.unescape(m.group(1) or m.group(2) or "")
    out, err = render(tex, False)
    return out if err is None else html.escape(plain_tex(tex))


def _clean_toc(items) -> None:
    """Typeset math in table-of-contents entries (Material shows the title as HTML)."""
    for item in items:
        item.title = TEX_IN_TITLE.sub(_toc_math, item.title)
        _clean_toc(item.children)


# notebook pages (mkdocs-jupyter): nbconvert leaves $...$ and $$...$$ in markdown cells as text
NB_MARKDOWN = re.compile(r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^>]*>)(.*?)(</div>)', re.S)
NB_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
NB_INLINE = re.compile(r"(?<![\\$])\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\$)")


def notebook_math(content: str) -> str:
    """Rewrite math in notebook markdown cells into arithmatex's form, which `on_page_content` typesets."""
    def cell(m: re.Match) -> str:
        body = NB_DISPLAY.sub(lambda d: f'<div class="arithmatex">\\[{d.group(1)}\\]</div>', m.group(2))
        body = NB_INLINE.sub(lambda i: f'<span class="arithmatex">\\({i.group(1)}\\)</span>', body)
        return m.group(1) + body + m.group(3)

    return NB_MARKDOWN.sub(cell, content)


def on_page_content(content: str, page, config, files) -> str:
    _clean_toc(page.toc)
    if "jupyter-wrapper" in content:  # a notebook page
        content = notebook_math(content)

    def replace(m: re.Match) -> str:
        display = m.group("display") is not None
        tex = html.unescape(m.group("display") if display else m.group("inline"))
        out, err = render(tex, display)
        if err is not None:
            log.warning("KaTeX error in %s: %s in %r", page.file.src_uri, err, tex[:120])
            return m.group(0)
        return f'<div class="math-display">{out}</div>' if display else out

    return MATH.sub(replace, content)


def on_post_build(config) -> None:
    dist = KATEX_DIR / "dist"
    dest = Path(config["site_dir"]) / "assets" / "katex"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(dist / "katex.min.css", dest / "katex.min.css")
    shutil.copytree(dist / "fonts", dest / "fonts", dirs_exist_ok=True)


def on_shutdown() -> None:
    global _proc
    if _proc is not None:
        _proc.stdin.close()
        _proc.wait(timeout=5)
        _proc = None
