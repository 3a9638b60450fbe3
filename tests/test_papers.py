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


from tools import papers as P  # noqa: E402
from tools.hooks import papers as HOOK  # noqa: E402

TAXONOMY = P.load_taxonomy(ROOT / "papers")
RECORDS = P.load_records(ROOT / "papers", TAXONOMY)
BY_KEY = {r["key"]: r for r in RECORDS}
FROZEN = P.load_frozen_keys(ROOT / "papers")
PATHS = P.load_paths(ROOT / "papers")

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
    assert P.check_all(ROOT / "papers", TAXONOMY, RECORDS) == []
    assert P.validate(RECORDS, TAXONOMY, frozen=FROZEN) == []
    assert len(RECORDS) >= 255


def test_every_record_file_declares_its_section():
    for s in TAXONOMY["sections"]:
        data = yaml.safe_load((ROOT / "papers" / f"{s['id']}.yaml").read_text(encoding="utf-8"))
        assert data["section"] == s["id"]
        assert data["papers"], f"section {s['id']} is empty"


# Essential papers of 2021-2026 added in catalog 2.0, which the chapters being written cite:
# key -> arXiv id (from the papers themselves).
ESSENTIAL = {
    "podell2024sdxl": "2307.01952", "esser2024scaling": "2403.03206", "karras2024analyzing": "2312.02696",
    "lipman2024flow": "2412.06264", "luo2023latent": "2310.04378", "song2024improved": "2310.14189",
    "lu2025simplifying": "2410.11081", "sauer2024adversarial": "2311.17042", "yin2024onestep": "2311.18828",
    "yin2024improved": "2405.14867", "liu2024instaflow": "2309.06380", "zhang2023adding": "2302.05543",
    "chung2023diffusion": "2209.14687", "lou2024discrete": "2310.16834", "sahoo2024simple": "2406.07524",
    "karras2024guiding": "2406.02507", "sabour2024align": "2404.14507", "zheng2023dpmsolverv3": "2310.13268",
    "chen2024on": "2405.11326", "hang2023efficient": "2303.09556", "hoogeboom2023simple": "2301.11093",
    "blattmann2023stable": "2311.15127", "ho2022video": "2204.03458", "mokady2023nulltext": "2211.09794",
    "meng2022sdedit": "2108.01073", "lugmayr2022repaint": "2201.09865",
}


@pytest.mark.parametrize("key", sorted(ESSENTIAL))
def test_essential_recent_papers_are_in_the_catalog(key):
    assert key in BY_KEY and P.arxiv_id(BY_KEY[key]) == ESSENTIAL[key]
    assert BY_KEY[key].get("note"), key  # every new paper says why a learner should read it


def test_the_catalog_reaches_the_present():
    recent = [r for r in RECORDS if P.year(r) >= 2023 and r["key"] in set(FROZEN[215:])]
    assert len(recent) >= 40
    assert max(P.arxiv_id(r) or "" for r in RECORDS) >= "2505"


@pytest.mark.parametrize("key", sorted(PROMISED))
def test_promised_keys_exist_and_denote_the_right_paper(key):
    assert key in BY_KEY, f"{key} is promised in the API brief but missing from papers/"
    if PROMISED[key]:
        assert P.arxiv_id(BY_KEY[key]) == PROMISED[key]


def test_classic_references_have_their_publication_data():
    # Hyvärinen 2005 (JMLR 6), Vincent 2011 (Neural Computation 23(7)), Anderson 1982 (SPA 12(3)).
    assert P.venue(BY_KEY["hyvarinen2005estimation"]) == "JMLR"
    assert P.venue(BY_KEY["vincent2011connection"]) == "Neural Computation"
    assert P.venue(BY_KEY["anderson1982reversetime"]) == "SPA"
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
            "authors": ["Ho, Jonathan", "Jain, Ajay", "Abbeel, Pieter"],
            "published": {"venue": "NeurIPS", "year": 2020, "volume": 33, "pages": "6840-6851"},
            "arxiv": {"id": "2006.11239", "date": "2020-06-19"},
            "code": {"url": "https://github.com/hojonathanho/diffusion", "official": True},
            "tags": ["crucial", "likelihood"], "source": ["https://arxiv.org/abs/2006.11239"],
            "section": "theory"}


