"""The papers catalog: load, check and export `papers/*.yaml`.

Usage (from the repository root)::

    python -m tools.papers check        # validate every record; exit 1 on a problem
    python -m tools.papers key "Ho, Jonathan" 2020 "Denoising Diffusion Probabilistic Models"
    python -m tools.papers freeze       # append the keys of new records to papers/keys.txt
    python -m tools.papers bib > difflearn.bib
    python -m tools.papers stats

The site hook `tools/hooks/papers.py` and `tests/test_papers.py` use the same
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
KEYS_FILE = "keys.txt"   # papers/keys.txt: every key ever issued, one a line (frozen)
PATHS_FILE = "paths.yaml"  # papers/paths.yaml: curated reading paths

REQUIRED = ("key", "title", "authors", "tags", "source")
OPTIONAL = ("published", "arxiv", "code", "project", "et_al", "authors_note", "key_note", "also_in",
            "see_also", "note", "pages", "modules")
PUBLISHED_FIELDS = ("venue", "year", "volume", "number", "pages", "doi", "url")
ARXIV_FIELDS = ("id", "date")
CODE_FIELDS = ("url", "official", "note")
VENUE_KINDS = ("preprint", "openreview", "report", "conference", "workshop", "journal", "book")
ARTICLES = {"a", "an", "the"}
ARXIV_RE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
KEY_RE = re.compile(r"^[a-z]+\d{4}[a-z0-9]+$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PAGES_RE = re.compile(r"^[0-9]+(?:[-–][0-9]+)?$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MODULE_RE = re.compile(r"^difflearn(\.[a-z_][a-z0-9_]*)*$")
MIN_YEAR = 1900
# A journal or proceedings version may come out a while after the first arXiv version
# (DPM-Solver++: arXiv 2022, journal 2025), rarely more than a year before it.
PUBLISHED_AFTER_ARXIV = (-1, 4)
# An arXiv id's YYMM is the month it was announced; a paper sent in on the last days of the
# previous month still gets the new month's id (Cascaded Diffusion: sent 30 May, id 2106.x).
ARXIV_DATE_SLACK_DAYS = 7


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


# --------------------------------------------------------------------------- derived fields
#
# A record keeps the published version (`published`) apart from the preprint (`arxiv`).
# Everything else reads the few derived values through these helpers.


def arxiv_id(rec: dict) -> str | None:
    """The record's arXiv id, or None."""
    arxiv = rec.get("arxiv")
    return arxiv.get("id") if isinstance(arxiv, dict) else None


def arxiv_date(rec: dict) -> str | None:
    """First-version date of the arXiv preprint as 'YYYY-MM-DD', or None."""
    arxiv = rec.get("arxiv")
    date = arxiv.get("date") if isinstance(arxiv, dict) else None
    return date.isoformat() if isinstance(date, datetime.date) else date


def year(rec: dict) -> int:
    """The year people cite: the published version's, else the first arXiv version's."""
    published = rec.get("published")
    if isinstance(published, dict) and published.get("year") is not None:
        return published["year"]
    return arxiv_year(arxiv_id(rec))


def venue(rec: dict) -> str:
    """Short venue id: the published version's, else 'arXiv'."""
    published = rec.get("published")
    if isinstance(published, dict) and published.get("venue"):
        return published["venue"]
    return "arXiv"


def code_url(rec: dict) -> str | None:
    code = rec.get("code")
    return code.get("url") if isinstance(code, dict) else None


def has_official_code(rec: dict) -> bool:
    code = rec.get("code")
    return isinstance(code, dict) and code.get("official") is True and bool(code.get("url"))


def paper_url(rec: dict) -> str:
    """The paper's main link: the published version's page if given, else its arXiv page."""
    published = rec.get("published") or {}
    return published.get("url") or f"https://arxiv.org/abs/{arxiv_id(rec)}"


