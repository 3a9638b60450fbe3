r"""The sampler core: the precomputed time grid, the loop around the model, and one NaN
policy.

Every sampler of the package — the zoo and `DPM_Solver` alike — works the same way:

1. `make_grid` checks the N + 1 times $t_0 > t_1 > \dots > t_N$ (our index runs in the
   order of sampling, from the noisiest time down) and reads $\alpha_t$, $\sigma_t$,
   $\lambda_t$ off the schedule once, in float64 (`NoiseScheduleVP.marginals`);
   `at_times` / `at_sigmas` do the same for points between grid times;
2. the sampler turns them into per-step coefficients (plain Python floats);
3. its loop is a handful of tensor operations per step, with the model called through a
   `Runner`: no schedule interpolation and no host-device synchronisation inside the
   loop.

The `Runner` owns the NaN policy: a model output that is NaN or inf raises
`NonFiniteError` naming the step and the time — at once on the CPU, after the loop on a
GPU (so the loop never waits for the device).

Samplers written in EDM's variables (Karras et al., 2022) work with
$\tilde x = x/\alpha_t$ and the noise level
$\tilde\sigma = \sigma_t/\alpha_t = e^{-\lambda_t}$; `sigma_levels`, `at_sigmas`,
`to_ve` and `from_ve` are the whole of that plumbing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from ..schedules.vp import Marginals


class NonFiniteError(FloatingPointError, ValueError):
    """A model output became NaN or inf while sampling (the message names the step and
    the time).
    """


# --8<-- [start:grid]
@dataclass(frozen=True)
class Grid(Marginals):
    r"""Times of one sampling call with the schedule evaluated on them (float64 arrays).

    Besides `t`, `log_alpha`, `alpha`, `sigma`, `lam` (and `sigma_ve`) of `Marginals`,
    `t_model` holds the same times on the model's device and dtype.
    """

    t_model: torch.Tensor  # (n,) the times the model is called with

    @property
    def steps(self) -> int:
        return len(self.t) - 1


def _model_time_dtype(x: torch.Tensor) -> torch.dtype:
    return (
        torch.promote_types(x.dtype, torch.float32)
        if x.is_floating_point()
        else torch.float32
    )


def on_device(m: Marginals, x: torch.Tensor) -> Grid:
    """`m` with its times also on `x`'s device, in the dtype the model is
    called with.
    """
    t_model = torch.as_tensor(m.t).to(x.device, _model_time_dtype(x))
    return Grid(
        **{f.name: getattr(m, f.name) for f in fields(Marginals)}, t_model=t_model
    )


def at_times(noise_schedule, t, x: torch.Tensor, lambdas=None) -> Grid:
    """The schedule at the times `t` (any order), for a model that sees
    tensors like `x`.
    """
    return on_device(noise_schedule.marginals(t, lambdas), x)


def make_grid(
    noise_schedule, timesteps, x: torch.Tensor, increasing: bool = False
) -> Grid:
    """Check `timesteps` (1-D, at least 2 entries, strictly monotone, inside [0, T]) and
    tabulate it.
    """
    ts = torch.as_tensor(timesteps)
    if ts.ndim != 1 or len(ts) < 2:
        raise ValueError(
            "timesteps must be a 1-D tensor of at least 2 times, "
            f"got shape {tuple(ts.shape)}"
        )
    t64 = ts.detach().to("cpu", torch.float64)
    d = t64[1:] - t64[:-1]
    if not bool((d > 0).all() if increasing else (d < 0).all()):
        order = "increasing" if increasing else "decreasing"
        raise ValueError(f"timesteps must be strictly {order}, got {t64.tolist()}")
    noise_schedule.check_t(t64, name="timesteps")
    return at_times(noise_schedule, t64, x)


# --8<-- [end:grid]


# --8<-- [start:edm_coords]
def sigma_levels(grid: Grid, denoise_to_zero: bool) -> np.ndarray:
    r"""$\tilde\sigma$ at every grid time, plus a final $0$ with `denoise_to_zero`
    (k-diffusion's sigmas).
    """
    return np.append(grid.sigma_ve, 0.0) if denoise_to_zero else grid.sigma_ve


def at_sigmas(noise_schedule, sigma_ve, x: torch.Tensor) -> Grid:
    r"""The schedule at the times whose $\tilde\sigma_t = \sigma_t/\alpha_t$ is
    `sigma_ve`.

    A level of 0 has no time; it gets that of $\tilde\sigma = 1$ as a placeholder, which
    the samplers never use (their step to $\tilde\sigma = 0$ calls no model).
    """
    levels = torch.as_tensor(
        np.where(np.asarray(sigma_ve) > 0, sigma_ve, 1.0), dtype=torch.float64
    )
    return at_times(noise_schedule, noise_schedule.sigma_to_t(levels), x)


def to_ve(x: torch.Tensor, grid: Grid) -> torch.Tensor:
    r"""$\tilde x = x / \alpha_{t_0}$: the VP state as an EDM state."""
    return x / grid.alpha[0]


def from_ve(x: torch.Tensor, grid: Grid, denoise_to_zero: bool) -> torch.Tensor:
    r"""Back to VP scaling, $x = \alpha_{t_N}\tilde x$ (at $\tilde\sigma = 0$,
    $\tilde x$ is already $x_0$).
    """
    return x if denoise_to_zero else grid.alpha[-1] * x


# --8<-- [end:edm_coords]


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def noise_source(x: torch.Tensor, generator=None, noise_sampler=None):
    """A callable returning fresh N(0, I) noise shaped like `x` (or `noise_sampler`
    itself).
    """
    if noise_sampler is not None:
        return noise_sampler
    return lambda: torch.randn(
        x.shape, generator=generator, device=x.device, dtype=x.dtype
    )


def x0_from_eps(x, eps, grid: Grid, i: int):
    r"""$\hat x_0 = (x_t - \sigma_t \hat\varepsilon) / \alpha_t$ at grid point `i`."""
    return (x - float(grid.sigma[i]) * eps) / float(
        grid.alpha[i]
    )  # floats: no numpy scalars


# --8<-- [start:runner]
class Runner:
    """The loop around a sampler: model calls with the NaN policy, the callback,
    tqdm, NFE.

    `eps(x, i)` calls the model at grid point `i` (or at point `i` of another `Grid`,
    `at=`), through `model_fn.with_marginals` when the model comes from `model_wrapper`,
    so $\\alpha_t, \\sigma_t$ are never recomputed. `callback`, if given, is called once
    per step with a dict holding `x_t` (the state at time `t`), `t`, the step index `i`
    and `x0_pred` (the model's estimate of $x_0$ there).
    """

    def __init__(
        self,
        model_fn,
        x,
        grid: Grid,
        callback=None,
        progress=False,
        desc="sampling",
        steps: int | None = None,
    ):
        self.model_fn, self.grid, self.user_callback = model_fn, grid, callback
        self.with_marginals = getattr(model_fn, "with_marginals", None)
        self.progress, self.desc, self.batch = progress, desc, x.shape[0]
        self.steps = grid.steps if steps is None else steps
        self.step = 0  # the step the loop is in (0-based)
        self.deferred = (
            x.device.type != "cpu"
        )  # on a GPU: check once at the end, no sync per step
        self.flags, self.where = [], []
        self.nfe = 0

    def eps(
        self,
        x,
        i,
        at: Grid | None = None,
        step: int | None = None,
        stage: int | None = None,
        where: str | None = None,
    ):
        """The noise prediction at `x` and point `i` of the grid (or of `at`), cast to
        `x.dtype`.

        `step` (default: the loop's current step) and `stage`, or a free-form `where`,
        say in the error message which call failed.
        """
        g = self.grid if at is None else at
        t = g.t_model[i].expand(self.batch)
        if self.with_marginals is not None:
            out = self.with_marginals(x, t, float(g.alpha[i]), float(g.sigma[i]))
        else:
            out = self.model_fn(x, t)
        if out.dtype != x.dtype:
            out = out.to(x.dtype)
        self.nfe += 1
        finite = torch.isfinite(out).all()
        if self.deferred:
            self.flags.append(finite)
            self.where.append((where, self.step if step is None else step, stage, g, i))
        elif not bool(finite):
            self._fail((where, self.step if step is None else step, stage, g, i))
        return out

    def _fail(self, call):
        where, step, stage, g, i = call
        t = float(g.t[i])
        if where is None:
            where = (
                f"step {step + 1} of {self.steps}"
                + (f", stage {stage}" if stage else "")
                + f" (t={t:.6g})"
            )
        raise NonFiniteError(
            f"model output is NaN or inf at {where}; check the model, its dtype and "
            "the time range"
        )

    def callback(self, i, x, eps):
        if self.user_callback is not None:
            a, s = self.grid.alpha[i], self.grid.sigma[i]
            self.user_callback(
                {
                    "x_t": x,
                    "t": self.grid.t_model[i],
                    "i": i,
                    "x0_pred": (x - s * eps) / a,
                }
            )

    def range(self, n: int):
        """`range(n)` for the step loop (with a tqdm bar when `progress`); tracks the
        current step.
        """
        it = range(n)
        if self.progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc=self.desc)
        for i in it:
            self.step = i
            yield i

    def done(self, x):
        """Run the deferred NaN check (the loop's only synchronisation) and
        return `x`.
        """
        if self.flags:
            ok = torch.stack(self.flags)
            if not bool(ok.all()):
                self._fail(self.where[int((~ok).nonzero()[0])])
        return x


# --8<-- [end:runner]


def linear_steps(
    run: Runner, x, c_x, c_eps, std, noise, denoise_to_zero=False, correct=None
):
    r"""The loop of every sampler whose step is linear in the state and the prediction,

    $$x_{i+1} = c_{x,i}\, x_i + c_{\varepsilon,i}\, \hat\varepsilon(x_i, t_i)
    + \text{std}_i\, z_i$$

    (DDPM, DDIM with $\eta$, DDIM inversion, Euler–Maruyama): they differ only in their
    coefficients. `correct(x, i)`, if given, runs before each step (the Langevin steps
    of predictor–corrector); `denoise_to_zero` adds one model call returning $\hat x_0$.
    """
    grid = run.grid
    for i in run.range(grid.steps):
        if correct is not None:
            x = correct(x, i)
        eps = run.eps(x, i)
        run.callback(i, x, eps)
        # --8<-- [start:linear_step]
        x = c_x[i] * x + c_eps[i] * eps
        if std[i] > 0:
            x = x + std[i] * noise()
        # --8<-- [end:linear_step]
    if denoise_to_zero:
        x = x0_from_eps(x, run.eps(x, grid.steps), grid, grid.steps)
    return run.done(x)


# --8<-- [start:step_orders]
def step_orders(
    order: int, steps: int, lower_order_final: bool, denoise_to_zero: bool
) -> list[int]:
    """The order of multistep step k = 1..N: warm up from 1; with `lower_order_final`,
    never more than the number of steps left (the final denoising step counts as one).
    """
    left = [steps + 1 + int(denoise_to_zero) - k for k in range(1, steps + 1)]
    return [
        min(order, k, left[k - 1]) if lower_order_final else min(order, k)
        for k in range(1, steps + 1)
    ]


# --8<-- [end:step_orders]
