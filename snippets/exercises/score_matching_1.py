"""Exercise: denoising score matching on Gaussian data, solved by least squares.

Data N(0, s^2), noise x~ = x + sigma z. The noisy density is N(0, s^2 + sigma^2), so the
best score is -x~ / (s^2 + sigma^2). Fit the model s(x~) = a x~ + b to the DSM target
-(x~ - x) / sigma^2 = -z / sigma by ordinary least squares: prediction a -> -1/(s^2 +
sigma^2) and b -> 0, although no single target ever equals the score.
"""

import numpy as np

rng = np.random.default_rng(0)
n = 1_000_000
for s2, sigma in ((1.0, 0.5), (0.25, 1.0), (4.0, 0.1)):
    x = np.sqrt(s2) * rng.standard_normal(n)
    z = rng.standard_normal(n)
    xt = x + sigma * z
    target = -z / sigma
    a, b = np.polyfit(xt, target, 1)
    # standard error of a slope: residual sd / (sd of the regressor * sqrt(n))
    resid_var = s2 / (sigma**2 * (s2 + sigma**2))  # Var(target | x~), Gaussian
    se = np.sqrt(resid_var / (n * (s2 + sigma**2)))
    a_star = -1 / (s2 + sigma**2)
    print(f"s^2={s2}, sigma={sigma}: a = {a:.4f} (theory {a_star:.4f} +- {se:.4f})")
    assert abs(a - a_star) < 5 * se and abs(b) < 5 * np.sqrt(resid_var / n)
