"""The sampler zoo on exact ground truth: convergence orders, identities, distributions, edge cases."""

import numpy as np
import pytest
import torch

import difflearn
from difflearn.data import GaussianMixture
from difflearn.samplers import METHODS, ddim, ddim_inversion, ddpm, euler, sample
from difflearn.schedules import NoiseScheduleVP, time_steps

NS = NoiseScheduleVP("linear")
GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2], [0.5, 0.3, 0.2])
EPS = GM.noise_fn(NS)
X_T = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
REF = GM.pf_ode_solve(X_T, 1.0, 1e-3, NS)  # independent scipy solve, rtol = atol = 1e-10


def error(method, steps, **kw):
    out = sample(EPS, X_T, NS, method=method, steps=steps, skip_type="logSNR", **kw)
    return (out - REF).norm(dim=1).mean().item()


# theory: the order of the global error. UniPC-p (UniP-p + UniC) is of order p + 1 (Zhao et al., 2023,
# Theorem 3.3); the predictor alone (use_corrector=False) is of order p.
ORDERS = [
    ("ddim", {}, 1, (20, 40, 80)),
    ("euler", {}, 1, (20, 40, 80)),
    ("heun", {}, 2, (20, 40, 80)),
    ("unipc", {"order": 2, "use_corrector": False}, 2, (40, 80, 160)),
    ("unipc", {"order": 3, "use_corrector": False}, 3, (40, 80, 160)),
    ("unipc", {"order": 1}, 2, (40, 80, 160)),
    ("unipc", {"order": 2}, 3, (80, 160, 320)),
    ("unipc", {"order": 2, "variant": "bh1", "predict_x0": False}, 3, (80, 160, 320)),
    ("lms", {"order": 1}, 1, (20, 40, 80)),
    ("lms", {"order": 2}, 2, (40, 80, 160)),
    ("lms", {"order": 3}, 3, (160, 320, 640)),   # multistep in sigma~: the order shows late
    ("lms", {"order": 4}, 4, (160, 320, 640)),
    ("dpm2_ancestral", {"eta": 0.0}, 2, (40, 80, 160)),
    ("dpmpp_2s_ancestral", {"eta": 0.0}, 2, (40, 80, 160)),
]


@pytest.mark.parametrize("method,kw,order,Ns", ORDERS, ids=[f"{m}-{kw}" for m, kw, _, _ in ORDERS])
def test_convergence_order(method, kw, order, Ns):
    errs = [error(method, n, **kw) for n in Ns]
    slopes = -np.diff(np.log(errs)) / np.diff(np.log(Ns))
    assert abs(slopes[-1] - order) <= 0.3, (errs, slopes)


def test_euler_is_ddim_and_inversion_round_trip():
    t = time_steps(NS, "logSNR", 1.0, 1e-3, 25, dtype=torch.float64)
    torch.testing.assert_close(euler(EPS, X_T, NS, t), ddim(EPS, X_T, NS, t), rtol=1e-12, atol=1e-12)
    x0 = ddim(EPS, X_T, NS, time_steps(NS, "logSNR", 1.0, 1e-3, 400, dtype=torch.float64))
    tt = time_steps(NS, "logSNR", 1.0, 1e-3, 400, dtype=torch.float64)
    back = ddim_inversion(EPS, x0, NS, tt.flip(0))
    assert (back - X_T).norm(dim=1).max() < 0.05  # first-order error both ways


def test_ddim_eta1_is_ddpm_small_with_same_noise():
    t = time_steps(NS, "time_uniform", 1.0, 1e-3, 30, dtype=torch.float64)
    z = [torch.randn(64, 2, dtype=torch.float64) for _ in range(30)]
    it1, it2 = iter(z), iter(z)
    a = ddim(EPS, X_T, NS, t, eta=1.0, noise_sampler=lambda: next(it1))
    b = ddpm(EPS, X_T, NS, t, variance="small", noise_sampler=lambda: next(it2))
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def moments(x):
    return x.mean(0), torch.cov(x.T)


def data_moments():
    m = (GM.weights[:, None] * GM.means).sum(0)
    second = sum(GM.weights[k] * (torch.outer(GM.means[k], GM.means[k]) + GM.stds[k] ** 2 * torch.eye(2,
                 dtype=torch.float64)) for k in range(3))
    return m, second - torch.outer(m, m)


