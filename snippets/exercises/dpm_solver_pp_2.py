"""Exercise: why clipping x0_pred keeps DPM-Solver++ bounded.

Divide the first-order step by alpha_t: in x~ = x/alpha_t it reads
    x~_t = e^{-h} x~_s + (1 - e^{-h}) x0_pred,
a convex combination. If x0_pred is clipped to [-1, 1], then |x~_t| <= max(|x~_s|, 1)
for every sample at every step, whatever the guidance scale. Check on classifier
guidance with scale 20, recording x~ after every step (return_intermediate); without the
clip the bound fails.
"""

import torch
from difflearn import (
    DPM_Solver,
    GaussianMixture,
    NoiseScheduleVP,
    model_wrapper,
    time_steps,
)

gm = GaussianMixture([[-0.6], [0.0], [0.6]], 0.15)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
fn = model_wrapper(
    gm.noise_fn(ns),
    ns,
    guidance_type="classifier",
    condition=torch.full((512,), 2),
    guidance_scale=20.0,
    classifier_fn=gm.classifier_fn(ns),
)
x_T = torch.randn(
    512, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
for clip in (False, True):
    solver = DPM_Solver(
        fn,
        ns,
        algorithm_type="dpmsolver++",
        correcting_x0_fn=(lambda x0, t: x0.clamp(-1, 1)) if clip else None,
    )
    x, states = solver.sample(
        x_T, steps=8, t_end=1e-3, order=1, skip_type="logSNR", return_intermediate=True
    )
    ts = time_steps(ns, "logSNR", 1.0, 1e-3, 8, dtype=torch.float64)
    xt = [(s / ns.marginal_alpha(t)).abs() for s, t in zip(states, ts)]  # |x~| per step
    excess = max((xt[i + 1] - xt[i].clamp(min=1.0)).max().item() for i in range(8))
    print(f"clip={clip}: largest step of |x~| above max(|x~_s|, 1): {excess:+.3f}")
    assert (excess <= 1e-9) if clip else (excess > 0.1)
