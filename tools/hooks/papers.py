"""The papers catalog on the site, and `[@key]` citations in every page.

Generated at build time from `papers/*.yaml` and `papers/paths.yaml` (see tools/papers.py):

* `papers/index.md`: counts per section and per tag group, the reading paths, how to cite, BibTeX;
* `papers/all.md`: the whole catalog in one table, each paper once with the sections it is
  listed in, searchable and filterable (text, year range, venue, tag, section, official code);
* `papers/<section>.md`: one sortable, filterable table per section; each paper's row has
  the id `<key>`, so `papers/theory.md#ho2020denoising` is a stable link;
* `papers/paths/<id>.md`: one page per reading path, linking to catalog rows and to chapters;
* `papers/difflearn.bib`: the whole catalog as BibTeX.

Filtering and sorting run in `docs/assets/papers.js` (no dependencies, offline). A code link
whose record says `official: false` is labelled "code (unofficial)" on every page.

Citations: `[@key]`, `[@key, eq. 12]` or `[@key1; @key2]` in any page's markdown
become "(Ho et al., 2020)" style links to the paper's row (relative, so they work
at any page depth). Citations left in the rendered HTML (docstrings rendered by
mkdocstrings, notebooks) are linked in a second pass. An unknown key is a warning,
which fails `mkdocs build --strict`. Code blocks and inline code are left alone.

Back-links: each row lists the pages that cite it ("Explained in") and the
`difflearn` modules whose source cites it or that the record names ("Implemented
in"), linked to their API page when one has a `::: difflearn.x` block.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from collections import defaultdict
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.papers")
ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = "papers"  # docs-relative folder of the generated pages
BIB_URI = f"{OUT_DIR}/difflearn.bib"
ASSETS = ("assets/papers.css", "assets/papers.js")

# `[@key]`, `[@key, locator]`, `[@a; @b]`; not a link text (`[@x](...)`) or a reference (`[@x]:`).
# not a link `[..](` / `[..][`, nor a reference definition `[@x]: <url>` (a colon followed
# by prose is a citation: "- **Topic** [@key]: text")
CITE_RE = re.compile(r"\[(@[a-z][a-z0-9]*(?:[^\[\]\n]*))\](?![(\[])(?!:[ \t]*(?:<|https?:|\S+[ \t]*$))", re.M)
ITEM_RE = re.compile(r"^\s*@([a-z][a-z0-9]*)\s*(?:,\s*(.*?))?\s*$")
FENCE_RE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[^\n]*\n.*?^\1\2[ \t]*$", re.M | re.S)
INLINE_CODE_RE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
HTML_CODE_RE = re.compile(r"<(pre|code)[\s>].*?</\1>", re.S)
API_RE = re.compile(r"^:::\s*(difflearn(?:\.[A-Za-z_]\w*)*)", re.M)


try:
    from tools import papers as P  # noqa: E402
except ModuleNotFoundError as err:  # mkdocs started elsewhere than the repository root
    raise PluginError(
        "the site's hooks import the repository's `tools` package: build from the "
        "repository root with `python -m mkdocs` (or `make serve` / `make build`)"
    ) from err

# --------------------------------------------------------------------------- citations


def split_code(text: str, pattern: re.Pattern = FENCE_RE) -> list[tuple[bool, str]]:
    """[(is_code, chunk)]: fenced blocks and inline code spans are code, the rest is prose."""
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in pattern.finditer(text):
        out += _split_inline(text[pos:m.start()]) if pattern is FENCE_RE else [(False, text[pos:m.start()])]
        out.append((True, m.group(0)))
        pos = m.end()
    out += _split_inline(text[pos:]) if pattern is FENCE_RE else [(False, text[pos:])]
    return [(code, chunk) for code, chunk in out if chunk]


def _split_inline(text: str) -> list[tuple[bool, str]]:
    out, pos = [], 0
    for m in INLINE_CODE_RE.finditer(text):
        out += [(False, text[pos:m.start()]), (True, m.group(0))]
        pos = m.end()
    return out + [(False, text[pos:])]


def parse_citation(inner: str) -> list[tuple[str, str | None]] | None:
    """'@a; @b, eq. 3' -> [('a', None), ('b', 'eq. 3')]; None when it is not a citation."""
    items = []
    for part in inner.split(";"):
        m = ITEM_RE.match(part)
        if not m:
            return None
        items.append((m.group(1), m.group(2) or None))
    return items


def cited_keys(text: str, markdown: bool = True) -> list[str]:
    """Every key cited in `text` outside code (markdown fences/spans, or HTML <pre>/<code>)."""
    keys = []
    for is_code, chunk in split_code(text, FENCE_RE if markdown else HTML_CODE_RE):
        if is_code:
            continue
        for m in CITE_RE.finditer(chunk):
            keys += [key for key, _ in parse_citation(m.group(1)) or []]
    return keys


def replace_citations(text: str, render, where: str, markdown: bool = True) -> str:
    """Replace each citation outside code by `render(items)`; warn on unknown keys.

    `render` gets [(record, locator)] and returns the replacement text.
    """
    def sub(m: re.Match) -> str:
        items = parse_citation(m.group(1))
        if items is None:
            return m.group(0)
        unknown = [key for key, _ in items if key not in STATE["by_key"]]
        if unknown:
            for key in unknown:
                log.warning("%s: unknown paper key %r in citation %s; add it to papers/*.yaml "
                            "(python -m tools.papers key ...)", where, key, m.group(0))
            return m.group(0)
        return render([(STATE["by_key"][key], loc) for key, loc in items])

    pieces = split_code(text, FENCE_RE if markdown else HTML_CODE_RE)
    return "".join(chunk if is_code else CITE_RE.sub(sub, chunk) for is_code, chunk in pieces)


def render_citation_md(items, page_src_uri: str) -> str:
    """Markdown for one citation group, links relative to the citing page's source path."""
    base = posixpath.dirname(page_src_uri) or "."
    links = []
    for rec, loc in items:
        target = posixpath.relpath(f"{OUT_DIR}/{rec['section']}.md", base)
        title = rec["title"].replace('"', "'")
        label = STATE["labels"][rec["key"]]
        links.append(f'[{label}]({target}#{rec["key"]} "{title}")' + (f", {loc}" if loc else ""))
    return "(" + "; ".join(links) + ")"


