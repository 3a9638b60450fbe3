r"""Optimised time grids: where a given sampler should put its N steps for a given
model.

`optimise_grid` works in three stages, on a batch of calibration noises $x_T$:

1. a reference solve (`reference_trajectory`) gives the states $x^\star_k$ at $M + 1$
   candidate times, uniform in $\lambda$;
2. dynamic programming over the candidates picks the N-step path of least summed cost
   (`shortest_path`): the local DDIM error from the reference states
   (`init='gits'`, Chen et al., 2024) or AYS's KL bound on data (`init='ays'`,
   Sabour et al., 2024);
3. `refine` moves the interior points (Powell's method) to minimise the *global*
   error of the actual sampler,
   $\mathcal E = \operatorname{mean}_b\lVert \Phi(x_T^{(b)}) - x^\star_M{}^{(b)}\rVert$,
   where $\Phi$ is the sampler on the grid.

Stage 2 costs $M + 1$ model calls on the batch; stage 3 up to `maxfev` sampler runs. The
grid must generalise: measure it on noises other than the calibration ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.optimize import minimize

from ..schedules.grids import SKIP_TYPES, time_steps
from .grid_costs import (
    Reference,
    calibrate,
    klub_costs,
    local_error_costs,
    shortest_path,
)
from .registry import METHODS, default_t_end

INITS = ("gits", "ays", *SKIP_TYPES)
STATISTICS = ("mean", "median", "geometric")


@dataclass
class OptimisedGrid:
    """The result of `optimise_grid`: `timesteps` (N + 1,) float64, decreasing, their
    half log-SNRs `lam`, the calibration error after each stage (`errors`) and how it
    was computed (`how`).
    """

    timesteps: torch.Tensor
    lam: np.ndarray
    errors: dict = field(default_factory=dict)
    how: dict = field(default_factory=dict)


# --8<-- [start:global_error]
def global_error(
    model_fn, x_T, noise_schedule, x_ref, method, timesteps, statistic="mean", **kw
):
    r"""$\mathcal E$ = the mean (or `statistic`: `'median'`, `'geometric'` mean) over
    the batch of $\lVert\Phi(x_T) - x_\text{ref}\rVert$ for `method` on `timesteps`
    (inf if the sampler fails or diverges).
    """
    with torch.no_grad():
        try:
            out = METHODS[method].fn(model_fn, x_T, noise_schedule, timesteps, **kw)
        except (ValueError, FloatingPointError):
            return float("inf")
    e = (out - x_ref).flatten(1).norm(dim=1).double()  # (B,)
    if statistic == "median":
        err = e.median().item()
    elif statistic == "geometric":
        err = e.clamp_min(1e-300).log().mean().exp().item()
    else:
        err = e.mean().item()
    return err if np.isfinite(err) else float("inf")


# --8<-- [end:global_error]


def _times(noise_schedule, lam: np.ndarray, t_start: float, t_end: float):
    t = noise_schedule.inverse_lambda(torch.as_tensor(lam, dtype=torch.float64))
    t = t.clone()
    t[0], t[-1] = t_start, t_end
    return t


# --8<-- [start:refine]
def refine(objective, lam: np.ndarray, maxfev: int = 400, xtol: float = 1e-4):
    r"""Minimise `objective(lam)` over the interior points, end points fixed, with
    Powell's method (derivative-free, conjugate directions).

    The grid is parametrised by its steps, $\lambda_i = \lambda_0 + (\lambda_N -
    \lambda_0)\sum_{k \le i} \operatorname{softmax}(w)_k$ with $w_N = 0$, so every
    $w \in \mathbb R^{N-1}$ is a valid increasing grid. At most `maxfev` evaluations.
    Returns the new `lam` and its objective.
    """
    lam = np.asarray(lam, dtype=np.float64)
    if len(lam) < 3:
        return lam, objective(lam)
    span, d = lam[-1] - lam[0], np.diff(lam)

    def lam_of(w):
        e = np.exp(np.append(w, 0.0) - max(w.max(), 0.0))
        return np.concatenate([lam[:1], lam[0] + span * np.cumsum(e / e.sum())])

    w0 = np.log(d[:-1] / d[-1])
    r = minimize(
        lambda w: objective(lam_of(w)),
        w0,
        method="Powell",
        options={"xtol": xtol, "ftol": 1e-10, "maxfev": maxfev},
    )
    best = objective(lam)
    return (lam_of(r.x), float(r.fun)) if r.fun < best else (lam, best)


# --8<-- [end:refine]


def _check(method, steps, inits, x0, reference, statistic):
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    if not inits or any(i not in INITS for i in inits):
        raise ValueError(f"init must hold names from {INITS}, got {inits!r}")
    if reference is not None and reference.cand.lam.size <= steps:
        raise ValueError(
            f"steps must be smaller than the reference's {reference.cand.lam.size - 1} "
            f"candidate steps, got {steps!r}"
        )
    if "ays" in inits and x0 is None:
        raise ValueError(
            "init 'ays' needs data samples x0 (its bound is an expectation over "
            "data), got x0=None"
        )


def _start(name, steps, ref: Reference, noise_schedule, model_fn, x0, seed):
    """The half log-SNRs of one starting grid."""
    cand = ref.cand
    if name == "gits":
        C = local_error_costs(cand, ref.states, ref.x0_preds)
        return cand.lam[shortest_path(C, steps)]
    if name == "ays":
        gen = torch.Generator().manual_seed(seed)
        return cand.lam[shortest_path(klub_costs(model_fn, x0, cand, gen), steps)]
    t_start, t_end = float(cand.t[0]), float(cand.t[-1])
    ts = time_steps(noise_schedule, name, t_start, t_end, steps, dtype=torch.float64)
    lam = noise_schedule.marginals(ts).lam
    lam[0], lam[-1] = cand.lam[0], cand.lam[-1]
    return lam


# --8<-- [start:optimise_grid]
def optimise_grid(
    model_fn,
    x_T,
    noise_schedule,
    method: str = "unipc",
    steps: int = 10,
    t_start: float | None = None,
    t_end: float | None = None,
    init=("gits", *SKIP_TYPES),
    starts: int = 1,
    maxfev: int = 400,
    statistic: str = "mean",
    reference: Reference | None = None,
    x0=None,
    seed: int = 0,
    **sampler_kwargs,
) -> OptimisedGrid:
    r"""The `steps`-step grid for `method` (any name of `METHODS`, with
    `sampler_kwargs`) that minimises its global error on the calibration noises
    `x_T` (B, ...).

    - `init`: the starting grids, names from `'gits'` (DP on local DDIM errors),
      `'ays'` (DP on the KL bound; needs data samples `x0` (B', ...) and `seed` for
      the forward noise) and the fixed grids of `time_steps`. Each is scored by its
      global error; the best `starts` of them are refined and the best result kept.
    - `maxfev`: evaluations of the global error per refined start (`refine`; 0: keep
      the best starting grid); `statistic`: how the per-sample errors are summarised,
      `'mean'`, or the outlier-robust `'median'` or `'geometric'` mean.
    - `reference`: a `calibrate(...)` result for these `x_T` to reuse (default: 64
      candidates, 8 reference steps between two).

    `steps` counts grid steps: the model calls are `steps` for the one-call-per-step
    samplers (DDIM, DPM-Solver multistep, UniPC, DEIS, iPNDM, LMS), twice that for
    Heun.
    """
    inits = (init,) if isinstance(init, str) else tuple(init)
    _check(method, steps, inits, x0, reference, statistic)
    clock, cpu = time.perf_counter(), time.process_time()
    if reference is None:
        t_start = noise_schedule.T if t_start is None else float(t_start)
        t_end = default_t_end(noise_schedule) if t_end is None else float(t_end)
        reference = calibrate(
            model_fn, x_T, noise_schedule, t_start, t_end, max(64, steps + 1)
        )
    elif reference.x_T is not x_T:
        raise ValueError("reference was computed for other noises than x_T")
    t_start, t_end = float(reference.cand.t[0]), float(reference.cand.t[-1])

    def objective(lam):
        ts = _times(noise_schedule, lam, t_start, t_end)
        return global_error(
            model_fn,
            x_T,
            noise_schedule,
            reference.x_end,
            method,
            ts,
            statistic,
            **sampler_kwargs,
        )

    lams = {
        name: _start(name, steps, reference, noise_schedule, model_fn, x0, seed)
        for name in inits
    }
    errors = {name: objective(lam) for name, lam in lams.items()}
    best_name = min(errors, key=errors.get)
    lam, best = lams[best_name], errors[best_name]
    if maxfev and steps > 1:
        for name in sorted(errors, key=errors.get)[:starts]:
            lam_r, err_r = refine(objective, lams[name], maxfev)
            errors[f"{name}+refined"] = err_r
            if err_r < best:
                lam, best, best_name = lam_r, err_r, f"{name}+refined"
    how = {
        "method": method,
        "sampler_kwargs": sampler_kwargs,
        "steps": steps,
        "t_start": t_start,
        "t_end": t_end,
        "chosen": best_name,
        "candidates": len(reference.cand) - 1,
        "maxfev": maxfev,
        "statistic": statistic,
        "calibration_batch": int(x_T.shape[0]),
        "seconds": round(time.perf_counter() - clock, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }
    ts = _times(noise_schedule, lam, t_start, t_end)
    return OptimisedGrid(
        ts, np.asarray(lam), {k: float(v) for k, v in errors.items()}, how
    )


# --8<-- [end:optimise_grid]
