"""Exercise: Analytic-DPM for Gaussian data, where every quantity has a closed form.

Data N(0, s^2): q_n = N(0, v_n) with v_n = ab_n s^2 + bb_n (bb = 1 - ab), so the score
is -x / v_n and Gamma_n = 1 / v_n. Put that into the boxed formula. The reference is
Gaussian conditioning in the DDIM family's joint: x_m = sqrt(ab_m) x0 + k (x_n -
sqrt(ab_n) x0) + nu xi gives Cov(x_m, x_n) = sqrt(ab_m ab_n) s^2 + k bb_n and Var(x_m |
x_n) = v_m - Cov^2 / v_n.
"""

import numpy as np
from difflearn import alphas_cumprod_from_betas, beta_schedule

ab = alphas_cumprod_from_betas(beta_schedule("linear", 1000)).numpy()
bb = 1 - ab


def boxed(n, m, nu2, gamma):
    c = np.sqrt(ab[m] * bb[n] / ab[n]) - np.sqrt(bb[m] - nu2)
    return nu2 + c**2 * (1 - bb[n] * gamma)


def conditioning(n, m, nu2, s2):
    v_n, v_m = ab[n] * s2 + bb[n], ab[m] * s2 + bb[m]
    k = np.sqrt(bb[m] - nu2) / np.sqrt(bb[n])
    cov = np.sqrt(ab[m] * ab[n]) * s2 + k * bb[n]
    return v_m - cov**2 / v_n


worst = 0.0
for s2 in (0.25, 1.0, 4.0):
    for n in range(1, 1000):  # DDPM steps m = n - 1
        m = n - 1
        nu2 = bb[m] / bb[n] * (1 - ab[n] / ab[m])  # beta~_n: the DDPM member
        a, b = boxed(n, m, nu2, 1 / (ab[n] * s2 + bb[n])), conditioning(n, m, nu2, s2)
        worst = max(worst, abs(a - b) / b)
    for n, m in ((999, 899), (500, 400), (150, 50)):  # DDIM skips, nu = 0
        a, b = boxed(n, m, 0.0, 1 / (ab[n] * s2 + bb[n])), conditioning(n, m, 0.0, s2)
        worst = max(worst, abs(a - b) / b)
print(f"largest relative difference: {worst:.1e}")
assert worst < 1e-9
