r"""The analytic first step: the first model call, replaced by a closed form.

At the start of sampling, $x_T = \alpha_T x_0 + \sigma_T\varepsilon$ with $\alpha_T$
tiny, so $x_T$ says almost nothing about $x_0$ and the optimal noise prediction is that
of a Gaussian with the data's mean $\mu$ and (diagonal) variance $v$:

$$\varepsilon^*(x_T) = \mathbb E[\varepsilon \mid x_T]
= \frac{\sigma_T\,(x_T - \alpha_T\mu)}{\alpha_T^2 v + \sigma_T^2},$$

exact when the data are that Gaussian. Zhou et al. (2024) use its $\alpha_T \to 0$
limit, $\varepsilon \approx x_T/\sigma_T$, to save the first call of a few-step sampler
("AFS"): the same budget then buys one more step.
"""

from __future__ import annotations

import torch


# --8<-- [start:analytic_first_step]
def analytic_first_step(model_fn, noise_schedule, t_start: float, mean=0.0, var=1.0):
    r"""`model_fn` with its calls at time `t_start` answered by the Gaussian
    $\varepsilon^*(x) = \sigma (x - \alpha\mu)/(\alpha^2 v + \sigma^2)$ instead of the
    model.

    `mean` and `var` broadcast against one sample (a float, or a tensor shaped like
    `x[0]`). The returned function counts the calls it answered in `.saved`.
    """
    p = noise_schedule.marginals([float(t_start)]).point(0)
    v_min = float(torch.as_tensor(var).min())
    if not v_min >= 0:  # zero is allowed: a constant pixel; sigma_T > 0 keeps it finite
        raise ValueError(f"var must be >= 0 everywhere, got a minimum of {v_min!r}")

    def eps(x, t):
        t0 = float(torch.as_tensor(t).reshape(-1)[0])
        if abs(t0 - p.t) > 1e-6 * max(1.0, abs(p.t)):
            return model_fn(x, t)
        eps.saved += 1
        mu = torch.as_tensor(mean, dtype=x.dtype, device=x.device)
        v = torch.as_tensor(var, dtype=x.dtype, device=x.device)
        return p.sigma * (x - p.alpha * mu) / (p.alpha**2 * v + p.sigma**2)

    eps.saved = 0
    return eps


# --8<-- [end:analytic_first_step]
