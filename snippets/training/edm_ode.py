# EDM's general ODE (Karras et al., 2022, eq. 4) with s(t) = alpha_t, sigma(t) =
# sigma_t / alpha_t is the VP probability-flow ODE; and the preconditioning makes the
# network's input and target unit-variance at every noise level.
import math

import torch
from difflearn import GaussianMixture, NoiseScheduleVP
from difflearn.samplers.rk45 import pf_ode_coefficients
from difflearn.training.edm import edm_preconditioning

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5]], [0.3, 0.5])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x = torch.randn(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def s_and_sigma(t):  # EDM's scale s(t) and noise level sigma(t) for the VP schedule
    m = ns.marginals([t])
    return float(m.alpha[0]), float(m.sigma[0] / m.alpha[0])


for t in (0.05, 0.3, 0.8):
    h = 1e-5  # s-dot and sigma-dot by central differences
    (s, sig), (s_p, sig_p), (s_m, sig_m) = (s_and_sigma(v) for v in (t, t + h, t - h))
    s_dot, sig_dot = (s_p - s_m) / (2 * h), (sig_p - sig_m) / (2 * h)
    # grad_x log p(x / s; sigma) = grad_x log p_t(x): the score of the noisy marginal
    score = gm.score(x, torch.tensor([t]), ns)
    edm = s_dot / s * x - s**2 * sig_dot * sig * score
    f, k = pf_ode_coefficients(ns, t)  # VP: dx/dt = f x + g^2/(2 sigma_t) eps
    vp = f * x + k * gm.eps(x, torch.tensor([t]), ns)
    assert torch.allclose(edm, vp, rtol=1e-6, atol=1e-6), t
print("EDM ODE with s = alpha_t, sigma = sigma_t/alpha_t == VP probability-flow ODE")

# preconditioning: for data of std sigma_data, c_in x and the effective target
# F* = (x0 - c_skip x) / c_out both have unit variance, at every sigma
sigma_data, n = 0.5, 400_000
g = torch.Generator().manual_seed(1)
x0 = sigma_data * torch.randn(n, generator=g, dtype=torch.float64)
for sigma in (0.01, 0.5, 20.0):
    x_noisy = x0 + sigma * torch.randn(n, generator=g, dtype=torch.float64)
    c_skip, c_out, c_in, c_noise = edm_preconditioning(
        torch.tensor(sigma, dtype=torch.float64), sigma_data
    )
    target = (x0 - c_skip * x_noisy) / c_out
    print(
        f"sigma = {sigma:5}: c_skip {c_skip:.4f}, c_out {c_out:.4f}, c_in {c_in:.4f}, "
        f"c_noise {c_noise:+.3f}; var(c_in x) {(c_in * x_noisy).var():.4f}, "
        f"var(target) {target.var():.4f}"
    )
    assert abs((c_in * x_noisy).var() - 1) < 0.01 and abs(target.var() - 1) < 0.01
    # the loss weight 1 / c_out^2 turns lambda(sigma) ||D - x0||^2 into ||F - F*||^2
    lam = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
    assert math.isclose(lam, 1 / c_out**2, rel_tol=1e-12)
