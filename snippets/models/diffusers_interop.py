"""Sample a (small, random) diffusers UNet2DModel with DPM-Solver, through difflearn."""

import torch
from difflearn import DPM_Solver
from difflearn.interop import from_diffusers
from difflearn.model_wrapper import model_wrapper
from diffusers import DDPMScheduler, UNet2DModel

torch.manual_seed(0)
unet = UNet2DModel(
    sample_size=16,
    in_channels=3,
    out_channels=3,
    layers_per_block=1,
    block_out_channels=(32, 64),
    norm_num_groups=8,
    down_block_types=("DownBlock2D", "AttnDownBlock2D"),
    up_block_types=("AttnUpBlock2D", "UpBlock2D"),
).eval()
scheduler = DDPMScheduler(beta_schedule="linear", num_train_timesteps=1000)

model_fn, ns = from_diffusers(unet, scheduler.config)  # the pair our solvers take
fn = model_wrapper(model_fn, ns, model_type=model_fn.model_type)
solver = DPM_Solver(fn, ns, algorithm_type="dpmsolver++")
x_T = torch.randn(2, 3, 16, 16)
with torch.no_grad():
    x_0 = solver.sample(
        x_T, steps=10, order=2, skip_type="time_uniform", method="multistep"
    )
assert x_0.shape == x_T.shape and torch.isfinite(x_0).all()

# the schedule is diffusers' own table:
# alpha_t^2 at t_n = (n + 1)/N is alphas_cumprod[n]
n = torch.tensor([0, 499, 999])
alpha2 = ns.marginal_alpha((n + 1.0) / ns.total_N) ** 2
assert torch.allclose(alpha2, scheduler.alphas_cumprod[n], rtol=1e-4)