def rule_keys(rec: dict) -> list[str]:
    """The keys the rule allows: first author + (published or first-arXiv year) + first title word."""
    years = []
    published = rec.get("published")
    if isinstance(published, dict) and isinstance(published.get("year"), int):
        years.append(published["year"])
    aid = arxiv_id(rec)
    if isinstance(aid, str) and ARXIV_RE.match(aid):
        years.append(arxiv_year(aid))
    out = []
    for y in years:
        key = citation_key(rec["authors"][0], y, rec["title"])
        if key not in out:
            out.append(key)
    return out


# --------------------------------------------------------------------------- loading


def load_taxonomy(papers_dir: Path = PAPERS_DIR) -> dict:
    """Sections, tag groups and venues from `papers/taxonomy.yaml`.

    Adds two derived maps: `tags` (tag id -> label, in group order) and `tag_group`
    (tag id -> group id).
    """
    with open(papers_dir / "taxonomy.yaml", encoding="utf-8") as fh:
        taxonomy = yaml.safe_load(fh)
    taxonomy["tags"], taxonomy["tag_group"] = {}, {}
    for group in taxonomy.get("tag_groups") or []:
        for tag, label in (group.get("tags") or {}).items():
            taxonomy["tags"].setdefault(tag, label)
            taxonomy["tag_group"].setdefault(tag, group.get("id"))
    return taxonomy


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


def load_frozen_keys(papers_dir: Path = PAPERS_DIR) -> list[str]:
    """The keys in papers/keys.txt (comments and blank lines skipped), in file order."""
    path = papers_dir / KEYS_FILE
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_paths(papers_dir: Path = PAPERS_DIR) -> list[dict]:
    """The reading paths of papers/paths.yaml (empty when there is no such file)."""
    path = papers_dir / PATHS_FILE
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return (yaml.safe_load(fh) or {}).get("paths") or []


def load_catalog(papers_dir: Path = PAPERS_DIR, root: Path = ROOT) -> tuple[dict, list[dict]]:
    """(taxonomy, records) after every check; raises ValueError listing every problem."""
    taxonomy = load_taxonomy(papers_dir)
    records = load_records(papers_dir, taxonomy)
    problems = check_all(papers_dir, taxonomy, records, root)
    if problems:
        raise ValueError("papers catalog has problems:\n  " + "\n  ".join(problems))
    return taxonomy, records


def check_all(papers_dir: Path, taxonomy: dict, records: list[dict], root: Path = ROOT) -> list[str]:
    """Every check of the catalog: taxonomy, records, frozen keys and reading paths."""
    frozen = load_frozen_keys(papers_dir)
    return (validate_taxonomy(taxonomy)
            + validate(records, taxonomy, root, frozen=frozen)
            + check_frozen(records, frozen)
            + check_tags_used(records, taxonomy)
            + validate_paths(load_paths(papers_dir), records, root))


# --------------------------------------------------------------------------- checks


