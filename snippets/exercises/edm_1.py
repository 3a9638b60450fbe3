"""Exercise: Heun is second order. Predict the error ratio, measure it exactly.

Reference: for data N(mu, s^2) the probability-flow ODE in x~, sigma~ is solved exactly
by x~(sigma~) - mu = (x~_T - mu) sqrt((s^2 + sigma~^2) / (s^2 + sigma~_T^2)) (the Score
SDEs exercise). Doubling the steps should divide Heun's error by 4 (and Euler's by 2),
on the Karras grid.
"""

import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample

mu, s = 0.8, 0.5
gm = GaussianMixture([[mu]], s)
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.linspace(-3, 3, 13, dtype=torch.float64)[:, None]
ts = torch.tensor([1.0, 1e-3], dtype=torch.float64)
(a_T, a_0), (g_T, g_0) = ns.marginal_alpha(ts).tolist(), ns.marginal_std(ts).tolist()
exact = a_0 * (
    mu
    + (x_T / a_T - mu)
    * math.sqrt((s**2 + (g_0 / a_0) ** 2) / (s**2 + (g_T / a_T) ** 2))
)
for method, order in (("euler", 1), ("heun", 2)):
    err = [
        (
            sample(
                gm.noise_fn(ns),
                x_T,
                ns,
                method=method,
                steps=n,
                skip_type="karras",
                t_end=1e-3,
            )
            - exact
        )
        .abs()
        .max()
        .item()
        for n in (50, 100, 200)
    ]
    slopes = [math.log2(err[i] / err[i + 1]) for i in range(2)]
    print(
        f"{method}: errors {[f'{e:.1e}' for e in err]}, "
        f"orders {[round(v, 2) for v in slopes]}"
    )
    assert all(abs(v - order) < 0.2 for v in slopes)
