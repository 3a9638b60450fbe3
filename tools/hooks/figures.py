"""Place code-made figures with their provenance: `<!-- figure: NAME -->` in a page.

The marker becomes a <figure> with the image, its alt text, the caption and a small
provenance line (script, source hash, device, torch version, seed, seconds) read from the
record that tools/figures.py wrote next to the image. An unknown name is a build error.

The caption is Markdown (math as `$...$`, code in backticks), typeset like the page. The
image links to itself for click-to-zoom (GLightbox, bundled by mkdocs-glightbox); a
figure with a portrait variant shows it on a phone (<picture>). The image carries its
smallest font and width in inches (`data-font-pt`, `data-width-in`), so the browser test
can check that the text is readable at the size the page shows it.
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


PHONE = "(max-width: 44.9375em)"  # Material's phone/tablet breakpoint


def figure_html(name: str, meta: dict, page_url: str) -> str:
    rec = meta["record"]
    base = page_url.rstrip("/") or "."  # the page's folder ("" is the home page)

    def rel(file: str) -> str:
        return html.escape(posixpath.relpath(f"assets/figures/{file}", base))

    prov = (
        f"figures/{rec['family']}.py · source {rec['hash'][:10]} · {rec['device']} · "
        f"torch {rec['torch']} · seed {rec['seed']} · {rec['seconds']:.1f} s"
        f"{' · quick mode' if rec.get('quick') else ''}"
    )
    data = ""
    if "min_font_pt" in meta:
        data = f' data-font-pt="{meta["min_font_pt"]}" data-width-in="{meta["width_in"]}"'
    source = ""
    if "portrait" in meta:
        port = meta["portrait"]
        width_in = meta["width_in"] * port["width_px"] / meta["width_px"]
        data += f' data-portrait-width-in="{width_in:.3f}"'
        source = f'<source media="{PHONE}" srcset="{rel(port["file"])}">'
    img = f'<img src="{rel(meta["file"])}" alt="{html.escape(meta["alt"])}"{data}>'
    return (
        f'<figure class="dl-figure" id="fig-{name}" markdown="block">\n'
        f'<a class="glightbox" href="{rel(meta["file"])}" data-type="image" '
        f'aria-label="Zoom in on the figure">'
        f"<picture>{source}{img}</picture></a>\n\n"
        f'<figcaption markdown="span">{meta["caption"]}\n'
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