def _with(**change) -> dict:
    rec = _good()
    for field, value in change.items():
        if "__" in field:  # published__year=... changes one subfield
            outer, inner = field.split("__")
            rec[outer] = {**rec[outer], inner: value}
            if value is None:
                del rec[outer][inner]
        elif value is None:
            rec.pop(field, None)
        else:
            rec[field] = value
    return rec


@pytest.mark.parametrize("change, message", [
    ({"title": None}, "missing required field 'title'"),
    ({"source": None}, "missing required field 'source'"),
    ({"source": ["ok", ""]}, "source must be a non-empty list"),
    ({"published__year": 1850}, "year must be an integer"),
    ({"published__year": "2020"}, "year must be an integer"),
    ({"published__year": 2025}, "inconsistent with the arXiv id's year"),
    ({"published__venue": "NIPS"}, "venue must be one of"),
    ({"published__venue": "arXiv"}, "cannot be a preprint server"),
    ({"published__venue": "TMLR"}, "before TMLR existed"),
    ({"published__doi": "doi:10.1/x"}, "published.doi must look like"),
    ({"published__pages": 6840}, "published.pages must be a quoted page"),
    ({"published__colour": "red"}, "published has unknown fields"),
    ({"published__url": "proceedings.neurips.cc"}, "published.url must be an http(s) URL"),
    ({"arxiv": "2006.11239"}, "arxiv must be a mapping"),
    ({"arxiv": {"id": "2006.1123"}}, "arxiv.id must be a quoted new-style id"),
    ({"arxiv": {"id": "2013.11239"}}, "arxiv.id must be a quoted new-style id"),
    ({"arxiv": {"id": "2006.11239", "date": "2020-08-01"}}, "does not match the id"),
    ({"arxiv": {"id": "2006.11239", "date": "2020-05-02"}}, "does not match the id"),
    ({"arxiv": {"id": "2006.11239", "date": "June 2020"}}, "arxiv.date must be a date"),
    ({"arxiv": None, "published": None}, "needs `published` (venue, year) or `arxiv`"),
    ({"arxiv": None}, "needs an arXiv id or a published.url"),
    ({"code": "https://github.com/x/y"}, "code must be a mapping"),
    ({"code": {"url": "https://git hub.com/x"}}, "code.url must be an http(s) URL"),
    ({"code": {"url": "https://github.com/x/y"}}, "code.official must be true"),
    ({"code": {"url": "https://github.com/x/y", "official": False}}, "needs a note saying whose code"),
    ({"project": "example.org"}, "project must be an http(s) URL"),
    ({"tags": ["nerf", "nope"]}, "tags must be a list drawn from"),
    ({"tags": ["crucial"]}, "at least one method or application tag"),
    ({"tags": ["nerf", "nerf"]}, "tags repeat"),
    ({"also_in": ["theory"]}, "also_in must list other sections"),
    ({"see_also": ["nosuchkey2020x"]}, "see_also must list keys of other records"),
    ({"key": "ho2020ddpm"}, "key must follow the rule"),
    ({"key": "ho2020denoisingx"}, "collides with no other record"),
    ({"key_note": "why"}, "key_note is only for frozen keys"),
    ({"authors": "Ho, Jonathan"}, "authors must be a list"),
    ({"authors": ["Ho, Jonathan", "Ho, Jonathan"]}, "an author is listed twice"),
    ({"et_al": True}, "et_al: true needs authors_note"),
    ({"et_al": "yes", "authors_note": "x"}, "et_al must be true or false"),
    ({"note": "two\nlines"}, "note must be one line"),
    ({"pages": ["notes/no-such-page.md"]}, "pages entries must be existing docs/ pages"),
    ({"modules": ["difflearn.no_such_module"]}, "modules entries must be existing modules"),
    ({"colour": "red"}, "unknown fields"),
])
def test_validator_reports_each_kind_of_problem(change, message):
    assert P.validate([_good()], TAXONOMY) == []
    problems = P.validate([_with(**change)], TAXONOMY)
    assert any(message in p for p in problems), problems


def test_validator_accepts_the_arxiv_date_slack_and_later_journal_versions():
    # sent in on the last days of May, announced with a June id (as Cascaded Diffusion Models)
    assert P.validate([_with(arxiv={"id": "2006.11239", "date": "2020-05-30"})], TAXONOMY) == []
    # a journal version three years after the preprint (as DPM-Solver++) keeps the arXiv-year key
    rec = _with(published={"venue": "TMLR", "year": 2023})
    assert P.validate([rec], TAXONOMY) == []
    assert P.rule_keys(rec) == ["ho2023denoising", "ho2020denoising"]


