"""Progressive distillation on the exact mixture ring8.

1. One DDIM step of the student with x0 = x~ (Salimans & Ho's target) lands exactly
   where two DDIM steps of the teacher land.
2. Why the student predicts v: at t = T an error in a noise prediction reaches x0
   multiplied by sigma_T / alpha_T (157 for the linear schedule), an error in v only by
   sigma_T <= 1.
3. The shipped one-step student ring8-pd-1 against the exact probability-flow map: much
   closer than one step of the exact teacher, which sends every sample to the mean.
"""

import torch
from difflearn import mixture_2d, model_wrapper, pretrained
from difflearn.fewstep import (
    ddim_jump,
    distillation_grid,
    pd_target,
    student_timesteps,
    teacher_ddim,
)
from difflearn.samplers import ddim

student, ns, card = pretrained.load("ring8-pd-1")
gm = mixture_2d("ring8")
teacher = model_wrapper(gm.noise_fn(ns, time_input="discrete"), ns)

# 1. the target: 4 student steps, 2 teacher steps in each
grid = distillation_grid(ns, 4, teacher_substeps=2)
z = torch.randn(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
j = torch.arange(40) % 4 * 2  # where each sample starts on the teacher's grid
a, s = torch.from_numpy(grid.alpha), torch.from_numpy(grid.sigma)
z_teacher = teacher_ddim(teacher, z, j, grid, 2)
x_tilde = pd_target(z, z_teacher, a[j], s[j], a[j + 2], s[j + 2])
z_student = ddim_jump(z, x_tilde, a[j], s[j], a[j + 2], s[j + 2])
assert (z_student - z_teacher).abs().max() < 1e-12
print("one student step with x0 = x~ lands on two teacher steps")

# 2. error amplification at t = T
m = ns.marginals([1.0])
eps_gain, v_gain = float(m.sigma[0] / m.alpha[0]), float(m.sigma[0])
assert 156 < eps_gain < 158 and v_gain <= 1.0
print(f"at t = T: x0 error = {eps_gain:.0f} x eps error, {v_gain:.5f} x v error")

# 3. the shipped 1-step student vs the exact PF-ODE map from the same noise
z = torch.randn(500, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
exact_map = gm.pf_ode_solve(z, 1.0, 1e-3, ns, rtol=1e-7, atol=1e-7)
one_call = student_timesteps(ns, 1)
with torch.no_grad():
    mine = ddim(model_wrapper(student, ns, model_type="v"), z.float(), ns, one_call)
teacher_1 = ddim(teacher, z, ns, one_call)


def rms(x):
    return float((x.double() - exact_map).pow(2).sum(1).mean().sqrt())


print(
    f"distance to the exact map: student {rms(mine):.3f}, teacher {rms(teacher_1):.3f}"
)
assert rms(mine) < 0.5 * rms(teacher_1)
