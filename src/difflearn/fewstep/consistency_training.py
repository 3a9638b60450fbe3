r"""Training consistency models: distillation from a teacher (Song et al., 2023,
Algorithm 2) and training without one (Algorithm 3, with the improved recipe of Song &
Dhariwal, 2024).

Both draw a pair of adjacent noise levels $\sigma_n < \sigma_{n+1}$ of a discretisation
of $[\sigma_{\min}, \sigma_{\max}]$ (EDM's, $\rho = 7$) and ask the network to give the
same answer at both points of one ODE path:

$$\mathcal L = \mathbb E\,\lambda(\sigma_n)\, d\big(f_\theta(\tilde x_{n+1},
\sigma_{n+1}),\ f_{\theta^-}(\hat x_n, \sigma_n)\big),
\qquad \tilde x_{n+1} = x_0 + \sigma_{n+1} z.$$

**Distillation (CD)**: $\hat x_n$ is one ODE step of the teacher from
$\tilde x_{n+1}$: DDIM, which is Euler's method in $(\tilde x, \tilde\sigma)$, or
Heun's method (`teacher_solver`), the paper's two solvers. $\theta^-$ is an exponential
moving average of $\theta$ ($\mu = 0.95$), $\lambda = 1$, $d$ the squared $\ell_2$
distance.

**Training (CT)**: without a teacher, $\hat x_n = x_0 + \sigma_n z$, the Euler step
with the one-sample score estimate $-(\tilde x - x_0)/\sigma^2$, which is unbiased.
The improved recipe (iCT, Song & Dhariwal, 2024) sets $\theta^- = \theta$ (no EMA in
the target), uses the pseudo-Huber distance
$d(a, b) = \sqrt{\|a - b\|^2 + c^2} - c$ with $c = 0.00054\sqrt{D}$, the weight
$\lambda(\sigma_n) = 1/(\sigma_{n+1} - \sigma_n)$, draws $n$ with
probability proportional to the log-normal mass of $[\sigma_n, \sigma_{n+1}]$,
$P_{\text{mean}} = -1.1$, $P_{\text{std}} = 2$ (the lognormal noise schedule), and
doubles the number of levels $N$ during training from $s_0 = 10$ to $s_1 = 1280$.
"""

from __future__ import annotations

import copy
import math

import torch

from ..model_wrapper import model_wrapper
from ..training.loop import ema_update
from .common import column, unwrap
from .consistency import SIGMA_DATA, consistency_function


# --8<-- [start:karras_sigmas]
def karras_sigmas(sigma_min: float, sigma_max: float, n: int, rho: float = 7.0):
    r"""`n` increasing levels $\sigma_i = (\sigma_{\min}^{1/\rho} + \frac{i}{n-1}
    (\sigma_{\max}^{1/\rho} - \sigma_{\min}^{1/\rho}))^\rho$ (float64), the first
    exactly $\sigma_{\min}$."""
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(
            f"need 0 < sigma_min < sigma_max, got {sigma_min!r}, {sigma_max!r}"
        )
    ramp = torch.linspace(0, 1, n, dtype=torch.float64)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (lo + ramp * (hi - lo)) ** rho
    sigmas[0] = sigma_min
    return sigmas


# --8<-- [end:karras_sigmas]


