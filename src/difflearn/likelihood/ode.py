r"""Exact log-likelihoods through the probability-flow ODE (Song et al., 2021b,
Sec. 4.3).

The probability-flow ODE $dx/dt = F(x, t)$ carries the data distribution to the prior
without losing mass, so the density along a solution changes only through the
divergence of the flow — the instantaneous change of variables of neural ODEs (Chen et
al., 2018, Theorem 1):

$$\frac{d\log p_t(x_t)}{dt} = -\nabla\!\cdot F(x_t, t)
\quad\Longrightarrow\quad
\log p_{t_0}(x_{t_0}) = \log p_T(x_T) + \int_{t_0}^{T}\nabla\!\cdot F(x_t, t)\,dt .$$

With $F = f(t)\,x + \frac{g^2(t)}{2\sigma_t}\hat\varepsilon(x, t)$, the divergence is
$D f(t) + \frac{g^2(t)}{2\sigma_t}
\operatorname{tr}\frac{\partial\hat\varepsilon}{\partial x}$.
The trace is computed exactly with $D$ vector–Jacobian products (small $D$), or
estimated without bias by Hutchinson's estimator
$\operatorname{tr}J = \mathbb E_z[z^\top J z]$ for probes with $\mathbb E[zz^\top] = I$
(Hutchinson, 1990; Grathwohl et al., 2019), one product per probe. As in score_sde, the
probes are drawn once per sample and kept fixed along the solve, so the estimate is a
smooth ODE that RK45 can integrate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from ..samplers.core import NonFiniteError
from ..samplers.rk45 import pf_ode_coefficients

DIVERGENCES = ("exact", "hutchinson")
PROBES = ("rademacher", "gaussian")


# --8<-- [start:divergence]
def divergence_exact(fn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$\big(\mathrm{fn}(x),\ \operatorname{tr}\partial\mathrm{fn}/\partial x\big)$ for
    `x` (B, D): one vector–Jacobian product per dimension."""
    with torch.inference_mode(False), torch.enable_grad():  # also under no_grad
        x = x.detach().clone().requires_grad_(True)
        out = fn(x)  # (B, D)
        div = torch.zeros(x.shape[0], dtype=out.dtype, device=x.device)
        for i in range(x.shape[1]):
            (g,) = torch.autograd.grad(out[:, i].sum(), x, retain_graph=True)
            div = div + g[:, i]
    return out.detach(), div.detach()


