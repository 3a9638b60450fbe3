r"""DPM-Solver and DPM-Solver++ with the API of the official DPM-Solver PyTorch code.

A script written for the official `dpm_solver_pytorch.py` (Lu et al., 2022a;
2022b) runs unchanged after replacing its import line with

    from difflearn import NoiseScheduleVP, model_wrapper, DPM_Solver

and gives the same samples (float64 agreement to about 1e-12 on every
combination of options). `DPM_Solver` is a thin façade: `sample()` checks the
options, asks `difflearn.samplers.dpm_solver.plans` for the time grid, the order
of every step and the float64 weights of every update
(`difflearn.samplers.dpm_solver.updates`), and runs one of the loops of
`difflearn.samplers.dpm_solver.loops` through the sampler core's `Runner` — the
same model calls, NaN policy and NFE count as every other sampler of the package.

Differences from the official code, all additive: bad options raise a
`ValueError` instead of an `AssertionError` or a silent fallback; `steps < order`
lowers the order instead of failing; `skip_type="karras"` is accepted; the
number of model evaluations of the last call is kept in `self.nfe`;
`sample_on_grid` runs the multistep solver on any given time grid.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# re-exported: the official module has both
from ...model_wrapper import model_wrapper  # noqa: F401
from ...schedules.grids import SKIP_TYPES
from ...schedules.vp import NoiseScheduleVP
from ...validate import check_choice, check_int, check_number, check_times
from ..core import Runner, at_times, on_device
from . import loops
from .plans import (
    DPM_METHODS,
    grid_times,
    multistep_orders,
    multistep_plan,
    singlestep_plan,
)
from .updates import ALGORITHM_TYPES, SOLVER_TYPES, dynamic_thresholding


class DPM_Solver:
    r"""DPM-Solver (`algorithm_type="dpmsolver"`, noise prediction; Lu et al., 2022a)
    and DPM-Solver++ (`"dpmsolver++"`, data prediction; Lu et al., 2022b).

    Args:
        model_fn: `model_fn(x, t_continuous) -> noise`, usually from `model_wrapper`.
        noise_schedule: a `NoiseScheduleVP`.
        algorithm_type: `"dpmsolver"` or `"dpmsolver++"`.
        correcting_x0_fn: `None`, `"dynamic_thresholding"` (Saharia et al., 2022) or a
            callable `(x0, t) -> x0` applied to every data prediction.
        correcting_xt_fn: `None` or a callable `(xt, t, step) -> xt` applied after every
            step.
        thresholding_max_val: the smallest threshold of dynamic thresholding.
        dynamic_thresholding_ratio: the quantile of dynamic thresholding.

    Attributes:
        multistep_d2_weight: weight of the second divided difference in the multistep
            third-order update (an addition to the official API). The official code, and
            diffusers, use 0.5 — half of the Taylor value — which makes multistep order
            3 converge at second order; set it to 1.0 for a third-order multistep
            solver.
        nfe: number of model evaluations of the last `sample()` / `inverse()` call.
    """

    multistep_d2_weight: float = 0.5

    def __init__(
        self,
        model_fn: Callable,
        noise_schedule: NoiseScheduleVP,
        algorithm_type: str = "dpmsolver++",
        correcting_x0_fn: str | Callable | None = None,
        correcting_xt_fn: Callable | None = None,
        thresholding_max_val: float = 1.0,
        dynamic_thresholding_ratio: float = 0.995,
    ):
        if algorithm_type not in ALGORITHM_TYPES:
            raise ValueError(
                f"algorithm_type must be one of {ALGORITHM_TYPES}, "
                f"got {algorithm_type!r}"
            )
        if not (
            correcting_x0_fn is None
            or correcting_x0_fn == "dynamic_thresholding"
            or callable(correcting_x0_fn)
        ):
            raise ValueError(
                "correcting_x0_fn must be None, 'dynamic_thresholding' or a callable, "
                f"got {correcting_x0_fn!r}"
            )
        self.model = lambda x, t: model_fn(x, t.expand((x.shape[0],)))
        # called by the sampler core (through model_fn.with_marginals if it has one)
        self._model_fn = model_fn
        self.noise_schedule = noise_schedule
        self.algorithm_type = algorithm_type
        if correcting_x0_fn == "dynamic_thresholding":
            correcting_x0_fn = self.dynamic_thresholding_fn
        self.correcting_x0_fn = correcting_x0_fn
        self.correcting_xt_fn = correcting_xt_fn
        if not callable(model_fn):
            raise TypeError(
                f"model_fn must be a callable, got {type(model_fn).__name__}"
            )
        if correcting_xt_fn is not None and not callable(correcting_xt_fn):
            raise TypeError(
                "correcting_xt_fn must be None or a callable, got "
                f"{type(correcting_xt_fn).__name__}"
            )
        self.thresholding_max_val = check_number(
            "thresholding_max_val", thresholding_max_val, 0.0, lo_open=True
        )
        self.dynamic_thresholding_ratio = check_number(
            "dynamic_thresholding_ratio", dynamic_thresholding_ratio, 0.0, 1.0, True
        )
        self.nfe = 0

    # ---- model outputs ---------------------------------------------------------------
    def dynamic_thresholding_fn(self, x0, t=None):
        """Dynamic thresholding with this solver's ratio and max value."""
        return dynamic_thresholding(
            x0, self.dynamic_thresholding_ratio, self.thresholding_max_val
        )

    def noise_prediction_fn(self, x, t):
        r"""$\hat\epsilon(x, t)$ for a time tensor `t` of shape `(1,)` (official
        signature).
        """
        return self.model(x, t)

    def data_prediction_fn(self, x, t):
        r"""$\hat x_0 = (x - \sigma_t\hat\epsilon)/\alpha_t$, then
        `correcting_x0_fn`.
        """
        ns = self.noise_schedule
        x0 = (
            x - ns.marginal_std(t) * self.noise_prediction_fn(x, t)
        ) / ns.marginal_alpha(t)
        return x0 if self.correcting_x0_fn is None else self.correcting_x0_fn(x0, t)

    def model_fn(self, x, t):
        """The model output the solver integrates: data prediction for DPM-Solver++,
        noise otherwise.
        """
        if self.algorithm_type == "dpmsolver++":
            return self.data_prediction_fn(x, t)
        return self.noise_prediction_fn(x, t)

    # --8<-- [start:evaluate]
    def _evaluator(self, run: Runner, data: bool):
        """`evaluate(x, grid, i, step, stage)`: the output the solver integrates at grid
        point `i`.
        """
        fix_x0 = self.correcting_x0_fn

        def evaluate(x, grid, i, step=None, stage=None, where=None):
            eps = run.eps(x, i, at=grid, step=step, stage=stage, where=where)
            if not data:
                return eps
            x0 = (x - float(grid.sigma[i]) * eps) / float(grid.alpha[i])
            return x0 if fix_x0 is None else fix_x0(x0, grid.t_model[i : i + 1])

        return evaluate

    # --8<-- [end:evaluate]

    # ---- grids -----------------------------------------------------------------------
    def get_time_steps(self, skip_type, t_T, t_0, N, device):
        """N + 1 times from `t_T` to `t_0` (either direction), as the official
        `get_time_steps`.
        """
        return grid_times(
            self.noise_schedule, skip_type, t_T, t_0, N, dtype=None, device=device
        )

    # ---- public API ------------------------------------------------------------------
    def add_noise(self, x, t, noise=None):
        r"""$x_t = \alpha_t x + \sigma_t\epsilon$ for every time in `t` (shape `(T,)`).

        Returns shape `(T, *x.shape)`, or `x.shape` when `T == 1`.
        """
        alpha_t, sigma_t = (
            self.noise_schedule.marginal_alpha(t),
            self.noise_schedule.marginal_std(t),
        )
        if noise is None:
            noise = torch.randn((t.shape[0], *x.shape), device=x.device, dtype=x.dtype)
        x = x.reshape((-1, *x.shape))
        shape = (-1,) + (1,) * (x.dim() - 1)
        xt = alpha_t.reshape(shape) * x + sigma_t.reshape(shape) * noise
        return xt.squeeze(0) if t.shape[0] == 1 else xt

    def inverse(
        self,
        x,
        steps=20,
        t_start=None,
        t_end=None,
        order=2,
        skip_type="time_uniform",
        method="multistep",
        lower_order_final=True,
        denoise_to_zero=False,
        solver_type="dpmsolver",
        atol=0.0078,
        rtol=0.05,
        return_intermediate=False,
        max_nfe=1000,
        progress=False,
    ):
        """Run the ODE forward, from data at `t_start` (default: the schedule's first
        time, 1/N for a discrete one) to noise at `t_end` (default T). Arguments as in
        `sample`.
        """
        t_0 = self._time("t_start", t_start, self._t_lo())
        t_T = self._time("t_end", t_end, self.noise_schedule.T)
        if not 0 < t_0 < t_T:
            raise ValueError(
                f"inverse needs 0 < t_start < t_end, got t_start={t_0!r}, t_end={t_T!r}"
            )
        return self._solve(
            x,
            t_0,
            t_T,
            steps=steps,
            order=order,
            skip_type=skip_type,
            method=method,
            lower_order_final=lower_order_final,
            denoise_to_zero=denoise_to_zero,
            solver_type=solver_type,
            atol=atol,
            rtol=rtol,
            return_intermediate=return_intermediate,
            max_nfe=max_nfe,
            progress=progress,
        )

    def _t_lo(self) -> float:
        """The default end of sampling: 1/N for a discrete schedule, 1e-3 otherwise."""
        ns = self.noise_schedule
        return 1.0 / ns.total_N if ns.schedule == "discrete" else 1e-3

    def _time(self, name: str, value, default: float) -> float:
        """`value` (or `default`) as a float inside the schedule's domain."""
        value = default if value is None else check_number(name, value)
        check_times(self.noise_schedule, [value], name)
        return value

    # --8<-- [start:sample]
    def sample(
        self,
        x: torch.Tensor,
        steps: int = 20,
        t_start: float | None = None,
        t_end: float | None = None,
        order: int = 2,
        skip_type: str = "time_uniform",
        method: str = "multistep",
        lower_order_final: bool = True,
        denoise_to_zero: bool = False,
        solver_type: str = "dpmsolver",
        atol: float = 0.0078,
        rtol: float = 0.05,
        return_intermediate: bool = False,
        max_nfe: int = 1000,
        progress: bool = False,
    ):
        r"""Solve the diffusion ODE from `x` at `t_start` (default T) to `t_end`
        (default 1/N).

        Args:
            x: the state at `t_start`, shape `(B, ...)` (noise when `t_start == T`).
            t_start: the start time (default `T`).
            t_end: the end time (default `1/N`).
            steps: number of model evaluations (NFE), except `"singlestep_fixed"`
                (`steps // order * order`) and `"adaptive"` (ignored).
            order: 1, 2 or 3.
            skip_type: `"time_uniform"`, `"logSNR"`, `"time_quadratic"` (or `"karras"`).
            method: `"multistep"` (Adams-like, one evaluation per step), `"singlestep"`
                (Runge-Kutta-like, orders mixed to use exactly `steps` evaluations),
                `"singlestep_fixed"` or `"adaptive"` (DPM-Solver-12 / -23, tolerances
                `atol`, `rtol`).
            atol: absolute tolerance of the adaptive method.
            rtol: relative tolerance of the adaptive method.
            lower_order_final: for multistep with `steps < 10`, lower the order of the
                last steps.
            denoise_to_zero: finish with one extra data prediction at `t_end`.
            solver_type: `"dpmsolver"` or `"taylor"`, the form of the higher-order
                corrections.
            return_intermediate: also return the list of states after every step.
            max_nfe: the most model evaluations `"adaptive"` may spend (then a
                `RuntimeError` says so); the other methods spend a known number.
            progress: show a tqdm bar (steps; for `"adaptive"`, the distance in
                $\lambda$ covered).

        Sampling runs under `torch.no_grad()`.
        """
        t_0 = self._time("t_end", t_end, 1.0 / self.noise_schedule.total_N)
        t_T = self._time("t_start", t_start, self.noise_schedule.T)
        if not 0 < t_0 < t_T:
            raise ValueError(
                "sample needs 0 < t_end < t_start (noise to data), "
                f"got t_start={t_T!r}, "
                f"t_end={t_0!r}; use inverse() for data to noise"
            )
        return self._solve(
            x,
            t_T,
            t_0,
            steps=steps,
            order=order,
            skip_type=skip_type,
            method=method,
            lower_order_final=lower_order_final,
            denoise_to_zero=denoise_to_zero,
            solver_type=solver_type,
            atol=atol,
            rtol=rtol,
            return_intermediate=return_intermediate,
            max_nfe=max_nfe,
            progress=progress,
        )

    # --8<-- [end:sample]

    # --8<-- [start:sample_on_grid]
    def sample_on_grid(
        self,
        x: torch.Tensor,
        timesteps,
        order: int = 2,
        lower_order_final: bool = True,
        denoise_to_zero: bool = False,
        solver_type: str = "dpmsolver",
        return_intermediate: bool = False,
        progress: bool = False,
    ):
        """Multistep DPM-Solver on a given grid: one step, one model call per interval
        of `timesteps`.

        An addition to the official API. `timesteps` holds N + 1 strictly decreasing
        times in (0, T]; with the grid `sample(method="multistep", skip_type=...)`
        builds, the result is the same. Only the multistep method can follow an
        arbitrary grid: the singlestep and adaptive methods place their own intermediate
        points (use `sample` for those).
        """
        ts = torch.as_tensor(timesteps).detach().to("cpu", torch.float64).reshape(-1)
        if len(ts) < 2 or not bool((ts[1:] < ts[:-1]).all()) or not 0 < float(ts[-1]):
            raise ValueError(
                "timesteps must hold at least 2 strictly decreasing times > 0, "
                f"got {ts.tolist()}"
            )
        self.noise_schedule.check_t(ts, name="timesteps")
        return self._solve(
            x,
            float(ts[0]),
            float(ts[-1]),
            steps=len(ts) - 1,
            order=order,
            lower_order_final=lower_order_final,
            denoise_to_zero=denoise_to_zero,
            solver_type=solver_type,
            return_intermediate=return_intermediate,
            times=ts,
            progress=progress,
        )

    # --8<-- [end:sample_on_grid]

    # --8<-- [start:solve]
    def _solve(
        self,
        x,
        t_T: float,
        t_0: float,
        *,
        steps: int,
        order: int,
        skip_type: str = "time_uniform",
        method: str = "multistep",
        lower_order_final: bool = True,
        denoise_to_zero: bool = False,
        solver_type: str = "dpmsolver",
        atol: float = 0.0,
        rtol: float = 0.0,
        return_intermediate: bool = False,
        times=None,
        max_nfe: int = 1000,
        progress: bool = False,
    ):
        """Plan, then run the loop of `method` from `t_T` to `t_0`
        (either direction).
        """
        _check_options(steps, order, skip_type, method, solver_type)
        if method == "adaptive":
            atol = check_number("atol", atol, 0.0, lo_open=True)
            rtol = check_number("rtol", rtol, 0.0)
            max_nfe = check_int("max_nfe", max_nfe, lo=order)
        if method == "adaptive" and (
            return_intermediate or self.correcting_xt_fn is not None
        ):
            raise ValueError(
                "method='adaptive' supports neither return_intermediate "
                "nor correcting_xt_fn, "
                f"got return_intermediate={return_intermediate!r}, "
                f"correcting_xt_fn={self.correcting_xt_fn!r}"
            )
        ns, alg, fix = self.noise_schedule, self.algorithm_type, self.correcting_xt_fn
        data = alg == "dpmsolver++"
        intermediates = [] if return_intermediate else None
        with torch.no_grad():
            if method == "multistep":
                grid = at_times(
                    ns,
                    grid_times(ns, skip_type, t_T, t_0, steps)
                    if times is None
                    else times,
                    x,
                )
                orders = multistep_orders(steps, order, lower_order_final)
                coeffs = multistep_plan(
                    grid, orders, alg, solver_type, self.multistep_d2_weight
                )
                run = Runner(
                    self._model_fn, x, grid, None, progress, "DPM-Solver", steps
                )
                x = loops.multistep(
                    self._evaluator(run, data),
                    x,
                    grid,
                    orders,
                    coeffs,
                    fix,
                    intermediates,
                    run.range,
                )
                last = steps
            elif method == "adaptive":
                run = Runner(self._model_fn, x, at_times(ns, [t_T, t_0], x), steps=1)
                x = loops.adaptive(
                    self._evaluator(run, data),
                    x,
                    ns,
                    alg,
                    order,
                    t_T,
                    t_0,
                    atol,
                    rtol,
                    solver_type,
                    check_model=lambda: run.done(None),
                    max_nfe=max_nfe,
                    progress=progress,
                )
                last = 0
            else:
                plan = singlestep_plan(
                    ns, steps, t_T, t_0, order, skip_type, method, alg, solver_type
                )
                stages, ends = loops.stage_grids(plan, x)
                run = Runner(
                    self._model_fn, x, ends, None, progress, "DPM-Solver", len(plan)
                )
                x = loops.singlestep(
                    self._evaluator(run, data),
                    x,
                    plan,
                    stages,
                    ends,
                    solver_type == "taylor",
                    fix,
                    intermediates,
                    run.range,
                )
                last = len(plan) - 1
            if denoise_to_zero:
                end = on_device(ns.marginals([t_0]), x)
                x = self._evaluator(run, True)(
                    x, end, 0, where=f"the final denoising step (t={t_0:.6g})"
                )
                if fix is not None:
                    x = fix(x, end.t_model[0], last + 1)
                if intermediates is not None:
                    intermediates.append(x)
        self.nfe = run.nfe
        run.done(x)
        return (x, intermediates) if return_intermediate else x

    # --8<-- [end:solve]


def _check_options(steps, order, skip_type, method, solver_type):
    check_choice("method", method, DPM_METHODS)
    check_choice("skip_type", skip_type, SKIP_TYPES)
    check_choice("solver_type", solver_type, SOLVER_TYPES)
    allowed = (2, 3) if method == "adaptive" else (1, 2, 3)
    if isinstance(order, bool) or order not in allowed:
        raise ValueError(
            f"order must be one of {allowed} for method={method!r}, got {order!r}"
        )
    if method != "adaptive" and (
        isinstance(steps, bool) or not isinstance(steps, int) or steps < 1
    ):
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")


DPMSolver = DPM_Solver

__all__ = ["DPMSolver", "DPM_Solver", "NoiseScheduleVP", "model_wrapper"]
