"""Markdown tables of docs/modern/results/latent-experiments.json (written by
`python -m tools.latent_experiments`; `python -m tools.latent_tables` rewrites them alone).

Pages embed the fragments with `--8<--`: unet-vs-dit.md, vp-vs-flow.md, guidance.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from difflearn.training.checkpoints import write_atomic

OUT = Path(__file__).resolve().parents[1] / "docs" / "modern" / "results"
NAMES = {"unet-vp": "UNet, VP ε", "unet-flow": "UNet, rectified flow", "dit-vp": "DiT, VP ε",
         "dit-flow": "DiT, rectified flow", "mmdit-flow": "MMDiT, rectified flow",
         "dit-vp-unscaled": "DiT, VP ε, unscaled latents"}


def _write(path: Path, text: str) -> None:
    write_atomic(path, text.encode())


def _at(rows: list, nfe: int) -> dict:
    return next((r for r in rows if r["nfe"] == nfe), rows[-1])


def kid(value: float) -> str:
    """A glyph KID as shown in the tables: times 1000, one decimal."""
    return f"{1000 * value:.1f}"


def footer(record: dict) -> str:
    m = record["machine"]
    ref = record["reference"]
    real = f"real vs real {kid(ref['real_vs_real_kid'])}, " if ref.get("real_vs_real_kid") is not None else ""
    return (f"\n*{record['n']} samples per cell, for the complete captions of the first {record['n']} test images, "
            f"guidance scale 3 unless stated. Glyph KID x 1000 (unbiased; between two sets of real images its "
            f"standard deviation is about 2 at 1,000 images and 5 at 500): {real}autoencoder reconstructions vs real "
            f"{kid(ref['reconstructed_vs_real_kid'])}. The glyph FIDs are in latent-experiments.json; at this size "
            f"they are mostly their own bias. The reader gets all five attributes of real images right "
            f"{ref['real_accuracy']['all']:.3f} of the time, of reconstructions {ref['reconstructed_accuracy']['all']:.3f}. "
            f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['threads']} thread; {m['note']}; "
            f"commit {m['commit']}, {m['date']}.*\n")


def _main_grid(record: dict) -> dict:
    return {k: v for k, v in record["grid"].items() if "unscaled" not in k}


def unet_vs_dit(record: dict, nfe: int = 16) -> str:
    grid = _main_grid(record)
    lines = ["| backbone, objective | denoiser params | MFLOP / forward | CPU s / guided step (500 images) "
             "| training CPU time | final loss | glyph KID x 1000 | caption accuracy (all five) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in grid.items():
        label = "DPM-Solver++(2M)" if r["objective"] == "vp" else "Euler"
        q = _at(r["quality"][label], nfe)
        cpu = f"{r['cpu_time_s'] / 60:.1f} min" if r.get("cpu_time_s") else "-"
        lines.append(f"| {NAMES.get(name, name)} | {r['params']:,} | {r['mflops_per_forward']} | "
                     f"{r['cpu_s_per_step_500_guided']} | {cpu} ({r['steps']} steps) | {r['final_loss']} | "
                     f"{kid(q['kid'])} | {q['caption_all']:.3f} |")
    return ("\n".join(lines) + f"\n\n*Samples: DPM-Solver++(2M) for the VP models and Euler for the flows, "
            f"{nfe} model evaluations (each one guided call on the conditional and the empty caption). "
            "The final loss is the mean training loss of the last 100 steps; it compares backbones under "
            "one objective only (the two objectives regress different targets).*\n" + footer(record))


def vp_vs_flow(record: dict, names=None) -> str:
    grid = _main_grid(record) if names is None else {k: record["grid"][k] for k in names}
    nfes = sorted({row["nfe"] for r in grid.values() for rows in r["quality"].values() for row in rows})
    lines = ["| model | sampler | " + " | ".join(f"NFE {n}" for n in nfes) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in nfes) + " |"]
    for name, r in grid.items():
        for label, rows in r["quality"].items():
            cells = {row["nfe"]: f"{kid(row['kid'])} / {row['caption_all']:.2f}" for row in rows}
            lines.append(f"| {NAMES.get(name, name)} | {label} | " + " | ".join(cells.get(n, "") for n in nfes) + " |")
    return ("\n".join(lines) + "\n\n*Each cell: glyph KID x 1000 / caption accuracy (all five attributes). NFE counts "
            "guided model calls; Heun spends two per step.*\n" + footer(record))


def guidance(record: dict) -> str:
    lines = ["| model | scale | glyph KID x 1000 | glyph | colour | size | rotation | background | all five |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, g in record["guidance"].items():
        for row in g["rows"]:
            a = row["accuracy"]
            lines.append(f"| {NAMES.get(name, name)} | {row['scale']:g} | {kid(row['kid'])} | "
                         f"{a['glyph']:.3f} | {a['colour']:.3f} | {a['size']:.3f} | {a['rotation']:.3f} | "
                         f"{a['background']:.3f} | {a['all']:.3f} |")
    chance = "chance: glyph 0.1, colour 0.167, size 0.5, rotation 0.333, background 0.5, all five 1/720 = 0.0014"
    samplers = "; ".join(f"{NAMES.get(name, name)}: {g['sampler']}" for name, g in record["guidance"].items())
    return ("\n".join(lines) + f"\n\n*Scale 0 is the unconditional model (the empty caption), 1 the plain "
            f"conditional model. Samplers: {samplers}. {chance}.*\n" + footer(record))


def write_tables(record: dict, out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if "grid" in record:
        _write(out / "unet-vs-dit.md", unet_vs_dit(record))
        _write(out / "vp-vs-flow.md", vp_vs_flow(record))
        pair = [k for k in ("dit-vp", "dit-vp-unscaled") if k in record["grid"]]
        if len(pair) == 2:
            _write(out / "scaling.md", vp_vs_flow(record, pair))
    if "guidance" in record:
        _write(out / "guidance.md", guidance(record))


if __name__ == "__main__":
    write_tables(json.loads((OUT / "latent-experiments.json").read_text()))