def test_validator_reports_duplicates():
    a = _good()
    b = _with(key="ho2020denoisingb", title="Denoising diffusion probabilistic models!",
              published__doi="10.5555/ddpm")
    problems = P.validate([a, b], TAXONOMY)
    assert any("duplicate arXiv id '2006.11239'" in p for p in problems)
    assert any("duplicate title" in p for p in problems)
    c = _with(arxiv={"id": "2006.11240"}, published__doi="10.5555/ddpm")
    problems = P.validate([_with(published__doi="10.5555/ddpm"), c], TAXONOMY)
    assert any("duplicate key 'ho2020denoising'" in p for p in problems)
    assert any("duplicate DOI '10.5555/ddpm'" in p for p in problems)


def test_see_also_must_link_both_ways():
    a = _with(see_also=["song2021denoising"])
    b = {**_good(), "key": "song2021denoising", "title": "Denoising Diffusion Implicit Models",
         "authors": ["Song, Jiaming"], "published": {"venue": "ICLR", "year": 2021},
         "arxiv": {"id": "2010.02502"}}
    problems = P.validate([a, b], TAXONOMY)
    assert any("'song2021denoising' must list 'ho2020denoising' back" in p for p in problems), problems
    assert P.validate([a, {**b, "see_also": ["ho2020denoising"]}], TAXONOMY) == []


# --------------------------------------------------------------------------- frozen keys


def test_keys_file_lists_every_key_once_and_the_original_215_first():
    assert len(FROZEN) == len(set(FROZEN))
    assert set(FROZEN) == set(BY_KEY)
    assert len(FROZEN) >= 215
    assert FROZEN[:3] == ["cao2022survey", "lin2023diffusion", "kazerouni2022diffusion"]


def test_a_frozen_key_cannot_disappear_or_be_renamed():
    frozen = ["ho2020denoising", "song2021denoising"]
    problems = P.check_frozen([_good()], frozen)
    assert problems == ["keys.txt: frozen key 'song2021denoising' has no record; keys are never removed "
                        "or renamed (a renamed paper keeps its key)"]
    renamed = _with(key="ho2020ddpm")
    problems = P.check_frozen([renamed], ["ho2020denoising"])
    assert any("'ho2020denoising' has no record" in p for p in problems)
    assert any("key 'ho2020ddpm' is not in papers/keys.txt" in p for p in problems)
    assert P.check_frozen([_good()], ["ho2020denoising", "ho2020denoising"])[0].endswith("listed twice")


def test_a_frozen_key_survives_a_new_title_only_with_a_key_note():
    retitled = _with(title="Noise Prediction Is All You Need")
    assert any("key must follow the rule" in p for p in P.validate([retitled], TAXONOMY))
    problems = P.validate([retitled], TAXONOMY, frozen=["ho2020denoising"])
    assert any("say in key_note what changed" in p for p in problems), problems
    noted = {**retitled, "key_note": "Key made from the first title."}
    assert P.validate([noted], TAXONOMY, frozen=["ho2020denoising"]) == []


def test_freeze_appends_new_keys_and_never_removes(tmp_path):
    (tmp_path / "keys.txt").write_text("# header\nho2020denoising\n")
    new = _with(key="song2021denoising", title="Denoising Diffusion Implicit Models",
                authors=["Song, Jiaming"], published={"venue": "ICLR", "year": 2021},
                arxiv={"id": "2010.02502"})
    assert P.freeze(tmp_path, [_good(), new]) == ["song2021denoising"]
    assert P.load_frozen_keys(tmp_path) == ["ho2020denoising", "song2021denoising"]
    assert P.freeze(tmp_path, [new]) == []
    assert P.load_frozen_keys(tmp_path) == ["ho2020denoising", "song2021denoising"]


def test_records_whose_frozen_key_no_longer_follows_the_rule_say_why():
    for r in RECORDS:
        if r["key"] not in P.rule_keys(r) and not any(r["key"].startswith(k) for k in P.rule_keys(r)):
            assert r.get("key_note"), r["key"]


# --------------------------------------------------------------------------- taxonomy and paths


