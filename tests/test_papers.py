"""The papers catalog (papers/*.yaml), its generated site section and `[@key]` citations.

Fast checks run on the data and on the hook's generator functions directly; one small
strict MkDocs build (a temporary docs folder with only the papers hook) checks the
generated pages, the BibTeX file, citation links from nested pages and that an unknown
key fails the strict build. The full-site checks reuse the session's `built_site`.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import importlib.util
import os
import posixpath
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


from tools import papers as P  # noqa: E402

HOOK = _load("papers_hook_under_test", ROOT / "docs" / "hooks" / "papers.py")
TAXONOMY = P.load_taxonomy(ROOT / "papers")
RECORDS = P.load_records(ROOT / "papers", TAXONOMY)
BY_KEY = {r["key"]: r for r in RECORDS}

# The keys promised to the other chapters (the shared API brief), with the arXiv id of the
# paper each one must denote (from the papers themselves, not from our data).
PROMISED = {
    "ho2020denoising": "2006.11239", "song2021denoising": "2010.02502", "song2021scorebased": "2011.13456",
    "song2019generative": "1907.05600", "dhariwal2021diffusion": "2105.05233",
    "ho2022classifierfree": "2207.12598", "lu2022dpmsolver": "2206.00927",
    "lu2022dpmsolverpp": "2211.01095", "zhao2023unipc": "2302.04867", "karras2022elucidating": "2206.00364",
    "bao2022analyticdpm": "2201.06503", "bao2022estimating": "2206.07309", "nichol2021improved": "2102.09672",
    "kingma2021variational": "2107.00630", "lipman2023flow": "2210.02747", "liu2023flow": "2209.03003",
    "song2023consistency": "2303.01469", "lin2024common": "2305.08891", "sohldickstein2015deep": "1503.03585",
    "kingma2014autoencoding": "1312.6114",
    "hyvarinen2005estimation": None, "vincent2011connection": None, "anderson1982reversetime": None,
}


# --------------------------------------------------------------------------- the data


def test_catalog_has_no_problems():
    assert P.validate(RECORDS, TAXONOMY) == []
    assert len(RECORDS) >= 200


def test_every_record_file_declares_its_section():
    for s in TAXONOMY["sections"]:
        data = yaml.safe_load((ROOT / "papers" / f"{s['id']}.yaml").read_text(encoding="utf-8"))
        assert data["section"] == s["id"]
        assert data["papers"], f"section {s['id']} is empty"


@pytest.mark.parametrize("key", sorted(PROMISED))
def test_promised_keys_exist_and_denote_the_right_paper(key):
    assert key in BY_KEY, f"{key} is promised in the API brief but missing from papers/"
    if PROMISED[key]:
        assert BY_KEY[key]["arxiv"] == PROMISED[key]


def test_classic_references_have_their_publication_data():
    # Hyvärinen 2005 (JMLR 6), Vincent 2011 (Neural Computation 23(7)), Anderson 1982 (SPA 12(3)).
    assert BY_KEY["hyvarinen2005estimation"]["venue"] == "JMLR"
    assert BY_KEY["vincent2011connection"]["venue"] == "Neural Computation"
    assert BY_KEY["anderson1982reversetime"]["venue"] == "SPA"
    assert BY_KEY["hyvarinen2005estimation"]["authors"] == ["Hyvärinen, Aapo"]


@pytest.mark.parametrize("author, year, title, key", [
    ("Ho, Jonathan", 2020, "Denoising Diffusion Probabilistic Models", "ho2020denoising"),
    ("Song, Yang", 2021, "Score-Based Generative Modeling through SDEs", "song2021scorebased"),
    ("Sohl-Dickstein, Jascha", 2015, "Deep Unsupervised Learning", "sohldickstein2015deep"),
    ("Hyvärinen, Aapo", 2005, "Estimation of Non-Normalized ...", "hyvarinen2005estimation"),
    ("Burg, Max F.", 2023, "A data augmentation perspective", "burg2023data"),
    ("Anderson, Brian", 1982, "Reverse-time diffusion equation models", "anderson1982reversetime"),
    ("Øksendal, Bernt", 2003, "Stochastic Differential Equations", "oksendal2003stochastic"),
    ("Lu, Cheng", 2022, "DPM-Solver++: Fast Solver", "lu2022dpmsolver"),
])
def test_key_rule_on_known_cases(author, year, title, key):
    assert P.citation_key(author, year, title) == key


def test_key_rule_needs_a_word():
    with pytest.raises(ValueError, match="title"):
        P.citation_key("Ho, J", 2020, "The A An")


def test_cite_labels():
    assert P.cite_label(BY_KEY["ho2020denoising"]) == "Ho et al., 2020"
    assert P.cite_label(BY_KEY["ho2022classifierfree"]) == "Ho & Salimans, 2022"
    assert P.cite_label(BY_KEY["hyvarinen2005estimation"]) == "Hyvärinen, 2005"


def test_colliding_labels_get_letters_in_order_of_appearance():
    labels = P.cite_labels(RECORDS)
    assert len(set(labels.values())) == len(RECORDS)
    # DDIM (arXiv 2010.02502) appeared before score SDE (2011.13456), both ICLR 2021
    assert labels["song2021denoising"] == "Song et al., 2021a"
    assert labels["song2021scorebased"] == "Song et al., 2021b"
    assert labels["ho2020denoising"] == "Ho et al., 2020"


def _good() -> dict:
    return {"key": "ho2020denoising", "title": "Denoising Diffusion Probabilistic Models",
            "authors": ["Ho, Jonathan"], "et_al": True, "year": 2020, "venue": "NeurIPS",
            "arxiv": "2006.11239", "tags": ["crucial"], "section": "theory"}


@pytest.mark.parametrize("change, message", [
    ({"title": None}, "missing required field 'title'"),
    ({"year": 1850}, "year must be an integer"),
    ({"year": "2020"}, "year must be an integer"),
    ({"arxiv": "2006.1123"}, "arxiv must be a quoted new-style id"),
    ({"arxiv": "2013.11239"}, "arxiv must be a quoted new-style id"),
    ({"arxiv": "1606.11239"}, "far from the arXiv id's year"),
    ({"arxiv": None}, "needs an arxiv id or a url"),
    ({"url": "arxiv.org/abs/2006.11239"}, "url must be an http(s) URL"),
    ({"code": "https://git hub.com/x"}, "code must be an http(s) URL"),
    ({"venue": "NIPS"}, "venue must be one of"),
    ({"tags": ["nerf", "nope"]}, "tags must be a list drawn from"),
    ({"also_in": ["theory"]}, "also_in must list other sections"),
    ({"key": "ho2020ddpm"}, "key must follow the rule"),
    ({"key": "ho2020denoisingx"}, "collides with no other record"),
    ({"authors": "Ho, Jonathan"}, "authors must be a list"),
    ({"note": "two\nlines"}, "note must be one line"),
    ({"pages": ["notes/no-such-page.md"]}, "pages entries must be existing docs/ pages"),
    ({"modules": ["difflearn.no_such_module"]}, "modules entries must be existing modules"),
    ({"colour": "red"}, "unknown fields"),
])
def test_validator_reports_each_kind_of_problem(change, message):
    assert P.validate([_good()], TAXONOMY) == []
    rec = {**_good(), **change}
    problems = P.validate([rec], TAXONOMY)
    assert any(message in p for p in problems), problems


def test_validator_reports_duplicates():
    a = _good()
    b = {**_good(), "key": "ho2020denoisingb", "title": "Denoising diffusion probabilistic models!"}
    problems = P.validate([a, b], TAXONOMY)
    assert any("duplicate arXiv id '2006.11239'" in p for p in problems)
    assert any("duplicate title" in p for p in problems)
    c = {**_good(), "arxiv": "2006.11240"}
    assert any("duplicate key 'ho2020denoising'" in p for p in P.validate([a, c], TAXONOMY))


def test_arxiv_only_papers_take_the_year_of_their_id():
    for r in RECORDS:
        if r["venue"] == "arXiv":
            assert r.get("arxiv"), r["key"]
            assert r["year"] == 2000 + int(r["arxiv"][:2]), r["key"]


def test_tags_and_sections_in_use_cover_the_original_list():
    used = {t for r in RECORDS for t in r["tags"]}
    original = {"crucial", "sde-ode-flow", "architecture", "nerf", "gnn", "reid", "long-tail",
                "vision-language", "self-supervised", "data-augmentation", "detection", "segmentation",
                "super-resolution", "editing", "distillation", "music", "speech", "gflownet",
                "steganography", "qd-rl", "accelerated-sampling", "model-compression", "survey"}
    assert original <= used, original - used
    assert {r["section"] for r in RECORDS} == {s["id"] for s in TAXONOMY["sections"]}


# --------------------------------------------------------------------------- citations in the sources

MD_SOURCES = ["docs/**/*.md", "notebooks/**/*.md"]
PY_SOURCES = ["src/**/*.py", "snippets/**/*.py", "docs/**/*.py", "notebooks/**/*.py", "figures/**/*.py"]
PY_CITE = re.compile(r"\[@([a-z]+\d{4}[a-z0-9]+)\s*[\];,]")


def all_citations() -> dict[str, set[str]]:
    """key -> files citing it, over pages, notebooks, snippets, figures and the package."""
    found: dict[str, set[str]] = {}
    for pattern in MD_SOURCES:
        for path in ROOT.glob(pattern):
            for key in HOOK.cited_keys(path.read_text(encoding="utf-8")):
                found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    for path in ROOT.glob("**/*.ipynb"):
        if ".venv" in path.parts or "site" in path.parts:
            continue
        for key in HOOK.cited_keys(HOOK.notebook_text(path.read_text(encoding="utf-8"))):
            found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    for pattern in PY_SOURCES:
        for path in ROOT.glob(pattern):
            if "hooks" in path.parts:
                continue
            for key in PY_CITE.findall(path.read_text(encoding="utf-8")):
                found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_cited_key_exists():
    unknown = {k: sorted(v) for k, v in all_citations().items() if k not in BY_KEY}
    assert not unknown, f"citations of keys missing from papers/*.yaml: {unknown}"


def test_citation_parsing_and_code_is_left_alone():
    md = textwrap.dedent("""\
        DDPM [@ho2020denoising] and DDIM [@song2021denoising, eq. 12; @lu2022dpmsolver].
        Inline `[@inlinecode2020x]` and a link [@user](https://example.org) stay.

        ```python
        x = "[@fenced2020code]"
        ```
        """)
    assert HOOK.cited_keys(md) == ["ho2020denoising", "song2021denoising", "lu2022dpmsolver"]
    html_text = '<p>[@ho2020denoising]</p><pre><code>[@incode2020x]</code></pre><code>[@span2020x]</code>'
    assert HOOK.cited_keys(html_text, markdown=False) == ["ho2020denoising"]


@pytest.fixture()
def hook_state():
    urls = {s["id"]: f"papers/{s['id']}/" for s in TAXONOMY["sections"]}
    HOOK.STATE.update(by_key=BY_KEY, section_url=urls, labels=P.cite_labels(RECORDS))
    yield HOOK.STATE


@pytest.mark.parametrize("page", ["index.md", "notes/ddim.md", "a/b/c/deep.md"])
def test_citation_links_resolve_from_any_depth(hook_state, page):
    out = HOOK.replace_citations("See [@ho2020denoising].", lambda it: HOOK.render_citation_md(it, page),
                                 page)
    m = re.fullmatch(r'See \(\[Ho et al\., 2020\]\(([^ )]+)#ho2020denoising "([^"]+)"\)\)\.', out)
    assert m, out
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(1)))
    assert target == "papers/theory.md"
    assert m.group(2) == "Denoising Diffusion Probabilistic Models"


def test_citation_groups_and_locators(hook_state):
    out = HOOK.replace_citations("[@song2021denoising, eq. 12; @lu2022dpmsolver]",
                                 lambda it: HOOK.render_citation_md(it, "notes/x.md"), "notes/x.md")
    assert out.startswith("([Song et al., 2021a](../papers/theory.md#song2021denoising ")
    assert "), eq. 12; [Lu et al., 2022a](../papers/acceleration.md#lu2022dpmsolver " in out
    html_out = HOOK.replace_citations("<p>[@lu2022dpmsolverpp]</p>",
                                      lambda it: HOOK.render_citation_html(it, "api/dpm_solver/"), "api",
                                      markdown=False)
    href = re.search(r'href="([^"]+)"', html_out).group(1)
    assert urljoin("http://h/api/dpm_solver/", href) == "http://h/papers/acceleration/#lu2022dpmsolverpp"


def test_unknown_key_warns_and_is_left_as_is(hook_state, caplog):
    with caplog.at_level("WARNING", logger="mkdocs.hooks.papers"):
        out = HOOK.replace_citations("x [@nosuchpaper2020zzz] y", lambda it: "LINK", "notes/x.md")
    assert out == "x [@nosuchpaper2020zzz] y"
    assert "nosuchpaper2020zzz" in caplog.text and "notes/x.md" in caplog.text


# --------------------------------------------------------------------------- generated pages and BibTeX


class RowParser(html.parser.HTMLParser):
    """Row ids and the options of the filter selects in a generated section page."""

    def __init__(self):
        super().__init__()
        self.rows: list[str] = []
        self.options: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and a.get("id"):
            self.rows.append(a["id"])
        if tag == "select":
            self._select = a["class"]
            self.options[self._select] = []
        if tag == "option" and self._select and a.get("value"):
            self.options[self._select].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@pytest.mark.parametrize("section", [s["id"] for s in TAXONOMY["sections"]])
def test_section_page_lists_its_papers_with_anchors_and_filters(section):
    sec = next(s for s in TAXONOMY["sections"] if s["id"] == section)
    explained = {"ho2020denoising": {"notes/ddpm/": "DDPM"}}
    implemented = {"ho2020denoising": {"difflearn.betas": "api/betas/"}}
    md = HOOK.section_page(sec, RECORDS, TAXONOMY, f"papers/{section}/", "papers/difflearn.bib",
                           explained, implemented)
    parser = RowParser()
    parser.feed(md)
    expected = [r["key"] for r in RECORDS if r["section"] == section or section in (r.get("also_in") or [])]
    assert sorted(parser.rows) == sorted(expected)
    assert len(set(parser.rows)) == len(parser.rows)
    shown = [BY_KEY[k] for k in parser.rows]
    assert set(parser.options["dl-filter-year"]) == {str(r["year"]) for r in shown}
    assert set(parser.options["dl-filter-venue"]) == {r["venue"] for r in shown}
    assert set(parser.options["dl-filter-tag"]) == {t for r in shown for t in r["tags"]}
    assert f"\n# {sec['title']}\n" in md
    if section == "theory":
        row = re.search(r'<tr id="ho2020denoising".*?</tr>', md).group(0)
        assert 'href="../../notes/ddpm/">DDPM</a>' in row
        assert 'href="../../api/betas/"><code>difflearn.betas</code></a>' in row


def test_every_record_is_on_its_home_page_once():
    homes = {}
    for s in TAXONOMY["sections"]:
        for r in HOOK.section_records(s["id"], RECORDS):
            if r["section"] == s["id"]:
                homes[r["key"]] = homes.get(r["key"], 0) + 1
    assert homes == {r["key"]: 1 for r in RECORDS}


def parse_bib(text: str) -> dict[str, dict]:
    """A small independent BibTeX reader for our one-field-per-line output."""
    entries = {}
    for chunk in re.split(r"^@", text, flags=re.M)[1:]:
        bare = chunk.replace(r"\{", "").replace(r"\}", "")
        assert bare.count("{") == bare.count("}"), chunk
        head, _, body = chunk.partition("\n")
        kind, key = re.fullmatch(r"(\w+)\{([^,]+),", head).groups()
        fields = dict(re.findall(r"^\s+(\w+)\s+= \{(.*)\},$", body, flags=re.M))
        entries[key] = {"type": kind, **fields}
    return entries


def test_bibtex_export_has_every_paper():
    entries = parse_bib(P.catalog_bibtex(RECORDS, TAXONOMY["venues"]))
    assert set(entries) == set(BY_KEY)
    ddpm = entries["ho2020denoising"]
    assert ddpm["type"] == "inproceedings"
    assert ddpm["title"] == "{Denoising Diffusion Probabilistic Models}"
    assert ddpm["author"] == "Ho, Jonathan and Jain, Ajay and Abbeel, Pieter"
    assert "Neural Information Processing Systems" in ddpm["booktitle"]
    assert (ddpm["year"], ddpm["eprint"]) == ("2020", "2006.11239")
    cfg = entries["ho2022classifierfree"]
    assert cfg["type"] == "misc" and cfg["howpublished"] == "arXiv preprint arXiv:2207.12598"
    assert entries["vincent2011connection"]["journal"] == "Neural Computation"
    assert entries["bishop2006pattern"]["type"] == "book"
    for key, e in entries.items():
        assert {"title", "author", "year", "url"} <= set(e), key
        assert e["year"] == str(BY_KEY[key]["year"])
        assert e["author"].endswith(" and others") == bool(BY_KEY[key].get("et_al")), key


def test_bibtex_escapes_special_characters():
    rec = {**_good(), "title": "100% of R&D_costs #1"}
    entry = P.to_bibtex(rec, TAXONOMY["venues"])
    assert re.search(r"^  title\s+= \{\{100\\% of R\\&D\\_costs \\#1\}\},$", entry, flags=re.M), entry


def test_cli_check_passes():
    proc = subprocess.run([sys.executable, "-m", "tools.papers", "check"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(RECORDS)} papers" in proc.stdout


# --------------------------------------------------------------------------- a small strict build


def _mini_site(tmp: Path, extra_page: str | None = None, site_url: str = "http://127.0.0.1/"
               ) -> subprocess.CompletedProcess:
    docs = tmp / "docs"
    (docs / "a" / "b").mkdir(parents=True)
    (docs / "assets").mkdir()
    for name in ("papers.js", "papers.css"):
        shutil.copy(ROOT / "docs" / "assets" / name, docs / "assets" / name)
    (docs / "index.md").write_text("# Home\n\nDDPM [@ho2020denoising]. Syntax: `[@key]`.\n\n"
                                   "[Theory papers](papers/theory.md)\n")
    (docs / "a" / "b" / "deep.md").write_text(
        "# Deep page\n\nSee [@song2021denoising, eq. 12; @lu2022dpmsolver].\n")
    sections = [{s["title"]: f"papers/{s['id']}.md"} for s in TAXONOMY["sections"]]
    nav = [{"Home": "index.md"}, {"Deep": "a/b/deep.md"}, {"Papers": ["papers/index.md"] + sections}]
    if extra_page:
        (docs / "bad.md").write_text(extra_page)
        nav.append({"Bad": "bad.md"})
    config = {
        "site_name": "papers test", "docs_dir": str(docs), "site_url": site_url,
        "theme": {"name": "material", "font": False, "features": ["navigation.instant"]},
        "hooks": [str(ROOT / "docs" / "hooks" / "papers.py")],
        "markdown_extensions": ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}],
        "plugins": [], "nav": nav,
    }
    (tmp / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp / "mkdocs.yml"),
                           "-d", str(tmp / "site")], capture_output=True, text=True, env=env, cwd=tmp)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mini_server(tmp_path_factory):
    """(site folder, base URL): a small strict build, served locally.

    The server is bound first so the build can use its URL as site_url (Material's instant
    navigation only intercepts links to the site_url it was built for)."""
    tmp = tmp_path_factory.mktemp("papers-site")
    (tmp / "site").mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(tmp / "site")))
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    proc = _mini_site(tmp, site_url=base + "/")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    # strict mode: no warnings, and no "not in nav" or anchor notes about the generated pages either
    assert "papers/" not in proc.stderr, proc.stderr
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield tmp / "site", base
    httpd.shutdown()


@pytest.fixture(scope="module")
def mini_site(mini_server) -> Path:
    return mini_server[0]


def test_mini_build_writes_pages_and_bib(mini_site):
    for s in TAXONOMY["sections"]:
        assert (mini_site / "papers" / s["id"] / "index.html").exists()
    bib = (mini_site / "papers" / "difflearn.bib").read_text(encoding="utf-8")
    assert set(parse_bib(bib)) == set(BY_KEY)
    index = (mini_site / "papers" / "index.html").read_text(encoding="utf-8")
    for s in TAXONOMY["sections"]:
        n = len(HOOK.section_records(s["id"], RECORDS))
        assert re.search(rf'href="{s["id"]}/">{re.escape(s["title"])}</a></td>\s*<td[^>]*>{n}</td>', index)
    assert 'href="difflearn.bib"' in index


def test_mini_build_links_citations_both_ways(mini_site):
    deep = (mini_site / "a" / "b" / "deep" / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+)" title="[^"]+">(Song et al\., 2021a|Lu et al\., 2022a)</a>', deep)
    assert len(hrefs) == 2, deep
    for href, _ in hrefs:
        url = urljoin("http://h/a/b/deep/", href)
        path, _, anchor = url.removeprefix("http://h/").partition("#")
        assert f'id="{anchor}"' in (mini_site / path / "index.html").read_text(encoding="utf-8")
    home = (mini_site / "index.html").read_text(encoding="utf-8")
    assert "<code>[@key]</code>" in home
    theory = (mini_site / "papers" / "theory" / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="song2021denoising".*?</tr>', theory, flags=re.S).group(0)
    back = re.search(r'Explained in: <a href="([^"]+)">Deep</a>', row)
    assert back and urljoin("http://h/papers/theory/", back.group(1)) == "http://h/a/b/deep/"
    assert "Implemented in:" in row and "difflearn.samplers.ddim" in row


def test_unknown_key_fails_the_strict_build(tmp_path):
    proc = _mini_site(tmp_path, extra_page="# Bad\n\nSee [@nosuchpaper2099zzz].\n")
    assert proc.returncode != 0
    assert "nosuchpaper2099zzz" in proc.stderr


# --------------------------------------------------------------------------- the whole site


def test_full_site_has_the_papers_section(built_site):
    for s in TAXONOMY["sections"]:
        page = (built_site / "papers" / s["id"] / "index.html").read_text(encoding="utf-8")
        assert "assets/papers.js" in page
    bib = (built_site / "papers" / "difflearn.bib").read_text(encoding="utf-8")
    assert set(parse_bib(bib)) == set(BY_KEY)


# --------------------------------------------------------------------------- the filter, in a browser


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        if os.environ.get("DIFFLEARN_SKIP_BROWSER") == "1":
            pytest.skip("Chromium is not installed (DIFFLEARN_SKIP_BROWSER=1)")
        pytest.fail("Chromium is not installed; install it or set DIFFLEARN_SKIP_BROWSER=1")
    return exe


@pytest.mark.browser
def test_filter_and_sort_work_offline_with_instant_navigation(mini_server):
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    base = mini_server[1]
    theory = [r for r in RECORDS if r["section"] == "theory" or "theory" in (r.get("also_in") or [])]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:"))
                else errors.append(f"non-local request {r.url}"))
        page.goto(base + "/", wait_until="networkidle")
        # instant navigation: the page body is swapped, document$ must re-run our init
        page.evaluate("() => { window.__sameDocument = true; }")
        page.click("article a:text('Theory papers')")
        page.wait_for_selector(".dl-papers-filter:not([hidden])")
        assert page.evaluate("() => window.__sameDocument === true"), "instant navigation did not happen"
        visible = "() => [...document.querySelectorAll('#dl-papers-theory tbody tr')].filter(r => !r.hidden)"
        assert page.evaluate(f"({visible})().length") == len(theory)
        page.fill(".dl-filter-text", "consistency")
        keys = page.evaluate(f"({visible})().map(r => r.id)")
        want = [r["key"] for r in theory if "consistency" in " ".join(
            [r["key"], r["title"], r.get("note") or ""]).lower()]
        assert sorted(keys) == sorted(want) and keys
        assert page.inner_text(".dl-filter-count") == f"{len(want)} of {len(theory)} papers"
        page.click(".dl-filter-reset")
        page.select_option(".dl-filter-tag", "langevin")
        keys = page.evaluate(f"({visible})().map(r => r.id)")
        assert sorted(keys) == sorted(r["key"] for r in theory if "langevin" in r["tags"])
        page.select_option(".dl-filter-tag", "")
        page.select_option(".dl-filter-year", "2005")
        assert page.evaluate(f"({visible})().map(r => r.id)") == ["hyvarinen2005estimation"]
        page.click(".dl-filter-reset")
        page.click("#dl-papers-theory th:nth-child(2)")  # Year, ascending
        years = page.evaluate("() => [...document.querySelectorAll('#dl-papers-theory tbody tr')]"
                              ".map(r => +r.dataset.year)")
        assert years == sorted(r["year"] for r in theory)
        # a link to a hidden row clears the filters and shows it
        page.fill(".dl-filter-text", "zzzz no match")
        page.evaluate("() => { location.hash = 'ho2020denoising'; }")
        page.wait_for_function("() => !document.getElementById('ho2020denoising').hidden")
        browser.close()
    assert not errors, errors
