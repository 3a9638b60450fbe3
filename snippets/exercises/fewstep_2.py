"""Exercise: one DDIM step of the exact teacher from t = 1 sends every sample to
(almost) the data mean.

x = alpha_min x0_hat + sigma_min eps_hat with x0_hat = E[x0 | x_1]: at t = 1 the input
keeps alpha_1 = 0.006 of the signal, so x0_hat is the mean (0 for ring8) plus a small
correction. The exact PF-ODE map lands on the circle of radius 2, so the RMS distance
between the two is about sqrt(E|x0|^2) = sqrt(4 + 2 * 0.15^2) = 2.01.
"""

import math

import torch
from difflearn import NoiseScheduleVP, beta_schedule, mixture_2d, model_wrapper
from difflearn.fewstep import student_timesteps
from difflearn.samplers import ddim

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
gm = mixture_2d("ring8")
teacher = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)
z = torch.randn(
    2000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
one = ddim(teacher, z, ns, student_timesteps(ns, 1))
exact = gm.pf_ode_solve(z, 1.0, 1e-3, ns, rtol=1e-7, atol=1e-7)
spread = float(one.norm(dim=1).max())
err = float((one - exact).pow(2).sum(1).mean().sqrt())
print(
    f"one DDIM step: all within {spread:.3f} of the mean; "
    f"RMS distance to the map {err:.3f}"
)
assert spread < 0.1
assert abs(err - math.sqrt(4 + 2 * 0.15**2)) < 0.05