def test_taxonomy_is_valid_and_every_tag_is_used():
    assert P.validate_taxonomy(TAXONOMY) == []
    assert P.check_tags_used(RECORDS, TAXONOMY) == []
    assert [g["id"] for g in TAXONOMY["tag_groups"]] == ["kind", "method", "area"]


def test_taxonomy_check_catches_a_tag_in_two_groups():
    bad = {**TAXONOMY, "tag_groups": TAXONOMY["tag_groups"] + [{"id": "extra", "title": "Extra",
                                                                  "tags": {"guidance": "Guidance"}}]}
    assert any("'guidance' is in groups 'method' and 'extra'" in p for p in P.validate_taxonomy(bad))


def test_the_catch_all_tag_is_gone_and_issue_tags_are_fixed():
    assert "sde-ode-flow" not in TAXONOMY["tags"]
    assert "model-compression" not in BY_KEY["wu2023diffumask"]["tags"]
    assert BY_KEY["kim2021maximum"]["see_also"] == ["kim2022maximum"]
    assert BY_KEY["kim2022maximum"]["see_also"] == ["kim2021maximum"]
    # no tag holds a third of the catalog any more
    for tag in TAXONOMY["tags"]:
        assert sum(tag in r["tags"] for r in RECORDS) < len(RECORDS) / 3, tag


def test_issue_findings_are_fixed():
    venues = {"liu2023generative": "IJCAI", "sharrock2022sequential": "ICML", "doignies2023examplebased":
              "SIGGRAPH Asia", "shao2023augdiff": "IEEE TAI", "qiu2023diffbfr": "ACM MM",
              "luzi2022boomerang": "TMLR", "yang2022diffusion": "ACM CSUR",
              "chen2023restorationdegradation": "ICML", "lu2022dpmsolverpp": "MIR"}
    for key, venue in venues.items():
        assert P.venue(BY_KEY[key]) == venue, key
    assert P.year(BY_KEY["lu2022dpmsolverpp"]) == 2025
    for key in ("lin2023magic3d", "poole2023dreamfusion"):
        assert BY_KEY[key]["code"]["official"] is False and BY_KEY[key]["code"]["note"]
    assert "torchgfn" not in (P.code_url(BY_KEY["zhang2023robust"]) or "")
    partial = [r["key"] for r in RECORDS if r.get("et_al")]
    assert len(partial) <= 3, partial


def test_paths_are_valid():
    assert P.validate_paths(PATHS, RECORDS) == []
    assert {"foundations", "fast-sampling", "text-to-image"} <= {p["id"] for p in PATHS}
    assert len(next(p for p in PATHS if p["id"] == "foundations")["steps"]) == 10


@pytest.mark.parametrize("step, message", [
    ({"key": "nosuchpaper2020x", "why": "x"}, "no paper with key 'nosuchpaper2020x'"),
    ({"key": "ho2020denoising", "why": ""}, "why must be one line"),
    ({"key": "ho2020denoising", "why": "x", "chapters": ["notes/nope.md"]}, "chapters must be existing"),
    ({"key": "ho2020denoising", "why": "x", "extra": 1}, "a step is {key, why, chapters}"),
])
def test_paths_check_reports_each_kind_of_problem(step, message):
    ok = [{"key": "song2021denoising", "why": "a"}, {"key": "song2021scorebased", "why": "b"}]
    path = {"id": "p", "title": "P", "description": "d", "steps": ok + [step]}
    problems = P.validate_paths([path], RECORDS)
    assert any(message in p for p in problems), problems
    assert P.validate_paths([{**path, "steps": ok + [{"key": "ho2020denoising", "why": "c"}]}], RECORDS) == []


def test_mkdocs_nav_lists_every_generated_papers_page():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_IgnoreTags)
    papers = next(item["Papers"] for item in config["nav"] if isinstance(item, dict) and "Papers" in item)
    assert papers == HOOK.nav_entries(TAXONOMY, PATHS)


class _IgnoreTags(yaml.SafeLoader):
    """mkdocs.yml has !!python/name tags; the nav does not need them."""


_IgnoreTags.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def test_arxiv_only_papers_take_the_year_of_their_id():
    for r in RECORDS:
        if P.venue(r) == "arXiv":
            assert P.arxiv_id(r), r["key"]
            assert P.year(r) == 2000 + int(P.arxiv_id(r)[:2]), r["key"]


