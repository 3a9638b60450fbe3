"""The papers catalog: load, check and export `papers/*.yaml`.

Usage (from the repository root)::

    python -m tools.papers check        # validate every record; exit 1 on a problem
    python -m tools.papers key "Ho, Jonathan" 2020 "Denoising Diffusion Probabilistic Models"
    python -m tools.papers bib > difflearn.bib
    python -m tools.papers stats

The site hook `docs/hooks/papers.py` and `tests/test_papers.py` use the same
functions, so a record that passes `check` also builds.
"""

from __future__ import annotations

import datetime
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAPERS_DIR = ROOT / "papers"

REQUIRED = ("key", "title", "authors", "year", "venue", "tags")
OPTIONAL = ("et_al", "arxiv", "url", "code", "also_in", "note", "pages", "modules")
ARTICLES = {"a", "an", "the"}
ARXIV_RE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
KEY_RE = re.compile(r"^[a-z]+\d{4}[a-z0-9]+$")
MODULE_RE = re.compile(r"^difflearn(\.[a-z_][a-z0-9_]*)*$")
MIN_YEAR = 1900


# Letters that Unicode does not decompose into an ASCII base letter.
_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss",
                       "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits of `text` (accents stripped, the rest dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def family_name(author: str) -> str:
    """Family name of an author written "Family, Given" (or a bare family name)."""
    return author.split(",", 1)[0].strip()


def first_title_word(title: str) -> str:
    """First word of `title` that is not an article, folded to ASCII."""
    for word in title.split():
        folded = ascii_fold(word)
        if folded and folded not in ARTICLES:
            return folded
    raise ValueError(f"title must contain a word that is not an article, got {title!r}")


def citation_key(first_author: str, year: int, title: str) -> str:
    """The catalog's key rule: family name + year + first title word that is not an article.

    >>> citation_key("Ho, Jonathan", 2020, "Denoising Diffusion Probabilistic Models")
    'ho2020denoising'
    >>> citation_key("Hyvärinen, Aapo", 2005, "Estimation of Non-Normalized Statistical Models")
    'hyvarinen2005estimation'
    """
    return f"{ascii_fold(family_name(first_author))}{year}{first_title_word(title)}"


def normalised_title(title: str) -> str:
    """Title reduced to ASCII letters and digits, for duplicate detection."""
    return ascii_fold(title)


def arxiv_year(arxiv_id: str) -> int:
    """Year of the first version of a new-style arXiv id (YYMM.NNNNN)."""
    return 2000 + int(ARXIV_RE.match(arxiv_id).group(1))


# --------------------------------------------------------------------------- loading


