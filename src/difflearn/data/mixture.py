r"""Exact ground truth: a Gaussian mixture whose noisy marginals are in closed form.

If the data are a mixture $p_0(x) = \sum_k w_k\, \mathcal N(x; \mu_k, s_k^2 I)$, then
for any VP schedule the noisy marginal $x_t = \alpha_t x_0 + \sigma_t \varepsilon$ is
again a mixture,

$$p_t(x) = \sum_k w_k\, \mathcal N\big(x;\ \alpha_t \mu_k,\ v_k(t) I\big),
\qquad v_k(t) = \alpha_t^2 s_k^2 + \sigma_t^2 ,$$

so the score, the noise prediction
$\varepsilon^*(x, t) = -\sigma_t \nabla_x \log p_t(x)$ and the posterior mean
$\mathbb E[x_0 \mid x_t]$ (Tweedie's formula) are exact. With them a sampler can be
measured without training anything: its error against a high-accuracy solve of the
probability-flow ODE (`GaussianMixture.pf_ode_solve`) is its discretisation error and
nothing else.

The 2-D point clouds of `difflearn.data.toy2d` (moons, swiss roll, checkerboard) are
for pictures; this mixture is the oracle that tests and benchmarks rest on.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.integrate import solve_ivp

TIME_INPUTS = ("continuous", "discrete")


def alpha_sigma(ns, t, dtype=torch.float64):
    r"""$(\alpha_t, \sigma_t)$ of schedule `ns` at times `t` (from `ns.marginals`), as
    `dtype` tensors.
    """
    m = ns.marginals(t)
    return torch.as_tensor(m.alpha, dtype=dtype), torch.as_tensor(m.sigma, dtype=dtype)


class GaussianMixture:
    r"""The mixture $\sum_k w_k \mathcal N(\mu_k, s_k^2 I)$ in $D$ dimensions, with
    exact marginals.

    - `means`: (K, D) component means $\mu_k$.
    - `stds`: (K,) component standard deviations $s_k$, or one float for all.
    - `weights`: (K,) mixture weights (normalised here); `None` means uniform.
    - `dtype`: dtype of every computation (float64 by default; outputs are cast back
      to the input's dtype).
    """

    def __init__(self, means, stds=1.0, weights=None, dtype=torch.float64):
        self.dtype = dtype
        self.means = torch.as_tensor(means, dtype=dtype)
        if self.means.ndim != 2:
            raise ValueError(
                f"means must have shape (K, D), got {tuple(self.means.shape)}"
            )
        K, self.dim = self.means.shape
        self.stds = torch.as_tensor(stds, dtype=dtype).expand(K).clone()
        if self.stds.shape != (K,) or bool((self.stds < 0).any()):
            raise ValueError(
                f"stds must be a float or K={K} non-negative values, got {stds!r}"
            )
        w = (
            torch.ones(K, dtype=dtype)
            if weights is None
            else torch.as_tensor(weights, dtype=dtype)
        )
        if w.shape != (K,) or bool((w <= 0).any()):
            raise ValueError(
                f"weights must be None or K={K} positive values, got {weights!r}"
            )
        self.weights = w / w.sum()

    def __repr__(self) -> str:
        return f"GaussianMixture(K={len(self.weights)}, D={self.dim})"

    def sample(self, n: int, generator=None, return_labels: bool = False):
        """Draw `n` samples (n, D) (and their component labels (n,))."""
        y = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, dtype=self.dtype, generator=generator)
        x = self.means[y] + self.stds[y, None] * z
        return (x, y) if return_labels else x

    # --8<-- [start:component_log_probs]
    def _component_log_probs(self, x, alpha, sigma):
        r"""$\log w_k + \log\mathcal N(x; \alpha\mu_k, v_k I)$ (B, K) and the variances
        $v_k$ (B, K).
        """
        var = (alpha * self.stds) ** 2 + sigma**2  # (B, K)
        diff = x[:, None, :] - alpha[:, :, None] * self.means[None]  # (B, K, D)
        sq = (diff**2).sum(-1)  # (B, K)
        log_n = -0.5 * sq / var - 0.5 * self.dim * torch.log(2 * math.pi * var)
        return torch.log(self.weights) + log_n, var, diff

    # --8<-- [end:component_log_probs]

    def _prepare(self, x, t, ns):
        x = torch.as_tensor(x)
        x64 = x.to(self.dtype).reshape(x.shape[0], -1)
        if x64.shape[1] != self.dim:
            raise ValueError(
                f"x must have {self.dim} features per sample, "
                f"got shape {tuple(x.shape)}"
            )
        if ns is None:  # t = 0: the data distribution itself
            alpha, sigma = (
                torch.ones(1, dtype=self.dtype),
                torch.zeros(1, dtype=self.dtype),
            )
        else:
            alpha, sigma = alpha_sigma(
                ns, torch.as_tensor(t).detach().cpu(), self.dtype
            )
        alpha = alpha.to(x64.device).expand(x64.shape[0])[:, None]  # (B, 1)
        sigma = sigma.to(x64.device).expand(x64.shape[0])[:, None]
        return x, x64, alpha, sigma

    def log_prob(self, x):
        """log-density of the data distribution at `x` (B, D) -> (B,)."""
        _, x64, a, s = self._prepare(x, None, None)
        return torch.logsumexp(self._component_log_probs(x64, a, s)[0], dim=1)

    def marginal(self, ns, t) -> GaussianMixture:
        r"""The exact distribution of $x_t$ (a scalar `t`): means $\alpha_t\mu_k$, stds
        $\sqrt{v_k(t)}$.
        """
        alpha, sigma = alpha_sigma(ns, t, self.dtype)
        alpha, sigma = float(alpha[0]), float(sigma[0])
        return GaussianMixture(
            alpha * self.means,
            torch.sqrt((alpha * self.stds) ** 2 + sigma**2),
            self.weights,
            self.dtype,
        )

    def class_posterior(self, x, t, ns):
        r"""$p(k \mid x_t)$ (B, K): the components' responsibilities at time $t$."""
        _, x64, a, s = self._prepare(x, t, ns)
        return torch.softmax(self._component_log_probs(x64, a, s)[0], dim=1)

    # --8<-- [start:score]
    def _score(self, x64, alpha, sigma, y=None):
        r"""The score, all (B, D):

        $$\nabla_x \log p_t(x) = -\sum_k p(k \mid x_t)\,
        (x - \alpha_t \mu_k) / v_k(t).$$
        """
        logp, var, diff = self._component_log_probs(x64, alpha, sigma)
        if y is not None:  # condition on the label y (label -1: unconditional)
            y = torch.as_tensor(y, device=x64.device).expand(x64.shape[0])
            keep = (torch.arange(logp.shape[1], device=x64.device) == y[:, None]) | (
                y[:, None] < 0
            )
            logp = logp.masked_fill(~keep, -math.inf)
        resp = torch.softmax(logp, dim=1)  # (B, K)
        return -(resp[:, :, None] * diff / var[:, :, None]).sum(1)  # (B, D)

    # --8<-- [end:score]

    def score(self, x, t, ns, y=None):
        r"""The exact score $\nabla_x \log p_t(x)$ (of $p_t(x \mid y)$ given labels
        `y`).
        """
        x, x64, a, s = self._prepare(x, t, ns)
        return self._score(x64, a, s, y).reshape(x.shape).to(x.dtype)

    # --8<-- [start:eps_x0]
    def eps(self, x, t, ns, y=None):
        r"""The exact noise prediction
        $\varepsilon^*(x_t, t) = -\sigma_t \nabla_x \log p_t(x_t)$.
        """
        x, x64, a, s = self._prepare(x, t, ns)
        return (-s * self._score(x64, a, s, y)).reshape(x.shape).to(x.dtype)

    def x0(self, x, t, ns, y=None):
        r"""Tweedie:
        $\mathbb E[x_0 \mid x_t] = (x_t + \sigma_t^2 \nabla \log p_t(x_t)) / \alpha_t$.
        """
        x, x64, a, s = self._prepare(x, t, ns)
        return (
            ((x64 + s**2 * self._score(x64, a, s, y)) / a).reshape(x.shape).to(x.dtype)
        )

    # --8<-- [end:eps_x0]

    @staticmethod
    def _to_continuous(t, ns, time_input):
        if time_input not in TIME_INPUTS:
            raise ValueError(
                f"time_input must be one of {TIME_INPUTS}, got {time_input!r}"
            )
        t = torch.as_tensor(t)
        # model_wrapper feeds discrete-time models t_input = 1000 (t - 1/N)
        return t / 1000.0 + 1.0 / ns.total_N if time_input == "discrete" else t

    def noise_fn(self, ns, y=None, time_input: str = "continuous"):
        r"""An exact noise-prediction model `eps(x, t, y=None)`.

        `t` is continuous time (or, with `time_input='discrete'`, the 0..999 time input
        that `model_wrapper` gives discrete-time models). `y` fixes a class label (int
        or (B,) tensor) for a conditional model; a `y` passed at call time overrides it,
        and the label -1 means unconditional (for classifier-free guidance).
        """
        default_y = y

        def eps(x, t, y=None):
            return self.eps(
                x,
                self._to_continuous(t, ns, time_input),
                ns,
                default_y if y is None else y,
            )

        return eps

    def classifier_fn(self, ns, time_input: str = "continuous"):
        r"""An exact classifier `(x, t, y) -> log p(y | x_t)` (B,), differentiable in
        `x`.
        """

        def log_p_y(x, t, y):
            t = self._to_continuous(t, ns, time_input)
            xx = x.reshape(x.shape[0], -1).to(self.dtype)
            alpha, sigma = alpha_sigma(
                ns, torch.as_tensor(t).detach().cpu(), self.dtype
            )
            a = alpha.to(x.device).expand(x.shape[0])[:, None]
            s = sigma.to(x.device).expand(x.shape[0])[:, None]
            logp = torch.log_softmax(self._component_log_probs(xx, a, s)[0], dim=1)
            y = torch.as_tensor(y, device=x.device).expand(x.shape[0])
            return logp.gather(1, y[:, None].long())[:, 0].to(x.dtype)

        return log_p_y

    # --8<-- [start:pf_ode_solve]
    def pf_ode_solve(self, x_T, t_T, t_0, ns, rtol=1e-10, atol=1e-10):
        r"""Solve the probability-flow ODE from `t_T` to `t_0` with scipy (DOP853).

        In the scaled variables $\bar x = x/\alpha_t$ and
        $\bar\sigma = \sigma_t/\alpha_t$ the ODE reads
        $d\bar x / d\bar\sigma = \varepsilon^*(x_t, t)$ (Song et al., 2021a, eq. 14),
        and for a mixture $\varepsilon^*$ depends on $(\bar x, \bar\sigma)$ only:

        $$\varepsilon^* = \sum_k p(k \mid \bar x)\,
        \bar\sigma (\bar x - \mu_k) / (s_k^2 + \bar\sigma^2).$$

        So the schedule enters only through the two end points. We integrate in
        $\log\bar\sigma$, where the solution is smooth, and return $x_{t_0}$ (B, D).
        """
        (a_T,), (s_T,) = (v.tolist() for v in alpha_sigma(ns, [t_T], self.dtype))
        (a_0,), (s_0,) = (v.tolist() for v in alpha_sigma(ns, [t_0], self.dtype))
        shape, B = x_T.shape, x_T.shape[0]
        means, var0, logw = (
            self.means.numpy(),
            (self.stds**2).numpy(),
            torch.log(self.weights).numpy(),
        )

        def rhs(log_sbar, y):  # d xbar / d log(sbar) = sbar * eps
            sbar = math.exp(log_sbar)
            xbar = y.reshape(B, self.dim)
            var = var0 + sbar**2  # (K,)
            diff = xbar[:, None, :] - means[None]  # (B, K, D)
            logp = logw - 0.5 * (diff**2).sum(-1) / var - 0.5 * self.dim * np.log(var)
            resp = np.exp(logp - logp.max(1, keepdims=True))
            resp /= resp.sum(1, keepdims=True)
            eps = sbar * (resp[:, :, None] * diff / var[:, None]).sum(1)
            return (sbar * eps).reshape(-1)

        y0 = (x_T.reshape(B, -1).to(self.dtype) / a_T).cpu().numpy().reshape(-1)
        sol = solve_ivp(
            rhs,
            (math.log(s_T / a_T), math.log(s_0 / a_0)),
            y0,
            method="DOP853",
            rtol=rtol,
            atol=atol,
        )
        if not sol.success:
            raise RuntimeError(f"pf_ode_solve failed: {sol.message}")
        x0bar = torch.as_tensor(sol.y[:, -1], dtype=self.dtype)
        return (a_0 * x0bar).reshape(shape)

    # --8<-- [end:pf_ode_solve]


MIXTURES_2D = ("ring8", "grid9", "two", "spiral")


def mixture_2d(name: str) -> GaussianMixture:
    """Preset 2-D mixtures: `'ring8'` (8 modes on a circle), `'grid9'` (3x3 grid),
    `'two'` (two unequal modes) and `'spiral'` (12 small modes along a spiral)."""
    if name == "ring8":
        ang = torch.arange(8, dtype=torch.float64) * 2 * math.pi / 8
        return GaussianMixture(2.0 * torch.stack([ang.cos(), ang.sin()], 1), 0.15)
    if name == "grid9":
        g = torch.tensor([-1.5, 0.0, 1.5], dtype=torch.float64)
        return GaussianMixture(torch.cartesian_prod(g, g), 0.2)
    if name == "two":
        return GaussianMixture([[-1.0, -0.5], [1.5, 1.0]], [0.3, 0.6], [0.3, 0.7])
    if name == "spiral":
        th = torch.linspace(1.0, 4.0 * math.pi, 12, dtype=torch.float64)
        return GaussianMixture(
            0.2 * th[:, None] * torch.stack([th.cos(), th.sin()], 1), 0.12
        )
    raise ValueError(f"name must be one of {MIXTURES_2D}, got {name!r}")
