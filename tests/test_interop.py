"""A diffusers UNet2DModel on difflearn's solvers, checked against diffusers' own tables and a
DDIM loop written from the DDIM update (no downloads: the network is small and random)."""

from __future__ import annotations

import pytest
import torch

diffusers = pytest.importorskip("diffusers")

from difflearn import DPM_Solver  # noqa: E402
from difflearn.interop import from_diffusers, schedule_from_diffusers  # noqa: E402
from difflearn.model_wrapper import model_wrapper  # noqa: E402


def tiny_unet(out_channels=3, seed=0):
    torch.manual_seed(seed)
    return diffusers.UNet2DModel(sample_size=8, in_channels=3, out_channels=out_channels, layers_per_block=1,
                                 block_out_channels=(16, 32), norm_num_groups=8,
                                 down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                                 up_block_types=("AttnUpBlock2D", "UpBlock2D")).eval()


@pytest.mark.parametrize("kw", [dict(beta_schedule="linear"),
                                dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
                                dict(beta_schedule="squaredcos_cap_v2"),
                                dict(beta_schedule="linear", rescale_betas_zero_snr=True),
                                dict(beta_schedule="linear", num_train_timesteps=500)])
def test_schedule_matches_diffusers_alphas_cumprod(kw):
    scheduler = diffusers.DDPMScheduler(**kw)
    ns = schedule_from_diffusers(scheduler)
    # like the official DPM-Solver class, NoiseScheduleVP drops the last steps with lambda_t < -5.1
    N = ns.total_N
    want = scheduler.alphas_cumprod.double()[:N]
    assert N == scheduler.config.num_train_timesteps or 0.5 * torch.log(want[-1] / (1 - want[-1])) > -5.1
    t = (torch.arange(N, dtype=torch.float64) + 1) / N  # t_n = (n + 1) / N
    alpha2 = ns.marginal_alpha(t).double() ** 2
    assert ((alpha2 - want).abs() / want).max() < 2e-4  # diffusers accumulates the product in float32


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="beta_schedule must be one of"):
        schedule_from_diffusers({"beta_schedule": "sigmoid"})
    with pytest.raises(ValueError, match="prediction_type must be one of"):
        from_diffusers(tiny_unet(), {"prediction_type": "flow"})


def test_model_fn_is_the_network_and_drops_the_variance():
    unet = tiny_unet(out_channels=6)
    model_fn, _ = from_diffusers(unet, diffusers.DDPMScheduler(variance_type="learned_range").config)
    x = torch.randn(2, 3, 8, 8)
    t = torch.tensor([10.0, 500.0])
    with torch.no_grad():
        assert torch.equal(model_fn(x, t), unet(x, t).sample[:, :3])
    assert model_fn.model_type == "noise"
    # a table of 500 steps, truncated by the lambda clip: model_wrapper's time label must still
    # reach the network as the training step n
    cosine = diffusers.DDPMScheduler(beta_schedule="squaredcos_cap_v2", num_train_timesteps=500)
    model_fn, ns = from_diffusers(unet, cosine.config)
    assert ns.total_N < 500
    n = torch.tensor([0.0, ns.total_N - 1.0])
    t_input = ((n + 1) / ns.total_N - 1.0 / ns.total_N) * 1000.0  # what model_wrapper passes
    with torch.no_grad():
        assert torch.allclose(model_fn(x, t_input), unet(x, n).sample[:, :3], atol=1e-5)


def test_dpm_solver_order_one_is_ddim_on_the_diffusers_table():
    """On the time-uniform grid t_i = 1 - i (1 - 1/N) / K with K = 9, the model times are the integers
    999, 888, ..., 0, where DPM-Solver-1 must equal DDIM run on diffusers' own alphas_cumprod."""
    unet = tiny_unet()
    scheduler = diffusers.DDPMScheduler(beta_schedule="linear")
    model_fn, ns = from_diffusers(unet, scheduler.config)
    x_T = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fn = model_wrapper(model_fn, ns, model_type=model_fn.model_type)
        ours = DPM_Solver(fn, ns, algorithm_type="dpmsolver").sample(
            x_T, steps=9, order=1, skip_type="time_uniform", method="multistep")
        abar = scheduler.alphas_cumprod.double()
        x = x_T.double()
        steps = list(range(999, -1, -111))
        for n, m in zip(steps[:-1], steps[1:]):
            eps = unet(x.float(), torch.tensor([float(n)] * 2)).sample.double()
            x0 = (x - (1 - abar[n]).sqrt() * eps) / abar[n].sqrt()
            x = abar[m].sqrt() * x0 + (1 - abar[m]).sqrt() * eps
    assert (ours.double() - x).abs().max() < 1e-4 * x.abs().max()