def render_citation_html(items, page_url: str) -> str:
    links = []
    for rec, loc in items:
        href = get_relative_url(f"{STATE['section_url'][rec['section']]}#{rec['key']}", page_url)
        label = html.escape(STATE["labels"][rec["key"]])
        links.append(f'<a href="{html.escape(href)}" title="{html.escape(rec["title"])}">{label}</a>'
                     + (f", {html.escape(loc)}" if loc else ""))
    return "(" + "; ".join(links) + ")"


# --------------------------------------------------------------------------- back-links


def nav_titles(nav) -> dict[str, str]:
    """src path -> title for the entries of mkdocs.yml's nav that name one."""
    out: dict[str, str] = {}

    def walk(item, title=None):
        if isinstance(item, str):
            if title and item.endswith((".md", ".ipynb", ".py")):
                out[item] = title
        elif isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for k, v in item.items():
                walk(v, k)

    walk(nav or [])
    return out


def page_title(text: str, src_uri: str, titles: dict[str, str]) -> str:
    if src_uri in titles:
        return titles[src_uri]
    for is_code, chunk in split_code(text):
        if not is_code and (m := re.search(r"^#\s+(.+?)\s*#*\s*$", chunk, re.M)):
            return m.group(1)
    return posixpath.splitext(posixpath.basename(src_uri))[0].replace("-", " ").capitalize()


def notebook_text(text: str) -> str:
    """Markdown cells of an .ipynb (citations live there)."""
    try:
        cells = json.loads(text).get("cells", [])
    except ValueError:
        return ""
    return "\n\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")