def divergence_hutchinson(
    fn, x: torch.Tensor, probes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$\big(\mathrm{fn}(x),\ \frac1K\sum_k z_k^\top
    \tfrac{\partial\mathrm{fn}}{\partial x} z_k\big)$ with `probes` $z$ of shape
    (K, B, D): one product per probe."""
    with torch.inference_mode(False), torch.enable_grad():  # also under no_grad
        x = x.detach().clone().requires_grad_(True)
        out = fn(x)  # (B, D)
        div = torch.zeros(x.shape[0], dtype=out.dtype, device=x.device)
        for z in probes:
            (g,) = torch.autograd.grad(out, x, grad_outputs=z, retain_graph=True)
            div = div + (g * z).sum(1)  # z^T J z
    return out.detach(), div.detach() / len(probes)


def draw_probes(shape, n_probes: int, kind: str, generator=None) -> torch.Tensor:
    """`n_probes` probes of `shape` (B, D): Rademacher (+-1) or standard Gaussian."""
    if kind not in PROBES:
        raise ValueError(f"probe must be one of {PROBES}, got {kind!r}")
    if isinstance(n_probes, bool) or not isinstance(n_probes, int) or n_probes < 1:
        raise ValueError(f"n_probes must be an int >= 1, got {n_probes!r}")
    z = torch.randn((n_probes, *shape), generator=generator, dtype=torch.float64)
    return torch.sign(z) if kind == "rademacher" else z


# --8<-- [end:divergence]


@dataclass
class Likelihood:
    """What `pf_ode_log_likelihood` returns (all (B,) float64 but `nfe`)."""

    log_p: torch.Tensor  # log p_{t_start}(x): prior term + integrated divergence
    prior_log_p: torch.Tensor  # log p_T(x_T) at the end of the solve
    delta_log_p: torch.Tensor  # the integral of the divergence
    x_T: torch.Tensor  # the latent the ODE maps x to
    nfe: int  # model evaluations (one per right-hand side)


def standard_normal_log_p(x: torch.Tensor) -> torch.Tensor:
    r"""$\log\mathcal N(x; 0, I)$ per sample, for `x` (B, D)."""
    return -0.5 * (x**2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi)


# --8<-- [start:pf_ode_log_likelihood]
def pf_ode_log_likelihood(
    model_fn,
    x: torch.Tensor,
    noise_schedule,
    t_start: float = 1e-5,
    t_end: float | None = None,
    divergence: str = "exact",
    n_probes: int = 1,
    probe: str = "rademacher",
    generator: torch.Generator | None = None,
    prior_log_p=standard_normal_log_p,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> Likelihood:
    r"""$\log p_{t_\text{start}}(x)$ of the probability-flow ODE of `model_fn` (a noise
    prediction `model_fn(x, t)`, as `model_wrapper` returns), by RK45 from `t_start`
    to `t_end` (default: the schedule's `T`) on the augmented state
    $(x_t, \int \nabla\!\cdot F)$.

    `x` is (B, ...), flattened to (B, D). `divergence` is `"exact"` (D products per
    evaluation) or `"hutchinson"` (`n_probes` products, `probe` Rademacher or
    Gaussian, drawn from `generator`). `prior_log_p(x_T)` is the log-density of the
    end point (default: standard normal, the VP prior of score_sde).
    """
    if divergence not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {DIVERGENCES}, got {divergence!r}")
    t_end = float(noise_schedule.T if t_end is None else t_end)
    if not 0 <= t_start < t_end:
        raise ValueError(f"need 0 <= t_start < t_end, got {t_start!r}, {t_end!r}")
    noise_schedule.check_t(torch.tensor([t_start, t_end]), name="t_start, t_end")
    B, shape = x.shape[0], x.shape
    D = x[0].numel()
    dtype, device = x.dtype, x.device
    probes = None
    if divergence == "hutchinson":
        probes = draw_probes((B, D), n_probes, probe, generator).to(device, dtype)
    nfe = 0

    def rhs(t, y):
        nonlocal nfe
        f, k = pf_ode_coefficients(noise_schedule, t)
        xt = torch.from_numpy(y[: B * D]).reshape(B, D).to(device, dtype)
        tt = torch.full((B,), t, dtype=torch.float64).to(device, dtype)
        eps_fn = lambda z: model_fn(z.reshape(shape), tt).reshape(B, D)  # noqa: E731
        if probes is None:
            eps, tr = divergence_exact(eps_fn, xt)
        else:
            eps, tr = divergence_hutchinson(eps_fn, xt, probes)
        nfe += 1
        if not bool(torch.isfinite(eps).all()):
            raise NonFiniteError(f"model output is NaN or inf at t={t:.6g}")
        dx = f * xt.double() + k * eps.double()  # F(x, t)
        div = D * f + k * tr.double()  # its divergence
        return np.concatenate([dx.cpu().numpy().reshape(-1), div.cpu().numpy()])

    y0 = np.concatenate(
        [x.detach().to("cpu", torch.float64).numpy().reshape(-1), np.zeros(B)]
    )
    sol = solve_ivp(rhs, (float(t_start), t_end), y0, "RK45", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"RK45 failed: {sol.message}")
    y = torch.from_numpy(np.ascontiguousarray(sol.y[:, -1]))
    x_T, delta = y[: B * D].reshape(B, D), y[B * D :]
    prior = prior_log_p(x_T).to(torch.float64)
    return Likelihood(prior + delta, prior, delta, x_T.reshape(shape), nfe)


# --8<-- [end:pf_ode_log_likelihood]


# --8<-- [start:bits_per_dim]
def bits_per_dim(log_p: torch.Tensor, dim: int, bin_width: float | None = None):
    r"""Negative log-likelihood in bits per dimension, $-\log_2 p / D$.

    For discrete data dequantized by uniform noise over bins of width $\Delta$ (in the
    units of $x$), $P(\text{bin}) \ge \exp\mathbb E_u[\log p(x + u)]\,\Delta^D$
    (Theis et al., 2016), so the bound in bits per dimension is
    $-\log_2 p(x + u)/D - \log_2\Delta$.
    """
    bpd = -log_p / (dim * math.log(2.0))
    if bin_width is not None:
        if not bin_width > 0:
            raise ValueError(f"bin_width must be > 0, got {bin_width!r}")
        bpd = bpd - math.log2(bin_width)
    return bpd


# --8<-- [end:bits_per_dim]


__all__ = [
    "DIVERGENCES",
    "Likelihood",
    "PROBES",
    "bits_per_dim",
    "divergence_exact",
    "divergence_hutchinson",
    "draw_probes",
    "pf_ode_log_likelihood",
    "standard_normal_log_p",
]
