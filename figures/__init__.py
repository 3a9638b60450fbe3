"""Figure scripts of the site: one module per figure family (see tools/figures.py)."""
