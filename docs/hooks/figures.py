"""Place code-made figures with their provenance: `<!-- figure: NAME -->` in a page.

The marker becomes a <figure> with the image, its alt text, the caption and a small
provenance line (device, torch version, commit, seed, seconds) read from the record
that tools/figures.py wrote next to the image. An unknown name is a build error.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.figures")
ROOT = Path(__file__).resolve().parents[2]
FIG_DIR = ROOT / "docs" / "assets" / "figures"
MARKER = re.compile(r"<!--\s*figure:\s*([a-z][-_0-9a-z]*)\s*-->")


def load_records() -> dict[str, dict]:
    out = {}
    for path in sorted(FIG_DIR.glob("*.json")):
        rec = json.loads(path.read_text())
        for name, meta in rec["figures"].items():
            out[name] = {**meta, "record": rec}
    return out


def figure_html(name: str, meta: dict, page_url: str) -> str:
    rec = meta["record"]
    src = posixpath.relpath(f"assets/figures/{meta['file']}", posixpath.dirname(page_url.rstrip("/") + "/x") or ".")
    prov = (
        f"figures/{rec['family']}.py · {rec['device']} · torch {rec['torch']} · commit {rec['commit']} · "
        f"seed {rec['seed']} · {rec['seconds']:.1f} s{' · quick mode' if rec.get('quick') else ''}"
    )
    return (
        f'<figure class="dl-figure" id="fig-{name}">\n'
        f'<img src="{html.escape(src)}" alt="{html.escape(meta["alt"])}">\n'
        f'<figcaption>{html.escape(meta["caption"])}'
        f'<span class="dl-provenance">{html.escape(prov)}</span></figcaption>\n</figure>'
    )


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "figure:" not in markdown:
        return markdown
    records = load_records()

    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name not in records:
            log.warning("%s: unknown figure %r (render it with `python tools/figures.py`)", page.file.src_uri, name)
            return m.group(0)
        return figure_html(name, records[name], page.url)

    return MARKER.sub(replace, markdown)