def scan_sources(files, config, records) -> tuple[dict, dict]:
    """(explained_in, implemented_in): key -> [(title, url)] from pages and the package source."""
    titles = nav_titles(config.nav)
    explained: dict[str, dict[str, str]] = defaultdict(dict)
    api_pages: dict[str, str] = {}
    for f in files:
        src = f.src_uri
        if src.startswith((f"{OUT_DIR}/", "hooks/")) or not src.endswith((".md", ".ipynb", ".py")):
            continue
        if not (f.is_documentation_page() or src.endswith(".ipynb")):
            continue
        text = f.content_string
        if src.endswith(".ipynb"):
            text = notebook_text(text)
        for module in API_RE.findall(text):
            api_pages.setdefault(module, f.url)
        title = page_title(text, src, titles)
        for key in cited_keys(text):
            explained[key][f.url] = title
    implemented: dict[str, dict[str, str]] = defaultdict(dict)
    repo = (config.repo_url or "").rstrip("/")

    def module_link(module: str) -> str:
        parts = module.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in api_pages:
                return api_pages[".".join(parts[:n])]
        path = P.module_path(module, ROOT)
        rel = path.relative_to(ROOT).as_posix() if path else "src/difflearn"
        return f"{repo}/blob/main/{rel}" if repo else ""

    src_root = ROOT / "src"
    for path in sorted((src_root / "difflearn").rglob("*.py")):
        rel = path.relative_to(src_root).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for key in set(re.findall(r"\[@([a-z][a-z0-9]*)", path.read_text(encoding="utf-8"))):
            implemented[key][module] = module_link(module)
    for rec in records:
        for page in rec.get("pages") or []:
            f = files.get_file_from_path(page)
            if f is not None:
                explained[rec["key"]][f.url] = page_title(f.content_string, page, titles)
        for module in rec.get("modules") or []:
            implemented[rec["key"]][module] = module_link(module)
    return explained, implemented


# --------------------------------------------------------------------------- page generation


