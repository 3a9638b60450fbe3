"""Rectified flow on an exact Gaussian mixture, and its relation to DDIM and the PF-ODE.

Straight interpolation x_t = (1 - t) x_0 + t eps (t = 0 data, t = 1 noise):
alpha_t = 1 - t, sigma_t = t.
1. The marginal velocity v(x, t) = E[eps - x_0 | x_t = x], computed here in closed form,
   equals (eps_hat - x) / (1 - t) with eps_hat the VP model's noise prediction at the
   same log-SNR.
2. The conditional flow-matching loss has v as its minimiser: L(v + d) - L(v) = E|d|^2.
3. One DDIM step with alpha = 1 - t, sigma = t is exactly one Euler step of dx/dt = v.
4. Solving dx/dt = v with scipy reproduces GaussianMixture.pf_ode_solve (VP schedule)
   after rescaling.
5. 1-D reflow: the ODE map is the monotone quantile map, so the straight lines of the
   new coupling never cross (the reflowed flow is straight), while one Euler step of the
   first flow collapses every sample onto the data mean.
"""

import numpy as np
import torch
from difflearn.data import GaussianMixture, mixture_2d
from difflearn.schedules import NoiseScheduleVP
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from scipy.stats import norm

ns = NoiseScheduleVP("linear")
gm = mixture_2d("two")


def rf_velocity(x, t, mix=gm):
    """E[eps - x_0 | x_t = x] for x_t = (1 - t) x_0 + t eps, from the mixture's Gaussian
    posteriors.
    """
    mu, s2, w = mix.means.numpy(), (mix.stds**2).numpy(), mix.weights.numpy()
    V = (1 - t) ** 2 * s2 + t**2  # (K,) variance of x_t | k
    diff = x[:, None, :] - (1 - t) * mu[None]  # (B, K, D)
    logp = np.log(w) - 0.5 * (diff**2).sum(-1) / V - 0.5 * x.shape[1] * np.log(V)
    r = np.exp(logp - logp.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)  # p(k | x_t)
    e_eps = t / V[None, :, None] * diff  # E[eps | x_t, k]
    e_x0 = mu[None] + ((1 - t) * s2 / V)[None, :, None] * diff  # E[x_0 | x_t, k]
    return (r[:, :, None] * (e_eps - e_x0)).sum(1)


def vp_time(t):
    """The VP time with the same log-SNR: lambda = log((1 - t) / t)."""
    return ns.inverse_lambda(torch.tensor([np.log((1 - t) / t)], dtype=torch.float64))


def eps_hat_rf(x, t):
    """The VP model's noise prediction, evaluated at the VP point
    with the same noise.
    """
    tau = vp_time(t)
    x_vp = (
        torch.from_numpy(x) * ns.marginal_alpha(tau) / (1 - t)
    )  # x_vp = x * alpha_tau / (1 - t)
    return gm.eps(x_vp, tau, ns).numpy()


rng = np.random.default_rng(0)
x = rng.normal(size=(256, 2)) * 2
# 1. velocity = reparametrised noise prediction
for t in (0.05, 0.3, 0.6, 0.95):
    assert np.allclose(
        rf_velocity(x, t), (eps_hat_rf(x, t) - x) / (1 - t), rtol=1e-7, atol=1e-9
    ), t

# 2. conditional flow matching: the minimiser of E|u(x_t, t) - (eps - x_0)|^2 is v,
#    because L(v + d) - L(v) = E|d|^2 + 2 E[d . (v - (eps - x_0))] and the last
#    expectation is 0 given x_t
gen = torch.Generator().manual_seed(1)
gap, size = 0.0, 0.0
for t in np.linspace(0.02, 0.98, 20):  # 20 time slices, 10k pairs each
    x0 = gm.sample(10_000, generator=gen).numpy()
    eps = rng.normal(size=x0.shape)
    xt = (1 - t) * x0 + t * eps
    v, target, delta = (
        rf_velocity(xt, t),
        eps - x0,
        0.3 * np.sin(3 * xt),
    )  # delta: any field d(x_t)
    gap += (((v + delta - target) ** 2).sum(1) - ((v - target) ** 2).sum(1)).mean() / 20
    size += (delta**2).sum(1).mean() / 20
