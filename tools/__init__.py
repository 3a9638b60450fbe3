"""Maintenance tools of the repository (run from its root as `python -m tools.<name>`).

The site's build hooks in tools/hooks import these modules normally, so the site is
built with `python -m mkdocs` from the repository root (`make serve` / `make build`).
"""