def _a(href: str, text: str, **attrs) -> str:
    extra = "".join(f' {k.rstrip("_")}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<a href="{html.escape(href)}"{extra}>{text}</a>'


ALL_URI = f"{OUT_DIR}/all.md"  # the catalog-wide search page
PATHS_DIR = f"{OUT_DIR}/paths"  # one page per reading path
CHAPTER_DIRS = ("notes/", "samplers/", "math/", "models/")  # pages a reading path may link as chapters
MAX_PATH_CHAPTERS = 4


def section_records(section: str, records: list[dict]) -> list[dict]:
    """Records shown on a section page: those living there, then those listed there by `also_in`."""
    home = [r for r in records if r["section"] == section]
    return home + [r for r in records if section in (r.get("also_in") or [])]


def record_sections(rec: dict) -> list[str]:
    """The sections a record is listed in: its home section first, then its `also_in`."""
    return [rec["section"]] + [s for s in rec.get("also_in") or [] if s != rec["section"]]


def code_kind(rec: dict) -> str:
    """'official', 'unofficial' or 'none' (for the has-official-code filter)."""
    if not P.code_url(rec):
        return "none"
    return "official" if P.has_official_code(rec) else "unofficial"


def row_link(rec: dict, page_url: str) -> str:
    """Relative link from `page_url` to the record's row on its home section page."""
    return get_relative_url(f"{STATE['section_url'][rec['section']]}#{rec['key']}", page_url)


def links_html(rec: dict) -> str:
    """arXiv, paper, DOI, code (labelled when it is not the authors'), project."""
    e = html.escape
    links = []
    aid = P.arxiv_id(rec)
    if aid:
        date = P.arxiv_date(rec)
        links.append(_a(f"https://arxiv.org/abs/{aid}", "arXiv",
                        title=f"arXiv:{aid}" + (f", first version {date}" if date else "")))
    published = rec.get("published") or {}
    if published.get("url"):
        links.append(_a(published["url"], "paper", title=f"{published['venue']} {published['year']} version"))
    if published.get("doi"):
        links.append(_a(f"https://doi.org/{published['doi']}", "DOI", title=published["doi"]))
    code = rec.get("code")
    if code:
        if code.get("official"):
            links.append(_a(code["url"], "code", class_="dl-code dl-code-official", title="The authors' code"))
        else:
            links.append(_a(code["url"], "code (unofficial)", class_="dl-code dl-code-unofficial",
                            title="Not the authors' code: " + code.get("note", "")))
    if rec.get("project"):
        links.append(_a(rec["project"], "project"))
    return " ".join(links) + f'<br><code class="dl-key">[@{e(rec["key"])}]</code>'


def row_html(rec: dict, taxonomy: dict, page_url: str, explained: dict, implemented: dict,
             show_sections: bool = False) -> str:
    tags = taxonomy["tags"]
    e = html.escape
    year, venue = P.year(rec), P.venue(rec)
    title = _a(P.paper_url(rec), e(rec["title"]), class_="dl-paper-title")
    site = []
    pages = explained.get(rec["key"], {})
    if pages:
        ordered = sorted(pages.items(), key=lambda x: x[1])
        links = ", ".join(_a(get_relative_url(url, page_url), e(t)) for url, t in ordered)
        site.append(f"Explained in: {links}")
    mods = implemented.get(rec["key"], {})
    if mods:
        site.append("Implemented in: " + ", ".join(
            _a(url if url.startswith("http") else get_relative_url(url, page_url), f"<code>{e(m)}</code>")
            if url else f"<code>{e(m)}</code>" for m, url in sorted(mods.items())))
    if rec.get("see_also"):
        by_key = STATE["by_key"]
        site.append("See also: " + ", ".join(
            _a(row_link(by_key[k], page_url), e(STATE["labels"][k]), title=by_key[k]["title"])
            for k in rec["see_also"]))
    note = f'<span class="dl-note">{e(rec["note"])}</span>' if rec.get("note") else ""
    site_html = f'<span class="dl-site">{" · ".join(site)}</span>' if site else ""
    where = P.venue_line(rec, taxonomy["venues"])
    where_html = f'<span class="dl-where">{e(where)}</span>' if where != f"{venue} {year}" else ""
    tag_html = " ".join(f'<span class="dl-tag" data-tag="{e(t)}">{e(tags[t])}</span>' for t in rec["tags"])
    sections = record_sections(rec)
    titles = {s["id"]: s["title"] for s in taxonomy["sections"]}
    search = " ".join([rec["key"], rec["title"], P.author_list(rec), venue, str(year), where,
                       rec.get("note") or "", " ".join(tags[t] for t in rec["tags"])]).lower()
    sections_td = ""
    if show_sections:
        sections_td = '<td class="dl-sections">' + "<br>".join(
            _a(get_relative_url(f"{STATE['section_url'][s]}#{rec['key']}", page_url), e(titles[s]))
            for s in sections) + "</td>"
    return (
        f'<tr id="{e(rec["key"])}" data-year="{year}" data-venue="{e(venue)}" '
        f'data-tags="{e(" ".join(rec["tags"]))}" data-sections="{e(" ".join(sections))}" '
        f'data-code="{code_kind(rec)}" data-search="{e(search)}">'
        f'<td class="dl-paper">{title} <a class="dl-anchor" href="#{e(rec["key"])}" '
        f'title="Link to this entry">¶</a><br><span class="dl-authors">{e(P.author_list(rec))}</span>'
        f"{where_html}{note}{site_html}</td>"
        f'<td data-value="{year}">{year}</td><td>{e(venue)}</td>'
        f'<td class="dl-tags">{tag_html}</td>{sections_td}'
        f'<td class="dl-links">{links_html(rec)}</td></tr>'
    )


def filter_html(table_id: str, rows: list[dict], taxonomy: dict, sections: bool = False) -> str:
    """The filter box: text, year range, venue, tag (grouped), section (catalog page), official code."""
    e = html.escape
    years = sorted({P.year(r) for r in rows})
    venues = sorted({P.venue(r) for r in rows}, key=str.lower)
    used = {t for r in rows for t in r["tags"]}

    def select(cls: str, label: str, options: list[tuple[str, str]], any_text: str = "any") -> str:
        opts = "".join(f'<option value="{e(v)}">{e(t)}</option>' for v, t in options)
        return (f'<select class="{cls}" aria-label="{label}">'
                f'<option value="">{label}: {any_text}</option>{opts}</select>')

    groups = []
    for group in taxonomy["tag_groups"]:
        opts = "".join(f'<option value="{e(t)}">{e(label)}</option>'
                       for t, label in group["tags"].items() if t in used)
        if opts:
            groups.append(f'<optgroup label="{e(group["title"])}">{opts}</optgroup>')
    tag_select = ('<select class="dl-filter-tag" aria-label="Tag"><option value="">Tag: any</option>'
                  + "".join(groups) + "</select>")
    section_select = ""
    if sections:
        section_select = select("dl-filter-section", "Section",
                                [(s["id"], s["title"]) for s in taxonomy["sections"]])
    year_options = [(str(y), str(y)) for y in years]
    return (
        f'<div class="dl-papers-filter" data-table="{table_id}" hidden>'
        '<input type="search" class="dl-filter-text" placeholder="Search title, author, key, venue, note…" '
        'aria-label="Search papers">'
        + select("dl-filter-year-from", "From", year_options, "any year")
        + select("dl-filter-year-to", "To", year_options[::-1], "any year")
        + select("dl-filter-venue", "Venue", [(v, v) for v in venues])
        + tag_select + section_select
        + '<label class="dl-filter-check"><input type="checkbox" class="dl-filter-code"> official code</label>'
        '<button type="button" class="dl-filter-reset md-button">Reset</button>'
        '<span class="dl-filter-count" aria-live="polite"></span></div>'
    )


def table_html(table_id: str, rows: list[dict], taxonomy: dict, page_url: str, explained: dict,
               implemented: dict, show_sections: bool = False) -> str:
    head = (
        '<thead><tr><th data-sort="text" aria-sort="none">Paper</th>'
        '<th data-sort="number" aria-sort="none">Year</th><th data-sort="text" aria-sort="none">Venue</th>'
        "<th>Tags</th>" + ("<th>Sections</th>" if show_sections else "") + "<th>Links · cite as</th></tr></thead>"
    )
    body = "\n".join(row_html(r, taxonomy, page_url, explained, implemented, show_sections) for r in rows)
    return (f'<div class="dl-papers-wrap" markdown="0"><table class="dl-papers" id="{table_id}">{head}\n'
            f"<tbody>\n{body}\n</tbody></table></div>\n")


def section_page(section: dict, records: list[dict], taxonomy: dict, page_url: str, bib_url: str,
                 explained: dict, implemented: dict) -> str:
    """Markdown (with one raw-HTML table) for a section page."""
    rows = section_records(section["id"], records)
    home = sum(r["section"] == section["id"] for r in records)
    table_id = f"dl-papers-{section['id']}"
    also = f" ({home} listed here, {len(rows) - home} shown from other sections)" if len(rows) > home else ""
    return (
        "---\nhide:\n  - toc\n---\n\n"  # the table needs the width; it has no headings anyway
        f"# {section['title']}\n\n{section['description']}\n\n"
        f"**{len(rows)} papers**{also}. Click a column header to sort; filter with the box below, or "
        f"[search the whole catalog]({posixpath.basename(ALL_URI)}). Cite a paper in a page as `[@key]`. "
        f"[Download the whole catalog as BibTeX]({posixpath.basename(BIB_URI)}).\n\n"
        + filter_html(table_id, rows, taxonomy) + "\n\n"
        + table_html(table_id, rows, taxonomy, page_url, explained, implemented)
    )


def all_page(records: list[dict], taxonomy: dict, page_url: str, explained: dict, implemented: dict) -> str:
    """Markdown for papers/all.md: every paper once, with the sections it is listed in."""
    multi = sum(len(record_sections(r)) > 1 for r in records)
    official = sum(P.has_official_code(r) for r in records)
    return (
        "---\nhide:\n  - toc\n---\n\n"
        "# Search the catalog\n\n"
        f"All **{len(records)} papers** of the catalog in one table, each paper once; the *Sections* column "
        f"lists every section page that shows it ({multi} papers appear in more than one). Search by title, "
        "author, key, venue or note; narrow by year range, venue, tag or section; tick *official code* "
        f"to keep the {official} papers whose authors released code. Links to this page keep the filters: "
        "`all/?q=consistency&from=2023&tag=distillation&code=1`. Everything runs in the page, offline.\n\n"
        + filter_html("dl-papers-all", records, taxonomy, sections=True) + "\n\n"
        + table_html("dl-papers-all", records, taxonomy, page_url, explained, implemented, show_sections=True)
    )


def path_page(path: dict, records: list[dict], taxonomy: dict, page_uri: str, page_url: str,
              explained: dict, files_by_src: dict) -> str:
    """Markdown for one reading path: numbered steps linking to catalog rows and to chapters."""
    by_key = STATE["by_key"]
    base = posixpath.dirname(page_uri)
    lines = [f"# {path['title']}", "", path["description"].strip(), "",
             f"{len(path['steps'])} papers, in reading order. Each title links to the paper's row in the "
             "catalog (authors, venue, code, BibTeX key); the chapters listed under a paper explain it on "
             "this site.", ""]
    for n, step in enumerate(path["steps"], 1):
        rec = by_key[step["key"]]
        target = posixpath.relpath(f"{OUT_DIR}/{rec['section']}.md", base)
        label = STATE["labels"][rec["key"]]
        lines.append(f'{n}. **[{rec["title"]}]({target}#{rec["key"]})** ({label}, {P.venue(rec)})  ')
        lines.append(f"    {step['why'].strip()}")
        chapters = {}
        for page in step.get("chapters") or []:
            f = files_by_src.get(page)
            if f is None:  # (tools.papers checks that the chapter exists in docs/)
                continue
            chapters[posixpath.relpath(page, base)] = STATE["page_titles"].get(page) or page_title(
                f.content_string, page, {})
        # then chapters that cite the paper, up to MAX_PATH_CHAPTERS links in all
        for url, title in sorted((explained.get(rec["key"]) or {}).items(), key=lambda x: x[1]):
            src = STATE["url_to_src"].get(url)
            if len(chapters) >= MAX_PATH_CHAPTERS or not src or not src.startswith(CHAPTER_DIRS):
                continue
            chapters.setdefault(posixpath.relpath(src, base), title)
        if chapters:
            lines.append("")
            lines.append("    On this site: " + ", ".join(f"[{t}]({u})" for u, t in chapters.items()))
        lines.append("")
    others = [p for p in STATE["paths"] if p["id"] != path["id"]]
    if others:
        lines += ["## Other reading paths", ""]
        lines += [f"- [{p['title']}]({p['id']}.md)" for p in others]
        lines.append("")
    lines += [f"[Search the whole catalog]({posixpath.relpath(ALL_URI, base)})", ""]
    return "\n".join(lines)


def index_page(records: list[dict], taxonomy: dict, explained: dict, paths: list[dict]) -> str:
    """Markdown for papers/index.md: counts per section and tag, reading paths, citing, BibTeX."""
    lines = [
        "# Papers",
        "",
        "The reading list behind difflearn: every paper the notes and the code cite, the papers of the "
        "original reading list, and the essential papers since 2023. The catalog is data "
        "(`papers/*.yaml` in the repository); these pages are generated from it at build time.",
        "",
        f"**{len(records)} papers**, {sum(bool(P.arxiv_id(r)) for r in records)} with an arXiv id, "
        f"{sum(isinstance(r.get('published'), dict) for r in records)} with a published version, "
        f"{sum(P.has_official_code(r) for r in records)} with the authors' code, "
        f"{sum(1 for r in records if explained.get(r['key']))} cited on this site.",
        "",
        f"[Search the whole catalog]({posixpath.basename(ALL_URI)}){{ .md-button .md-button--primary }}",
        "",
    ]
    if paths:
        lines += ["## Reading paths", "", "| Path | Papers | What it covers |", "| --- | ---: | --- |"]
        for p in paths:
            desc = " ".join(p["description"].split())
            lines.append(f"| [{p['title']}](paths/{p['id']}.md) | {len(p['steps'])} | {desc} |")
        lines.append("")
    lines += ["## Sections", "", "| Section | Papers | What is there |", "| --- | ---: | --- |"]
    for s in taxonomy["sections"]:
        n = len(section_records(s["id"], records))
        lines.append(f"| [{s['title']}]({s['id']}.md) | {n} | {' '.join(s['description'].split())} |")
    lines += ["", "## Tags", "",
              "Tags come in groups: the kind of paper, the method, and the application area. Each link opens "
              "the catalog search filtered by that tag.", ""]
    for group in taxonomy["tag_groups"]:
        lines += [f"**{group['title']}**", "", "| Tag | Papers |", "| --- | ---: |"]
        for tag, label in group["tags"].items():
            n = sum(tag in r["tags"] for r in records)
            if n:
                lines.append(f"| [{label}]({posixpath.basename(ALL_URI)}?tag={tag}) | {n} |")
        lines.append("")
    lines += [
        "## Cite and download",
        "",
        "In any page, write `[@key]` (or `[@key, eq. 12]`, or `[@key1; @key2]`); the build turns it into "
        "a link to the paper's row, and the row links back to the page. A key is the first author's "
        "family name, the year and the first title word that is not an article, in lower-case ASCII: "
        "`ho2020denoising`. Keys never change once issued, even when a paper gets a new venue or title. "
        "An unknown key fails the strict build.",
        "",
        "A code link marked *code (unofficial)* points to someone else's implementation, not the authors'.",
        "",
        f"[Download the catalog as BibTeX]({posixpath.basename(BIB_URI)}){{ .md-button }}",
        "",
        "To add a paper, see `papers/README.md` in the repository: one record, then "
        "`python -m tools.papers freeze` and `python -m tools.papers check`.",
        "",
    ]
    return "\n".join(lines)


def nav_entries(taxonomy: dict, paths: list[dict]) -> list:
    """The `Papers` part of mkdocs.yml's nav that the generated pages need (tests compare the two)."""
    entries = [f"{OUT_DIR}/index.md", {"Search the catalog": ALL_URI}]
    if paths:
        entries.append({"Reading paths": [{p["title"]: f"{PATHS_DIR}/{p['id']}.md"} for p in paths]})
    return entries + [{s["title"]: f"{OUT_DIR}/{s['id']}.md"} for s in taxonomy["sections"]]


# --------------------------------------------------------------------------- MkDocs events

STATE: dict = {}


def on_config(config):
    try:
        taxonomy, records = P.load_catalog(ROOT / "papers")
    except ValueError as exc:
        raise PluginError(str(exc)) from exc
    STATE.update(taxonomy=taxonomy, records=records, by_key={r["key"]: r for r in records},
                 labels=P.cite_labels(records), paths=P.load_paths(ROOT / "papers"))
    papers_dir = str(ROOT / "papers")
    if papers_dir not in config.watch:  # `mkdocs serve` rebuilds when a record changes
        config.watch.append(papers_dir)
    css, js = ASSETS
    if css not in [str(x) for x in config.extra_css]:
        config.extra_css.append(css)
    if js not in [str(x) for x in config.extra_javascript]:
        config.extra_javascript.append(js)
    return config


def on_files(files, config):
    taxonomy, records, paths = STATE["taxonomy"], STATE["records"], STATE["paths"]
    explained, implemented = scan_sources(files, config, records)
    STATE.update(explained=explained, implemented=implemented, generated={})
    files_by_src = {f.src_uri: f for f in files}
    STATE["url_to_src"] = {f.url: f.src_uri for f in files}
    STATE["page_titles"] = nav_titles(config.nav)
    bib = File.generated(config, BIB_URI, content=P.catalog_bibtex(records, taxonomy["venues"]))
    files.append(bib)
    index = File.generated(config, f"{OUT_DIR}/index.md", content="")
    files.append(index)
    everything = File.generated(config, ALL_URI, content="")
    files.append(everything)
    STATE["section_url"] = {}
    section_files = {}
    for s in taxonomy["sections"]:
        f = File.generated(config, f"{OUT_DIR}/{s['id']}.md", content="")
        files.append(f)
        section_files[s["id"]] = f
        STATE["section_url"][s["id"]] = f.url
    path_files = {}
    for p in paths:
        f = File.generated(config, f"{PATHS_DIR}/{p['id']}.md", content="")
        files.append(f)
        path_files[p["id"]] = f
    index.content_string = index_page(records, taxonomy, explained, paths)
    everything.content_string = all_page(records, taxonomy, everything.url, explained, implemented)
    for s in taxonomy["sections"]:
        f = section_files[s["id"]]
        f.content_string = section_page(s, records, taxonomy, f.url, bib.url, explained, implemented)
        STATE["generated"][f.src_uri] = f"papers/{s['id']}.yaml"
    for p in paths:
        f = path_files[p["id"]]
        f.content_string = path_page(p, records, taxonomy, f.src_uri, f.url, explained, files_by_src)
        STATE["generated"][f.src_uri] = f"papers/{P.PATHS_FILE}"
    STATE["generated"][index.src_uri] = "papers/README.md"
    STATE["generated"][everything.src_uri] = "papers/README.md"
    return files


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if src in STATE.get("generated", {}):
        repo = (config.repo_url or "").rstrip("/")
        if repo:
            page.edit_url = f"{repo}/edit/main/{STATE['generated'][src]}"
        return markdown
    if "[@" not in markdown:
        return markdown
    return replace_citations(markdown, lambda items: render_citation_md(items, src), src)


def on_page_content(content, page, config, files):
    if "[@" not in content or page.file.src_uri in STATE.get("generated", {}):
        return content
    return replace_citations(content, lambda items: render_citation_html(items, page.url),
                             page.file.src_uri, markdown=False)