@pytest.mark.parametrize("method,kw,steps", [
    ("ddim", {"eta": 1.0}, 200), ("ddpm", {"variance": "small"}, 200), ("ddpm", {"variance": "large"}, 200),
    ("euler_maruyama", {"sde": "vp"}, 400), ("euler_maruyama", {"sde": "ve"}, 400),
    ("pc", {"n_corrector": 1}, 200), ("sde_dpmpp_2m", {}, 50), ("euler", {"s_churn": 40.0}, 100),
    ("dpm2_ancestral", {}, 50), ("dpmpp_2s_ancestral", {}, 50), ("dpmpp_2s_ancestral", {"eta": 0.5}, 50),
    ("sde_dpmpp_3m", {}, 200), ("sde_dpmpp_2m", {"eta": 0.5}, 50), ("dpmpp_2s_sde", {}, 50),  # 3M: slower to settle, see the SDE page
])
def test_stochastic_samplers_reach_the_data_distribution(method, kw, steps):
    """Mean within 0.05 and covariance within 0.08 of the exact data moments (4000 samples: the
    Monte Carlo standard errors are about 0.02 and 0.03), and a two-sample KS check of a 1-D
    projection against exact samples from the mixture."""
    from scipy import stats
    g = torch.Generator().manual_seed(11)
    x = torch.randn(4000, 2, dtype=torch.float64, generator=g)
    out = sample(EPS, x, NS, method=method, steps=steps, generator=g, denoise_to_zero=True, **kw)
    m, c = moments(out)
    m_ref, c_ref = data_moments()
    assert (m - m_ref).abs().max() < 0.05 and (c - c_ref).abs().max() < 0.08, (m, c)
    u = torch.tensor([0.8, 0.6], dtype=torch.float64)
    exact = GM.sample(4000, torch.Generator().manual_seed(12)) @ u
    assert stats.ks_2samp((out @ u).numpy(), exact.numpy()).pvalue > 1e-3


