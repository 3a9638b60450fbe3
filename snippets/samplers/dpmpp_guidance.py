# Guided sampling on the exact class-conditional mixture, through model_wrapper.
import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

gm = GaussianMixture([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], 0.5)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
B = 256
x_T = torch.randn(B, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
y = torch.full((B,), 2)  # the class we ask for
t = torch.full((B,), 0.5, dtype=torch.float64)


def guided(kind, scale):
    if kind == "classifier":  # unconditional model + exact classifier log p(y | x_t)
        return model_wrapper(
            gm.noise_fn(ns),
            ns,
            guidance_type="classifier",
            condition=y,
            classifier_fn=gm.classifier_fn(ns),
            guidance_scale=scale,
        )
    return model_wrapper(
        gm.noise_fn(ns),
        ns,
        guidance_type="classifier-free",
        condition=y,  # label -1:
        unconditional_condition=torch.full((B,), -1),
        guidance_scale=scale,
    )  # uncond.


# 1. With exact models the two kinds of guidance are the same function, at any scale
for scale in (1.0, 4.0):
    difference = guided("classifier", scale)(x_T, t) - guided("classifier-free", scale)(
        x_T, t
    )
    assert difference.abs().max() < 1e-12

# 2. Scale 1 samples the class: the samples end up in component 2 ...
p_mean = {}
for scale in (1.0, 4.0):
    solver = DPM_Solver(
        guided("classifier-free", scale), ns, algorithm_type="dpmsolver++"
    )
    x0 = solver.sample(x_T, steps=15, t_end=1e-3, order=2, method="multistep")
    p_y = gm.class_posterior(x0, torch.tensor([1e-3]), ns)[:, 2]
    spread = x0.std(0).mean().item()
    p_mean[scale] = p_y.mean().item()
    print(
        f"scale {scale}: mean p(y | x_0) = {p_mean[scale]:.4f}, "
        f"min {p_y.min().item():.4f}"
    )
assert p_mean[1.0] > 0.95
# ... and a larger scale pushes them further from the other classes
assert p_mean[4.0] > p_mean[1.0] and p_mean[4.0] > 0.999
