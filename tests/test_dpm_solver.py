"""DPM-Solver / DPM-Solver++ against independent references.

- diffusers' DPMSolverMultistepScheduler and DPMSolverSinglestepScheduler (test-only
  dependency), same exact model, same noise. diffusers computes its coefficients in
  float32, so the tolerance is float32-level: REL = 5e-6 relative (measured <= 1.1e-6).
  Where conventions differ the tests pin which of our options reproduces theirs.
- DDIM: first-order DPM-Solver(++) is DDIM with eta = 0, to float64 rounding.
- Convergence order against `GaussianMixture.pf_ode_solve` (a DOP853 solve at 1e-12).

Agreement with the official dpm_solver_pytorch.py itself was checked outside the test
suite (its file is not part of this repository): see docs/samplers/dpm-solver.md.
"""

import math

import pytest
import torch

from difflearn import DPM_Solver, DPMSolver, GaussianMixture, NoiseScheduleVP, model_wrapper, sample, time_steps
from difflearn.samplers import ddim

diffusers = pytest.importorskip("diffusers")

GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
B, N_TRAIN, REL = 16, 1000, 5e-6


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def noise(b=B, d=2, seed=0, dtype=torch.float64):
    return torch.randn(b, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---- diffusers ----------------------------------------------------------------------------------
def run_diffusers(cls, steps=None, timesteps=None, **config):
    """Sample with a diffusers scheduler; return our schedule, our discrete model, x_T and their x_0."""
    sched = cls(num_train_timesteps=N_TRAIN, beta_schedule="linear", **config)
    ns = NoiseScheduleVP("discrete", alphas_cumprod=sched.alphas_cumprod.double(), dtype=torch.float64)
    unet = GM.noise_fn(ns, time_input="discrete")  # called with the integer timestep tau
    sched.set_timesteps(steps, timesteps=timesteps)
    x = noise()
    xd = x.clone()
    for tau in sched.timesteps:
        xd = sched.step(unet(xd, tau.double().expand(B)), tau, xd).prev_sample
    return ns, unet, x, xd, sched


def ours(ns, unet, x, algorithm_type, **kw):
    return DPM_Solver(model_wrapper(unet, ns), ns, algorithm_type=algorithm_type).sample(x, **kw)


SOLVER_TYPES = [("midpoint", "dpmsolver"), ("heun", "taylor")]  # diffusers' name -> ours


@pytest.mark.parametrize("algorithm_type", ["dpmsolver++", "dpmsolver"])
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("solver_type", SOLVER_TYPES)
@pytest.mark.parametrize("lower_order_final", [True, False])
@pytest.mark.parametrize("steps", [9, 27])
def test_multistep_matches_diffusers_sigma_min(algorithm_type, order, solver_type, lower_order_final, steps):
    # their 'linspace' timesteps 999 - k 999/S are our time_uniform grid when 999/S is an integer;
    # final_sigmas_type='sigma_min' ends at tau = 0, our default t_end = 1/N
    ns, unet, x, xd, _ = run_diffusers(
        diffusers.DPMSolverMultistepScheduler, steps, algorithm_type=algorithm_type, solver_order=order,
        solver_type=solver_type[0], lower_order_final=lower_order_final, final_sigmas_type="sigma_min")
    xo = ours(ns, unet, x, algorithm_type, steps=steps, order=order, method="multistep",
              skip_type="time_uniform", solver_type=solver_type[1], lower_order_final=lower_order_final)
    assert rel(xo, xd) < REL


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("solver_type", SOLVER_TYPES)
@pytest.mark.parametrize("lower_order_final, steps", [(False, 9), (False, 27), (True, 27)])
def test_multistep_matches_diffusers_final_zero(order, solver_type, lower_order_final, steps):
    # final_sigmas_type='zero': their last step goes to sigma = 0, which is a data prediction:
    # ours = steps - 1 steps to their last timestep, then denoise_to_zero=True
    ns, unet, x, xd, sched = run_diffusers(
        diffusers.DPMSolverMultistepScheduler, steps, algorithm_type="dpmsolver++", solver_order=order,
        solver_type=solver_type[0], lower_order_final=lower_order_final, final_sigmas_type="zero")
    xo = ours(ns, unet, x, "dpmsolver++", steps=steps - 1, t_end=(int(sched.timesteps[-1]) + 1) / N_TRAIN,
              order=order, method="multistep", skip_type="time_uniform", solver_type=solver_type[1],
              lower_order_final=lower_order_final, denoise_to_zero=True)
    assert rel(xo, xd) < REL


def test_lower_order_final_conventions_differ_for_few_steps():
    # ours (= official) lowers the order of the last two steps when steps < 10; diffusers
    # when steps < 15, counting its extra step to sigma = 0. With 'zero' and 9 steps they differ.
    ns, unet, x, xd, sched = run_diffusers(
        diffusers.DPMSolverMultistepScheduler, 9, algorithm_type="dpmsolver++", solver_order=2,
        lower_order_final=True, final_sigmas_type="zero")
    xo = ours(ns, unet, x, "dpmsolver++", steps=8, t_end=(int(sched.timesteps[-1]) + 1) / N_TRAIN, order=2,
              skip_type="time_uniform", lower_order_final=True, denoise_to_zero=True)
    assert rel(xo, xd) > 1e-3


SINGLESTEP_CASES = [  # (order, diffusers solver_type, ours): order-3 'midpoint' differs, see below
    (1, "midpoint", "dpmsolver"), (2, "midpoint", "dpmsolver"), (2, "heun", "taylor"), (3, "heun", "taylor")]


@pytest.mark.parametrize("algorithm_type", ["dpmsolver++", "dpmsolver"])
@pytest.mark.parametrize("order, theirs, solver_type", SINGLESTEP_CASES)
@pytest.mark.parametrize("steps", [9, 27])
def test_singlestep_matches_diffusers(algorithm_type, order, theirs, solver_type, steps):
    # method='singlestep' ("DPM-Solver-fast") has the order list of their lower_order_final=True
    ns, unet, x, xd, _ = run_diffusers(
        diffusers.DPMSolverSinglestepScheduler, steps, algorithm_type=algorithm_type, solver_order=order,
        solver_type=theirs, lower_order_final=True, final_sigmas_type="sigma_min")
    xo = ours(ns, unet, x, algorithm_type, steps=steps, order=order, method="singlestep",
              skip_type="time_uniform", solver_type=solver_type)
    assert rel(xo, xd) < REL
    if algorithm_type == "dpmsolver++":  # 'zero': one step fewer, then denoise (orders agree for S % 3 == 0)
        ns, unet, x, xd, sched = run_diffusers(
            diffusers.DPMSolverSinglestepScheduler, steps, algorithm_type=algorithm_type, solver_order=order,
            solver_type=theirs, lower_order_final=True, final_sigmas_type="zero")
        xo = ours(ns, unet, x, algorithm_type, steps=steps - 1, order=order, method="singlestep",
                  t_end=(int(sched.timesteps[-1]) + 1) / N_TRAIN, skip_type="time_uniform",
                  solver_type=solver_type, denoise_to_zero=True)
        assert rel(xo, xd) < REL


@pytest.mark.parametrize("order, theirs, solver_type", SINGLESTEP_CASES[1:])
def test_singlestep_fixed_matches_diffusers_without_lower_order_final(order, theirs, solver_type):
    # 24 steps (a multiple of the order) on the custom grid tau = 984, 943, ..., 41 (see below)
    steps, d = 24, 41
    ns, unet, x, xd, _ = run_diffusers(
        diffusers.DPMSolverSinglestepScheduler, timesteps=list(range(steps * d, 0, -d)), solver_order=order,
        solver_type=theirs, lower_order_final=False, final_sigmas_type="sigma_min")
    xo = ours(ns, unet, x, "dpmsolver++", steps=steps, t_start=(steps * d + 1) / N_TRAIN, order=order,
              method="singlestep_fixed", skip_type="time_uniform", solver_type=solver_type)
    assert rel(xo, xd) < REL


def test_singlestep_order3_midpoint_differs_in_its_second_stage():
    # the official DPM-Solver-3 predicts its second stage with the Taylor form whatever
    # solver_type is; diffusers' 'midpoint' uses the midpoint form there
    ns, unet, x, xd, _ = run_diffusers(diffusers.DPMSolverSinglestepScheduler, 27, solver_order=3,
                                       solver_type="midpoint", lower_order_final=True,
                                       final_sigmas_type="sigma_min")
    xo = ours(ns, unet, x, "dpmsolver++", steps=27, order=3, method="singlestep", skip_type="time_uniform")
    assert 1e-5 < rel(xo, xd) < 1e-2


@pytest.mark.parametrize("cls, method, order, steps, lower_order_final", [
    (diffusers.DPMSolverSinglestepScheduler, "singlestep", 3, 5, True),   # 3n - 1 steps: orders 3, 2
    (diffusers.DPMSolverSinglestepScheduler, "singlestep", 3, 8, True),
    (diffusers.DPMSolverSinglestepScheduler, "singlestep", 3, 2, True),   # steps < order
    (diffusers.DPMSolverMultistepScheduler, "multistep", 3, 2, True),
    (diffusers.DPMSolverMultistepScheduler, "multistep", 3, 2, False),
    (diffusers.DPMSolverMultistepScheduler, "multistep", 2, 1, True),
    (diffusers.DPMSolverMultistepScheduler, "multistep", 3, 1, False),
])
def test_edge_cases_match_diffusers(cls, method, order, steps, lower_order_final):
    # custom integer timesteps tau_T, tau_T - d, ..., d with tau_T = steps * d: our time_uniform
    # grid from (tau_T + 1)/N to 1/N (their final sigma_min is tau = 0)
    d = 999 // steps
    ns, unet, x, xd, _ = run_diffusers(
        cls, timesteps=list(range(steps * d, 0, -d)), solver_order=order, solver_type="heun",
        lower_order_final=lower_order_final, final_sigmas_type="sigma_min")
    xo = ours(ns, unet, x, "dpmsolver++", steps=steps, t_start=(steps * d + 1) / N_TRAIN, order=order,
              method=method, skip_type="time_uniform", solver_type="taylor",
              lower_order_final=lower_order_final)
    # one step from alpha ~ 0.006 amplifies their float32 coefficients by 1 / alpha: a looser
    # bound for 1-2 steps (a wrong order or grid would be off by O(1) here)
    assert rel(xo, xd) < (REL if steps > 2 else 5e-4)


# a grid of no skip type: 16 irregular integer timesteps (16 >= 15, so neither side lowers the order)
IRREGULAR_TAUS = [999, 950, 880, 800, 700, 620, 500, 430, 350, 300, 240, 180, 120, 80, 40, 15]


@pytest.mark.parametrize("algorithm_type", ["dpmsolver++", "dpmsolver"])
@pytest.mark.parametrize("order", [2, 3])
def test_custom_grid_matches_diffusers_custom_timesteps(algorithm_type, order):
    # difflearn.sample(..., timesteps=grid) follows every point of the grid, as diffusers does
    # with set_timesteps(timesteps=...); its final sigma_min is tau = 0, our t = 1/N
    ns, unet, x, xd, _ = run_diffusers(
        diffusers.DPMSolverMultistepScheduler, timesteps=IRREGULAR_TAUS, algorithm_type=algorithm_type,
        solver_order=order, solver_type="heun", lower_order_final=True, final_sigmas_type="sigma_min")
    grid = torch.tensor([(tau + 1) / N_TRAIN for tau in IRREGULAR_TAUS] + [1 / N_TRAIN], dtype=torch.float64)
    xo = sample(model_wrapper(unet, ns), x, ns, method=algorithm_type, timesteps=grid, order=order,
                solver_type="taylor")
    assert rel(xo, xd) < REL
    # the grid's end points alone are a different solve: the interior points are not ignored
    ends = sample(model_wrapper(unet, ns), x, ns, method=algorithm_type, steps=len(IRREGULAR_TAUS),
                  t_start=float(grid[0]), t_end=float(grid[-1]), order=order, solver_type="taylor")
    assert rel(ends, xd) > 1e-3


def test_custom_grid_bad_input():
    ns = NoiseScheduleVP("linear")
    grid = torch.tensor([1.0, 0.5, 0.2, 1e-3], dtype=torch.float64)
    with pytest.raises(ValueError, match="solver_method must be 'multistep' on a given time grid"):
        sample(GM.noise_fn(ns), noise(), ns, method="dpmsolver++", timesteps=grid, solver_method="singlestep")
    with pytest.raises(ValueError, match="strictly decreasing"):
        sample(GM.noise_fn(ns), noise(), ns, method="dpmsolver", timesteps=grid.flip(0))
    with pytest.raises(ValueError, match="timesteps must lie in"):
        sample(GM.noise_fn(ns), noise(), ns, method="dpmsolver", timesteps=grid + 0.5)


# ---- DDIM identities ----------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm_type", ["dpmsolver", "dpmsolver++"])
@pytest.mark.parametrize("schedule", ["linear", "cosine", "discrete"])
def test_first_order_is_ddim(algorithm_type, schedule):
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    ns = NoiseScheduleVP(schedule, betas=betas if schedule == "discrete" else None, dtype=torch.float64)
    eps = GM.noise_fn(ns)
    x, t_end, steps = noise(), 1e-3, 12
    out = DPM_Solver(eps, ns, algorithm_type=algorithm_type).sample(
        x, steps=steps, t_end=t_end, order=1, skip_type="logSNR")
    grid = time_steps(ns, "logSNR", ns.T, t_end, steps, dtype=torch.float64)
    assert rel(out, ddim(eps, x, ns, grid, eta=0.0)) < 1e-12
    # and a DDIM step written out here: x0 = (x - sigma_s eps) / alpha_s; x_t = alpha_t x0 + sigma_t eps
    x_ref = x
    for s, t in zip(grid[:-1], grid[1:]):
        e = eps(x_ref, s.expand(B))
        a_s, a_t = ns.marginal_alpha(s), ns.marginal_alpha(t)
        s_s, s_t = ns.marginal_std(s), ns.marginal_std(t)
        x_ref = a_t * (x_ref - s_s * e) / a_s + s_t * e
    assert rel(out, x_ref) < 1e-12


# ---- convergence order on the exact mixture -----------------------------------------------------
WIDE = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7], [0.5, 0.3, 0.2])