# --8<-- [start:ict_recipe]
def ict_levels(k: int, total: int, s0: int = 10, s1: int = 1280) -> int:
    r"""iCT's number of levels at step $k$ of $K$ (Song & Dhariwal, 2024):
    $N(k) = \min(s_0 2^{\lfloor k/K'\rfloor}, s_1) + 1$,
    $K' = \lfloor K / (\log_2\lfloor s_1/s_0\rfloor + 1)\rfloor$."""
    k_prime = max(1, math.floor(total / (math.log2(s1 // s0) + 1)))
    return min(s0 * 2 ** (k // k_prime), s1) + 1


def lognormal_index_probs(sigmas, p_mean: float = -1.1, p_std: float = 2.0):
    r"""$p(n) \propto \operatorname{erf}\frac{\ln\sigma_{n+1} - P_{\text{mean}}}
    {\sqrt2 P_{\text{std}}} - \operatorname{erf}\frac{\ln\sigma_n - P_{\text{mean}}}
    {\sqrt2 P_{\text{std}}}$ for the $N - 1$ pairs."""
    cdf = torch.erf((torch.log(sigmas) - p_mean) / (math.sqrt(2) * p_std))
    p = cdf[1:] - cdf[:-1]
    return p / p.sum()


def pseudo_huber(a, b, c: float):
    r"""$\sqrt{\|a - b\|^2 + c^2} - c$ per sample (the norm over all but dim 0)."""
    return torch.sqrt((a - b).pow(2).flatten(1).sum(1) + c**2) - c


# --8<-- [end:ict_recipe]


def _pick(sigmas, probs, u):
    """Index n of the pair (sigma_n, sigma_n+1) for uniforms u, by inverse CDF."""
    cdf = torch.cumsum(probs, 0)
    return torch.searchsorted(cdf, u.cpu() * cdf[-1]).clamp(max=len(probs) - 1)


class ConsistencyDistillation:
    r"""`loss(model, batch)` of consistency distillation for `difflearn.training.fit`
    (batches of `make_index_batch_fn`). It keeps the target network $\theta^-$, an EMA
    of the model with decay `target_decay`, updated before every step."""

    def __init__(
        self,
        teacher_fn,
        noise_schedule,
        sigma_min: float,
        sigma_max: float = 80.0,
        levels: int = 18,
        target_decay: float = 0.95,
        model_type: str = "v",
        sigma_data: float = SIGMA_DATA,
        teacher_solver: str = "euler",
    ):
        if not 0.0 <= target_decay < 1.0:
            raise ValueError(f"target_decay must lie in [0, 1), got {target_decay!r}")
        if teacher_solver not in ("euler", "heun"):
            allowed = ("euler", "heun")
            raise ValueError(
                f"teacher_solver must be one of {allowed}, got {teacher_solver!r}"
            )
        self.teacher_fn, self.ns, self.model_type = (
            teacher_fn,
            noise_schedule,
            model_type,
        )
        self.heun = teacher_solver == "heun"
        self.sigmas = karras_sigmas(sigma_min, sigma_max, levels)
        self.sigma_min, self.sigma_data = sigma_min, sigma_data
        self.target_decay, self.target = target_decay, None

    # --8<-- [start:cd_loss]
    def __call__(self, model, batch):
        if self.target is None:  # theta^- starts at theta
            self.target = copy.deepcopy(unwrap(model)).eval().requires_grad_(False)
        else:
            ema_update(self.target, unwrap(model), self.target_decay)
        n = (batch["u"].cpu() * (len(self.sigmas) - 1)).long()  # (B,) in 0..N-2
        s_n, s_next = self.sigmas[n], self.sigmas[n + 1]
        x0, z = batch["x0"], batch["eps"]
        x_next = x0 + column(s_next, x0) * z  # x~ at sigma_n+1
        f = self._f(model)
        with torch.no_grad():  # one Euler (= DDIM) step of the teacher, then theta^-
            teacher = self._f(self.teacher_fn, raw=True)
            h = column(s_n - s_next, x0)
            eps = teacher(x_next, s_next)
            x_n = x_next + h * eps
            if self.heun:  # Heun: average the slopes at both ends
                x_n = x_next + h * 0.5 * (eps + teacher(x_n, s_n))
            target = self._f(self.target)(x_n, s_n)
        return (f(x_next, s_next) - target).pow(2).flatten(1).mean(1).mean()

    # --8<-- [end:cd_loss]

    def _f(self, model, raw: bool = False):
        if raw:  # the teacher's noise prediction at (alpha x~, t(sigma))

            def eps(x_ve, sigma):
                t = self.ns.sigma_to_t(sigma)
                alpha = torch.from_numpy(self.ns.marginals(t).alpha)
                return model(column(alpha, x_ve) * x_ve, t.to(x_ve.device, x_ve.dtype))

            return eps
        fn = model_wrapper(model, self.ns, model_type=self.model_type)
        return consistency_function(fn, self.ns, self.sigma_min, self.sigma_data)


class ConsistencyTraining:
    r"""`loss(model, batch)` of improved consistency training (iCT) for
    `difflearn.training.fit`: no teacher, $\theta^- = \theta$, pseudo-Huber, log-normal
    levels, $1/\Delta\sigma$ weights and the doubling schedule of $N$ over
    `total_steps`. Counts its calls to know the training step."""

    def __init__(
        self,
        noise_schedule,
        total_steps: int,
        sigma_min: float,
        sigma_max: float = 80.0,
        s0: int = 10,
        s1: int = 1280,
        p_mean: float = -1.1,
        p_std: float = 2.0,
        model_type: str = "v",
        sigma_data: float = SIGMA_DATA,
    ):
        self.ns, self.model_type, self.total = noise_schedule, model_type, total_steps
        self.sigma_min, self.sigma_max, self.sigma_data = (
            sigma_min,
            sigma_max,
            sigma_data,
        )
        self.s0, self.s1, self.p_mean, self.p_std = s0, s1, p_mean, p_std
        self.step = 0

    def levels(self) -> int:
        return ict_levels(self.step, self.total, self.s0, self.s1)

    # --8<-- [start:ct_loss]
    def __call__(self, model, batch):
        sigmas = karras_sigmas(self.sigma_min, self.sigma_max, self.levels())
        probs = lognormal_index_probs(sigmas, self.p_mean, self.p_std)
        n = _pick(sigmas, probs, batch["u"])  # (B,)
        s_n, s_next = sigmas[n], sigmas[n + 1]
        x0, z = batch["x0"], batch["eps"]
        fn = model_wrapper(model, self.ns, model_type=self.model_type)
        f = consistency_function(fn, self.ns, self.sigma_min, self.sigma_data)
        with torch.no_grad():  # theta^- = stopgrad(theta)
            target = f(x0 + column(s_n, x0) * z, s_n)
        pred = f(x0 + column(s_next, x0) * z, s_next)
        c = 0.00054 * math.sqrt(x0[0].numel())
        weight = (1.0 / (s_next - s_n)).to(x0)
        self.step += 1
        return (weight * pseudo_huber(pred, target, c)).mean()

    # --8<-- [end:ct_loss]


__all__ = [
    "ConsistencyDistillation",
    "ConsistencyTraining",
    "ict_levels",
    "karras_sigmas",
    "lognormal_index_probs",
    "pseudo_huber",
]
