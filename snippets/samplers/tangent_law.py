"""DDIM on Gaussian data: the error of any grid in closed form, and the best grid
(uniform in theta = arctan(sigma~ / s), the tangent law), which optimise_grid finds.
"""

import numpy as np
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample, time_steps
from difflearn.samplers import optimise_grid

ns = NoiseScheduleVP("linear")
s = 0.5
gm = GaussianMixture([[0.3, -0.2]], s)  # the data: N(mu, s^2 I)
eps = gm.noise_fn(ns)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
exact = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)  # scipy, rtol = atol = 1e-10
centre = float(ns.marginals([1e-3]).alpha[0]) * gm.means[0]  # alpha_N mu


def theta(t):  # theta = arctan(sigma~ / s), sigma~ = sigma_t / alpha_t
    return np.arctan(ns.marginals(t).sigma_ve / s)


def relative_error(t):  # |x_DDIM - x*| / |x* - alpha mu|: the same for every sample
    rel = (sample(eps, x_T, ns, "ddim", timesteps=t) - exact).norm(dim=1)
    return (rel / (exact - centre).norm(dim=1)).numpy()


N = 5
th = np.linspace(*theta([1.0, 1e-3]), N + 1)  # uniform in theta
tangent = ns.inverse_lambda(torch.as_tensor(-np.log(s * np.tan(th))))
tangent[0], tangent[-1] = 1.0, 1e-3
grids = {
    k: time_steps(ns, k, 1.0, 1e-3, N, dtype=torch.float64)
    for k in ("time_uniform", "logSNR", "time_quadratic", "karras")
}
grids["tangent"] = tangent
for name, t in grids.items():
    closed = 1.0 - np.prod(np.cos(np.diff(theta(t))))  # 1 - prod cos(d theta_i)
    measured = relative_error(t)
    print(f"{name:15s} closed form {closed:.5f}  measured {measured.mean():.5f}")
    assert np.allclose(measured, closed, rtol=1e-6)
assert all(
    relative_error(tangent).max() < relative_error(t).min()
    for k, t in grids.items()
    if k != "tangent"
)

# the optimiser, told nothing about Gaussians, finds the tangent grid
r = optimise_grid(eps, x_T[:16], ns, "ddim", N, init="logSNR", maxfev=400)
print("optimised lambda:", np.round(r.lam, 4))
print("tangent lambda:  ", np.round(ns.marginals(tangent).lam, 4))
assert np.allclose(r.lam, ns.marginals(tangent).lam, atol=2e-3)