assert abs(gap / size - 1) < 0.03, (gap, size)

# 3. DDIM step with alpha_t = 1 - t, sigma_t = t  ==  Euler step of dx/dt = v
t_, s_ = 0.7, 0.4
e = eps_hat_rf(x, t_)
ddim = (1 - s_) * (x / (1 - t_) + (s_ / (1 - s_) - t_ / (1 - t_)) * e)
euler = x + (s_ - t_) * (e - x) / (1 - t_)
assert np.allclose(ddim, euler, rtol=1e-12, atol=1e-12)

# 4. the rectified-flow ODE is the VP probability-flow ODE in other coordinates
x_T = torch.randn(
    64, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64
)
t_T, t_0 = 1.0, 1e-3
a, sg = (
    ns.marginal_alpha(torch.tensor([t_T, t_0], dtype=torch.float64)).numpy(),
    ns.marginal_std(torch.tensor([t_T, t_0], dtype=torch.float64)).numpy(),
)
r = sg / (a + sg)  # RF times [T, 0] with the same log-SNR
sol = solve_ivp(
    lambda tt, y: rf_velocity(y.reshape(-1, 2), tt).reshape(-1),
    (r[0], r[1]),
    (x_T.numpy() / (a[0] + sg[0])).reshape(-1),
    method="DOP853",
    rtol=1e-10,
    atol=1e-10,
)
x_rf = sol.y[:, -1].reshape(-1, 2) * (a[1] + sg[1])  # back to VP scale
x_vp = gm.pf_ode_solve(x_T, t_T, t_0, ns).numpy()
assert np.abs(x_rf - x_vp).max() < 1e-6, np.abs(x_rf - x_vp).max()
print("RF velocity == reparametrised PF-ODE; DDIM == Euler on the RF ODE")

# 5. reflow in 1-D
gm1 = GaussianMixture([[-2.0], [1.0]], [0.4, 0.6], [0.4, 0.6])
z = torch.linspace(-2.5, 2.5, 41, dtype=torch.float64)[:, None]
T_z = gm1.pf_ode_solve(z, 1.0, 1e-3, ns)[:, 0].numpy()  # noise -> data map (t_0 = 1e-3)
marg = gm1.marginal(ns, 1e-3)
m_, sd_, w_ = marg.means[:, 0].numpy(), marg.stds.numpy(), marg.weights.numpy()
cdf = lambda xx: (w_ * norm.cdf((xx - m_) / sd_)).sum()
# x_T here is N(0, 1) but the exact marginal at T = 1 has alpha_T = 0.0066;
# use its CDF for the quantiles
marg_T = gm1.marginal(ns, 1.0)
mT, sdT, wT = marg_T.means[:, 0].numpy(), marg_T.stds.numpy(), marg_T.weights.numpy()
levels = [(wT * norm.cdf((zz - mT) / sdT)).sum() for zz in z[:, 0].numpy()]  # F_T(z)
quantile_map = np.array(
    [brentq(lambda xx, u=u: cdf(xx) - u, -20, 20, xtol=1e-13) for u in levels]
)
assert np.abs(T_z - quantile_map).max() < 1e-6  # the ODE map is the monotone map
assert np.all(np.diff(T_z) > 0)
for tt in np.linspace(0, 1, 11):  # reflow lines never cross
    assert np.all(np.diff((1 - tt) * T_z + tt * z[:, 0].numpy()) > 0)
one_step = (
    z[:, 0].numpy() - rf_velocity(z.numpy(), 1.0, gm1)[:, 0]
)  # Euler from t = 1 to 0, first flow
assert np.allclose(one_step, (gm1.weights * gm1.means[:, 0]).sum().item(), atol=1e-12)
print(
    "1-D reflow: straight; one Euler step of the first flow gives the data mean "
    "for every sample"
)
