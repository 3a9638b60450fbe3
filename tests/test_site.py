"""The site: strict build, API pages for every public module, no third-party hosts."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import difflearn

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_ASSET = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="(https?:)?//', re.I)


def public_modules() -> list[str]:
    return sorted(f"difflearn.{m.name}" for m in pkgutil.iter_modules(difflearn.__path__) if not m.name.startswith("_"))


def test_every_public_module_has_an_api_page():
    documented = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        documented.update(re.findall(r"^::: (difflearn(?:\.\w+)*)", page.read_text(), flags=re.M))
    missing = [m for m in public_modules() if m not in documented]
    assert not missing, f"modules without an API page in docs/api/: {missing}"


def test_strict_build_has_the_pages(built_site):
    assert (built_site / "index.html").exists()
    assert (built_site / "notes" / "schedules" / "index.html").exists()
    assert (built_site / "assets" / "katex" / "katex.min.css").exists()
    fonts = list((built_site / "assets" / "katex" / "fonts").glob("*.woff2"))
    assert len(fonts) > 10


def test_built_pages_load_nothing_from_other_hosts(built_site):
    offenders = []
    for page in built_site.rglob("*.html"):
        for m in EXTERNAL_ASSET.finditer(page.read_text(encoding="utf-8", errors="replace")):
            if 'rel="canonical"' in m.group(0):  # a link to the hosted copy, not a load
                continue
            offenders.append(f"{page.relative_to(built_site)}: {m.group(0)[:120]}")
    assert not offenders, "pages load assets from other hosts:\n" + "\n".join(offenders[:20])


def test_math_is_typeset_at_build_time(built_site):
    html = (built_site / "notes" / "schedules" / "index.html").read_text()
    assert html.count('class="katex"') > 30
    leftovers = [p for p in built_site.rglob("*.html") if 'class="arithmatex"' in p.read_text(errors="replace")]
    assert not leftovers, f"untypeset math in {leftovers[:5]}"


def test_source_sections_are_embedded_not_pasted(built_site):
    # the chapter shows the real lines of the package: the embedded section equals the source
    src = (ROOT / "src" / "difflearn" / "schedules" / "vp.py").read_text()
    section = src.split("# --8<-- [start:inverse_lambda]\n")[1].split("    # --8<-- [end:inverse_lambda]")[0]
    page = (built_site / "notes" / "schedules" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    import html as html_lib

    text = html_lib.unescape(text)
    for line in section.strip().splitlines():
        assert line.strip() in text, f"embedded section differs from the source at: {line!r}"


def test_search_index_holds_text_not_tex(built_site):
    """KaTeX's MathML (and its TeX annotation) stays out of the index; prose has no TeX."""
    import json

    docs = json.loads((built_site / "search" / "search_index.json").read_text())["docs"]
    commands = "frac|mathrm|mathcal|mathbb|varepsilon|epsilon|alpha|beta|sigma|lambda|left|right|sum|int|hat|bar|tilde"
    tex = re.compile(rf"\\(?:{commands})\b|\\[(\[]|\$\$")
    code = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
    bad = [d["location"] for d in docs if tex.search(code.sub("", d["text"]))
           and not d["location"].startswith("api/")]  # docstrings quote TeX in code
    assert len(docs) > 300
    assert not bad, f"{len(bad)} search entries with TeX source, e.g. {bad[:5]}"


def test_catalog_pages_rank_below_chapters(built_site):
    import json

    docs = json.loads((built_site / "search" / "search_index.json").read_text())["docs"]
    boosts = {d["location"].split("#")[0]: d.get("boost", 1) for d in docs}
    assert boosts["papers/survey/"] < boosts["api/samplers/"] < boosts["notes/schedules/"] == 1
