r"""The straight path of rectified flow and flow matching, as a schedule samplers use.

Rectified flow (Liu et al., 2023) and flow matching with the optimal-transport path
(Lipman et al., 2023), as trained by Stable Diffusion 3 (Esser et al., 2024), move data
to noise along straight lines,

$$x_t = (1 - t)\,x_0 + t\,\varepsilon, \qquad t \in [0, 1]
\quad (t = 0 \text{ data}, t = 1 \text{ noise}),$$

so $\alpha_t = 1 - t$, $\sigma_t = t$ and $\lambda_t = \log\frac{1-t}{t}$. This is not
variance preserving ($\alpha_t^2 + \sigma_t^2 < 1$ inside), but nothing in the sampler
core assumes that: DDIM, DPM-Solver++, UniPC and the EDM samplers are written in
$\alpha_t$, $\sigma_t$ and $\lambda_t$ only. So a `FlowSchedule` plays the role of a
`NoiseScheduleVP` for `make_grid`, the exact mixture (`GaussianMixture.eps(x, t, flow)`
is then the exact noise prediction under the straight path) and `model_wrapper`
(`model_type="flow"` turns a velocity $\hat v = \hat\varepsilon - \hat x_0$ into
$\hat\varepsilon = x_t + (1 - t)\hat v$).

At equal $\lambda$ the straight path is a rescaled VP path:
$x^{\text{VP}} = x_t / \sqrt{(1-t)^2 + t^2}$, which is why the probability-flow ODEs of
the two give the same samples after rescaling.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validate import check_number, check_times
from .vp import Marginals


class FlowSchedule:
    r"""The straight path $\alpha_t = 1 - t$, $\sigma_t = t$ on $t \in [0, 1]$.

    Args:
        t_min: the smallest time a sampler may stop at (default 0: exactly the data).
    """

    schedule = "flow"
    T = 1.0
    total_N = 1000  # the time input of a model is 1000 t (`model_input_time`)

    def __init__(self, t_min: float = 0.0):
        self.t_min = check_number("t_min", t_min, 0.0, 1.0, hi_open=True)

    def __repr__(self) -> str:
        return f"FlowSchedule(t_min={self.t_min})"

    # --8<-- [start:flow_marginals]
    def marginals(self, t, lambdas=None) -> Marginals:
        r"""$\alpha_t = 1 - t$, $\sigma_t = t$, $\lambda_t = \log(1 - t) - \log t$ ."""
        t = check_times(self, t).numpy()  # float64, inside [t_min, 1]
        with np.errstate(divide="ignore"):
            log_alpha = np.log1p(-t)
            lam = (
                log_alpha - np.log(t)
                if lambdas is None
                else np.asarray(lambdas, np.float64)
            )
        return Marginals(t, log_alpha, 1.0 - t, t.copy(), lam.reshape(-1))

    # --8<-- [end:flow_marginals]

    def marginal_log_mean_coeff(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\log\alpha_t = \log(1 - t)$."""
        return torch.log1p(-t)

    def marginal_alpha(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\alpha_t = 1 - t$."""
        return 1.0 - t

    def marginal_std(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\sigma_t = t$."""
        return t

    def marginal_lambda(self, t: torch.Tensor) -> torch.Tensor:
        r"""$\lambda_t = \log\frac{1 - t}{t}$."""
        return torch.log1p(-t) - torch.log(t)

    def inverse_lambda(self, lamb: torch.Tensor) -> torch.Tensor:
        r"""$t = 1 / (1 + e^{\lambda})$: the time of half log-SNR `lamb`."""
        return torch.sigmoid(-lamb)

    def sigma_to_t(self, sigma_ve: torch.Tensor) -> torch.Tensor:
        r"""The time of EDM noise level $\tilde\sigma = t / (1 - t)$.

        $t = \tilde\sigma / (1 + \tilde\sigma)$.
        """
        return sigma_ve / (1.0 + sigma_ve)

    def time_domain(self) -> tuple[float, float]:
        """`(t_min, 1)`: the times of the path a sampler may visit."""
        return self.t_min, self.T

    def check_t(self, t, eps: float | None = None, name: str = "t"):
        """Raise a ValueError if any time in `t` is NaN or lies outside
        `[t_min, 1]`.
        """
        check_times(self, t, name, lo=eps)
        return torch.as_tensor(t)


# --8<-- [start:shift_t]
def shift_t(t: torch.Tensor, shift: float) -> torch.Tensor:
    r"""The resolution shift of SD3: $t \mapsto a t / (1 + (a - 1) t)$ ($a$ = `shift`).

    It keeps $t = 0$ and $t = 1$ and multiplies the noise-to-signal ratio
    $\sigma_t / \alpha_t = t / (1 - t)$ by $a$ everywhere in between.
    """
    shift = check_number("shift", shift, 0.0, lo_open=True)
    return shift * t / (1.0 + (shift - 1.0) * t)


# --8<-- [end:shift_t]


__all__ = ["FlowSchedule", "shift_t"]
