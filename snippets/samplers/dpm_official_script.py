# A script written for the official dpm_solver_pytorch.py; only the import line changed.
import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

# an exact "trained" discrete-time noise model: a Gaussian mixture,
# called with t in 0..999
gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
noise_schedule = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
model = gm.noise_fn(noise_schedule, time_input="discrete")

# --- unchanged from the official README from here on ---
model_fn = model_wrapper(model, noise_schedule, model_type="noise", model_kwargs={})
dpm_solver = DPM_Solver(model_fn, noise_schedule, algorithm_type="dpmsolver++")
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
x_sample = dpm_solver.sample(
    x_T, steps=20, order=2, skip_type="time_uniform", method="multistep"
)

# compare with the exact probability-flow ODE solution: 20 model calls, then 5x more
reference = gm.pf_ode_solve(x_T, 1.0, 1.0 / 1000, noise_schedule)
error_20 = (x_sample - reference).norm(dim=1).mean().item()
x_100 = dpm_solver.sample(
    x_T, steps=100, order=2, skip_type="time_uniform", method="multistep"
)
error_100 = (x_100 - reference).norm(dim=1).mean().item()
print(
    f"mean distance to the exact solution: {error_20:.1e} (20 steps), "
    f"{error_100:.1e} (100 steps)"
)
assert (
    error_20 < 0.2 and error_100 < error_20 / 10
)  # second order would give (100/20)^2 = 25
