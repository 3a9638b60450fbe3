"""Exercise: with one teacher step per student step (K = 1), the target x~ is the
teacher's own x0 prediction.

The teacher's single DDIM step is z_s = a_s x0T + s_s (z_t - a_t x0T) / s_t, so
z_s - (s_s / s_t) z_t = (a_s - s_s a_t / s_t) x0T and x~ = x0T. Checked on the exact
mixture, at every student step.
"""

import torch
from difflearn import NoiseScheduleVP, beta_schedule, mixture_2d, model_wrapper
from difflearn.fewstep import distillation_grid, pd_target, teacher_ddim, x0_from_model

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
teacher = model_wrapper(mixture_2d("grid9").noise_fn(ns, time_input="discrete"), ns)
grid = distillation_grid(ns, 5, teacher_substeps=1)
a, s = torch.from_numpy(grid.alpha), torch.from_numpy(grid.sigma)
t = torch.from_numpy(grid.t)
z = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
j = torch.arange(50) % 5  # every student step
z_s = teacher_ddim(teacher, z, j, grid, 1)
x_tilde = pd_target(z, z_s, a[j], s[j], a[j + 1], s[j + 1])
x0_teacher = x0_from_model(teacher, z, t[j], a[j], s[j])
err = float((x_tilde - x0_teacher).abs().max())
print(f"K = 1: max |x~ - teacher x0| = {err:.1e}")
assert err < 1e-10
