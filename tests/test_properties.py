"""Property-based tests of the public API (hypothesis): valid input gives finite output of
the right shape, invalid input a ValueError/TypeError that names the parameter, and no
call runs past a time limit.

The default profile ("ci") runs a bounded number of examples so that `make test` stays
in budget; `--hypothesis-profile=thorough` (or `DIFFLEARN_HYPOTHESIS=thorough`) runs
many more for a local check.
"""

from __future__ import annotations

import math
import os
import signal
from contextlib import contextmanager

import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from difflearn import METHODS, DPM_Solver, FlowSchedule, NoiseScheduleVP, TrainConfig, model_wrapper, sample  # noqa: E402
from difflearn.schedules import time_steps  # noqa: E402
from difflearn.validate import check_int, check_number  # noqa: E402

settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("DIFFLEARN_HYPOTHESIS", "ci"))

LIMIT_S = 20  # per example: generous for a shared CI machine, finite so nothing hangs


@contextmanager
def within(seconds=LIMIT_S):
    """Fail (TimeoutError) if the block runs longer than `seconds` (SIGALRM)."""
    def alarm(signum, frame):
        raise TimeoutError(f"call ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names(param):
    """An exception check: ValueError/TypeError whose message names `param`."""
    def check(err):
        assert isinstance(err, (ValueError, TypeError)), repr(err)
        assert param in str(err), (param, str(err))
    return check


def raises_naming(param, fn):
    with within():
        try:
            fn()
        except (ValueError, TypeError) as err:
            names(param)(err)
            return
    raise AssertionError(f"no error naming {param!r}")


# ---- strategies ----------------------------------------------------------------------------
@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(["discrete", "linear", "cosine", "flow"]))
    if kind == "flow":
        return FlowSchedule()
    if kind != "discrete":
        b0 = draw(st.floats(0.01, 1.0))
        return NoiseScheduleVP(kind, continuous_beta_0=b0, continuous_beta_1=b0 + draw(st.floats(1.0, 30.0)))
    n = draw(st.integers(10, 400))
    start = draw(st.floats(1e-5, 1e-3))
    end = draw(st.floats(5e-3, 0.05))
    return NoiseScheduleVP("discrete", betas=torch.linspace(start, end, n, dtype=torch.float64))


def domain(ns):
    """Times every sampler can use: lambda finite (the straight path has alpha = 0 at
    t = 1 and sigma = 0 at t = 0)."""
    lo, hi = ns.time_domain()
    return max(lo, 1e-3), (min(hi, 0.999) if ns.schedule == "flow" else hi)


shapes = st.sampled_from([(1, 2), (3, 2), (2, 5), (2, 1, 4, 4), (1, 3, 2, 2)])
dtypes = st.sampled_from([torch.float32, torch.float64])


def gaussian_eps(ns, s2=0.5):
    """The exact noise prediction for data ~ N(0, s2 I), any shape: sigma x / (alpha^2 s2
    + sigma^2)."""
    def eps(x, t):
        a, s = ns.marginal_alpha(t.double().cpu()), ns.marginal_std(t.double().cpu())
        c = (s / (a**2 * s2 + s**2)).to(x).reshape((-1,) + (1,) * (x.dim() - 1))
        return c * x
    return eps


