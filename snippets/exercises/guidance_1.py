"""Exercise: does classifier-free guidance sample its target? Two Gaussians, exactly.

Unconditional model: data N(0, 1). Conditional model: N(1.5, 0.5^2). CFG with scale s
targets p_t(x)^(1-s) p_t(x|y)^s, a Gaussian with precision (1 - s)/v_u + s/v_c: at t = 0
and s = 3, precision -2 + 12 = 10 and mean 3 * 1.5 / 0.25 / 10, i.e. N(1.8, 0.1). Both
noise predictions are linear in x, so the guided PF-ODE maps x_T affinely to x_0: solve
it with scipy, starting from the target at t = T. Prediction: at s = 1 the ODE delivers
the target exactly; at s = 3 it does not (tilting and noising do not commute).
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, model_wrapper, sample
from scipy.integrate import solve_ivp

mu_u, s_u, mu_c, s_c = 0.0, 1.0, 1.5, 0.5
ns = NoiseScheduleVP("linear", dtype=torch.float64)
t_T, t_0 = 1.0, 1e-3
(a_T, a_0), (sg_T, sg_0) = (
    ns.marginal_alpha(torch.tensor([t_T, t_0])).tolist(),
    ns.marginal_std(torch.tensor([t_T, t_0])).tolist(),
)


def ode_map(scale):
    """x_0 = A x_T + B for d x~/d sigma~ = guided eps, solved with scipy (exact)."""

    def eps(xt, sb, mu, sk):  # a Gaussian's exact eps in (x~, sigma~)
        return sb * (xt - mu) / (sk**2 + sb**2)

    def rhs(log_sb, y):  # y = (A, B): x~ = A x~_T + B, in log sigma~
        sb = np.exp(log_sb)
        slope = lambda xt: (
            eps(xt, sb, mu_u, s_u)
            + scale * (eps(xt, sb, mu_c, s_c) - eps(xt, sb, mu_u, s_u))
        )
        lin = slope(1.0) - slope(0.0)
        return sb * np.array([lin * y[0], lin * y[1] + slope(0.0)])

    sol = solve_ivp(
        rhs,
        (np.log(sg_T / a_T), np.log(sg_0 / a_0)),
        [1.0, 0.0],
        method="DOP853",
        rtol=1e-11,
        atol=1e-12,
    )
    A, B = sol.y[:, -1]
    return a_0 * A / a_T, a_0 * B


def target(scale, a, sg):
    """p_t(x)^(1-s) p_t(x|y)^s at noise level (a, sg): a Gaussian (mean, variance)."""
    v_u, v_c = (a * s_u) ** 2 + sg**2, (a * s_c) ** 2 + sg**2
    prec = (1 - scale) / v_u + scale / v_c
    return (scale * a * mu_c / v_c + (1 - scale) * a * mu_u / v_u) / prec, 1 / prec


gm_u, gm_c = GaussianMixture([[mu_u]], s_u), GaussianMixture([[mu_c]], s_c)


def model(x, t, cond):  # label 0: unconditional, 1: conditional
    e_u, e_c = gm_u.noise_fn(ns)(x, t), gm_c.noise_fn(ns)(x, t)
    return torch.where(cond[:, None] == 1, e_c, e_u)


z = torch.randn(
    20_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)
for scale in (1.0, 3.0):
    m_T, v_T = target(scale, a_T, sg_T)  # start from the target at t = T
    A, B = ode_map(scale)
    m, v = A * m_T + B, A**2 * v_T  # what the exact guided ODE outputs
    m_t, v_t = target(scale, a_0, sg_0)  # what guidance targets at t_0
    x_T = m_T + np.sqrt(v_T) * z
    fn = model_wrapper(
        model,
        ns,
        guidance_type="classifier-free",
        condition=torch.ones(len(z), dtype=torch.long),
        unconditional_condition=torch.zeros(len(z), dtype=torch.long),
        guidance_scale=scale,
    )
    x = sample(
        fn,
        x_T,
        ns,
        method="dpmsolver++",
        steps=200,
        skip_type="logSNR",
        t_end=t_0,
        order=2,
    )
    print(f"s = {scale}: ODE gives N({m:.3f}, {v:.4f}), target N({m_t:.3f}, {v_t:.4f})")
    assert (x - (A * x_T + B)).abs().max().item() < 1e-3  # the sampler follows the ODE
    if scale == 1.0:
        assert abs(m - m_t) < 1e-6 and abs(v - v_t) < 1e-6
    else:
        assert abs(v - v_t) > 0.2 * v_t  # guidance does not hit its target
