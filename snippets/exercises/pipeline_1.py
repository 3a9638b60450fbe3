"""Exercise: drive the shipped UNet with diffusers' DDIMScheduler, configured as Stable
Diffusion's, and get our pipeline's latents.

SD's scheduler config: scaled-linear betas from 0.00085 to 0.012, "leading" timesteps
with steps_offset=1 (951, 901, ..., 1 for 20 steps) and set_alpha_to_one=False (the
last step lands on alpha_bar[0]). Our continuous times are t = (n + 1) / 1000 for
diffusers' integer timestep n, and the model is called with n itself.
"""

import torch
from difflearn import model_wrapper, pretrained, sample
from difflearn.data import tokenize
from difflearn.pipeline import guided
from diffusers import DDIMScheduler

model, ns, card = pretrained.load("glyphs-unet")
prompts = ["a large magenta 8, upright, on a light background"] * 4
out = guided(
    model.denoiser,
    model.text_encoder(tokenize(prompts)),
    model.text_encoder(tokenize([""] * 4)),
    guidance_scale=3.0,
)
z_T = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(0))

scheduler = DDIMScheduler(
    beta_schedule="scaled_linear",
    beta_start=0.00085,
    beta_end=0.012,
    clip_sample=False,
    set_alpha_to_one=False,
    steps_offset=1,
    timestep_spacing="leading",
)
scheduler.set_timesteps(20)
z = z_T.clone()
with torch.no_grad():
    for n in scheduler.timesteps:  # the loop of StableDiffusionPipeline.__call__
        z = scheduler.step(out(z, n.float().expand(4)), n, z).prev_sample

    grid = torch.cat(
        [
            (scheduler.timesteps.double() + 1) / 1000,
            torch.tensor([1 / 1000], dtype=torch.float64),
        ]
    )
    ours = sample(model_wrapper(out, ns), z_T, ns, method="ddim", timesteps=grid)
err = float((ours - z).abs().max())
print(f"timesteps {scheduler.timesteps.tolist()[:3]}...; max |difference| {err:.1e}")
assert err < 1e-3
