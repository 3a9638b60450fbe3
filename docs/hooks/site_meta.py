"""The package version in the header (docs/overrides/partials/source.html shows it).

Read from src/difflearn/__init__.py as text, so the build does not import torch for it.
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
