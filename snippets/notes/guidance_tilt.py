"""Classifier guidance on an exact 1-D mixture: what it computes and what it samples.

1. Bayes: grad log p_t(y | x) = score of p_t(x | y) - score of p_t(x), exactly.
2. Temperature: log softmax(logits / tau)_y = gamma log p(y | x) - log Z_gamma(x),
   gamma = 1/tau, with Z_gamma(x) = sum_k p(k | x)^gamma (not 1 unless gamma = 1).
3. p(x) p(y | x)^gamma summed over y has total mass E[Z_gamma] < 1 for gamma > 1: it is
   not the joint of any classifier with marginal p(x). The tempered classifier's joint
   has mass 1.
4. Sampling the guided probability-flow ODE gives p(x | y) exactly for gamma = 1, but
   for gamma = 4 it does not give the tilted law p(x) p(y | x)^4 / N: it is much
   sharper.
"""

import math

import numpy as np
import torch
from difflearn.data import GaussianMixture
from difflearn.schedules import NoiseScheduleVP
from scipy.integrate import solve_ivp
from scipy.special import roots_hermitenorm
from scipy.stats import norm

ns = NoiseScheduleVP("linear")
gm = GaussianMixture([[-2.0], [0.0], [2.0]], 0.5)  # three equal classes
log_p_y = gm.classifier_fn(ns)  # (x, t, y) -> log p_t(y | x)
y, K = 2, 3


def grad_log_p_y(x, t, gamma=1.0, tau=None):
    """gamma * grad log p_t(y | x), or grad log softmax(log p_t(. | x) / tau)_y if tau
    is given.
    """
    with torch.enable_grad():
        x_in = x.detach().requires_grad_(True)
        if tau is None:
            obj = gamma * log_p_y(x_in, t, y)
        else:
            logits = torch.stack([log_p_y(x_in, t, k) for k in range(K)], 1)  # (B, K)
            obj = torch.log_softmax(logits / tau, dim=1)[:, y]
        return torch.autograd.grad(obj.sum(), x_in)[0]


# 1. Bayes' rule for scores
g = torch.Generator().manual_seed(0)
x = 3 * torch.randn(256, 1, generator=g, dtype=torch.float64)
for t in (0.05, 0.3, 0.8):
    t = torch.tensor(t, dtype=torch.float64)
    lhs = grad_log_p_y(x, t)
    rhs = gm.score(x, t, ns, y=y) - gm.score(x, t, ns)
    assert torch.allclose(lhs, rhs, rtol=1e-9, atol=1e-10)

# 2. the temperature inside the log-softmax = power gamma = 1/tau minus the gradient
#    of log Z_gamma
t, tau = torch.tensor(0.3, dtype=torch.float64), 0.25
post = gm.class_posterior(x, t, ns)  # (B, K)
Z = (post ** (1 / tau)).sum(1)  # Z_gamma(x)
with torch.enable_grad():
    xi = x.clone().requires_grad_(True)
    log_Z = torch.log((gm.class_posterior(xi, t, ns) ** (1 / tau)).sum(1))
    grad_log_Z = torch.autograd.grad(log_Z.sum(), xi)[0]
assert torch.allclose(
    grad_log_p_y(x, t, tau=tau),
    grad_log_p_y(x, t, gamma=1 / tau) - grad_log_Z,
    atol=1e-9,
)
assert bool((Z < 1).all()) and float(Z.min()) < 0.6  # p(y|x)^4 is not normalised

# 3. total mass of p(x) p(y | x)^gamma over all classes, by quadrature at t = 0
xs = np.linspace(-8, 8, 32_001)
dx = xs[1] - xs[0]
X = torch.from_numpy(xs)[:, None]
p0 = np.exp(gm.log_prob(X).numpy())
post0 = (
    torch.stack([log_p_y(X, torch.tensor(1e-6), k) for k in range(K)], 1).exp().numpy()
)
for gamma in (2.0, 4.0):
    mass_power = (p0[:, None] * post0**gamma).sum() * dx
    tempered = post0**gamma / (post0**gamma).sum(1, keepdims=True)
    mass_tempered = (p0[:, None] * tempered).sum() * dx
    assert mass_power < 0.99 and abs(mass_tempered - 1) < 1e-9, (
        gamma,
        mass_power,
        mass_tempered,
    )
    print(
        f"gamma={gamma}: sum_y int p(x) p(y|x)^gamma dx = {mass_power:.4f}; "
        f"tempered: {mass_tempered:.6f}"
    )


# 4. solve the guided PF-ODE d xbar / d sbar = eps_guided (sbar = sigma/alpha) from 80
#    Gauss-Hermite quantiles of the tilted law at T; in 1-D the ODE map is monotone, so
#    the weighted nodes give the exact mean and variance of what the sampler produces.
def guided_sample_moments(gamma, t_T=1.0, t_0=1e-3):
    def tilted(t):
        tt = torch.tensor(t, dtype=torch.float64)
        d = np.exp(
            gm.marginal(ns, t).log_prob(X).numpy() + gamma * log_p_y(X, tt, y).numpy()
        )
        return d / (d.sum() * dx)

    def rhs(log_sbar, xbar):
        t = ns.inverse_lambda(torch.tensor([-log_sbar], dtype=torch.float64))
        xt = torch.from_numpy(xbar)[:, None] * ns.marginal_alpha(t)
        eps = gm.eps(xt, t, ns) - gamma * ns.marginal_std(t) * grad_log_p_y(
            xt, t, gamma=1.0
        )
        return math.exp(log_sbar) * eps[:, 0].numpy()

    dT = tilted(t_T)
    cdf = np.concatenate(
        [[0.0], np.cumsum(0.5 * (dT[1:] + dT[:-1]) * dx)]
    )  # trapezoid CDF
    z, wz = roots_hermitenorm(80)
    wz = wz / wz.sum()
    x_T = np.interp(norm.cdf(z), cdf, xs)  # tilted quantiles at T
    lam = ns.marginal_lambda(torch.tensor([t_T, t_0], dtype=torch.float64)).tolist()
    a_T, a_0 = ns.marginal_alpha(torch.tensor([t_T, t_0], dtype=torch.float64)).tolist()
    sol = solve_ivp(rhs, (-lam[0], -lam[1]), x_T / a_T, rtol=1e-9, atol=1e-9)
    x_0 = a_0 * sol.y[:, -1]
    m = (wz * x_0).sum()
    d0 = tilted(t_0)
    m_tilt = (d0 * xs).sum() * dx
    return m, (wz * x_0**2).sum() - m**2, m_tilt, (d0 * xs**2).sum() * dx - m_tilt**2


m, v, m_tilt, v_tilt = guided_sample_moments(1.0)
assert abs(m - m_tilt) < 1e-5 and abs(v - v_tilt) < 1e-5, (
    m,
    m_tilt,
    v,
    v_tilt,
)  # gamma=1: exactly p(x|y)
m, v, m_tilt, v_tilt = guided_sample_moments(4.0)
print(
    f"gamma=4: sampler mean {m:.3f} var {v:.3f};  "
    f"p(x)p(y|x)^4/N mean {m_tilt:.3f} var {v_tilt:.3f}"
)
assert m - m_tilt > 0.5 and v < 0.5 * v_tilt  # over-sharpened
