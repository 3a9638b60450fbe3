"""WRONG: treating a discrete-time model's step n as time n/N
(or calling it with 1000 t).

A model trained on steps n = 0..N-1 sits at continuous time t_n = (n + 1)/N. Two
symptoms: the schedule is undefined at t = 0 (sigma would be NaN there, so difflearn
refuses the time), and feeding the model 1000 t instead of 1000 (t - 1/N) shows it the
noise level of the *next* step. The sampler then solves a slightly different ODE: its
error stops shrinking as the steps grow.
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, beta_schedule, time_steps
from difflearn.samplers import ddim

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
gm = GaussianMixture([[-2.0], [0.5], [2.5]], [0.3, 0.5, 0.2], [0.3, 0.5, 0.2])
model = gm.noise_fn(
    ns, time_input="discrete"
)  # model(x, n): an exact model trained on n = 0..999

# symptom 1: the discrete schedule starts at t = 1/N; at t = 0 it would be
# extrapolated past alpha = 1 (sigma = NaN), so the query is refused
try:
    ns.marginal_std(torch.tensor([0.0], dtype=torch.float64))
    raise AssertionError("t = 0 must be refused")
except ValueError as err:
    assert "1/N" in str(err)

# symptom 2: the model called with n = 1000 t is one step off at every call (at
# t = 1 that is n = 1000, past the last step: like a network's, the oracle's input is
# kept to the steps it was trained on)
model_fn = lambda x, t: model(x, (1000 * t).clamp(max=999))  # WRONG time input
x_T = torch.randn(
    512, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
reference = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
errors = {}
for N in (100, 800):
    grid = time_steps(ns, "time_uniform", 1.0, 1e-3, N, dtype=torch.float64)
    errors[N] = (ddim(model_fn, x_T, ns, grid) - reference).abs().mean().item()
print("error with 1000 t as the model input:", errors)
assert errors[100] / errors[800] < 4  # 8x the steps, but the error shrinks only ~3x
assert errors[800] > 5e-3  # a bias that more steps cannot remove