# ---- schedules and grids -------------------------------------------------------------------
@given(ns=schedules(), u=st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_marginals_are_finite_and_consistent_inside_the_domain(ns, u):
    lo, hi = domain(ns)
    t = [lo + v * (hi - lo) for v in u]
    m = ns.marginals(t)
    assert all(map(math.isfinite, [*m.alpha, *m.sigma, *m.lam]))
    assert ((m.alpha > 0) & (m.sigma > 0)).all()
    if ns.schedule != "flow":
        assert abs(m.alpha**2 + m.sigma**2 - 1).max() < 1e-9  # variance preserving


@given(ns=schedules(), t=st.one_of(st.floats(-10, -1e-3), st.floats(1.0001, 10), st.just(math.nan)))
def test_times_off_the_domain_are_refused(ns, t):
    raises_naming("t", lambda: ns.marginals([t]))


@given(ns=schedules(), skip=st.sampled_from(["time_uniform", "logSNR", "time_quadratic", "karras"]),
       n=st.integers(1, 40), a=st.floats(0, 0.45), b=st.floats(0.55, 1))
def test_time_steps_are_decreasing_and_inside(ns, skip, n, a, b):
    lo, hi = domain(ns)
    t_0, t_T = lo + a * (hi - lo), lo + b * (hi - lo)
    ts = time_steps(ns, skip, t_T, t_0, n, dtype=torch.float64)
    assert ts.shape == (n + 1,) and torch.isfinite(ts).all()
    assert (ts[1:] < ts[:-1]).all()
    assert float(ts[0]) == pytest.approx(t_T) and float(ts[-1]) == pytest.approx(t_0)


@given(bad=st.one_of(st.integers(-5, 0), st.floats(0.5, 5), st.booleans(), st.text(max_size=2)))
def test_bad_step_counts_name_steps(bad):
    ns = NoiseScheduleVP("linear")
    raises_naming("N", lambda: time_steps(ns, "logSNR", 1.0, 1e-3, bad))
    raises_naming("steps", lambda: sample(lambda x, t: x, torch.zeros(2, 2), ns, "ddim", steps=bad))


# ---- samplers ------------------------------------------------------------------------------
@settings(suppress_health_check=list(HealthCheck))
@given(ns=schedules(), method=st.sampled_from(sorted(METHODS)), steps=st.integers(1, 6), shape=shapes,
       dtype=dtypes, seed=st.integers(0, 2**16))
def test_every_sampler_gives_finite_output_of_the_right_shape(ns, method, steps, shape, dtype, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    lo, hi = domain(ns)
    with within():
        out = sample(gaussian_eps(ns), x, ns, method, steps=steps, t_start=hi, t_end=max(lo, 1e-3))
    assert out.shape == x.shape and out.dtype == dtype and torch.isfinite(out).all()
    assert not out.requires_grad


@given(method=st.sampled_from(sorted(METHODS)), shape=shapes,
       out_shape=st.sampled_from([(), (1,), (1, 2), (7, 2), (2, 3, 4, 4)]))
def test_a_wrong_model_output_shape_names_the_model(method, shape, out_shape):
    x = torch.randn(shape, dtype=torch.float64)
    if tuple(out_shape) == tuple(shape):
        return
    ns = NoiseScheduleVP("linear")
    raises_naming("model_fn", lambda: sample(lambda x, t: torch.zeros(out_shape, dtype=x.dtype), x, ns, method,
                                             steps=3))


@given(method=st.sampled_from(sorted(METHODS)), which=st.sampled_from(["t_start", "t_end"]),
       t=st.one_of(st.floats(-5, -1e-9), st.floats(1.001, 5), st.just(math.nan), st.just(math.inf)))
def test_times_outside_the_schedule_name_the_parameter(method, which, t):
    ns = NoiseScheduleVP("discrete", betas=torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    raises_naming(which, lambda: sample(lambda x, t: x, torch.zeros(2, 2), ns, method, steps=3, **{which: t}))


PARAMS = {  # sampler -> (parameter, values that must be refused)
    "ddim": ("eta", [-0.1, 1.5, math.nan, math.inf]),
    "dpm2_ancestral": ("eta", [-1.0, 2.0, math.nan]),
    "sde_dpmpp_2m": ("eta", [1.01, math.nan]),
    "euler": ("s_churn", [-1.0, math.nan, math.inf]),
    "pc": ("snr", [0.0, -1.0, math.inf, math.nan]),
    "unipc": ("order", [0, 4, 2.0, "2", True]),
    "lms": ("order", [0, 5, 1.5]),
}


@given(method=st.sampled_from(sorted(PARAMS)), data=st.data())
def test_out_of_range_sampler_parameters_name_the_parameter(method, data):
    param, values = PARAMS[method]
    value = data.draw(st.sampled_from(values))
    ns = NoiseScheduleVP("linear")
    raises_naming(param, lambda: sample(lambda x, t: x, torch.zeros(2, 2), ns, method, steps=3, **{param: value}))


@given(alg=st.sampled_from(["dpmsolver", "dpmsolver++"]), method=st.sampled_from(
       ["multistep", "singlestep", "singlestep_fixed", "adaptive"]), order=st.integers(1, 3), steps=st.integers(1, 12),
       skip=st.sampled_from(["time_uniform", "logSNR", "time_quadratic", "karras"]),
       solver_type=st.sampled_from(["dpmsolver", "taylor"]), inverse=st.booleans())
def test_dpm_solver_options_give_finite_output_or_a_named_error(alg, method, order, steps, skip, solver_type,
                                                                inverse):
    ns = NoiseScheduleVP("linear")
    x = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(steps))
    solver = DPM_Solver(model_wrapper(gaussian_eps(ns), ns), ns, algorithm_type=alg)
    run = solver.inverse if inverse else solver.sample
    with within():
        try:
            out = run(x, steps=steps, order=order, method=method, skip_type=skip, solver_type=solver_type)
        except ValueError as err:  # the documented refusal: order 1 is not adaptive
            assert method == "adaptive" and order == 1 and "order" in str(err)
            return
    assert out.shape == x.shape and torch.isfinite(out).all()


# ---- validation helpers and configs --------------------------------------------------------
@given(v=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10), st.booleans(),
                   st.text(max_size=3), st.none()))
def test_check_number_accepts_exactly_the_finite_reals_in_range(v):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1
    if ok:
        assert check_number("p", v, 0.0, 1.0) == float(v)
    else:
        raises_naming("p", lambda: check_number("p", v, 0.0, 1.0))


@given(v=st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.booleans(), st.text(max_size=2)))
def test_check_int_accepts_exactly_the_ints_in_range(v):
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 3:
        assert check_int("k", v, 1, 3) == v
    else:
        raises_naming("k", lambda: check_int("k", v, 1, 3))


CONFIG_BAD = {"steps": [-1, 1.5], "batch_size": [0, -3, 2.0], "lr": [0.0, -1e-3, math.nan], "warmup": [-1],
              "grad_clip": [-1.0, math.nan], "ema_decay": [-0.1, 1.5], "log_every": [0, -2],
              "checkpoint_every": [-1, 0.5], "weight_decay": [-1.0, math.inf], "seed": [-1, 1.0]}


@given(field=st.sampled_from(sorted(CONFIG_BAD)), data=st.data())
def test_train_config_names_the_bad_field(field, data):
    value = data.draw(st.sampled_from(CONFIG_BAD[field]))
    raises_naming(field, lambda: TrainConfig(**{field: value}))
