"""SDE-DPM-Solver++ integrates the linear part and the noise exactly; Euler–Maruyama
does not.
"""

import torch
from difflearn import NoiseScheduleVP
from difflearn.samplers import euler_maruyama, sde_dpmpp_2m

ns = NoiseScheduleVP("linear")
mu = torch.tensor([1.0, -0.5], dtype=torch.float64)


def eps_point(
    x, t
):  # data = a point mass at mu, so x0_pred = mu exactly: eps = (x - alpha mu) / sigma
    return (x - ns.marginal_alpha(t)[:, None] * mu) / ns.marginal_std(t)[:, None]


t_s, t_t = (
    torch.tensor(0.8, dtype=torch.float64),
    torch.tensor(0.05, dtype=torch.float64),
)
a_s, s_s, a_t, s_t = (
    float(f(t)) for t in (t_s, t_t) for f in (ns.marginal_alpha, ns.marginal_std)
)
x_s = a_s * mu + s_s * torch.randn(
    200_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
one_step = torch.stack([t_s, t_t])  # a single step from t = 0.8 to t = 0.05

# the exact marginal at t_t is N(alpha_t mu, sigma_t^2 I);
# check mean and std of one big step
for name, fn, kw, tol in (
    ("SDE-DPM-Solver++(1)", sde_dpmpp_2m, {"order": 1}, 0.005),
    ("Euler-Maruyama", euler_maruyama, {}, None),
):
    x_t = fn(
        eps_point, x_s, ns, one_step, generator=torch.Generator().manual_seed(1), **kw
    )
    mean_err = (x_t.mean(0) - a_t * mu).abs().max().item()
    std_err = (x_t.std(0) - s_t).abs().max().item()
    print(
        f"{name:20s} mean error {mean_err:.4f}  "
        f"std {x_t.std(0).mean().item():.4f} (exact {s_t:.4f})"
    )
    if tol is not None:
        assert (
            mean_err < tol and std_err < tol
        )  # Monte Carlo error of 200 000 samples: ~0.001
    else:
        assert std_err > 1.0  # one Euler-Maruyama step this long is far off
