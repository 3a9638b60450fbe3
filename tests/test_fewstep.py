"""Few-step methods against the exact Gaussian mixture: progressive distillation, consistency models, reflow.

The teacher is always the mixture's exact noise prediction, so what a method should produce is known
(its teacher's sampler, or the exact probability-flow ODE map `pf_ode_solve`) and independent of the code.
"""

from __future__ import annotations

import math

import pytest
import torch
from scipy import integrate, stats

from difflearn import FlowSchedule, GaussianMixture, NoiseScheduleVP, beta_schedule, mixture_2d, model_wrapper
from difflearn.fewstep import (
    ConsistencyDistillation,
    ConsistencyTraining,
    consistency_coefficients,
    consistency_function,
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
    ddim_jump,
    distill_round,
    distillation_grid,
    ict_levels,
    karras_sigmas,
    lognormal_index_probs,
    make_index_batch_fn,
    pd_target,
    pseudo_huber,
    sigma_range,
    straightness,
    student_timesteps,
    teacher_ddim,
    train_reflow,
    velocity_fn,
)
from difflearn.models import ToyMLP
from difflearn.samplers import ddim, flow_euler, flow_timesteps
from difflearn.training import TrainConfig, fit, flow_matching_loss, make_pairs_batch_fn

NS = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
GM = mixture_2d("ring8")
EXACT = model_wrapper(GM.noise_fn(NS, time_input="discrete"), NS)
SIGMA_MIN, _ = sigma_range(NS)


def exact_fn(x, t):
    return EXACT(x.double(), t.double()).to(x.dtype)


def quick(steps, batch=128, lr=2e-3):
    return TrainConfig(steps=steps, batch_size=batch, lr=lr, warmup=20, ema_decay=0.95, progress=False)


def rms(a, b):
    return float((a - b).pow(2).sum(1).mean().sqrt())


# ---------------------------------------------------------------- progressive distillation