def validate_taxonomy(taxonomy: dict) -> list[str]:
    """Problems in taxonomy.yaml itself: sections, tag groups (each tag in exactly one) and venues."""
    problems: list[str] = []
    ids = [s.get("id") for s in taxonomy.get("sections") or []]
    if not ids or len(set(ids)) != len(ids) or not all(isinstance(i, str) and SLUG_RE.match(i) for i in ids):
        problems.append(f"taxonomy: sections must have unique slug ids, got {ids!r}")
    for s in taxonomy.get("sections") or []:
        if not s.get("title") or not s.get("description"):
            problems.append(f"taxonomy: section {s.get('id')!r} needs a title and a description")
    groups = taxonomy.get("tag_groups")
    if not isinstance(groups, list) or not groups:
        return problems + ["taxonomy: tag_groups must be a non-empty list"]
    seen: dict[str, str] = {}
    for group in groups:
        gid = group.get("id") if isinstance(group, dict) else None
        if not (isinstance(gid, str) and SLUG_RE.match(gid) and group.get("title")
                and isinstance(group.get("tags"), dict) and group["tags"]):
            problems.append(f"taxonomy: each tag group needs an id, a title and tags, got {group!r}")
            continue
        for tag, label in group["tags"].items():
            if not (isinstance(tag, str) and SLUG_RE.match(tag)) or not (isinstance(label, str) and label):
                problems.append(f"taxonomy: tag {tag!r} in group {gid!r} needs a slug id and a label")
            elif tag in seen:
                problems.append(f"taxonomy: tag {tag!r} is in groups {seen[tag]!r} and {gid!r}; "
                                "a tag belongs to exactly one group")
            else:
                seen[tag] = gid
    if "kind" not in [g.get("id") for g in groups if isinstance(g, dict)]:
        problems.append("taxonomy: a tag group with id 'kind' (survey, background, crucial...) is required")
    for vid, v in (taxonomy.get("venues") or {}).items():
        if not isinstance(v, dict) or not v.get("name") or v.get("kind") not in VENUE_KINDS:
            problems.append(f"taxonomy: venue {vid!r} needs a name and a kind from {list(VENUE_KINDS)}")
        elif "since" in v and not isinstance(v["since"], int):
            problems.append(f"taxonomy: venue {vid!r}: since must be a year")
    return problems


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def validate(records: list[dict], taxonomy: dict, root: Path = ROOT,
             frozen: list[str] | None = None) -> list[str]:
    """Every problem found in `records`, as human-readable strings (empty list: all good).

    `frozen`: the keys of papers/keys.txt. A key listed there may no longer follow the key rule
    (its paper got a new venue, year or title after the key was issued) if the record says why
    in `key_note`; an unlisted key must follow the rule.
    """
    problems: list[str] = []
    frozen_set = set(frozen or ())
    sections = [s["id"] for s in taxonomy["sections"]]
    tags, venues = taxonomy["tags"], taxonomy["venues"]
    tag_group = taxonomy.get("tag_group") or {}
    this_year = datetime.date.today().year
    all_keys = {r.get("key") for r in records}
    base_keys: dict[int, list[str]] = {}
    for i, r in enumerate(records):
        try:
            base_keys[i] = rule_keys(r)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            base_keys[i] = []
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
        if any(rec.get(f) in (None, "", []) for f in ("key", "title", "authors")):
            continue

        # --- authors
        authors = rec["authors"]
        if not isinstance(authors, list) or not all(isinstance(a, str) and a.strip() for a in authors):
            bad(f"authors must be a list of 'Family, Given' strings, got {authors!r}")
            continue
        if len(set(authors)) != len(authors):
            bad("an author is listed twice")
        if not isinstance(rec.get("et_al", False), bool):
            bad(f"et_al must be true or false, got {rec['et_al']!r}")
        elif rec.get("et_al") and not rec.get("authors_note"):
            bad("et_al: true needs authors_note saying why the full author list could not be established")
        for field in ("authors_note", "key_note"):
            if field in rec and not (isinstance(rec[field], str) and rec[field].strip()):
                bad(f"{field} must be a non-empty string")

        # --- published version and arXiv preprint
        published, arxiv = rec.get("published"), rec.get("arxiv")
        pub_year = first = None
        if published is not None:
            if not isinstance(published, dict):
                bad(f"published must be a mapping with {list(PUBLISHED_FIELDS)}, got {published!r}")
                published = None
            else:
                extra = set(published) - set(PUBLISHED_FIELDS)
                if extra:
                    bad(f"published has unknown fields {sorted(extra)}; allowed: {list(PUBLISHED_FIELDS)}")
                pub_venue = published.get("venue")
                if pub_venue not in venues:
                    bad(f"venue must be one of {sorted(venues)}, got {pub_venue!r}")
                elif venues[pub_venue].get("kind") == "preprint":
                    bad("published.venue cannot be a preprint server; an arXiv-only paper has no `published`")
                pub_year = published.get("year")
                if not isinstance(pub_year, int) or isinstance(pub_year, bool) \
                        or not MIN_YEAR <= pub_year <= this_year + 1:
                    bad(f"year must be an integer in [{MIN_YEAR}, {this_year + 1}], got {pub_year!r}")
                    pub_year = None
                elif pub_venue in venues and pub_year < venues[pub_venue].get("since", MIN_YEAR):
                    bad(f"year {pub_year} is before {pub_venue} existed ({venues[pub_venue]['since']})")
                doi = published.get("doi")
                if doi is not None and not (isinstance(doi, str) and DOI_RE.match(doi)):
                    bad(f"published.doi must look like '10.1234/abc', got {doi!r}")
                pages = published.get("pages")
                if pages is not None and not (isinstance(pages, str) and PAGES_RE.match(pages)):
                    bad(f"published.pages must be a quoted page or range like '6840-6851', got {pages!r}")
                for field in ("volume", "number"):
                    value = published.get(field)
                    if value is not None and not (isinstance(value, (str, int)) and str(value).strip()):
                        bad(f"published.{field} must be a number or a short string, got {value!r}")
        if arxiv is not None:
            if not isinstance(arxiv, dict) or "id" not in arxiv:
                bad(f"arxiv must be a mapping {{id: '2006.11239', date: 2020-06-19}}, got {arxiv!r}")
            else:
                extra = set(arxiv) - set(ARXIV_FIELDS)
                if extra:
                    bad(f"arxiv has unknown fields {sorted(extra)}; allowed: {list(ARXIV_FIELDS)}")
                aid = arxiv["id"]
                m = ARXIV_RE.match(str(aid))
                # ids from January 2015 on have a 5-digit number, earlier ones 4 digits
                if (not isinstance(aid, str) or not m or not 1 <= int(m.group(2)) <= 12
                        or len(aid.split(".")[1]) != (5 if aid[:4] >= "1501" else 4)):
                    bad(f"arxiv.id must be a quoted new-style id like '2006.11239', got {aid!r}")
                else:
                    first = arxiv_year(aid)
                    if "date" in arxiv:
                        date = _date(arxiv["date"])
                        month_start = datetime.date(first, int(m.group(2)), 1)
                        next_month = datetime.date(first + (month_start.month == 12), month_start.month % 12 + 1, 1)
                        if date is None:
                            bad(f"arxiv.date must be a date like 2020-06-19, got {arxiv['date']!r}")
                        elif not (month_start - datetime.timedelta(days=ARXIV_DATE_SLACK_DAYS) <= date < next_month):
                            bad(f"arxiv.date {date} does not match the id {aid} (announced {month_start:%Y-%m})")
        if published is None and arxiv is None:
            bad("needs `published` (venue, year) or `arxiv` (id), or both")
        if pub_year is not None and first is not None:
            lo, hi = PUBLISHED_AFTER_ARXIV
            if not first + lo <= pub_year <= first + hi:
                bad(f"published year {pub_year} is inconsistent with the arXiv id's year {first}")
        if not (isinstance(published, dict) and published.get("url")) and first is None:
            bad("needs an arXiv id or a published.url for its link")

        # --- links
        for field, value in (("published.url", (published or {}).get("url")), ("project", rec.get("project"))):
            if value is not None and not (isinstance(value, str) and URL_RE.match(value)):
                bad(f"{field} must be an http(s) URL, got {value!r}")
        code = rec.get("code")
        if code is not None:
            if not isinstance(code, dict):
                bad(f"code must be a mapping {{url: ..., official: true|false}}, got {code!r}")
            else:
                extra = set(code) - set(CODE_FIELDS)
                if extra:
                    bad(f"code has unknown fields {sorted(extra)}; allowed: {list(CODE_FIELDS)}")
                if not (isinstance(code.get("url"), str) and URL_RE.match(code["url"])):
                    bad(f"code.url must be an http(s) URL, got {code.get('url')!r}")
                if not isinstance(code.get("official"), bool):
                    bad("code.official must be true (the authors' code) or false (someone else's)")
                elif not code["official"] and not code.get("note"):
                    bad("code with official: false needs a note saying whose code it is")
        source = rec.get("source")
        if source is not None and not (isinstance(source, list) and source
                                       and all(isinstance(s, str) and s.strip() for s in source)):
            bad("source must be a non-empty list of URLs or short notes saying where the facts come from")

        # --- key rule (after the fields it depends on)
        key = rec["key"]
        expected = base_keys.get(i) or []
        if not KEY_RE.match(str(key)):
            bad(f"key must be lower-case ASCII family+year+word, got {key!r}")
        elif expected and key not in expected:
            prefix = next((e for e in expected if key.startswith(e)), None)
            if prefix is not None:
                # A suffix is only allowed to break a collision with another record's base key.
                if not any(prefix in base_keys.get(j, []) for j in range(len(records)) if j != i):
                    bad(f"key {key!r} has a suffix but {prefix!r} collides with no other record; "
                        f"use {prefix!r}")
                elif "key_note" in rec:
                    bad("key_note is only for frozen keys that no longer follow the rule")
            elif key in frozen_set and rec.get("key_note"):
                pass  # frozen when issued; the record says what changed since
            elif key in frozen_set:
                bad(f"frozen key {key!r} no longer follows the rule (now {expected[0]!r}); keep the key "
                    "and say in key_note what changed (new title, venue or first author)")
            else:
                bad(f"key must follow the rule (first author + year + first title word), "
                    f"expected one of {expected!r}")
        elif expected and "key_note" in rec:
            bad("key_note is only for frozen keys that no longer follow the rule")

        # --- tags, sections, cross-links
        rec_tags = rec.get("tags") or []
        if not isinstance(rec_tags, list) or any(t not in tags for t in rec_tags):
            bad(f"tags must be a list drawn from {sorted(tags)}, got {rec_tags!r}")
        elif len(set(rec_tags)) != len(rec_tags):
            bad(f"tags repeat: {rec_tags!r}")
        elif not (set(rec_tags) & {"survey", "background"}) and \
                all(tag_group.get(t) == "kind" for t in rec_tags):
            bad("tags need at least one method or application tag (not only 'kind' tags such as crucial)")
        also = rec.get("also_in") or []
        if not isinstance(also, list) or any(s not in sections or s == rec.get("section") for s in also):
            bad(f"also_in must list other sections from {sections}, got {also!r}")
        see_also = rec.get("see_also") or []
        if not isinstance(see_also, list) or any(k not in all_keys or k == key for k in see_also):
            bad(f"see_also must list keys of other records, got {see_also!r}")
        else:
            for other in see_also:
                back = next(r for r in records if r.get("key") == other).get("see_also") or []
                if key not in back:
                    bad(f"see_also: {other!r} must list {key!r} back")
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
    ids = Counter(arxiv_id(r) for r in records if arxiv_id(r))
    problems += [f"duplicate arXiv id {a!r} ({n} records)" for a, n in ids.items() if n > 1]
    dois = Counter(str((r.get("published") or {}).get("doi")).lower() for r in records
                   if isinstance(r.get("published"), dict) and r["published"].get("doi"))
    problems += [f"duplicate DOI {d!r} ({n} records)" for d, n in dois.items() if n > 1]
    titles = Counter(normalised_title(r["title"]) for r in records if isinstance(r.get("title"), str))
    problems += [f"duplicate title {t!r} ({n} records)" for t, n in titles.items() if n > 1]
    return problems