def test_tags_and_sections_in_use_cover_the_original_list():
    used = {t for r in RECORDS for t in r["tags"]}
    original = {"crucial", "architecture", "nerf", "gnn", "reid", "long-tail",
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
def test_section_page_lists_its_papers_with_anchors_and_filters(hook_state, section):
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
    assert set(parser.options["dl-filter-year-from"]) == {str(P.year(r)) for r in shown}
    assert parser.options["dl-filter-year-to"] == parser.options["dl-filter-year-from"][::-1]
    assert set(parser.options["dl-filter-venue"]) == {P.venue(r) for r in shown}
    assert set(parser.options["dl-filter-tag"]) == {t for r in shown for t in r["tags"]}
    assert f"\n# {sec['title']}\n" in md
    if section == "theory":
        row = re.search(r'<tr id="ho2020denoising".*?</tr>', md).group(0)
        assert 'href="../../notes/ddpm/">DDPM</a>' in row
        assert 'href="../../api/betas/"><code>difflearn.betas</code></a>' in row


def test_catalog_page_lists_every_paper_once_with_its_sections(hook_state):
    md = HOOK.all_page(RECORDS, TAXONOMY, "papers/all/", {}, {})
    parser = RowParser()
    parser.feed(md)
    assert sorted(parser.rows) == sorted(BY_KEY)  # de-duplicated: one row per paper
    assert set(parser.options["dl-filter-section"]) == {s["id"] for s in TAXONOMY["sections"]}
    for key in ("song2021denoising", "song2023consistency", "liu2023flow"):
        rec = BY_KEY[key]
        row = re.search(rf'<tr id="{key}".*?</tr>', md).group(0)
        assert f'data-sections="{" ".join(HOOK.record_sections(rec))}"' in row
        assert len(HOOK.record_sections(rec)) >= 2
        for s in HOOK.record_sections(rec):
            assert f'href="../{s}/#{key}"' in row
    assert 'class="dl-filter-code"' in md


def _code_links(page_html: str) -> dict[str, tuple[str, str]]:
    """row id -> (class, text) of its code link."""
    out = {}
    for m in re.finditer(r'<tr id="([^"]+)".*?</tr>', page_html, flags=re.S):
        link = re.search(r'<a href="[^"]+" class="(dl-code[^"]*)"[^>]*>([^<]+)</a>', m.group(0))
        if link:
            out[m.group(1)] = link.groups()
    return out


def assert_unofficial_code_is_labelled(page_html: str, keys: list[str]) -> None:
    links = _code_links(page_html)
    for key in keys:
        rec = BY_KEY[key]
        if not rec.get("code"):
            assert key not in links, key
        elif rec["code"]["official"]:
            assert links[key] == ("dl-code dl-code-official", "code"), key
        else:
            assert links[key] == ("dl-code dl-code-unofficial", "code (unofficial)"), key


def test_unofficial_code_links_are_labelled_on_the_generated_pages(hook_state):
    unofficial = [r["key"] for r in RECORDS if r.get("code") and not r["code"]["official"]]
    assert {"lin2023magic3d", "poole2023dreamfusion"} <= set(unofficial)
    assert_unofficial_code_is_labelled(HOOK.all_page(RECORDS, TAXONOMY, "papers/all/", {}, {}), list(BY_KEY))


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
    pp = entries["lu2022dpmsolverpp"]
    assert pp["type"] == "article" and pp["journal"] == "Machine Intelligence Research"
    assert (pp["volume"], pp["number"], pp["pages"], pp["doi"], pp["year"]) == (
        "22", "4", "730--751", "10.1007/s11633-025-1562-4", "2025")
    for key, e in entries.items():
        assert {"title", "author", "year", "url"} <= set(e), key
        assert e["year"] == str(P.year(BY_KEY[key]))
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
    nav = [{"Home": "index.md"}, {"Deep": "a/b/deep.md"}, {"Papers": HOOK.nav_entries(TAXONOMY, PATHS)}]
    if extra_page:
        (docs / "bad.md").write_text(extra_page)
        nav.append({"Bad": "bad.md"})
    config = {
        "site_name": "papers test", "docs_dir": str(docs), "site_url": site_url,
        "theme": {"name": "material", "font": False, "features": ["navigation.instant"]},
        "hooks": [str(ROOT / "tools" / "hooks" / "papers.py")],
        "markdown_extensions": ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}],
        "plugins": [], "nav": nav,
    }
    (tmp / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    # built elsewhere than the repository root: the hook's `tools` package is found through PYTHONPATH
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
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
    for p in PATHS:
        page = (mini_site / "papers" / "paths" / p["id"] / "index.html").read_text(encoding="utf-8")
        for step in p["steps"]:  # every step links to its paper's row on the home section page
            rec = BY_KEY[step["key"]]
            assert f'href="../../{rec["section"]}/#{rec["key"]}"' in page, (p["id"], step["key"])
    everything = (mini_site / "papers" / "all" / "index.html").read_text(encoding="utf-8")
    assert everything.count("<tr id=") == len(RECORDS)
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


def test_mini_build_labels_unofficial_code(mini_site):
    for s in TAXONOMY["sections"]:
        page = (mini_site / "papers" / s["id"] / "index.html").read_text(encoding="utf-8")
        assert_unofficial_code_is_labelled(page, [r["key"] for r in HOOK.section_records(s["id"], RECORDS)])
    page = (mini_site / "papers" / "all" / "index.html").read_text(encoding="utf-8")
    assert_unofficial_code_is_labelled(page, list(BY_KEY))


def test_unknown_key_fails_the_strict_build(tmp_path):
    proc = _mini_site(tmp_path, extra_page="# Bad\n\nSee [@nosuchpaper2099zzz].\n")
    assert proc.returncode != 0
    assert "nosuchpaper2099zzz" in proc.stderr


# --------------------------------------------------------------------------- the whole site


def test_full_site_has_the_papers_section(built_site):
    for s in TAXONOMY["sections"]:
        page = (built_site / "papers" / s["id"] / "index.html").read_text(encoding="utf-8")
        assert "assets/papers.js" in page
        assert_unofficial_code_is_labelled(page, [r["key"] for r in HOOK.section_records(s["id"], RECORDS)])
    page = (built_site / "papers" / "all" / "index.html").read_text(encoding="utf-8")
    assert_unofficial_code_is_labelled(page, list(BY_KEY))
    for p in PATHS:
        assert (built_site / "papers" / "paths" / p["id"] / "index.html").exists()
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
        page.select_option(".dl-filter-year-from", "2005")
        page.select_option(".dl-filter-year-to", "2005")
        assert page.evaluate(f"({visible})().map(r => r.id)") == ["hyvarinen2005estimation"]
        page.click(".dl-filter-reset")
        page.check(".dl-filter-code")
        keys = page.evaluate(f"({visible})().map(r => r.id)")
        assert sorted(keys) == sorted(r["key"] for r in theory if P.has_official_code(r))
        page.click(".dl-filter-reset")
        page.click("#dl-papers-theory th:nth-child(2)")  # Year, ascending
        years = page.evaluate("() => [...document.querySelectorAll('#dl-papers-theory tbody tr')]"
                              ".map(r => +r.dataset.year)")
        assert years == sorted(P.year(r) for r in theory)
        # a link to a hidden row clears the filters and shows it
        page.fill(".dl-filter-text", "zzzz no match")
        page.evaluate("() => { location.hash = 'ho2020denoising'; }")
        page.wait_for_function("() => !document.getElementById('ho2020denoising').hidden")
        # the catalog-wide page: one row per paper, filters pre-filled from the query string
        page.goto(base + "/papers/all/?q=consistency&from=2023&tag=distillation&code=1", wait_until="networkidle")
        page.wait_for_selector(".dl-papers-filter:not([hidden])")
        rows = "() => [...document.querySelectorAll('#dl-papers-all tbody tr')].filter(r => !r.hidden)"
        keys = page.evaluate(f"({rows})().map(r => r.id)")
        want = [r["key"] for r in RECORDS if "consistency" in " ".join(
            [r["key"], r["title"], r.get("note") or "", P.author_list(r)]).lower() and P.year(r) >= 2023
            and "distillation" in r["tags"] and P.has_official_code(r)]
        assert sorted(keys) == sorted(want) and keys
        page.click(".dl-filter-reset")
        assert page.evaluate(f"({rows})().length") == len(RECORDS)
        page.select_option(".dl-filter-section", "acceleration")
        assert page.evaluate(f"({rows})().length") == len(HOOK.section_records("acceleration", RECORDS))
        browser.close()
    assert not errors, errors
