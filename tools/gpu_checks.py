"""Checks that only mean something on a GPU; run them in one go when a GPU session has one.

    python -m tools.gpu_checks sync        # no host-device synchronisation inside any sampler loop

`sync` samples with the shipped `toy2d-mlp` model on CUDA under
`torch.cuda.set_sync_debug_mode("warn")` and counts the synchronisations each sampler
makes at 5 and at 20 steps. A sampler that synchronises once per step (an `.item()`, a
`bool(tensor)`, a Python `if` on a tensor) makes more at 20 steps than at 5; one that only
checks its result after the loop makes the same number. Exit status 1 if any sampler's
count grows with the step count. On a machine without CUDA it runs on the CPU, where
nothing synchronises, as a smoke test of the script itself.

The UNet benchmark and the figures have their own commands (see README, "On a GPU").
"""

from __future__ import annotations

import argparse
import sys
import warnings

import torch

from difflearn import METHODS, DPM_Solver, model_wrapper, sample
from difflearn.pretrained import load

STOCHASTIC = {"ddpm", "euler_maruyama", "pc", "sde_dpmpp_2m", "sde_dpmpp_3m", "dpm2_ancestral", "dpmpp_2s_ancestral",
              "dpmpp_2s_sde"}


def count_syncs(fn, steps: int, device: str) -> int:
    """Synchronisations made by `fn(steps)` (0 on the CPU)."""
    if device != "cuda":
        fn(steps)
        return 0
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn(steps)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def runs(model_fn, ns, x, device):
    """(label, steps -> callable) for every sampler of the zoo and the DPM_Solver methods."""
    for name in METHODS:
        kw = {"generator": torch.Generator(device=device).manual_seed(0)} if name in STOCHASTIC else {}
        yield name, lambda n, name=name, kw=kw: sample(model_fn, x, ns, name, steps=n, **kw)
    for alg in ("dpmsolver", "dpmsolver++"):
        for method, order in (("multistep", 3), ("singlestep", 3)):
            solver = DPM_Solver(model_fn, ns, algorithm_type=alg)
            yield (f"DPM_Solver({alg}).sample(method={method}, order={order})",
                   lambda n, s=solver, m=method, o=order: s.sample(x, steps=max(n, o), order=o, method=m,
                                                                   skip_type="logSNR"))


def check_sync(device: str, batch: int = 4096) -> int:
    model, ns, _ = load("toy2d-mlp", device=device)
    model_fn = model_wrapper(model.eval(), ns)
    x = torch.randn(batch, 2, device=device, generator=torch.Generator(device=device).manual_seed(0))
    bad = 0
    print(f"device: {torch.cuda.get_device_name() if device == 'cuda' else 'CPU (smoke test only)'}")
    print(f"{'sampler':<60} {'syncs @5':>9} {'syncs @20':>10}")
    with torch.no_grad():
        for label, fn in runs(model_fn, ns, x, device):
            fn(5)  # warm-up: first-call allocations and kernel loading
            a, b = count_syncs(fn, 5, device), count_syncs(fn, 20, device)
            flag = "" if b <= a else "  <- synchronises inside the loop"
            bad += b > a
            print(f"{label:<60} {a:>9} {b:>10}{flag}")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("check", choices=["sync"])
    a = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return {"sync": check_sync}[a.check](device)


if __name__ == "__main__":
    sys.exit(main())