def test_ddim_eta1_and_ddpm_agree_in_distribution_with_different_noise():
    from scipy import stats
    x = torch.randn(4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    a = sample(EPS, x, NS, "ddim", 50, eta=1.0, generator=torch.Generator().manual_seed(2))
    b = sample(EPS, x, NS, "ddpm", 50, generator=torch.Generator().manual_seed(3))
    for u in ([1.0, 0.0], [0.0, 1.0], [0.6, -0.8]):
        u = torch.tensor(u, dtype=torch.float64)
        assert stats.ks_2samp((a @ u).numpy(), (b @ u).numpy()).pvalue > 1e-3


@pytest.mark.parametrize("method", ["ddim", "ddpm", "euler", "heun", "unipc", "euler_maruyama", "pc",
                                    "sde_dpmpp_2m", "sde_dpmpp_3m", "lms", "dpm2_ancestral", "dpmpp_2s_ancestral",
                                    "dpmpp_2s_sde"])
@pytest.mark.parametrize("steps", [1, 2])
def test_one_and_two_steps_are_finite(method, steps):
    kw = {} if method in ("unipc", "heun", "lms") else {"generator": torch.Generator().manual_seed(0)}
    out = sample(EPS, X_T, NS, method=method, steps=steps, **kw)
    assert out.shape == X_T.shape and torch.isfinite(out).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("method", ["ddim", "heun", "unipc", "sde_dpmpp_2m"])
def test_half_precision_model_outputs(dtype, method):
    half = lambda x, t: EPS(x, t).to(dtype)  # noqa: E731
    x = X_T.float()
    kw = {"generator": torch.Generator().manual_seed(0)} if method == "sde_dpmpp_2m" else {}
    out = sample(half, x, NS, method=method, steps=10, skip_type="logSNR", **kw)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    if method != "sde_dpmpp_2m":
        # rounding the noise prediction to 11 (float16) or 8 (bfloat16) significant bits moves the
        # result by at most 0.05 / 0.4 here (the observed 0.04 / 0.25, with margin)
        full = sample(EPS, x, NS, method=method, steps=10, skip_type="logSNR")
        assert (out - full).abs().max() < (0.05 if dtype == torch.float16 else 0.4)


@pytest.mark.parametrize("method,tol", [("ddim", 0.25), ("heun", 0.1), ("unipc", 0.05)])
def test_cosine_schedule_near_T(method, tol):
    ns = NoiseScheduleVP("cosine")
    eps = GM.noise_fn(ns)
    out = sample(eps, X_T, ns, method=method, steps=15, skip_type="logSNR")  # starts at T = 0.9946
    ref = GM.pf_ode_solve(X_T, ns.T, 1e-3, ns)
    assert torch.isfinite(out).all() and (out - ref).norm(dim=1).mean() < tol


def test_nan_in_model_output_names_the_step():
    def bad(x, t):
        out = EPS(x, t)
        return out * float("nan") if float(t[0]) < 0.5 else out
    # one exception type for every sampler (the zoo and DPM_Solver): FloatingPointError and ValueError
    for method in ("ddim", "heun", "dpmsolver++"):
        with pytest.raises(difflearn.NonFiniteError, match=r"step [67] of 10 \(t=0\.4"):
            sample(bad, X_T, NS, method, steps=10)
    assert issubclass(difflearn.NonFiniteError, FloatingPointError)
    assert issubclass(difflearn.NonFiniteError, ValueError)


def test_callback_and_progress():
    seen = []
    sample(EPS, X_T, NS, "unipc", steps=5, callback=seen.append, progress=True)
    assert [d["i"] for d in seen] == [0, 1, 2, 3, 4]
    d = seen[2]
    torch.testing.assert_close(d["x0_pred"], GM.x0(d["x_t"], d["t"].reshape(1), NS))


@pytest.mark.parametrize("kw,match", [
    ({"method": "plms"}, "method must be one of"), ({"steps": 0}, "steps must be an int >= 1"),
    ({"skip_type": "cubic"}, "skip_type must be one of"), ({"t_end": 1.0}, "t_end must be smaller"),
    ({"method": "ddpm", "variance": "medium"}, "variance must be one of"),
    ({"method": "unipc", "order": 4}, r"order must be an int in \[1, 3\]"),
    ({"method": "unipc", "variant": "bh3"}, "variant must be one of"),
    ({"method": "euler_maruyama", "sde": "subvp"}, "sde must be one of"),
    ({"method": "ddim", "eta": -1.0}, r"eta must lie in \[0.0, 1.0\]"),
    ({"method": "sde_dpmpp_2m", "solver_type": "rk4"}, "solver_type must be one of"),
])
def test_bad_input(kw, match):
    kw = {"method": "ddim", "steps": 5, **kw}
    with pytest.raises(ValueError, match=match):
        sample(EPS, X_T, NS, **kw)
    with pytest.raises(ValueError, match="strictly decreasing"):
        ddim(EPS, X_T, NS, torch.tensor([0.5, 0.7]))


def test_custom_grid():
    # sample(timesteps=...) hands the grid to the sampler unchanged; steps etc. must then be unset
    grid = torch.tensor([1.0, 0.7, 0.45, 0.2, 0.08, 1e-3], dtype=torch.float64)
    torch.testing.assert_close(sample(EPS, X_T, NS, "ddim", timesteps=grid), ddim(EPS, X_T, NS, grid),
                               rtol=0, atol=0)
    # first-order multistep DPM-Solver++ on the same grid is DDIM (an independent implementation)
    torch.testing.assert_close(sample(EPS, X_T, NS, "dpmsolver++", timesteps=grid, order=1),
                               ddim(EPS, X_T, NS, grid), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="leave steps, skip_type, t_start and t_end unset"):
        sample(EPS, X_T, NS, "ddim", timesteps=grid, steps=5)


def test_registry_and_exports():
    assert {"ddpm", "ddim", "euler", "heun", "unipc", "euler_maruyama", "pc", "sde_dpmpp_2m",
            "dpmsolver", "dpmsolver++"} <= set(METHODS)
    assert all(m.description for m in METHODS.values())
    assert difflearn.sample is sample


@pytest.mark.parametrize("method,algorithm", [("dpm2_ancestral", "dpmsolver"), ("dpmpp_2s_ancestral", "dpmsolver++"),
                                              ("dpmpp_2s_sde", "dpmsolver++")])
def test_ancestral_with_eta0_is_singlestep_dpm_solver_2(method, algorithm):
    # no noise: one second-order singlestep step per interval, midpoint in lambda (r1 = 1/2)
    from difflearn import DPM_Solver
    t = time_steps(NS, "logSNR", 1.0, 1e-3, 8, dtype=torch.float64)
    ours = sample(EPS, X_T, NS, method=method, timesteps=t, eta=0.0)
    ref = DPM_Solver(EPS, NS, algorithm_type=algorithm).sample(X_T, steps=16, order=2, method="singlestep_fixed",
                                                               skip_type="logSNR", t_start=1.0, t_end=1e-3)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)


