r"""The DDPM posterior q(x_{t-1} | x_t, x_0), three ways.

1. The closed form of Ho et al. (2020), eq. 6-7:
   mean = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0
          + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t,
   var  = (1 - abar_{t-1}) / (1 - abar_t) beta_t.
2. Gaussian conditioning of the joint of (x_{t-1}, x_t) given x_0.
3. Bayes' rule on a grid: q(x_t | x_{t-1}) q(x_{t-1} | x_0), normalised numerically.
Plus the noise form of the mean: (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t).
"""

import numpy as np
from difflearn.schedules import alphas_cumprod_from_betas, beta_schedule
from scipy.integrate import trapezoid
from scipy.stats import norm

betas = beta_schedule("linear", 1000).numpy()  # beta_1 .. beta_N (index 0 holds beta_1)
abar = alphas_cumprod_from_betas(betas).numpy()
rng = np.random.default_rng(0)

for t in (2, 10, 100, 500, 1000):  # 1-based step index, as in the paper
    b, ab, ab_prev = betas[t - 1], abar[t - 1], abar[t - 2]
    a = 1 - b
    x0, eps = rng.standard_normal(2)
    xt = np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps

    # 1. closed form
    mean = (
        np.sqrt(ab_prev) * b / (1 - ab) * x0
        + np.sqrt(a) * (1 - ab_prev) / (1 - ab) * xt
    )
    var = (1 - ab_prev) / (1 - ab) * b

    # 2. Gaussian conditioning: x_{t-1} = sqrt(ab_prev) x0 + ...,
    #    x_t = sqrt(a) x_{t-1} + sqrt(b) z
    mu1, mu2 = np.sqrt(ab_prev) * x0, np.sqrt(ab) * x0
    S11, S12, S22 = 1 - ab_prev, np.sqrt(a) * (1 - ab_prev), 1 - ab
    assert abs(S22 - (a * S11 + b)) < 1e-15  # the forward step's variance adds up
    assert abs(mean - (mu1 + S12 / S22 * (xt - mu2))) < 1e-12
    assert abs(var - (S11 - S12**2 / S22)) < 1e-12

    # 3. Bayes' rule on a grid
    #    (the product of two Gaussian densities in x_{t-1}, normalised)
    sd = np.sqrt(var)
    grid = np.linspace(mean - 12 * sd, mean + 12 * sd, 20001)
    dens = norm.pdf(xt, np.sqrt(a) * grid, np.sqrt(b)) * norm.pdf(
        grid, mu1, np.sqrt(S11)
    )
    dens /= trapezoid(dens, grid)
    m_grid = trapezoid(grid * dens, grid)
    v_grid = trapezoid((grid - m_grid) ** 2 * dens, grid)
    assert abs(m_grid - mean) < 1e-8 and abs(v_grid / var - 1) < 1e-6

    # the same mean written with the noise instead of x0
    assert abs(mean - (xt - b / np.sqrt(1 - ab) * eps) / np.sqrt(a)) < 1e-10
    print(
        f"t = {t:4d}: mean {mean:+.6f}, var {var:.3e} (beta_t {b:.3e}):"
        " closed form, conditioning and grid agree"
    )
