"""One reading order: the learning path. The nav, the footer and each page's Next follow it.

`docs/learning-path.md` is the single source: the links in the "read" column of its
tables, top to bottom. The nav in mkdocs.yml must list the same pages in the same order
(section index pages such as samplers/index.md may sit between them); `on_nav` fails the
build when it does not. Material's footer follows the nav, and `on_page_content` adds the
same Previous/Next pair at the end of every page on the path, so no page carries a
hand-written "Next" link that can drift.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parents[2]
PATH_PAGE = "learning-path.md"
START = ["index.md", PATH_PAGE]
OPTIONAL = ("math/",)  # "read when a chapter needs it": Next offers a way past them
LINK = re.compile(r"\[([^\]]*)\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def learning_path(docs_dir: Path = ROOT / "docs") -> list[str]:
    """The pages of the learning path in reading order, as paths relative to docs/."""
    return list(learning_path_titles(docs_dir))


def learning_path_titles(docs_dir: Path = ROOT / "docs") -> dict[str, str]:
    """{page: the text of its link} for the learning path, in reading order."""
    order: dict[str, str] = {}
    col = None
    for line in (docs_dir / PATH_PAGE).read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("|"):
            col = None
            continue
        cells = _cells(line)
        if col is None:  # a table's header row
            col = cells.index("read") if "read" in cells else -1
            continue
        if col < 0 or col >= len(cells) or set(cells[col]) <= set("-: "):
            continue
        for text, target in LINK.findall(cells[col]):
            src = posixpath.normpath(posixpath.join(posixpath.dirname(PATH_PAGE), target))
            order.setdefault(src, text)
    return order


def nav_files(nav_config) -> list[str]:
    """The pages of an mkdocs.yml `nav:` in order (what `nav.pages` gives after loading)."""
    out: list[str] = []

    def walk(item):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for v in item.values():
                walk(v)

    walk(nav_config)
    return [p for p in out if not p.startswith(("http://", "https://"))]


def check_order(nav_order: list[str], path: list[str]) -> list[str]:
    """Disagreements between the nav order and the learning path (empty when they agree).

    Within the span of the nav from the home page to the last page of the path, the nav
    must list exactly START + path in that order, plus section index pages.
    """
    want = START + path
    problems = [f"{p} is on the learning path but not in the nav" for p in want if p not in nav_order]
    if problems:
        return problems
    span = nav_order[: nav_order.index(want[-1]) + 1]
    got = [p for p in span if not p.endswith("/index.md") or p in want]
    if got != want:
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                problems.append(f"position {i}: the nav has {a}, the learning path has {b}")
                break
        else:
            problems.append(f"the nav has {len(got)} pages on the path, the learning path {len(want)}")
    return problems


_ORDER: list[str] = []


def on_nav(nav, config, files):
    order = [p.file.src_uri for p in nav.pages]
    path = learning_path(Path(config["docs_dir"]))
    problems = check_order(order, path)
    if problems:
        raise PluginError("the nav and the learning path disagree:\n  " + "\n  ".join(problems))
    _ORDER[:] = order[: order.index(path[-1]) + 1]
    return nav


def _title(page) -> str:
    """A page's title, also before the page is read (a section index: its section's)."""
    if page.title:
        return page.title
    return page.parent.title if page.parent is not None else page.file.src_uri


def _link(page, target, rel: str, label: str) -> str:
    href = get_relative_url(target.url, page.url)
    return (f'<a class="dl-pager__{rel}" rel="{rel}" href="{html.escape(href)}">'
            f'<span class="dl-pager__label">{label}</span> {html.escape(_title(target))}</a>')


def pager_html(page) -> str:
    prev, nxt = page.previous_page, page.next_page
    parts, note = [], ""
    if prev is not None:
        parts.append(_link(page, prev, "prev", "Previous"))
    if nxt is not None and page.file.src_uri != _ORDER[-1]:
        if nxt.file.src_uri.startswith(OPTIONAL) and not page.file.src_uri.startswith(OPTIONAL):
            after = _ORDER[_ORDER.index(nxt.file.src_uri):]
            skip = next((p for p in after if not p.startswith(OPTIONAL)), None)
            if skip is not None:
                target = next(p for p in _pages(page) if p.file.src_uri == skip)
                href = html.escape(get_relative_url(target.url, page.url))
                note = (f'<p class="dl-pager__skip" data-search-exclude>Next is a review: read it when a chapter '
                        f'needs it, or skip to <a href="{href}">{html.escape(_title(target))}</a>.</p>')
        parts.append(_link(page, nxt, "next", "Next"))
    return ('\n<nav class="dl-pager" aria-label="Reading order" data-search-exclude>'
            + "".join(parts) + "</nav>"
            + note + "\n")


def _pages(page):
    p = page
    while p.previous_page is not None:
        p = p.previous_page
    while p is not None:
        yield p
        p = p.next_page


def on_page_content(content, page, config, files):
    if page.file.src_uri not in _ORDER or page.file.src_uri == "index.md":
        return content
    return content + pager_html(page)
