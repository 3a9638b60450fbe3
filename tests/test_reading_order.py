"""One reading order: the nav in mkdocs.yml lists the learning path's pages in its order.

The in-page Previous/Next and Material's footer both follow the nav
(tools/hooks/reading_order.py), so this test and the build's own check keep all three
equal; the browser test checks the rendered links.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
from tools.hooks import reading_order  # noqa: E402


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_order() -> list[str]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)
    return reading_order.nav_files(config["nav"])


def test_learning_path_lists_the_chapters():
    path = reading_order.learning_path()
    assert path[0] == "notes/schedules.md"
    assert len(path) >= 25
    for page in path:  # the papers pages are made by tools/hooks/papers.py
        assert page.startswith("papers/") or (ROOT / "docs" / page).exists(), page


def test_nav_and_learning_path_agree():
    problems = reading_order.check_order(nav_order(), reading_order.learning_path())
    assert not problems, "\n".join(problems)


def test_every_chapter_is_on_the_learning_path():
    path = set(reading_order.learning_path())
    chapters = [p for p in nav_order() if p.startswith(("notes/", "math/", "samplers/", "models/",
                                                          "guides/", "demos/"))]
    missing = [p for p in chapters if p not in path and not p.endswith("/index.md")]
    assert not missing, f"chapters in the nav but not on the learning path: {missing}"


def test_a_disagreement_is_found():
    path = reading_order.learning_path()
    nav = reading_order.START + path
    swapped = nav[:3] + [nav[4], nav[3]] + nav[5:]
    assert reading_order.check_order(swapped, path)
    assert not reading_order.check_order(nav[:5] + ["samplers/index.md"] + nav[5:], path)