def test_pd_target_makes_one_student_step_land_where_the_teacher_lands():
    """Salimans & Ho's x~: one DDIM step of the student from z_t with x0 = x~ is the teacher's K steps."""
    for substeps in (2, 4):
        grid = distillation_grid(NS, 3, substeps)
        z = torch.randn(30, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        j = torch.arange(30) % 3 * substeps                       # every student step, per sample
        z_s = teacher_ddim(EXACT, z, j, grid, substeps)
        a, s = torch.from_numpy(grid.alpha), torch.from_numpy(grid.sigma)
        target = pd_target(z, z_s, a[j], s[j], a[j + substeps], s[j + substeps])
        landed = ddim_jump(z, target, a[j], s[j], a[j + substeps], s[j + substeps])
        torch.testing.assert_close(landed, z_s, rtol=0, atol=1e-12)
        # and teacher_ddim is the package's ddim sampler on the teacher grid (sample 0 starts at t_0)
        ref = ddim(EXACT, z[:1], NS, torch.from_numpy(grid.t[: substeps + 1]))
        torch.testing.assert_close(z_s[:1], ref, rtol=0, atol=1e-12)
    assert torch.equal(student_timesteps(NS, 4), torch.from_numpy(distillation_grid(NS, 2, 2).t))


@pytest.mark.slow
def test_distilled_student_matches_the_teacher_2n_step_sampler():
    """One round, 2 teacher steps -> 1 student step, on the same noise. Tolerance: 0.1 (ring radius 2)."""
    data = GM.sample(4000, generator=torch.Generator().manual_seed(0)).float()
    torch.manual_seed(0)
    student = ToyMLP(2, 64, 2, 32)
    result = distill_round(student, exact_fn, NS, data, 1, 2, "v", config=quick(400))
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mine = ddim(model_wrapper(result.ema, NS, model_type="v"), z, NS, student_timesteps(NS, 1))
    teacher_2 = ddim(EXACT, z.double(), NS, student_timesteps(NS, 2)).float()
    teacher_1 = ddim(EXACT, z.double(), NS, student_timesteps(NS, 1)).float()
    assert rms(mine, teacher_2) < 0.1, rms(mine, teacher_2)
    assert rms(teacher_1, teacher_2) > 0.5                        # what one teacher step would give


# ---------------------------------------------------------------- consistency models


def test_consistency_boundary_condition_holds_exactly():
    torch.manual_seed(0)
    net = ToyMLP(2, 32, 1, 16)
    f = consistency_function(model_wrapper(net, NS, model_type="v"), NS, SIGMA_MIN)
    x = torch.randn(64, 2) * 3
    with torch.no_grad():
        assert torch.equal(f(x, SIGMA_MIN), x)                    # f(x, sigma_min) = x, bit for bit
        assert not torch.allclose(f(x, 1.0), x)
    c_skip, c_out = consistency_coefficients(torch.tensor([SIGMA_MIN, 0.5 + SIGMA_MIN, 80.0]), SIGMA_MIN)
    assert c_skip[0] == 1 and c_out[0] == 0
    torch.testing.assert_close(c_skip[1], torch.tensor(0.5))       # sigma - sigma_min = sigma_data
    torch.testing.assert_close(c_skip + c_out, torch.ones(3))


def test_consistency_model_fn_is_the_consistency_function_in_vp_coordinates():
    """x0 implied by the wrapped noise prediction at (x_t, t) equals f(x_t / alpha_t, sigma_t / alpha_t)."""
    torch.manual_seed(1)
    net = ToyMLP(2, 32, 1, 16).double()
    inner = model_wrapper(net, NS, model_type="v")
    f, cm = consistency_function(inner, NS, SIGMA_MIN), consistency_model_fn(inner, NS, SIGMA_MIN)
    x = torch.randn(16, 2, dtype=torch.float64)
    for t in (0.05, 0.4, 0.9):
        m = NS.marginals([t])
        a, s, sv = float(m.alpha[0]), float(m.sigma[0]), float(m.sigma_ve[0])
        with torch.no_grad():
            x0 = (x - s * cm(x, torch.full((16,), t, dtype=torch.float64))) / a
            torch.testing.assert_close(x0, f(x / a, sv), rtol=1e-6, atol=1e-6)


def exact_consistency_model(x, t):
    """The exact consistency function as a noise prediction: x0 = the PF-ODE solution from (x, t) to 1e-3."""
    t0 = float(t[0])
    x0 = GM.pf_ode_solve(x.double(), t0, 1e-3, NS, rtol=1e-7, atol=1e-7)
    m = NS.marginals([t0])
    return ((x.double() - float(m.alpha[0]) * x0) / float(m.sigma[0])).to(x.dtype)


def test_consistency_sampling_with_the_exact_consistency_function():
    """One step is the PF-ODE map itself; two steps re-noise and map again: still samples of the data."""
    z = torch.randn(2000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ts = consistency_timesteps(NS, 2)
    one = consistency_sampling(exact_consistency_model, z, NS, ts[:1])
    ref = GM.pf_ode_solve(z, float(ts[0]), 1e-3, NS, rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(one, ref, rtol=1e-9, atol=1e-9)
    two = consistency_sampling(exact_consistency_model, z, NS, ts, generator=torch.Generator().manual_seed(3))
    # data: 8 modes of std 0.15 on the circle of radius 2 -> mean 0, E|x|^2 = 4 + 2 (0.15)^2
    radius2 = two.pow(2).sum(1)
    se = float(radius2.std()) / math.sqrt(len(z))
    assert abs(float(radius2.mean()) - (4 + 2 * 0.15**2)) < 4 * se + 1e-3
    assert float(two.mean(0).abs().max()) < 4 * 2 / math.sqrt(2 * len(z))
    with pytest.raises(ValueError, match="timesteps"):
        consistency_sampling(exact_consistency_model, z, NS, torch.tensor([0.2, 0.5]))


def test_consistency_sampling_renoises_from_the_noise_it_is_given():
    """With a model whose x0 is the constant c, step n sees exactly alpha_n c + sigma_n z_n."""
    c = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    model = lambda x, t: (x - NS.marginal_alpha(t)[:, None].double() * c) / NS.marginal_std(t)[:, None].double()
    zs = iter(torch.randn(3, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4)))
    draws, seen = [], []
    def sampler():
        draws.append(next(zs))
        return draws[-1]
    ts = torch.tensor([0.9, 0.5, 0.2], dtype=torch.float64)
    out = consistency_sampling(model, torch.zeros(4, 2, dtype=torch.float64), NS, ts, noise_sampler=sampler,
                               callback=lambda d: seen.append(d["x_t"]))
    torch.testing.assert_close(out, c.expand(4, 2), rtol=1e-12, atol=1e-12)
    for n in (1, 2):
        m = NS.marginals([float(ts[n])])
        torch.testing.assert_close(seen[n], float(m.alpha[0]) * c + float(m.sigma[0]) * draws[n - 1])


def test_karras_sigmas_ict_schedule_lognormal_and_pseudo_huber_follow_the_papers():
    s = karras_sigmas(0.002, 80.0, 18)
    assert s[0] == 0.002 and abs(float(s[-1]) - 80.0) < 1e-12 and bool((s[1:] > s[:-1]).all())
    torch.testing.assert_close(s.pow(1 / 7).diff(), torch.full((17,), (80 ** (1 / 7) - 0.002 ** (1 / 7)) / 17,
                                                               dtype=torch.float64))
    # iCT eq. 7 with the paper's K = 400,000, s0 = 10, s1 = 1280: K' = 50,000
    assert [ict_levels(k, 400_000) for k in (0, 49_999, 50_000, 100_000, 349_999, 350_000, 399_999)] == \
        [11, 11, 21, 41, 641, 1281, 1281]
    # the index probabilities are the log-normal's mass of [sigma_n, sigma_n+1]
    p = lognormal_index_probs(s, -1.1, 2.0)
    mass = [stats.norm.cdf(math.log(b), -1.1, 2.0) - stats.norm.cdf(math.log(a), -1.1, 2.0)
            for a, b in zip(s[:-1].tolist(), s[1:].tolist())]
    torch.testing.assert_close(p, torch.tensor(mass, dtype=torch.float64) / sum(mass), rtol=1e-9, atol=1e-12)
    a, c = torch.zeros(3, 4, dtype=torch.float64), 0.1
    b = torch.tensor([[1e-4, 0, 0, 0], [3.0, 4.0, 0, 0], [0, 0, 0, 0]], dtype=torch.float64)
    d = pseudo_huber(a, b, c)
    assert abs(float(d[0]) - 1e-8 / (2 * c)) < 1e-12                # ~ |a - b|^2 / (2c) near 0
    assert abs(float(d[1]) - (math.sqrt(25 + c**2) - c)) < 1e-6 and float(d[2]) == 0


@pytest.mark.slow
def test_consistency_distillation_and_training_learn_a_one_step_map():
    """A short run of each beats the teacher's own one-step DDIM against the exact PF-ODE map."""
    data = GM.sample(4000, generator=torch.Generator().manual_seed(0)).float()
    z = torch.randn(400, 2, generator=torch.Generator().manual_seed(5))
    ts = consistency_timesteps(NS, 1)
    ref = GM.pf_ode_solve(z.double(), float(ts[0]), 1e-3, NS, rtol=1e-7, atol=1e-7).float()
    ddim_1 = rms(ddim(EXACT, z.double(), NS, torch.tensor([float(ts[0]), 1e-3], dtype=torch.float64)).float(), ref)
    for loss in (ConsistencyDistillation(exact_fn, NS, SIGMA_MIN, 80.0, 18, teacher_solver="heun"),
                 ConsistencyTraining(NS, 600, SIGMA_MIN, 80.0)):
        torch.manual_seed(0)
        result = fit(ToyMLP(2, 64, 2, 32), loss, make_index_batch_fn(data), quick(600, 128, 2e-3))
        cm = consistency_model_fn(model_wrapper(result.ema, NS, model_type="v"), NS, SIGMA_MIN)
        with torch.no_grad():
            err = rms(consistency_sampling(cm, z, NS, ts), ref)
        assert err < 0.5 * ddim_1, (type(loss).__name__, err, ddim_1)


# ---------------------------------------------------------------- rectified flow and reflow


def test_straightness_is_zero_for_straight_paths_and_matches_a_quadrature_otherwise():
    # the straight-line field of the linear coupling z -> M z: x_t = ((1 - t) M + t I) z
    M = torch.tensor([[1.5, 0.3], [-0.2, 0.6]], dtype=torch.float64)
    def v_lines(x, t):
        A = (1 - float(t[0])) * M + float(t[0]) * torch.eye(2, dtype=torch.float64)
        return torch.linalg.solve(A, x.T).T @ (torch.eye(2, dtype=torch.float64) - M).T
    z = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    x0, S = straightness(v_lines, z, flow_timesteps(7))
    torch.testing.assert_close(x0, z @ M.T, rtol=1e-12, atol=1e-12)      # Euler is exact on straight paths
    assert float(S.max()) < 1e-20
    torch.testing.assert_close(flow_euler(v_lines, z, flow_timesteps(1)), z @ M.T, rtol=1e-12, atol=1e-12)
    # a curved flow: the 1-rectified flow of a 1-D two-mode mixture, exact velocity from Gaussian conditioning
    gm = GaussianMixture([[-2.0], [1.0]], [0.3, 0.5], [0.4, 0.6])
    v = lambda x, t: (gm.eps(x, t, FlowSchedule()) - x) / (1 - t[:, None])
    z1, t1 = torch.tensor([[0.7]], dtype=torch.float64), 1 - 1e-6       # v(x, 1) is 0/0 in this form
    _, S = straightness(v, z1, flow_timesteps(4000, t_start=t1))
    sol = integrate.solve_ivp(lambda t, y: v(torch.tensor([y]), torch.tensor([t])).numpy()[0], (t1, 0),
                              [0.7], dense_output=True, rtol=1e-10, atol=1e-10)
    chord = 0.7 - sol.y[0, -1]
    ref = integrate.quad(lambda t: (chord - float(v(torch.tensor([[sol.sol(t)[0]]]), torch.tensor([t])))) ** 2,
                         0, t1, limit=200)[0]
    assert ref > 0.05 and abs(float(S[0]) - ref) < 0.01 * ref, (float(S[0]), ref)


def test_pairs_batches_run_along_the_straight_line_of_each_pair():
    noise, data = torch.randn(100, 2), torch.randn(100, 2) + 5
    batch = make_pairs_batch_fn(noise, data)(torch.Generator().manual_seed(0), 64)
    pair = ((batch["eps"][:, None] - noise[None]).abs().sum(-1) == 0).float().argmax(1)
    torch.testing.assert_close(batch["x0"], data[pair])              # noise and data stay paired
    line_velocity = lambda x, t_in: batch["eps"] - batch["x0"]       # the exact velocity of every line
    assert float(flow_matching_loss(line_velocity, batch)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        make_pairs_batch_fn(noise, data[:5])


@pytest.mark.slow
def test_reflow_on_exact_pairs_straightens_the_flow():
    """Reflow on the exact ODE coupling of the mixture: its one-step Euler map is much closer to the coupling
    than one Euler step of the exact (curved) 1-rectified flow, and its straightness is smaller."""
    flow = FlowSchedule()
    exact_v = lambda x, t: (GM.eps(x.double(), t.double(), flow) - x.double()).float() / (1 - t[:, None])
    noise = torch.randn(3000, 2, generator=torch.Generator().manual_seed(7))
    ends = GM.pf_ode_solve(noise.double(), 1 - 1e-6, 1e-6, flow, rtol=1e-7, atol=1e-7).float()
    torch.manual_seed(0)
    net = ToyMLP(2, 64, 2, 32)
    result = train_reflow(net, noise, ends, config=quick(500, 256, 2e-3))
    z, target = noise[:400], ends[:400]
    with torch.no_grad():
        one_reflow = flow_euler(velocity_fn(result.ema), z, flow_timesteps(1))
        one_exact = flow_euler(exact_v, z, flow_timesteps(1, t_start=1 - 1e-6))
        _, s_reflow = straightness(velocity_fn(result.ema), z, flow_timesteps(32))
        _, s_exact = straightness(exact_v, z, flow_timesteps(32, t_start=1 - 1e-6))
    assert rms(one_reflow, target) < 0.5 * rms(one_exact, target), (rms(one_reflow, target), rms(one_exact, target))
    assert float(s_reflow.mean()) < 0.5 * float(s_exact.mean())


def test_benchmark_page_is_what_the_script_makes_of_its_record():
    """docs/fewstep/benchmark-cpu.md is generated from the JSON beside it, never edited."""
    import json
    from pathlib import Path

    from benchmarks.fewstep import markdown

    docs = Path(__file__).resolve().parents[1] / "docs" / "fewstep"
    record = json.loads((docs / "benchmark-cpu.json").read_text())
    for part in ("digits", "mixture"):  # JSON turned the calls (int keys) into strings
        record[part]["rows"] = {name: {int(k): v for k, v in row.items()}
                                for name, row in record[part]["rows"].items()}
    assert markdown(record) == (docs / "benchmark-cpu.md").read_text()


def test_the_teacher_ode_leaves_the_data_range_from_the_figure_seventh_start():
    """The caption of fewstep-samples: from the 7th x_T (seed 0) the teacher's PF-ODE ends
    out of [-1, 1] with any solver, and the shipped students end inside it."""
    from difflearn import sample
    from difflearn.pretrained import load

    x_T = torch.randn(12, 1, 8, 8, generator=torch.Generator().manual_seed(0))[6:7]
    teacher, ns, _ = load("digits-uncond")
    with torch.no_grad():
        for method, steps in (("ddim", 250), ("unipc", 20)):
            x = sample(model_wrapper(teacher, ns), x_T, ns, method=method, steps=steps, skip_type="time_uniform")
            assert 2.4 < float(x.max()) < 2.8, (method, float(x.max()))
        pd, _, _ = load("digits-pd-2")
        x = ddim(model_wrapper(pd, ns, model_type="v"), x_T, ns, student_timesteps(ns, 2))
    assert float(x.abs().max()) < 1.2
