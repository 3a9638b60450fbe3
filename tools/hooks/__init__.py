"""The MkDocs build hooks of the site (listed under `hooks:` in mkdocs.yml).

They live in the `tools` package so that tests import them like any module; mkdocs loads
them by path. Build from the repository root (`make serve`, `python -m mkdocs build`).
"""