def test_lms_order1_is_ddim_and_weights_integrate_polynomials():
    from difflearn.samplers.lms import lms_coefficients
    t = time_steps(NS, "karras", 1.0, 1e-3, 12, dtype=torch.float64)
    torch.testing.assert_close(sample(EPS, X_T, NS, "lms", timesteps=t, order=1), ddim(EPS, X_T, NS, t),
                               rtol=1e-12, atol=1e-12)
    # order p integrates polynomials of degree < p exactly: check with f(s) = s^k on an uneven grid
    sig = np.array([80.0, 20.0, 7.0, 1.5, 0.4, 0.0])
    for p in (1, 2, 3, 4):
        c = lms_coefficients(sig, p)
        for i in range(p - 1, len(sig) - 1):
            for k in range(p):
                approx = sum(cj * sig[i - j] ** k for j, cj in enumerate(c[i]))
                exact = (sig[i + 1] ** (k + 1) - sig[i] ** (k + 1)) / (k + 1)
                assert abs(approx - exact) <= 1e-9 * max(1.0, abs(exact)), (p, i, k)


@pytest.mark.parametrize("method,kw,match", [
    ("lms", {"order": 5}, r"order must be an int in \[1, 4\]"),
    ("dpm2_ancestral", {"eta": 1.5}, r"eta must lie in \[0.0, 1.0\], got 1.5"),
    ("dpmpp_2s_ancestral", {"s_noise": -1.0}, "s_noise must lie in"),
    ("sde_dpmpp_2m", {"eta": -0.1}, r"eta must lie in \[0.0, 1.0\], got -0.1"),
    ("sde_dpmpp_2m", {"order": 3, "solver_type": "midpoint"}, "order 3 uses the 'heun'"),
    ("sde_dpmpp_3m", {"eta": 2.0}, "eta must lie in"),
    ("dpmpp_2s_sde", {"r": 0.0}, r"r must lie in \[1e-06, 1.0\], got 0.0"),
])
def test_new_samplers_reject_bad_options(method, kw, match):
    with pytest.raises(ValueError, match=match):
        sample(EPS, X_T, NS, method=method, steps=5, **kw)


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_sampler_runs_without_autograd(method, context):
    # samplers are usually called inside no_grad() or inference_mode(); the results must not change
    def kw():  # the samplers that take noise get the same stream twice
        if method in ("unipc", "heun", "lms", "dpmsolver", "dpmsolver++", "rk45", "deis", "ipndm"):
            return {}
        return {"generator": torch.Generator().manual_seed(0)}
    plain = sample(EPS, X_T, NS, method=method, steps=6, **kw())
    with context():
        out = sample(EPS, X_T, NS, method=method, steps=6, **kw())
    torch.testing.assert_close(out, plain, rtol=0, atol=0)


@pytest.mark.parametrize("order", [2, 3])
def test_sde_dpmpp_with_eta0_is_the_ode_solver(order):
    # eta = 0: no noise, and the update is DPM-Solver++ multistep (order 3 with its Taylor warm-up)
    t = time_steps(NS, "logSNR", 1.0, 1e-3, 12, dtype=torch.float64)
    kw = dict(timesteps=t, order=order, lower_order_final=False)
    sde = sample(EPS, X_T, NS, method="sde_dpmpp_2m", eta=0.0, solver_type="heun", **kw)
    ode = sample(EPS, X_T, NS, method="dpmsolver++", solver_type="taylor", **kw)
    torch.testing.assert_close(sde, ode, rtol=1e-10, atol=1e-10)
