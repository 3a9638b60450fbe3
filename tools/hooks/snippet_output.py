"""Show what each snippet printed when the tests ran it, and what it needs installed.

A page embeds a whole snippet as a fenced block whose only line is
`--8<-- "snippets/<dir>/<name>.py"`. Under that block this hook adds a collapsible
"Output" block with the snippet's stdout, read from
docs/assets/snippet-output/<dir>/<name>.txt. tests/test_snippets.py writes those files
(`UPDATE_SNIPPET_OUTPUTS=1`) and fails when one no longer matches what the snippet
prints, so the output on the page is always the output of the code above it. Above a
snippet that imports diffusers, it adds a note naming the optional extra to install.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = ROOT / "docs" / "assets" / "snippet-output"
OPEN_LINES = 12  # outputs up to this long are shown open, longer ones collapsed
EMBED = re.compile(
    r'^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})python[^\n]*\n'
    r'(?P=indent)--8<-- "(?P<path>snippets/[^"]+\.py)"\n'
    r'(?P=indent)(?P=fence)[ \t]*$',
    re.M,
)
NEEDS_DIFFUSERS = re.compile(r"^\s*(?:from|import)\s+diffusers\b", re.M)
EXTRA_NOTE = (
    '!!! note "This snippet needs diffusers"\n'
    "    Install the package with its optional extra first:\n"
    "    `pip install \"difflearn[diffusers] @ git+https://github.com/difflearn/difflearn\"`.\n"
)


def output_path(snippet: str) -> Path:
    """Where the captured stdout of `snippets/<dir>/<name>.py` is kept."""
    rel = Path(snippet).relative_to("snippets").with_suffix(".txt")
    return OUTPUT_DIR / rel


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def _output_block(snippet: str, indent: str) -> str:
    path = output_path(snippet)
    if not path.exists():
        return ""
    out = path.read_text(encoding="utf-8").rstrip()
    if not out:
        return ""
    kind = "???+" if out.count("\n") < OPEN_LINES else "???"
    fence = "```"
    while fence in out:
        fence += "`"
    block = (f'{kind} success "Output (printed when the tests ran it)"\n'
             + _indent(f"{fence}text\n{out}\n{fence}\n", "    "))
    return "\n\n" + _indent(block, indent)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if '--8<-- "snippets/' not in markdown:
        return markdown

    def replace(m: re.Match) -> str:
        snippet, indent = m.group("path"), m.group("indent")
        before = ""
        src = ROOT / snippet
        if src.exists() and NEEDS_DIFFUSERS.search(src.read_text(encoding="utf-8")):
            before = _indent(EXTRA_NOTE, indent) + "\n"
        return before + m.group(0) + _output_block(snippet, indent) + "\n"

    return EMBED.sub(replace, markdown)
