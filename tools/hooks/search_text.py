"""What the search index holds: readable text, chapters above catalog rows.

KaTeX writes each formula twice, as MathML (with the TeX source in an <annotation>) for
screen readers and as HTML for the eye; Material's search indexed all three, so a
preview read "ε\\varepsilonε". `on_page_content` marks the MathML half
`data-search-exclude`, which Material's indexer skips, so the index keeps the text a
reader sees. Catalog pages (papers/ sections) get a lower search boost than the chapters,
so a query like "Karras" finds the chapters before the paper's catalog rows; the API
reference pages rank below the chapters as well. Tables
that are mostly numbers (benchmarks, measured errors) are left out of the index too:
a preview of forty numbers reads as noise.
"""

from __future__ import annotations

import re

CATALOG_PREFIX = "papers/"
CATALOG_BOOST = 0.3  # Material's default is 1
REFERENCE_PREFIX, REFERENCE_BOOST = "api/", 0.5  # the API reference: below the chapters too
MATHML = '<span class="katex-mathml">'


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    if uri.startswith(CATALOG_PREFIX) and uri != CATALOG_PREFIX + "index.md":
        page.meta.setdefault("search", {}).setdefault("boost", CATALOG_BOOST)
    elif uri.startswith(REFERENCE_PREFIX):
        page.meta.setdefault("search", {}).setdefault("boost", REFERENCE_BOOST)
    return markdown


TABLE = re.compile(r"<table>(.*?)</table>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
NUMBER = re.compile(r"^[-+]?[\d.,]+(?:e[-+]?\d+)?%?$|^[-–—]?$")
TAG = re.compile(r"<[^>]+>")


def _numeric(table: str) -> bool:
    cells = [TAG.sub("", c).strip() for c in CELL.findall(table)]
    return len(cells) >= 12 and sum(bool(NUMBER.match(c)) for c in cells) > 0.5 * len(cells)


def on_page_content(content, page, config, files):
    content = content.replace(MATHML, '<span class="katex-mathml" data-search-exclude>')
    return TABLE.sub(lambda m: f"<table data-search-exclude>{m.group(1)}</table>"
                     if _numeric(m.group(1)) else m.group(0), content)