def load_taxonomy(papers_dir: Path = PAPERS_DIR) -> dict:
    """Sections (ordered list), tags and venues from `papers/taxonomy.yaml`."""
    with open(papers_dir / "taxonomy.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_records(papers_dir: Path = PAPERS_DIR, taxonomy: dict | None = None) -> list[dict]:
    """All records, in section order then file order; each gets `section` (its home file)."""
    taxonomy = taxonomy or load_taxonomy(papers_dir)
    records = []
    for section in taxonomy["sections"]:
        path = papers_dir / f"{section['id']}.yaml"
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for rec in data.get("papers") or []:
            rec = dict(rec)
            rec["section"] = section["id"]
            records.append(rec)
    return records


def load_catalog(papers_dir: Path = PAPERS_DIR) -> tuple[dict, list[dict]]:
    """(taxonomy, records) after validation; raises ValueError listing every problem."""
    taxonomy = load_taxonomy(papers_dir)
    records = load_records(papers_dir, taxonomy)
    problems = validate(records, taxonomy)
    if problems:
        raise ValueError("papers catalog has problems:\n  " + "\n  ".join(problems))
    return taxonomy, records


# --------------------------------------------------------------------------- checks


def validate(records: list[dict], taxonomy: dict, root: Path = ROOT) -> list[str]:
    """Every problem found in `records`, as human-readable strings (empty list: all good)."""
    problems: list[str] = []
    sections = [s["id"] for s in taxonomy["sections"]]
    tags, venues = taxonomy["tags"], taxonomy["venues"]
    this_year = datetime.date.today().year
    for i, rec in enumerate(records):
        where = f"{rec.get('section', '?')}.yaml #{i} ({rec.get('key', '?')})"

        def bad(msg: str, where=where) -> None:
            problems.append(f"{where}: {msg}")

        for field in REQUIRED:
            if rec.get(field) in (None, "", []):
                bad(f"missing required field {field!r}")
        unknown = set(rec) - set(REQUIRED) - set(OPTIONAL) - {"section"}
        if unknown:
            bad(f"unknown fields {sorted(unknown)}; allowed: {list(REQUIRED + OPTIONAL)}")
        if any(rec.get(f) in (None, "", []) for f in ("key", "title", "authors", "year")):
            continue
        year = rec["year"]
        if not isinstance(year, int) or not MIN_YEAR <= year <= this_year + 1:
            bad(f"year must be an integer in [{MIN_YEAR}, {this_year + 1}], got {year!r}")
            continue
        authors = rec["authors"]
        if not isinstance(authors, list) or not all(isinstance(a, str) and a.strip() for a in authors):
            bad(f"authors must be a list of 'Family, Given' strings, got {authors!r}")
            continue
        if not isinstance(rec.get("et_al", False), bool):
            bad(f"et_al must be true or false, got {rec['et_al']!r}")
        expected = citation_key(authors[0], year, rec["title"])
        key = rec["key"]
        if not KEY_RE.match(str(key)):
            bad(f"key must be lower-case ASCII family+year+word, got {key!r}")
        elif key != expected and not key.startswith(expected):
            bad(f"key must follow the rule (first author + year + first title word), expected {expected!r}")
        elif key != expected:
            # A suffix is only allowed to break a collision with another record's base key.
            others = [
                r for r in records if r is not rec and r.get("authors") and r.get("year") and r.get("title")
            ]
            if not any(citation_key(r["authors"][0], r["year"], r["title"]) == expected for r in others):
                bad(f"key {key!r} has a suffix but {expected!r} collides with no other record; "
                    f"use {expected!r}")
        arxiv = rec.get("arxiv")
        if arxiv is not None:
            m = ARXIV_RE.match(str(arxiv))
            # ids from January 2015 on have a 5-digit number, earlier ones 4 digits
            if (not isinstance(arxiv, str) or not m or not 1 <= int(m.group(2)) <= 12
                    or len(arxiv.split(".")[1]) != (5 if arxiv[:4] >= "1501" else 4)):
                bad(f"arxiv must be a quoted new-style id like '2006.11239', got {arxiv!r}")
            else:
                first = arxiv_year(arxiv)
                if rec.get("venue") == "arXiv" and year != first:
                    bad(f"an arXiv-only paper takes the year of its first version {first}, got {year}")
                if not first - 2 <= year <= first + 2:
                    bad(f"year {year} is far from the arXiv id's year {first}")
        if not arxiv and not rec.get("url"):
            bad("needs an arxiv id or a url")
        for field in ("url", "code"):
            value = rec.get(field)
            if value is not None and not (isinstance(value, str) and URL_RE.match(value)):
                bad(f"{field} must be an http(s) URL, got {value!r}")
        if rec.get("venue") not in venues:
            bad(f"venue must be one of {sorted(venues)}, got {rec.get('venue')!r}")
        rec_tags = rec.get("tags") or []
        if not isinstance(rec_tags, list) or any(t not in tags for t in rec_tags):
            bad(f"tags must be a list drawn from {sorted(tags)}, got {rec_tags!r}")
        elif len(set(rec_tags)) != len(rec_tags):
            bad(f"tags repeat: {rec_tags!r}")
        also = rec.get("also_in") or []
        if not isinstance(also, list) or any(s not in sections or s == rec.get("section") for s in also):
            bad(f"also_in must list other sections from {sections}, got {also!r}")
        note = rec.get("note")
        if note is not None and (not isinstance(note, str) or "\n" in note.strip() or len(note) > 300):
            bad("note must be one line of at most 300 characters")
        for page in rec.get("pages") or []:
            if not (isinstance(page, str) and page.endswith(".md") and (root / "docs" / page).exists()):
                bad(f"pages entries must be existing docs/ pages like 'notes/ddpm.md', got {page!r}")
        for module in rec.get("modules") or []:
            if not (isinstance(module, str) and MODULE_RE.match(module) and module_path(module, root)):
                bad(f"modules entries must be existing modules like 'difflearn.schedules', got {module!r}")

    keys = Counter(r.get("key") for r in records)
    problems += [f"duplicate key {k!r} ({n} records)" for k, n in keys.items() if k and n > 1]
    ids = Counter(r["arxiv"] for r in records if r.get("arxiv"))
    problems += [f"duplicate arXiv id {a!r} ({n} records)" for a, n in ids.items() if n > 1]
    titles = Counter(normalised_title(r["title"]) for r in records if r.get("title"))
    problems += [f"duplicate title {t!r} ({n} records)" for t, n in titles.items() if n > 1]
    return problems


def module_path(module: str, root: Path = ROOT) -> Path | None:
    """Source file of a `difflearn.x.y` module name, or None when it does not exist."""
    base = root / "src" / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


# --------------------------------------------------------------------------- presentation


def cite_label(rec: dict) -> str:
    """Author-year label: 'Hyvärinen, 2005', 'Ho & Salimans, 2022', 'Ho et al., 2020'."""
    names = [family_name(a) for a in rec["authors"]]
    if rec.get("et_al") or len(names) >= 3:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = names[0]
    return f"{who}, {rec['year']}"


def cite_labels(records: list[dict]) -> dict[str, str]:
    """key -> label, with a, b, c... appended where labels collide ('Song et al., 2021a').

    Letters follow the order of first appearance (arXiv id; records without one come last).
    """
    groups: dict[str, list[dict]] = {}
    for rec in records:
        groups.setdefault(cite_label(rec), []).append(rec)
    labels = {}
    for label, group in groups.items():
        if len(group) == 1:
            labels[group[0]["key"]] = label
            continue
        group = sorted(group, key=lambda r: (r.get("arxiv") or "~", r["key"]))
        for letter, rec in zip("abcdefghijklmnopqrstuvwxyz", group):
            labels[rec["key"]] = label + letter
    return labels


def author_list(rec: dict) -> str:
    """Authors as 'Given Family' joined for display, with 'et al.' when the list is partial."""
    shown = []
    for a in rec["authors"]:
        family, _, given = a.partition(",")
        shown.append(f"{given.strip()} {family.strip()}".strip())
    text = ", ".join(shown)
    return text + (" et al." if rec.get("et_al") else "")


def paper_url(rec: dict) -> str:
    """The paper's main link: its url if given, else its arXiv abstract page."""
    return rec.get("url") or f"https://arxiv.org/abs/{rec['arxiv']}"


_BIB_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}


