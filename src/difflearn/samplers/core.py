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

import functools
import inspect
from dataclasses import dataclass, fields

import numpy as np
import torch

from ..schedules.vp import Marginals
from ..validate import check_choice as check_choice  # re-exported for samplers
from ..validate import check_model_output, check_tensor, check_times


class NonFiniteError(FloatingPointError, ValueError):
    """A model output, or the sampler's state, became NaN or inf while sampling (the
    message names the step and the time, or says that every model output was finite).
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


# --8<-- [start:zero_alpha]
def check_alpha_positive(m: Marginals, name: str = "timesteps") -> Marginals:
    r"""Refuse a time with $\alpha_t = 0$ (zero terminal SNR, $\lambda_t = -\infty$).

    Every sampler of the zoo works in $\lambda$ and recovers
    $\hat x_0 = (x_t - \sigma_t\hat\varepsilon)/\alpha_t$, which is $0/0$ there.
    """
    if bool((m.alpha <= 0).any()):
        t = float(m.t[int(np.argmax(m.alpha <= 0))])
        raise ValueError(
            f"{name} include t={t!r}, where alpha_t = 0 (zero terminal SNR, lambda = "
            "-inf) and x0 = (x - sigma eps) / alpha is 0/0: start just below it (e.g. "
            f"t_start={t - 1e-3:.6g}), clamp the schedule's last alphas_cumprod to a "
            "tiny positive value, or, for a rectified-flow model, use flow_euler / "
            "flow_heun, which integrate the velocity and start at t = 1"
        )
    return m


# --8<-- [end:zero_alpha]


def at_times(
    noise_schedule, t, x: torch.Tensor, lambdas=None, zero_alpha_ok: bool = False
) -> Grid:
    """The schedule at the times `t` (any order, inside the schedule's domain), for a
    model that sees tensors like `x` (a time with alpha_t = 0 raises unless
    `zero_alpha_ok`).
    """
    m = noise_schedule.marginals(check_times(noise_schedule, t), lambdas)
    return on_device(m if zero_alpha_ok else check_alpha_positive(m), x)


def make_grid(
    noise_schedule,
    timesteps,
    x: torch.Tensor,
    increasing: bool = False,
    zero_alpha_ok: bool = False,
) -> Grid:
    """Check `timesteps` (1-D, at least 2 entries, strictly monotone, inside the
    schedule's domain) and `x` (a finite floating tensor with a batch dimension), and
    tabulate the schedule on the times.
    """
    ts = torch.as_tensor(timesteps)
    if ts.ndim != 1 or len(ts) < 2:
        raise ValueError(
            "timesteps must be a 1-D tensor of at least 2 times, "
            f"got shape {tuple(ts.shape)}"
        )
    t64 = check_times(noise_schedule, ts, name="timesteps")
    d = t64[1:] - t64[:-1]
    if not bool((d > 0).all() if increasing else (d < 0).all()):
        order = "increasing" if increasing else "decreasing"
        raise ValueError(f"timesteps must be strictly {order}, got {t64.tolist()}")
    grid = at_times(noise_schedule, t64, x, zero_alpha_ok=zero_alpha_ok)
    bad = ~(np.isfinite(grid.lam) & np.isfinite(grid.alpha) & np.isfinite(grid.sigma))
    if noise_schedule.schedule == "flow":  # lambda = +-inf at t = 0 (data), 1 (noise)
        bad &= (grid.sigma > 0) & (grid.alpha > 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"timesteps[{k}] = {float(t64[k])!r} has lambda = {grid.lam[k]!r} "
            f"under {noise_schedule!r}: stop at a time t > 0 (e.g. t_end = 1e-3)"
        )
    return grid


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


def noise_source(x: torch.Tensor, generator=None, noise_sampler=None):
    """A callable returning fresh N(0, I) noise shaped like `x` (or `noise_sampler`,
    whose first draw is checked to have `x`'s shape: a `(1, C)` draw would be shared by
    the whole batch).
    """
    if noise_sampler is not None:
        if not callable(noise_sampler):
            raise TypeError(
                f"noise_sampler must be a callable, got {type(noise_sampler).__name__}"
            )
        checked = []

        def draw():
            z = noise_sampler()
            if not checked:
                check_model_output(z, x, "noise_sampler()")
                checked.append(True)
            return z

        return draw
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
        check_tensor("x", x)  # one read-back, before the loop
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
        if self.nfe == 0:  # shapes are metadata: no read-back
            check_model_output(out, x, "model_fn(x, t)")
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

        A final state that is NaN or inf although every model output was finite is the
        sampler's own arithmetic (a parameter out of range), and is reported as such.
        """
        if self.flags:
            ok = torch.stack(self.flags)
            if not bool(ok.all()):
                self._fail(self.where[int((~ok).nonzero()[0])])
        if x is not None and not bool(torch.isfinite(x).all()):
            raise NonFiniteError(
                f"the sampler's state became NaN or inf in {self.desc} although every "
                "model output was finite: a sampler parameter is out of range or a "
                "time of the grid has lambda = +-inf"
            )
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


def with_bar(iterable, progress: bool, total: int, desc: str):
    """`iterable`, with a tqdm bar when `progress` (for long precomputations)."""
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc)


# --8<-- [start:grad_option]
def grad_option(sampler):
    """Run `sampler` under `torch.no_grad()` unless it is called with `grad=True`.

    A sampler called on a network whose parameters require grad would otherwise keep
    the autograd graph of every step (memory grows with the steps). `grad=True`
    differentiates through the whole sampling chain (e.g. to optimise `x_T`).
    """

    @functools.wraps(sampler)
    def wrapped(*args, grad: bool = False, **kwargs):
        if not isinstance(grad, bool):
            raise TypeError(f"grad must be a bool, got {grad!r}")
        with torch.set_grad_enabled(grad):
            return sampler(*args, **kwargs)

    sig = inspect.signature(sampler)
    extra = inspect.Parameter(
        "grad", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool"
    )
    wrapped.__signature__ = sig.replace(parameters=[*sig.parameters.values(), extra])
    return wrapped


# --8<-- [end:grad_option]


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
