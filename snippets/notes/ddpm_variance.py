r"""Fixed-small, fixed-large and learned reverse variances, on Gaussian data where
everything is exact.

For data N(0, s^2) (per dimension) the marginal of x_t is N(0, v_t),
v_t = abar_t s^2 + 1 - abar_t, and the true reverse step q(x_{t-1} | x_t) is Gaussian
with variance v_{t-1} beta_t / v_t (Gaussian conditioning).
1. That optimal variance is beta_tilde_t for s = 0 and beta_t for s = 1, lies between
   them for 0 < s < 1 (so improved DDPM's log-space interpolation reaches it with
   v in [0, 1]) and exceeds beta_t for s > 1.
2. Ancestral sampling with the exact noise predictor on a 10-step respaced schedule: the
   final sample variance, from an exact linear recursion and from 200000 seeded samples
   (5 standard errors).
"""

import numpy as np
from difflearn.schedules import alphas_cumprod_from_betas, beta_schedule

abar_full = alphas_cumprod_from_betas(beta_schedule("linear", 1000)).numpy()


def schedule(steps):
    """abar at `steps` evenly spaced training steps, and the betas of the respaced
    chain.
    """
    ab = abar_full[np.linspace(0, 999, steps).round().astype(int)]
    ab_prev = np.concatenate([[1.0], ab[:-1]])
    return ab, ab_prev, 1 - ab / ab_prev


# ---- 1. the optimal reverse variance against the two fixed choices -------------------
ab, ab_prev, beta = schedule(1000)
beta_tilde = (1 - ab_prev) / (1 - ab) * beta
for s in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
    v, v_prev = ab * s**2 + 1 - ab, ab_prev * s**2 + 1 - ab_prev
    opt = (v_prev * beta / v)[1:]  # skip t = 1, where beta_tilde = 0
    lo, hi = beta_tilde[1:], beta[1:]
    if s == 0.0:
        assert np.allclose(opt, lo, rtol=1e-12)
    elif s == 1.0:
        assert np.allclose(opt, hi, rtol=1e-12)
    elif s < 1:
        assert np.all((opt > lo) & (opt < hi))
        frac = (np.log(opt) - np.log(lo)) / (
            np.log(hi) - np.log(lo)
        )  # improved DDPM's v
        print(
            f"s = {s}: learned-variance interpolation v ranges over "
            f"[{frac.min():.3f}, {frac.max():.3f}]"
        )
    else:
        assert np.all(opt > hi)


# ---- 2. what the choice does to samples ----------------------------------------------
def final_variance(s, kind, steps, n=0, seed=0):
    """Run the sampler on x_T ~ N(0, 1) with the exact eps of N(0, s^2); exact
    recursion or n samples.
    """
    ab, ab_prev, beta = schedule(steps)
    rng = np.random.default_rng(seed)
    V, x = 1.0, rng.standard_normal(n)
    for i in reversed(range(steps)):
        v_t = ab[i] * s**2 + 1 - ab[i]
        eps_coef = np.sqrt(1 - ab[i]) / v_t  # eps*(x) = eps_coef * x, exactly
        c = (1 - beta[i] / np.sqrt(1 - ab[i]) * eps_coef) / np.sqrt(
            1 - beta[i]
        )  # mean = c x
        var = {
            "small": (1 - ab_prev[i]) / (1 - ab[i]) * beta[i],
            "large": beta[i],
            "optimal": (ab_prev[i] * s**2 + 1 - ab_prev[i]) * beta[i] / v_t,
        }[kind]
        var = var if i > 0 else 0.0  # no noise on the last step
        V = c**2 * V + var
        x = c * x + np.sqrt(var) * rng.standard_normal(n)
    return V, x


print(" data var   steps   fixed-small   fixed-large   optimal")
for s in (0.5, 1.0):
    for steps in (1000, 10):
        row = {k: final_variance(s, k, steps)[0] for k in ("small", "large", "optimal")}
        print(
            f"{s**2:9.2f}   {steps:5d}   {row['small']:11.4f}   {row['large']:11.4f}"
            f"   {row['optimal']:7.4f}"
        )
        assert (
            abs(row["optimal"] - s**2) < 2e-3 * s**2 + 1e-4
        )  # exact but for the noiseless last step
        if steps == 1000:
            assert abs(row["small"] - s**2) < 0.02 and abs(row["large"] - s**2) < 0.02
    assert final_variance(1.0, "small", 10)[0] < 0.6  # fixed-small shrinks N(0, 1) data

V, x = final_variance(1.0, "small", 10, n=200_000)
assert abs(x.var() - V) < 5 * V * np.sqrt(
    2 / len(x)
)  # the recursion is what sampling does
