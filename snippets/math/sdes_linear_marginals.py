"""Linear SDEs dX = f(t) X dt + g(t) dW have Gaussian marginals; VE, VP and sub-VP by
simulation.

From a point mass X_0 = x0 the mean m and variance P solve
    m' = f m,        P' = 2 f P + g^2.
For the three SDEs of Song et al. (2021) the solutions are, with alpha_t from
NoiseScheduleVP('linear'),
    VE:      m = x0,                 P = sigma(t)^2 - sigma(0)^2
    VP:      m = alpha_t x0,         P = 1 - alpha_t^2
    sub-VP:  m = alpha_t x0,         P = (1 - alpha_t^2)^2
We check each closed form (a) against solve_ivp of the moment equations at
rtol = 1e-10 and (b) against Euler-Maruyama with M = 20000 seeded paths
(tolerance: 5 standard errors plus the O(h) bias of the scheme, h = 1/2000).
"""

import numpy as np
import torch
from difflearn.schedules import NoiseScheduleVP
from scipy.integrate import solve_ivp

vp = NoiseScheduleVP("linear")  # beta(t) = 0.1 + 19.9 t
alpha = lambda t: float(vp.marginal_alpha(torch.tensor(t, dtype=torch.float64)))
sigma_vp = lambda t: float(vp.marginal_std(torch.tensor(t, dtype=torch.float64)))
beta = lambda t: vp.beta_0 + t * (vp.beta_1 - vp.beta_0)
int_beta = lambda t: vp.beta_0 * t + 0.5 * (vp.beta_1 - vp.beta_0) * t**2
s_min, s_max = 0.01, 10.0
sigma_ve = lambda t: s_min * (s_max / s_min) ** t

sdes = {  # name: (f(t), g(t), closed-form mean factor, closed-form variance)
    "VE": (
        lambda t: 0.0,
        lambda t: sigma_ve(t) * np.sqrt(2 * np.log(s_max / s_min)),
        lambda t: 1.0,
        lambda t: sigma_ve(t) ** 2 - s_min**2,
    ),
    "VP": (
        lambda t: -0.5 * beta(t),
        lambda t: np.sqrt(beta(t)),
        alpha,
        lambda t: sigma_vp(t) ** 2,
    ),
    "sub-VP": (
        lambda t: -0.5 * beta(t),
        lambda t: np.sqrt(beta(t) * (1 - np.exp(-2 * int_beta(t)))),
        alpha,
        lambda t: (1 - alpha(t) ** 2) ** 2,
    ),
}

x0, M, n = 1.5, 20000, 2000
rng = np.random.default_rng(0)
checkpoints = {500: 0.25, 1000: 0.5, 2000: 1.0}
for name, (f, g, mean_factor, var) in sdes.items():
    # (a) the moment equations, solved numerically
    rhs = lambda t, y, f=f, g=g: [f(t) * y[0], 2 * f(t) * y[1] + g(t) ** 2]
    sol = solve_ivp(
        rhs,
        (0, 1),
        [x0, 0.0],
        t_eval=list(checkpoints.values()),
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
    )
    for j, t in enumerate(checkpoints.values()):
        assert abs(sol.y[0, j] - mean_factor(t) * x0) < 1e-8 * (1 + abs(x0))
        assert abs(sol.y[1, j] - var(t)) < 1e-8 * (1 + var(t))
    # (b) Euler-Maruyama
    X, h = np.full(M, x0), 1.0 / n
    for k in range(n):
        t = k * h
        X = X + f(t) * X * h + g(t) * np.sqrt(h) * rng.standard_normal(M)
        if k + 1 in checkpoints:
            t1 = checkpoints[k + 1]
            m_true, v_true = mean_factor(t1) * x0, var(t1)
            tol_m = 5 * np.sqrt(v_true / M) + 0.01 * (abs(m_true) + np.sqrt(v_true))
            tol_v = 5 * v_true * np.sqrt(2 / M) + 0.01 * v_true
            assert abs(X.mean() - m_true) < tol_m, (name, t1, X.mean(), m_true)
            assert abs(X.var() - v_true) < tol_v, (name, t1, X.var(), v_true)
    print(
        f"{name:7s} t = 1: mean {X.mean():8.4f} (exact {mean_factor(1.0) * x0:8.4f}),"
        f" var {X.var():9.4f} (exact {var(1.0):9.4f})"
    )

# the VP SDE is the limit of DDPM: N discrete steps with beta_n = beta(t_n) / N;
# the gap is O(1/N)
t = torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64)
gaps = []
for N in (1000, 10000):
    betas = torch.linspace(vp.beta_0 / N, vp.beta_1 / N, N, dtype=torch.float64)
    ddpm = NoiseScheduleVP("discrete", betas=betas, dtype=torch.float64)
    gaps.append(
        float(
            ((ddpm.marginal_alpha(t) - vp.marginal_alpha(t)) / vp.marginal_alpha(t))
            .abs()
            .max()
        )
    )
    print(
        f"DDPM with N = {N:5d} vs VP SDE: "
        f"largest relative difference of alpha_t = {gaps[-1]:.1e}"
    )
assert gaps[0] < 0.05 and gaps[1] < gaps[0] / 8
