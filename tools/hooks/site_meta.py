"""Site-wide touches: the package version in the header, inline code that does not break.

The version is read from src/difflearn/__init__.py as text (no torch import), and
docs/overrides/partials/source.html shows it. Short inline code (a name, a short path)
is marked `dl-nowrap` so a phone never breaks it in the middle (`digits-` / `uncond`);
longer inline code may wrap at its slashes only. Pages made by a hook (no file under
docs/) get no edit button.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def package_version() -> str:
    m = VERSION.search((ROOT / "src" / "difflearn" / "__init__.py").read_text(encoding="utf-8"))
    return m.group(1) if m else "unknown"


def on_config(config):
    config.extra["difflearn_version"] = package_version()
    return config


NOWRAP_CHARS = 32  # inline code up to this long stays on one line
INLINE_CODE = re.compile(rf"<code>([^<]{{1,{NOWRAP_CHARS}}})</code>")
LONG_CODE = re.compile(rf"<code>([^<]{{{NOWRAP_CHARS + 1},}})</code>")


def on_page_content(content, page, config, files):
    content = INLINE_CODE.sub(r'<code class="dl-nowrap">\1</code>', content)
    # long inline code (a path): break only after a slash
    return LONG_CODE.sub(lambda m: '<code class="dl-path">' + m.group(1).replace("/", "/<wbr>")
                         + "</code>", content)


def on_page_context(context, page, config, nav):
    src = page.file.abs_src_path
    if src is None or not Path(src).exists():
        page.edit_url = None  # made by a hook: there is no file to edit
    return context
