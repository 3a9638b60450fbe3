"""Regression pins: sampler outputs on the exact mixture stay what they were.

Correctness is tested elsewhere against independent references (closed forms, scipy
solves, the official DPM-Solver, diffusers, k-diffusion). This file only guards
refactors: every sampler of the zoo and every `DPM_Solver` mode, run in float64 on
fixed inputs, must reproduce the outputs recorded in `tests/data/sampler_pins.json` to
1e-12. The pins were written by the code of commit 21135ce (before the package was
reorganised) with `python tests/test_pins.py --write`; rewrite them only for an
intended change of results, and say why in the commit
(`python tests/test_pins.py --write CASE ...` rewrites only the cases named).

Rewritten since: the four `dpm/*` cases on the discrete schedule (the oracle was
wrapped without `time_input="discrete"`, so it saw times 0..999 clamped to T; the
schedule now refuses such times) and `zoo/heun-churn` (churn no longer raises a level
above the schedule's largest, sigma~(T), where the old code extrapolated past T).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import difflearn
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

PINS = Path(__file__).parent / "data" / "sampler_pins.json"
GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])


def _schedules():
    betas = difflearn.beta_schedule("linear", 1000)
    return {"linear": NoiseScheduleVP("linear"), "discrete": NoiseScheduleVP("discrete", betas=betas)}


def _noise(shape, seed):
    """A noise_sampler with a fixed, seed-determined sequence of draws."""
    g = torch.Generator().manual_seed(seed)
    return lambda: torch.randn(shape, generator=g, dtype=torch.float64)


# (name, schedule, method, sample() keyword arguments); stochastic methods get a noise_sampler
ZOO = [
    ("ddim", "linear", "ddim", {"steps": 7, "skip_type": "logSNR"}),
    ("ddim-eta", "discrete", "ddim", {"steps": 6, "eta": 0.5}),
    ("ddpm-small", "discrete", "ddpm", {"steps": 6}),
    ("ddpm-large", "linear", "ddpm", {"steps": 6, "variance": "large", "denoise_to_zero": True}),
    ("euler", "linear", "euler", {"steps": 6, "skip_type": "karras", "denoise_to_zero": True}),
    ("heun-churn", "linear", "heun", {"steps": 5, "skip_type": "karras", "s_churn": 2.0}),
    ("lms4", "discrete", "lms", {"steps": 8, "skip_type": "karras", "order": 4}),
    ("dpm2-a", "linear", "dpm2_ancestral", {"steps": 5, "eta": 0.7, "denoise_to_zero": True}),
    ("dpmpp-2s-a", "linear", "dpmpp_2s_ancestral", {"steps": 5, "skip_type": "logSNR"}),
    ("dpmpp-sde", "discrete", "dpmpp_2s_sde", {"steps": 5, "eta": 0.5, "r": 0.4}),
    ("unipc-bh2", "linear", "unipc", {"steps": 6, "skip_type": "logSNR", "order": 3}),
    ("unipc-bh1-eps", "discrete", "unipc", {"steps": 7, "variant": "bh1", "predict_x0": False,
                                            "denoise_to_zero": True}),
    ("em-vp", "linear", "euler_maruyama", {"steps": 8}),
    ("em-ve", "discrete", "euler_maruyama", {"steps": 8, "sde": "ve"}),
    ("pc", "linear", "pc", {"steps": 4, "snr": 0.1}),
    ("sde-2m", "linear", "sde_dpmpp_2m", {"steps": 6, "skip_type": "logSNR", "eta": 0.6}),
    ("sde-3m", "discrete", "sde_dpmpp_3m", {"steps": 7}),
    ("sample-dpmsolver++", "linear", "dpmsolver++", {"steps": 6, "order": 3}),
    ("sample-dpmsolver-grid", "discrete", "dpmsolver", {"steps": 6, "skip_type": "time_quadratic"}),
]

# (name, schedule, algorithm_type, DPM_Solver.sample keyword arguments)
DPM = [
    ("multistep-1", "linear", "dpmsolver", {"steps": 6, "order": 1}),
    ("multistep-2", "discrete", "dpmsolver++", {"steps": 7, "order": 2, "skip_type": "logSNR"}),
    ("multistep-3-taylor", "linear", "dpmsolver", {"steps": 8, "order": 3, "solver_type": "taylor"}),
    ("multistep-3-d2", "linear", "dpmsolver++", {"steps": 12, "order": 3, "skip_type": "karras"}),
    ("singlestep-2", "discrete", "dpmsolver", {"steps": 7, "order": 2, "method": "singlestep"}),
    ("singlestep-3", "linear", "dpmsolver++", {"steps": 9, "order": 3, "method": "singlestep",
                                               "skip_type": "logSNR"}),
    ("singlestep-3-taylor", "linear", "dpmsolver", {"steps": 10, "order": 3, "method": "singlestep",
                                                    "solver_type": "taylor", "skip_type": "time_quadratic"}),
    ("singlestep-fixed-3", "discrete", "dpmsolver++", {"steps": 9, "order": 3, "method": "singlestep_fixed"}),
    ("adaptive-2", "linear", "dpmsolver++", {"order": 2, "method": "adaptive", "rtol": 0.05}),
    ("adaptive-3", "discrete", "dpmsolver", {"order": 3, "method": "adaptive", "atol": 0.01}),
    ("denoise-to-zero", "linear", "dpmsolver++", {"steps": 5, "order": 2, "denoise_to_zero": True}),
]


def _x_T(seed=0):
    return torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def run_zoo(name):
    _, sched, method, kw = next(c for c in ZOO if c[0] == name)
    ns = _schedules()[sched]
    x = _x_T()
    kw = dict(kw)
    if method in ("ddim", "ddpm", "euler_maruyama", "pc", "sde_dpmpp_2m", "sde_dpmpp_3m", "heun",
                  "dpm2_ancestral", "dpmpp_2s_ancestral", "dpmpp_2s_sde"):
        kw["noise_sampler"] = _noise(x.shape, 1)
    return difflearn.sample(GM.noise_fn(ns), x, ns, method=method, **kw)


def run_dpm(name):
    _, sched, alg, kw = next(c for c in DPM if c[0] == name)
    ns = _schedules()[sched]
    time_input = "discrete" if sched == "discrete" else "continuous"
    model = model_wrapper(GM.noise_fn(ns, time_input=time_input), ns)
    solver = DPM_Solver(model, ns, algorithm_type=alg)
    if name == "multistep-3-d2":
        solver.multistep_d2_weight = 1.0
    return solver.sample(_x_T(), **kw)


def run_inverse():
    ns = _schedules()["linear"]
    solver = DPM_Solver(model_wrapper(GM.noise_fn(ns), ns), ns, algorithm_type="dpmsolver++")
    return solver.inverse(_x_T(2), steps=8, order=2)


def run_ddim_inversion():
    ns = _schedules()["discrete"]
    t = difflearn.time_steps(ns, "logSNR", 1.0, 1e-3, 6, dtype=torch.float64).flip(0)
    return difflearn.samplers.ddim_inversion(GM.noise_fn(ns), _x_T(3), ns, t)


def all_cases():
    cases = {f"zoo/{c[0]}": (run_zoo, c[0]) for c in ZOO}
    cases.update({f"dpm/{c[0]}": (run_dpm, c[0]) for c in DPM})
    cases["dpm/inverse"] = (lambda _: run_inverse(), None)
    cases["zoo/ddim-inversion"] = (lambda _: run_ddim_inversion(), None)
    return cases


CASES = all_cases()


@pytest.mark.parametrize("case", sorted(CASES))
def test_sampler_output_is_pinned(case):
    pins = json.loads(PINS.read_text())
    fn, arg = CASES[case]
    out = fn(arg)
    want = torch.tensor(pins[case], dtype=torch.float64)
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)


def test_every_case_is_pinned():
    assert sorted(json.loads(PINS.read_text())) == sorted(CASES)


if __name__ == "__main__" and "--write" in sys.argv:
    named = [a for a in sys.argv[1:] if a != "--write"]
    out = json.loads(PINS.read_text()) if named else {}
    for case, (fn, arg) in sorted(CASES.items()):
        if not named or case in named:
            out[case] = fn(arg).tolist()
    PINS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} pins to {PINS}")
