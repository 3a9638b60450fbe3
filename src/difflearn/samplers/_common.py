r"""What every sampler shares: the precomputed time grid and the loop around the model.

A sampler receives N + 1 times $t_0 > t_1 > \dots > t_N$ (our index runs in the order of
sampling, from the noisiest time down). `make_grid` evaluates $\alpha_t$, $\sigma_t$ and
$\lambda_t$ at all of them once, in float64 on the CPU, so a sampler can turn them into
per-step coefficients (plain Python floats) before its loop. Inside the loop a step is a
handful of tensor operations: no schedule interpolation and no host-device
synchronisation (on a GPU the finiteness check is deferred to the end of the loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


# --8<-- [start:grid]
@dataclass
class Grid:
    """The time grid of one sampling call, with the schedule evaluated on it (all float64)."""

    t: np.ndarray        # (N + 1,) times, in sampling order
    alpha: np.ndarray    # alpha_t
    sigma: np.ndarray    # sigma_t
    lam: np.ndarray      # lambda_t = log(alpha_t / sigma_t)
    t_model: torch.Tensor  # (N + 1,) the same times on the model's device and dtype

    @property
    def steps(self) -> int:
        return len(self.t) - 1

    @property
    def sigma_ve(self) -> np.ndarray:
        r"""$\tilde\sigma_t = \sigma_t / \alpha_t = e^{-\lambda_t}$, the EDM/VE noise level."""
        return self.sigma / self.alpha


def schedule_at(noise_schedule, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""$(\alpha_t, \sigma_t, \lambda_t)$ as float64 arrays ($\sigma_t$ via `expm1`: no cancellation)."""
    t64 = torch.as_tensor(t).detach().to("cpu", torch.float64).reshape(-1)
    log_alpha = noise_schedule.marginal_log_mean_coeff(t64).to(torch.float64)
    sigma = torch.sqrt(-torch.expm1(2.0 * log_alpha))
    return torch.exp(log_alpha).numpy(), sigma.numpy(), (log_alpha - torch.log(sigma)).numpy()


def make_grid(noise_schedule, timesteps, x: torch.Tensor, increasing: bool = False) -> Grid:
    """Check `timesteps` (1-D, at least 2 entries, strictly monotone, inside [0, T]) and tabulate it."""
    ts = torch.as_tensor(timesteps)
    if ts.ndim != 1 or len(ts) < 2:
        raise ValueError(f"timesteps must be a 1-D tensor of at least 2 times, got shape {tuple(ts.shape)}")
    t64 = ts.detach().to("cpu", torch.float64)
    d = t64[1:] - t64[:-1]
    if not bool((d > 0).all() if increasing else (d < 0).all()):
        order = "increasing" if increasing else "decreasing"
        raise ValueError(f"timesteps must be strictly {order}, got {t64.tolist()}")
    noise_schedule.check_t(t64, name="timesteps")
    alpha, sigma, lam = schedule_at(noise_schedule, t64)
    time_dtype = torch.promote_types(x.dtype, torch.float32) if x.is_floating_point() else torch.float32
    return Grid(t64.numpy(), alpha, sigma, lam, t64.to(x.device, time_dtype))
# --8<-- [end:grid]


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def noise_source(x: torch.Tensor, generator=None, noise_sampler=None):
    """A callable returning fresh N(0, I) noise shaped like `x` (or `noise_sampler` itself)."""
    if noise_sampler is not None:
        return noise_sampler
    return lambda: torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


# --8<-- [start:runner]
class Runner:
    """The loop around a sampler: model calls with a finiteness guard, the callback, tqdm.

    `callback`, if given, is called once per step with a dict holding `x_t` (the state at
    time `t`), `t`, the step index `i` and `x0_pred` (the model's estimate of $x_0$ there).
    """

    def __init__(self, model_fn, x, grid: Grid, callback=None, progress=False, desc="sampling"):
        self.model_fn, self.grid, self.user_callback = model_fn, grid, callback
        self.progress, self.desc, self.batch = progress, desc, x.shape[0]
        self.deferred = x.device.type != "cpu"   # on a GPU: check once at the end, no sync per step
        self.flags, self.where = [], []
        self.nfe = 0

    def eps(self, x, i, t=None):
        """The model's noise prediction at `x` and grid time `i` (or the model-time tensor `t`)."""
        t = self.grid.t_model[i] if t is None else t
        out = self.model_fn(x, t.expand(self.batch))
        self.nfe += 1
        finite = torch.isfinite(out).all()
        if self.deferred:
            self.flags.append(finite)
            self.where.append((i, t))
        elif not bool(finite):
            self._fail(i, t)
        return out

    def _fail(self, i, t):
        raise FloatingPointError(f"the model output at step {i} (t={float(t):.6g}) contains NaN or inf")

    def callback(self, i, x, eps):
        if self.user_callback is not None:
            a, s = self.grid.alpha[i], self.grid.sigma[i]
            self.user_callback({"x_t": x, "t": self.grid.t_model[i], "i": i, "x0_pred": (x - s * eps) / a})

    def range(self, n: int):
        if not self.progress:
            return range(n)
        from tqdm.auto import tqdm
        return tqdm(range(n), desc=self.desc)

    def done(self, x):
        if self.flags:
            ok = torch.stack(self.flags)
            if not bool(ok.all()):  # the only synchronisation, after the loop
                self._fail(*self.where[int((~ok).nonzero()[0])])
        return x
# --8<-- [end:runner]


def x0_from_eps(x, eps, grid: Grid, i: int):
    r"""$\hat x_0 = (x_t - \sigma_t \hat\varepsilon) / \alpha_t$ at grid point `i`."""
    return (x - grid.sigma[i] * eps) / grid.alpha[i]


# --8<-- [start:step_orders]
def step_orders(order: int, steps: int, lower_order_final: bool, denoise_to_zero: bool) -> list[int]:
    """The order of multistep step k = 1..N: warm up from 1; with `lower_order_final`, never more
    than the number of steps left (the final denoising step counts as one)."""
    left = [steps + 1 + int(denoise_to_zero) - k for k in range(1, steps + 1)]
    return [min(order, k, left[k - 1]) if lower_order_final else min(order, k) for k in range(1, steps + 1)]
# --8<-- [end:step_orders]