@pytest.fixture(scope="module")
def pf_reference():
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    x = noise(32)
    return ns, x, WIDE.pf_ode_solve(x, 1.0, 1e-3, ns, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algorithm_type", ["dpmsolver", "dpmsolver++"])
@pytest.mark.parametrize("method, order, Ns, expected, d2_weight", [
    ("multistep", 1, (50, 100), 1, 0.5),
    ("multistep", 2, (50, 100), 2, 0.5),
    ("multistep", 3, (100, 200), 2, 0.5),          # the official 3M: half-weight D2 -> second order
    ("multistep", 3, (100, 200), 3, 1.0),          # Taylor-consistent D2 weight -> third order
    ("singlestep_fixed", 1, (50, 100), 1, 0.5),
    ("singlestep_fixed", 2, (50, 100), 2, 0.5),
    ("singlestep_fixed", 3, (120, 240), 3, 0.5),
    ("singlestep", 2, (50, 100), 2, 0.5),
    ("singlestep", 3, (119, 239), 3, 0.5),         # 3n - 1 steps: third-order steps and one second-order
])
def test_convergence_order(pf_reference, algorithm_type, method, order, Ns, expected, d2_weight):
    ns, x, ref = pf_reference
    solver = DPM_Solver(model_wrapper(WIDE.noise_fn(ns), ns), ns, algorithm_type=algorithm_type)
    solver.multistep_d2_weight = d2_weight
    errs = [float((solver.sample(x, steps=n, t_end=1e-3, order=order, method=method, skip_type="logSNR",
                                 lower_order_final=False) - ref).abs().max()) for n in Ns]
    measured = math.log(errs[0] / errs[1]) / math.log(Ns[1] / Ns[0])
    assert abs(measured - expected) < 0.3, (errs, measured)


# ---- precision, schedules, guidance --------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("algorithm_type", ["dpmsolver", "dpmsolver++"])
def test_half_precision_model_outputs(dtype, algorithm_type):
    ns = NoiseScheduleVP("linear")
    eps = GM.noise_fn(ns)
    x = noise(dtype=torch.float32)
    kw = dict(steps=10, order=2, t_end=1e-3, skip_type="logSNR")
    ref = DPM_Solver(eps, ns, algorithm_type=algorithm_type).sample(x, **kw)
    half_out = DPM_Solver(lambda x, t: eps(x, t).to(dtype), ns, algorithm_type=algorithm_type).sample(x, **kw)
    assert half_out.dtype == torch.float32 and rel(half_out, ref) < (2e-3 if dtype == torch.float16 else 2e-2)
    half_all = DPM_Solver(lambda x, t: eps(x, t).to(dtype), ns, algorithm_type=algorithm_type).sample(
        x.to(dtype), **kw)
    assert half_all.dtype == dtype and rel(half_all.float(), ref) < 5e-2


@pytest.mark.parametrize("schedule", ["cosine", "discrete-cosine"])
@pytest.mark.parametrize("method, order", [("multistep", 3), ("singlestep", 3), ("adaptive", 3)])
def test_cosine_schedule_near_T(schedule, method, order):
    from difflearn import beta_schedule
    if schedule == "cosine":
        ns = NoiseScheduleVP("cosine", dtype=torch.float64)
    else:
        betas = torch.as_tensor(beta_schedule("cosine", 1000))
        ns = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
    t_end = max(1e-3, ns.time_domain()[0])  # the kept cosine table starts at 1/996
    x = noise()
    ref = WIDE.pf_ode_solve(x, ns.T, t_end, ns)
    out = DPM_Solver(WIDE.noise_fn(ns), ns).sample(x, steps=20, t_end=t_end, order=order, method=method,
                                                   skip_type="logSNR", rtol=1e-3, atol=1e-4)
    assert torch.isfinite(out).all() and float((out - ref).abs().max()) < 2e-2


def test_classifier_and_classifier_free_guidance_match_the_conditional_model():
    # with guidance scale 1, both guided noise predictions equal the exact conditional one
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    y = torch.full((B,), 2)
    x, t = noise(), torch.full((B,), 0.4, dtype=torch.float64)
    cond = GM.eps(x, t, ns, y)
    uncond = GM.noise_fn(ns)
    cls = model_wrapper(lambda x, t: uncond(x, t), ns, guidance_type="classifier", condition=y,
                        classifier_fn=GM.classifier_fn(ns))
    cfg = model_wrapper(GM.noise_fn(ns), ns, guidance_type="classifier-free", condition=y,
                        unconditional_condition=torch.full((B,), -1), guidance_scale=1.0)
    assert rel(cls(x, t), cond) < 1e-10 and rel(cfg(x, t), cond) < 1e-10


def test_model_types_give_the_same_samples():
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    x = noise()
    models = {"noise": lambda x, t: GM.eps(x, t, ns), "x_start": lambda x, t: GM.x0(x, t, ns),
              "score": lambda x, t: GM.score(x, t, ns),
              "v": lambda x, t: (ns.marginal_alpha(t)[:, None] * GM.eps(x, t, ns)
                                 - ns.marginal_std(t)[:, None] * GM.x0(x, t, ns))}
    outs = [DPMSolver(model_wrapper(m, ns, model_type=k), ns).sample(x, steps=8, t_end=1e-3)
            for k, m in models.items()]
    assert all(rel(o, outs[0]) < 1e-10 for o in outs[1:])


def test_inverse_round_trip_and_intermediates():
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    solver = DPM_Solver(WIDE.noise_fn(ns), ns)
    x = noise()
    x0, states = solver.sample(x, steps=200, t_end=1e-2, order=3, return_intermediate=True)
    assert len(states) == 201 and torch.equal(states[-1], x0) and solver.nfe == 200
    assert rel(solver.inverse(x0, steps=200, t_start=1e-2, order=3), x) < 1e-3


# ---- bad input --------------------------------------------------------------------------------------
def _solver(**kw):
    ns = NoiseScheduleVP("linear")
    return DPM_Solver(GM.noise_fn(ns), ns, **kw)


@pytest.mark.parametrize("call, match", [
    (lambda: _solver(algorithm_type="dpm"), "algorithm_type must be one of"),
    (lambda: _solver(correcting_x0_fn="clip"), "correcting_x0_fn must be"),
    (lambda: _solver().sample(noise(), method="euler"), "method must be one of"),
    (lambda: _solver().sample(noise(), skip_type="uniform"), "skip_type must be one of"),
    (lambda: _solver().sample(noise(), solver_type="heun"), "solver_type must be one of"),
    (lambda: _solver().sample(noise(), order=4), "order must be one of"),
    (lambda: _solver().sample(noise(), order=0), "order must be one of"),
    (lambda: _solver().sample(noise(), order=1, method="adaptive"), "order must be one of"),
    (lambda: _solver().sample(noise(), steps=0), "steps must be an int >= 1"),
    (lambda: _solver().sample(noise(), t_start=0.5, t_end=0.5), "t_end < t_start"),
    (lambda: _solver().sample(noise(), t_start=0.2, t_end=0.5), "t_end < t_start"),
    (lambda: _solver().sample(noise(), method="adaptive", return_intermediate=True), "adaptive"),
    (lambda: model_wrapper(None, NoiseScheduleVP("linear"), model_type="eps"), "model_type must be one of"),
    (lambda: model_wrapper(None, NoiseScheduleVP("linear"), guidance_type="cfg"), "guidance_type must be"),
    (lambda: model_wrapper(None, NoiseScheduleVP("linear"), guidance_type="classifier", condition=1),
     "classifier_fn must be"),
    (lambda: model_wrapper(None, NoiseScheduleVP("linear"), guidance_type="classifier-free"),
     "condition must"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("method", ["multistep", "singlestep", "adaptive"])
def test_nan_in_model_output_names_the_step(method):
    ns = NoiseScheduleVP("linear")
    calls = []

    def model(x, t):
        calls.append(1)
        return torch.full_like(x, math.nan) if len(calls) == 3 else GM.eps(x, t, ns)
    with pytest.raises(ValueError, match="NaN or inf at .*(step 3 of|stage)|NaN or inf at an adaptive"):
        DPM_Solver(model, ns).sample(noise(dtype=torch.float32), steps=6, method=method, order=2)