def check_tags_used(records: list[dict], taxonomy: dict) -> list[str]:
    """Every tag of the taxonomy is used by some record (an unused tag is a stale filter option)."""
    used = {t for r in records if isinstance(r.get("tags"), list) for t in r["tags"]}
    return [f"taxonomy: tag {t!r} is used by no record; drop it" for t in taxonomy["tags"] if t not in used]


def check_frozen(records: list[dict], frozen: list[str]) -> list[str]:
    """Keys are frozen: every key of papers/keys.txt must still exist, and every record's key
    must be listed there (run `python -m tools.papers freeze` after adding a paper)."""
    problems = []
    keys = {r.get("key") for r in records}
    dup = [k for k, n in Counter(frozen).items() if n > 1]
    problems += [f"keys.txt: {k!r} is listed twice" for k in dup]
    problems += [f"keys.txt: frozen key {k!r} has no record; keys are never removed or renamed "
                 "(a renamed paper keeps its key)" for k in frozen if k not in keys]
    problems += [f"key {k!r} is not in papers/keys.txt; run `python -m tools.papers freeze` to add it"
                 for k in sorted(k for k in keys if k and k not in set(frozen))]
    return problems


def validate_paths(paths: list[dict], records: list[dict], root: Path = ROOT) -> list[str]:
    """Problems in papers/paths.yaml: ids, titles, and that every step names an existing paper
    (and, where given, existing docs/ chapters)."""
    problems: list[str] = []
    keys = {r.get("key") for r in records}
    ids = [p.get("id") for p in paths if isinstance(p, dict)]
    for pid in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"paths.yaml: id {pid!r} is used twice")
    for n, path in enumerate(paths):
        where = f"paths.yaml #{n} ({path.get('id', '?') if isinstance(path, dict) else '?'})"
        if not isinstance(path, dict):
            problems.append(f"{where}: each path must be a mapping")
            continue
        unknown = set(path) - {"id", "title", "description", "steps"}
        if unknown:
            problems.append(f"{where}: unknown fields {sorted(unknown)}")
        if not (isinstance(path.get("id"), str) and SLUG_RE.match(path["id"])):
            problems.append(f"{where}: id must be a slug like 'fast-sampling'")
        if not path.get("title") or not path.get("description"):
            problems.append(f"{where}: needs a title and a description")
        steps = path.get("steps")
        if not isinstance(steps, list) or len(steps) < 3:
            problems.append(f"{where}: needs a list of at least 3 steps")
            continue
        seen = set()
        for m, step in enumerate(steps):
            at = f"{where} step {m + 1}"
            if not isinstance(step, dict) or set(step) - {"key", "why", "chapters"}:
                problems.append(f"{at}: a step is {{key, why, chapters}}, got {step!r}")
                continue
            if step.get("key") not in keys:
                problems.append(f"{at}: no paper with key {step.get('key')!r}")
            elif step["key"] in seen:
                problems.append(f"{at}: {step['key']!r} is already on this path")
            seen.add(step.get("key"))
            why = step.get("why")
            if not (isinstance(why, str) and why.strip() and "\n" not in why.strip() and len(why) <= 300):
                problems.append(f"{at}: why must be one line of at most 300 characters")
            for page in step.get("chapters") or []:
                if not (isinstance(page, str) and page.endswith(".md") and (root / "docs" / page).exists()):
                    problems.append(f"{at}: chapters must be existing docs/ pages like 'notes/ddpm.md', "
                                    f"got {page!r}")
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
    return f"{who}, {year(rec)}"


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
        group = sorted(group, key=lambda r: (arxiv_id(r) or "~", r["key"]))
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


