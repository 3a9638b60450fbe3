"""The straight path of rectified flow: schedule, exact velocity, samplers, time sampling, training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from difflearn import FlowSchedule, GaussianMixture, model_wrapper, sample
from difflearn.models import ToyMLP
from difflearn.samplers import ddim, flow_euler, flow_heun, flow_timesteps
from difflearn.schedules import shift_t
from difflearn.training import TrainConfig, flow_matching_loss, make_flow_batch_fn, sample_t_logit_normal, train_flow

FLOW = FlowSchedule()
GM = GaussianMixture([[1.0, -1.0], [-1.5, 0.5]], [0.3, 0.5], [0.6, 0.4])
X_T = torch.randn(32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def exact_velocity(x, t):
    """E[eps - x0 | x_t = x] for x_t = (1 - t) x0 + t eps, written out from Gaussian conditioning."""
    mu, s2, w = GM.means, GM.stds**2, GM.weights
    V = (1 - t) ** 2 * s2 + t**2                                         # (K,) variance of x_t | k
    diff = x[:, None, :] - (1 - t) * mu[None]                            # (B, K, D)
    logp = torch.log(w) - 0.5 * (diff**2).sum(-1) / V - 0.5 * x.shape[1] * torch.log(V)
    r = torch.softmax(logp, dim=1)                                       # p(k | x_t)
    e_eps = t / V[None, :, None] * diff
    e_x0 = mu[None] + ((1 - t) * s2 / V)[None, :, None] * diff
    return (r[:, :, None] * (e_eps - e_x0)).sum(1)


def velocity(x, t):
    return exact_velocity(x, float(t[0]))


def test_schedule_is_the_straight_path():
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    m = FLOW.marginals(t)
    np.testing.assert_allclose(m.alpha, 1 - t.numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(m.sigma, t.numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(m.lam, np.log((1 - t.numpy()) / t.numpy()), rtol=1e-14)
    torch.testing.assert_close(FLOW.inverse_lambda(torch.from_numpy(m.lam)), t, rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(FLOW.sigma_to_t(torch.from_numpy(m.sigma_ve)), t, rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="t_min"):
        FlowSchedule(t_min=1.0)


def test_mixture_noise_prediction_is_the_exact_velocity_through_model_wrapper():
    for t in (0.05, 0.4, 0.95):
        tt = torch.full((X_T.shape[0],), t, dtype=torch.float64)
        eps = GM.eps(X_T, tt, FLOW)                                      # exact, under the straight path
        torch.testing.assert_close((eps - X_T) / (1 - t), exact_velocity(X_T, t), rtol=1e-12, atol=1e-12)
        fn = model_wrapper(lambda x, t_in: velocity(x, t_in / 1000.0), FLOW, model_type="flow")
        torch.testing.assert_close(fn(X_T, tt), eps, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="FlowSchedule"):
        model_wrapper(velocity, __import__("difflearn").NoiseScheduleVP("linear"), model_type="flow")


def test_flow_euler_is_ddim_on_the_straight_path():
    ts = flow_timesteps(12, t_start=0.999, t_end=1e-3)
    fn = model_wrapper(lambda x, t_in: velocity(x, t_in / 1000.0), FLOW, model_type="flow")
    torch.testing.assert_close(flow_euler(velocity, X_T, ts), ddim(fn, X_T, FLOW, ts), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sampler, order", [(flow_euler, 1), (flow_heun, 2)])
def test_convergence_to_the_exact_ode_solution(sampler, order):
    ref = GM.pf_ode_solve(X_T, 0.999, 1e-3, FLOW)                       # scipy, independent of the samplers
    errs = [(sampler(velocity, X_T, flow_timesteps(n, t_start=0.999, t_end=1e-3)) - ref).norm(dim=1).mean()
            for n in (40, 80, 160)]
    slope = math.log(errs[1] / errs[2]) / math.log(2)
    assert abs(slope - order) < 0.3, (errs, slope)


def test_the_zoo_samples_a_flow_model():
    ref = GM.pf_ode_solve(X_T, 0.999, 1e-3, FLOW)
    fn = model_wrapper(lambda x, t_in: velocity(x, t_in / 1000.0), FLOW, model_type="flow")
    for method in ("dpmsolver++", "unipc", "heun"):  # second-order solvers: error / 4 when steps x 2
        errs = [(sample(fn, X_T, FLOW, method=method, steps=n, skip_type="logSNR", t_start=0.999, t_end=1e-3)
                 - ref).norm(dim=1).mean() for n in (40, 80)]
        assert errs[1] < 5e-3 and errs[0] / errs[1] > 3.0, (method, errs)


def test_logit_normal_and_shift():
    g = torch.Generator().manual_seed(0)
    t = sample_t_logit_normal(200_000, g, loc=0.5, scale=0.8)
    logit = torch.log(t / (1 - t))
    assert abs(float(logit.mean()) - 0.5) < 5 * 0.8 / 200_000**0.5
    assert abs(float(logit.std()) - 0.8) < 0.01
    t = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    s = shift_t(t, 3.0)
    torch.testing.assert_close(s / (1 - s), 3.0 * t / (1 - t), rtol=1e-12, atol=0)  # noise/signal x 3
    assert shift_t(torch.tensor([0.0, 1.0]), 3.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="shift"):
        shift_t(t, 0.0)


def test_the_exact_velocity_minimises_the_loss():
    g = torch.Generator().manual_seed(1)
    x0 = GM.sample(20_000, generator=g)
    batch = make_flow_batch_fn(x0, t_sampler="uniform")(g, 20_000)
    exact = lambda x, t_in: torch.stack([exact_velocity(x[i:i + 1], float(t_in[i]) / 1000)[0]  # noqa: E731
                                         for i in range(len(x))])
    base = flow_matching_loss(exact, batch)
    for d in (0.1, -0.2):
        moved = flow_matching_loss(lambda x, t_in, d=d: exact(x, t_in) + d, batch)
        # L(v* + d) - L(v*) = d^2 (per coordinate), up to Monte Carlo error of the cross term
        assert abs(float(moved - base) - d**2) < 4 * abs(d) * 2 * float(base) ** 0.5 / 20_000**0.5


def test_train_flow_learns_the_mixture():
    torch.manual_seed(0)
    x0 = GM.sample(4000, generator=torch.Generator().manual_seed(2)).float()
    cfg = TrainConfig(steps=600, batch_size=256, lr=2e-3, warmup=20, ema_decay=0.99, log_every=50, progress=False)
    result = train_flow(ToyMLP(dim=2, hidden=64, depth=2), x0, config=cfg, device="cpu")
    assert result.final_loss(50) < result.losses[0]
    net = result.ema
    with torch.no_grad():
        x = flow_heun(lambda x, t: net(x, 1000 * t), torch.randn(2000, 2, generator=torch.Generator().manual_seed(3)),
                      flow_timesteps(20))
    # the two modes get their weights (0.6 / 0.4): assign each sample to the nearer mean
    near = torch.cdist(x.double(), GM.means).argmin(1)
    assert abs(float((near == 0).double().mean()) - 0.6) < 0.06