def bib_escape(text: str) -> str:
    """Escape the characters BibTeX/LaTeX would misread in a field value."""
    return "".join(_BIB_ESCAPES.get(c, c) for c in text)


def to_bibtex(rec: dict, venues: dict) -> str:
    """One BibTeX entry for `rec` (UTF-8; arXiv ids as eprint fields)."""
    venue = venues[rec["venue"]]
    kind = venue["kind"]
    entry = {"conference": "inproceedings", "workshop": "inproceedings", "journal": "article",
             "book": "book"}.get(kind, "misc")
    authors = " and ".join(rec["authors"]) + (" and others" if rec.get("et_al") else "")
    fields = [("title", "{" + bib_escape(rec["title"]) + "}"), ("author", bib_escape(authors))]
    if entry == "inproceedings":
        fields.append(("booktitle", bib_escape(venue["name"])))
    elif entry == "article":
        fields.append(("journal", bib_escape(venue["name"])))
    elif entry == "book":
        fields.append(("publisher", bib_escape(venue["name"])))
    elif kind == "preprint" and rec.get("arxiv"):
        fields.append(("howpublished", f"arXiv preprint arXiv:{rec['arxiv']}"))
    else:
        fields.append(("howpublished", bib_escape(venue["name"])))
    fields.append(("year", str(rec["year"])))
    if rec.get("arxiv"):
        fields += [("eprint", rec["arxiv"]), ("archiveprefix", "arXiv")]
    fields.append(("url", paper_url(rec)))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    return f"@{entry}{{{rec['key']},\n{body},\n}}\n"


def catalog_bibtex(records: list[dict], venues: dict) -> str:
    """The whole catalog as one .bib file, sorted by key."""
    head = "% difflearn papers catalog, generated from papers/*.yaml by tools/papers.py\n\n"
    return head + "\n".join(to_bibtex(r, venues) for r in sorted(records, key=lambda r: r["key"]))


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    allowed = ("check", "bib", "key", "stats")
    if not argv or argv[0] not in allowed:
        print(f"usage: python -m tools.papers {{{'|'.join(allowed)}}} ...", file=sys.stderr)
        return 2
    cmd = argv[0]
    if cmd == "key":
        if len(argv) != 4:
            print('usage: python -m tools.papers key "Family, Given" YEAR "Title"', file=sys.stderr)
            return 2
        print(citation_key(argv[1], int(argv[2]), argv[3]))
        return 0
    taxonomy = load_taxonomy()
    records = load_records(taxonomy=taxonomy)
    problems = validate(records, taxonomy)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s) in {len(records)} records", file=sys.stderr)
        return 1
    if cmd == "check":
        print(f"ok: {len(records)} papers, keys unique, fields valid")
    elif cmd == "bib":
        sys.stdout.write(catalog_bibtex(records, taxonomy["venues"]))
    elif cmd == "stats":
        for s in taxonomy["sections"]:
            n = sum(r["section"] == s["id"] or s["id"] in (r.get("also_in") or []) for r in records)
            print(f"{s['id']:14s} {n:4d}")
        print(f"{'total':14s} {len(records):4d}")
        print(f"{'with arXiv id':14s} {sum(bool(r.get('arxiv')) for r in records):4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