def venue_line(rec: dict, venues: dict) -> str:
    """'NeurIPS 2020, vol. 33, pp. 6840-6851' style summary of the published version."""
    published = rec.get("published")
    if not isinstance(published, dict):
        return f"arXiv {year(rec)}"
    parts = [f"{published['venue']} {published['year']}"]
    if published.get("volume") is not None:
        vol = f"vol. {published['volume']}"
        if published.get("number") is not None:
            vol += f"({published['number']})"
        parts.append(vol)
    if published.get("pages"):
        pages = str(published["pages"])
        parts.append(("pp. " if re.search(r"[-–]", pages) else "art. ") + pages)
    return ", ".join(parts)


_BIB_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}


def bib_escape(text: str) -> str:
    """Escape the characters BibTeX/LaTeX would misread in a field value."""
    return "".join(_BIB_ESCAPES.get(c, c) for c in text)


def to_bibtex(rec: dict, venues: dict) -> str:
    """One BibTeX entry for `rec` (UTF-8; arXiv ids as eprint fields)."""
    vid = venue(rec)
    info = venues[vid]
    kind = info["kind"]
    entry = {"conference": "inproceedings", "workshop": "inproceedings", "journal": "article",
             "book": "book"}.get(kind, "misc")
    authors = " and ".join(rec["authors"]) + (" and others" if rec.get("et_al") else "")
    fields = [("title", "{" + bib_escape(rec["title"]) + "}"), ("author", bib_escape(authors))]
    if entry == "inproceedings":
        fields.append(("booktitle", bib_escape(info["name"])))
    elif entry == "article":
        fields.append(("journal", bib_escape(info["name"])))
    elif entry == "book":
        fields.append(("publisher", bib_escape(info["name"])))
    elif kind == "preprint" and arxiv_id(rec):
        fields.append(("howpublished", f"arXiv preprint arXiv:{arxiv_id(rec)}"))
    else:
        fields.append(("howpublished", bib_escape(info["name"])))
    published = rec.get("published") if isinstance(rec.get("published"), dict) else {}
    for name in ("volume", "number"):
        if published.get(name) is not None:
            fields.append((name, bib_escape(str(published[name]))))
    if published.get("pages"):
        fields.append(("pages", str(published["pages"]).replace("–", "-").replace("-", "--")))
    fields.append(("year", str(year(rec))))
    if published.get("doi"):
        fields.append(("doi", bib_escape(published["doi"])))
    if arxiv_id(rec):
        fields += [("eprint", arxiv_id(rec)), ("archiveprefix", "arXiv")]
    fields.append(("url", paper_url(rec)))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    return f"@{entry}{{{rec['key']},\n{body},\n}}\n"


def catalog_bibtex(records: list[dict], venues: dict) -> str:
    """The whole catalog as one .bib file, sorted by key."""
    head = "% difflearn papers catalog, generated from papers/*.yaml by tools/papers.py\n\n"
    return head + "\n".join(to_bibtex(r, venues) for r in sorted(records, key=lambda r: r["key"]))


def freeze(papers_dir: Path = PAPERS_DIR, records: list[dict] | None = None) -> list[str]:
    """Append the keys of new records to papers/keys.txt (never removes one); returns those added."""
    records = records if records is not None else load_records(papers_dir)
    frozen = load_frozen_keys(papers_dir)
    new = [r["key"] for r in records if r.get("key") and r["key"] not in set(frozen)]
    if new:
        path = papers_dir / KEYS_FILE
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_text(text + "".join(f"{k}\n" for k in new), encoding="utf-8")
    return new


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    allowed = ("check", "bib", "key", "stats", "freeze")
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
    if cmd == "freeze":
        # Only a record that passes every other check may get its key frozen.
        problems = [p for p in check_all(PAPERS_DIR, taxonomy, records)
                    if "not in papers/keys.txt" not in p]
        if problems:
            print("\n".join(problems), file=sys.stderr)
            print(f"{len(problems)} problem(s); fix them before freezing new keys", file=sys.stderr)
            return 1
        added = freeze(PAPERS_DIR, records)
        print(f"added {len(added)} key(s) to papers/{KEYS_FILE}" + (": " + ", ".join(added) if added else ""))
        return 0
    problems = check_all(PAPERS_DIR, taxonomy, records)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s) in {len(records)} records", file=sys.stderr)
        return 1
    if cmd == "check":
        paths = load_paths()
        print(f"ok: {len(records)} papers, keys unique and frozen, fields valid, "
              f"{len(paths)} reading paths")
    elif cmd == "bib":
        sys.stdout.write(catalog_bibtex(records, taxonomy["venues"]))
    elif cmd == "stats":
        for s in taxonomy["sections"]:
            n = sum(r["section"] == s["id"] or s["id"] in (r.get("also_in") or []) for r in records)
            print(f"{s['id']:14s} {n:4d}")
        print(f"{'total':14s} {len(records):4d}")
        print(f"{'with arXiv id':14s} {sum(bool(arxiv_id(r)) for r in records):4d}")
        print(f"{'published':14s} {sum(isinstance(r.get('published'), dict) for r in records):4d}")
        print(f"{'official code':14s} {sum(has_official_code(r) for r in records):4d}")
        print(f"{'partial authors':14s} {sum(bool(r.get('et_al')) for r in records):4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
